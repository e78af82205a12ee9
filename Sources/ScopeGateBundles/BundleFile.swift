import Crypto

/// One policy file of a bundle: its path inside the bundle (relative to the root policy's directory, `/`-separated)
/// and its bytes.
///
/// ```swift
/// for file in bundle.files { print(file.sha256, file.path, file.bytes.count) }
/// ```
public struct BundleFile: Sendable, Equatable {
    /// The path inside the bundle, e.g. `policy.yaml` or `common/scopes.yaml`.
    public let path: String
    /// The file's bytes, exactly as built.
    public let bytes: [UInt8]

    /// Creates a file entry; the path is checked when a bundle is built or opened.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// The SHA-256 of ``bytes``, lowercase hex.
    public var sha256: String { SHA256Hex.digest(bytes) }
}

/// SHA-256 as lowercase hex, the form the manifest lists.
enum SHA256Hex {
    static func digest(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return hex(Array(hasher.finalize()))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is 64 lowercase hex digits.
    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }
}

/// The one rule for paths inside a bundle, applied when building, when reading an archive and when reading a
/// manifest: relative, `/`-separated, no empty, `.` or `..` component, printable characters only (no control
/// characters, no backslash), at most 255 bytes (what a ustar header holds), and not a reserved name.
enum BundlePath {
    /// The manifest's entry name.
    static let manifest = ".manifest"
    /// The signatures' entry name (as OPA names it).
    static let signatures = ".signatures.json"
    /// The longest path a ustar header holds (155-byte prefix, `/`, 100-byte name; see ``UStar``).
    static let maxBytes = 255

    /// Why `path` is not a safe bundle path, or `nil`.
    static func problem(_ path: String) -> String? {
        if path.isEmpty { return "the path is empty" }
        if path.utf8.count > maxBytes { return "the path is longer than \(maxBytes) bytes" }
        if UStar.split(Array(path.utf8)) == nil {
            return
                "the path does not fit a ustar header (a file name of at most 100 bytes, after a `/` in the first 155)"
        }
        if path.hasPrefix("/") { return "the path is absolute" }
        if path == manifest || path == signatures { return "the name is reserved for the bundle's own metadata" }
        for scalar in path.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\\" {
            return "the path holds a control character or a backslash"
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "the path has an empty component" }
            if component == "." || component == ".." { return "the path has a `.` or `..` component" }
        }
        return nil
    }

    /// Bytewise UTF-8 order: the one order of files in a bundle, the same on every platform.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
