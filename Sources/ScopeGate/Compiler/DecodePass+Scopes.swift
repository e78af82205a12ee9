import Foundation

// Decoding of the `scopes` section.
extension DecodePass {
    mutating func decodeScopes(_ node: YAMLNode) -> [ScopeDefinition] {
        guard let entries = entries(node, what: "`scopes`") else { return [] }
        var out: [ScopeDefinition] = []
        out.reserveCapacity(entries.count)
        for (keyNode, value) in entries.mapping {
            guard let name = Self.entryKey(keyNode) else { continue }
            var def = ScopeDefinition(
                name: name, location: keyNode.location, description: nil, risk: .normal,
                implies: [], impliesLocations: [], deprecatedUse: nil)
            if let text = value.string, !value.isMapping {
                def.description = text  // `scope: text` shorthand for a description
            }
            if value.string == nil || value.isMapping || value.isNull {
                for (key, _, v) in pairs(value, what: "scope `\(name)`", allowed: Self.scopeKeys) ?? [] {
                    switch key {
                    case "description": def.description = string(v, what: "`description`")
                    case "risk":
                        if let s = string(v, what: "`risk`") {
                            if let risk = Risk(rawValue: s) {
                                def.risk = risk
                            } else {
                                error(
                                    .invalidValue,
                                    "unknown risk `\(s)`" + Suggest.clause(s, Risk.allCases.map(\.rawValue)),
                                    v.location, help: "use one of `low`, `normal`, `sensitive`, `admin`")
                            }
                        }
                    case "implies":
                        for (s, l) in strings(v, what: "`implies`") ?? [] {
                            def.implies.append(s)
                            def.impliesLocations.append(l)
                        }
                    case "external": def.isExternal = bool(v, what: "`external`") ?? false
                    case "deprecated":
                        for (k, _, dv) in pairs(v, what: "`deprecated`", allowed: ["use"]) ?? [] where k == "use" {
                            if let use = string(dv, what: "`deprecated.use`") {
                                def.deprecatedUse = use
                                def.implies.append(use)
                                def.impliesLocations.append(dv.location)
                            }
                        }
                    default: break
                    }
                }
            }
            out.append(def)
        }
        return out
    }
}
