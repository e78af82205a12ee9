import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

@Suite struct ListFilterTests {
    static let now = Date(timeIntervalSince1970: 1_999_999_000)  // 1,000 s before the token expires

    func filter(_ scopes: [String], revision: ProtocolRevision? = .july2026, requests: [JSONValue: ListMethod])
        -> ListFilter
    {
        ListFilter(
            policy: Fixture.policy, grant: Fixture.policy.grant(scopes), revision: revision,
            tokenExpiresAt: Fixture.expiry, now: Self.now, requests: requests)
    }

    static let toolsResult =
        #"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"write_file"},{"name":"read_file","inputSchema":{"type":"object"}},{"name":"secret"},{"name":"file_manager"},{"nameless":true},{"name":"export_report"}],"ttlMs":3600000,"cacheScope":"public"}}"#

    func names(_ bytes: [UInt8], member: String = "tools") -> [String] {
        guard case .object(let o)? = json(bytes), case .object(let r)? = o["result"],
            case .array(let items)? = r[member]
        else { return [] }
        return items.compactMap {
            if case .object(let i) = $0, case .string(let n)? = i["name"] ?? i["uri"] { n } else { nil }
        }
    }

    func result(_ bytes: [UInt8]) -> [String: JSONValue] {
        guard case .object(let o)? = json(bytes), case .object(let r)? = o["result"] else { return [:] }
        return r
    }

    @Test func keepsWhatTheGrantMayCallInTheServersOrder() {
        let out = filter(["files:read"], requests: [.number(1): .tools]).filterBody(Array(Self.toolsResult.utf8))
        #expect(names(out) == ["read_file", "file_manager"])
        let wider = filter(["files:write", "reports:read", "reports:export"], requests: [.number(1): .tools])
            .filterBody(Array(Self.toolsResult.utf8))
        #expect(names(wider) == ["write_file", "read_file", "file_manager", "export_report"])
    }

