/// The `scope="…"` parameter of a `WWW-Authenticate: Bearer` challenge, as a test reads it back; nil without one.
///
/// ```swift
/// #expect(challengeScope(verdict.wwwAuthenticate) == "reports:export reports:read")
/// ```
package func challengeScope(_ challenge: String?) -> String? {
    guard let challenge, let start = challenge.range(of: "scope=\"") else { return nil }
    let rest = challenge[start.upperBound...]
    guard let end = rest.firstIndex(of: "\"") else { return nil }
    return String(rest[..<end])
}
