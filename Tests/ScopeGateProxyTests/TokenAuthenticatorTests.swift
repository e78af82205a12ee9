import Crypto
import Foundation
import ScopeGate
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens
import Testing

/// `--jwks FILE` keys serve every issuer of the policy in force, including one a reload adds.
@Suite struct TokenAuthenticatorTests {
    let key = Curve25519.Signing.PrivateKey()

    func source(issuers: [String]) -> String {
        let list = issuers.map {
            "    - { issuer: \"\($0)\", jwks_uri: \"http://127.0.0.1:9/jwks\", algorithms: [EdDSA] }"
        }
        return """
            version: 1
            resource: { id: "https://mcp.example.com/mcp" }
            tokens:
              issuers:
            \(list.joined(separator: "\n"))
            scopes: { files:read: {} }
            tools: { read_file: files:read }
            """
    }

    func token(issuer: String) throws -> String {
        func encode(_ object: [String: Any]) throws -> String {
            Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
        }
        let now = Int(Date().timeIntervalSince1970)
        let input =
            try encode(["alg": "EdDSA", "kid": "k1", "typ": "at+jwt"]) + "."
            + encode([
                "iss": issuer, "aud": "https://mcp.example.com/mcp", "sub": "alice", "scope": "files:read",
                "iat": now, "exp": now + 300,
            ])
        let signature = try key.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(Array(signature))
    }

    /// A store with the policy of one issuer, and an authenticator over it whose `--jwks FILE` keys (the test key)
    /// serve every issuer.
    func authenticator(issuer: String) async throws -> (PolicyStore, TokenAuthenticator) {
        let jwks = """
            {"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","use":"sig",\
            "x":"\(Base64URL.encode(Array(key.publicKey.rawRepresentation)))"}]}
            """
        let keys = try await JWKSet.parse(Array(jwks.utf8))
        let store = PolicyStore(initial: try PolicyCompiler().compile(source: source(issuers: [issuer])).compiled())
        return (store, TokenAuthenticator(store: store, keysForEveryIssuer: keys))
    }

    @Test func keysFromAFileVerifyTokensOfAnIssuerAReloadAdds() async throws {
        let (store, tokens) = try await authenticator(issuer: "https://a.example.com")

        let first = await tokens.verify("Bearer " + (try token(issuer: "https://a.example.com")), store.current.policy)
        #expect(first.token?.subject == "alice")
        let unknown = await tokens.verify(
            "Bearer " + (try token(issuer: "https://b.example.com")), store.current.policy)
        #expect(unknown.token == nil, "an issuer the policy does not name is refused")

        let reloaded = store.reload(
            source: source(issuers: ["https://a.example.com", "https://b.example.com"]), name: "reloaded.yaml")
        guard case .swapped = reloaded else {
            Issue.record("the reloaded policy was rejected: \(reloaded)")
            return
        }
        let added = await tokens.verify("Bearer " + (try token(issuer: "https://b.example.com")), store.current.policy)
        #expect(added.token?.subject == "alice", "\(added.credential)")
    }

    /// A cached token keeps its grant for the policy it was resolved against; a new policy that changes the scopes
    /// (and not the token settings, so the cache stays) resolves it again against itself.
    @Test func aCachedTokensGrantFollowsANewPolicy() async throws {
        let issuer = "https://a.example.com"
        let (store, tokens) = try await authenticator(issuer: issuer)
        let header = "Bearer " + (try token(issuer: issuer))
        _ = await tokens.verify(header, store.current.policy)

        let widened = source(issuers: [issuer]).replacingOccurrences(
            of: "scopes: { files:read: {} }\ntools: { read_file: files:read }",
            with: "scopes: { files:list: {}, files:read: { implies: [files:list] } }\n"
                + "tools: { read_file: files:read, list_files: files:list }")
        // Compiled under the same name, so the token settings (source locations included) compare equal.
        let policy = try PolicyCompiler().compile(source: widened).compiled()
        #expect(policy.stamp != store.current.policy.stamp)
        for _ in 0..<2 {  // the first hit resolves the grant again; the second finds it resolved
            guard case .granted(let grant, _, _)? = tokens.verifyAtOnce(header, policy)?.credential else {
                Issue.record("the cached token was not served")
                return
            }
            #expect(grant.stamp == policy.stamp)
            #expect(policy.isAllowed(.tool("list_files"), grant: grant))
        }
    }

    /// A token with characters outside token68 is no token, before and after a valid token is cached: a cache hit
    /// skips the character check, so only a token that passed it may be found there.
    @Test func aTokenOfOtherCharactersIsMissingWithOrWithoutTheCache() async throws {
        let issuer = "https://a.example.com"
        let (store, tokens) = try await authenticator(issuer: issuer)
        let valid = try token(issuer: issuer)
        let policy = store.current.policy
        let refused = ["Bearer " + valid + ",x", "Bearer " + valid + " x", "Bearer \"" + valid + "\""]
        for round in ["before", "after"] {
            if round == "after" {
                guard case .granted = await tokens.verify("Bearer " + valid, policy).credential else {
                    Issue.record("the valid token was not granted")
                    return
                }
                guard case .granted? = tokens.verifyAtOnce("Bearer " + valid, policy)?.credential else {
                    Issue.record("the valid token was not cached")
                    return
                }
            }
            for header in refused {
                guard case .missing? = tokens.verifyAtOnce(header, policy)?.credential else {
                    Issue.record("\(round): verifyAtOnce did not refuse \(header.suffix(12))")
                    continue
                }
                guard case .missing = await tokens.verify(header, policy).credential else {
                    Issue.record("\(round): verify did not refuse \(header.suffix(12))")
                    continue
                }
                #expect(tokens.verifiedToken(header) == nil)
            }
        }
    }
}
