@testable import VatKernel

/// A kernel with an in-memory store, and terse helpers to drive and read it in tests.
/// Helpers build state and read tables; the assertions stay in the tests.
final class World {
    let storage = InMemoryStorage()
    let kernel: Kernel

    init(configuration: KernelConfiguration = .init()) {
        kernel = try! Kernel(configuration: configuration, storage: storage)
    }

    @discardableResult
    func createVat(_ name: String) throws -> CreatedVat { try kernel.createVat(name: name) }

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

    func deliveries(_ vat: VatID) -> [Delivery] { kernel.state.deliveries[vat]?.map(\.delivery) ?? [] }

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

func v(_ s: String) -> VRef { VRef(s)! }
func k(_ s: String) -> KRef { KRef(s)! }

/// Methargs `[method, [{$slot:0}, {$slot:1}, …]]` with one argument per slot.
func methargs<S>(_ method: String, _ slots: [S]) -> CapData<S> {
    CapData(body: .array([.string(method), .array(slots.indices.map { JSONValue.slot($0) })]), slots: slots)
}

func send(_ target: String, _ method: String, _ slots: [String] = [], result: String? = nil) -> Syscall {
    .send(target: v(target), methargs: methargs(method, slots.map(v)), result: result.map(v))
}

func rejected(_ vpid: String, _ message: String) -> VatResolution {
    VatResolution(vpid: v(vpid), rejected: true, data: .error(message))
}
