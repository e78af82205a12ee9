import Foundation
import ScopeGate
import ScopeGateDoctor
import Testing

@Suite struct MetadataCheckTests {
    typealias D = Deployment

    @Test func aWellConfiguredDeploymentPassesEveryCheck() {
        let findings = DeploymentDoctor.evaluate(D.good())
        #expect(findings.map(\.check) == DoctorCheck.all)
        for f in findings { #expect(f.status == .pass, "\(f.check.id): \(f.evidence)") }
        let report = DoctorReport(resource: D.resource, findings: findings)
        #expect(report.score == 100)
        #expect(!report.hasFailures)
    }

    @Test func checkIdsAreStableAndUnique() {
        #expect(DoctorCheck.all.map(\.id) == (1...18).map { String(format: "SGH%02d", $0) })
        #expect(Set(DoctorCheck.all.map(\.name)).count == DoctorCheck.all.count)
        for check in DoctorCheck.all { #expect(!check.reference.isEmpty && !check.title.isEmpty) }
    }

    @Test func prmReachability() {
        var e = D.good()
        e.prmRootForm = FetchedDocument(url: "root", status: 404)
        #expect(D.status(.prmReachable, e) == .warn)
        e = D.good()
        e.prmPathForm = FetchedDocument(url: "path", error: "no answer (connection refused)")
        #expect(D.status(.prmReachable, e) == .warn)
        // The other checks still read the root form.
        #expect(D.status(.prmResource, e) == .pass)
        e.prmRootForm = FetchedDocument(url: "root", status: 200, json: .string("html?"))
        #expect(D.status(.prmReachable, e) == .fail)
        #expect(D.status(.prmResource, e) == .skip)
        // A resource without a path has one form.
        e = D.good()
        e.prmRootForm = nil
        #expect(D.status(.prmReachable, e) == .pass)
        // Two forms describing different resources.
        e = D.good()
        e.prmRootForm = D.document("root", #"{"resource":"https://mcp.example.com/other","authorization_servers":[]}"#)
        let f = D.finding(.prmReachable, e)
        #expect(f?.status == .warn)
        #expect(f?.evidence.contains("disagree") == true)
    }

    @Test func prmResourceMustMatch() {
        #expect(D.status(.prmResource, D.withPRM(["resource": .string(D.resource + "/")])) == .warn)
        #expect(D.status(.prmResource, D.withPRM(["resource": .string("https://evil.example/mcp")])) == .fail)
        #expect(D.status(.prmResource, D.withPRM(["resource": nil])) == .fail)
    }

    @Test func prmAuthorizationServers() {
        #expect(D.status(.prmAuthorizationServers, D.withPRM(["authorization_servers": .array([])])) == .fail)
        #expect(D.status(.prmAuthorizationServers, D.withPRM(["authorization_servers": nil])) == .fail)
        var e = D.good()
        e.issuer = "https://other-idp.example.com"
        e.issuerGiven = true
        #expect(D.status(.prmAuthorizationServers, e) == .fail)
        e.issuerGiven = false
        #expect(D.status(.prmAuthorizationServers, e) == .pass)
    }

    @Test func scopesSupportedAndOfflineAccess() {
        #expect(D.status(.prmScopes, D.withPRM(["scopes_supported": nil])) == .warn)
        #expect(D.status(.prmNoOfflineAccess, D.withPRM(["scopes_supported": nil])) == .skip)
        #expect(D.status(.prmScopes, D.withPRM(["scopes_supported": .array([])])) == .warn)
        let offline = D.withPRM(["scopes_supported": .strings(["files:read", "offline_access"])])
        #expect(D.status(.prmScopes, offline) == .pass)
        let f = D.finding(.prmNoOfflineAccess, offline)
        #expect(f?.status == .fail)
        #expect(f?.recommendation.isEmpty == false)
    }

    @Test func serverMetadataMustAnswerAndNameTheIssuer() {
        var e = D.good()
        e.authorizationServer = FetchedDocument(url: "x", status: 404)
        #expect(D.status(.asMetadata, e) == .fail)
        #expect(D.status(.pkceS256, e) == .skip)
        #expect(D.status(.jwksReachable, e) == .skip)
        #expect(D.status(.asMetadata, D.withServer(["issuer": .string("https://idp.example.com")])) == .fail)
        e = D.good()
        e.issuer = nil
        e.prmPathForm = nil
        e.prmRootForm = nil
        #expect(D.status(.asMetadata, e) == .fail)
    }

    @Test func httpsExceptOnLoopback() {
        var e = D.withServer(["token_endpoint": .string("http://idp.example.com/token")])
        let f = D.finding(.asHTTPS, e)
        #expect(f?.status == .fail)
        #expect(f?.evidence.contains("http://idp.example.com/token") == true)
        // A plain-HTTP issuer on a non-loopback name, named by the metadata.
        e = D.withPRM(["authorization_servers": .strings(["http://idp.example.test"])])
        e.issuer = "http://idp.example.test"
        #expect(D.status(.asHTTPS, e) == .fail)
        // Loopback: fine for a local deployment.
        e = D.good()
        e.resource = "http://127.0.0.1:8080/mcp"
        e.issuer = "http://localhost:4593/api/oidc"
        let loop = D.finding(.asHTTPS, e)
        #expect(loop?.status == .pass)
        #expect(loop?.evidence.contains("loopback") == true)
    }

    @Test func pkceS256() {
        #expect(D.status(.pkceS256, D.withServer(["code_challenge_methods_supported": nil])) == .fail)
        #expect(D.status(.pkceS256, D.withServer(["code_challenge_methods_supported": .strings(["plain"])])) == .fail)
        #expect(
            D.status(.pkceS256, D.withServer(["code_challenge_methods_supported": .strings(["plain", "S256"])]))
                == .warn)
    }

    @Test func noImplicitOrPasswordGrant() {
        let password = D.withServer(["grant_types_supported": .strings(["authorization_code", "password"])])
        #expect(D.status(.noLegacyGrants, password) == .fail)
        let implicit = D.withServer(["response_types_supported": .strings(["code", "id_token token"])])
        #expect(D.status(.noLegacyGrants, implicit) == .fail)
        #expect(D.status(.noLegacyGrants, D.withServer(["grant_types_supported": nil])) == .warn)
    }

    @Test func resourceIndicators() {
        // Not stated, but the sample token is bound to the resource: the issuer does it.
        let unstated = D.withServer(["resource_indicators_supported": nil])
        let f = D.finding(.resourceIndicators, unstated)
        #expect(f?.status == .pass)
        #expect(f?.evidence.contains("sample token") == true)
        var e = unstated
        e.token = nil
        #expect(D.status(.resourceIndicators, e) == .warn)
    }

    @Test func clientRegistration() {
        let dcr = D.withServer([
            "client_id_metadata_document_supported": nil, "registration_endpoint": .string(D.issuer + "/register"),
        ])
        #expect(D.status(.clientRegistration, dcr) == .pass)
        #expect(D.status(.clientRegistration, D.withServer(["client_id_metadata_document_supported": nil])) == .warn)
    }
}
