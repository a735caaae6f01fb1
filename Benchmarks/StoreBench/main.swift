// Store benchmarks: what durability costs, in one run on one disk.
//
//   (a) a raw SQLite loop (CSQLite calls, no KernelStore) committing the rows a 1-send
//       syscall-batch crank writes, at synchronous FULL and NORMAL;
//   (b) the kernel persisting that crank through SQLiteStore, flush per crank, FULL and NORMAL;
//   (c) the same with a flush every 16 and every 64 cranks (and the raw loop grouped alike);
//   (d) start-up time for a database with 1,000,000 objects (built once, cached).
//
// (a)–(c) run as interleaved slices (every configuration once per round, in turn) and report
// the median rate over the rounds, so a noisy neighbour hurts all of them alike.
//
// Run from the package root: swift run -c release StoreBench [options]
//   --dir DIR        where the databases go (default .build-bench, on the disk of the checkout)
//   --rounds N       rounds of slices (default 11)     --slice S   seconds per slice (default 0.5)
//   --seed N         the order of the slices (default: the process id; printed)
//   --objects N      objects in the start-up database (default 1000000)
//   --only=cranks | --only=startup                     --quick     3 rounds of 0.2 s, 100k objects
//   --groups=1,16,64 --durability=full,normal          which crank slices to run (default: all)
// See Benchmarks/README.md, "Durable store".
import CSQLite
import Foundation
import KernelStore
import VatKernel
import TestSupport

// MARK: - Options

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return args.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
}

let quick = CommandLine.arguments.contains("--quick")
let only = option("--only")
let rounds = option("--rounds").flatMap(Int.init) ?? (quick ? 3 : 11)
let sliceSeconds = option("--slice").flatMap(Double.init) ?? (quick ? 0.2 : 0.5)
let startupObjects = option("--objects").flatMap(Int.init) ?? (quick ? 100_000 : 1_000_000)
let baseDir = option("--dir") ?? ".build-bench"
let seed = option("--seed").flatMap(UInt64.init) ?? UInt64(getpid())
/// The crank slices to run (all by default): `--groups=1,64`, `--durability=normal`.
let groups = option("--groups").map { $0.split(separator: ",").compactMap { Int($0) } } ?? [1, 16, 64]
let durabilities = option("--durability").map { $0.split(separator: ",").compactMap { SQLiteStore.Durability(rawValue: String($0)) } }
    ?? [.full, .normal]
let clock = ContinuousClock()

/// CPU time this process has used (user + system), in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func must<T>(_ what: String, _ f: () throws -> T) -> T {
    do { return try f() } catch { fatalError("StoreBench: \(what) failed: \(error)") }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
}

/// The mounted file system holding `path`, from /proc/self/mounts (longest matching mount point).
func fileSystem(of path: String) -> String {
    guard let real = realpath(path, nil) else { return "?" }
    let resolved = String(cString: real)
    free(real)
    guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return resolved }
    var best: (mount: String, line: String) = ("", "?")
    for line in mounts.split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count >= 4 else { continue }
        let mount = String(f[1])
        let inside = mount == "/" || resolved == mount || resolved.hasPrefix(mount + "/")
        if inside, mount.count >= best.mount.count { best = (mount, "\(f[0]) (\(f[2]), mounted on \(mount), \(f[3]))") }
    }
    return "\(resolved) on \(best.line)"
}

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

// MARK: - The crank under test

/// A 1-send syscall batch: vat A sends `ping()` to B's root (its import o-50) with a new result
/// promise p+N. The crank the service runs for `POST /vats/v1/syscalls` with one send.
func sendBatch(_ n: Int) -> [Syscall] {
    [.send(target: VRef("o-50")!, methargs: CapData(body: .array([.string("ping"), .array([])]), slots: []),
           result: VRef(kind: .promise, allocatedByVat: true, id: n))]
}

