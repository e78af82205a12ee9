import Foundation

/// Renders a policy's scope hierarchy as a Graphviz DOT or Mermaid graph: `implies` edges solid, wildcard
/// coverage dashed, risk as fill colour (admin also bold), and optionally each tool linked from the scopes of its
/// least-privilege set (the scopes that unlock it). Output is deterministic (declaration order).
///
/// ```swift
/// let graph = ScopeGraph(policy: policy, tools: true)
/// print(graph.render(.mermaid))   // or .dot
/// for entry in graph.unlocks() { print(entry.tool, entry.scopes) }
/// ```
public struct ScopeGraph: Sendable {
    public enum Format: String, Sendable, CaseIterable { case dot, mermaid }

    public let policy: CompiledPolicy
    /// Include tool nodes and scope → tool edges.
    public var tools: Bool

    public init(policy: CompiledPolicy, tools: Bool = false) {
        self.policy = policy
        self.tools = tools
    }

    static func fill(_ risk: Risk) -> (fill: String, stroke: String) {
        switch risk {
        case .low: ("#d4edda", "#28a745")
        case .normal: ("#dbe9f6", "#2f6fb0")
        case .sensitive: ("#ffe5b4", "#d9822b")
        case .admin: ("#f8d7da", "#c0392b")
        }
    }

    /// Tool name → the scopes of its least-privilege set (empty for public tools), in declaration order.
    public func unlocks() -> [(tool: String, isPublic: Bool, scopes: [String])] {
        let solver = LeastPrivilegeSolver(policy: policy)
        return policy.model.tools.map { t in
            let r = t.isPublic ? nil : try? solver.minimal(for: [ToolSelection(tool: t.pattern)])
            return (t.pattern, t.isPublic, r?.scopes ?? [])
        }
    }

    /// The graph text (ends with a newline).
    public func render(_ format: Format) -> String {
        switch format {
        case .dot: dot()
        case .mermaid: mermaid()
        }
    }

    func dot() -> String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let model = policy.model
        var out =
            "digraph scopes {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=10];\n"
        for s in model.scopes {
            let (fill, stroke) = Self.fill(s.risk)
            var label = "\(s.name)\\n\(s.risk.rawValue)"
            if let use = s.deprecatedUse { label += "\\ndeprecated: use \(use)" }
            var attrs =
                "label=\"\(label.replacingOccurrences(of: "\"", with: "\\\""))\", fillcolor=\(q(fill)), color=\(q(stroke))"
            if s.risk == .admin { attrs += ", penwidth=2, fontname=\"Helvetica-Bold\"" }
            if s.isWildcard { attrs += ", shape=folder" }
            if s.deprecatedUse != nil { attrs += ", style=\"rounded,filled,dashed\"" }
            out += "  \(q("scope:" + s.name)) [\(attrs)];\n"
        }
        for s in model.scopes {
            for target in s.implies where model.scope(target) != nil {
                out += "  \(q("scope:" + s.name)) -> \(q("scope:" + target)) [label=\"implies\"];\n"
            }
            if s.isWildcard {
                for target in s.covers {
                    out += "  \(q("scope:" + s.name)) -> \(q("scope:" + target)) [style=dashed, label=\"covers\"];\n"
                }
            }
        }
        if tools {
            out += "  node [shape=ellipse, style=filled, fillcolor=\"#f5f5f5\", color=\"#888888\"];\n"
            for (tool, isPublic, scopes) in unlocks() {
                out += "  \(q("tool:" + tool)) [label=\(q(isPublic ? tool + " (public)" : tool))];\n"
                for s in scopes {
                    out += "  \(q("scope:" + s)) -> \(q("tool:" + tool)) [color=\"#888888\", arrowhead=vee];\n"
                }
            }
        }
        return out + "}\n"
    }

    func mermaid() -> String {
        let model = policy.model
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "<", with: "#lt;")
                .replacingOccurrences(of: ">", with: "#gt;")
        }
        /// A quoted label; lines are escaped one by one and joined with `<br/>`.
        func label(_ lines: String...) -> String { "\"" + lines.map(escape).joined(separator: "<br/>") + "\"" }
        var ids: [String: String] = [:]
        for (i, s) in model.scopes.enumerated() { ids[s.name] = "s\(i)" }
        var out = "flowchart LR\n"
        for (i, s) in model.scopes.enumerated() {
            let text =
                s.deprecatedUse.map { label(s.name, s.risk.rawValue, "deprecated: use \($0)") }
                ?? label(s.name, s.risk.rawValue)
            out += s.isWildcard ? "  s\(i)[[\(text)]]\n" : "  s\(i)[\(text)]\n"
        }
        for s in model.scopes {
            guard let from = ids[s.name] else { continue }
            for target in s.implies { if let to = ids[target] { out += "  \(from) -->|implies| \(to)\n" } }
            if s.isWildcard {
                for target in s.covers { if let to = ids[target] { out += "  \(from) -.->|covers| \(to)\n" } }
            }
        }
        if tools {
            for (i, entry) in unlocks().enumerated() {
                out += "  t\(i)([\(label(entry.isPublic ? entry.tool + " (public)" : entry.tool))])\n"
                for s in entry.scopes { if let from = ids[s] { out += "  \(from) --> t\(i)\n" } }
            }
        }
        for risk in Risk.allCases {
            let (fill, stroke) = Self.fill(risk)
            out +=
                "  classDef \(risk.rawValue) fill:\(fill),stroke:\(stroke)"
                + (risk == .admin ? ",stroke-width:3px,font-weight:bold" : "") + "\n"
            let members = model.scopes.enumerated().filter { $0.element.risk == risk }.map { "s\($0.offset)" }
            if !members.isEmpty { out += "  class \(members.joined(separator: ",")) \(risk.rawValue)\n" }
        }
        if tools {
            out += "  classDef tool fill:#f5f5f5,stroke:#888888\n"
            if !model.tools.isEmpty {
                out += "  class " + model.tools.indices.map { "t\($0)" }.joined(separator: ",") + " tool\n"
            }
        }
        return out
    }
}
