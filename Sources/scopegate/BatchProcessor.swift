import Foundation
import ScopeGate

/// Decides one batch request line. Three paths give the same bytes: the common line (read by
/// ``RequestLineReader``) is answered from its bytes (``BatchGrant``, ``BatchRecordWriter``); with an audit log, or
/// scopes the byte path does not take, through a ``Grant`` (cached by its scope text: tokens repeat across lines)
/// and a ``DecisionRecord``; anything else through ``processWithJSONParser(_:lineNumber:)``, which also produces
/// every error record.
struct BatchProcessor {
    let policy: CompiledPolicy
    let policyVersion: String
    let audit: Bool
    let maxLineBytes = 1 << 20
    var grantCache: [String: Grant] = [:]
    /// Grants by the raw bytes of a line's `scopes` value (quotes or brackets included, so a string and a list
    /// never share a key).
    var grantsByBytes = BytesCache<Grant>(limit: 4096)
    let parser = JSONParser(maxDepth: 32)
    /// The fields of the current line, kept between lines so their buffers are reused.
    var fields = RequestFields()
    /// The current line's grant and the record renderer, with buffers reused from line to line.
    var lineGrant: BatchGrant
    var writer: BatchRecordWriter

    init(policy: CompiledPolicy, policyVersion: String, audit: Bool) {
        self.policy = policy
        self.policyVersion = policyVersion
        self.audit = audit
        lineGrant = BatchGrant(policy: policy)
        writer = BatchRecordWriter(policy: policy)
    }

    /// The error record of a bad line (docs/records.md): `id` is the request's `id` as JSON text, when the line
    /// was read far enough to find it.
    static func errorLine(_ line: Int, id: String?, _ code: String, _ message: String) -> String {
        let idField = id.map { ",\"id\":\($0)" } ?? ""
        return
            "{\"v\":1,\"line\":\(line)\(idField),\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}"
    }

    /// Answers one line (no newline, no trailing CR), appending the Decision or error record and, with `audit`,
    /// the audit event to the buffers, each with a newline; returns false for a bad line.
    mutating func process(
        _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, output: inout [UInt8], audit auditOut: inout [UInt8]
    ) -> Bool {
        fields.reset()
        // The fields and the grant are handed on as the parts each step reads, not as whole structs: a struct
        // that is a stored property of `self`, passed while another one is mutated, is copied (and each of its
        // references retained) on every line.
        guard RequestLineReader.read(line, parser: parser, into: &fields),
            case (true, let id) = Self.fastID(line, fields.id, isNumber: fields.idIsNumber, parser: parser)
        else { return processThroughParser(line, lineNumber: lineNumber, output: &output, audit: &auditOut) }
        if !audit,
            lineGrant.resolve(line, scopes: fields.scopes, isArray: fields.scopesIsArray, items: fields.scopeItems)
        {
            let call = Call(method: fields.method ?? "tools/call", name: fields.name ?? "", arguments: fields.arguments)
            let decision = policy.decide(call, closure: lineGrant.closure)
            writer.write(
                decision, call: call, closure: lineGrant.closure, recognized: lineGrant.recognized,
                ignoredJSON: lineGrant.ignoredJSON, line: lineNumber, id: id, to: &output)
            output.append(0x0A)
            return true
        }
        guard let grant = fastGrant(line, fields) else {
            return processThroughParser(line, lineNumber: lineNumber, output: &output, audit: &auditOut)
        }
        let call = Call(method: fields.method ?? "tools/call", name: fields.name ?? "", arguments: fields.arguments)
        let decision = policy.decide(call, grant: grant)
        let record = policy.record(for: decision, call: call, grant: grant, line: lineNumber, id: id)
        record.write(to: &output)
        output.append(0x0A)
        if audit {
            let event = AuditEvent(
                decision: decision, record: record, call: call, grant: grant, policy: policy,
                policyVersion: policyVersion, time: Date(), clientID: fields.clientID)
            auditOut.append(contentsOf: event.json.utf8)
            auditOut.append(0x0A)
        }
        return true
    }

    /// Answers a line through ``processWithJSONParser(_:lineNumber:)``.
    private mutating func processThroughParser(
        _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, output: inout [UInt8], audit auditOut: inout [UInt8]
    ) -> Bool {
        let result = processWithJSONParser(line, lineNumber: lineNumber)
        output.append(contentsOf: result.output.utf8)
        output.append(0x0A)
        if let audit = result.audit {
            auditOut.append(contentsOf: audit.utf8)
            auditOut.append(0x0A)
        }
        return result.ok
    }

    /// The grant for the raw `scopes` value, from the cache keyed by its bytes; nil when a scope string is not
    /// valid UTF-8 (the parser path then reports the line).
    mutating func fastGrant(_ line: UnsafeBufferPointer<UInt8>, _ fields: RequestFields) -> Grant? {
        let key = UnsafeBufferPointer(rebasing: line[fields.scopes])
        if let grant = grantsByBytes.lookup(key) { return grant }
        let grant: Grant
        if fields.scopesIsArray {
            var list: [String] = []
            for range in fields.scopeItems {
                guard let s = UTF8Text.string(UnsafeBufferPointer(rebasing: line[range])) else {
                    return nil
                }
                list.append(s)
            }
            grant = policy.grant(list)
        } else {
            let text = UnsafeBufferPointer(
                rebasing: line[(fields.scopes.lowerBound + 1)..<(fields.scopes.upperBound - 1)])
            if UTF8Text.isASCII(text) {
                // ASCII without control characters (the reader took a string without escapes): each Character is
                // one byte, so splitting the bytes at spaces gives what `grant(scopeString:)` would, without its
                // walk over Characters.
                var list: [String] = []
                var start = 0
                for i in 0...text.count where i == text.count || text[i] == 0x20 {
                    if i > start {
                        list.append(String(decoding: UnsafeBufferPointer(rebasing: text[start..<i]), as: UTF8.self))
                    }
                    start = i + 1
                }
                grant = policy.grant(list)
            } else {
                guard let s = UTF8Text.string(text) else { return nil }
                grant = policy.grant(scopeString: s)
            }
        }
        grantsByBytes.insert(key, grant)
        return grant
    }

    /// The id as the record shows it (`JSONValue.jsonText` of a string or number): a plain integer or an
    /// escape-free string is its own source text. Not `valid` (fall back) for invalid UTF-8 or a number the
    /// parser rejects.
    static func fastID(
        _ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>?, isNumber: Bool, parser: JSONParser
    ) -> (valid: Bool, text: String?) {
        guard let range else { return (true, nil) }
        let raw = UnsafeBufferPointer(rebasing: line[range])
        if !isNumber {
            guard let text = UTF8Text.string(raw) else { return (false, nil) }
            return (true, text)
        }
        // The parser reads up to 18 characters of `-?digits` exactly (Int64), and `Decimal` prints them back
        // unchanged, except `-0`.
        if raw.count <= 18, !(raw.count == 2 && raw[0] == UInt8(ascii: "-") && raw[1] == 0x30),
            !raw.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
        {
            return (true, String(decoding: raw, as: UTF8.self))
        }
        guard case .number(let d)? = try? parser.parse(raw) else { return (false, nil) }
        return (true, JSONText.number(d))
    }
}
