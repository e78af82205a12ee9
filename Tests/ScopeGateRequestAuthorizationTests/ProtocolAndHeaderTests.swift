import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import Testing

@Suite struct ProtocolRevisionTests {
    @Test func parsesOrdersAndTellsErasApart() throws {
        let old = try #require(ProtocolRevision("2025-06-18"))
        let new = try #require(ProtocolRevision("2026-07-28"))
        #expect(old < new)
        #expect(!old.isStateless)
        #expect(new.isStateless)
        #expect(ProtocolRevision("2026-7-28") == nil)
        #expect(ProtocolRevision("2026-07-2x") == nil)
        for text in ["", "2026-07-28 ", "2026/07/28", "2026-07-288", "20260-7-28", "２026-07-28", "2026-07-2\u{0}"] {
            #expect(ProtocolRevision(text) == nil, "\(text)")
        }
        // Ordered by date: every pair of these compares as their dates do.
        let dates = ["2024-12-31", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "2026-07-29"]
        let revisions = dates.compactMap(ProtocolRevision.init)
        #expect(revisions.count == dates.count)
        for (i, a) in revisions.enumerated() {
            for (j, b) in revisions.enumerated() { #expect((a < b) == (i < j)) }
        }
        #expect(ProtocolRevision.known.map(\.rawValue) == ["2025-06-18", "2025-11-25", "2026-07-28"])
    }

    @Test func minimumFiltersTheSupportedList() {
        let support = ProtocolSupport(minimum: .november2025)
        #expect(support.supported == [.november2025, .july2026])
        #expect(!support.accepts(.june2025))
    }

    @Test func olderThanTheMinimumIs400ListingTheSupportedRevisions() throws {
        let authorizer = RequestAuthorizer(
            policy: Fixture.policy, settings: .init(protocols: ProtocolSupport(minimum: .november2025)))
        let verdict = authorizer.authorize(
            Fixture.post(#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#, revision: "2025-06-18"),
            credential: Fixture.credential(["files:read"]))
        #expect(verdict.outcome == .reject)
        #expect(verdict.status == 400)
        #expect(errorCode(verdict.body) == -32022)
        let data = try #require(errorData(verdict.body))
        #expect(data["supported"] == .array([.string("2025-11-25"), .string("2026-07-28")]))
        #expect(data["requested"] == .string("2025-06-18"))
        guard case .object(let response)? = json(verdict.body) else {
            Issue.record("the body is not a JSON-RPC response")
            return
        }
        #expect(response["id"] == .number(7))
    }

    @Test func anUnknownRevisionIs400() {
        let verdict = Fixture.authorizer.authorize(
            Fixture.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, revision: "2099-01-01"),
            credential: Fixture.credential([]))
        #expect(errorCode(verdict.body) == -32022)
    }

    @Test func initializeWithoutTheHeaderIsTheOlderHandshake() {
        let verdict = Fixture.authorizer.authorize(
            Fixture.post(
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#,
                revision: nil),
            credential: Fixture.credential([]))
        #expect(verdict.outcome == .allow)
        #expect(verdict.revision == nil)
    }

    @Test func anotherRequestWithoutTheHeaderIsTakenAs2025_03_26AndRefused() {
        let verdict = Fixture.authorizer.authorize(
            Fixture.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, revision: nil),
            credential: Fixture.credential([]))
        #expect(verdict.status == 400)
        #expect(errorCode(verdict.body) == -32022)
    }

    @Test func aStatelessBodyWithoutTheVersionHeaderIsAHeaderMismatch() {
        var request = Fixture.toolCall("read_file")
        request.headers.protocolVersion = nil
        let verdict = Fixture.authorizer.authorize(request, credential: Fixture.credential(["files:read"]))
        #expect(errorCode(verdict.body) == -32020)
    }

    @Test func getAndDeleteNeedOnlyATokenOnSessionRevisionsAndAre405OnStatelessOnes() {
        let get = MCPHTTPRequest(method: "GET", headers: MCPRequestHeaders([("MCP-Protocol-Version", "2025-11-25")]))
        #expect(Fixture.authorizer.authorize(get, credential: Fixture.credential([])).outcome == .allow)
        #expect(Fixture.authorizer.authorize(get, credential: .missing).status == 401)
        let delete = MCPHTTPRequest(
            method: "DELETE", headers: MCPRequestHeaders([("MCP-Protocol-Version", "2026-07-28")]))
        #expect(Fixture.authorizer.authorize(delete, credential: Fixture.credential([])).status == 405)
    }
}

@Suite struct HeaderTests {
    @Test(arguments: [
        ("=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, 世界"),
        ("=?base64?IHBhZGRlZCA=?=", " padded "),
        ("=?base64?bGluZTEKbGluZTI=?=", "line1\nline2"),
        ("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=", "=?base64?literal?="),
        ("us-west1", "us-west1"),
    ])
    func decodesTheSpecificationsExamples(raw: String, value: String) {
        #expect(HeaderValueEncoding.decode(raw) == value)
        #expect(HeaderValueEncoding.decode(HeaderValueEncoding.encode(value)) == value)
    }

