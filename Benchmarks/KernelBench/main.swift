// Kernel benchmarks: throughput of the pure core in memory, and how the costs of abandonment
// and termination grow. Run: swift run -c release KernelBench [--quick] [--only=terminate|deliveries|gc|abandon|vatstore]
// Each figure is printed with the workload that produced it; see Benchmarks/README.md.
import Foundation
import VatKernel

let quick = CommandLine.arguments.contains("--quick")
let clock = ContinuousClock()

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func vref(_ s: String) -> VRef { VRef(s)! }

func methargs(_ method: String, _ slots: [VRef]) -> CapData<VRef> {
    CapData(body: .array([.string(method), .array(slots.indices.map { JSONValue.slot($0) })]), slots: slots)
}

/// Resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func must<T>(_ f: () throws -> T) -> T {
    do { return try f() } catch { fatalError("benchmark setup failed: \(error)") }
}

/// Two vats; A holds B's root as o-50. Returns (kernel, a, b).
func twoVats(_ kernel: Kernel) -> (VatID, VatID) {
    let a = must { try kernel.createVat(name: "a") }
    let b = must { try kernel.createVat(name: "b") }
    _ = must { try kernel.queueToKref(target: a.rootKref, methargs: CapData(body: .array([.string("meet"), .array([.slot(0)])]), slots: [b.rootKref]), result: .none) }
    _ = must { try kernel.run() }
    return (a.vatID, b.vatID)
}

// MARK: 1. Deliveries per second: a 2-slot message from A to B.
func benchDeliveries() {
    var config = KernelConfiguration()
    config.cleanupBudget = 5_000
    let kernel = must { try Kernel(configuration: config) }
    let (a, _) = twoVats(kernel)
    let batch: [Syscall] = [.send(target: vref("o-50"), methargs: methargs("take", [vref("o+1"), vref("o+2")]), result: nil)]
    let n = quick ? 50_000 : 500_000
    // warm up: first send creates the exports and B's imports
    _ = must { try kernel.syscalls(batch, from: a) }
    _ = must { try kernel.run() }
    let start = clock.now
    for _ in 0..<n {
        _ = must { try kernel.syscalls(batch, from: a) }
        _ = must { try kernel.step() }   // route
        _ = must { try kernel.step() }   // deliver
    }
    let t = seconds(clock.now - start)
    print(String(format: "deliveries: %d two-slot messages A→B in %.3f s = %.0f deliveries/s (3 cranks each: syscall batch, route, deliver)", n, t, Double(n) / t))
    // delivery cranks alone: queue the sends first, then time only route+deliver
    for _ in 0..<n { _ = must { try kernel.syscalls(batch, from: a) } }
    let start2 = clock.now
    _ = must { try kernel.run() }
    let t2 = seconds(clock.now - start2)
    print(String(format: "deliveries: %d queued messages routed and delivered in %.3f s = %.0f deliveries/s (2 cranks each)", n, t2, Double(n) / t2))
}

// MARK: 2. GC churn: export → drop → retire cycles per second.
func benchGCChurn() {
    let kernel = must { try Kernel() }
    let (a, b) = twoVats(kernel)
    // B needs A's root: A sends B its root.
    _ = must { try kernel.syscalls([.send(target: vref("o-50"), methargs: methargs("meet", [vref("o+0")]), result: nil)], from: a) }
    _ = must { try kernel.run() }
    let n = quick ? 20_000 : 200_000
    let start = clock.now
    for i in 0..<n {
        let export = VRef(kind: .object, allocatedByVat: true, id: 1000 + i)
        _ = must { try kernel.syscalls([.send(target: vref("o-50"), methargs: methargs("take", [export]), result: nil)], from: b) }
        _ = must { try kernel.run() }
        let imported = must { try kernel.deliveries(a, after: kernel.state.deliveryLogs[a]!.last - 1) }.last!
        guard case .message(_, let args, _) = imported.delivery else { fatalError("expected a message") }
        _ = must { try kernel.syscalls([.dropImports(args.slots), .retireImports(args.slots)], from: a) }
        _ = must { try kernel.run() }   // dropExports then retireExports to B
    }
    let t = seconds(clock.now - start)
    print(String(format: "gc churn: %d export→drop→retire cycles in %.3f s = %.0f cycles/s (7 cranks each)", n, t, Double(n) / t))
    precondition(kernel.audit().isEmpty)
}

