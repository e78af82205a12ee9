import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import Testing

@Suite struct BodyTests {
    func parse(_ text: String, limits: RequestLimits = .init()) -> Result<JSONRPCBody, RequestRejection> {
        do throws(RequestRejection) {
            return .success(try JSONRPCBody.parse(Array(text.utf8), limits: limits))
        } catch {
            return .failure(error)
        }
    }

    func code(_ result: Result<JSONRPCBody, RequestRejection>) -> RequestRejection.Code? {
        if case .failure(let e) = result { e.code } else { nil }
    }

    @Test func readsRequestsNotificationsAndResponses() throws {
        let body = try parse(
            #"[{"jsonrpc":"2.0","id":"a","method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":3,"result":{}}]"#
        ).get()
        #expect(body.isBatch)
        #expect(body.messages.map(\.kind) == [.request, .notification, .response])
        #expect(body.messages[0].id == .string("a"))
        #expect(try body.messages[2].call() == nil)
    }

    @Test func malformedJSONIsAParseError() {
        #expect(code(parse(#"{"jsonrpc":"2.0","#)) == .parseError)
        #expect(code(parse("")) == .parseError)
        #expect(code(parse(#"{"a":1,"a":2}"#)) == .parseError)
    }

    @Test func jsonThatIsNotJSONRPCIsAnInvalidRequest() {
        #expect(code(parse(#"{"jsonrpc":"1.0","id":1,"method":"x"}"#)) == .invalidRequest)
        #expect(code(parse(#"{"jsonrpc":"2.0","id":null,"method":"x"}"#)) == .invalidRequest)
        #expect(code(parse(#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#)) == .invalidRequest)
        #expect(code(parse(#"[]"#)) == .invalidRequest)
        #expect(code(parse(#"3"#)) == .invalidRequest)
        #expect(code(parse(#"{"jsonrpc":"2.0","id":1}"#)) == .invalidRequest)
    }

