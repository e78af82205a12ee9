@_spi(ScopeGatePackage) import ScopeGate

/// Renders `check --batch` decision records (docs/records.md) straight from a ``Decision`` and a ``BatchGrant``
/// into the output buffer: the bytes that ``CompiledPolicy/record(for:call:grant:line:id:style:policyVersion:)``
/// and ``DecisionRecord/write(to:)`` give, without the intermediate record, its string arrays or the challenge
/// `String`. Scopes stay ids until their names are written; the challenge's fixed parts are escaped once.
/// `BatchReaderTests` checks the bytes against the ``Grant`` and ``DecisionRecord`` path.
///
/// ```swift
/// var writer = BatchRecordWriter(policy: policy)
/// writer.write(
///     decision, call: call, closure: grant.closure, recognized: grant.recognized, ignoredJSON: grant.ignoredJSON,
///     line: 3, id: "\"r3\"", to: &output)
/// ```
struct BatchRecordWriter {
    let policy: CompiledPolicy
    /// Every scope name JSON-escaped (without quotes), concatenated in id order: name `i` is
    /// `nameJSON[nameStarts[i] ..< nameStarts[i + 1]]`. Escaped once per session, then copied into each record.
    let nameJSON: [UInt8]
    let nameStarts: [Int]
    /// The names' byte-wise ranks (``ScopeTable/nameRanks``): sorting and comparing scopes by name.
    let ranks: [UInt32]
    /// The challenge's text before and after its scope list, JSON-escaped (without the string's quotes).
    let challengeHead: [UInt8]
    let challengeTail: [UInt8]
    /// The reasons of nearly every record, `allowed` and `missing_scope`, as JSON strings (quotes included), made
    /// once from ``Decision/Reason``; any other reason is escaped per record.
    let allowedReason: [UInt8]
    let missingScopeReason: [UInt8]
    /// Scratch: the record's `clause`, then the challenge's scope list, as ids.
    var ids: [ScopeID] = []
    var challengeIDs: [ScopeID] = []
    /// The record is written here through a ``ByteCursor``, then appended to the output in one copy; it grows when
    /// a record does not fit.
    var record = ByteScratch(count: 4096)
    /// JSON strings written on the way (a reason other than `allowed` and `missing_scope`, then the notes),
    /// concatenated: string `i` ends at `escapedEnds[i]`.
    var escaped: [UInt8] = []
    var escapedEnds: [Int] = []
    /// The last rule file and its escaped bytes: a policy's rules mostly share one file.
    var lastFile = ""
    var lastFileJSON: [UInt8] = []

    init(policy: CompiledPolicy) {
        self.policy = policy
        var json: [UInt8] = []
        var starts = [0]
        for var name in policy.scopes.allNames {
            name.withUTF8 { JSONText.writeEscaped($0, to: &json) }
            starts.append(json.count)
        }
        nameJSON = json
        nameStarts = starts
        ranks = policy.scopes.nameRanks
        challengeHead = Self.escaped(policy.challengeHead)
        challengeTail = Self.escaped(policy.challengeTail)
        var reason: [UInt8] = []
        JSONText.writeString(Decision.Reason.allowed.rawValue, to: &reason)
        allowedReason = reason
        reason.removeAll()
        JSONText.writeString(Decision.Reason.missingScope.rawValue, to: &reason)
        missingScopeReason = reason
        ids.reserveCapacity(32)
        challengeIDs.reserveCapacity(32)
    }

