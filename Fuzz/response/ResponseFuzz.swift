import Foundation

@testable import ScopeGate

// Target `response`: list results on their way back from the upstream, through ListFilter (JSON bodies) and
// SSEListFilter / SSEEventSplitter (event streams), compiled from Sources/ScopeGateRequestAuthorization
// unchanged, against the fixed policy and tokens of Fuzz/gateway. Input:
//
//   byte 0     token (low 3 bits), 2026-07-28 or not (bit 3), largest SSE event 4 MiB or 96 bytes (bit 4)
//   byte 1     n, then n bytes: chunk lengths for the SSE feed (0 = one byte); the rest of the stream in
//              one chunk
//   the rest   the upstream body; requests tracked: id 1 tools/list, "p" prompts/list, 2 resources/list,
//              3 resources/templates/list
//
// Invariants (a violation aborts):
//  - JSON: the output is the input unchanged, or JSON that the core parser reads; every tracked list result in
//    it holds only entries the token may call (CompiledPolicy.decide on each entry, read here), in the
//    upstream's order (a subsequence of the input's list, compared without the requirement the filter publishes
//    on each kept tool), and every entry the token may call is kept; a body
//    that does not parse is never passed on (it may be an unread list);
//  - SSE: the output does not depend on where the stream was cut; read back event by event (a reader written
//    here, per the HTML event-stream grammar), every `message` event holding a tracked list result holds only
//    entries the token may call, in order; an event whose data does not parse but mentions `"result"` is not
//    passed on unread. The reader also dispatches an unfinished event at the end (as a lenient client would),
//    so an upstream that ends its stream inside a list result cannot get it through unfiltered.

let requests: [JSONValue: ListMethod] = [
    .number(1): .tools, .string("p"): .prompts, .number(2): .resources, .number(3): .resourceTemplates,
]

/// The list in a parsed message that the filter must have filtered: (member, items), when `message` answers
/// a tracked request with a result object holding an array at the list's member.
func trackedList(_ message: JSONValue) -> (member: String, items: [JSONValue])? {
    guard case .object(let o) = message, let id = o["id"], let list = requests[id], case .object(let r)? = o["result"]
    else { return nil }
    guard case .array(let items)? = r[list.member] else { return nil }
    return (list.member, items)
}

/// An entry without the requirement the filter publishes on each kept tool (`_meta["io.scopegate/requires"]`,
/// an empty `_meta` dropped), so that kept entries compare equal to the upstream's.
func unannotated(_ item: JSONValue) -> JSONValue {
    guard case .object(var object) = item, case .object(var meta)? = object["_meta"] else { return item }
    meta["io.scopegate/requires"] = nil
    object["_meta"] = meta.isEmpty ? nil : .object(meta)
    return .object(object)
}

/// Checks the filtered list against the input list: a subsequence, only callable entries, no callable one lost.
func checkList(_ out: [JSONValue], from input: [JSONValue]?, member: String, grant: Grant, context: String) {
    let out = out.map(unannotated)
    let input = input?.map(unannotated)
    var rest = input.map { ArraySlice($0) }
    for item in out {
        Fuzz.check(
            Gateway.mayCall(item, list: member, grant: grant) == true,
            "\(context): kept \(item.jsonText.prefix(200)) in \(member)")
        if let r = rest {
            guard let at = r.firstIndex(of: item) else {
                Fuzz.check(false, "\(context): \(member) entry out of order or invented: \(item.jsonText.prefix(200))")
                return
            }
            rest = r[(at + 1)...]
        }
    }
    if let input {
        let expected = input.filter { Gateway.mayCall($0, list: member, grant: grant) == true }
        Fuzz.check(out == expected, "\(context): \(member) lost an entry the token may call")
    }
}

/// A message parsed from output and the corresponding input message (same position in a batch).
func checkMessages(_ out: JSONValue, input: JSONValue?, grant: Grant, context: String) {
    switch out {
    case .array(let items):
        var inputs: [JSONValue]?
        if case .array(let i)? = input, i.count == items.count { inputs = i }
        for (n, item) in items.enumerated() { checkMessages(item, input: inputs?[n], grant: grant, context: context) }
    default:
        guard let (member, items) = trackedList(out) else { return }
        checkList(items, from: input.flatMap(trackedList)?.items, member: member, grant: grant, context: context)
    }
}