    @Test func limitsOnSizeBatchAndDepth() {
        let one = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        #expect(code(parse(one, limits: .init(maxBodyBytes: 10))) == .tooLarge)
        #expect(
            code(parse("[" + Array(repeating: one, count: 3).joined(separator: ",") + "]", limits: .init(maxBatch: 2)))
                == .tooLarge)
        let deep =
            #"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"# + String(repeating: "[", count: 40)
            + String(repeating: "]", count: 40) + "}}"
        #expect(code(parse(deep, limits: .init(maxDepth: 16))) == .parseError)
        #expect(code(parse(deep, limits: .init(maxDepth: 64))) == nil)
    }

    /// A message's members are read one by one, not through a dictionary: duplicates are still refused at every
    /// level, and the whole text is read before any message is checked, so a text that is not JSON is a parse error
    /// even after a message that is not JSON-RPC.
    @Test func theEnvelopeIsReadAsStrictlyAsAnyObject() {
        for text in [
            #"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#,
            #"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"x"}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"x","method":"y"}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"x","params":{},"params":{}}"#,
            #"{"jsonrpc":"2.0","id":1,"result":1,"result":2}"#,
            #"{"x":1,"jsonrpc":"2.0","x":2,"id":1,"method":"p"}"#,
            #"[{"jsonrpc":"2.0","id":1,"method":"p"},{"jsonrpc":"2.0","id":1,"id":1,"method":"p"}]"#,
            #"[{"jsonrpc":"1.0","id":1,"method":"x"},{"#,
            #"{"jsonrpc":"1.0","id":1,"method":"x"} x"#,
            #"[{"jsonrpc":"2.0","id":1,"method":"p"}] ]"#,
            #"[1,]"#, #"["#, " ", #"{"jsonrpc":"2.0","id":1,"method":"p","params":{"a":1,"a":1}}"#,
        ] {
            #expect(code(parse(text)) == .parseError, "\(text)")
        }
        #expect(code(parse(#"[{"jsonrpc":"2.0","id":1,"method":"p"},7]"#)) == .invalidRequest)
        #expect(code(parse(#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#)) == .invalidRequest)
        #expect(code(parse(#"{"jsonrpc":"2.0","id":1,"error":{"code":1},"x":[1,{"y":null}]}"#)) == nil)
    }

    /// Differential: on every text and depth limit, the body is a parse error exactly when the general parser
    /// refuses the text, and a message's id, method and params are what the general parser's tree holds.
    @Test func theEnvelopeReaderAgreesWithTheGeneralParser() throws {
        let texts = [
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"a":[1,{"b":2}]}}}"#,
            #"[{"jsonrpc":"2.0","id":"x","method":"ping"},{"jsonrpc":"2.0","method":"n","params":{"k":[[[]]]}}]"#,
            #"{"jsonrpc":"2.0","id":1,"result":{"a":{"b":{"c":{}}}}}"#,
            #"[[{"jsonrpc":"2.0","id":1,"method":"p"}]]"#,
            #" { "jsonrpc" : "2.0" , "id" : 7 , "method" : "m" } "#,
            #"{"jsonrpc":"2.0","id":1.5e3,"method":"m","params":{"\u00e9":"\ud83d\ude00"}}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\x"}}"#,
            #"[]"#, #"[[]]"#, #"{}"#, #""s""#, #"null"#,
            #"{"jsonrpc":"2.0","id":1,"\u006dethod":"m"}"#, #"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"m","é":"ü","x":{"y":1,"y":2}}"#,
            #"{"jsonrpc":"2.0","id":1,"result":{"v":1.5e3,"w":[0.25,-7]}}"#, #"{"jsonrpc":"2.0","id":1,"error":{}}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"params":{"a":1}}"#,
            "{" + (0..<17).map { #""k\#($0)":\#($0),"# }.joined() + #""jsonrpc":"2.0","id":1,"method":"m"}"#,
        ]
        for text in texts {
            for depth in [0, 1, 2, 3, 4, 64] {
                let tree = try? JSONParser(maxDepth: depth).parse(text)
                let result = parse(text, limits: .init(maxDepth: depth))
                #expect((code(result) == .parseError) == (tree == nil), "\(text) at depth \(depth)")
                guard case .success(let body) = result, let tree else { continue }
                let objects: [JSONValue] = if case .array(let items) = tree { items } else { [tree] }
                #expect(body.messages.count == objects.count)
                for (message, object) in zip(body.messages, objects) {
                    guard case .object(let members) = object else { continue }
                    #expect(message.id == members["id"])
                    let method: String = if case .string(let m)? = members["method"] { m } else { "" }
                    #expect(message.method == method)
                    let params: [String: JSONValue] = if case .object(let p)? = members["params"] { p } else { [:] }
                    #expect(message.params == params)
                }
            }
        }
    }

    /// Differential, for `params`, which is checked in place and made into values only when asked: on every text
    /// and depth limit, the body is a parse error exactly when the general parser refuses the text, and
    /// ``JSONRPCMessage/params``, ``JSONRPCMessage/param(named:)``, the protocol version, the retry flag and the
    /// call are what the general parser's tree gives. The members cover both ways a params object is read: plain
    /// text, and what the plain reading leaves to the full one (escapes, bytes above ASCII, fractions, more than
    /// 16 members) or refuses.
    @Test func theParamsReaderAgreesWithTheGeneralParser() throws {
        let members = [
            #""name":"t""#, #""name":"caf\u00e9""#, #""name":7"#, #""uri":"file:///a""#,
            #""arguments":{"a":[1,{"b":2}],"c":"é"}"#, #""arguments":[]"#,
            #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","x":{}}"#,
            #""_meta":{"x":[true,false,null,-12],"io.modelcontextprotocol/protocolVersion":5}"#,
            #""_meta":{"a":1,"a":2}"#, #""_meta":{"\u0061":1,"a":2}"#, #""_meta":[1]"#,
            #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2025-11-25"}"#,
            #""x":{"k":[[[]]]}"#, #""x":"é""#, #""x":"\u00e9""#, #""x":1.5e3"#, #""x":1e999999"#, #""x":0.5"#,
            #""x":{"y":{"z":1,"z":1}}"#, #""x":{"y":{"z":1,"\u007a":1}}"#, #""é":1"#,
            #""inputResponses":{"r1":{"action":"accept"}}"#, #""inputResponses":null"#,
            #""x":"\x""#, #""x":tru"#, #""x":-"#, #""x":01"#, #""x":[1,]"#, #""x":{"a":1,}"#, "\"x\":\"a\u{01}\"",
            #""x" : [ 1 , { "b" : 2 } ] "#, #""x":123456789012345678901234"#,
        ]
        var params = members.map { "{\($0)}" }
        params += [
            "{" + members[0] + "," + members[4] + "," + members[6] + "," + members[12] + "}",
            "{" + members[3] + "," + members[21] + "," + members[7] + "}",
            "{" + members[0] + "," + members[0] + "}",
            "{" + (0..<17).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}",
            "{" + (0..<16).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}",
            "{" + (0..<16).map { #""k\#($0 % 15)":\#($0)"# }.joined(separator: ",") + "}",
            "{}", " { } ", "[]", "1",
        ]
        for (i, object) in params.enumerated() {
            let method = ["tools/call", "resources/read", "prompts/get", "ping"][i % 4]
            let text = #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(object)}"#
            for depth in [0, 1, 2, 3, 4, 64] {
                let tree = try? JSONParser(maxDepth: depth).parse(text)
                let result = parse(text, limits: .init(maxDepth: depth))
                #expect((code(result) == .parseError) == (tree == nil), "\(text) at depth \(depth)")
                guard case .object(let envelope)? = tree else { continue }
                guard case .object(let members)? = envelope["params"] else {
                    #expect(code(result) == .invalidRequest, "\(text)")
                    continue
                }
                guard case .success(let body) = result else {
                    Issue.record("\(text) at depth \(depth) refused: \(result)")
                    continue
                }
                let message = body.messages[0]
                #expect(message.params == members, "\(text)")
                for key in ["name", "uri", "arguments", "x", "_meta", "k3"] {
                    #expect(message.param(named: key) == members[key], "\(text): \(key)")
                }
                var version: String?
                if case .object(let meta)? = members["_meta"],
                    case .string(let v)? = meta["io.modelcontextprotocol/protocolVersion"]
                {
                    version = v
                }
                #expect(message.metaProtocolVersion == version, "\(text)")
                #expect(message.isInputRetry == (members["inputResponses"] != nil), "\(text)")
                let built = JSONRPCMessage(kind: .request, id: .number(1), method: method, params: members)
                #expect(message == built, "\(text)")
                func call(_ message: JSONRPCMessage) -> Result<Call?, RequestRejection> {
                    do throws(RequestRejection) { return .success(try message.call()) } catch { return .failure(error) }
                }
                #expect(call(message) == call(built), "\(text)")
            }
        }
    }

    @Test func oversizedBodiesAre413() {
        let authorizer = RequestAuthorizer(policy: Fixture.policy, settings: .init(limits: .init(maxBodyBytes: 8)))
        let verdict = authorizer.authorize(
            Fixture.post(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), credential: Fixture.credential([]))
        #expect(verdict.status == 413)
    }

    @Test func callsNeedTheirNames() {
        let verdict = Fixture.authorizer.authorize(
            Fixture.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":3}}"#),
            credential: Fixture.credential(["files:read"]))
        #expect(verdict.status == 400)
        #expect(errorCode(verdict.body) == -32600)
    }
}

