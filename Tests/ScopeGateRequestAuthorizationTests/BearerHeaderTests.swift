import ScopeGateRequestAuthorization
import Testing

/// `Authorization` header parsing (RFC 6750 §2.1), which runs on every request.
@Suite struct BearerHeaderTests {
    @Test func acceptsTheBearerSchemeInAnyCaseWithOptionalWhitespace() {
        #expect(BearerChallenge.token(fromAuthorization: "Bearer abc.def-ghi_~+/=") == "abc.def-ghi_~+/=")
        #expect(BearerChallenge.token(fromAuthorization: "bearer abc") == "abc")
        #expect(BearerChallenge.token(fromAuthorization: "BEARER abc") == "abc")
        #expect(BearerChallenge.token(fromAuthorization: "  Bearer   abc \t") == "abc")
        #expect(BearerChallenge.token(fromAuthorization: "\tBearer \tabc") == "abc")
    }

    @Test func refusesEverythingElse() {
        for header: String? in [
            nil, "", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Bearer\tabc", "Basic abc",
            "Bearer a b", "Bearer a,b", "Bearer \"abc\"", "Bearer abc\u{00A0}", "Bearér abc",
            "Bearer ab\u{0}c", "Bearer a\nb", "Token abc", "Bearer\u{00A0}abc", "Bear abc",
        ] {
            #expect(BearerChallenge.token(fromAuthorization: header) == nil, "\(String(describing: header))")
        }
    }

    @Test func tokenIsAFreshCopyOfTheBytes() {
        let long = String(repeating: "a", count: 2000) + ".sig"
        #expect(BearerChallenge.token(fromAuthorization: "Bearer " + long) == long)
    }
}
