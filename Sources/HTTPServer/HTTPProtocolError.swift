/// An error the server answers by itself, before or instead of the handler: a malformed or
/// over-limit request, a timeout, an overloaded server.
///
/// The handler writes its body (`HTTPHandler.response(for:)`), in the application's own error
/// format; the server sends it with the status and closes the connection after it.
public struct HTTPProtocolError: Error, Equatable, Sendable {
    /// What went wrong, as a machine-readable name (`payload-too-large`).
    public enum Code: String, Sendable {
        case badRequest = "bad-request"
        case payloadTooLarge = "payload-too-large"
        case headerFieldsTooLarge = "header-fields-too-large"
        case requestTimeout = "request-timeout"
        case versionNotSupported = "version-not-supported"
        case notImplemented = "not-implemented"
        case serviceUnavailable = "service-unavailable"
        case expectationFailed = "expectation-failed"
        case internalError = "internal-error"
    }

    /// The status the response must have.
    public var status: Int
    public var code: Code
    /// What went wrong, for a person.
    public var message: String

    public static func badRequest(_ message: String) -> Self {
        Self(status: 400, code: .badRequest, message: message)
    }

    public static func payloadTooLarge(limit: Int) -> Self {
        Self(status: 413, code: .payloadTooLarge, message: "request body exceeds \(limit) bytes")
    }

    public static func headerFieldsTooLarge(_ message: String) -> Self {
        Self(status: 431, code: .headerFieldsTooLarge, message: message)
    }

    public static func notImplemented(_ message: String) -> Self {
        Self(status: 501, code: .notImplemented, message: message)
    }

    public static func versionNotSupported(_ version: String) -> Self {
        Self(status: 505, code: .versionNotSupported, message: "\(version) is not supported; use HTTP/1.1")
    }

    public static func expectationFailed(_ expectation: String) -> Self {
        Self(status: 417, code: .expectationFailed, message: "unsupported expectation \"\(expectation)\"")
    }

    public static let requestTimeout = Self(
        status: 408, code: .requestTimeout, message: "request not received completely in time")

    public static let serviceUnavailable = Self(
        status: 503, code: .serviceUnavailable, message: "too many open connections")

    public static let invalidHandlerStatus = Self(
        status: 500, code: .internalError, message: "the handler produced an invalid status code")
}
