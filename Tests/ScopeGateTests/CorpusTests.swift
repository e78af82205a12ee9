import Foundation
import Testing

@testable import ScopeGate
@testable import ScopeGateTestSupport

@Suite struct CorpusTests {
    @Test func corpusIsPresentAndWellFormed() throws {
        let files = try Corpus.files()
        #expect(files.count >= 4, "corpus not found at \(Corpus.directory.path)")
        var total = 0
        for url in files {
            let file = try Corpus.load(url)
            #expect(!file.cases.isEmpty, "\(url.lastPathComponent) has no cases")
            let names = file.cases.map(\.name)
            #expect(Set(names).count == names.count, "\(url.lastPathComponent) repeats a case name")
            total += file.cases.count
        }
        #expect(total >= 100)
    }

    @Test(arguments: try Corpus.files().map(\.lastPathComponent))
    func corpusFile(_ fileName: String) throws {
        let file = try Corpus.load(Corpus.directory.appendingPathComponent(fileName))
        let policy = try Corpus.compile(file)
        for c in file.cases {
            let grant = policy.grant(c.scopes)
            let call = Call(method: c.method, name: c.tool, arguments: c.arguments)
            let decision = policy.decide(call, grant: grant)
            let record = policy.record(for: decision, call: call, grant: grant)
            #expect(record.allowed == c.allowed, "\(c): allowed")
            #expect(policy.isAllowed(call, grant: grant) == c.allowed, "\(c): isAllowed")
            #expect(record.reason == c.reason, "\(c): reason")
            #expect(record.missing == (c.missing ?? []), "\(c): missing")
            if let challenge = c.challenge {
                #expect(record.challenge == challenge, "\(c): challenge")
            } else if c.reason != "missing_scope" {
                #expect(record.challenge == nil, "\(c): only missing_scope denials carry a challenge")
            }
            if let ignored = c.ignored {
                #expect(record.ignored.map(\.scope) == ignored, "\(c): ignored")
            }
            // The record and the decision agree.
            #expect(decision.allowed == record.allowed && decision.reason.rawValue == record.reason)
        }
    }
}
