import Foundation
import Testing

@testable import ScopeGateBundles

@Suite struct BundleErrorCodeDocsTests {
    @Test func everyCodeIsNumberedInOrderAndHasARowInBundlesMD() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/bundles.md"), encoding: .utf8)
        let rows = docs.split(separator: "\n").filter { $0.hasPrefix("| SGB") }
        #expect(rows.count == BundleError.Code.all.count)
        for (index, code) in BundleError.Code.all.enumerated() {
            let id = "SGB" + (index < 9 ? "0" : "") + String(index + 1)
            #expect(code.id == id)
            #expect(rows.contains { $0.hasPrefix("| \(id) |") }, "no row for \(id) in docs/bundles.md")
        }
    }
}