// MARK: 3. Abandoning 100,000 exports: cost grows with the vat's exports, not the kernel's size.
func bigKernel(_ kernel: Kernel, extraVats: Int, entriesEach: Int) {
    for i in 0..<extraVats {
        let x = must { try kernel.createVat(name: "x\(i)") }.vatID
        let y = must { try kernel.createVat(name: "y\(i)") }.vatID
        _ = must { try kernel.queueToKref(target: kernelRoot(kernel, x), methargs: CapData(body: .array([.string("meet"), .array([.slot(0)])]), slots: [kernelRoot(kernel, y)]), result: .none) }
        _ = must { try kernel.run() }
        var id = 1
        while id <= entriesEach {
            let slots = (id..<min(id + 1000, entriesEach + 1)).map { VRef(kind: .object, allocatedByVat: true, id: $0) }
            id += slots.count
            _ = must { try kernel.syscalls([.send(target: vref("o-50"), methargs: methargs("take", slots), result: nil)], from: x) }
            _ = must { try kernel.run() }
        }
    }
}

func kernelRoot(_ kernel: Kernel, _ vat: VatID) -> KRef { kernel.state.clists[vat]![VRef.root]! }

func benchAbandon() {
    let n = quick ? 10_000 : 100_000
    for background in [0, quick ? 100_000 : 1_000_000] {
        let kernel = must { try Kernel() }
        bigKernel(kernel, extraVats: background == 0 ? 0 : 10, entriesEach: background / 10)
        let a = must { try kernel.createVat(name: "a") }.vatID
        let b = must { try kernel.createVat(name: "b") }.vatID
        _ = must { try kernel.queueToKref(target: kernelRoot(kernel, b), methargs: CapData(body: .array([.string("meet"), .array([.slot(0)])]), slots: [kernelRoot(kernel, a)]), result: .none) }
        _ = must { try kernel.run() }
        var id = 1
        var exports: [VRef] = []
        while id <= n {
            let slots = (id..<min(id + 1000, n + 1)).map { VRef(kind: .object, allocatedByVat: true, id: $0) }
            id += slots.count
            exports += slots
            _ = must { try kernel.syscalls([.send(target: vref("o-50"), methargs: methargs("take", slots), result: nil)], from: b) }
            _ = must { try kernel.run() }
        }
        let objects = kernel.state.objects.count
        let start = clock.now
        _ = must { try kernel.syscalls([.abandonExports(exports)], from: b) }
        let t = seconds(clock.now - start)
        print(String(format: "abandon: %d exports (still reachable by an importer) abandoned in one crank: %.3f s (%.2f µs/export); kernel holds %d objects", n, t, t * 1e6 / Double(n), objects))
        // and the orphans are retired when the importer drops them
        let imports = kernel.state.clists[a]!.byKRef.values.filter { $0.vref.isObjectImport }.map(\.vref)
        let start2 = clock.now
        _ = must { try kernel.syscalls([.dropImports(imports)], from: a) }
        let t2 = seconds(clock.now - start2)
        print(String(format: "abandon: importer drops the %d orphans: retired in one crank of %.3f s", imports.count, t2))
        precondition(kernel.audit().isEmpty)
    }
}

// MARK: 4. Terminating a vat with 1,000,000 c-list entries: the longest single crank.
func benchTerminate() {
    let n = quick ? 100_000 : 1_000_000
    var config = KernelConfiguration()
    config.cleanupBudget = 5_000
    let kernel = must { try Kernel(configuration: config) }
    let before = residentBytes()
    bigKernel(kernel, extraVats: 1, entriesEach: n)
    let after = residentBytes()
    let entries = kernel.state.clists.rows.values.reduce(0) { $0 + $1.count }
    let logSlots = kernel.state.vats.rows.keys.reduce(0) { total, vat in
        total + must { try kernel.deliveries(vat) }.reduce(0) { n, r in
            if case .message(_, let m, _) = r.delivery { return n + m.slots.count }
            return n
        }
    }
    print(String(format: "memory: %d live c-list entries (%d objects; the delivery logs that made them hold %d vrefs): resident set grew %.0f MB = %.0f B per c-list entry, everything included",
                 entries, kernel.state.objects.count, logSlots, Double(after - before) / 1e6, Double(after - before) / Double(entries)))
    let x = VatID(1)
    var longest = 0.0
    var cranks = 0
    let start = clock.now
    let t0 = clock.now
    must { try kernel.terminate(x, reason: "benchmark") }
    let terminating = seconds(clock.now - t0)
    longest = terminating
    var first = 0.0
    while true {
        let s = clock.now
        guard must({ try kernel.step() }) != nil else { break }
        let t = seconds(clock.now - s)
        if cranks == 0 { first = t }
        longest = max(longest, t)
        cranks += 1
    }
    print(String(format: "terminate: the terminating crank took %.1f ms, the first cleanup crank (which orders the c-list) %.1f ms", terminating * 1000, first * 1000))
    let total = seconds(clock.now - start)
    print(String(format: "terminate: vat with %d exports cleaned up in %d cranks (budget %d), %.3f s in all, longest crank %.1f ms", n, cranks, config.cleanupBudget, total, longest * 1000))
    precondition(kernel.audit().isEmpty)
}

