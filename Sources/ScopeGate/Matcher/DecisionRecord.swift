import Foundation

/// The decision record (`"v": 1`, defined in docs/records.md): one line of `check --batch` output.
///
/// ```swift
/// let record = policy.record(for: decision, call: call, grant: grant, line: 3, id: "\"r3\"")
/// print(record.json)   // {"v":1,"line":3,"id":"r3","allowed":false,"reason":"missing_scope",…}
/// ```
public struct DecisionRecord: Sendable, Hashable {
    public var line: Int?
    /// The request id, as JSON text (string or number), if given.
    public var id: String?
    public var allowed: Bool
    public var reason: String
    public var rule: String?
    /// The satisfied clause (allow) or the clause the completion targets (deny), as names.
    public var clause: [String]
    public var missing: [String]
    public var challenge: String?
    public var ignored: [Grant.Ignored]
    public var notes: [String]
    public var policyVersion: String?

    /// The record as one compact JSON line (no trailing newline).
    public var json: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the record as one compact JSON line (no trailing newline) to a byte buffer: ``json``'s bytes,
    /// without building a `String` (`check --batch` renders straight into its output buffer).
    public func write(to out: inout [UInt8]) {
        func raw(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        func strings(_ items: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.writeString(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        raw("{\"v\":1")
        if let line {
            raw(",\"line\":")
            JSONText.writeInteger(line, to: &out)
        }
        if let id {
            raw(",\"id\":")
            out.append(contentsOf: id.utf8)
        }
        raw(",\"allowed\":")
        if allowed { raw("true") } else { raw("false") }
        raw(",\"reason\":")
        JSONText.writeString(reason, to: &out)
        raw(",\"rule\":")
        if let rule { JSONText.writeString(rule, to: &out) } else { raw("null") }
        raw(",\"clause\":")
        strings(clause)
        raw(",\"missing\":")
        strings(missing)
        raw(",\"challenge\":")
        if let challenge { JSONText.writeString(challenge, to: &out) } else { raw("null") }
        raw(",\"ignored\":[")
        for (i, entry) in ignored.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            entry.write(to: &out)
        }
        out.append(UInt8(ascii: "]"))
        if !notes.isEmpty {
            raw(",\"notes\":")
            strings(notes)
        }
        if let policyVersion {
            raw(",\"policy_version\":")
            JSONText.writeString(policyVersion, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

extension Grant.Ignored {
    /// Appends the entry as the record's `ignored` array shows it: `{"scope":…,"why":…}`, with `"hint"` when
    /// there is one.
    package func write(to out: inout [UInt8]) {
        func raw(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        raw("{\"scope\":")
        JSONText.writeString(scope, to: &out)
        raw(",\"why\":")
        JSONText.writeString(why, to: &out)
        if let hint {
            raw(",\"hint\":")
            JSONText.writeString(hint, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
