@testable import VatKernel
import TestSupport

/// A kernel with an in-memory store, and terse helpers to drive and read it in tests.
/// Helpers build state and read tables; the assertions stay in the tests.
final class World {
    let storage: InMemoryStorage
    let kernel: Kernel

    init(configuration: KernelConfiguration = .init()) {
        storage = InMemoryStorage()
        kernel = try! Kernel(configuration: configuration, storage: storage)
    }

    /// A kernel started on a store that already holds `state` and the log `records` (what an
    /// earlier run left).
    init(restoring state: KernelState, records: DeliveryRecords, configuration: KernelConfiguration = .init()) {
        storage = InMemoryStorage(state: state, records: records)
        kernel = try! Kernel(configuration: configuration, storage: storage)
    }

    @discardableResult
    func createVat(_ name: ByteString, options: JSONValue = .object([:])) throws -> CreatedVat {
        try kernel.createVat(name: name, options: options)
    }

    @discardableResult
    func syscalls(_ vat: VatID, _ batch: [Syscall]) throws -> SyscallBatchOutcome {
        try kernel.syscalls(batch, from: vat)
    }

    @discardableResult
    func run() throws -> Int { try kernel.run().cranks }

    /// A vat's c-list as `kref: "R vref"` / `kref: "_ vref"`.
    func clist(_ vat: VatID) -> [String: String] {
        var out: [String: String] = [:]
        for (k, e) in kernel.state.clists[vat]?.byKRef ?? [:] { out[k.description] = "\(e.reachable ? "R" : "_") \(e.vref)" }
        return out
    }

    /// `"owner reachable,recognizable"`, `"orphan r,c"`, or nil once the object is gone.
    func object(_ kref: KRef) -> String? {
        guard let o = kernel.state.objects[kref.number] else { return nil }
        return "\(o.owner.map { "\($0)" } ?? "orphan") \(o.reachable),\(o.recognizable)"
    }

    func deliveries(_ vat: VatID) -> [Delivery] { records(vat).map(\.delivery) }

    /// A vat's delivery log, oldest first, as the kernel reads it through its storage.
    func records(_ vat: VatID) -> [DeliveryRecord] { try! kernel.deliveries(vat) }

    /// The deliveries after the first `n`.
    func deliveries(_ vat: VatID, after n: Int) -> [Delivery] { Array(deliveries(vat).dropFirst(n)) }

    var gcActions: [String] { kernel.state.gcActions.map(\.description).sorted() }

    /// Audit problems, plus a check that the store's state equals the kernel's.
    func problems() -> [String] {
        var p = kernel.audit().map(\.description)
        if storage.state != kernel.state { p.append("stored state differs from the kernel's") }
        return p
    }
}

func rejected(_ vpid: String, _ message: String) -> VatResolution {
    VatResolution(vpid: v(vpid), rejected: true, data: .error(message))
}

// MARK: - Scenario helpers shared by the suites

extension World {
    /// A = v1 (root ko20), B = v2 (root ko21); A's `o-50` is B's root, B's `o-50` is A's root.
    /// Each vat is created with the options given for it.
    static func acquainted(a aOptions: JSONValue = .object([:]), b bOptions: JSONValue = .object([:])) throws -> (World, VatID, VatID) {
        let w = World()
        let a = try w.createVat("alice", options: aOptions).vatID
        let b = try w.createVat("bob", options: bOptions).vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("meet", [k("ko21")]), result: .none)
        try w.run()
        return (w, a, b)
    }

    /// The common start: A = v1 (root ko20), B = v2 (root ko21). The host sends B `meet(ko20)`
    /// (B's `o-50` = ko20), then B sends A `take(o+100)`: ko22 is B's `o+100`, A's `o-50`,
    /// reachable by A (`v2 1,1`). Logs: A = [startVat, take], B = [startVat, meet].
    static func exported(configuration: KernelConfiguration = .init()) throws -> (World, VatID, VatID) {
        let w = World(configuration: configuration)
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"])])
        try w.run()
        return (w, a, b)
    }

    /// Runs exactly one crank.
    @discardableResult
    func step() throws -> CrankReport? { try kernel.step() }

    /// Runs until idle and names each crank: `"route"`, `"gc-delivery v2"`, `"negated-gc-action"`…
    /// A thrown error ends the list as `"error: …"`, so `#expect` can show the whole list.
    func cranks() -> [String] {
        var names: [String] = []
        do {
            while let r = try kernel.step() { names.append(name(r)) }
        } catch {
            names.append("error: \(error)")
        }
        return names
    }

    /// `"<kind> [vat]"` for a crank report.
    func name(_ r: CrankReport) -> String { r.kind.rawValue + (r.vat.map { " \($0)" } ?? "") }

    /// `"unresolved decider=v2 subscribers=v1,v2 queue=1 refCount=2"`, `"rejected refCount=1"`,
    /// or nil once the promise is gone.
    func promise(_ kpid: KRef) -> String? {
        guard let p = kernel.state.promises[kpid.number] else { return nil }
        if p.state == .unresolved {
            return "unresolved decider=\(p.decider.map { "\($0)" } ?? "none") subscribers=\(p.subscribers.map(\.description).joined(separator: ",")) queue=\(p.queue.count) refCount=\(p.refCount)"
        }
        return "\(p.state.rawValue) refCount=\(p.refCount)"
    }

    /// A settled promise's data.
    func data(_ kpid: KRef) -> CapData<KRef>? { kernel.state.promises[kpid.number]?.data }

    /// A queue's events: `"send ko22 ping [ko20] -> kp40"`, `"notify v1 kp40"`, `"bringOutYourDead v1"`.
    func events(_ name: QueueName) -> [String] {
        kernel.state.queue(name).elements.map { qe in
            switch qe.event {
            case .send(let target, let m):
                return "send \(target) \(m.methargs.methodName ?? "?") [\(m.methargs.slots.map(\.description).joined(separator: ","))]"
                    + (m.result.map { " -> \($0)" } ?? "")
            case .notify(let vat, let kpid): return "notify \(vat) \(kpid)"
            case .bringOutYourDead(let vat): return "bringOutYourDead \(vat)"
            }
        }
    }

    func vatstore(_ vat: VatID) -> Vatstore { kernel.state.vatstores[vat] ?? Vatstore() }

    /// Nil while running; the termination record once terminated.
    func termination(_ vat: VatID) -> TerminationInfo? { kernel.state.vats[vat]?.termination }

    func isAlive(_ vat: VatID) -> Bool { kernel.state.vats[vat]?.isAlive == true }

    /// Every live object as `"koN owner r,c"`, sorted by number.
    var objects: [String] {
        kernel.state.objects.rows.keys.sorted().map { "ko\($0) " + object(.object($0))! }
    }
}

func fulfilled(_ vpid: String, _ body: JSONValue, _ slots: [String] = []) -> VatResolution {
    VatResolution(vpid: v(vpid), rejected: false, data: CapData(body: body, slots: slots.map(v)))
}

func message(_ target: String, _ method: String, _ slots: [String] = [], result: String? = nil) -> Delivery {
    .message(target: v(target), methargs: methargs(method, slots.map(v)), result: result.map(v))
}

/// `Error(message)` as a vat sees it.
func errorData(_ message: String) -> CapData<VRef> { .error(message) }
