import Foundation
import ScopeGate

extension BatchProcessor {
    /// The `check --batch` answer through ``JSONParser`` and ``JSONValue`` dictionaries: the reference for
    /// ``process(_:lineNumber:output:audit:)`` (which falls back to it) and for its differential tests.
    mutating func processWithJSONParser(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> (
        output: String, audit: String?, ok: Bool
    ) {
        let parsed: JSONValue
        do {
            parsed = try parser.parse(line)
        } catch {
            let id = Self.leadingID(line, parser: parser)
            return (Self.errorLine(lineNumber, id: id, "invalid_json", "\(error)"), nil, false)
        }
        guard case .object(let request) = parsed else {
            return (
                Self.errorLine(lineNumber, id: nil, "invalid_request", "a request line is a JSON object"), nil, false
            )
        }
        let id: String? = request["id"].flatMap { v in
            switch v {
            case .string, .number: return v.jsonText
            default: return nil
            }
        }
        let known: Set<String> = ["id", "method", "tool", "name", "uri", "arguments", "scopes", "client_id"]
        // With several unknown fields, name the smallest (by UTF-8 bytes): a dictionary's iteration order differs
        // between instances, so "the first one" would make the answer depend on the run (found by Fuzz/jsonl).
        if let unknown = request.keys.filter({ !known.contains($0) })
            .min(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        {
            return (Self.errorLine(lineNumber, id: id, "invalid_request", "unknown field \"\(unknown)\""), nil, false)
        }
        var method = "tools/call"
        if let m = request["method"] {
            guard case .string(let s) = m else {
                return (
                    Self.errorLine(lineNumber, id: id, "invalid_request", "\"method\" must be a string"), nil, false
                )
            }
            method = s
        }
        var name: String?
        for key in ["tool", "name", "uri"] {
            if let v = request[key] {
                guard case .string(let s) = v else {
                    return (
                        Self.errorLine(lineNumber, id: id, "invalid_request", "\"\(key)\" must be a string"), nil, false
                    )
                }
                name = s
            }
        }
        if name == nil, ["tools/call", "resources/read", "prompts/get"].contains(method) {
            return (Self.errorLine(lineNumber, id: id, "invalid_request", "missing \"tool\""), nil, false)
        }
        var arguments: [String: JSONValue] = [:]
        if let a = request["arguments"] {
            switch a {
            case .object(let o): arguments = o
            case .null: break
            default:
                return (
                    Self.errorLine(lineNumber, id: id, "invalid_request", "\"arguments\" must be an object"), nil, false
                )
            }
        }
        // The cache key tells a string from a list and a list's items apart: `s` and the text, or `l` and the list
        // as JSON (joining items with a separator would give `[]` and `[""]` one key).
        var scopeText = ""
        var scopeKey = ""
        var scopeList: [String]?
        switch request["scopes"] {
        case .string(let s)?:
            scopeText = s
            scopeKey = "s" + s
        case .array(let items)?:
            var list: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    return (
                        Self.errorLine(lineNumber, id: id, "invalid_request", "\"scopes\" entries must be strings"),
                        nil, false
                    )
                }
                list.append(s)
            }
            scopeList = list
            scopeKey = "l" + JSONText.array(list)
        case nil: return (Self.errorLine(lineNumber, id: id, "invalid_request", "missing \"scopes\""), nil, false)
        default:
            return (
                Self.errorLine(
                    lineNumber, id: id, "invalid_request", "\"scopes\" must be a string or an array of strings"),
                nil, false
            )
        }
        let grant: Grant
        if let cached = grantCache[scopeKey] {
            grant = cached
        } else {
            grant = scopeList.map { policy.grant($0) } ?? policy.grant(scopeString: scopeText)
            if grantCache.count >= 4096 { grantCache.removeAll(keepingCapacity: true) }
            grantCache[scopeKey] = grant
        }
        let call = Call(method: method, name: name ?? "", arguments: arguments)
        let decision = policy.decide(call, grant: grant)
        let record = policy.record(for: decision, call: call, grant: grant, line: lineNumber, id: id)
        var auditLine: String?
        if audit {
            var clientID: String?
            if case .string(let c)? = request["client_id"] { clientID = c }
            auditLine =
                AuditEvent(
                    decision: decision, record: record, call: call, grant: grant, policy: policy,
                    policyVersion: policyVersion, time: Date(), clientID: clientID
                ).json
        }
        return (record.json, auditLine, true)
    }

    /// The `id` of a line that is not valid JSON, when it comes before the fault: the members of the top-level
    /// object are read in order, up to the first that does not parse. A string or number, as JSON text.
    static func leadingID(_ line: UnsafeBufferPointer<UInt8>, parser: JSONParser) -> String? {
        var i = 0
        func skipSpace() {
            while i < line.count, line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0A || line[i] == 0x0D { i += 1 }
        }
        skipSpace()
        guard i < line.count, line[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            skipSpace()
            guard let key = try? parser.parseValue(in: line, at: i, depth: 1), case .string(let name) = key.value
            else { return nil }
            i = key.end
            skipSpace()
            guard i < line.count, line[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            guard let value = try? parser.parseValue(in: line, at: i, depth: 1) else { return nil }
            if name == "id" {
                switch value.value {
                case .string, .number: return value.value.jsonText
                default: return nil
                }
            }
            i = value.end
            skipSpace()
            guard i < line.count, line[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }
}
