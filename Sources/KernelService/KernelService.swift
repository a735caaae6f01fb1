import Dispatch
import HTTPServer
import Synchronization
import VatKernel

/// The REST API of API.md over one kernel: an `HTTPHandler` for `HTTPServer`.
///
/// On the server's loop thread it routes each request, checks its token and parses its body;
/// anything malformed is answered there (400, 401, 403, 404, 405) and never reaches the
/// kernel. What remains is handed, as a typed `Operation`, to the one kernel thread
/// (`KernelRunner`), which runs work in groups and answers after a single flush per group.
///
/// ```swift
/// let service = try KernelService(configuration: config, storage: store)
/// service.start()
/// let server = HTTPServer(configuration: http, handler: service)
/// ```
public final class KernelService: HTTPHandler {
    private let runner: KernelRunner
    private let configuration: KernelServiceConfiguration
    private let observer: RequestObserver
    /// Set once the loaded state passed its audit; until then only the probes answer.
    private let ready = Atomic<Bool>(false)
    private let leaks = Mutex<[String]>([])

    /// Loads the kernel's committed state from `storage` (a new kernel if it is empty), the
    /// vats' token hashes included, on the kernel thread. Call `start()` before serving.
    ///
    /// `storage` is used by the kernel thread while the service runs, so it must be `Sendable`
    /// (a test's store is); a store that is not, such as `SQLiteStore`, is opened on the
    /// kernel thread instead: ``init(configuration:openStorage:)``.
    public convenience init(configuration: KernelServiceConfiguration = KernelServiceConfiguration(),
                            storage: (any KernelStorage & Sendable)?) throws {
        try self.init(configuration: configuration, openStorage: { storage })
    }

    /// Starts the kernel thread, which calls `openStorage` and loads the kernel's committed
    /// state from what it returns (a new kernel if it is empty), the vats' token hashes
    /// included; throws what either throws. The store then belongs to the kernel thread: only
    /// it uses the store, and releases it when it ends, in ``shutdown()`` (a `SQLiteStore`
    /// closes then). Call `start()` before serving.
    public init(configuration: KernelServiceConfiguration = KernelServiceConfiguration(),
                openStorage: @escaping @Sendable () throws -> (any KernelStorage)?) throws {
        self.configuration = configuration
        observer = RequestObserver(accessLog: configuration.accessLog)
        runner = try KernelRunner(configuration: configuration, storage: openStorage)
    }

    /// Whether the loaded state passed its audit in ``start()``: `GET /readyz` answers 200 and
    /// the other endpoints serve. Until then they answer 503 `starting` (the probes and
    /// `/version` always answer).
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    /// Lets the kernel thread take work and audits the loaded state on it. Returns the audit's
    /// corruption problems: with none the service is ready (``isReady``); otherwise it stays
    /// unready and the caller should refuse to serve (`vatkernel serve` exits 70). Leaks do
    /// not stop it (KERNEL-SPEC §13.8): they are left in ``startupLeaks`` for the log.
    @discardableResult
    public func start() -> [String] {
        runner.start()
        let found = withKernel { kernel in
            kernel.audit().map { (leak: $0.kind == .leak, text: $0.description) }
        }
        guard let found else { return ["the kernel state could not be loaded from the store"] }
        let problems = found.filter { !$0.leak }.map(\.text)
        leaks.withLock { $0 = found.filter(\.leak).map(\.text) }
        if problems.isEmpty { ready.store(true, ordering: .releasing) }
        return problems
    }

    /// Reads the reader threads answered (`ReaderPool`), for tests.
    var readerAnswers: Int { runner.readers.answered.load(ordering: .relaxed) }
    /// The reader threads' and the kernel thread's IDs, for tests of their scheduling policy.
    var readerThreadIDs: [Int32] { runner.readers.threadIDs.withLock { $0 } }
    var kernelThreadID: Int32 { runner.kernelThreadID.load(ordering: .acquiring) }
    /// Keeps the reader threads from taking reads while `held` (`ReaderPool.hold(_:)`), for tests.
    func holdReaders(_ held: Bool) { runner.readers.hold(held) }

    /// The leaks the start-up audit found (KERNEL-SPEC §13.8): served anyway, to be logged.
    public var startupLeaks: [String] { leaks.withLock { $0 } }

    /// Stops taking requests (later ones get 503), finishes and flushes those already queued,
    /// and ends the kernel thread (also one never started). Call after the HTTP server stopped,
    /// before closing a store the caller kept.
    public func shutdown() {
        runner.stop()
    }

    /// Runs `body` on the kernel thread, between groups, and returns its result. For the
    /// start-up audit and for tests; `body` must not keep the kernel. Never call it from the
    /// kernel thread. Nil once the service is shutting down.
    public func withKernel<T: Sendable>(_ body: @escaping @Sendable (Kernel) -> T) -> T? {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let queued = runner.submit(.task { kernel in
            if let kernel { box.value.withLock { $0 = body(kernel) } }
            done.signal()
        })
        guard queued else { return nil }
        done.wait()
        return box.value.withLock { $0 }
    }