@Suite struct ConsistencyTests {
    let reader = Fixture.credential(["files:read", "reports:read"])

    func verdict(_ request: MCPHTTPRequest, settings: AuthorizationSettings = .init()) -> AuthorizationVerdict {
        RequestAuthorizer(policy: Fixture.policy, settings: settings).authorize(request, credential: reader)
    }

    @Test func matchingHeadersAreAllowed() {
        #expect(verdict(Fixture.toolCall("read_file")).outcome == .allow)
    }

    @Test func aDifferentMethodIsAHeaderMismatch() {
        var request = Fixture.toolCall("read_file")
        request.headers.method = "tools/list"
        let v = verdict(request)
        #expect(v.status == 400)
        #expect(errorCode(v.body) == -32020)
    }

    @Test func aDifferentNameIsAHeaderMismatch() {
        let v = verdict(Fixture.toolCall("read_file", mcpName: "write_file"))
        #expect(errorCode(v.body) == -32020)
        #expect(v.rejection?.id == .number(1))
    }

    @Test func missingMethodOrNameOnAStatelessRequestIs400() {
        var noMethod = Fixture.toolCall("read_file")
        noMethod.headers.method = nil
        #expect(errorCode(verdict(noMethod).body) == -32020)
        var noName = Fixture.toolCall("read_file")
        noName.headers.rawName = nil
        #expect(errorCode(verdict(noName).body) == -32020)
    }

