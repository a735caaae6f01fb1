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

    /// Any error thrown while serving a request, as `RequestFailure` classifies it.
    init(any error: any Error, resource: KRef? = nil) {
        self = RequestFailure(error, resource: resource).serviceError
    }

    // MARK: 422 from a kernel outcome

    /// Syscall `index` of a batch broke a rule of KERNEL-SPEC §5; the kernel terminated the vat.
    static func illegalSyscall(index: Int, syscall: String, problem: String, vat: VatID) -> ServiceError {
        ServiceError(status: 422, code: "illegal-syscall",
                     message: "syscall \(index) (\(syscall)) is illegal: \(problem); vat \(vat) is terminated",
                     details: [("index", .int(index)), ("syscall", .string(syscall)), ("problem", .string(problem)),
                               ("vatTerminated", .bool(true))])
    }

    /// The upgrade failed and was rolled back (KERNEL-SPEC §8): the vat runs its old incarnation.
    static func upgradeFailed(reason: String) -> ServiceError {
        ServiceError(status: 422, code: "vat-upgrade-failure", message: "vat-upgrade failure", details: [("reason", .string(reason))])
    }

    /// The answer to an error the HTTP server meets by itself (a malformed or over-limit
    /// request, a timeout, too many connections): the API's error shape, without `details`
    /// (the server has none to give), e.g.
    /// `{"error":{"code":"payload-too-large","message":"request body exceeds 1048576 bytes"}}`.
    static func response(for error: HTTPProtocolError) -> HTTPResponse {
        .json(error.status, JSON.object([
            ("error", .object([("code", .string(error.code.rawValue)), ("message", .string(error.message))])),
        ]).bytes)
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

/// Why a request failed on the kernel thread, as the runner must know it: a refusal is answered
/// and the group goes on; a storage failure is answered 503 and ends the group: nothing after
/// it runs, and the cranks before it are still flushed, since the store discards only the failed
/// crank (`KernelThread.runGroup`; only a kernel that cannot be undone is reloaded from the
/// store).
enum RequestFailure: Error {
    case refused(ServiceError)
    /// The store could not read or write (its message).
    case storage(String)

    /// The one classification of what a request may throw: ours pass through, kernel errors
    /// are mapped (`KernelError.storageFailure` is the store), and anything else is the store's
    /// own error (the only other thing that throws while a request runs).
    init(_ error: any Error, resource: KRef?) {
        switch error {
        case let e as ServiceError:
            self = .refused(e)
        case let e as KernelError:
            if case .storageFailure(let message) = e { self = .storage(message) } else { self = .refused(ServiceError(e, resource: resource)) }
        default:
            self = .storage(String(describing: error))
        }
    }

    /// The answer: the refusal, or 503 `storage-failure`.
    var serviceError: ServiceError {
        switch self {
        case .refused(let e): return e
        case .storage(let message): return .storageFailure(message)
        }
    }
}
