import Foundation

/// A JWT decoded WITHOUT verification, for display (`scopegate inspect`). Nothing here is trustworthy.
///
/// ```swift
/// let inspected = try TokenInspector.decode(text)              // UNVERIFIED: for display only
/// print(inspected.warnings, inspected.claims["exp"]?.numberValue ?? 0)
/// ```
public struct InspectedToken: Sendable, Hashable {
    /// The decoded header (a JSON object).
    public let header: ClaimValue
    /// The decoded claims (a JSON object).
    public let claims: ClaimValue
    /// Length of the decoded signature in bytes (0 when stripped or unsigned).
    public let signatureBytes: Int
    /// Length of the token in bytes.
    public let tokenBytes: Int
    /// Human-readable warnings (expired, no `aud`, `alg: none`, huge token, header keys, …).
    public let warnings: [String]
}

/// Decoding, querying and rendering of unverified tokens; the logic behind `scopegate inspect`.
///
/// ```swift
/// let inspected = try TokenInspector.decode("Bearer eyJhbGciOi…")
/// print(TokenInspector.renderHuman(inspected))
/// let scopes = try TokenInspector.query(".scope", in: inspected.claims)
/// ```
public enum TokenInspector {
    /// Largest token `decode` accepts (1 MiB); tokens over the verifier's 16 KiB default only get a warning.
    public static let maxInspectBytes = 1 << 20
    /// The verifier's default size limit, used for the "huge token" warning.
    public static let verifierLimit = 16 * 1024

