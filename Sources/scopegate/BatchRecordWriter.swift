import ScopeGate

/// Renders `check --batch` decision records (docs/records.md) straight from a ``Decision`` and a ``BatchGrant``
/// into the output buffer: the bytes that ``CompiledPolicy/record(for:call:grant:line:id:style:policyVersion:)``
/// and ``DecisionRecord/write(to:)`` give, without the intermediate record, its string arrays or the challenge
/// `String`. Scopes stay ids until their names are written; the challenge's fixed parts are escaped once.
/// `BatchReaderTests` checks the bytes against the ``Grant`` and ``DecisionRecord`` path.
///
/// ```swift
/// var writer = BatchRecordWriter(policy: policy)
/// writer.write(decision, call: call, grant: grant, line: 3, id: "\"r3\"", to: &output)
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
    /// Scratch: the record's `clause`, then the challenge's scope list, as ids.
    var ids: [ScopeID] = []

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
        ids.reserveCapacity(32)
    }

    static func escaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var text = text
        text.withUTF8 { JSONText.writeEscaped($0, to: &out) }
        return out
    }

    /// Appends the record of `decision` (no newline).
    mutating func write(
        _ decision: Decision, call: Call, grant: BatchGrant, line: Int, id: String?, to out: inout [UInt8]
    ) {
        out.append(raw: "{\"v\":1,\"line\":")
        JSONText.writeInteger(line, to: &out)
        if let id {
            out.append(raw: ",\"id\":")
            out.append(contentsOf: id.utf8)
        }
        out.append(raw: decision.allowed ? ",\"allowed\":true,\"reason\":" : ",\"allowed\":false,\"reason\":")
        JSONText.writeString(decision.reason.rawValue, to: &out)
        out.append(raw: ",\"rule\":")
        if let rule = decision.rule {
            out.append(UInt8(ascii: "\""))
            var file = rule.file
            file.withUTF8 { JSONText.writeEscaped($0, to: &out) }
            out.append(UInt8(ascii: ":"))
            JSONText.writeInteger(rule.line, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONText.writeInteger(rule.column, to: &out)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(raw: "null")
        }
        // `clause`: the satisfied clause of every part, plus the completion on a denial; each scope once, by name.
        ids.removeAll(keepingCapacity: true)
        let missingScope = decision.reason == .missingScope
        if decision.allowed || missingScope {
            policy.satisfiedClauseIDs(call, closure: grant.closure, into: &ids)
            ids += decision.missing
            ids.sort { ranks[Int($0)] < ranks[Int($1)] }
        }
        out.append(raw: ",\"clause\":[")
        var previous: UInt32?
        for id in ids where ranks[Int(id)] != previous {
            if previous != nil { out.append(UInt8(ascii: ",")) }
            previous = ranks[Int(id)]
            writeName(id, to: &out)
        }
        out.append(raw: "],\"missing\":[")
        for (i, id) in decision.missing.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeName(id, to: &out)
        }
        out.append(raw: "],\"challenge\":")
        if missingScope {
            // The recognized strings as sent, then the missing scopes, each once. A recognized string is its
            // scope's name byte for byte, and equal names have equal ranks.
            ids.removeAll(keepingCapacity: true)
            for id in grant.recognized where !ids.contains(where: { ranks[Int($0)] == ranks[Int(id)] }) {
                ids.append(id)
            }
            for id in decision.missing where !ids.contains(where: { ranks[Int($0)] == ranks[Int(id)] }) {
                ids.append(id)
            }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: challengeHead)
            for (i, id) in ids.enumerated() {
                if i > 0 { out.append(UInt8(ascii: " ")) }
                appendEscapedName(id, to: &out)
            }
            out.append(contentsOf: challengeTail)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(raw: "null")
        }
        out.append(raw: ",\"ignored\":[")
        out.append(contentsOf: grant.ignoredJSON)
        out.append(UInt8(ascii: "]"))
        if !decision.notes.isEmpty {
            out.append(raw: ",\"notes\":[")
            for (i, note) in decision.notes.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.writeString(note, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends the name as a JSON string.
    private func writeName(_ id: ScopeID, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscapedName(id, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the name's escaped text (the inside of its JSON string).
    @inline(__always)
    private func appendEscapedName(_ id: ScopeID, to out: inout [UInt8]) {
        let start = nameStarts[Int(id)]
        let end = nameStarts[Int(id) + 1]
        nameJSON.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }
}

extension [UInt8] {
    /// Appends the bytes of a literal.
    @inline(__always)
    mutating func append(raw s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