// MARK: 5. vatstoreGetNextKey: a walk over a vat's keys, against the scan it replaced.
/// The lookup `vatstoreGetNextKey` did before issue 9: every key of the vat compared with
/// `prior` as Swift strings (canonical equivalence), keeping the smallest greater one.
func formerNextKey(_ keys: [String: String], after prior: String) -> String? {
    var best: String?
    for key in keys.keys where key > prior {
        if best == nil || key < best! { best = key }
    }
    return best
}

/// Walks `calls` keys with one `vatstoreGetNextKey` syscall batch each (one crank per call,
/// as the service runs them) in a vat holding `keys` keys; returns seconds.
func walkVatstore(keys: Int, calls: Int) -> (seconds: Double, setSeconds: Double) {
    let kernel = must { try Kernel() }
    let a = must { try kernel.createVat(name: "a") }.vatID
    // Inserted in a scrambled order, so the index grows from the middle, not only at its end.
    var order = Array(0..<keys)
    var g = SystemRandomNumberGenerator()
    order.shuffle(using: &g)
    let t0 = clock.now
    var i = 0
    while i < keys {
        let batch = order[i..<min(i + 1000, keys)].map { Syscall.vatstoreSet(key: "key\($0)", value: "v") }
        _ = must { try kernel.syscalls(batch, from: a) }
        i += batch.count
    }
    let setSeconds = seconds(clock.now - t0)
    var prior: ByteString = ""
    let start = clock.now
    for _ in 0..<calls {
        guard case .committed(let r) = must({ try kernel.syscalls([.vatstoreGetNextKey(priorKey: prior)], from: a) }),
              case .value(let next?) = r[0] else { fatalError("walk ended early") }
        prior = next
    }
    return (seconds(clock.now - start), setSeconds)
}

func benchVatstore() {
    var former: [String: String] = [:]
    for i in 0..<5_000 { former["key\(i)"] = "v" }
    var prior = ""
    let s0 = clock.now
    for _ in 0..<5_000 { prior = formerNextKey(former, after: prior)! }
    let before = seconds(clock.now - s0)
    print(String(format: "vatstore before: the former scan, 5,000 next-key calls over 5,000 keys: %.3f s (%.1f µs/call)", before, before / 5_000 * 1e6))
    for keys in quick ? [5_000, 100_000] : [5_000, 100_000, 1_000_000] {
        let (t, set) = walkVatstore(keys: keys, calls: 5_000)
        print(String(format: "vatstore after: 5,000 vatstoreGetNextKey cranks over %d keys: %.4f s (%.2f µs/call, crank included); %d vatstoreSet in shuffled order, batches of 1,000: %.2f µs/set",
                     keys, t, t / 5_000 * 1e6, keys, set / Double(keys) * 1e6))
    }
}

print("KernelBench\(quick ? " (quick)" : ""): pure core in memory, no storage, one thread")
let only = CommandLine.arguments.first { $0.hasPrefix("--only=") }.map { String($0.dropFirst(7)) }
// Memory first: resident-set growth is only meaningful before other runs leave freed pages behind.
if only == nil || only == "terminate" { benchTerminate() }
if only == nil || only == "deliveries" { benchDeliveries() }
if only == nil || only == "gc" { benchGCChurn() }
if only == nil || only == "abandon" { benchAbandon() }
if only == nil || only == "vatstore" { benchVatstore() }
