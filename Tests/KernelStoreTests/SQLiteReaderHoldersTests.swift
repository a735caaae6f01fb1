import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Issue 9 part 3: a reader thread answers `GET /objects/{kref}` and `GET /promises/{kpid}`
/// from a snapshot, so it finds a kref's holders in the rows (`SQLiteReader.holders(of:)`)
/// exactly as the kernel finds them in memory (`Kernel.holders(of:)`), the c-list entries by a
/// lookup in `clist_by_kref` (schema version 12).
@Suite struct SQLiteReaderHoldersTests {
    /// Given the rich scenario (c-lists of five kinds of vat, all three queues, a promise queue,
    /// settled promises, pins, held results, vat parameters naming krefs, an orphan), flushed,
    /// and then an exit whose reason names krefs the host holds from then on, flushed: in each
    /// state, for every kref ever allocated and a few never allocated, the snapshot's holders
    /// are the kernel's, in the kernel's order.
    @Test func theSnapshotsHoldersOfEveryKRefAreTheKernels() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("k.sqlite")
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let kernel = try Kernel(configuration: RichScenario.configuration, storage: store)
        try RichScenario.build(kernel, flush: store.flush)
        try store.flush()
        let reader = try SQLiteReader(path: path)
        defer { reader.close() }
        var kinds = Set<Holder.Kind>()
        var most = 0
        func compare(_ when: String) throws {
            let counters = kernel.state.counters
            let krefs = (20..<counters.nextObject + 2).map(KRef.object) + (40..<counters.nextPromise + 2).map(KRef.promise)
            for kref in krefs {
                let expected = kernel.holders(of: kref)
                #expect(try reader.snapshot { try reader.holders(of: kref) } == expected, "\(when): \(kref)")
                kinds.formUnion(expected.map(\.kind))
                most = max(most, expected.count)
                // And the rows the answer shows with them.
                let (o, p) = try reader.snapshot { (try reader.object(kref.number), try reader.promise(kref.number)) }
                #expect(kref.isObject ? o == kernel.state.objects[kref.number] : p == kernel.state.promises[kref.number], "\(when): \(kref)")
            }
        }
        try compare("the rich scenario")
        // Alice exits naming her root and a new promise: the host holds both (terminationReason).
        let reason = CapData<VRef>(body: .array([.slot(0), .slot(1)]), slots: [v("o+0"), v("p+77")])
        _ = try kernel.syscalls([.exit(isFailure: false, info: reason)], from: VatID(1))
        try store.flush()
        #expect(kernel.state.vats[VatID(1)]?.termination?.reasonHeld == true)
        try compare("after alice's exit")
        // The states reach every kind of holder, and some kref has several.
        #expect(kinds == [.importer, .exporter, .queuedEvent, .promiseQueue, .resolutionData, .pin, .hostResult,
                          .vatParameters, .terminationReason])
        #expect(most >= 4)
    }

    /// The holders' c-list entries are one index search, not a scan of every vat's c-list.
    @Test func theCListEntriesOfAKRefAreAnIndexSearch() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("k.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            _ = try Kernel(storage: store).createVat(name: "alice")
            try store.flush()
            store.close()
        }
        let c = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { c.close() }
        let plan = try c.prepare("EXPLAIN QUERY PLAN SELECT vat, vref, reachable FROM clist WHERE kref = ?1")
        defer { plan.finalize() }
        var details: [String] = []
        while try plan.step() { details.append(plan.text(3) ?? "") }
        #expect(details.count == 1 && details[0].hasPrefix("SEARCH clist USING ") && details[0].contains("INDEX clist_by_kref (kref=?)"),
                "\(details)")
    }

    /// Given a version-11 database (no `clist_by_kref`, one row per event) with c-lists, when it
    /// is opened, then it is at the current version, has the index, and every row of every table
    /// is as the current version wrote it before the database was taken back (so version 13's
    /// regrouping of the events by crank gives back exactly the rows the store writes).
    @Test func aVersion11DatabaseGainsTheIndexAndKeepsItsRows() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v11.sqlite")
        let state: KernelState
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(configuration: RichScenario.configuration, storage: store)
            try RichScenario.build(kernel, flush: store.flush)
            try store.flush()
            state = kernel.state
            store.close()
        }
        let rows = try dump(path)
        do {
            let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
            try undoVersion12(c)
            try c.execute("PRAGMA user_version = 11; UPDATE meta SET value = 11 WHERE key = 'schema_version'")
            c.close()
        }
        #expect(rows.contains { $0.hasPrefix("clist: ") })
        #expect(rows.contains { $0.hasPrefix("events: ") })
        let indexes = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'clist_by_kref' AND tbl_name = 'clist'"
        do {
            let c = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
            #expect(try c.integer(indexes) == 0)
            c.close()
        }

        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.load() == state)
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("PRAGMA user_version") == 13)
        #expect(Schema.currentVersion == 13)
        #expect(try check.integer("SELECT value FROM meta WHERE key = 'schema_version'") == 13)
        #expect(try check.integer(indexes) == 1)
        #expect(try dump(path) == rows)
    }
}
