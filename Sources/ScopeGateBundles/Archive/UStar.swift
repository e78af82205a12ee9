/// A strictly bounded POSIX ustar (IEEE 1003.1-1988) writer and reader for bundles: plain files only.
///
/// Why not a library: the package mirror has no tar library, and a bundle needs only a small subset — regular
/// files, no links, no extension headers, no compression — written deterministically and read defensively. The
/// writer emits every entry with mode 0644, uid/gid 0, empty user/group names and mtime 0, so the same files are
/// always the same bytes; `tar -tf` lists the result. The reader accepts exactly what the writer emits (plus GNU
/// tar's `ustar  ` magic, for an archive repacked by hand), bounds the entry count and sizes before reading, and
/// refuses links, directories, devices, pax/GNU extension headers, bad checksums, truncation and trailing data.
enum UStar {
    static let block = 512

    /// One entry read from an archive.
    struct Entry: Sendable {
        let path: String
        let bytes: [UInt8]
    }

    // MARK: Writing

    /// The archive of `entries`, in the order given; paths must satisfy ``BundlePath`` (checked by the caller).
    static func write(_ entries: [(path: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(2 * block) { $0 + block + padded($1.bytes.count) })
        for entry in entries {
            out.append(contentsOf: header(path: entry.path, size: entry.bytes.count))
            out.append(contentsOf: entry.bytes)
            out.append(contentsOf: [UInt8](repeating: 0, count: padded(entry.bytes.count) - entry.bytes.count))
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: 2 * block))
        return out
    }

    static func padded(_ count: Int) -> Int { (count + block - 1) / block * block }

