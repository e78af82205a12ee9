import Foundation
import ScopeGate
import Testing

@testable import ScopeGateMCPClient

/// A transport answering from a closure, recording every message; `discovery` says whether it offers the
/// stateless handshake.
final class ScriptedTransport: MCPTransport, @unchecked Sendable {
    let discovery: Bool
    let answer: @Sendable (String, JSONValue) -> JSONValue
    private let lock = NSLock()
    private var sent: [JSONValue] = []

    init(discovery: Bool, answer: @escaping @Sendable (String, JSONValue) -> JSONValue) {
        self.discovery = discovery
        self.answer = answer
    }

    var supportsDiscovery: Bool { discovery }
    var messages: [JSONValue] { lock.withLock { sent } }
    var methods: [String] {
        messages.compactMap { if case .object(let o) = $0 { o["method"]?.stringValue } else { nil } }
    }

    func send(request: JSONValue, id: Int, timeout: Duration) throws(MCPClientError) -> JSONValue {
        lock.withLock { sent.append(request) }
        guard case .object(let o) = request, case .string(let method)? = o["method"] else { return .null }
        return .object(["jsonrpc": .string("2.0"), "id": .number(Decimal(id)), "result": answer(method, request)])
            .replacingError()
    }

    func send(notification: JSONValue) throws(MCPClientError) { lock.withLock { sent.append(notification) } }
    func close() {}
}

extension JSONValue {
    /// A result `{"error": …}` becomes the response's `error` (so closures can answer either).
    fileprivate func replacingError() -> JSONValue {
        guard case .object(var o) = self, case .object(let result)? = o["result"], let error = result["error"] else {
            return self
        }
        o["result"] = nil
        o["error"] = error
        return .object(o)
    }
}

@Suite struct DiscoverTests {
    static let tools: JSONValue = .object([
        "tools": .array([.object(["name": .string("t"), "inputSchema": .object(["type": .string("object")])])])
    ])

    static func meta(of message: JSONValue) -> [String: JSONValue]? {
        guard case .object(let o) = message, case .object(let params)? = o["params"],
            case .object(let meta)? = params["_meta"]
        else { return nil }
        return meta
    }

    @Test func aStatelessServerIsSpokenToWithTheEnvelope() throws {
        let transport = ScriptedTransport(discovery: true) { method, _ in
            switch method {
            case "server/discover":
                .object([
                    "supportedVersions": .array([.string("2026-07-28")]), "capabilities": .object([:]),
                    "_meta": .object([
                        "io.modelcontextprotocol/serverInfo": .object([
                            "name": .string("modern"), "version": .string("2.3.0"),
                        ])
                    ]),
                ])
            case "tools/list": Self.tools
            default: .object(["error": .object(["code": .number(-32601), "message": .string("no")])])
            }
        }
        let session = MCPSession(transport: transport)
        let info = try session.initialize()
        #expect(info.name == "modern")
        #expect(info.version == "2.3.0")
        #expect(info.protocolVersion == "2026-07-28")
        #expect(try session.listTools().map(\.name) == ["t"])
        #expect(transport.methods == ["server/discover", "tools/list"])
        for message in transport.messages {
            let meta = Self.meta(of: message)
            #expect(meta?["io.modelcontextprotocol/protocolVersion"] == .string("2026-07-28"))
            #expect(meta?["io.modelcontextprotocol/clientCapabilities"] == .object([:]))
        }
    }

    @Test func anOlderServerFallsBackToInitialize() throws {
        let transport = ScriptedTransport(discovery: true) { method, _ in
            switch method {
            case "initialize":
                .object([
                    "protocolVersion": .string("2025-11-25"), "capabilities": .object([:]),
                    "serverInfo": .object(["name": .string("legacy")]),
                ])
            case "tools/list": Self.tools
            default: .object(["error": .object(["code": .number(-32601), "message": .string("method not found")])])
            }
        }
        let session = MCPSession(transport: transport)
        let info = try session.initialize()
        #expect(info.name == "legacy")
        #expect(info.protocolVersion == "2025-11-25")
        _ = try session.listTools()
        #expect(transport.methods == ["server/discover", "initialize", "notifications/initialized", "tools/list"])
        #expect(Self.meta(of: transport.messages[3]) == nil)
    }

    @Test func aServerNotListingTheRevisionFallsBackToo() throws {
        let transport = ScriptedTransport(discovery: true) { method, _ in
            method == "server/discover"
                ? .object(["supportedVersions": .array([.string("2025-11-25")])])
                : .object(["protocolVersion": .string("2025-11-25"), "serverInfo": .object(["name": .string("s")])])
        }
        #expect(try MCPSession(transport: transport).initialize().protocolVersion == "2025-11-25")
    }

    @Test func stdioLikeTransportsGoStraightToInitialize() throws {
        let transport = ScriptedTransport(discovery: false) { _, _ in
            .object(["protocolVersion": .string("2025-11-25"), "serverInfo": .object(["name": .string("s")])])
        }
        _ = try MCPSession(transport: transport).initialize()
        #expect(transport.methods == ["initialize", "notifications/initialized"])
    }

    @Test func whenBothFailTheErrorNamesBoth() {
        let transport = ScriptedTransport(discovery: true) { _, _ in
            .object(["error": .object(["code": .number(-32000), "message": .string("down")])])
        }
        do {
            _ = try MCPSession(transport: transport).initialize()
            Issue.record("initialize succeeded")
        } catch {
            #expect(error.code == .rpcError)
            #expect(error.message.contains("server/discover"))
        }
    }
}
