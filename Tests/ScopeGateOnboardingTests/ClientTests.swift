import Foundation
import ScopeGate
import Testing

@testable import ScopeGateMCPClient
@testable import ScopeGateMCPClientHTTP

@Suite struct ToolListReaderTests {
    @Test func readsTheThreeForms() throws {
        let tool = #"{"name":"t","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}}"#
        for text in [
            "{\"tools\":[\(tool)]}", "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[\(tool)]}}", "[\(tool)]",
        ] {
            let tools = try ToolListReader.parse(text: text)
            #expect(tools.map(\.name) == ["t"])
            #expect(tools.first?.isReadOnly == true)
        }
    }

    /// The code `parse` fails with, or nil when it succeeds.
    static func failure(_ text: String) -> MCPClientError.Code? {
        do {
            _ = try ToolListReader.parse(text: text)
            return nil
        } catch { return error.code }
    }

    @Test func failuresHaveStableCodes() {
        #expect(Self.failure("{") == .badJSON)
        #expect(Self.failure(#"{"tools":[{"description":"no name"}]}"#) == .badMessage)
        #expect(Self.failure(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}"#) == .rpcError)
        #expect(Self.failure("42") == .badMessage)
    }

    @Test func snapshotJSONRoundTrips() throws {
        let tools = try Fixtures.tools(Fixtures.gitLike)
        let again = try ToolListReader.parse(text: "[" + tools.map(\.json.jsonText).joined(separator: ",") + "]")
        #expect(again == tools)
    }
}

@Suite struct ShellWordsTests {
    @Test func splitsLikeAShell() throws {
        #expect(
            try ShellWords.split(#"uvx  mcp-server-git --repository '/tmp/my repo' "a \"b\"" c\ d"#) == [
                "uvx", "mcp-server-git", "--repository", "/tmp/my repo", #"a "b""#, "c d",
            ])
        #expect(throws: MCPClientError.self) { try ShellWords.split("echo 'open") }
    }
}

@Suite struct StdioTransportTests {
    /// A shell script standing in for a server: answers `initialize` (id 1) and two pages of `tools/list` (ids 2
    /// and 3), after a notification and a server request the client must answer.
    static let script = #"""
        read line; printf '%s\n' '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"fake","version":"1"}}}'
        read line
        read line; printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/message","params":{}}' '{"jsonrpc":"2.0","id":"s1","method":"roots/list"}'
        read reply; echo "$reply" >&2
        printf '%s\n' '{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"a","inputSchema":{}}],"nextCursor":"p2"}}'
        read line; printf '%s\n' '{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"b","inputSchema":{}}]}}'
        read line
        """#

    @Test func initializesAndFollowsPagination() throws {
        let transport = try StdioTransport(argv: ["sh", "-c", Self.script])
        let session = MCPSession(transport: transport, timeout: .seconds(20))
        defer { session.close() }
        let info = try session.initialize()
        #expect(info.name == "fake")
        #expect(try session.listTools().map(\.name) == ["a", "b"])
        // The child echoes the client's answer to `roots/list` on stderr, a second pipe that a background thread
        // drains: wait (bounded) for it rather than assume it was read before stdout's next line.
        let deadline = Date().addingTimeInterval(10)
        while !transport.stderrText.contains("-32601"), Date() < deadline { usleep(10_000) }
        #expect(transport.stderrText.contains("-32601"))
    }

    @Test func aChildThatExitsIsAnError() throws {
        let session = MCPSession(transport: try StdioTransport(argv: ["sh", "-c", "echo boom >&2; exit 3"]))
        defer { session.close() }
        do {
            _ = try session.initialize()
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .childExited)
            #expect(error.message.contains("boom"))
        }
    }

    @Test func silenceTimesOutAndKillsTheChild() throws {
        let session = MCPSession(transport: try StdioTransport(argv: ["sleep", "60"]), timeout: .seconds(1))
        defer { session.close() }
        do {
            _ = try session.initialize()
            Issue.record("expected an error")
        } catch { #expect(error.code == .timeout) }
    }

    @Test func notJSONIsBadJSON() throws {
        let session = MCPSession(transport: try StdioTransport(argv: ["sh", "-c", "read l; echo hello; read l"]))
        defer { session.close() }
        do {
            _ = try session.initialize()
            Issue.record("expected an error")
        } catch { #expect(error.code == .badJSON) }
    }
}

@Suite struct HTTPTransportTests {
    @Test func readsMessagesFromAnEventStream() throws {
        let body =
            "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n"
            + "id: 7\ndata: {\"jsonrpc\":\"2.0\",\ndata: \"id\":2,\"result\":{}}\n\n"
        let messages = try HTTPTransport.events(in: Data(body.utf8))
        #expect(messages.count == 2)
        #expect(messages.last == .object(["jsonrpc": .string("2.0"), "id": .number(2), "result": .object([:])]))
    }
}