    /// An error in a `--query` path.
    ///
    /// ```swift
    /// do { _ = try TokenInspector.query(".aud[", in: claims) } catch { print("bad query: \(error)") }
    /// ```
    public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, lowercase.
        public let description: String
    }

    /// Decodes `token` (surrounding whitespace and a `Bearer ` prefix are ignored) without verifying anything.
    ///
    /// - Throws: ``TokenError`` (`token.malformed`, `token.too_large`, `token.duplicate_key`, `token.too_deep`) when
    ///   the text is not a decodable compact JWS.
    public static func decode(_ token: String, now: Date = Date()) throws(TokenError) -> InspectedToken {
        var text = token.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.lowercased().hasPrefix("bearer ") {
            text = String(text.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        guard text.utf8.count <= maxInspectBytes else {
            throw TokenError(.tooLarge, "token is larger than \(maxInspectBytes) bytes")
        }
        guard CompactJWS.looksLikeJWS(text) else {
            throw TokenError(
                .malformed, "not a JWT: expected three dot-separated base64url parts (opaque tokens cannot be decoded)")
        }
        let jws = try CompactJWS.parse(text, maxDepth: 64)
        return InspectedToken(
            header: .object(jws.header), claims: .object(jws.claims), signatureBytes: jws.signature.count,
            tokenBytes: text.utf8.count, warnings: warnings(jws, bytes: text.utf8.count, now: now))
    }

    static func warnings(_ jws: CompactJWS, bytes: Int, now: Date) -> [String] {
        var out: [String] = []
        let alg = jws.header["alg"]?.stringValue
        if alg == nil { out.append("no `alg` in the header") }
        if alg?.lowercased() == "none" { out.append("`alg: none`: the token is unsigned and must never be accepted") }
        if alg?.hasPrefix("HS") == true {
            out.append("`\(alg ?? "")` is a shared-secret algorithm; resource servers should not accept it")
        }
        if jws.signature.isEmpty, alg?.lowercased() != "none" { out.append("the signature is empty") }
        for name in ["jwk", "jku", "x5u", "x5c"] where jws.header[name] != nil {
            out.append("the header carries `\(name)`: verifiers must ignore header-supplied keys")
        }
        if jws.header["crit"] != nil { out.append("the header has `crit` extensions") }
        if bytes > verifierLimit {
            out.append("the token is \(bytes) bytes, over the verifier's default limit of \(verifierLimit)")
        }
        switch jws.claims["exp"] {
        case .number(let exp)?:
            let date = Date(timeIntervalSince1970: exp)
            if date <= now { out.append("expired \(span(now.timeIntervalSince(date))) ago") }
        case nil: out.append("no `exp` claim: the token never expires")
        default: out.append("`exp` is not a number")
        }
        if case .number(let nbf)? = jws.claims["nbf"], Date(timeIntervalSince1970: nbf) > now {
            out.append("not valid yet (`nbf` in \(span(nbf - now.timeIntervalSince1970)))")
        }
        if case .number(let iat)? = jws.claims["iat"], Date(timeIntervalSince1970: iat) > now.addingTimeInterval(60) {
            out.append("issued in the future (`iat` in \(span(iat - now.timeIntervalSince1970)))")
        }
        if jws.claims["aud"] == nil { out.append("no `aud` claim: the token is not bound to a resource") }
        if jws.claims["iss"] == nil { out.append("no `iss` claim") }
        if jws.claims["cnf"] != nil { out.append("the token is bound to a key (`cnf`, DPoP/mTLS)") }
        return out
    }

    /// A coarse duration: `42 s`, `4 min`, `3 h`, `2 d`.
    public static func span(_ seconds: TimeInterval) -> String {
        let s = Int(abs(seconds).rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        if s < 86_400 { return "\(s / 3600) h" }
        return "\(s / 86_400) d"
    }

    /// `expires in 4 min` / `expired 4 min ago` for `exp`; `in 4 min` / `4 min ago` for other times.
    public static func relative(_ claim: String, _ date: Date, now: Date) -> String {
        let d = date.timeIntervalSince(now)
        if claim == "exp" { return d > 0 ? "expires in \(span(d))" : "expired \(span(d)) ago" }
        return d > 0 ? "in \(span(d))" : "\(span(d)) ago"
    }

    /// Evaluates a jq-style path on `value`: `.`, `.a.b`, `.a[0]`, `.aud[]`, `.["https://x/roles"]`, `."key"`.
    ///
    /// A missing member or index yields `null` (as jq); `[]` iterates an array's elements (or an object's values).
    /// - Throws: ``QueryError`` for a syntax error or iterating/indexing the wrong type.
    public static func query(_ path: String, in value: ClaimValue) throws(QueryError) -> [ClaimValue] {
        let steps = try parsePath(path)
        var current = [value]
        for step in steps {
            var next: [ClaimValue] = []
            for v in current {
                switch step {
                case .key(let k):
                    switch v {
                    case .object(let o): next.append(o[k] ?? .null)
                    case .null: next.append(.null)
                    default: throw QueryError(description: "cannot read member `\(k)` of a non-object")
                    }
                case .index(let i):
                    switch v {
                    case .array(let a):
                        let idx = i < 0 ? a.count + i : i
                        next.append(a.indices.contains(idx) ? a[idx] : .null)
                    case .null: next.append(.null)
                    default: throw QueryError(description: "cannot index a non-array with [\(i)]")
                    }
                case .iterate:
                    switch v {
                    case .array(let a): next.append(contentsOf: a)
                    case .object(let o): next.append(contentsOf: o.keys.sorted().compactMap { o[$0] })
                    default: throw QueryError(description: "cannot iterate over a non-array")
                    }
                }
            }
            current = next
        }
        return current
    }

    enum Step: Equatable {
        case key(String)
        case index(Int)
        case iterate
    }

    static func parsePath(_ path: String) throws(QueryError) -> [Step] {
        let chars = Array(path.trimmingCharacters(in: .whitespaces))
        guard chars.first == "." else { throw QueryError(description: "a query starts with `.`") }
        var steps: [Step] = []
        var i = 0
        func quoted() throws(QueryError) -> String {
            i += 1
            var s = ""
            while i < chars.count, chars[i] != "\"" {
                if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                s.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw QueryError(description: "unterminated string in query") }
            i += 1
            return s
        }
        while i < chars.count {
            let c = chars[i]
            if c == "." {
                i += 1
                if i < chars.count, chars[i] == "\"" {
                    steps.append(.key(try quoted()))
                } else {
                    var name = ""
                    while i < chars.count,
                        chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "-" || chars[i] == "$"
                    {
                        name.append(chars[i])
                        i += 1
                    }
                    if !name.isEmpty { steps.append(.key(name)) }
                }
            } else if c == "[" {
                i += 1
                if i < chars.count, chars[i] == "]" {
                    steps.append(.iterate)
                    i += 1
                    continue
                }
                if i < chars.count, chars[i] == "\"" {
                    steps.append(.key(try quoted()))
                } else {
                    var num = ""
                    while i < chars.count, chars[i] == "-" || chars[i].isNumber {
                        num.append(chars[i])
                        i += 1
                    }
                    guard let n = Int(num) else {
                        throw QueryError(description: "expected an index, `[]` or a quoted key")
                    }
                    steps.append(.index(n))
                }
                guard i < chars.count, chars[i] == "]" else { throw QueryError(description: "expected `]`") }
                i += 1
            } else {
                throw QueryError(description: "unexpected `\(c)` in query")
            }
        }
        return steps
    }

    static let timeClaims = ["iat", "nbf", "exp", "auth_time"]

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The human rendering: an UNVERIFIED banner, header, claims, times with relative descriptions, warnings.
    public static func renderHuman(_ token: InspectedToken, now: Date = Date()) -> String {
        var out = "UNVERIFIED: decoded only; the signature, issuer, audience and lifetime were NOT checked\n\n"
        out += "header:\n" + indent(token.header.jsonText(pretty: true)) + "\n"
        out += "claims:\n" + indent(token.claims.jsonText(pretty: true)) + "\n"
        let times = timeClaims.compactMap { name -> String? in
            guard let n = token.claims[name]?.numberValue else { return nil }
            let date = Date(timeIntervalSince1970: n)
            return
                "  \(name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(iso(date))  (\(relative(name, date, now: now)))"
        }
        if !times.isEmpty { out += "times:\n" + times.joined(separator: "\n") + "\n" }
        out += "signature: \(token.signatureBytes) bytes; token: \(token.tokenBytes) bytes\n"
        if !token.warnings.isEmpty {
            out += "warnings:\n" + token.warnings.map { "  - " + $0 }.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// The JSON rendering (`"unverified": true`, header, claims, times, warnings), keys sorted, one line.
    public static func renderJSON(_ token: InspectedToken, now: Date = Date()) -> String {
        var times: [String: ClaimValue] = [:]
        for name in timeClaims {
            guard let n = token.claims[name]?.numberValue else { continue }
            let date = Date(timeIntervalSince1970: n)
            times[name] = .object([
                "unix": .number(n), "iso": .string(iso(date)), "relative": .string(relative(name, date, now: now)),
            ])
        }
        let doc: ClaimValue = .object([
            "unverified": .bool(true), "header": token.header, "claims": token.claims, "times": .object(times),
            "signature_bytes": .number(Double(token.signatureBytes)), "token_bytes": .number(Double(token.tokenBytes)),
            "warnings": .array(token.warnings.map(ClaimValue.string)),
        ])
        return doc.jsonText()
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}