/// Two vats, A holding B's root as o-50.
func setUpVats(_ kernel: Kernel) -> VatID {
    let a = must("create vat a") { try kernel.createVat(name: "a") }
    let b = must("create vat b") { try kernel.createVat(name: "b") }
    _ = must("meet") {
        try kernel.queueToKref(target: a.rootKref, methargs: CapData(body: .array([.string("meet"), .array([.slot(0)])]), slots: [b.rootKref]), result: .none)
    }
    _ = must("run") { try kernel.run() }
    return a.vatID
}

/// Forwards to a store and keeps the last delta: how the crank's row shape is found.
final class Recorder: KernelStorage {
    let inner: any KernelStorage
    var last: CrankDelta?
    init(_ inner: any KernelStorage) { self.inner = inner }
    func load() throws -> KernelState? { try inner.load() }
    func commit(_ delta: CrankDelta) throws {
        last = delta
        try inner.commit(delta)
    }
    func flush() throws { try inner.flush() }
    func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        try inner.deliveries(vat, after: after, limit: limit, maxBytes: maxBytes)
    }
}

/// Rows a delta writes, per table, "new" for a key the state did not have before the crank.
func rowShape(_ d: CrankDelta, before: KernelState) -> [String] {
    var rows = ["counters update"]
    for (id, v) in d.objects { rows.append("objects \(v == nil ? "delete" : before.objects[id] == nil ? "new" : "update")") }
    for (id, v) in d.promises { rows.append("promises \(v == nil ? "delete" : before.promises[id] == nil ? "new" : "update")") }
    for (id, v) in d.vats { rows.append("vats \(v == nil ? "delete" : before.vats[id] == nil ? "new" : "update")") }
    for (k, v) in d.clistEntries {
        rows.append("clist \(v == nil ? "delete" : before.clists[k.vat]?[k.kref] == nil ? "new" : "update")")
    }
    for (k, v) in d.vatstore {
        rows.append("vatstore \(v == nil ? "delete" : before.vatstores[k.vat]?[k.key] == nil ? "new" : "update")")
    }
    rows += d.queueRemovals.map { _ in "queue delete" } + d.queueAdds.map { _ in "queue new" }
    rows += d.gcActions.map { "gc_actions \($0.value != nil ? "new" : "delete")" }
    rows += d.pins.map { "pins \($0.value != nil ? "upsert" : "delete")" }
    rows += d.heldResults.map { "held_results \($0.value != nil ? "new" : "delete")" }
    rows += d.deliveries.map { _ in "deliveries new" }
    return rows.sorted()
}

/// The row shape `RawLoop` writes per crank; checked against the kernel's at start.
let rawShape = ["clist new", "counters update", "objects update", "promises new", "queue new"]

// MARK: - (a) The raw loop

/// The SQLite floor: the same rows as the crank, written with prepared statements on a
/// database of the same schema and settings, one `BEGIN IMMEDIATE … COMMIT` per group.
final class RawLoop {
    let db: OpaquePointer
    let begin, commit, counters, object, promise, clist, queue: OpaquePointer
    let group: Int
    var n = 0
    var staged = 0

