import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGate
@testable import ScopeGateTokens

@Suite struct StrictJSONTests {
    func parse(_ s: String, depth: Int = 8) -> Result<ClaimValue, StrictJSON.Failure> {
        Result { () throws(StrictJSON.Failure) -> ClaimValue in try StrictJSON.parse(Array(s.utf8), maxDepth: depth) }
    }

    @Test func acceptsOrdinaryJSON() throws {
        let v = try parse(#"{"a":[1,2.5,-3e2,true,false,null,"x\u00e9\ud83d\ude00"],"b":{}}"#).get()
        #expect(v["a"]?.arrayValue?.count == 7)
        #expect(v["a"]?.arrayValue?[0] == .number(1))
        #expect(v["a"]?.arrayValue?[3] == .bool(true))
        #expect(v["a"]?.arrayValue?[6] == .string("xé😀"))
        #expect(v["b"] == .object([:]))
    }

    @Test func refusesDuplicatesDepthAndSyntax() {
        #expect(throws: StrictJSON.Failure.duplicateKey) { try parse(#"{"a":1,"a":2}"#).get() }
        #expect(throws: StrictJSON.Failure.duplicateKey) { try parse(#"{"x":{"a":1,"\u0061":2}}"#).get() }
        #expect(throws: StrictJSON.Failure.tooDeep) { try parse("[[[[[[[[[1]]]]]]]]]").get() }
        for bad in [
            "{", "{\"a\":}", "[1,]", "01", "1.", "tru", "\"\\x\"", "{\"a\" 1}", "\"\u{01}\"", "{}x", "\"\\ud800\"",
        ] {
            #expect(throws: StrictJSON.Failure.syntax, "\(bad)") { try parse(bad).get() }
        }
    }

    /// The parser builds values itself; on valid input it must agree with Foundation's decoder (what it replaced).
    @Test func agreesWithFoundationOnValidDocuments() throws {
        let documents = [
            #"{"iss":"https://idp.example.com/","aud":["a","b"],"exp":1700000000,"iat":1.7e9,"nbf":-1,"scope":"a b"}"#,
            #"{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 end","e":"","u":"ünï©ødé"}"#,
            #"[0,-0,0.5,-12.25e-3,1E+2,9007199254740993,1e308,true,false,null,[],{},[[{"k":[null]}]]]"#,
            #"  {"nested":{"a":{"b":{"c":[1,{"d":"x"}]}}}}  "#,
            #""just a string""#, "42", "true", "null",
            // Integers on both sides of the 15-digit fast path, and where it must not apply (sign, fraction, exponent).
            "[0,7,10,123456789012345,999999999999999,1000000000000000,9999999999999999,-5,-0,5.0,5e0,50e-1]",
        ]
        for text in documents {
            let ours = try parse(text).get()
            let foundation = try JSONDecoder().decode(ClaimValue.self, from: Data(text.utf8))
            #expect(ours == foundation, "\(text)")
        }
    }

    @Test func refusesNumbersThatOverflow() {
        #expect(throws: StrictJSON.Failure.syntax) { try parse("1e400").get() }
        #expect(throws: StrictJSON.Failure.syntax) { try parse(#"{"exp":-1e999}"#).get() }
        #expect(throws: StrictJSON.Failure.syntax) { try parse(#""\xff""#).get() }
    }

    @Test func refusesInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x22]  // "a<0xFF>"
        #expect(throws: StrictJSON.Failure.syntax) { try StrictJSON.parse(bytes, maxDepth: 4) }
        let escaped: [UInt8] = Array(#""\n"#.utf8) + [0xC3, 0x22]  // escape, then a truncated 2-byte sequence
        #expect(throws: StrictJSON.Failure.syntax) { try StrictJSON.parse(escaped, maxDepth: 4) }
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.decode("aGk") == Array("hi".utf8))
        #expect(Base64URL.decode("aGk=") == nil)
        #expect(Base64URL.decode("aGl") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.encode(Array("hi?>".utf8)) == "aGk_Pg")
    }

    /// The straightforward bit-accumulator decoder the fast one replaced: the reference for the test below.
    static func referenceDecode(_ input: [UInt8]) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        if input.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        return acc == 0 ? out : nil
    }

    @Test func base64URLDecoderAgreesWithTheReference() {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let intruders = Array("=+/ .\n\0".utf8) + [0x80, 0xFF]
        var accepted = 0
        var refused = 0
        for round in 0..<20_000 {
            let length = Int(rng.next() % 70)
            var input = (0..<length).map { _ in alphabet[Int(rng.next() % 64)] }
            if round % 5 == 0, !input.isEmpty {  // one character outside the alphabet
                input[Int(rng.next() % UInt64(input.count))] = intruders[Int(rng.next() % UInt64(intruders.count))]
            }
            let expected = Self.referenceDecode(input)
            #expect(Base64URL.decode(input) == expected, "input \(String(decoding: input, as: UTF8.self))")
            #expect(Base64URL.decode(input[...]) == expected)  // slices take the same path
            if expected == nil { refused += 1 } else { accepted += 1 }
        }
        #expect(accepted > 5_000 && refused > 5_000)
        for length in 0..<64 {  // round trip for every length and tail
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(Base64URL.decode(Array(Base64URL.encode(bytes).utf8)) == bytes)
        }
    }

    @Test func asciiAndNonASCIIStringsDecodeAlike() throws {
        let v = try parse(#"{"ascii":"read:files write:files","utf8":"café ☕️","escaped":"a\"b"}"#).get()
        #expect(v["ascii"] == .string("read:files write:files"))
        #expect(v["utf8"] == .string("café ☕️"))
        #expect(v["escaped"] == .string("a\"b"))
    }

    @Test func jsonTextIsDeterministic() {
        let v: ClaimValue = .object(["b": .number(1_700_000_000), "a": .array([.string("x\"y"), .null, .number(1.5)])])
        #expect(v.jsonText() == #"{"a":["x\"y",null,1.5],"b":1700000000}"#)
    }
}
