@_exported public import VatKernelAPI
public import Foundation
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An error answer of the server (`{"error":{"code","message","details"}}`), or a failure to
/// reach it, as one error with the server's own words.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    /// The HTTP status; 0 when no answer came.
    public let status: Int
    /// The server's error code (`unknown-kref`, `illegal-syscall`, ...), or `unreachable`.
    public let code: String
    public let message: String
    /// The error's `details` object as compact JSON, if it had one.
    public let details: String?

    public init(status: Int, code: String, message: String, details: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        let head = status == 0 ? code : "\(status) \(code)"
        return details.map { "\(head): \(message) \($0)" } ?? "\(head): \(message)"
    }
}

/// A generated `Client` for the server at `url`, sending `token` (if any) as its bearer token.
/// Every answer with a status of 400 or more is thrown as a `ServerError`; `serverError(_:)`
/// finds it in what the generated client throws.
public func makeClient(url: URL, token: String?) -> Client {
    var middlewares: [any ClientMiddleware] = [ErrorAnswers()]
    if let token, !token.isEmpty { middlewares.append(BearerToken(token: token)) }
    let session = URLSession(configuration: .ephemeral)
    return Client(
        serverURL: url, transport: URLSessionTransport(configuration: .init(session: session)),
        middlewares: middlewares)
}

/// The `ServerError` inside an error the generated client threw (it wraps what a middleware or
/// the transport throws in `ClientError`); a transport failure becomes code `unreachable`.
public func serverError(_ error: any Error) -> ServerError? {
    if let error = error as? ServerError { return error }
    guard let error = error as? ClientError else { return nil }
    if let inner = error.underlyingError as? ServerError { return inner }
    let reason = (error.underlyingError as NSError).localizedDescription
    return ServerError(
        status: error.response.map { $0.status.code } ?? 0, code: "unreachable",
        message: "\(error.operationID) at \(error.baseURL?.absoluteString ?? "?"): \(reason)",
        details: nil)
}

/// Runs `body` and rethrows a failure as its `ServerError` when there is one.
public func withServerErrors<T>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
) async throws -> T {
    do {
        return try await body()
    } catch {
        throw serverError(error) ?? error
    }
}

struct BearerToken: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// Turns an answer of 400 or more into a `ServerError` carrying the server's code and message.
struct ErrorAnswers: ClientMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var bytes = Data()
        if let responseBody { bytes = try await Data(collecting: responseBody, upTo: 1 << 20) }
        throw Self.error(status: response.status.code, reason: response.status.reasonPhrase, bytes: bytes)
    }

    static func error(status: Int, reason: String, bytes: Data) -> ServerError {
        guard let answer = try? JSONDecoder().decode(Components.Schemas._Error.self, from: bytes) else {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return ServerError(status: status, code: "http-\(status)", message: text.isEmpty ? reason : text, details: nil)
        }
        let details = answer.error.details.flatMap { details -> String? in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) }.flatMap { $0 == "{}" ? nil : $0 }
        }
        return ServerError(status: status, code: answer.error.code, message: answer.error.message, details: details)
    }
}
