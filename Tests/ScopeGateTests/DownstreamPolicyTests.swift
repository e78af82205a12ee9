import Foundation
import Testing

@testable import ScopeGate

/// `downstream:` on tools and `exchange:` on issuers (RFC 8693 token exchange settings).
@Suite struct DownstreamPolicyTests {
    func compile(_ exchange: String, downstream: String = "{ audience: https://crm.example.com, scopes: [crm:write] }")
        -> CompileResult
    {
        let source = """
            version: 1
            resource: { id: https://mcp.example.com/mcp, scopes_supported: auto }
            tokens:
              issuers:
                - issuer: https://auth.example.com
            \(exchange.isEmpty ? "" : "      exchange: " + exchange)
            scopes:
              crm:write: {}
            tools:
              update_client:
                requires: crm:write
                basic: true
                downstream: \(downstream)
            """
        return PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source, name: "p.yaml")
    }

    @Test func exchangeSettingsAreDecoded() throws {
        let result = compile(
            "{ endpoint: https://auth.example.com/token, client_id: mcp, client_secret_env: SECRET, client_auth: client_secret_post, target: both, grant: on_behalf_of, subject_token_type: 'urn:x:t' }"
        )
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
        let exchange = try #require(result.model?.tokens?.issuers.first?.exchange)
        #expect(
            exchange
                == TokensConfig.Exchange(
                    endpoint: "https://auth.example.com/token", clientID: "mcp", clientSecretEnv: "SECRET",
                    clientAuthentication: .post, target: .both, grant: .onBehalfOf, subjectTokenType: "urn:x:t"))
        let downstream = try #require(result.model?.tools.first?.downstream)
        #expect(
            downstream.audience == "https://crm.example.com" && downstream.scopes == ["crm:write"]
                && downstream.issuer == nil)
    }

    @Test func defaultsAreBasicAudienceAndRFC8693() throws {
        let result = compile("{ endpoint: https://auth.example.com/token, client_id: mcp, client_secret_env: SECRET }")
        let exchange = try #require(result.model?.tokens?.issuers.first?.exchange)
        #expect(
            exchange.clientAuthentication == .basic && exchange.target == .audience && exchange.grant == .tokenExchange)
        #expect(exchange.subjectTokenType == nil)
    }

    @Test func badExchangeSettingsAreErrors() {
        let codes = { (text: String) in Set(compile(text).diagnostics.map(\.code.id)) }
        #expect(codes("{ endpoint: https://auth.example.com/token, client_id: mcp }").contains("SG103"))
        #expect(
            codes("{ endpoint: https://a/token, client_id: mcp, client_secret_env: S, client_auth: private_key_jwt }")
                .contains("SG105"))
        #expect(
            codes("{ endpoint: https://a/token, client_id: mcp, client_secret_env: S, target: everywhere }").contains(
                "SG105"))
        #expect(
            codes("{ endpoint: https://a/token, client_id: mcp, client_secret_env: S, grant: password }").contains(
                "SG105"))
        #expect(
            codes("{ endpoint: https://a/token, client_id: mcp, client_secret_env: S, client_secret: oops }").contains(
                "SG101"))
        #expect(
            codes("{ endpoint: http://auth.example.com/token, client_id: mcp, client_secret_env: S }").contains("SG503")
        )
        #expect(codes("{ endpoint: http://127.0.0.1:9000/token, client_id: mcp, client_secret_env: S }").isEmpty)
    }

    @Test func downstreamWithoutAnExchangingIssuerIsSG704() {
        #expect(compile("").diagnostics.map(\.code.id) == ["SG704"])
        // Named issuer without exchange: SG704; unknown named issuer: SG208 only.
        let named = compile("", downstream: "{ audience: https://crm.example.com, issuer: https://auth.example.com }")
        #expect(named.diagnostics.map(\.code.id) == ["SG704"])
        let unknown = compile(
            "", downstream: "{ audience: https://crm.example.com, issuer: https://other.example.com }")
        #expect(unknown.diagnostics.map(\.code.id) == ["SG208"])
        #expect(compile("{ endpoint: https://a/token, client_id: mcp, client_secret_env: S }").diagnostics.isEmpty)
    }
}
