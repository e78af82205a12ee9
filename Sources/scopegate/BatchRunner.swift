import Foundation
import ScopeGate

/// `check --batch`: streams JSON Lines in constant memory, answering each line in order.
struct BatchRunner {
    let policy: CompiledPolicy
    let input: String
    let logPath: String?

    /// Returns false when some line was bad (the command then exits 2).
    func run() throws -> Bool {
        let handle: FileHandle
        if input == "-" {
            handle = .standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: input) else {
                throw Output.fail("cannot read `\(input)`", help: "check the path, or use `-` for standard input")
            }
            handle = h
        }
        var logHandle: FileHandle?
        if let logPath {
            if !FileManager.default.fileExists(atPath: logPath) {
                FileManager.default.createFile(atPath: logPath, contents: nil)
            }
            guard let h = FileHandle(forWritingAtPath: logPath) else {
                throw Output.fail("cannot write the audit log `\(logPath)`")
            }
            h.seekToEndOfFile()
            logHandle = h
        }
        var processor = BatchProcessor(policy: policy, policyVersion: "\(policy.model.contentHash)-1", audit: logHandle != nil)
        var out = Data()
        var logOut = Data()
        var pending = Data()
        var lineNumber = 0
        var allGood = true
        func flush(force: Bool) {
            if force || out.count > 1 << 16 { FileHandle.standardOutput.write(out); out.removeAll(keepingCapacity: true) }
            if let logHandle, force || logOut.count > 1 << 16 { logHandle.write(logOut); logOut.removeAll(keepingCapacity: true) }
        }
        func handleLine(_ bytes: Data) {
            lineNumber += 1
            var line = bytes
            if line.last == 0x0D { line.removeLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            let result = processor.process(line, lineNumber: lineNumber)
            if !result.ok { allGood = false }
            out.append(contentsOf: result.output.utf8)
            out.append(0x0A)
            if let audit = result.audit {
                logOut.append(contentsOf: audit.utf8)
                logOut.append(0x0A)
            }
            flush(force: false)
        }
        while true {
            let chunk = handle.readData(ofLength: 1 << 16)
            if chunk.isEmpty { break }
            pending.append(chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                handleLine(pending[start..<newline])
                start = pending.index(after: newline)
            }
            pending.removeSubrange(pending.startIndex..<start)
            if pending.count > processor.maxLineBytes {
                // An over-long line: answer it once, then skip to its end.
                lineNumber += 1
                allGood = false
                out.append(contentsOf: BatchProcessor.errorLine(lineNumber, "line_too_long",
                    "line is longer than \(processor.maxLineBytes) bytes").utf8)
                out.append(0x0A)
                var skipped = Data()
                while true {
                    let more = handle.readData(ofLength: 1 << 16)
                    if more.isEmpty { break }
                    if let nl = more.firstIndex(of: 0x0A) { skipped = more[more.index(after: nl)...]; break }
                }
                pending = skipped
                lineNumber -= 0
            }
        }
        if !pending.isEmpty { handleLine(pending) }
        flush(force: true)
        return allGood
    }
}

/// Decides one batch request line. Grants are cached by their scope text (tokens repeat across lines).
struct BatchProcessor {
    let policy: CompiledPolicy
    let policyVersion: String
    let audit: Bool
    let maxLineBytes = 1 << 20
    var grantCache: [String: Grant] = [:]
    let parser = JSONParser(maxDepth: 32)

    init(policy: CompiledPolicy, policyVersion: String, audit: Bool) {
        self.policy = policy
        self.policyVersion = policyVersion
        self.audit = audit
    }

    static func errorLine(_ line: Int, _ code: String, _ message: String) -> String {
        "{\"v\":1,\"line\":\(line),\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}"
    }

    mutating func process(_ line: Data, lineNumber: Int) -> (output: String, audit: String?, ok: Bool) {
        let parsed: JSONValue
        do {
            parsed = try line.withUnsafeBytes { raw throws(JSONParser.Failure) in
                try parser.parse(raw.bindMemory(to: UInt8.self))
            }
        } catch {
            return (Self.errorLine(lineNumber, "invalid_json", "\(error)"), nil, false)
        }
        guard case .object(let request) = parsed else {
            return (Self.errorLine(lineNumber, "invalid_request", "a request line is a JSON object"), nil, false)
        }
        let known: Set<String> = ["id", "method", "tool", "name", "uri", "arguments", "scopes", "client_id"]
        if let unknown = request.keys.first(where: { !known.contains($0) }) {
            return (Self.errorLine(lineNumber, "invalid_request", "unknown field \"\(unknown)\""), nil, false)
        }
        var method = "tools/call"
        if let m = request["method"] {
            guard case .string(let s) = m else { return (Self.errorLine(lineNumber, "invalid_request", "\"method\" must be a string"), nil, false) }
            method = s
        }
        var name: String?
        for key in ["tool", "name", "uri"] {
            if let v = request[key] {
                guard case .string(let s) = v else { return (Self.errorLine(lineNumber, "invalid_request", "\"\(key)\" must be a string"), nil, false) }
                name = s
            }
        }
        if name == nil, ["tools/call", "resources/read", "prompts/get"].contains(method) {
            return (Self.errorLine(lineNumber, "invalid_request", "missing \"tool\""), nil, false)
        }
        var arguments: [String: JSONValue] = [:]
        if let a = request["arguments"] {
            switch a {
            case .object(let o): arguments = o
            case .null: break
            default: return (Self.errorLine(lineNumber, "invalid_request", "\"arguments\" must be an object"), nil, false)
            }
        }
        var scopeKey = ""
        var scopeList: [String]?
        switch request["scopes"] {
        case .string(let s)?: scopeKey = s
        case .array(let items)?:
            var list: [String] = []
            for item in items {
                guard case .string(let s) = item else { return (Self.errorLine(lineNumber, "invalid_request", "\"scopes\" entries must be strings"), nil, false) }
                list.append(s)
            }
            scopeList = list
            scopeKey = "\u{1}" + list.joined(separator: "\u{0}")
        case nil: return (Self.errorLine(lineNumber, "invalid_request", "missing \"scopes\""), nil, false)
        default: return (Self.errorLine(lineNumber, "invalid_request", "\"scopes\" must be a string or an array of strings"), nil, false)
        }
        let grant: Grant
        if let cached = grantCache[scopeKey] {
            grant = cached
        } else {
            grant = scopeList.map { policy.grant($0) } ?? policy.grant(scopeString: scopeKey)
            if grantCache.count >= 4096 { grantCache.removeAll(keepingCapacity: true) }
            grantCache[scopeKey] = grant
        }
        let id: String? = request["id"].flatMap { v in
            switch v {
            case .string, .number: return v.jsonText
            default: return nil
            }
        }
        let call = Call(method: method, name: name ?? "", arguments: arguments)
        let decision = policy.decide(call, grant: grant)
        let record = policy.record(for: decision, call: call, grant: grant, line: lineNumber, id: id)
        var auditLine: String?
        if audit {
            var clientID: String?
            if case .string(let c)? = request["client_id"] { clientID = c }
            auditLine = AuditEvent(decision: decision, record: record, call: call, grant: grant, policy: policy,
                                   policyVersion: policyVersion, time: Date(), clientID: clientID).json
        }
        return (record.json, auditLine, true)
    }
}
