import Foundation
import HTTPServer
import KernelStore
import Synchronization
import VatKernel
@testable import KernelService

/// A started `KernelService` driven by calling its handler directly, with no sockets: each
/// call builds an `HTTPRequest` and waits for the one response.
final class Harness {
    let service: KernelService
    private let staged: StagedStorage?
    /// The test store; only for a harness made with one.
    var storage: StagedStorage { staged! }

    init(_ configuration: KernelServiceConfiguration = KernelServiceConfiguration(),
         storage: StagedStorage = StagedStorage()) throws {
        staged = storage
        service = try KernelService(configuration: configuration, storage: storage)
        service.start()
    }

    /// A service on a SQLite database file at `path`, opened on the kernel thread as
    /// `vatkernel serve` opens it (with reader threads, unless `configuration` says 0).
    init(_ configuration: KernelServiceConfiguration = KernelServiceConfiguration(), database path: String) throws {
        staged = nil
        service = try KernelService(configuration: configuration, openStorage: { try SQLiteStore(path: path) })
        service.start()
    }

    deinit { service.shutdown() }

    struct Reply {
        var status: Int
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// The body parsed, for reading one field.
        var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }

        subscript(_ key: String) -> JSONValue? {
            if case .object(let o) = json { return o[ByteString(key)] }
            return nil
        }

        /// A string field of the body.
        func string(_ key: String) -> String? { self[key]?.stringValue }
    }

    /// Sends one request and waits for its answer.
    @discardableResult
    ///
    /// `pipelined`: as if an earlier request of the same connection were still unanswered, so
    /// that a read goes through the kernel thread's queue instead of a reader thread.
    func call(_ method: String, _ target: String, _ body: String? = nil, token: String? = nil, pipelined: Bool = false) -> Reply {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        var request = HTTPRequest(method: method, target: target, headers: headers, body: Array((body ?? "").utf8))
        if pipelined { request.earlierUnanswered = 1 }
        let box = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        service.handle(request) { response in
            box.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        let r = box.withLock { $0 }!
        return Reply(status: r.status, headers: r.headers, body: String(decoding: r.body, as: UTF8.self))
    }

    /// Creates a vat and returns its token.
    @discardableResult
    func createVat(_ name: String, token: String? = nil) -> String {
        call("POST", "/vats", #"{"name":"\#(name)"}"#, token: token).string("token")!
    }

    /// Runs `body` on the kernel thread.
    /// Occupies the kernel thread until the returned semaphore is signalled, so that requests
    /// handed to the service meanwhile wait in its queue together.
    func holdKernelThread() -> DispatchSemaphore {
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let service = self.service
        DispatchQueue.global().async {
            _ = service.withKernel { _ in
                entered.signal()
                release.wait()
                return 0
            }
        }
        entered.wait()
        return release
    }

    func kernel<T: Sendable>(_ body: @escaping @Sendable (Kernel) -> T) -> T {
        service.withKernel(body)!
    }
}

/// A store that stages each crank and makes it durable only at `flush()`, like SQLiteStore's
/// group commit; `failNextFlush` loses the staged cranks as a failed COMMIT would.
final class StagedStorage: KernelStorage, @unchecked Sendable {
    private(set) var durable: KernelState?
    private var durableRecords = DeliveryRecords()
    private var staged: [CrankDelta] = []
    private(set) var flushes = 0
    /// How often the state was loaded: once at start, and again only for a reload.
    private(set) var loads = 0
    var failNextFlush = false
    var failNextCommit = false

    init() {}

    func load() throws -> KernelState? {
        loads += 1
        return durable
    }

    func commit(_ delta: CrankDelta) throws {
        if failNextCommit {
            failNextCommit = false
            throw TestStoreError.commitFailed
        }
        staged.append(delta)
    }

    func flush() throws {
        defer { staged.removeAll() }
        if failNextFlush {
            failNextFlush = false
            throw TestStoreError.flushFailed
        }
        var s = durable ?? KernelState()
        for d in staged {
            s.apply(d)
            durableRecords.apply(d)
        }
        durable = s
        flushes += 1
    }

    /// The durable records and the staged cranks', as a store reading inside its open group.
    func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        var records = durableRecords
        for d in staged { records.apply(d) }
        return records.records(vat, after: after, limit: limit)
    }
}

enum TestStoreError: Error {
    case commitFailed, flushFailed
}

/// Methargs JSON with one `$slot` argument per slot.
func methargs(_ method: String, _ slots: [String] = []) -> String {
    let args = slots.indices.map { #"{"$slot":\#($0)}"# }.joined(separator: ",")
    let s = slots.map { "\"\($0)\"" }.joined(separator: ",")
    return #"{"body":["\#(method)",[\#(args)]],"slots":[\#(s)]}"#
}
