import Foundation
import ScopeGate
import ScopeGateDoctor
import Testing

@Suite struct TokenCheckTests {
    typealias D = Deployment

    func withToken(header: String = #"{"alg":"RS256","typ":"at+jwt"}"#, claims: String) -> DeploymentEvidence {
        var e = D.good()
        e.token = D.jwt(header: header, claims: claims)
        return e
    }

    @Test func jwksReachable() {
        var e = D.good()
        e.jwks = FetchedDocument(url: "jwks", status: 500)
        #expect(D.status(.jwksReachable, e) == .fail)
        e.jwks = D.document("jwks", #"{"keys":[]}"#)
        #expect(D.status(.jwksReachable, e) == .fail)
        e = D.withServer(["jwks_uri": nil])
        e.jwks = nil
        #expect(D.status(.jwksReachable, e) == .fail)
        e = D.withServer(["jwks_uri": nil, "introspection_endpoint": .string(D.issuer + "/introspect")])
        e.jwks = nil
        #expect(D.status(.jwksReachable, e) == .warn)
    }

    @Test func jwksAlgorithmsAgainstTheAllowList() {
        var e = D.good()
        e.jwks = D.document("jwks", #"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
        #expect(D.status(.jwksAlgorithms, e) == .fail)
        e.jwks = D.document("jwks", #"{"keys":[{"kty":"RSA","alg":"RS256"},{"kty":"RSA","alg":"RS512"}]}"#)
        e.allowedAlgorithms = ["RS256"]
        let warn = D.finding(.jwksAlgorithms, e)
        #expect(warn?.status == .warn)
        #expect(warn?.evidence.contains("`RS512`") == true)
        // The sample token is signed with an algorithm the policy refuses.
        e.allowedAlgorithms = ["ES256"]
        #expect(D.status(.jwksAlgorithms, e) == .fail)
        e = withToken(header: #"{"alg":"HS256","typ":"at+jwt"}"#, claims: #"{"aud":"x"}"#)
        e.jwks = nil
        #expect(D.status(.jwksAlgorithms, e) == .fail)
        // Encryption keys are not signing algorithms.
        e = D.good()
        e.jwks = D.document("jwks", #"{"keys":[{"kty":"RSA","alg":"RS256"},{"kty":"oct","use":"enc"}]}"#)
        #expect(D.status(.jwksAlgorithms, e) == .pass)
    }

    @Test func tokenLifetime() {
        let iat = D.iat
        #expect(
            D.status(.tokenLifetime, withToken(claims: #"{"aud":"\#(D.resource)","iat":\#(iat),"exp":\#(iat + 3600)}"#))
                == .pass)
        let day = D.finding(
            .tokenLifetime, withToken(claims: #"{"aud":"\#(D.resource)","iat":\#(iat),"exp":\#(iat + 86400)}"#))
        #expect(day?.status == .fail)
        #expect(
            day?.evidence.contains("24 h") == true || day?.evidence.contains("1 d") == true, "\(day?.evidence ?? "")")
        #expect(D.status(.tokenLifetime, withToken(claims: #"{"aud":"\#(D.resource)","iat":\#(iat)}"#)) == .fail)
        var opaque = D.good()
        opaque.token = "2YotnFZFEjr1zCsicMWpAA"
        #expect(D.status(.tokenLifetime, opaque) == .warn)
        opaque.token = nil
        #expect(D.status(.tokenLifetime, opaque) == .skip)
    }

    @Test func tokenAudience() {
        #expect(D.status(.tokenAudience, withToken(claims: #"{"exp":1}"#)) == .fail)
        #expect(D.status(.tokenAudience, withToken(claims: #"{"aud":"https://api.example.com"}"#)) == .fail)
        #expect(
            D.status(.tokenAudience, withToken(claims: #"{"aud":["\#(D.resource)","https://api.example.com"]}"#))
                == .warn)
        #expect(D.status(.tokenAudience, withToken(claims: #"{"aud":["\#(D.resource)"]}"#)) == .pass)
        // A token for another audience also means resource indicators are not shown to work.
        #expect(
            D.status(
                .resourceIndicators,
                { () -> DeploymentEvidence in
                    var e = withToken(claims: #"{"aud":"https://api.example.com"}"#)
                    if case .object(var m)? = e.authorizationServer?.json {
                        m["resource_indicators_supported"] = nil
                        e.authorizationServer?.json = .object(m)
                    }
                    return e
                }()) == .warn)
    }

    @Test func tokenType() {
        #expect(D.status(.tokenType, withToken(header: #"{"alg":"RS256","typ":"JWT"}"#, claims: "{}")) == .warn)
        #expect(D.status(.tokenType, withToken(header: #"{"alg":"RS256"}"#, claims: "{}")) == .warn)
        #expect(
            D.status(.tokenType, withToken(header: #"{"alg":"RS256","typ":"application/at+jwt"}"#, claims: "{}"))
                == .pass)
    }

    @Test func challengeCarriesResourceMetadata() {
        var e = D.good()
        e.challenge = FetchedDocument(url: D.resource, status: 401, headers: ["www-authenticate": "Bearer"])
        #expect(D.status(.challenge, e) == .fail)
        e.challenge = FetchedDocument(url: D.resource, status: 200)
        #expect(D.status(.challenge, e) == .fail)
        e.challenge = FetchedDocument(url: D.resource, status: 405)
        #expect(D.status(.challenge, e) == .warn)
        e.challenge = FetchedDocument(url: D.resource, error: "no answer (connection refused)")
        #expect(D.status(.challenge, e) == .fail)
    }

    @Test func otherAudienceRefused() {
        var e = D.good()
        e.otherAudience = FetchedDocument(url: D.resource, status: 403)
        #expect(D.status(.otherAudienceRefused, e) == .pass)
        e.otherAudience = FetchedDocument(url: D.resource, status: 200)
        #expect(D.status(.otherAudienceRefused, e) == .fail)
        e.otherAudience = FetchedDocument(url: D.resource, status: 400)
        #expect(D.status(.otherAudienceRefused, e) == .warn)
        e.otherAudience = nil
        #expect(D.status(.otherAudienceRefused, e) == .skip)
    }
}

@Suite struct DoctorReportTests {
    typealias D = Deployment

    @Test func scoreCountsWarningsHalfAndLeavesSkipsOut() {
        let findings = [
            DoctorFinding(.prmReachable, .pass, evidence: "a"), DoctorFinding(.prmResource, .warn, evidence: "b"),
            DoctorFinding(.prmScopes, .fail, evidence: "c"), DoctorFinding(.tokenType, .skip, evidence: "d"),
        ]
        let report = DoctorReport(resource: D.resource, findings: findings)
        #expect(report.score == 50)
        #expect(report.hasFailures)
        let human = report.human(color: false)
        #expect(human.contains("FAIL SGH04 prm-scopes-supported: c"))
        #expect(human.contains("see: RFC 9728 §2"))
        #expect(human.hasSuffix("score 50/100: 1 pass, 1 warn, 1 fail, 1 skipped\n"))
    }

    @Test func jsonAndSarifCarryEveryCheck() throws {
        var e = D.good()
        e.token = D.jwt(claims: #"{"aud":"\#(D.resource)","iat":0,"exp":86400}"#)
        let report = DoctorReport(resource: D.resource, findings: DeploymentDoctor.evaluate(e))
        guard case .object(let json) = try JSONParser().parse(report.json()),
            case .array(let items)? = json["findings"]
        else {
            Issue.record("not the JSON report")
            return
        }
        #expect(items.count == DoctorCheck.all.count)
        #expect(json["score"] == .number(Decimal(report.score)))
        let sarif = report.sarif(toolVersion: "1.0")
        guard case .object(let log) = try JSONParser().parse(sarif), case .array(let runs)? = log["runs"],
            case .object(let run)? = runs.first, case .object(let tool)? = run["tool"],
            case .object(let driver)? = tool["driver"], case .array(let rules)? = driver["rules"],
            case .array(let results)? = run["results"]
        else {
            Issue.record("not a SARIF log: \(sarif)")
            return
        }
        #expect(rules.count == DoctorCheck.all.count)
        #expect(sarif.contains("docs/doctor.md#sgh14"))
        #expect(results.count == 1)
        #expect(sarif.contains(#""ruleId":"SGH14""#))
    }

    @Test func everyCheckIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/doctor.md"), encoding: .utf8)
        for check in DoctorCheck.all {
            #expect(docs.contains("<a id=\"\(check.id.lowercased())\"></a>"), "no anchor for \(check.id)")
            #expect(docs.contains("## \(check.id) \(check.name)"), "no heading for \(check.id)")
        }
    }
}
