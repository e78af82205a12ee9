import Foundation
import ScopeGateHTTPTestSupport
import Testing

/// What ``ProxyServer``'s connection handler must keep whichever way a request is answered (on the event loop, or
/// by Hummingbird's responder behind it): the order of answers on a connection, the connection's lifetime, the
/// body limit.
extension ProxyTests {
    static func rawPost(_ body: String, token: String, accept: String? = nil, extra: String = "") -> String {
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nMCP-Protocol-Version: 2025-11-25\r\n"
            + "Authorization: Bearer \(token)\r\n" + (accept.map { "Accept: \($0)\r\n" } ?? "") + extra
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    /// Five requests sent at once on one connection, some that can be answered at once and some only by the
    /// responder (an operations endpoint, a call whose token must be verified): each is answered, in the order
    /// sent.
    @Test func pipelinedRequestsAreAnsweredInOrderWhoeverAnswersThem() async throws {
        try await withProxy { port, log in
            let connection = try RawConnection(port: port)
            try connection.send(
                Self.rawPost(Self.call, token: "reader") + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + Self.rawPost(Self.call, token: "slow")
                    + Self.rawPost(Self.list, token: "reader", accept: "application/json")
                    + Self.rawPost(Self.write, token: "reader"))
            let (text, _) = await connection.read { $0.occurrences(of: "HTTP/1.1 ") == 5 && $0.hasSuffix("}") }
            let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0 }
            #expect(answers.map { $0.prefix(3) } == ["200", "200", "200", "200", "403"])
            guard answers.count == 5 else { return }
            #expect(answers[0].contains(#""result":{"content""#))
            #expect(answers[1].hasSuffix("\r\n\r\nok\n"))
            #expect(answers[2].contains(#""result":{"content""#))
            #expect(answers[3].contains("read_file") && !answers[3].contains("secret"))
            #expect(answers[4].contains(#"scope="files:write""#))
            #expect(log.methods == ["tools/call", "tools/call", "tools/list"])
            // The first call was answered at once; from the operations request on, each request found the
            // responder still holding one of the connection's requests, so it went there too (answers in order).
            #expect(awaited.value == 3)
            // Once the responder has answered, the connection's next request is answered at once again.
            try connection.send(Self.rawPost(Self.call, token: "reader"))
            let (next, _) = await connection.read { $0.hasSuffix("}}") }
            #expect(next.hasPrefix("HTTP/1.1 200"))
            #expect(awaited.value == 3)
        }
    }

