import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGate

/// `DecimalText` parses numbers without a `Locale` (creating one pages in ICU data). Foundation's parse with no
/// locale must give the same value as with `en_US_POSIX`, the locale it used before.
@Suite struct DecimalTextTests {
    static let posix = Locale(identifier: "en_US_POSIX")

    static func same(_ text: String) -> Bool {
        let ours = DecimalText.decimal(text)
        let theirs = Decimal(string: text, locale: posix)
        switch (ours, theirs) {
        case (nil, nil): return true
        case (let a?, let b?): return a == b || (a.isNaN && b.isNaN)
        default: return false
        }
    }

    @Test func fixedCases() {
        for text in [
            "0", "-0", "12", "-1.5", "0.001", "1e3", "1E-3", "-2.5e+10", "123456789012345678901234567890123456789",
            "1e127", "1e128", "1e-128", "1e-200", "99999999999999999999999999999999999999999e100", ".5", "5.",
            "00012.3400",
        ] {
            #expect(Self.same(text), "\(text)")
        }
        #expect(DecimalText.parse("1.5") == Decimal(string: "1.5", locale: Self.posix))
        #expect(DecimalText.parse("1,5") == nil)
    }

    @Test func randomNumbersAgreeWithThePosixLocale() {
        var rng = SplitMix64(seed: 11)
        func digits(_ n: Int) -> String {
            String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
        }
        for _ in 0..<5_000 {
            var text = Bool.random(using: &rng) ? "-" : ""
            text += digits(Int.random(in: 1...45, using: &rng))
            if Bool.random(using: &rng) { text += "." + digits(Int.random(in: 1...20, using: &rng)) }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                text +=
                    ["e", "E", "e-", "e+"][Int.random(in: 0..<4, using: &rng)]
                    + String(Int.random(in: 0...300, using: &rng))
            }
            #expect(Self.same(text), "\(text)")
        }
    }
}
