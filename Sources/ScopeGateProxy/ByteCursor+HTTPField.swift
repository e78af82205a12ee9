@_spi(ScopeGatePackage) import ScopeGate

/// HTTP/1.1 field lines for the heads the proxy encodes itself (``UpstreamRequestBytes``, ``ResponseHeadBytes``).
extension ByteCursor {
    /// `name: value` and its CRLF, both as they are (the callers vouch for their bytes).
    mutating func putField(_ name: String, _ value: String) {
        put(contentsOf: name)
        put(": ")
        put(contentsOf: value)
        put("\r\n")
    }

    /// A field the proxy adds: `name: value` and its CRLF.
    mutating func putField(_ name: StaticString, _ value: String) {
        put(name)
        put(": ")
        put(contentsOf: value)
        put("\r\n")
    }
}