    @Test func encodesOnlyWhatNeedsIt() {
        #expect(HeaderValueEncoding.encode("us-west1") == "us-west1")
        #expect(HeaderValueEncoding.encode("Hello, 世界") == "=?base64?SGVsbG8sIOS4lueVjA==?=")
        #expect(HeaderValueEncoding.encode("=?base64?literal?=") == "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=")
        #expect(HeaderValueEncoding.encode("") == "")
        #expect(HeaderValueEncoding.encode("a b\tc") == "a b\tc")
        for padded in [" a", "a ", "\ta", "a\t", " "] {
            #expect(HeaderValueEncoding.encode(padded).hasPrefix("=?base64?"), "\(padded.debugDescription)")
        }
        #expect(HeaderValueEncoding.encode("=?base64?") == "=?base64?")  // too short to hold both markers
        #expect(HeaderValueEncoding.encode("=?base64??=").hasPrefix("=?base64?PT9"))
    }

    @Test(arguments: ["=?base64?not base64!?=", "=?base64?//79?=", "caf\u{E9}", "a\u{1}b"])
    func refusesValuesThatDoNotDecode(raw: String) {
        #expect(HeaderValueEncoding.decode(raw) == nil)
    }

    @Test func namesAreCaseInsensitive() throws {
        let headers = MCPRequestHeaders([
            ("mcp-method", "tools/call"), ("MCP-NAME", "=?base64?w6l0w6k=?="), ("mCp-PaRaM-Region", "eu"),
            ("mcp-session-id", "s1"), ("AUTHORIZATION", "Bearer t"), ("mcp-protocol-version", "2026-07-28"),
        ])
        #expect(headers.method == "tools/call")
        #expect(try headers.name() == "été")
        #expect(try headers.parameter("REGION") == "eu")
        #expect(headers.sessionID == "s1")
        #expect(headers.authorization == "Bearer t")
        #expect(headers.protocolVersion == "2026-07-28")
        #expect(headers.duplicated.isEmpty)
    }

    /// Names match ignoring ASCII case only: a byte that merely shares the low bits of a letter or a dash (CR for
    /// `-`, `@` for `` ` ``) is a different name; a field that arrives twice is noted under its lowercased name.
    @Test func aListIsSearchedIgnoringASCIICase() {
        #expect(ASCIICase.contains("application/json, TEXT/event-stream", "text/event-stream"))
        #expect(ASCIICase.contains("text/event-stream", "text/event-stream"))
        #expect(!ASCIICase.contains("application/json", "text/event-stream"))
        #expect(!ASCIICase.contains("text/event-strea", "text/event-stream"))
        #expect(!ASCIICase.contains("", "text/event-stream"))
    }

    @Test func nameMatchingIgnoresASCIICaseAndNothingElse() {
        #expect(ASCIICase.equals("MCP-Method", "mcp-method"))
        #expect(!ASCIICase.equals("mcp\rmethod", "mcp-method"))
        #expect(!ASCIICase.equals("mcp-methods", "mcp-method"))
        #expect(ASCIICase.hasPrefix("MCP-PARAM-x", "mcp-param-"))
        #expect(!ASCIICase.hasPrefix("mcp-par", "mcp-param-"))
        #expect(ASCIICase.equals("Connection".utf8, "connection"))
        let twice = MCPRequestHeaders([
            ("Mcp-Name", "a"), ("MCP-NAME", "b"), ("Mcp-Param-X", "1"), ("mcp-param-x", "2"),
        ])
        #expect(twice.duplicated == ["mcp-name", "mcp-param-x"])
    }

    @Test func aNameThatDoesNotDecodeIs400() {
        let request = Fixture.toolCall("read_file", mcpName: "=?base64?***?=")
        let verdict = Fixture.authorizer.authorize(request, credential: Fixture.credential(["files:read"]))
        #expect(verdict.status == 400)
        #expect(errorCode(verdict.body) == -32020)
    }

    @Test func aBase64NameThatMatchesTheBodyIsAccepted() {
        let request = Fixture.toolCall("read_file", mcpName: "=?base64?cmVhZF9maWxl?=")
        let verdict = Fixture.authorizer.authorize(request, credential: Fixture.credential(["files:read"]))
        #expect(verdict.outcome == .allow)
    }

    @Test func aRepeatedHeaderIsRefused() {
        let request = Fixture.toolCall("read_file", extra: [("mcp-method", "tools/list")])
        let verdict = Fixture.authorizer.authorize(request, credential: Fixture.credential(["files:read"]))
        #expect(verdict.status == 400)
        #expect(verdict.rejection?.message.contains("mcp-method") == true)
    }
}
