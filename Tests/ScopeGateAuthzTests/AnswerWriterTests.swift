import NIOCore
import Testing

@testable import ScopeGateAuthz

/// The decision service's answer writer: nothing in an answer can split the response, and the framing fields say
/// the answer's length and the connection's fate.
@Suite struct AnswerWriterTests {
    @Test func anAnswerWithAHeaderThatWouldSplitTheResponseIsA500() {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        let answer = AuthzHTTPAnswer(status: 200, headers: [("X-ScopeGate-Subject", "a\r\nSet-Cookie: x=1")])
        AnswerWriter.write(answer, minorVersion: 1, keepAlive: true, withBody: true, into: &buffer)
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
        #expect(!text.contains("Set-Cookie"))
    }

    @Test func anAnswerSaysItsLengthAndConnection() {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        let answer = AuthzHTTPAnswer(status: 403, headers: [("X-ScopeGate-Reason", "missing_scope")], body: [1, 2])
        AnswerWriter.write(answer, minorVersion: 0, keepAlive: true, withBody: false, into: &buffer)
        #expect(
            String(buffer: buffer)
                == "HTTP/1.0 403 Forbidden\r\nServer: scopegate\r\nX-ScopeGate-Reason: missing_scope\r\n"
                + "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n")
    }
}
