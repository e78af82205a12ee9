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

    /// `presentedToken` checks the scheme and spacing and leaves the characters to `isToken68`; together they
    /// are `token`.
    @Test func presentedTokenLeavesTheCharactersToIsToken68() {
        #expect(BearerChallenge.presentedToken(fromAuthorization: "  bearer   a,b \t") == "a,b")
        #expect(BearerChallenge.presentedToken(fromAuthorization: "Bearer a b") == "a b")
        #expect(
            !BearerChallenge.isToken68("a,b") && !BearerChallenge.isToken68("a b") && !BearerChallenge.isToken68(""))
        #expect(BearerChallenge.isToken68("abc.def-ghi_~+/="))
        for header: String? in [nil, "", "Bearer", "Bearer ", "Bearerabc", "Bearer\tabc", "Basic abc", "Bear abc"] {
            #expect(BearerChallenge.presentedToken(fromAuthorization: header) == nil, "\(String(describing: header))")
        }
    }

    @Test func tokenIsAFreshCopyOfTheBytes() {
        let long = String(repeating: "a", count: 2000) + ".sig"
        #expect(BearerChallenge.token(fromAuthorization: "Bearer " + long) == long)
    }

    /// Every ASCII byte is accepted exactly when it is a token68 character, wherever it sits in a long token (the
    /// check runs over blocks of bytes, then the rest one by one).
    @Test func everyASCIIByteIsClassifiedAsToken68Says() {
        let token68 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=".utf8)
        for byte in UInt8(0)..<128 where byte != 0x20 && byte != 0x09 {
            let character = String(UnicodeScalar(byte))
            for position in [0, 31, 64, 99] {
                let token = String(repeating: "a", count: position) + character + String(repeating: "b", count: 100)
                let accepted = BearerChallenge.token(fromAuthorization: "Bearer " + token) != nil
                #expect(accepted == token68.contains(byte), "byte \(byte) at \(position)")
            }
        }
    }
}
