import Foundation

@testable import ScopeGate

// Target `jsonl`: bytes → the `check --batch` line reader as the CLI runs it (`BatchProcessor.process`, compiled
// from Sources/scopegate/Batch*.swift and RequestLineReader.swift) and `JSONParser` on the whole input. Invariants:
//  - every output line and audit line is valid JSON (our own parser accepts it);
//  - a parsed value re-serialized with `jsonText` parses back to the same value.

/// Stand-in for the CLI's `Output` (Support.swift imports ArgumentParser); only `BatchRunner.run` uses it.
struct FuzzExit: Error {}
enum Output {
    static func fail(_ message: String, help: String? = nil) -> FuzzExit { FuzzExit() }
}

private let policyText = """
    version: 1
    scopes:
      base: { risk: low }
      read:files: {}
      write:files: { implies: [read:files] }
      admin:system: { implies: [write:files], risk: admin }
      pay:write: {}
      pay:large: { risk: sensitive }
      ops:*: {}
      ops:run: {}
      old:read: { deprecated: { use: read:files } }
    tools:
      read_file: read:files
      "auto_*": { requires: ops:run }
      file_manager:
        action_argument: action
        actions: { read: read:files, write: write:files, delete: { requires: admin:system } }
      transfer:
        requires: pay:write
        when:
          - arguments: { amount: { gt: 1000 }, currency: { in: [EUR, USD] } }
            requires: pay:large
          - arguments: { path: { glob: "/etc/*" }, note: { exists: true } }
            requires: admin:system
      health: { public: true }
    methods: { logging/setLevel: admin:system }
    resources: { "clients://*": read:files }
    prompts: { "sum*": base }
    audit: { arguments: [action, amount] }
    """

private let policy: CompiledPolicy = {
    guard
        let model = PolicyCompiler(options: LoadOptions(environment: [:])).compile(
            source: policyText, name: "fuzz.yaml"
        ).model
    else {
        fatalError("the jsonl fuzz policy does not compile")
    }
    return CompiledPolicy(model: model)
}()

private func isJSON(_ text: String) -> Bool {
    (try? JSONParser().parse(text)) != nil
}

private func maskTime(_ s: String?) -> String? {
    s?.replacingOccurrences(of: #""time":"[^"]*""#, with: #""time":"""#, options: .regularExpression)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func jsonLinesFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // 1. The parser on the whole input, and a round trip through `jsonText`.
    if let value = try? JSONParser(maxDepth: 32).parse(bytes) {
        let text = value.jsonText
        do {
            let again = try JSONParser(maxDepth: 64).parse(text)
            Fuzz.check(again == value, "round trip changed the value: \(text)")
        } catch {
            Fuzz.check(
                error.message == "number too long",
                "jsonText produced text the parser rejects (\(error)): \(text.prefix(200))")
        }
    }
    // 2. The batch reader, line by line, exactly as BatchSession.line feeds it: the byte reader + renderer
    //    (`process`) must give the same bytes as the JSONParser path (`processWithJSONParser`), audit time aside.
    var processor = BatchProcessor(policy: policy, policyVersion: "fuzz-1", audit: true)
    var reference = BatchProcessor(policy: policy, policyVersion: "fuzz-1", audit: true)
    var lineNumber = 0
    for var line in Array(bytes).split(separator: 0x0A, omittingEmptySubsequences: false) {
        lineNumber += 1
        if line.last == 0x0D { line.removeLast() }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        let lineBytes = Array(line)
        var out: [UInt8] = []
        var audit: [UInt8] = []
        let ok = lineBytes.withUnsafeBufferPointer {
            processor.process($0, lineNumber: lineNumber, output: &out, audit: &audit)
        }
        let expected = lineBytes.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: lineNumber) }
        let output = String(decoding: out.dropLast(), as: UTF8.self)
        Fuzz.check(
            out.last == 0x0A && output == expected.output && ok == expected.ok,
            "byte reader differs from the parser path: \(output.prefix(300)) vs \(expected.output.prefix(300))")
        Fuzz.check(isJSON(output), "output line is not JSON: \(output.prefix(300))")
        let auditLine = audit.isEmpty ? nil : String(decoding: audit.dropLast(), as: UTF8.self)
        Fuzz.check(
            maskTime(auditLine) == maskTime(expected.audit),
            "audit line differs from the parser path: \(auditLine?.prefix(300) ?? "nil")")
        if let auditLine { Fuzz.check(isJSON(auditLine), "audit line is not JSON: \(auditLine.prefix(300))") }
    }
    return 0
}