    static func escaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var text = text
        text.withUTF8 { JSONText.writeEscaped($0, to: &out) }
        return out
    }

    /// Appends the record of `decision` (no newline), for a line whose grant is `closure`, its recognized scopes
    /// in the order sent and its rendered `ignored` entries (a ``BatchGrant``'s parts).
    mutating func write(
        _ decision: Decision, call: Call, closure: ScopeSet, recognized: [ScopeID], ignoredJSON: [UInt8], line: Int,
        id: String?, to out: inout [UInt8]
    ) {
        // `clause`: the satisfied clause of every part, plus the completion on a denial; each scope once, by name.
        ids.removeAll(keepingCapacity: true)
        let missingScope = decision.reason == .missingScope
        if decision.allowed || missingScope {
            policy.satisfiedClauseIDs(call, closure: closure, into: &ids)
            ids += decision.missing
            if ids.count > 1 { ids.sort { ranks[Int($0)] < ranks[Int($1)] } }
        }
        // The challenge's scopes: the recognized strings as sent, then the missing scopes, each once. A recognized
        // string is its scope's name byte for byte, and equal names have equal ranks.
        challengeIDs.removeAll(keepingCapacity: true)
        if missingScope {
            for id in recognized where !challengeIDs.contains(where: { ranks[Int($0)] == ranks[Int(id)] }) {
                challengeIDs.append(id)
            }
            for id in decision.missing where !challengeIDs.contains(where: { ranks[Int($0)] == ranks[Int(id)] }) {
                challengeIDs.append(id)
            }
        }
        escaped.removeAll(keepingCapacity: true)
        escapedEnds.removeAll(keepingCapacity: true)
        if let rule = decision.rule, rule.file != lastFile {
            lastFile = rule.file
            lastFileJSON = Self.escaped(rule.file)
        }
        if decision.reason != .allowed && !missingScope {
            JSONText.writeString(decision.reason.rawValue, to: &escaped)
            escapedEnds.append(escaped.count)
        }
        for note in decision.notes {
            JSONText.writeString(note, to: &escaped)
            escapedEnds.append(escaped.count)
        }
        while true {
            var cursor = ByteCursor(record.buffer)
            render(decision, ignoredJSON: ignoredJSON, line: line, id: id, missingScope: missingScope, to: &cursor)
            if !cursor.overflowed {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: record.buffer[0..<cursor.count]))
                return
            }
            record = ByteScratch(count: record.buffer.count * 2)
        }
    }

    /// Writes the record from the ids and text ``write(_:call:closure:recognized:ignoredJSON:line:id:to:)`` prepared.
    private func render(
        _ decision: Decision, ignoredJSON: [UInt8], line: Int, id: String?, missingScope: Bool,
        to out: inout ByteCursor
    ) {
        out.put("{\"v\":1,\"line\":")
        out.putDecimal(line)
        if var id {
            out.put(",\"id\":")
            id.withUTF8 { out.put($0) }
        }
        out.put(decision.allowed ? ",\"allowed\":true,\"reason\":" : ",\"allowed\":false,\"reason\":")
        var text = 0  // the next string of `escaped`
        if decision.reason == .allowed {
            out.put(allowedReason)
        } else if missingScope {
            out.put(missingScopeReason)
        } else {
            putEscaped(text, to: &out)
            text += 1
        }
        out.put(",\"rule\":")
        if let rule = decision.rule {
            out.put(UInt8(ascii: "\""))
            out.put(lastFileJSON)
            out.put(UInt8(ascii: ":"))
            out.putDecimal(rule.line)
            out.put(UInt8(ascii: ":"))
            out.putDecimal(rule.column)
            out.put(UInt8(ascii: "\""))
        } else {
            out.put("null")
        }
        out.put(",\"clause\":[")
        var previous: UInt32?
        for id in ids where ranks[Int(id)] != previous {
            if previous != nil { out.put(UInt8(ascii: ",")) }
            previous = ranks[Int(id)]
            putName(id, to: &out)
        }
        out.put("],\"missing\":[")
        for (i, id) in decision.missing.enumerated() {
            if i > 0 { out.put(UInt8(ascii: ",")) }
            putName(id, to: &out)
        }
        out.put("],\"challenge\":")
        if missingScope {
            out.put(UInt8(ascii: "\""))
            out.put(challengeHead)
            for (i, id) in challengeIDs.enumerated() {
                if i > 0 { out.put(UInt8(ascii: " ")) }
                putEscapedName(id, to: &out)
            }
            out.put(challengeTail)
            out.put(UInt8(ascii: "\""))
        } else {
            out.put("null")
        }
        out.put(",\"ignored\":[")
        out.put(ignoredJSON)
        out.put(UInt8(ascii: "]"))
        if !decision.notes.isEmpty {
            out.put(",\"notes\":[")
            for i in decision.notes.indices {
                if i > 0 { out.put(UInt8(ascii: ",")) }
                putEscaped(text, to: &out)
                text += 1
            }
            out.put(UInt8(ascii: "]"))
        }
        out.put(UInt8(ascii: "}"))
    }

    /// Puts string `i` of `escaped`.
    private func putEscaped(_ i: Int, to out: inout ByteCursor) {
        guard i < escapedEnds.count else { return }
        let start = i == 0 ? 0 : escapedEnds[i - 1]
        escaped.withUnsafeBufferPointer { out.put(UnsafeBufferPointer(rebasing: $0[start..<escapedEnds[i]])) }
    }

    /// Puts the name as a JSON string.
    private func putName(_ id: ScopeID, to out: inout ByteCursor) {
        out.put(UInt8(ascii: "\""))
        putEscapedName(id, to: &out)
        out.put(UInt8(ascii: "\""))
    }

    /// Puts the name's escaped text (the inside of its JSON string).
    @inline(__always)
    private func putEscapedName(_ id: ScopeID, to out: inout ByteCursor) {
        let start = nameStarts[Int(id)]
        let end = nameStarts[Int(id) + 1]
        nameJSON.withUnsafeBufferPointer { out.put(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }
}
