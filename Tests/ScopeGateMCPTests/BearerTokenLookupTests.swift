import ScopeGateMCP
import Testing

@testable import climate_server

/// The embedded authorizer reads a bearer token's characters only on a cache miss: a token with characters outside
/// token68 is no token, before and after a valid one is cached, through every entry that reads the header.
@Suite struct BearerTokenLookupTests {
    @Test func aTokenOfOtherCharactersIsMissingWithOrWithoutTheCache() async throws {
        let world = try World()
        let authorizer = world.app.authorizer
        let valid = world.token("mcp:tools:climate")
        let refused = ["Bearer " + valid + ",x", "Bearer " + valid + " x", "Bearer \"" + valid + "\""]
        for round in ["before", "after"] {
            if round == "after" {
                guard case .authenticated = await authorizer.authenticate(authorization: "Bearer " + valid) else {
                    Issue.record("the valid token was not authenticated")
                    return
                }
                #expect(authorizer.hasCachedToken(authorization: "Bearer " + valid))
            }
            for header in refused {
                guard case .missing = await authorizer.authenticate(authorization: header) else {
                    Issue.record("\(round): authenticate did not refuse \(header.suffix(12))")
                    continue
                }
                #expect(authorizer.cachedCaller(authorization: header) == nil)
                #expect(!authorizer.hasCachedToken(authorization: header))
            }
        }
    }
}