    /// A ustar header for a regular file; a path over 100 bytes is split at a `/` into prefix and name.
    static func header(path: String, size: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: block)
        let (prefix, name) = split(Array(path.utf8)) ?? ([], Array(path.utf8)[...])
        put(name, into: &h, at: 0, width: 100)
        put(octal(0o644, width: 8), into: &h, at: 100, width: 8)
        put(octal(0, width: 8), into: &h, at: 108, width: 8)
        put(octal(0, width: 8), into: &h, at: 116, width: 8)
        put(octal(size, width: 12), into: &h, at: 124, width: 12)
        put(octal(0, width: 12), into: &h, at: 136, width: 12)
        h[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8), into: &h, at: 257, width: 6)
        put(Array("00".utf8), into: &h, at: 263, width: 2)
        put(prefix, into: &h, at: 345, width: 155)
        let sum = checksum(h)
        put(octal(sum, width: 7), into: &h, at: 148, width: 7)
        h[155] = UInt8(ascii: " ")
        return h
    }

    /// Splits a path into the header's prefix (at most 155 bytes) and name (at most 100 bytes) at a `/`, or `nil`
    /// when it cannot be stored in a ustar header.
    static func split(_ bytes: [UInt8]) -> (prefix: ArraySlice<UInt8>, name: ArraySlice<UInt8>)? {
        if bytes.count <= 100 { return ([], bytes[...]) }
        let slash = UInt8(ascii: "/")
        guard let cut = bytes.indices.last(where: { bytes[$0] == slash && bytes.count - $0 - 1 <= 100 && $0 <= 155 }),
            bytes.count - cut - 1 > 0
        else { return nil }
        return (bytes[..<cut], bytes[(cut + 1)...])
    }

    static func put(_ bytes: some Collection<UInt8>, into header: inout [UInt8], at offset: Int, width: Int) {
        for (i, byte) in bytes.prefix(width).enumerated() { header[offset + i] = byte }
    }

    /// `value` as zero-padded octal digits followed by a NUL, `width` bytes in all.
    static func octal(_ value: Int, width: Int) -> [UInt8] {
        var digits = Array(String(value, radix: 8).utf8)
        while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        return digits + [0]
    }

    /// The header checksum: the sum of its bytes, with the checksum field counted as eight spaces.
    static func checksum(_ header: some Collection<UInt8>) -> Int {
        var sum = 0
        for (i, byte) in header.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(byte) }
        return sum
    }

    // MARK: Reading

    /// Reads every entry, checking each header and bounding the work by `limits` before reading data.
    static func read(_ bytes: [UInt8], limits: BundleLimits) throws(BundleError) -> [Entry] {
        guard bytes.count <= limits.maxArchiveBytes else {
            throw BundleError(
                .tooLarge, "the bundle is \(bytes.count) bytes, over the limit of \(limits.maxArchiveBytes)")
        }
        guard !bytes.isEmpty else { throw BundleError(.malformedArchive, "the bundle is empty") }
        var entries: [Entry] = []
        var seen = Set<String>()
        var offset = 0
        while true {
            guard offset + block <= bytes.count else {
                throw BundleError(.malformedArchive, "not a bundle: the archive ends inside a header (truncated?)")
            }
            let h = bytes[offset..<(offset + block)]
            if h.allSatisfy({ $0 == 0 }) {
                // End of archive: everything after it must be zero padding.
                guard bytes[offset...].allSatisfy({ $0 == 0 }) else {
                    throw BundleError(.malformedArchive, "not a bundle: data after the end-of-archive marker")
                }
                return entries
            }
            let entry = try header(h, at: offset)
            guard entries.count < limits.maxEntries else {
                throw BundleError(.tooLarge, "the bundle has more than \(limits.maxEntries) entries")
            }
            guard entry.size <= limits.maxFileBytes else {
                throw BundleError(
                    .tooLarge,
                    "entry \(BundleError.quote(entry.path)) is \(entry.size) bytes, over the limit of \(limits.maxFileBytes)"
                )
            }
            let start = offset + block
            guard entry.size <= bytes.count - start else {
                throw BundleError(
                    .malformedArchive, "not a bundle: entry \(BundleError.quote(entry.path)) is truncated")
            }
            guard seen.insert(entry.path).inserted else {
                throw BundleError(.duplicateEntry, "the bundle holds \(BundleError.quote(entry.path)) twice")
            }
            entries.append(Entry(path: entry.path, bytes: Array(bytes[start..<(start + entry.size)])))
            offset = start + padded(entry.size)
            if offset > bytes.count {
                throw BundleError(
                    .malformedArchive, "not a bundle: entry \(BundleError.quote(entry.path)) is truncated")
            }
        }
    }

    /// Checks one header: magic, checksum, type (regular file), size and path.
    static func header(_ h: ArraySlice<UInt8>, at offset: Int) throws(BundleError) -> (path: String, size: Int) {
        let base = h.startIndex
        func field(_ start: Int, _ width: Int) -> ArraySlice<UInt8> { h[(base + start)..<(base + start + width)] }
        let magic = Array(field(257, 8))
        guard magic == Array("ustar\u{0}00".utf8) || magic == Array("ustar  \u{0}".utf8) else {
            throw BundleError(
                .malformedArchive,
                "not a bundle: no ustar header at byte \(offset) (a bundle is an uncompressed POSIX tar)")
        }
        guard let stored = number(field(148, 8)), stored == checksum(h) else {
            throw BundleError(.malformedArchive, "not a bundle: the header at byte \(offset) has a bad checksum")
        }
        let type = h[base + 156]
        let name = try text(field(0, 100), at: offset)
        let prefix = try text(field(345, 155), at: offset)
        let path = prefix.isEmpty ? name : prefix + "/" + name
        guard type == UInt8(ascii: "0") || type == 0 else {
            let kind: String =
                switch type {
                case UInt8(ascii: "1"), UInt8(ascii: "2"): "a link"
                case UInt8(ascii: "5"): "a directory"
                case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"): "an extension header"
                default: "not a regular file"
                }
            throw BundleError(
                .unsafeEntry, "entry \(BundleError.quote(path)) is \(kind); a bundle holds regular files only")
        }
        if let problem = BundlePath.problem(path), path != BundlePath.manifest, path != BundlePath.signatures {
            throw BundleError(.unsafeEntry, "entry \(BundleError.quote(path)) is refused: \(problem)")
        }
        guard let size = number(field(124, 12)) else {
            throw BundleError(.malformedArchive, "not a bundle: the header at byte \(offset) has a bad size")
        }
        return (path, size)
    }

    /// A NUL-terminated UTF-8 header field.
    static func text(_ field: ArraySlice<UInt8>, at offset: Int) throws(BundleError) -> String {
        let end = field.firstIndex(of: 0) ?? field.endIndex
        guard field[end...].allSatisfy({ $0 == 0 }), let text = String(validating: field[..<end], as: UTF8.self) else {
            throw BundleError(.unsafeEntry, "the header at byte \(offset) has a name that is not NUL-padded UTF-8")
        }
        return text
    }

    /// An octal header number: optional leading spaces, octal digits, then NULs or spaces; at most 11 digits
    /// (base-256 sizes, GNU's extension for huge files, are refused).
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var digits = 0
        var ended = false
        var leading = true
        for byte in field {
            if byte == UInt8(ascii: " ") && leading { continue }
            leading = false
            if byte == 0 || byte == UInt8(ascii: " ") {
                ended = true
                continue
            }
            guard !ended, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 11 else { return nil }
            value = value * 8 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
