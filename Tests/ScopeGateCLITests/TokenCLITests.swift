import Crypto
import Foundation
import Testing

/// `check --token … --jwks FILE` and `inspect --verify`: real ES256 tokens signed in the test, keys from a file.
@Suite("token verification through the CLI")
struct TokenCLITests {
    let key = P256.Signing.PrivateKey()

    static func b64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    func token(_ claims: [String: Any], kid: String = "k1") throws -> String {
        let header = try JSONSerialization.data(
            withJSONObject: ["alg": "ES256", "typ": "at+jwt", "kid": kid], options: [.sortedKeys])
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        let input = Self.b64url(header) + "." + Self.b64url(payload)
        let signature = try key.signature(for: Data(input.utf8)).rawRepresentation
        return input + "." + Self.b64url(signature)
    }

    func files() throws -> (policy: String, jwks: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let raw = key.publicKey.x963Representation  // 0x04 || x || y
        let jwk: [String: Any] = [
            "kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "k1", "use": "sig",
            "x": Self.b64url(raw.subdata(in: 1..<33)), "y": Self.b64url(raw.subdata(in: 33..<65)),
        ]
        let jwks = dir.appendingPathComponent("jwks.json")
        try JSONSerialization.data(withJSONObject: ["keys": [jwk]]).write(to: jwks)
        let policy = dir.appendingPathComponent("policy.yaml")
        try Data(
            """
            version: 1
            resource: { id: "https://mcp.example.com/mcp", authorization_servers: ["https://auth.example.com"] }
            tokens:
              issuers:
                - issuer: https://auth.example.com
                  jwks_uri: https://auth.example.com/jwks
                  algorithms: [ES256]
            scopes:
              files:read: {}
              files:write: { implies: [files:read] }
            tools:
              read_file: { requires: files:read, basic: true }
              write_file: files:write
            """.utf8
        ).write(to: policy)
        return (policy.path, jwks.path)
    }

    var now: Int { Int(Date().timeIntervalSince1970) }

    @Test func validTokenIsVerifiedThenDecided() throws {
        let (policy, jwks) = try files()
        let t = try token([
            "iss": "https://auth.example.com", "aud": "https://mcp.example.com/mcp", "sub": "u1",
            "client_id": "c1", "scope": "files:read", "iat": now, "exp": now + 300,
        ])
        let allow = try CLIRunner.run([
            "check", "--policy", policy, "--tool", "read_file", "--token", t, "--jwks", jwks,
        ])
        #expect(allow.status == 0, "\(allow.stdout)\(allow.stderr)")
        let deny = try CLIRunner.run(
            ["check", "--policy", policy, "--tool", "write_file", "--token-file", "-", "--jwks", jwks],
            stdin: t + "\n")
        #expect(deny.status == 1)
        #expect(deny.stdout.contains("missing: files:write"))
        let inspect = try CLIRunner.run(["inspect", t, "--verify", "--policy", policy, "--jwks", jwks])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("VERIFIED: issuer https://auth.example.com"))
    }

    @Test(arguments: ["expired", "wrong-audience", "unknown-kid", "tampered"])
    func rejectedTokenExitsOneWithInvalidTokenChallenge(_ kind: String) throws {
        let (policy, jwks) = try files()
        var claims: [String: Any] = [
            "iss": "https://auth.example.com", "aud": "https://mcp.example.com/mcp", "sub": "u1",
            "scope": "files:read files:write", "iat": now, "exp": now + 300,
        ]
        if kind == "expired" {
            claims["exp"] = now - 3600
            claims["iat"] = now - 7200
        }
        if kind == "wrong-audience" { claims["aud"] = "https://other.example.com" }
        var t = try token(claims, kid: kind == "unknown-kid" ? "k2" : "k1")
        if kind == "tampered" {
            let parts = t.split(separator: ".").map(String.init)
            let forged = Self.b64url(
                try JSONSerialization.data(withJSONObject: claims.merging(["scope": "admin"]) { $1 }))
            t = parts[0] + "." + forged + "." + parts[2]
        }
        let r = try CLIRunner.run(["check", "--policy", policy, "--tool", "read_file", "--token", t, "--jwks", jwks])
        #expect(r.status == 1, "\(kind): \(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("token rejected: token."))
        #expect(r.stderr.contains(#"error="invalid_token""#))
        #expect(
            r.stderr.contains(#"resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#))
    }
}
