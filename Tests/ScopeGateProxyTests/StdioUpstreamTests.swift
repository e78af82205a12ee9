import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateHTTPTestSupport
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens
import Testing

/// A dependency-free stdio MCP server: logs every line it reads to the file named by its first argument;
/// `tools/list` lists three tools; `tools/call` sends two progress notifications when asked for progress, then
/// its result; the tool `crash` exits, `garbage` writes a line that is not JSON.
let stdioFixture = #"""
    import json, os, sys
    log = open(sys.argv[1], "a")
    def send(message):
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        log.write(line + "\n")
        log.flush()
        message = json.loads(line)
        method, id = message.get("method"), message.get("id")
        if method is None or id is None:
            continue
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": "2025-11-25",
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "fixture", "version": "1"}}})
        elif method == "tools/list":
            tools = [{"name": n, "inputSchema": {"type": "object"}} for n in ["write_file", "secret", "read_file"]]
            send({"jsonrpc": "2.0", "id": id, "result": {"tools": tools}})
        elif method == "tools/call":
            name = message["params"]["name"]
            if name == "crash":
                os._exit(3)
            if name == "garbage":
                sys.stdout.write("this is not json\n")
                sys.stdout.flush()
                continue
            token = message["params"].get("_meta", {}).get("progressToken")
            if token is not None:
                for step in (1, 2):
                    send({"jsonrpc": "2.0", "method": "notifications/progress",
                          "params": {"progressToken": token, "progress": step, "total": 2}})
            send({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "called " + name}]}})
        else:
            send({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}})
    """#

/// ``proxyPolicy`` and the stdio test server's other tools.
let stdioPolicy =
    proxyPolicy + "\n"
        + """
          crash: files:read
          garbage: files:read
          list_dir: files:read
        """

/// Test tokens: the token text names the subject; `writer` may write.
func testCredential(_ header: String?, _ policy: CompiledPolicy) -> Credential {
    guard let token = BearerChallenge.token(fromAuthorization: header) else { return .missing }
    let scopes = token == "writer" ? ["files:write"] : ["files:read"]
    return .granted(policy.grant(scopes), expiresAt: Date(timeIntervalSinceNow: 60), stripPrefixes: [])
}

func testIdentity(_ header: String?, _ policy: CompiledPolicy) -> VerifiedToken? {
    guard let token = BearerChallenge.token(fromAuthorization: header) else { return nil }
    return VerifiedToken(
        issuer: "https://auth.example.com", subject: token, clientID: "client", audiences: [], scopes: [],
        stripPrefixes: [], jwtID: nil, expiresAt: Date(timeIntervalSinceNow: 60), claims: .object([:]))
}

/// A POST to the proxy's `/mcp` (or another method), as a 2025-11-25 client.
func sendMCP(
    _ port: Int, _ body: String?, token: String?, method: String = "POST", headers: [(String, String)] = []
) async throws -> (status: Int, headers: [String: String], body: String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
    request.method = .init(rawValue: method)
    request.headers.add(name: "Content-Type", value: "application/json")
    request.headers.add(name: "MCP-Protocol-Version", value: "2025-11-25")
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    var fields: [String: String] = [:]
    for header in response.headers { fields[header.name.lowercased()] = header.value }
    return (Int(response.status.code), fields, text)
}

@Suite(.serialized) struct StdioUpstreamTests {
    static let read =
        #"{"jsonrpc":"2.0","id":"r-1","method":"tools/call","params":{"name":"read_file","arguments":{}}}"#

    func call(_ tool: String, id: Int = 7) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{}}}"#
    }

    /// Runs a proxy in front of the fixture; `body` gets the proxy's port, the upstream and the fixture's log.
    func withStdioProxy(_ body: (Int, StdioUpstream, URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-stdio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("server.py")
        let log = directory.appendingPathComponent("received.log")
        try stdioFixture.write(to: script, atomically: true, encoding: .utf8)
        let store = PolicyStore(
            initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: stdioPolicy).compiled())
        let upstream = StdioUpstream(
            argv: ["python3", script.path, log.path], timeout: .seconds(10), initialBackoff: .milliseconds(10))
        let proxy = MCPProxy(
            store: store, configuration: ProxyConfiguration(command: ["unused"]),
            authenticate: { header, policy in testCredential(header, policy) },
            identify: { header, policy in testIdentity(header, policy) }, upstream: upstream)
        let (port, task) = try await serveProxy(proxy)
        defer { task.cancel() }
        try await body(port, upstream, log)
        await proxy.shutdown()
    }

    func received(_ log: URL) -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    @Test func anAllowedCallReachesTheChildAndComesBackWithTheClientsID() async throws {
        try await withStdioProxy { port, _, log in
            let response = try await sendMCP(port, Self.read, token: "alice")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.body.contains(#""id":"r-1""#))
            #expect(response.body.contains("called read_file"))
            // The child saw the bridge's own initialize and a remapped id, never the client's.
            #expect(received(log).contains(#""method": "initialize""#) || received(log).contains("\"initialize\""))
            #expect(!received(log).contains("r-1"))
        }
    }

    /// A 2026-07-28 request reaches the child (opened with the 2025-11-25 handshake) without the per-request
    /// envelope, which a child speaking both revisions would refuse there; its own `_meta` keys stay.
    @Test func aModernRequestReachesTheChildWithoutTheEnvelope() async throws {
        try await withStdioProxy { port, _, log in
            let body =
                #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read_file","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"keep":"me"}}}"#
            let response = try await sendMCP(
                port, body, token: "alice",
                headers: [
                    ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "read_file"),
                ])
            #expect(response.status == 200)
            #expect(response.body.contains("called read_file"))
            #expect(!received(log).contains("io.modelcontextprotocol/protocolVersion"))
            #expect(!received(log).contains("io.modelcontextprotocol/clientCapabilities"))
            #expect(received(log).contains("keep"))
        }
    }

    /// Two clients with the same request id, at once: each gets the answer to its own request.
    @Test func clientsUsingTheSameIDGetTheirOwnAnswers() async throws {
        try await withStdioProxy { port, _, _ in
            for _ in 0..<5 {
                async let first = sendMCP(port, call("read_file", id: 1), token: "alice")
                async let second = sendMCP(port, call("list_dir", id: 1), token: "bob")
                let (a, b) = try await (first, second)
                #expect(a.body.contains("called read_file") && a.body.contains(#""id":1"#))
                #expect(b.body.contains("called list_dir") && b.body.contains(#""id":1"#))
            }
        }
    }

    @Test func aDeniedCallNeverReachesTheChild() async throws {
        try await withStdioProxy { port, _, log in
            _ = try await sendMCP(port, Self.read, token: "alice")
            let denied = try await sendMCP(port, call("write_file"), token: "alice")
            #expect(denied.status == 403)
            #expect(denied.body.contains("-32003"))
            #expect(!received(log).contains("write_file"))
        }
    }

    @Test func listsFromTheChildAreFiltered() async throws {
        try await withStdioProxy { port, _, _ in
            let list = try await sendMCP(port, #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, token: "alice")
            #expect(list.status == 200)
            #expect(list.body.contains("read_file"))
            #expect(!list.body.contains("secret"))
            #expect(!list.body.contains("write_file"))
        }
    }

    @Test func progressArrivesBeforeTheResultOnAStream() async throws {
        try await withStdioProxy { port, _, _ in
            let body =
                #"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"read_file","arguments":{},"_meta":{"progressToken":"mine"}}}"#
            let response = try await sendMCP(
                port, body, token: "alice", headers: [("Accept", "application/json, text/event-stream")])
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/event-stream")
            let progress = try #require(response.body.range(of: "notifications/progress"))
            let result = try #require(response.body.range(of: "called read_file"))
            #expect(progress.lowerBound < result.lowerBound)
            #expect(response.body.contains(#""progressToken":"mine""#))
            #expect(response.body.contains(#""id":9"#))
        }
    }

    @Test func aChildThatExitsGives502AndIsRestarted() async throws {
        try await withStdioProxy { port, upstream, _ in
            let crashed = try await sendMCP(port, call("crash"), token: "alice")
            #expect(crashed.status == 502)
            #expect(crashed.body.contains("-32004"))
            #expect(crashed.body.contains(#""id":7"#))
            let after = try await sendMCP(port, Self.read, token: "alice")
            #expect(after.status == 200)
            #expect(after.body.contains("called read_file"))
            #expect(await upstream.starts == 2)
        }
    }

    @Test func garbageOnStdoutGives502ForTheRequestAndTheNextOneWorks() async throws {
        try await withStdioProxy { port, upstream, _ in
            let garbled = try await sendMCP(port, call("garbage", id: 3), token: "alice")
            #expect(garbled.status == 502)
            #expect(garbled.body.contains("not JSON"))
            let after = try await sendMCP(port, Self.read, token: "alice")
            #expect(after.status == 200)
            #expect(await upstream.starts == 2)
        }
    }

    /// A command that keeps failing: the first request waits for its start and fails; while the restart is
    /// further off than a request waits, the next fails at once without starting another child.
    @Test func aCommandThatKeepsFailingFailsRequestsAtOnce() async throws {
        let upstream = StdioUpstream(
            argv: ["python3", "-c", "import sys; sys.exit(1)"], timeout: .seconds(10), initialBackoff: .seconds(60))
        let request = UpstreamRequest(
            method: "POST", headers: [:], body: ByteBuffer(string: call("read_file")), principal: "p")
        for _ in 0..<2 {
            await #expect(throws: UpstreamFailure.self) { _ = try await upstream.send(request) }
        }
        #expect(await upstream.starts == 1)
        await upstream.shutdown()
    }

    @Test func initializeIsAnsweredByTheBridgeWithASessionBoundToItsPrincipal() async throws {
        try await withStdioProxy { port, _, log in
            let initialize =
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
            let opened = try await sendMCP(port, initialize, token: "alice")
            #expect(opened.status == 200)
            #expect(opened.body.contains(#""protocolVersion":"2025-06-18""#))
            #expect(opened.body.contains("fixture"))
            let session = try #require(opened.headers["mcp-session-id"])
            let own = try await sendMCP(port, Self.read, token: "alice", headers: [("Mcp-Session-Id", session)])
            #expect(own.status == 200)
            let hijack = try await sendMCP(
                port, call("read_file", id: 42), token: "mallory", headers: [("Mcp-Session-Id", session)])
            #expect(hijack.status == 404)
            let unknown = try await sendMCP(
                port, call("read_file", id: 43), token: "alice", headers: [("Mcp-Session-Id", "nope")])
            #expect(unknown.status == 404)
            // Neither refused request reached the child (the child saw one tools/call only).
            #expect(received(log).components(separatedBy: "tools/call").count == 2)
            let closed = try await sendMCP(
                port, nil, token: "alice", method: "DELETE", headers: [("Mcp-Session-Id", session)])
            #expect(closed.status == 200)
            let after = try await sendMCP(port, Self.read, token: "alice", headers: [("Mcp-Session-Id", session)])
            #expect(after.status == 404)
        }
    }
}