/// Events of an SSE stream (HTML Living Standard grammar): each is its `event` type (nil when none) and data.
/// With `lenient`, an unfinished event at the end is dispatched too (as a client that does not follow the
/// grammar there would), so a list result left unterminated by the upstream is checked as well.
func readEvents(_ bytes: [UInt8], lenient: Bool = false) -> [(type: String?, data: String?)] {
    var events: [(type: String?, data: String?)] = []
    var type: String?
    var data: [String] = []
    var i = 0
    var line: [UInt8] = []
    func dispatch() {
        if !data.isEmpty || type != nil { events.append((type, data.isEmpty ? nil : data.joined(separator: "\n"))) }
        type = nil
        data = []
    }
    func field(_ l: [UInt8]) {
        if l.isEmpty {
            dispatch()
            return
        }
        if l.first == UInt8(ascii: ":") { return }
        var name = l
        var value: [UInt8] = []
        if let colon = l.firstIndex(of: UInt8(ascii: ":")) {
            name = Array(l[..<colon])
            value = Array(l[(colon + 1)...])
            if value.first == 0x20 { value.removeFirst() }
        }
        switch String(decoding: name, as: UTF8.self) {
        case "event": type = String(decoding: value, as: UTF8.self)
        case "data": data.append(String(decoding: value, as: UTF8.self))
        default: break
        }
    }
    while i < bytes.count {
        let b = bytes[i]
        if b == 0x0D || b == 0x0A {
            field(line)
            line = []
            if b == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
        } else {
            line.append(b)
        }
        i += 1
    }
    // An unfinished event at the end is not dispatched (the grammar discards it), unless reading leniently.
    if lenient {
        if !line.isEmpty { field(line) }
        dispatch()
    }
    return events
}

@_cdecl("LLVMFuzzerTestOneInput")
public func responseFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let config = bytes[0]
    let token = Int(config & 7) % Gateway.grants.count
    let grant = Gateway.grants[token]
    let revision: ProtocolRevision = config & 8 != 0 ? .july2026 : .november2025
    let maxEvent = config & 16 != 0 ? 96 : 4 << 20
    let cuts = Int(bytes[1])
    guard bytes.count >= 2 + cuts else { return 0 }
    let lengths = bytes[2..<(2 + cuts)].map { max(1, Int($0)) }
    let body = Array(bytes[(2 + cuts)...])
    let filter = ListFilter(
        policy: Gateway.policy, grant: grant, revision: revision, tokenExpiresAt: Gateway.expiry,
        now: Date(timeIntervalSince1970: 1_900_000_000), requests: requests)

    // JSON.
    let out = filter.filterBody(body)
    let input = Gateway.parseJSON(body, maxDepth: filter.maxDepth)
    if out != body {
        guard let parsed = Gateway.parseJSON(out) else {
            Fuzz.check(false, "filtered JSON does not parse: \(String(decoding: out.prefix(300), as: UTF8.self))")
            return 0
        }
        checkMessages(parsed, input: input, grant: grant, context: "json")
    } else if let input {
        checkMessages(input, input: input, grant: grant, context: "json passed through")
    } else {
        Fuzz.check(false, "an unreadable body was passed on while list results are expected")
    }

    // SSE, whole and cut.
    var whole = SSEListFilter(filter: filter, maxEventBytes: maxEvent)
    let wholeOut = whole.feed(body) + whole.finish()
    var cut = SSEListFilter(filter: filter, maxEventBytes: maxEvent)
    var cutOut: [UInt8] = []
    var at = 0
    for length in lengths where at < body.count {
        let end = min(body.count, at + length)
        cutOut += cut.feed(body[at..<end])
        at = end
    }
    if at < body.count { cutOut += cut.feed(body[at...]) }
    cutOut += cut.finish()
    Fuzz.check(cutOut == wholeOut, "SSE output depends on where the stream was cut (\(lengths))")
    let complete = readEvents(wholeOut).count
    for (n, event) in readEvents(wholeOut, lenient: true).enumerated()
    where event.type == nil || event.type == "message" {
        guard let text = event.data else { continue }
        guard let value = Gateway.parseJSON(Array(text.utf8), maxDepth: filter.maxDepth) else {
            // No client can read it; a complete one that may be a list result is replaced, not passed on.
            Fuzz.check(
                n >= complete || !text.contains("\"result\""),
                "an unreadable event that may be a list result was passed on: \(text.prefix(300))")
            continue
        }
        checkMessages(value, input: nil, grant: grant, context: n >= complete ? "sse (unfinished at the end)" : "sse")
    }
    return 0
}
