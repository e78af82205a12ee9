import Foundation
import ScopeGate

/// The findings of one doctor run with its score, rendered for people, for programs (JSON) and for code
/// scanning (SARIF).
///
/// ```swift
/// let report = DoctorReport(resource: url, findings: DeploymentDoctor.evaluate(evidence))
/// print(report.human(color: false))
/// exit(report.hasFailures ? 1 : 0)
/// ```
public struct DoctorReport: Sendable, Hashable {
    public let resource: String
    public let findings: [DoctorFinding]

    public init(resource: String, findings: [DoctorFinding]) {
        self.resource = resource
        self.findings = findings
    }

    /// 0–100: a pass counts 1, a warning ½, a failure 0, over the checks that ran (skipped ones are left out).
    public var score: Int {
        let ran = findings.filter { $0.status != .skip }
        guard !ran.isEmpty else { return 0 }
        let points = ran.reduce(0.0) { $0 + ($1.status == .pass ? 1 : $1.status == .warn ? 0.5 : 0) }
        return Int((points * 100 / Double(ran.count)).rounded())
    }

    public var hasFailures: Bool { findings.contains { $0.status == .fail } }

    /// How many findings have `status`.
    public func count(_ status: DoctorFinding.Status) -> Int { findings.filter { $0.status == status }.count }

    var summary: String {
        "score \(score)/100: \(count(.pass)) pass, \(count(.warn)) warn, \(count(.fail)) fail, \(count(.skip)) skipped"
    }

    /// One block per check: status, id, name, evidence, then the recommendation and reference when it is not a pass.
    public func human(color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var out = "scopegate doctor: \(resource)\n"
        for f in findings {
            let label: String
            switch f.status {
            case .pass: label = paint("pass", "32")
            case .warn: label = paint("warn", "33")
            case .fail: label = paint("FAIL", "31;1")
            case .skip: label = paint("skip", "2")
            }
            out += "\(label) \(f.check.id) \(f.check.name): \(f.evidence)\n"
            if f.status == .warn || f.status == .fail {
                if !f.recommendation.isEmpty { out += "     fix: \(f.recommendation)\n" }
                out += "     see: \(f.check.reference)\n"
            }
        }
        return out + summary + "\n"
    }

    /// `{"resource", "score", "counts", "findings": [{id, name, status, title, evidence, recommendation,
    /// reference}]}`, keys sorted.
    public func json() -> String {
        let items: [JSONValue] = findings.map { f in
            .object([
                "id": .string(f.check.id), "name": .string(f.check.name), "status": .string(f.status.rawValue),
                "title": .string(f.check.title), "evidence": .string(f.evidence),
                "recommendation": .string(f.recommendation), "reference": .string(f.check.reference),
            ])
        }
        var counts: [String: JSONValue] = [:]
        for status in DoctorFinding.Status.allCases { counts[status.rawValue] = .number(Decimal(count(status))) }
        let report: JSONValue = .object([
            "resource": .string(resource), "score": .number(Decimal(score)), "counts": .object(counts),
            "findings": .array(items),
        ])
        return report.jsonText + "\n"
    }

    /// SARIF 2.1.0: every check a rule (docs/doctor.md anchors), warnings and failures as results.
    public func sarif(toolVersion: String) -> String {
        var diagnostics = Diagnostics()
        for f in findings where f.status == .warn || f.status == .fail {
            diagnostics.append(
                Diagnostic(
                    f.check.code, "\(resource): \(f.evidence)", at: nil,
                    help: (f.recommendation.isEmpty ? "" : f.recommendation + " ") + "(\(f.check.reference))",
                    severity: f.status == .fail ? .error : .warning))
        }
        return DiagnosticRenderer(sources: [:], color: false).sarif(
            diagnostics, toolVersion: toolVersion, rules: DoctorCheck.all.map(\.code), helpPage: "docs/doctor.md")
    }
}
