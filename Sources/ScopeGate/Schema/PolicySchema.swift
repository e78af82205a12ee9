/// The JSON Schema (draft-07, as YAML language servers expect) of the policy format. Printed by
/// `scopegate schema`; every file in `policies/` validates against it. Keep in sync with the decoder's key
/// lists (a test checks that every key the decoder accepts appears here).
///
/// ```swift
/// try PolicySchema.json.write(toFile: "scopegate.schema.json", atomically: true, encoding: .utf8)
/// // editors: `# yaml-language-server: $schema=scopegate.schema.json` at the top of a policy
/// ```
public enum PolicySchema {
    public static let json = #"""
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "$id": "https://scopegate.dev/schema/policy-v1.json",
          "title": "ScopeGate policy",
          "description": "A ScopeGate policy: scopes, their hierarchy, and what each MCP tool, resource, prompt and method requires.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "version": { "const": 1, "description": "Policy format version." },
            "resource": { "$ref": "#/definitions/resource" },
            "tokens": { "$ref": "#/definitions/tokens" },
            "scopes": {
              "type": "object",
              "description": "Scope definitions. A key ending in `:*` (or `*`) defines a wildcard.",
              "additionalProperties": { "$ref": "#/definitions/scope" }
            },
            "tools": {
              "type": "object",
              "description": "Tool name or glob (`*` only) -> requirement.",
              "additionalProperties": { "$ref": "#/definitions/tool" }
            },
            "methods": { "type": ["object", "null"], "additionalProperties": { "$ref": "#/definitions/rule" } },
            "resources": { "type": ["object", "null"], "additionalProperties": { "$ref": "#/definitions/rule" } },
            "prompts": { "type": ["object", "null"], "additionalProperties": { "$ref": "#/definitions/rule" } },
            "clients": { "type": ["object", "null"], "additionalProperties": { "$ref": "#/definitions/client" } },
            "audit": {
              "type": "object", "additionalProperties": false,
              "properties": { "arguments": { "$ref": "#/definitions/stringList" } }
            },
            "include": { "$ref": "#/definitions/stringList", "description": "Other policy files, relative to this one; merged." },
            "mode": { "$ref": "#/definitions/mode" }
          },
          "definitions": {
            "mode": { "enum": ["enforce", "shadow"], "description": "enforce: denials are refused (default); shadow: denials are logged (would_deny) and let through." },
            "stringList": { "anyOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } }, { "type": "null" } ] },
            "scopeName": { "type": "string", "pattern": "^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$" },
            "requirement": {
              "description": "A scope, or {all: [...]} / {any: [...]} of requirements.",
              "anyOf": [
                { "$ref": "#/definitions/scopeName" },
                { "type": "object", "additionalProperties": false, "required": ["all"],
                  "properties": { "all": { "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/requirement" } } } },
                { "type": "object", "additionalProperties": false, "required": ["any"],
                  "properties": { "any": { "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/requirement" } } } }
              ]
            },
            "scope": {
              "anyOf": [
                { "type": "null" },
                { "type": "string", "description": "Shorthand for a description." },
                { "type": "object", "additionalProperties": false,
                  "properties": {
                    "description": { "type": "string" },
                    "risk": { "enum": ["low", "normal", "sensitive", "admin"] },
                    "implies": { "$ref": "#/definitions/stringList" },
                    "external": { "type": "boolean", "description": "The scope mirrors an outside catalogue: not reported as unused (SG701)." },
                    "deprecated": { "type": "object", "additionalProperties": false, "required": ["use"],
                                    "properties": { "use": { "type": "string" } } }
                  } }
              ]
            },
            "literal": { "type": ["string", "number", "boolean", "null"] },
            "matcher": {
              "anyOf": [
                { "$ref": "#/definitions/literal" },
                { "type": "object", "additionalProperties": false, "minProperties": 1,
                  "properties": {
                    "equals": { "$ref": "#/definitions/literal" },
                    "in": { "type": "array", "items": { "$ref": "#/definitions/literal" } },
                    "not_in": { "type": "array", "items": { "$ref": "#/definitions/literal" } },
                    "gt": { "type": "number" }, "gte": { "type": "number" },
                    "lt": { "type": "number" }, "lte": { "type": "number" },
                    "prefix": { "type": "string" }, "glob": { "type": "string" },
                    "exists": { "type": "boolean" }
                  } }
              ]
            },
            "when": {
              "type": "array",
              "items": { "type": "object", "additionalProperties": false, "required": ["arguments", "requires"],
                "properties": {
                  "arguments": { "type": "object", "additionalProperties": { "$ref": "#/definitions/matcher" } },
                  "requires": { "$ref": "#/definitions/requirement" }
                } }
            },
            "action": {
              "anyOf": [
                { "type": "null" },
                { "$ref": "#/definitions/requirement" },
                { "type": "object", "additionalProperties": false,
                  "properties": { "requires": { "$ref": "#/definitions/requirement" }, "description": { "type": "string" },
                                  "when": { "$ref": "#/definitions/when" } } }
              ]
            },
            "tool": {
              "anyOf": [
                { "$ref": "#/definitions/requirement" },
                { "type": "object", "additionalProperties": false,
                  "properties": {
                    "requires": { "$ref": "#/definitions/requirement" },
                    "description": { "type": "string" },
                    "public": { "type": "boolean" },
                    "basic": { "type": "boolean" },
                    "action_argument": { "type": "string" },
                    "actions": { "type": "object", "additionalProperties": { "$ref": "#/definitions/action" } },
                    "when": { "$ref": "#/definitions/when" },
                    "downstream": { "type": "object", "additionalProperties": false, "required": ["audience"],
                      "properties": { "audience": { "type": "string" }, "scopes": { "$ref": "#/definitions/stringList" },
                                      "issuer": { "type": "string" } } },
                    "mode": { "$ref": "#/definitions/mode" }
                  } }
              ]
            },
            "rule": {
              "anyOf": [
                { "$ref": "#/definitions/requirement" },
                { "type": "object", "additionalProperties": false,
                  "properties": { "requires": { "$ref": "#/definitions/requirement" }, "public": { "type": "boolean" },
                                  "description": { "type": "string" } } }
              ]
            },
            "client": {
              "type": "object", "additionalProperties": false,
              "properties": {
                "description": { "type": "string" },
                "tools": { "type": "array", "items": { "anyOf": [ { "type": "string" },
                  { "type": "object", "additionalProperties": false, "required": ["tool"],
                    "properties": { "tool": { "type": "string" }, "actions": { "$ref": "#/definitions/stringList" } } } ] } },
                "scopes": { "$ref": "#/definitions/stringList" }
              }
            },
            "resource": {
              "type": "object", "additionalProperties": false,
              "properties": {
                "id": { "type": "string", "description": "Canonical resource URI = expected token audience." },
                "authorization_servers": { "$ref": "#/definitions/stringList" },
                "scopes_supported": { "anyOf": [ { "const": "auto" }, { "type": "array", "items": { "type": "string" } } ] },
                "documentation": { "type": "string" },
                "publish_requirements": { "type": "boolean", "description": "Serve every tool's requirements before any token." }
              }
            },
            "tokens": {
              "type": "object", "additionalProperties": false,
              "properties": {
                "issuers": { "type": "array", "items": { "$ref": "#/definitions/issuer" } },
                "leeway_seconds": { "type": "integer", "minimum": 0 },
                "scope_claims": { "$ref": "#/definitions/stringList" },
                "require_typ": { "type": "string" }
              }
            },
            "issuer": {
              "type": "object", "additionalProperties": false, "required": ["issuer"],
              "properties": {
                "issuer": { "type": "string" },
                "jwks_uri": { "type": "string" },
                "algorithms": { "$ref": "#/definitions/stringList" },
                "audiences": { "$ref": "#/definitions/stringList" },
                "scope_claims": { "$ref": "#/definitions/stringList" },
                "roles": { "type": "object", "additionalProperties": false,
                  "properties": { "claim": { "type": "string" },
                                  "map": { "type": "object", "additionalProperties": { "$ref": "#/definitions/stringList" } } } },
                "strip_prefixes": { "$ref": "#/definitions/stringList" },
                "introspection": { "type": "object", "additionalProperties": false,
                  "required": ["endpoint", "client_id", "client_secret_env"],
                  "properties": { "endpoint": { "type": "string" }, "client_id": { "type": "string" },
                                  "client_secret_env": { "type": "string" } } },
                "exchange": { "type": "object", "additionalProperties": false,
                  "required": ["endpoint", "client_id", "client_secret_env"],
                  "properties": { "endpoint": { "type": "string" }, "client_id": { "type": "string" },
                                  "client_secret_env": { "type": "string" },
                                  "client_auth": { "enum": ["client_secret_basic", "client_secret_post"] },
                                  "target": { "enum": ["audience", "resource", "both"] },
                                  "grant": { "enum": ["token_exchange", "on_behalf_of"] },
                                  "subject_token_type": { "type": "string" } } }
              }
            }
          }
        }
        """#
}
