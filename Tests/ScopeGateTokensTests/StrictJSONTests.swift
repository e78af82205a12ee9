import Testing
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
        for bad in ["{", "{\"a\":}", "[1,]", "01", "1.", "tru", "\"\\x\"", "{\"a\" 1}", "\"\u{01}\"", "{}x", "\"\\ud800\""] {
            #expect(throws: StrictJSON.Failure.syntax, "\(bad)") { try parse(bad).get() }
        }
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.decode("aGk") == Array("hi".utf8))
        #expect(Base64URL.decode("aGk=") == nil)
        #expect(Base64URL.decode("aGl") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.encode(Array("hi?>".utf8)) == "aGk_Pg")
    }

    @Test func jsonTextIsDeterministic() {
        let v: ClaimValue = .object(["b": .number(1_700_000_000), "a": .array([.string("x\"y"), .null, .number(1.5)])])
        #expect(v.jsonText() == #"{"a":["x\"y",null,1.5],"b":1700000000}"#)
    }
}
