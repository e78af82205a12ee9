import NIOCore
import NIOHTTP1
import ScopeGateRequestAuthorization

/// Writes an ``AuthzHTTPAnswer`` as an HTTP/1.x response, straight into the connection's outbound buffer.
///
/// Every field is checked before it is written: a name must be a token and a value must hold no CR, LF or other
/// control, so that nothing in an answer (a subject or a client id from a token, say) can split the response. An
/// answer that fails the check is replaced by a 500 whose body says so, never written in part.
///
/// ```swift
/// var buffer = allocator.buffer(capacity: 256)
/// AnswerWriter.write(AuthzHTTPAnswer(status: 200, body: Array("ok\n".utf8)),
///                    minorVersion: 1, keepAlive: true, withBody: true, into: &buffer)
/// ```
enum AnswerWriter {
    /// Writes `answer`. `keepAlive` false adds `Connection: close`; an HTTP/1.0 answer that keeps the connection
    /// says `Connection: keep-alive`. `withBody` false (a `HEAD` request) writes the head alone, with the length
    /// the body would have.
    static func write(
        _ answer: AuthzHTTPAnswer, minorVersion: Int, keepAlive: Bool, withBody: Bool, into buffer: inout ByteBuffer
    ) {
        guard answer.headers.allSatisfy({ isValidName($0.0) && isValidValue($0.1) }) else {
            let refusal = AuthzHTTPAnswer(
                status: 500, headers: [("Content-Type", "text/plain; charset=utf-8")],
                body: Array("the answer had a header field that cannot be sent\n".utf8))
            write(refusal, minorVersion: minorVersion, keepAlive: keepAlive, withBody: withBody, into: &buffer)
            return
        }
        buffer.writeString(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        let status = HTTPResponseStatus(statusCode: answer.status)
        buffer.writeString(String(answer.status))
        buffer.writeString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeString("\r\nServer: scopegate\r\n")
        for (name, value) in answer.headers {
            buffer.writeString(name)
            buffer.writeString(": ")
            buffer.writeString(value)
            buffer.writeString("\r\n")
        }
        buffer.writeString("Content-Length: ")
        buffer.writeString(String(answer.body.count))
        if !keepAlive {
            buffer.writeString("\r\nConnection: close")
        } else if minorVersion == 0 {
            buffer.writeString("\r\nConnection: keep-alive")
        }
        buffer.writeString("\r\n\r\n")
        if withBody { buffer.writeBytes(answer.body) }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(ByteClass.isToken)
    }

    static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy(ByteClass.isFieldValue)
    }
}