    @Test func aStatelessListIsPrivateAndDoesNotOutliveTheToken() {
        let out = filter(["files:read"], requests: [.number(1): .tools]).filterBody(Array(Self.toolsResult.utf8))
        #expect(result(out)["cacheScope"] == .string("private"))
        #expect(result(out)["ttlMs"] == .number(1_000_000))
        let short = #"{"jsonrpc":"2.0","id":1,"result":{"tools":[],"ttlMs":5000}}"#
        #expect(
            result(filter([], requests: [.number(1): .tools]).filterBody(Array(short.utf8)))["ttlMs"] == .number(5000))
    }

    @Test func olderRevisionsGetNoCacheFields() {
        let out = filter(["files:read"], revision: .november2025, requests: [.number(1): .tools])
            .filterBody(Array(Self.toolsResult.utf8))
        #expect(names(out) == ["read_file", "file_manager"])
        #expect(result(out)["cacheScope"] == .string("public"))
        #expect(result(out)["ttlMs"] == .number(3_600_000))
    }

    @Test func promptsResourcesAndTemplates() {
        let prompts = #"{"jsonrpc":"2.0","id":"p","result":{"prompts":[{"name":"summarize"},{"name":"other"}]}}"#
        #expect(
            names(
                filter(["reports:read"], requests: [.string("p"): .prompts]).filterBody(Array(prompts.utf8)),
                member: "prompts") == ["summarize"])
        let resources =
            #"{"jsonrpc":"2.0","id":2,"result":{"resources":[{"uri":"file:///secret/a"},{"uri":"file:///public/a"}]}}"#
        #expect(
            names(
                filter(["files:read"], requests: [.number(2): .resources]).filterBody(Array(resources.utf8)),
                member: "resources") == ["file:///public/a"])
        let templates =
            #"{"jsonrpc":"2.0","id":3,"result":{"resourceTemplates":[{"uriTemplate":"file:///public/{name}"},{"uriTemplate":"db://{table}"}]}}"#
        let out = filter(["files:read"], requests: [.number(3): .resourceTemplates]).filterBody(Array(templates.utf8))
        guard case .array(let kept)? = result(out)["resourceTemplates"] else {
            Issue.record("no templates")
            return
        }
        #expect(kept == [.object(["uriTemplate": .string("file:///public/{name}")])])
    }

    @Test func otherResponsesPassUntouched() {
        let other = Array(#"{"jsonrpc":"2.0", "id":5, "result":{"tools":[{"name":"secret"}]}}"#.utf8)
        #expect(filter([], requests: [.number(1): .tools]).filterBody(other) == other)
        #expect(filter([], requests: [:]).filterBody(Array("not json".utf8)) == Array("not json".utf8))
    }

    @Test func anUnreadableBodyIsRefusedWhileAListIsExpected() {
        let out = filter([], requests: [.number(1): .tools]).filterBody(
            Array(#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret"}"#.utf8))
        #expect(errorCode(out) == -32603)
    }

    @Test func batchesAreFilteredMessageByMessage() {
        let batch = "[" + Self.toolsResult + #",{"jsonrpc":"2.0","id":2,"result":{}}]"#
        let out = filter(["files:read"], requests: [.number(1): .tools]).filterBody(Array(batch.utf8))
        guard case .array(let items)? = json(out), items.count == 2 else {
            Issue.record("not a batch of two")
            return
        }
        #expect(names(Array(items[0].jsonText.utf8)) == ["read_file", "file_manager"])
    }
}

@Suite struct SSEFilterTests {
    static let progress =
        "event: message\r\nid: 7\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\r\n\r\n"
    static let list = "id: 8\ndata: " + ListFilterTests.toolsResult + "\n\n"
    static let multiLine =
        "data: {\"jsonrpc\":\"2.0\",\ndata: \"id\":1,\"result\":{\"tools\":[{\"name\":\"secret\"}]}}\n\n"
    static let stream = ": keep-alive\n\n" + progress + "\r" + list + "retry: 100\n\n" + progress

    func filter() -> ListFilter {
        ListFilter(
            policy: Fixture.policy, grant: Fixture.policy.grant(["files:read"]), revision: .july2026,
            tokenExpiresAt: Fixture.expiry, now: ListFilterTests.now, requests: [.number(1): .tools])
    }

    func run(_ bytes: [UInt8], cuts: [Int]) -> [UInt8] {
        var sse = SSEListFilter(filter: filter())
        var out: [UInt8] = []
        var start = 0
        for cut in cuts.sorted() + [bytes.count] where cut >= start {
            out += sse.feed(bytes[start..<cut])
            start = cut
        }
        return out + sse.finish()
    }

    @Test func otherEventsPassByteForByteAndTheListIsFiltered() {
        let out = String(decoding: run(Array(Self.stream.utf8), cuts: []), as: UTF8.self)
        #expect(out.hasPrefix(": keep-alive\n\n" + Self.progress + "\r"))
        #expect(out.hasSuffix("retry: 100\n\n" + Self.progress))
        let expected = filter().filterBody(Array(ListFilterTests.toolsResult.utf8))
        #expect(out.contains("id: 8\ndata: " + String(decoding: expected, as: UTF8.self) + "\n\n"))
        #expect(!out.contains("secret"))
    }

    @Test func randomSplitPointsGiveTheSameBytesAsTheWholeStream() {
        let bytes = Array((Self.stream + Self.multiLine + "data: {\"jsonrpc\":\"2.0\"").utf8)
        let whole = run(bytes, cuts: [])
        var generator = SplitMix64(seed: 0x5EED)  // the same cuts on every run
        for _ in 0..<300 {
            let count = Int.random(in: 1...12, using: &generator)
            let cuts = (0..<count).map { _ in Int.random(in: 0...bytes.count, using: &generator) }
            #expect(run(bytes, cuts: cuts) == whole)
        }
        #expect(run(bytes, cuts: Array(0...bytes.count)) == whole)
        #expect(!String(decoding: whole, as: UTF8.self).contains("secret"))
    }

    @Test func aProgressEventIsReleasedAtItsBoundary() {
        var sse = SSEListFilter(filter: filter())
        let bytes = Array(Self.progress.utf8)
        #expect(sse.feed(bytes.dropLast(2)).isEmpty)
        #expect(sse.feed(bytes.suffix(2)) == bytes)
    }

    @Test func anEventTooLargeToReadIsRefusedWhileAListIsExpected() {
        let bytes = Array(Self.list.utf8)
        var sse = SSEListFilter(filter: filter(), maxEventBytes: 64)
        let text = String(decoding: sse.feed(bytes) + sse.finish(), as: UTF8.self)
        #expect(!text.contains("secret"))
        #expect(text.contains("-32603"))
        let idle = ListFilter(
            policy: Fixture.policy, grant: Fixture.policy.grant([]), revision: .july2026, tokenExpiresAt: nil,
            now: ListFilterTests.now, requests: [:])
        var open = SSEListFilter(filter: idle, maxEventBytes: 64)
        #expect(open.feed(bytes) + open.finish() == bytes)
    }

    /// A stream that ends inside a list result (no blank line after it) is not passed on unfiltered: the
    /// event-stream grammar discards an unfinished event, but a lenient client would read it. Found by the
    /// `response` fuzz target.
    @Test func aListResultLeftUnfinishedAtTheEndIsFiltered() {
        let unfinished = "data: " + ListFilterTests.toolsResult
        for cut in [0, 10, unfinished.utf8.count] {
            let out = String(decoding: run(Array(unfinished.utf8), cuts: [cut]), as: UTF8.self)
            #expect(!out.contains("secret"))
            #expect(!out.contains("write_file"))
            #expect(out.contains("read_file"))
        }
        // Anything else unfinished at the end still passes byte for byte.
        #expect(run(Array("data: {\"jsonrpc\":\"2.0\"".utf8), cuts: [3]) == Array("data: {\"jsonrpc\":\"2.0\"".utf8))
    }

    @Test func aListResultUnderAnotherEventTypeIsFilteredToo() {
        // Found by the `response` fuzz target: an event whose `event:` line is not `message` was passed on as is.
        for type in ["messacret", "update", ""] {
            let event = "event: \(type)\ndata: " + ListFilterTests.toolsResult + "\n\n"
            let out = String(decoding: run(Array(event.utf8), cuts: [7]), as: UTF8.self)
            #expect(!out.contains("secret"))
            #expect(!out.contains("write_file"))
            #expect(out.contains("read_file"))
        }
        // Unreadable data that may be a list result, under any type, is refused.
        let mangled =
            "event: other\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"secret\"},{\"nameject\"}}]}}\n\n"
        #expect(!String(decoding: run(Array(mangled.utf8), cuts: [11]), as: UTF8.self).contains("secret"))
    }

    @Test func theSplitterKeepsEveryByte() {
        var splitter = SSEEventSplitter()
        let input = Array("a: 1\r\n\r\n\n\rb: 2\r\rtail".utf8)
        var pieces = splitter.feed(input)
        pieces += splitter.finish()
        var joined: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .event(let b), .raw(let b), .overflow(let b, _): joined += b
            }
        }
        #expect(joined == input)
        #expect(pieces.filter { if case .event = $0 { true } else { false } }.count == 2)
    }
}
