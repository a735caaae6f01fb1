/// An error the server answers by itself, before or instead of the handler: a malformed or
/// over-limit request, a timeout, an overloaded server.
///
/// It becomes a JSON body of exactly the shape
/// `{"error":{"code":"payload-too-large","message":"request body exceeds 1048576 bytes"}}`,
/// and the connection closes after it.
struct HTTPProtocolError: Error, Equatable, Sendable {
    /// The machine-readable `code` of the JSON error body.
    enum Code: String, Sendable {
        case badRequest = "bad-request"
        case payloadTooLarge = "payload-too-large"
        case headerFieldsTooLarge = "header-fields-too-large"
        case requestTimeout = "request-timeout"
        case versionNotSupported = "version-not-supported"
        case notImplemented = "not-implemented"
        case serviceUnavailable = "service-unavailable"
        case expectationFailed = "expectation-failed"
        case lengthRequired = "length-required"
        case internalError = "internal-error"
    }

    var status: Int
    var code: Code
    var message: String

    static func badRequest(_ message: String) -> Self {
        Self(status: 400, code: .badRequest, message: message)
    }

    static func payloadTooLarge(limit: Int) -> Self {
        Self(status: 413, code: .payloadTooLarge, message: "request body exceeds \(limit) bytes")
    }

    static func headerFieldsTooLarge(_ message: String) -> Self {
        Self(status: 431, code: .headerFieldsTooLarge, message: message)
    }

    static func notImplemented(_ message: String) -> Self {
        Self(status: 501, code: .notImplemented, message: message)
    }

    static func versionNotSupported(_ version: String) -> Self {
        Self(status: 505, code: .versionNotSupported, message: "\(version) is not supported; use HTTP/1.1")
    }

    static func expectationFailed(_ expectation: String) -> Self {
        Self(status: 417, code: .expectationFailed, message: "unsupported expectation \"\(expectation)\"")
    }

    static let requestTimeout = Self(
        status: 408, code: .requestTimeout, message: "request not received completely in time")

    static let serviceUnavailable = Self(
        status: 503, code: .serviceUnavailable, message: "too many open connections")

    static let invalidHandlerStatus = Self(
        status: 500, code: .internalError, message: "the handler produced an invalid status code")

    /// The JSON error response, with `Connection: close` added when it is written.
    var response: HTTPResponse {
        var body: [UInt8] = []
        body.reserveCapacity(40 + code.rawValue.utf8.count + message.utf8.count)
        body.append(contentsOf: #"{"error":{"code":""#.utf8)
        body.append(contentsOf: code.rawValue.utf8)
        body.append(contentsOf: #"","message":""#.utf8)
        Self.appendJSONEscaped(message, to: &body)
        body.append(contentsOf: #""}}"#.utf8)
        return .json(status, body)
    }

    private static func appendJSONEscaped(_ string: String, to body: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                body.append(UInt8(ascii: "\\"))
                body.append(byte)
            case 0..<0x20:
                body.append(contentsOf: #"\u00"#.utf8)
                body.append(hex[Int(byte >> 4)])
                body.append(hex[Int(byte & 0xF)])
            default:
                body.append(byte)
            }
        }
    }
}
