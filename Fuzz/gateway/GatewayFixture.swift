import Foundation

@testable import ScopeGate
@testable import ScopeGateTokens

// Shared by the `request` and `response` targets (scripts/fuzz.sh adds this folder to both): the fixed policy,
// the fixed cached tokens, and the independent readings the invariants compare against. Nothing here calls
// the code under test (Sources/ScopeGateRequestAuthorization) except where a comment says so.

enum Gateway {
    /// The policy the gateway's tests decide against too (Sources/ScopeGateTesting/GatewayTestPolicy.swift, which
    /// scripts/fuzz.sh compiles into this harness).
    static let source = GatewayTestPolicy.source

    static let policy: CompiledPolicy = {
        switch Result(catching: {
            try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).compiled()
        }) {
        case .success(let p): return p
        case .failure(let error):
            FileHandle.standardError.write(Data("the fuzz fixture policy does not compile: \(error)\n".utf8))
            abort()
        }
    }()

    /// The tool whose denials shadow mode lets through.
    static let shadowTool = GatewayTestPolicy.shadowTool

    struct FixedClock: TokenClock {
        func now() -> Date { Date(timeIntervalSince1970: 1_900_000_000) }
    }

    static let expiry = Date(timeIntervalSince1970: 2_000_000_000)

    /// Bearer token → granted scopes (and prefixes to strip), cached as the proxy caches verified tokens.
    static let tokens: [(token: String, scopes: [String], strip: [String])] = [
        ("tok-none", [], []),
        ("tok-read", ["files:read"], []),
        ("tok-write", ["files:write", "reports:read"], []),
        ("tok-admin", ["files:admin", "budget:approve", "reports:read", "reports:export", "tasks:run"], []),
        ("tok-prefixed", ["api://x/files:read", "api://x/reports:read", "unknown:scope"], ["api://x/"]),
    ]

    static let cache: VerifiedTokenCache<Void> = {
        let cache = VerifiedTokenCache<Void>(capacity: 16, clock: FixedClock())
        for t in tokens {
            let verified = VerifiedToken(
                issuer: GatewayTestPolicy.issuer, subject: t.token, clientID: nil,
                audiences: [GatewayTestPolicy.resource], scopes: t.scopes, stripPrefixes: t.strip, jwtID: nil,
                expiresAt: expiry, claims: .object([:]))
            cache.insert(t.token, verified: verified, extra: ())
        }
        return cache
    }()

    /// The grants of the fixed tokens, resolved against the policy (the core's `grant`, not the code under test).
    static let grants: [Grant] = tokens.map { policy.grant($0.scopes, stripPrefixes: $0.strip) }

    /// Whether the policy lets `call` through with `grant`: allowed, or denied on a tool in shadow mode.
    static func permits(_ call: Call, grant: Grant) -> Bool {
        if policy.decide(call, grant: grant).allowed { return true }
        return call.method == "tools/call" && call.name == shadowTool
    }

    /// Whether some way of calling a listed entry is allowed: the probes a list filter must consider.
    static func mayCall(_ item: JSONValue, list: String, grant: Grant) -> Bool? {
        guard case .object(let object) = item else { return nil }
        switch list {
        case "tools":
            guard case .string(let name)? = object["name"] else { return nil }
            if name == shadowTool { return true }
            let probes: [[String: JSONValue]] =
                name == "file_manager"
                ? [["action": .string("read")], ["action": .string("delete")]] : [[:]]
            return probes.contains { policy.decide(.tool(name, arguments: $0), grant: grant).allowed }
        case "prompts":
            guard case .string(let name)? = object["name"] else { return nil }
            return policy.decide(Call(method: "prompts/get", name: name), grant: grant).allowed
        case "resources", "resourceTemplates":
            guard case .string(let uri)? = object[list == "resources" ? "uri" : "uriTemplate"] else { return nil }
            return policy.decide(Call(method: "resources/read", name: uri), grant: grant).allowed
        default: return nil
        }
    }

    static func parseJSON(_ bytes: some Collection<UInt8>, maxDepth: Int = 600) -> JSONValue? {
        Array(bytes).withUnsafeBufferPointer { try? JSONParser(maxDepth: maxDepth).parse($0) }
    }
}
