import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Crank hashes and the activity hash chain (issue 10, "Compare two kernels").
@Suite struct CrankHashTests {
    /// Given two fresh kernels, when both are fed the same 1,000 requests (vats created,
    /// host sends, syscall batches legal and illegal, upgrades, terminations), then every crank
    /// has the same crankHash and activityHash in both.
    @Test func sameRequestsGiveTheSameHashesEveryCrank() throws {
        let requests = HashScenario.requests(count: 1_000, seed: 7)
        let a = try HashScenario.run(requests)
        let b = try HashScenario.run(requests)
        #expect(a.count > 1_000)
        #expect(a.count == b.count)
        #expect(a == b)
        // Every kind of request left its mark: the run is not a trivial one.
        #expect(Set(a.map(\.crankHash)).count == a.count)
    }

    /// Given the same 1,000 requests but one changed at request 500, then the hashes agree
    /// on every crank before that request's first crank and differ on it; from there on the
    /// activity hashes differ on every crank.
    @Test func oneChangedRequestMakesThemDifferFromThatCrankOn() throws {
        let requests = HashScenario.requests(count: 1_000, seed: 7)
        var changed = requests
        changed[500] = .vatstore(vat: 0, key: 1, value: 999_999)
        var firstCrankOfChange = 0
        let a = try HashScenario.run(requests)
        let b = try HashScenario.run(changed) { index, crank in
            if index == 500 { firstCrankOfChange = crank }
        }
        #expect(firstCrankOfChange > 0)
        let split = firstCrankOfChange - 1
        #expect(Array(a[..<split]) == Array(b[..<split]))
        #expect(a[split].crank == b[split].crank)
        #expect(a[split].crankHash != b[split].crankHash)
        let common = min(a.count, b.count)
        #expect((split..<common).allSatisfy { a[$0].activityHash != b[$0].activityHash })
    }

    /// The hashes are the store's: after a restart the store reads the last crank's back, and
    /// the chain goes on from them as if it had never stopped.
    @Test func hashesSurviveRestartAndTheChainContinues() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let requests = HashScenario.requests(count: 60, seed: 3)
        let whole = try HashScenario.run(requests)

