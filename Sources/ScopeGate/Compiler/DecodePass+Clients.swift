import Foundation

// Decoding of the `clients` section.
extension DecodePass {
    mutating func decodeClients(_ node: YAMLNode) -> [ClientProfile] {
        var out: [ClientProfile] = []
        for (name, keyNode, value) in pairs(node, what: "`clients`", allowed: nil) ?? [] {
            var client = ClientProfile(
                name: name, location: keyNode.location, description: nil, tools: [], scopes: nil,
                scopeLocations: [])
            for (key, _, v) in pairs(value, what: "client `\(name)`", allowed: Self.clientKeys) ?? [] {
                switch key {
                case "description": client.description = string(v, what: "`description`")
                case "scopes":
                    let list = strings(v, what: "`scopes`") ?? []
                    client.scopes = list.map(\.0)
                    client.scopeLocations = list.map(\.1)
                case "tools":
                    guard let items = v.sequence else {
                        wrongType(v, expected: "a list of tools", what: "`tools`")
                        continue
                    }
                    for item in items {
                        if let s = item.string, !item.isMapping {
                            client.tools.append(ClientToolGrant(tool: s, actions: nil, location: item.location))
                            continue
                        }
                        var grant = ClientToolGrant(tool: "", actions: nil, location: item.location)
                        for (k, _, tv) in pairs(item, what: "a client tool", allowed: ["tool", "actions"]) ?? [] {
                            if k == "tool" { grant.tool = string(tv, what: "`tool`") ?? "" }
                            if k == "actions" { grant.actions = (strings(tv, what: "`actions`") ?? []).map(\.0) }
                        }
                        if grant.tool.isEmpty {
                            if item.isMapping {
                                error(
                                    .missingKey, "a client tool entry needs `tool`", item.location,
                                    help: "write `{tool: name, actions: [a, b]}`")
                            }
                        } else {
                            client.tools.append(grant)
                        }
                    }
                default: break
                }
            }
            out.append(client)
        }
        return out
    }
}