    @Test func olderRevisionsTreatTheHeadersAsOptionalHints() {
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}}"#
        #expect(verdict(Fixture.post(body)).outcome == .allow)
        #expect(errorCode(verdict(Fixture.post(body, extra: [("Mcp-Name", "other")])).body) == -32020)
    }

    @Test func resourcesReadIsNamedByItsURI() {
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///public/a","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        let good = [("Mcp-Method", "resources/read"), ("Mcp-Name", "file:///public/a")]
        #expect(verdict(Fixture.post(body, revision: "2026-07-28", extra: good)).outcome == .allow)
        let bad = [("Mcp-Method", "resources/read"), ("Mcp-Name", "file:///public/b")]
        #expect(errorCode(verdict(Fixture.post(body, revision: "2026-07-28", extra: bad)).body) == -32020)
    }

    @Test func aNameOnAMethodThatNamesNothingIsAMismatch() {
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        let v = verdict(
            Fixture.post(body, revision: "2026-07-28", extra: [("Mcp-Method", "tools/list"), ("Mcp-Name", "x")]))
        #expect(errorCode(v.body) == -32020)
    }

    @Test func theVersionHeaderMustEqualTheMetaVersion() {
        var request = Fixture.toolCall("read_file")
        request.headers.protocolVersion = "2025-11-25"
        #expect(errorCode(verdict(request).body) == -32020)
    }

    @Test func parameterHeadersMustEqualTheRenderedArgument() {
        let args = #"{"amount":42,"urgent":false,"note":"été"}"#
        let ok: [(String, String)] = [
            ("Mcp-Param-Amount", "42.0"), ("mcp-param-urgent", "false"), ("Mcp-Param-Note", "=?base64?w6l0w6k=?="),
        ]
        #expect(verdict(Fixture.toolCall("spend", arguments: args, extra: ok)).outcome == .allow)
        for bad in [
            ("Mcp-Param-Amount", "43"), ("Mcp-Param-Urgent", "0"), ("Mcp-Param-Note", "ete"), ("Mcp-Param-Other", "x"),
        ] {
            let v = verdict(Fixture.toolCall("spend", arguments: args, extra: [bad]))
            #expect(errorCode(v.body) == -32020, "\(bad)")
        }
    }

    @Test func aKnownAnnotatedArgumentSentWithoutItsHeaderIsAMismatch() {
        var known = ParameterHeaders()
        known.learn(
            fromToolsList: try! JSONParser().parse(
                #"{"tools":[{"name":"spend","inputSchema":{"type":"object","properties":{"amount":{"type":"integer","x-mcp-header":"Amt"}}}}]}"#
            ))
        let settings = AuthorizationSettings(parameterHeaders: known)
        let args = #"{"amount":42}"#
        #expect(errorCode(verdict(Fixture.toolCall("spend", arguments: args), settings: settings).body) == -32020)
        let withHeader = Fixture.toolCall("spend", arguments: args, extra: [("Mcp-Param-Amt", "42")])
        #expect(verdict(withHeader, settings: settings).outcome == .allow)
        // A null argument is not mirrored, so no header is expected (the policy then decides: a null amount is a
        // wrong-typed argument for `gt`, which fails closed).
        let nullArgument = Fixture.toolCall("spend", arguments: #"{"amount":null}"#)
        let decided = verdict(nullArgument, settings: settings)
        #expect(decided.status == 403)
        #expect(decided.decisions.first?.reason == "missing_scope")
    }

    @Test func aParameterHeaderOnAnotherMethodIsAMismatch() {
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        let v = verdict(
            Fixture.post(body, revision: "2026-07-28", extra: [("Mcp-Method", "tools/list"), ("Mcp-Param-X", "1")]))
        #expect(errorCode(v.body) == -32020)
    }

    @Test func statelessBodiesAreSingleMessagesWithoutResponses() {
        let batch = #"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#
        #expect(
            errorCode(verdict(Fixture.post(batch, revision: "2026-07-28", extra: [("Mcp-Method", "tools/list")])).body)
                == -32600)
        let response = #"{"jsonrpc":"2.0","id":1,"result":{}}"#
        #expect(errorCode(verdict(Fixture.post(response, revision: "2026-07-28")).body) == -32600)
    }
}