        var store = try SQLiteStore(path: dir.file("k.sqlite"))
        var kernel = try Kernel(storage: store)
        var interpreter = HashScenario.Interpreter()
        var hashes: [CrankHashes] = []
        for (i, r) in requests.enumerated() {
            if i == 30 {
                try store.flush()
                let before = store.hashes
                store.close()
                store = try SQLiteStore(path: dir.file("k.sqlite"))
                kernel = try Kernel(storage: store)
                #expect(before != nil)
                #expect(store.hashes == before)
                #expect(store.hashes?.crank == kernel.state.counters.crank)
            }
            hashes += try interpreter.apply(r, kernel, store)
        }
        #expect(hashes == whole)
    }

    /// A database from before hashes were kept (version 2) has none until its next crank; the
    /// chain starts there, from the empty activity hash.
    @Test func aVersion2DatabaseStartsItsChainAtItsNextCrank() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v2.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice")
            try store.flush()
            store.close()
        }
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        try undoVersion11(c)
        try c.execute("DROP TABLE event_krefs; DROP TABLE events; DROP TABLE activity; ALTER TABLE vats DROP COLUMN token_sha256; \(Schema.version2) ALTER TABLE vats DROP COLUMN deliveries_acknowledged; PRAGMA user_version = 2; UPDATE meta SET value = 2 WHERE key = 'schema_version'")
        c.close()

        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let recording = RecordingStore(store)
        let kernel = try Kernel(storage: recording)
        #expect(store.hashes == nil)
        try kernel.bringOutYourDead(VatID(1))
        let expected = try CrankHashes.of(#require(recording.last), after: nil)
        #expect(store.hashes == expected)
        #expect(store.hashes?.crank == 2)
    }

    /// The chain's rule, byte for byte: `activityhash\n<previous>\n<crank hash>\n`, the
    /// previous being empty at the first crank; the crank hash covers the canonical encoding.
    /// Expected digests computed independently (Python's hashlib).
    @Test func chainRuleIsSwingStores() throws {
        var delta = CrankDelta(crank: 1, counters: KernelCounters())
        delta.vatstore[VatstoreKey(vat: VatID(1), key: "k")] = "v"
        let encoding = String(decoding: try delta.canonicalEncoding(), as: UTF8.self)
        #expect(encoding == """
            add
            counters
            {"crank":0,"nextObject":20,"nextPromise":40,"nextQueueID":1,"nextVat":1}
            add
            v1.vs."k"
            "v"

            """)
        let first = try CrankHashes.of(delta, after: nil)
        #expect(first.crank == 1)
        #expect(first.crankHash == "8bbc99d7c539641cbcaf2c60e6d22972e4132a2310a2edcbd472ff58ed4f1a87")
        #expect(first.activityHash == "e243b4d367b4e15b94073ad1c9d306dfbcdebcbb453ba137e91fb2537bf56bcc")
        let second = try CrankHashes.of(delta, after: first)
        #expect(second.crankHash == first.crankHash)
        #expect(second.activityHash != first.activityHash)
    }
}

/// A deterministic stream of host requests and the kernels that run them.
enum HashScenario {
    /// A request in terms that do not depend on the state: numbers pick a vat, a ref, a key
    /// from what exists when the request runs.
    enum Request: Hashable {
        case createVat
        case hostSend(vat: Int, arg: Int)
        case send(vat: Int, target: Int, export: Int)
        case resolve(vat: Int, reject: Bool)
        case vatstore(vat: Int, key: Int, value: Int)
        case dropImport(vat: Int, which: Int)
        case abandonExport(vat: Int, which: Int)
        case illegal(vat: Int)
        case upgrade(vat: Int)
        case terminate(vat: Int)
    }

    /// `count` requests from a SplitMix64 stream seeded with `seed`; vats first.
    static func requests(count: Int, seed: UInt64) -> [Request] {
        var random = SplitMix64(seed: seed)
        func next(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        var out: [Request] = [.createVat, .createVat, .createVat]
        while out.count < count {
            let vat = next(1_000), x = next(1_000), y = next(1_000)
            switch next(100) {
            case 0..<4: out.append(.createVat)
            case 4..<20: out.append(.hostSend(vat: vat, arg: x))
            case 20..<45: out.append(.send(vat: vat, target: x, export: y))
            case 45..<58: out.append(.resolve(vat: vat, reject: x % 3 == 0))
            case 58..<72: out.append(.vatstore(vat: vat, key: x % 20, value: y))
            case 72..<80: out.append(.dropImport(vat: vat, which: x))
            case 80..<86: out.append(.abandonExport(vat: vat, which: x))
            case 86..<88: out.append(.illegal(vat: vat))
            case 88..<95: out.append(.upgrade(vat: vat))
            default: out.append(.terminate(vat: vat))
            }
        }
        return out
    }

    /// Runs `requests` on a fresh kernel over an in-memory store; every crank's hashes.
    /// `began(index, crank)` is told the number of each request's first crank.
    static func run(_ requests: [Request], began: (Int, Int) -> Void = { _, _ in }) throws -> [CrankHashes] {
        let store = try SQLiteStore(path: ":memory:", durability: .normal)
        let kernel = try Kernel(storage: store)
        var interpreter = Interpreter()
        var out: [CrankHashes] = []
        for (i, r) in requests.enumerated() {
            began(i, kernel.state.counters.crank + 1)
            out += try interpreter.apply(r, kernel, store)
            if i % 50 == 0 { try store.flush() }
        }
        return out
    }

    /// Turns requests into kernel calls against the state they meet.
    struct Interpreter {
        var nextExport = 1_000
        var nextPromise = 1

        /// Runs one request, then every crank it caused; the hashes of each crank, in order.
        mutating func apply(_ r: Request, _ kernel: Kernel, _ store: SQLiteStore) throws -> [CrankHashes] {
            var out: [CrankHashes] = []
            let before = kernel.state.counters.crank
            try perform(r, kernel)
            if kernel.state.counters.crank > before, let h = store.hashes { out.append(h) }
            while try kernel.step() != nil {
                if let h = store.hashes { out.append(h) }
            }
            return out
        }

        private func live(_ kernel: Kernel) -> [VatID] {
            kernel.state.vats.rows.values.filter(\.isAlive).map(\.id).sorted { $0.number < $1.number }
        }

        /// The vat's c-list entries in vref order, filtered.
        private func entries(_ kernel: Kernel, _ vat: VatID, _ keep: (KRef, CListEntry) -> Bool) -> [(KRef, CListEntry)] {
            kernel.state.clists[vat]!.byKRef.filter { keep($0.key, $0.value) }
                .sorted { $0.value.vref.description < $1.value.vref.description }
        }

        private mutating func perform(_ r: Request, _ kernel: Kernel) throws {
            let vats = live(kernel)
            func pick(_ n: Int) -> VatID? { vats.isEmpty ? nil : vats[n % vats.count] }
            switch r {
            case .createVat:
                _ = try kernel.createVat(name: "vat\(kernel.state.counters.nextVat)")
            case .hostSend(let vat, let arg):
                guard let t = pick(vat), let a = pick(arg) else { return }
                _ = try kernel.queueToKref(target: root(kernel, t), methargs: methargs("hello", [root(kernel, a)]),
                                           result: arg % 2 == 0 ? .ignore : .keep)
            case .send(let vat, let target, let export):
                guard let v = pick(vat) else { return }
                let imports = entries(kernel, v) { k, e in k.isObject && !e.vref.isExport && e.reachable }
                guard !imports.isEmpty else { return }
                let to = imports[target % imports.count].1.vref.description
                let exp = export % 3 == 0 ? "o+d\(nextExport)/1" : "o+\(nextExport)"
                nextExport += 1
                nextPromise += 1
                _ = try kernel.syscalls([send(to, "m\(export % 5)", [exp], result: "p+\(nextPromise)"),
                                         .subscribe(vpid: VRef("p+\(nextPromise)")!)], from: v)
            case .resolve(let vat, let reject):
                guard let v = pick(vat) else { return }
                let decided = entries(kernel, v) { k, _ in
                    k.isPromise && kernel.state.promises[k.number]?.decider == v && kernel.state.promises[k.number]?.state == .unresolved
                }
                guard let p = decided.first else { return }
                _ = try kernel.syscalls([.resolve([VatResolution(vpid: p.1.vref, rejected: reject,
                                                                 data: reject ? .error("no") : CapData(body: .int(vat)))])], from: v)
            case .vatstore(let vat, let key, let value):
                guard let v = pick(vat) else { return }
                _ = try kernel.syscalls([.vatstoreSet(key: "key\(key)", value: "\(value)")], from: v)
            case .dropImport(let vat, let which):
                guard let v = pick(vat) else { return }
                let imports = entries(kernel, v) { k, e in k.isObject && e.vref.isObjectImport && e.reachable }
                guard !imports.isEmpty else { return }
                _ = try kernel.syscalls([.dropImports([imports[which % imports.count].1.vref])], from: v)
            case .abandonExport(let vat, let which):
                guard let v = pick(vat) else { return }
                let exports = entries(kernel, v) { _, e in e.vref.isExport && e.vref != .root }
                guard !exports.isEmpty else { return }
                _ = try kernel.syscalls([.abandonExports([exports[which % exports.count].1.vref])], from: v)
            case .illegal(let vat):
                guard let v = pick(vat) else { return }
                _ = try kernel.syscalls([.vatstoreSet(key: "doomed", value: "x"), .dropImports([VRef("o-99999")!])], from: v)
            case .upgrade(let vat):
                guard let v = pick(vat) else { return }
                _ = try kernel.upgrade(v, UpgradeRequest(upgradeMessage: "upgrade \(vat)",
                                                         startVatSyscalls: [.vatstoreSet(key: "incarnation", value: "\(vat)")]))
            case .terminate(let vat):
                guard vats.count > 4, let v = pick(vat) else { return }
                try kernel.terminate(v, reason: "terminated \(vat)")
            }
        }

        private func root(_ kernel: Kernel, _ vat: VatID) -> KRef { kernel.state.clists[vat]![VRef.root]! }
    }
}

/// Passes every call to a SQLite store and keeps the last delta, to hash it again.
final class RecordingStore: KernelStorage {
    let inner: SQLiteStore
    var last: CrankDelta?
    init(_ inner: SQLiteStore) { self.inner = inner }
    func load() throws -> KernelState? { try inner.load() }
    func commit(_ delta: CrankDelta) throws {
        try inner.commit(delta)
        last = delta
    }
    func flush() throws { try inner.flush() }
    func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        try inner.deliveries(vat, after: after, limit: limit, maxBytes: maxBytes)
    }
}