    public func handle(_ request: HTTPRequest, respond plainRespond: @escaping @Sendable (HTTPResponse) -> Void) {
        let started = ContinuousClock.now
        let metrics = runner.metrics
        // Matched once, on the raw segments: the metrics label and the routing agree.
        let resource = request.pathSegments.flatMap { Resource(segments: $0) }
        let routeLabel = resource?.template ?? "unmatched"
        let method = request.method
        let respond = observer.wrap(request) { response in
            metrics.request(route: routeLabel, method: method, status: response.status, duration: ContinuousClock.now - started)
            plainRespond(response)
        }
        do {
            let operation = try route(request, to: resource)
            switch operation {
            case .probe(let probe):
                respond(response(to: probe))
            case _ where !isReady:
                respond(ServiceError.starting.response)
            case .kernelSummary where request.earlierUnanswered == 0:
                // Nothing of this connection's is still queued, so the last committed state
                // already holds its changes: answered here, without a trip to the kernel thread.
                // Behind a pipelined request it goes through the queue instead (read-your-writes).
                if let summary = runner.summary.withLock({ $0 }) {
                    var r = HTTPResponse.json(200, summary.body)
                    r.headers.append(("X-Kernel-Crank", String(summary.crank)))
                    respond(r)
                } else {
                    respond(ServiceError.storageFailure("the kernel state could not be loaded from the store").response)
                }
            case _ where operation.isSnapshotRead && request.earlierUnanswered == 0 && runner.readers.isActive:
                // Off the kernel thread, from the last committed state: every earlier request of
                // this connection is answered, so its changes are committed (read-your-writes).
                switch runner.readers.submit(operation, peer: request.peer, respond: respond) {
                case .queued: break
                case .overloaded(let limit): respond(ServiceError.overloaded(limit).response)
                case .stopping: respond(ServiceError.shuttingDown.response)
                }
            default:
                switch runner.submit(.request(operation, peer: request.peer, respond: respond), bytes: request.body.count) {
                case .queued: break
                case .overloaded(let limit): respond(ServiceError.overloaded(limit).response)
                case .stopping: respond(ServiceError.shuttingDown.response)
                }
            }
        } catch {
            respond(error.response)
        }
    }

    /// The answer to a probe, from the loop thread.
    private func response(to probe: Probe) -> HTTPResponse {
        switch probe {
        case .health:
            return .json(200, Array(#"{"status":"ok"}"#.utf8))
        case .version:
            let id = configuration.identity
            return .json(200, JSON.object([
                ("version", .string(id.version)),
                ("schemaVersion", .int(id.schemaVersion)),
                ("startedAt", .string(id.startedAt)),
                ("instanceID", .string(id.instanceID)),
            ]).bytes)
        case .readiness:
            return isReady ? .json(200, Array(#"{"status":"ready"}"#.utf8)) : ServiceError.starting.response
        case .metrics:
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                body: runner.metrics.exposition())
        }
    }

    /// The body of an error the HTTP server answers by itself, in the API's error shape.
    /// Like every answer, it carries an `X-Request-Id` (a new one: the request was not read
    /// far enough to trust its own) and has its access-log line.
    public func response(for error: HTTPProtocolError) -> HTTPResponse {
        var response = ServiceError.response(for: error)
        let id = ServiceIdentity.newInstanceID()
        response.headers.append(("X-Request-Id", id))
        observer.logProtocolError(requestID: id, response)
        return response
    }

    /// Route, method, credentials, query parameters, then body, in that order. HEAD is GET wherever GET is
    /// allowed (the server drops the body). `resource` is the request's path as `handle`
    /// matched it (nil: no such resource).
    func route(_ request: HTTPRequest, to resource: Resource?) throws(ServiceError) -> Operation {
        guard let resource else { throw .noRoute(request.path) }
        let spec = resource.spec
        let method = request.method == "HEAD" && spec.methods.contains("GET") ? "GET" : request.method
        guard spec.methods.contains(method) else {
            throw .methodNotAllowed(request.method, allowed: spec.methods)
        }
        let vat = try resource.vatScope.map { id throws(ServiceError) in try Operation.vatID(id) }
        try runner.credentials.authorize(resource, vat: vat, header: request.headers["Authorization"])
        try Operation.checkQuery(request.queryItems.map(\.name), allowed: spec.query, method: method, resource: resource)
        return try Operation.parse(resource, method: method, query: request.query, body: request.body,
                                   maxSyscalls: configuration.kernel.maxSyscallsPerBatch,
                                   maxRunCranks: configuration.maxCranksPerRequest,
                                   lastEventID: request.headers["Last-Event-ID"])
    }
}

/// Carries a value from the kernel thread back to a caller waiting for it.
private final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