    /// Spaces and tabs around a field value are not part of it (RFC 9110 §5.5): a 2026-07-28 call whose
    /// `Mcp-Method`, `Mcp-Name` and `Authorization` end in some is decided as without them, whichever way it is
    /// answered (the proxy's request decoder drops them, and so does HTTPTypes, which the responder's way reads).
    @Test(arguments: [true, false]) func fieldValuesAreReadWithoutSurroundingWhitespace(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, log in
            let body =
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{},"#
                + #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","#
                + #""io.modelcontextprotocol/clientCapabilities":{}}}}"#
            let connection = try RawConnection(port: port)
            try connection.send(
                "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28 \r\n"
                    + "Mcp-Method: tools/call \t\r\nMcp-Name: read_file  \r\nAuthorization: Bearer reader \r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
            let (text, _) = await connection.read { $0.hasSuffix("}}") }
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(text.contains(#""result":{"content""#))
            #expect(log.methods == ["tools/call"])
            #expect(awaited.value == (atOnce ? 0 : 1))
        }
    }

    /// A body in chunks (a chunk extension and a trailer field included) is read whole and answered as its
    /// `Content-Length` twin is, whichever way; a transfer coding other than `chunked` alone is a 400 that closes the
    /// connection, and nothing of that request reaches the upstream.
    @Test(arguments: [true, false]) func aChunkedBodyIsReadAndAnotherCodingRefused(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, log in
            let half = Self.call.utf8.count / 2
            let (first, second) = (String(Self.call.prefix(half)), String(Self.call.dropFirst(half)))
            func chunked(_ coding: String) -> String {
                "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "MCP-Protocol-Version: 2025-11-25\r\nAuthorization: Bearer reader\r\n"
                    + "Transfer-Encoding: \(coding)\r\n\r\n"
                    + String(first.utf8.count, radix: 16) + ";part=1\r\n" + first + "\r\n"
                    + String(second.utf8.count, radix: 16) + "\r\n" + second + "\r\n0\r\nX-Sum: 2\r\n\r\n"
            }
            let connection = try RawConnection(port: port)
            try connection.send(chunked("chunked"))
            let (text, _) = await connection.read { $0.hasSuffix("}}") }
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(text.contains(#""result":{"content""#))
            #expect(log.methods == ["tools/call"])
            #expect(awaited.value == (atOnce ? 0 : 1))

            let refused = try RawConnection(port: port)
            try refused.send(chunked("gzip, chunked"))
            let (answer, closed) = await refused.read()
            #expect(answer.hasPrefix("HTTP/1.1 400"))
            #expect(closed)
            #expect(log.methods == ["tools/call"])
        }
    }

    /// An answer to `HEAD` is its head alone, with the framing a `GET` would have (RFC 9110 §9.3.2), so the
    /// connection carries the next request: the encoder no longer learns request methods from the decoder
    /// (``ProxyServer`` unpairs them), and the connection handler drops the body. Here the endpoint answers a
    /// `HEAD` without a token with its 401 and JSON body, and the health check with its `ok`.
    @Test func anAnswerToHEADHasNoBodyAndTheConnectionCarriesOn() async throws {
        try await withProxy { port, _ in
            let connection = try RawConnection(port: port)
            try connection.send(
                "HEAD /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + Self.rawPost(Self.call, token: "reader"))
            let (text, _) = await connection.read { $0.occurrences(of: "HTTP/1.1 ") == 3 && $0.hasSuffix("}") }
            let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0 }
            #expect(answers.map { $0.prefix(3) } == ["401", "200", "200"])
            guard answers.count == 3 else { return }
            // Each head ends the answer: nothing follows its empty line.
            #expect(answers[0].hasSuffix("\r\n\r\n") && answers[0].contains("Content-Length: "))
            #expect(answers[1].hasSuffix("\r\n\r\n"))
            #expect(answers[2].contains(#""result":{"content""#))
        }
    }

    /// `Connection: close` is honoured: the answer comes, then the connection ends.
    @Test func aRequestAskingToCloseIsAnsweredThenTheConnectionEnds() async throws {
        try await withProxy { port, _ in
            let connection = try RawConnection(port: port)
            try connection.send(Self.rawPost(Self.call, token: "reader", extra: "Connection: close\r\n"))
            let (text, closed) = await connection.read()
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(text.contains(#""result""#))
            #expect(closed)
        }
    }

    /// A request that does not keep the connection (RFC 9112 §9.3) is answered, with `Connection: close`, and the
    /// connection ends: HTTP/1.0 without `keep-alive`, whichever way it is answered and for `HEAD` too, and a
    /// `close` option in another spelling than Hummingbird's exact `close`.
    @Test(arguments: [
        "POST", "GET /healthz HTTP/1.0\r\n\r\n", "HEAD /healthz HTTP/1.0\r\n\r\n", "Close", "keep-alive, close",
    ])
    func aRequestThatDoesNotKeepTheConnectionEndsIt(request: String) async throws {
        try await withProxy { port, _ in
            let connection = try RawConnection(port: port)
            switch request {
            case "POST":
                try connection.send(
                    Self.rawPost(Self.call, token: "reader").replacingOccurrences(
                        of: " HTTP/1.1\r\n", with: " HTTP/1.0\r\n"))
            case "Close", "keep-alive, close":
                try connection.send(Self.rawPost(Self.call, token: "reader", extra: "Connection: \(request)\r\n"))
            default:
                try connection.send(request)
            }
            let (text, closed) = await connection.read()
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text.prefix(200))")
            #expect(text.lowercased().contains("\r\nconnection: close\r\n"), "\(text.prefix(400))")
            #expect(request != "POST" || text.contains(#""result":{"content""#))
            #expect(!request.hasPrefix("HEAD") || text.hasSuffix("\r\n\r\n"))
            #expect(closed, "the connection stayed open after \(request.prefix(20))")
        }
    }

    /// HTTP/1.0 with `keep-alive` keeps the connection: its next request is answered on it.
    @Test func anHTTP10RequestWithKeepAliveKeepsTheConnection() async throws {
        try await withProxy { port, _ in
            let connection = try RawConnection(port: port)
            try connection.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let (first, firstClosed) = await connection.read { $0.hasSuffix("ok\n") }
            #expect(first.hasPrefix("HTTP/1.1 200") && !firstClosed)
            try connection.send(Self.rawPost(Self.call, token: "reader"))
            let (second, _) = await connection.read { $0.hasSuffix("}}") }
            #expect(second.hasPrefix("HTTP/1.1 200") && second.contains(#""result":{"content""#))
        }
    }
}
