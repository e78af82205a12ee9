import Foundation
import ScopeGate

/// Why obtaining or using a token failed: a stable code plus a message for people.
///
/// ```swift
/// do { _ = try await client.token(for: plan) } catch { print("\(error.code.id): \(error.message)") }
/// ```
public struct ClientError: CodedError, Hashable {
    /// A stable identifier of the kind of failure (an open set: new codes may be added).
    public typealias Code = ErrorCode<ClientError>

    public let code: Code
    /// Lowercase, no final period, names in backticks.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == ClientError {
    /// A transport failure, or an answer that is not the HTTP expected.
    public static let http = Self("client-http")
    /// A document (metadata, token response) that is not the JSON expected.
    public static let badDocument = Self("client-bad-document")
    /// Discovery found no way from the resource to an authorization server.
    public static let discovery = Self("client-discovery")
    /// A tool named for planning that the resource does not publish.
    public static let unknownTool = Self("client-unknown-tool")
    /// A redirect URI that is not https or loopback, has a fragment or userinfo, or differs from the one sent.
    public static let redirectURI = Self("client-redirect-uri")
    /// The `state` of a redirect is not the one sent, was already used, or came too late.
    public static let state = Self("client-state")
    /// A PKCE method other than S256 was asked for.
    public static let pkceMethod = Self("client-pkce-method")
    /// The authorization server refused (an OAuth `error` in the redirect or the token response).
    public static let oauth = Self("client-oauth")
    /// No redirect arrived on the loopback listener in time.
    public static let timeout = Self("client-timeout")
    /// The token store could not be read, written or decrypted.
    public static let store = Self("client-store")
    /// Step-up gave up: the challenge asked for nothing new, or the tries ran out.
    public static let stepUp = Self("client-step-up")
    /// A usage error (missing client id, conflicting options).
    public static let usage = Self("client-usage")
}
