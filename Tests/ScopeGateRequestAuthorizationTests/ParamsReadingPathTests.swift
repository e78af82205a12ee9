import ScopeGate
import Testing

@testable import ScopeGateRequestAuthorization

/// Which way a body's `params` is read: plain text is checked in place and kept as text (only the members
/// authorization reads made into values); anything else is read in full. The results are the same either way
/// (`BodyTests`), so this is what keeps the cheap way in use.
@Suite struct ParamsReadingPathTests {
    func params(_ object: String) throws -> JSONRPCParams {
        let text = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":\#(object)}"#
        return try JSONRPCBody.parse(Array(text.utf8)).messages[0].storage
    }

    func isText(_ params: JSONRPCParams) -> Bool {
        if case .text = params.source { true } else { false }
    }

    @Test func aPlainCallIsKeptAsText() throws {
        let call = try params(
            #"{"name":"get_time","arguments":{"tz":"Europe/Paris","n":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}"#
        )
        #expect(isText(call))
        #expect(call.name == .string("get_time"))
        #expect(call.metaProtocolVersion == "2026-07-28")
        // Escapes and non-ASCII inside the members authorization reads are read by the full parser in place.
        #expect(isText(try params(#"{"name":"caf\u00e9","arguments":{"city":"Zürich"}}"#)))
    }

    @Test(arguments: [
        #"{"name":"t","x":"Zürich"}"#, #"{"name":"t","\u0078":1}"#, #"{"name":"t","x":0.5}"#,
        "{" + (0..<17).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}",
    ])
    func whatThePlainReadingLeavesIsReadInFull(object: String) throws {
        #expect(!isText(try params(object)))
    }
}