    init(path: String, durability: SQLiteStore.Durability, group: Int) {
        self.group = group
        // The schema as the store makes it, then the store is gone.
        must("create the raw database") { try SQLiteStore(path: path, durability: durability) }.close()
        var h: OpaquePointer?
        guard sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let h else {
            fatalError("StoreBench: cannot open \(path)")
        }
        db = h
        func exec(_ sql: String) {
            var err: UnsafeMutablePointer<CChar>?
            if sqlite3_exec(h, sql, nil, nil, &err) != SQLITE_OK {
                fatalError("StoreBench: \(sql): \(err.map { String(cString: $0) } ?? "?")")
            }
        }
        func prep(_ sql: String) -> OpaquePointer {
            var s: OpaquePointer?
            guard sqlite3_prepare_v3(h, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil) == SQLITE_OK, let s else {
                fatalError("StoreBench: prepare \(sql): \(String(cString: sqlite3_errmsg(h)))")
            }
            return s
        }
        // The settings SQLiteStore uses.
        exec("PRAGMA journal_mode = WAL")
        exec("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        exec("PRAGMA cache_size = -32768")
        exec("PRAGMA journal_size_limit = 67108864")
        sqlite3_busy_timeout(h, 5_000)
        exec("INSERT INTO objects (id, owner, reachable, recognizable) VALUES (21, 'v2', 1, 1)")
        // The statements SQLiteStore prepares for these tables.
        begin = prep("BEGIN IMMEDIATE")
        commit = prep("COMMIT")
        counters = prep("""
            INSERT INTO counters (id, next_object, next_promise, next_vat, next_queue_id, crank)
            VALUES (1, ?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (id) DO UPDATE SET next_object = ?1, next_promise = ?2, next_vat = ?3,
                next_queue_id = ?4, crank = ?5
            """)
        object = prep("INSERT OR REPLACE INTO objects (id, owner, reachable, recognizable) VALUES (?1, ?2, ?3, ?4)")
        promise = prep("""
            INSERT OR REPLACE INTO promises (id, state, decider, subscribers, queue, data, refcount)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """)
        clist = prep("INSERT OR REPLACE INTO clist (vat, kref, vref, reachable) VALUES (?1, ?2, ?3, ?4)")
        queue = prep("INSERT INTO queue (id, queue_name, event) VALUES (?1, ?2, ?3)")
    }

    private func run(_ s: OpaquePointer) {
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE else { fatalError("StoreBench: raw step: \(String(cString: sqlite3_errmsg(db)))") }
        sqlite3_reset(s)
    }

    private func text(_ s: OpaquePointer, _ i: Int32, _ v: String) {
        var v = v
        v.withUTF8 { b in
            b.withMemoryRebound(to: CChar.self) { _ = sqlite3_bind_text(s, i, $0.baseAddress, Int32($0.count), transient) }
        }
    }

    /// One crank's rows: counters, B's root (its refcounts), the new result promise, A's c-list
    /// entry for it, and the queued send (its JSON as the store writes it).
    func crank() {
        if staged == 0 { run(begin) }
        n += 1
        let kp = 40 + n
        sqlite3_bind_int64(counters, 1, 22)
        sqlite3_bind_int64(counters, 2, Int64(kp + 1))
        sqlite3_bind_int64(counters, 3, 3)
        sqlite3_bind_int64(counters, 4, Int64(n + 3))
        sqlite3_bind_int64(counters, 5, Int64(n + 5))
        run(counters)
        sqlite3_bind_int64(object, 1, 21)
        text(object, 2, "v2")
        sqlite3_bind_int64(object, 3, Int64(n + 2))
        sqlite3_bind_int64(object, 4, Int64(n + 2))
        run(object)
        sqlite3_bind_int64(promise, 1, Int64(kp))
        text(promise, 2, "unresolved")
        sqlite3_bind_null(promise, 3)
        text(promise, 4, "[]")
        text(promise, 5, "[]")
        sqlite3_bind_null(promise, 6)
        sqlite3_bind_int64(promise, 7, 2)
        run(promise)
        text(clist, 1, "v1")
        text(clist, 2, "kp\(kp)")
        text(clist, 3, "p+\(n)")
        sqlite3_bind_int64(clist, 4, 1)
        run(clist)
        sqlite3_bind_int64(queue, 1, Int64(n + 2))
        text(queue, 2, "acceptance")
        text(queue, 3, #"{"message":{"methargs":{"body":["ping",[]],"slots":[]},"result":"kp\#(kp)"},"target":"ko21","type":"send"}"#)
        run(queue)
        staged += 1
        if staged == group { flush() }
    }

    func flush() {
        guard staged > 0 else { return }
        run(commit)
        staged = 0
    }

    func close() {
        for s in [begin, commit, counters, object, promise, clist, queue] { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }
}

nonisolated(unsafe) private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

// MARK: - (b), (c) The kernel on SQLiteStore

final class KernelLoop {
    /// Nil: the kernel keeps its state in memory only (the CPU cost of the crank itself).
    let store: SQLiteStore?
    let kernel: Kernel
    let vat: VatID
    let group: Int
    var n = 0
    var staged = 0

    init(path: String?, durability: SQLiteStore.Durability, group: Int, events: Bool = true) {
        self.group = group
        let store = path.map { p in must("open the store") { try SQLiteStore(path: p, durability: durability) } }
        store?.writesEvents = events
        let kernel = must("make the kernel") { try Kernel(storage: store) }
        self.store = store
        self.kernel = kernel
        vat = setUpVats(kernel)
        must("flush") { try store?.flush() }
    }

    /// One crank; the store is flushed every `group` cranks, as the service does for a group
    /// of waiting requests.
    func crank() {
        n += 1
        let outcome = must("syscall batch") { try kernel.syscalls(sendBatch(n), from: vat) }
        guard case .committed = outcome else { fatalError("StoreBench: the batch was not committed: \(outcome)") }
        staged += 1
        if staged == group { flush() }
    }

    func flush() {
        guard staged > 0 else { return }
        must("flush") { try store?.flush() }
        staged = 0
    }

    func close() { store?.close() }
}

// MARK: - Slices

enum Subject: String {
    case raw = "raw SQLite", kernel = "kernel + SQLiteStore", noEvents = "kernel + SQLiteStore, no events", memory = "kernel, no storage"
}

final class Configuration {
    let subject: Subject
    let durability: SQLiteStore.Durability
    let group: Int
    let path: String
    var raw: RawLoop?
    var kernel: KernelLoop?
    var rates: [Double] = []
    var total = 0
    /// Per slice, the process's CPU time (user + system) per crank, in µs: what the crank costs
    /// apart from waiting for the disk or for a core the machine's other work holds.
    var cpuPerCrank: [Double] = []
    /// Cranks since the database was made: past `resetAfter` it is made again (outside the
    /// timed slices), so no configuration runs on a much bigger file than another.
    var sinceReset = 0
    static let resetAfter = 400_000

    init(_ subject: Subject, _ durability: SQLiteStore.Durability, group: Int, dir: String) {
        self.subject = subject
        self.durability = durability
        self.group = group
        path = "\(dir)/\(subject)-\(durability.rawValue)-\(group).sqlite"
        open()
    }

    var label: String {
        if subject == .memory { return "\(subject.rawValue) (the crank's CPU cost)" }
        let commit = group == 1 ? "commit per crank" : "commit per \(group) cranks"
        return "\(subject.rawValue), \(durability.rawValue.uppercased()), \(commit)"
    }

    func open() {
        removeDatabase(path)
        switch subject {
        case .raw: raw = RawLoop(path: path, durability: durability, group: group)
        case .kernel: kernel = KernelLoop(path: path, durability: durability, group: group)
        case .noEvents: kernel = KernelLoop(path: path, durability: durability, group: group, events: false)
        case .memory: kernel = KernelLoop(path: nil, durability: durability, group: group)
        }
        sinceReset = 0
    }

    func close() {
        raw?.close()
        kernel?.close()
        raw = nil
        kernel = nil
    }

    /// Cranks for `duration` seconds, then the last partial group is committed inside the slice too.
    /// Returns cranks per second.
    @discardableResult
    func slice(_ duration: Double) -> Double {
        if sinceReset > Self.resetAfter {
            close()
            open()
        }
        let deadline = clock.now + .milliseconds(Int(duration * 1000))
        let cpuBefore = cpuSeconds()
        let start = clock.now
        var cranks = 0
        if let raw {
            repeat {
                raw.crank()
                cranks += 1
            } while cranks % group != 0 || clock.now < deadline
            raw.flush()
        } else if let kernel {
            repeat {
                kernel.crank()
                cranks += 1
            } while cranks % group != 0 || clock.now < deadline
            kernel.flush()
        }
        let t = seconds(clock.now - start)
        cpuPerCrank.append((cpuSeconds() - cpuBefore) * 1e6 / Double(cranks))
        total += cranks
        sinceReset += cranks
        return Double(cranks) / t
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

func benchCranks(dir: String) {
    // The crank's row shape, from the kernel's own delta.
    let recorder = Recorder(must("open :memory:") { try SQLiteStore(path: ":memory:") })
    let probe = must("probe kernel") { try Kernel(storage: recorder) }
    let a = setUpVats(probe)
    _ = must("probe crank") { try probe.syscalls(sendBatch(1), from: a) }
    let before = probe.state
    _ = must("probe crank") { try probe.syscalls(sendBatch(2), from: a) }
    let shape = rowShape(recorder.last!, before: before)
    print("the crank: a 1-send syscall batch (A sends ping() to B's root, result p+N); its CrankDelta writes \(shape.count) rows: \(shape.joined(separator: ", "))")
    if shape != rawShape {
        print("WARNING: the raw loop writes \(rawShape.joined(separator: ", ")): it no longer mirrors the crank; update RawLoop")
    }

    var configs: [Configuration] = []
    for group in groups {
        for d in durabilities {
            configs.append(Configuration(.raw, d, group: group, dir: dir))
            configs.append(Configuration(.kernel, d, group: group, dir: dir))
            configs.append(Configuration(.noEvents, d, group: group, dir: dir))
        }
    }
    configs.append(Configuration(.memory, .full, group: 1, dir: dir))
    print(String(format: "%d configurations × %d rounds of %.2f s slices, interleaved in a new random order each round (seed %llu), sync(2) before each slice; one warm-up slice each first", configs.count, rounds, sliceSeconds, seed))
    for c in configs {
        sync()
        c.slice(min(0.2, sliceSeconds))
    }
    var rng = SplitMix64(seed: seed)
    for r in 1...rounds {
        // A new order each round, so no configuration always follows the same one; and no
        // slice pays for the write-back of another's unsynced pages.
        for c in configs.shuffled(using: &rng) {
            sync()
            c.rates.append(c.slice(sliceSeconds))
        }
        FileHandle.standardError.write("round \(r)/\(rounds) done\n".data(using: .utf8)!)
    }
    for c in configs { c.close() }

    print("")
    print(pad("configuration", 52) + lpad("median cranks/s", 16) + lpad("min", 10) + lpad("max", 10) + lpad("CPU µs", 10) + "   kernel/raw (median of per-round ratios)")
    for c in configs {
        var line = pad(c.label, 52) + lpad(String(format: "%.0f", median(c.rates)), 16)
            + lpad(String(format: "%.0f", c.rates.min() ?? 0), 10) + lpad(String(format: "%.0f", c.rates.max() ?? 0), 10) + lpad(String(format: "%.1f", median(c.cpuPerCrank)), 10)
        if c.subject == .kernel, let raw = configs.first(where: { $0.subject == .raw && $0.durability == c.durability && $0.group == c.group }) {
            let ratios = zip(c.rates, raw.rates).map { $0 / $1 }
            line += String(format: "   %.0f%% (ratio of medians %.0f%%)", median(ratios) * 100, median(c.rates) / median(raw.rates) * 100)
        }
        print(line)
    }
    print("")
    for d in durabilities where groups.contains(1) {
        let raw = configs.first { $0.subject == .raw && $0.durability == d && $0.group == 1 }!
        let kernel = configs.first { $0.subject == .kernel && $0.durability == d && $0.group == 1 }!
        let ratio = median(zip(kernel.rates, raw.rates).map { $0 / $1 })
        print(String(format: "per-crank commits at %@: kernel %.0f/s vs raw %.0f/s = %.0f%% of raw (goal ≥ 80%%): %@",
                     d.rawValue.uppercased(), median(kernel.rates), median(raw.rates), ratio * 100, ratio >= 0.8 ? "met" : "NOT met"))
    }
    // What the event log costs: the same crank with and without its events (issue 10's goal:
    // events cost at most 25% of the crank rate).
    for group in groups {
        for d in durabilities {
            let with = configs.first { $0.subject == .kernel && $0.durability == d && $0.group == group }!
            let without = configs.first { $0.subject == .noEvents && $0.durability == d && $0.group == group }!
            let ratio = median(zip(with.rates, without.rates).map { $0 / $1 })
            let cpuRatio = median(zip(without.cpuPerCrank, with.cpuPerCrank).map { $0 / $1 })
            print(String(format: "events at %@, commit per %d: %.0f/s with, %.0f/s without: events cost %.0f%% of the crank rate (goal ≤ 25%%): %@; CPU per crank %.1f µs with, %.1f µs without: on CPU alone events cost %.0f%%",
                         d.rawValue.uppercased(), group, median(with.rates), median(without.rates), (1 - ratio) * 100,
                         1 - ratio <= 0.25 ? "met" : "NOT met", median(with.cpuPerCrank), median(without.cpuPerCrank), (1 - cpuRatio) * 100))
        }
    }
    // Where the time of a crank goes, in µs, from the medians.
    let memory = configs.first { $0.subject == .memory }!
    print(String(format: "the crank alone (kernel, no storage): %.1f µs", 1e6 / median(memory.rates)))
    for group in groups {
        for d in durabilities {
            let raw = configs.first { $0.subject == .raw && $0.durability == d && $0.group == group }!
            let kernel = configs.first { $0.subject == .kernel && $0.durability == d && $0.group == group }!
            print(String(format: "  %@, commit per %d: raw %.1f µs per crank, kernel + store %.1f µs: %.1f µs more",
                         d.rawValue.uppercased(), group, 1e6 / median(raw.rates), 1e6 / median(kernel.rates),
                         1e6 / median(kernel.rates) - 1e6 / median(raw.rates)))
        }
    }
}

// MARK: - (d) Start-up with 1,000,000 objects

/// Serves a state already loaded, so `Kernel(storage:)` is timed apart from `load()`.
final class Preloaded: KernelStorage {
    let state: KernelState?
    let store: SQLiteStore
    init(_ state: KernelState?, _ store: SQLiteStore) {
        self.state = state
        self.store = store
    }
    func load() throws -> KernelState? { state }
    func commit(_ delta: CrankDelta) throws { try store.commit(delta) }
    func flush() throws { try store.flush() }
    func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        try store.deliveries(vat, after: after, limit: limit, maxBytes: maxBytes)
    }
}

/// Vat X exports `objects` objects to vat Y, 1,000 per message: `objects` kernel objects, twice
/// as many c-list entries, and Y's delivery log holding every import.
func buildStartupDatabase(_ path: String, objects: Int) {
    let tmp = path + ".building"
    removeDatabase(tmp)
    let start = clock.now
    let store = must("create \(tmp)") { try SQLiteStore(path: tmp, durability: .normal) }
    let kernel = must("kernel") { try Kernel(storage: store) }
    let x = must("create x") { try kernel.createVat(name: "x") }
    let y = must("create y") { try kernel.createVat(name: "y") }
    _ = must("meet") {
        try kernel.queueToKref(target: x.rootKref, methargs: CapData(body: .array([.string("meet"), .array([.slot(0)])]), slots: [y.rootKref]), result: .none)
    }
    _ = must("run") { try kernel.run() }
    var id = 1
    while kernel.state.objects.count < objects {
        let count = min(1000, objects - kernel.state.objects.count)
        let slots = (id..<id + count).map { VRef(kind: .object, allocatedByVat: true, id: $0) }
        id += count
        let m = CapData(body: .array([.string("take"), .array(slots.indices.map { JSONValue.slot($0) })]), slots: slots)
        _ = must("send") { try kernel.syscalls([.send(target: VRef("o-50")!, methargs: m, result: nil)], from: x.vatID) }
        _ = must("run") { try kernel.run() }
        if id % 50_000 < 1000 { must("flush") { try store.flush() } }
    }
    must("flush") { try store.flush() }
    precondition(kernel.audit().isEmpty, "the built kernel fails its audit")
    store.close()
    guard rename(tmp, path) == 0 else { fatalError("StoreBench: cannot rename \(tmp) to \(path)") }
    print(String(format: "built %@ in %.1f s", path, seconds(clock.now - start)))
}

/// `SELECT count(*)` of a table, read-only; 0 if that fails.
func countRows(_ path: String, _ table: String) -> Int {
    var db: OpaquePointer?
    defer { sqlite3_close_v2(db) }
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { return 0 }
    var st: OpaquePointer?
    defer { sqlite3_finalize(st) }
    guard sqlite3_prepare_v2(db, "SELECT count(*) FROM \(table)", -1, &st, nil) == SQLITE_OK, sqlite3_step(st) == SQLITE_ROW else { return 0 }
    return Int(sqlite3_column_int64(st, 0))
}

/// Drops the file's pages from the page cache (after writing back any dirty ones).
func evictFromPageCache(_ path: String) {
    for p in [path, path + "-wal"] {
        let fd = Glibc.open(p, O_RDONLY)
        guard fd >= 0 else { continue }
        fsync(fd)
        posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        Glibc.close(fd)
    }
}

func benchStartup(cacheDir: String) {
    let path = "\(cacheDir)/startup-\(startupObjects)-objects.sqlite"
    var cached = false
    if access(path, F_OK) == 0 {
        // Reusable only if this build opens it and it still has what it should.
        if let s = try? SQLiteStore(path: path) {
            s.close()
            cached = countRows(path, "objects") >= startupObjects
        }
        if !cached { removeDatabase(path) }
    }
    if cached {
        print("start-up database: \(path) (cached; delete it to rebuild)")
    } else {
        buildStartupDatabase(path, objects: startupObjects)
        print("(built by this process: the first run below is not in a fresh process; run again for that)")
    }
    var size = stat()
    stat(path, &size)
    print(String(format: "start-up database: %.0f MB", Double(size.st_size) / 1e6))

    for run in 0..<3 {
        // The first run: the file evicted from the page cache, and (unless the database was
        // just built) a process that has not allocated yet, as at a service start. The warm
        // runs reuse the memory the earlier ones freed.
        let cold = run == 0
        if cold { evictFromPageCache(path) }
        let rss0 = residentBytes()
        let t0 = clock.now
        let store = must("open") { try SQLiteStore(path: path) }
        let t1 = clock.now
        let state = must("load") { try store.load() }
        let t2 = clock.now
        let kernel = must("kernel") { try Kernel(storage: Preloaded(state, store)) }
        let t3 = clock.now
        let problems = kernel.audit()
        let t4 = clock.now
        let rss = residentBytes() - rss0
        let s = kernel.state
        let entries = s.clists.rows.values.reduce(0) { $0 + $1.count }
        let logs = s.deliveryLogs.rows.values.reduce(0) { $0 + $1.count }
        if run == 0 {
            print("  it holds \(s.objects.count) objects, \(entries) c-list entries, \(s.vats.count) vats, \(logs) delivery-log records")
        }
        print(String(format: "  %@: SQLiteStore(path:) %.1f ms, load() %.2f s, Kernel(storage:) %.3f ms, audit() %.2f s (%d problems): %.2f s in all%@",
                     cold ? "first (file evicted from the page cache)" : "again (warm)", seconds(t1 - t0) * 1000, seconds(t2 - t1), seconds(t3 - t2) * 1000,
                     seconds(t4 - t3), problems.count, seconds(t4 - t0),
                     cold ? String(format: "; resident set grew %.0f MB", Double(rss) / 1e6) : ""))
        store.close()
    }
}

// MARK: - Main

mkdir(baseDir, 0o755)
let runDir = "\(baseDir)/tmp-\(getpid())"
mkdir(runDir, 0o755)
defer { _ = try? FileManager.default.removeItem(atPath: runDir) }
print("StoreBench\(quick ? " (quick)" : ""): databases in \(fileSystem(of: runDir)); SQLite \(String(cString: sqlite3_libversion()))")
// Start-up first: its first run is then in a fresh process, as a service start is.
if only == nil || only == "startup" { benchStartup(cacheDir: baseDir) }
if only == nil || only == "cranks" {
    if only == nil { print("") }
    benchCranks(dir: runDir)
}
try? FileManager.default.removeItem(atPath: runDir)
