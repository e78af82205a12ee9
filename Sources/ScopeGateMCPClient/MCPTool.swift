import ScopeGate

/// One tool from an MCP server's `tools/list` result: its name, annotations and input schema.
///
/// ```swift
/// let tools = try ToolListReader.parse(text: #"{"tools":[{"name":"get_time","inputSchema":{"type":"object"}}]}"#)
/// tools[0].annotations?.readOnlyHint   // nil: the tool says nothing about itself
/// ```
public struct MCPTool: Sendable, Hashable {
    /// The hints of the MCP specification's `ToolAnnotations`; `nil` where the server does not set one.
    public struct Annotations: Sendable, Hashable {
        public var readOnlyHint: Bool?
        public var destructiveHint: Bool?
        public var idempotentHint: Bool?
        public var openWorldHint: Bool?
        public var title: String?

        public init(
            readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil,
            openWorldHint: Bool? = nil, title: String? = nil
        ) {
            self.readOnlyHint = readOnlyHint
            self.destructiveHint = destructiveHint
            self.idempotentHint = idempotentHint
            self.openWorldHint = openWorldHint
            self.title = title
        }
    }

    public var name: String
    public var title: String?
    public var description: String?
    /// The tool's `inputSchema` (a JSON Schema object), `{}` when absent.
    public var inputSchema: JSONValue
    /// `nil` when the tool has no `annotations` member at all.
    public var annotations: Annotations?
    /// The requirement a ScopeGate front publishes under `_meta["io.scopegate/requires"]` (docs/records.md), read
    /// by clients planning their token; not part of ``json`` (snapshots describe the server's own tools).
    public var requirements: JSONValue?

    public init(
        name: String, title: String? = nil, description: String? = nil, inputSchema: JSONValue = .object([:]),
        annotations: Annotations? = nil
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.annotations = annotations
    }

    /// Reads a tool object of a `tools/list` result; a missing or non-string `name` is `mcp-bad-message`.
    public init(json: JSONValue) throws(MCPClientError) {
        guard case .object(let object) = json else {
            throw MCPClientError(.badMessage, "a tool must be a JSON object, not \(json.typeName)")
        }
        guard case .string(let name)? = object["name"], !name.isEmpty else {
            throw MCPClientError(.badMessage, "a tool has no `name` string")
        }
        self.name = name
        self.title = object["title"]?.stringValue
        self.description = object["description"]?.stringValue
        self.inputSchema = object["inputSchema"] ?? .object([:])
        if case .object(let meta)? = object["_meta"] { requirements = meta["io.scopegate/requires"] }
        if case .object(let a)? = object["annotations"] {
            annotations = Annotations(
                readOnlyHint: a["readOnlyHint"]?.boolValue, destructiveHint: a["destructiveHint"]?.boolValue,
                idempotentHint: a["idempotentHint"]?.boolValue, openWorldHint: a["openWorldHint"]?.boolValue,
                title: a["title"]?.stringValue)
        } else {
            annotations = nil
        }
    }

    /// The tool as a JSON object (the members this type keeps), for snapshots.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "inputSchema": inputSchema]
        if let title { object["title"] = .string(title) }
        if let description { object["description"] = .string(description) }
        if let annotations {
            var a: [String: JSONValue] = [:]
            if let v = annotations.readOnlyHint { a["readOnlyHint"] = .bool(v) }
            if let v = annotations.destructiveHint { a["destructiveHint"] = .bool(v) }
            if let v = annotations.idempotentHint { a["idempotentHint"] = .bool(v) }
            if let v = annotations.openWorldHint { a["openWorldHint"] = .bool(v) }
            if let v = annotations.title { a["title"] = .string(v) }
            object["annotations"] = .object(a)
        }
        return .object(object)
    }

    /// Whether the tool declares itself read-only (`readOnlyHint: true`).
    public var isReadOnly: Bool { annotations?.readOnlyHint == true }

    /// Whether the tool may be destructive by the specification's defaults: not read-only and `destructiveHint` not
    /// `false` (an absent hint means destructive).
    public var isDestructive: Bool { !isReadOnly && annotations?.destructiveHint != false }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
}
