import Foundation
import ScopeGateRequestAuthorization

// Target `httphead`: the gateways' HTTP/1.1 request-head reader (Sources/ScopeGateHTTP1/RequestHeadParser.swift,
// compiled into this harness; the `ASCIICase` and `ByteClass` it uses are a stand-in module). Invariants:
//  - the outcome does not depend on how the bytes arrive: read in two parts (the search for the head's end resumed
//    where it stopped) it is the outcome of the bytes read at once; the same holds for a trailer section;
//  - a head read is well formed: token method and names, values without CR, LF, NUL or surrounding blanks, a
//    length that ends in the empty line and lies within the cap;
//  - a head read, written back in canonical form, reads back to the same head;
//  - the proxy's reader (chunked bodies accepted) reads every head the decision service's reads, the same, and
//    reads a chunked body only from one `Transfer-Encoding: chunked` and no `Content-Length`;
//  - a trailer section read is field lines within the caps, ending in an empty line.

let parser = RequestHeadParser(maxHeadBytes: 4096, maxFields: 64)
let chunkedParser = RequestHeadParser(maxHeadBytes: 4096, maxFields: 64, acceptsChunked: true)

func describe(_ outcome: RequestHeadParser.Outcome) -> String {
    switch outcome {
    case .incomplete: return "incomplete"
    case .refused(let refusal): return "refused \(refusal.status) \(refusal.message)"
    case .head(let head, let length):
        return "head \(head.method) \(head.target) 1.\(head.minorVersion) \(head.fields) \(head.contentLength) "
            + "\(head.keepAlive) \(length)"
    }
}

func parse(
    _ bytes: ArraySlice<UInt8>, scanned: inout Int, with reader: RequestHeadParser = parser
) -> RequestHeadParser.Outcome {
    bytes.withUnsafeBytes { reader.parse($0, scanned: &scanned) }
}

func describe(_ outcome: RequestHeadParser.TrailerOutcome) -> String {
    switch outcome {
    case .incomplete: return "incomplete"
    case .refused(let refusal): return "refused \(refusal.status) \(refusal.message)"
    case .fields(let fields, let length): return "fields \(fields) \(length)"
    }
}

/// The proxy's reader against the decision service's, and the trailer-section reader, on the same bytes.
func checkChunkedReader(_ bytes: [UInt8], whole: RequestHeadParser.Outcome) {
    var scanned = 0
    let chunked = parse(bytes[...], scanned: &scanned, with: chunkedParser)
    if case .head = whole {
        Fuzz.check(describe(chunked) == describe(whole), "proxy reader: \(describe(chunked)) vs \(describe(whole))")
    }
    if case .head(let head, _) = chunked, head.chunked {
        let codings = head.fields.filter { ASCIICase.equals($0.0, "transfer-encoding") }
        Fuzz.check(
            codings.count == 1 && ASCIICase.equals(codings[0].1, "chunked") && head.contentLength == 0
                && !head.fields.contains { ASCIICase.equals($0.0, "content-length") },
            "a chunked body read from \(head.fields)")
    }

    let trailers = bytes.withUnsafeBytes { bytes in
        var scanned = 0
        return parser.parseTrailers(bytes, scanned: &scanned)
    }
    let split = bytes.isEmpty ? 0 : (bytes.count &* 104_729) % bytes.count
    var resumed = 0
    let first = bytes[..<split].withUnsafeBytes { parser.parseTrailers($0, scanned: &resumed) }
    if case .incomplete = first {
        let second = bytes.withUnsafeBytes { parser.parseTrailers($0, scanned: &resumed) }
        Fuzz.check(describe(second) == describe(trailers), "trailers split at \(split): \(describe(second))")
    }
    guard case .fields(let fields, let length) = trailers else { return }
    Fuzz.check(length >= 2 && length <= 4096 && length <= bytes.count, "trailer length \(length)")
    Fuzz.check(Array(bytes[(length - 2)..<length]) == Array("\r\n".utf8), "trailers do not end in a line end")
    Fuzz.check(fields.count <= 64, "\(fields.count) trailer fields")
    for (name, value) in fields {
        Fuzz.check(!name.isEmpty && name.utf8.allSatisfy(ByteClass.isToken), "trailer name \(name.debugDescription)")
        Fuzz.check(
            !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }, "trailer value \(value.debugDescription)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func headFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var scanned = 0
    let whole = parse(bytes[...], scanned: &scanned)

    // In two parts: the split point comes from the input's length, so every input tries another one.
    let split = size == 0 ? 0 : (size &* 7919) % size
    var resumed = 0
    let first = parse(bytes[..<split], scanned: &resumed)
    if case .incomplete = first {
        let second = parse(bytes[...], scanned: &resumed)
        Fuzz.check(describe(second) == describe(whole), "split at \(split): \(describe(second)) vs \(describe(whole))")
    }

    checkChunkedReader(bytes, whole: whole)

    guard case .head(let head, let length) = whole else { return 0 }
    Fuzz.check(length <= 4096 && length <= size, "head length \(length) past the cap or the input")
    Fuzz.check(Array(bytes[(length - 4)..<length]) == Array("\r\n\r\n".utf8), "head does not end in an empty line")
    Fuzz.check(!head.method.isEmpty && head.method.utf8.allSatisfy(ByteClass.isToken), "method \(head.method)")
    Fuzz.check(!head.target.isEmpty && head.target.utf8.allSatisfy(ByteClass.isVisible), "target \(head.target)")
    Fuzz.check(head.contentLength >= 0, "negative length")
    for (name, value) in head.fields {
        Fuzz.check(!name.isEmpty && name.utf8.allSatisfy(ByteClass.isToken), "field name \(name.debugDescription)")
        Fuzz.check(
            !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }, "field value \(value.debugDescription)")
        Fuzz.check(
            value.utf8.first.map { !ByteClass.isBlank($0) } ?? true
                && value.utf8.last.map { !ByteClass.isBlank($0) } ?? true, "value not trimmed")
    }

    // Written back canonically, the head reads back the same (values that were not UTF-8 are compared as read).
    var text = "\(head.method) \(head.target) HTTP/1.\(head.minorVersion)\r\n"
    for (name, value) in head.fields { text += "\(name): \(value)\r\n" }
    text += "\r\n"
    var again = 0
    let reread = parse(Array(text.utf8)[...], scanned: &again)
    if case .head(let second, _) = reread {
        Fuzz.check(
            second.method == head.method && second.target == head.target
                && second.fields.elementsEqual(
                    head.fields, by: { $0 == $1 })
                && second.contentLength == head.contentLength
                && second.keepAlive == head.keepAlive, "reread differs: \(describe(reread))")
    } else if text.utf8.count <= 4096 {
        Fuzz.check(false, "the canonical form of a head is not read: \(describe(reread))")
    }
    return 0
}
