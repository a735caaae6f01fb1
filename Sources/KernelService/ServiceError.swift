import HTTPServer
import VatKernel

/// Everything the service answers with an error, and the one place that turns each into an
/// HTTP status and the JSON body of API.md: `{"error":{"code":…,"message":…,"details":{…}}}`.
///
/// Kernel errors come in through `init(_: KernelError)`, so the kernel's refusals map to
/// statuses here and nowhere else.
struct ServiceError: Error, Equatable {
    var status: Int
    var code: String
    var message: String
    var details: [(String, JSON)] = []
    /// Extra response headers (`Allow` for 405, `WWW-Authenticate` for 401).
    var headers: [(String, String)] = []

    init(status: Int, code: String, message: String, details: [(String, JSON)] = [], headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    /// Equal when a client would read the same answer: status, code, message and the bytes of
    /// the details as they are written.
    static func == (a: ServiceError, b: ServiceError) -> Bool {
        a.status == b.status && a.code == b.code && a.message == b.message
            && JSON.object(a.details).bytes == JSON.object(b.details).bytes
    }

    // MARK: 400

    /// The body is not JSON at all, or holds a number the kernel would have to change
    /// (`1e-400`, digits beyond 64 bits). Inside a value, the answer names the field.
    static func malformedJSON(_ failure: JSONParseError) -> ServiceError {
        if failure.path.isEmpty {
            return ServiceError(status: 400, code: "malformed-json", message: "request body is not valid JSON: \(failure.reason)",
                                details: [("offset", .int(failure.offset))])
        }
        return ServiceError(status: 400, code: "malformed-json", message: "request body is not valid JSON: \(failure.field): \(failure.reason)",
                            details: [("offset", .int(failure.offset)), ("field", .string(failure.field))])
    }

    /// A field of the body is missing, of the wrong type, or not in its grammar.
    static func invalidField(_ field: String, _ problem: String) -> ServiceError {
        ServiceError(status: 400, code: "invalid-request", message: "\(field): \(problem)", details: [("field", .string(field))])
    }

    /// A path segment or query parameter is not in its grammar.
    static func invalidParameter(_ name: String, _ problem: String) -> ServiceError {
        ServiceError(status: 400, code: "invalid-parameter", message: "\(name): \(problem)", details: [("parameter", .string(name))])
    }

    // MARK: 401, 403

    static let missingCredentials = ServiceError(
        status: 401, code: "unauthorized", message: "this request needs an Authorization: Bearer token",
        headers: [("WWW-Authenticate", #"Bearer realm="vatkernel""#)])

    static let wrongCredentials = ServiceError(
        status: 403, code: "forbidden", message: "the bearer token does not authorize this request")

    // MARK: 404, 405

    static func noRoute(_ path: String) -> ServiceError {
        ServiceError(status: 404, code: "not-found", message: "no resource at \(path)")
    }

    static func methodNotAllowed(_ method: String, allowed: [String]) -> ServiceError {
        ServiceError(status: 405, code: "method-not-allowed",
                     message: "\(method) is not allowed here; use \(allowed.joined(separator: ", "))",
                     details: [("allow", .array(allowed.map { .string($0) }))],
                     headers: [("Allow", allowed.joined(separator: ", "))])
    }

    /// A batch longer than the kernel accepts (`KernelConfiguration.maxSyscallsPerBatch`).
    static func tooManySyscalls(_ count: Int, max: Int, field: String) -> ServiceError {
        ServiceError(status: 400, code: "too-many-syscalls",
                     message: "\(field) holds \(count) syscalls; a batch holds at most \(max)",
                     details: [("field", .string(field)), ("count", .int(count)), ("max", .int(max))])
    }

    // MARK: 503

    static func storageFailure(_ message: String) -> ServiceError {
        ServiceError(status: 503, code: "storage-failure",
                     message: "the store could not make the change durable; nothing was changed: \(message)")
    }

    /// The state is not loaded and audited yet (`GET /readyz` says when it is).
    static let starting = ServiceError(
        status: 503, code: "starting", message: "the service is starting: its state is not loaded and audited yet",
        headers: [("Retry-After", "1")])

    static let shuttingDown = ServiceError(status: 503, code: "shutting-down", message: "the service is shutting down")

    /// The queue to the kernel thread is at its bound (`limit` names which one); the request
    /// was not queued and changed nothing.
    static func overloaded(_ limit: String) -> ServiceError {
        ServiceError(status: 503, code: "overloaded",
                     message: "the kernel is busy: \(limit) are already waiting; nothing was changed, retry later",
                     details: [("limit", .string(limit))], headers: [("Retry-After", "1")])
    }

    // MARK: From the kernel

    /// The mapping of every kernel refusal to a status: the one place it is decided.
    ///
    /// `resource` is the kref the request's path names, if any: a kref missing there is the
    /// resource missing (404); a kref missing inside a body (a send's target or slots, a vat's
    /// parameters) is a request that cannot be processed (422), the resource itself exists.
    init(_ error: KernelError, resource: KRef? = nil) {
        switch error {
        case .halted(let reason):
            self.init(status: 409, code: "kernel-halted", message: error.description, details: [("reason", .string(reason))])
        case .unknownVat(let vat):
            self.init(status: 404, code: "unknown-vat", message: error.description, details: [("vatID", .string(vat.description))])
        case .vatTerminated(let vat):
            self.init(status: 409, code: "vat-terminated", message: error.description, details: [("vatID", .string(vat.description))])
        case .unknownKRef(let kref):
            self.init(status: kref == resource ? 404 : 422, code: "unknown-kref", message: error.description,
                      details: [("kref", .string(kref.description))])
        case .rejected(let message):
            self.init(status: 422, code: "rejected", message: message)
        case .storageFailure(let message):
            self = .storageFailure(message)
        }
    }

    /// Any error thrown while serving a request: kernel errors are mapped, ours pass through,
    /// anything else is a storage failure (the only other thing that throws is the store).
    init(any error: any Error, resource: KRef? = nil) {
        if let e = error as? ServiceError {
            self = e
        } else if let e = error as? KernelError {
            self.init(e, resource: resource)
        } else {
            self = .storageFailure(String(describing: error))
        }
    }

    /// The HTTP response.
    var response: HTTPResponse {
        let body = JSON.object([
            ("error", .object([
                ("code", .string(code)),
                ("message", .string(message)),
                ("details", .object(details)),
            ])),
        ])
        var r = HTTPResponse.json(status, body.bytes)
        r.headers.append(contentsOf: headers)
        return r
    }
}
