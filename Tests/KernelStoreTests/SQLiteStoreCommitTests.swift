import Foundation
import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Crank atomicity and group commit: a crank is in the store whole or not at all, and a
/// group of cranks is durable only once flushed, all of it.
@Suite struct SQLiteStoreCommitTests {
    /// A kernel on a new store in `dir`, with two vats that know each other, flushed.
    func twoVats(_ dir: TempDir) throws -> (SQLiteStore, Kernel, VatID, VatID) {
        let store = try SQLiteStore(path: dir.file("k.sqlite"))
        let kernel = try Kernel(storage: store)
        let a = try kernel.createVat(name: "a")
        let b = try kernel.createVat(name: "b")
        _ = try kernel.queueToKref(target: b.rootKref, methargs: methargs("meet", [a.rootKref]), result: .none)
        _ = try kernel.drain()
        try store.flush()
        return (store, kernel, a.vatID, b.vatID)
    }

    /// A batch that touches many tables: new exports, a promise, a queued send, the vatstore.
    func busyBatch(_ n: Int) -> [Syscall] {
        [send("o-50", "take", ["o+\(100 + n)", "o+\(200 + n)"], result: "p+\(n)"), .subscribe(vpid: v("p+\(n)")),
         .vatstoreSet(key: "key\(n)", value: ByteString(String(repeating: "v", count: 100)))]
    }

    @Test func aCrankThatFailsHalfWrittenLeavesNoRowAndNoChange() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        let rowsBefore = try dump(store.path)
        let stateBefore = kernel.state

        // Given a store that fails after three row writes of the next crank,
        store.failAfterWrites = 3
        // when a crank that writes more rows than that commits,
        #expect(throws: KernelError.self) { try kernel.syscalls(busyBatch(1), from: b) }
        store.failAfterWrites = nil

        // then the kernel is as before, no transaction is left holding the write lock,
        #expect(kernel.state == stateBefore)
        #expect(try store.open().0.isAutocommit)
        // and after a flush the store has not one row of it.
        try store.flush()
        #expect(try dump(store.path) == rowsBefore)
        #expect(try store.load() == stateBefore)
    }

    @Test func aFailedCrankInsideAGroupKeepsTheCranksAroundIt() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }

        _ = try kernel.syscalls(busyBatch(1), from: b)
        store.failAfterWrites = 2
        #expect(throws: KernelError.self) { try kernel.syscalls(busyBatch(2), from: b) }
        store.failAfterWrites = nil
        _ = try kernel.syscalls(busyBatch(3), from: b)
        #expect(store.stagedCranks == 2)
        try store.flush()

        #expect(store.stagedCranks == 0)
        #expect(differences(try store.load(), kernel.state) == [])
        #expect(kernel.state.vatstores[b]?["key2"] == nil)
        #expect(kernel.state.vatstores[b]?["key3"] != nil)
    }

    /// After a lost group: the kernel undoes it, and the kernel, the file and the store's
    /// connection (a new one, outside any transaction) are all at the durable point.
    func expectUndoneToTheDurablePoint(_ store: SQLiteStore, _ kernel: Kernel, _ durable: KernelState, rows: [String]) throws {
        #expect(kernel.undoGroup())
        #expect(kernel.state == durable)
        #expect(try store.open().0.isAutocommit)
        #expect(try dump(store.path) == rows)
        #expect(try store.load() == durable)
    }

    /// A group of `batches` then commits on top of that point: another store opened on the
    /// file loads exactly the kernel's state.
    func expectAGroupBuildsOnIt(_ store: SQLiteStore, _ kernel: Kernel, _ b: VatID, batches: [Int]) throws {
        kernel.beginGroup()
        for n in batches { _ = try kernel.syscalls(busyBatch(n), from: b) }
        try store.flush()
        kernel.groupIsDurable()
        let other = try SQLiteStore(path: store.path)
        defer { other.close() }
        #expect(differences(try other.load(), kernel.state) == [])
    }

    /// If even ROLLBACK fails, the lost group must not live on in the connection's open
    /// transaction, where the next crank's savepoint would build on it and the next flush make
    /// it durable: the store drops the connection (SQLite rolls its transaction back) and
    /// opens a new one on the file, so the next crank builds on the durable point.
    @Test func aRollbackThatFailsDropsTheConnectionAndTheNextCrankBuildsOnTheDurablePoint() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        let (durable, rows) = (kernel.state, try dump(store.path))

        // Given a group with one staged crank,
        kernel.beginGroup()
        _ = try kernel.syscalls(busyBatch(1), from: b)
        // when the next crank fails half-written and neither ROLLBACK TO nor ROLLBACK works,
        store.failAfterWrites = 2
        store.simulateFailedRollback = true
        #expect(throws: KernelError.self) { try kernel.syscalls(busyBatch(2), from: b) }
        store.failAfterWrites = nil
        store.simulateFailedRollback = false

        // then the flush reports the staged crank lost, the undo is back at the durable point,
        #expect(throws: KernelStoreError.self) { try store.flush() }
        try expectUndoneToTheDurablePoint(store, kernel, durable, rows: rows)
        // and the next crank builds on it, with nothing of the lost one.
        try expectAGroupBuildsOnIt(store, kernel, b, batches: [3])
        #expect(kernel.state.vatstores[b]?["key1"] == nil)
        #expect(kernel.state.vatstores[b]?["key3"] != nil)
    }

    /// The same when a flush's COMMIT fails, leaving the transaction open (SQLite rolls back
    /// by itself on a full disk, but not on every error), and its ROLLBACK fails too.
    @Test func aFlushWhoseRollbackFailsTooReconnectsAtTheDurablePoint() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        let (durable, rows) = (kernel.state, try dump(store.path))

        // Given a group of two cranks whose COMMIT fails and whose ROLLBACK fails too,
        kernel.beginGroup()
        _ = try kernel.syscalls(busyBatch(1), from: b)
        _ = try kernel.syscalls(busyBatch(2), from: b)
        store.failNextCommit = true
        store.simulateFailedRollback = true
        #expect(throws: InjectedFault.self) { try store.flush() }
        store.simulateFailedRollback = false

        // then the undo is back at the durable point, and the group run again commits on top
        // of it, once.
        try expectUndoneToTheDurablePoint(store, kernel, durable, rows: rows)
        try expectAGroupBuildsOnIt(store, kernel, b, batches: [1, 2])
    }

    @Test func aFullDatabaseRollsTheCrankBackAndTheStoreCarriesOn() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        let stateBefore = kernel.state

        // Given a database not allowed to grow (SQLITE_FULL, as on a full disk),
        let (c, _) = try store.open()
        let pages = try #require(try c.integer("PRAGMA page_count"))
        try c.execute("PRAGMA max_page_count = \(pages)")
        // when a crank needs new pages,
        let big = [Syscall.vatstoreSet(key: "big", value: ByteString(String(repeating: "x", count: 64 * 1024)))]
        do {
            _ = try kernel.syscalls(big, from: b)
            Issue.record("the crank should not commit")
        } catch {
            // then it fails with "disk full" (a `KernelError`, the only kind the kernel throws) and is rolled back,
            #expect(error.description.contains("disk full"), "\(error)")
        }
        #expect(kernel.state == stateBefore)

        // and once there is room again, work goes on and is stored.
        try c.execute("PRAGMA max_page_count = 1073741823")
        _ = try kernel.syscalls(big, from: b)
        try store.flush()
        #expect(differences(try store.load(), kernel.state) == [])
    }

    /// SQLite rolls the whole transaction back on SQLITE_FULL, taking the group's earlier
    /// cranks with it: the store must then refuse to acknowledge them and say "reload".
    @Test func aFullDatabaseInsideAGroupLosesTheGroupAndSaysSo() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        let flushed = kernel.state
        _ = try kernel.syscalls(busyBatch(1), from: b)
        let staged = kernel.state

        // Given a staged crank, when the next one finds the database full,
        let (c, _) = try store.open()
        try c.execute("PRAGMA max_page_count = \(try #require(try c.integer("PRAGMA page_count")))")
        let big = [Syscall.vatstoreSet(key: "big", value: ByteString(String(repeating: "x", count: 64 * 1024)))]
        #expect(throws: KernelError.self) { try kernel.syscalls(big, from: b) }
        #expect(kernel.state == staged)
        try c.execute("PRAGMA max_page_count = 1073741823")

        // then no further crank is accepted on top of the lost one,
        #expect(throws: KernelError.self) { try kernel.syscalls(busyBatch(2), from: b) }
        // the flush reports the loss instead of acknowledging it,
        #expect(throws: KernelStoreError.self) { try store.flush() }
        // and the store holds the last flushed state, from which a kernel restarts cleanly.
        #expect(differences(try store.load(), flushed) == [])
        let restarted = try Kernel(storage: store)
        #expect(restarted.audit().isEmpty)
        _ = try restarted.syscalls(busyBatch(1), from: b)
        try store.flush()
        #expect(differences(try store.load(), restarted.state) == [])
    }

    @Test func cranksNotFlushedAreLostTogetherNeverHalf() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        let flushed = kernel.state

        // Given several cranks committed but not flushed,
        for n in 1...5 { _ = try kernel.syscalls(busyBatch(n), from: b) }
        _ = try kernel.drain()
        #expect(store.stagedCranks > 5)
        // a second connection (another process) sees none of them,
        #expect(differences(try SQLiteStore(path: store.path).load(), flushed) == [])
        // and when the process dies before flushing (the transaction is rolled back),
        store.close()

        // then a restart finds exactly the state of the last flush.
        let reopened = try SQLiteStore(path: store.path)
        defer { reopened.close() }
        #expect(differences(try reopened.load(), flushed) == [])
        let restarted = try Kernel(storage: reopened)
        #expect(restarted.audit().isEmpty)
    }

    @Test func aFlushMakesTheWholeGroupDurable() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        for n in 1...5 { _ = try kernel.syscalls(busyBatch(n), from: b) }
        _ = try kernel.drain()
        try store.flush()
        let expected = kernel.state
        store.close()

        let reopened = try SQLiteStore(path: store.path)
        defer { reopened.close() }
        #expect(differences(try reopened.load(), expected) == [])
    }

    /// §5.3: a resolved `p+N` leaves the c-list and, mentioned again in the same crank, names
    /// a new promise: the vref moves to another kref within one delta. The store's rows must
    /// not depend on the order the delta lists them in.
    @Test func aVrefGivenToANewKrefInTheSameCrankIsStoredExactly() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("k.sqlite"))
        defer { store.close() }
        let kernel = try Kernel(storage: store)
        let a = try kernel.createVat(name: "a").vatID
        let vpids = (1...20).map { v("p+\($0)") }
        _ = try kernel.syscalls(vpids.map { .subscribe(vpid: $0) }, from: a)
        _ = try kernel.syscalls([.resolve(vpids.map { VatResolution(vpid: $0, rejected: false, data: CapData(body: .null)) })]
                                + vpids.map { .subscribe(vpid: $0) }, from: a)
        _ = try kernel.drain()
        try store.flush()
        #expect(differences(try store.load(), kernel.state) == [])
    }

    /// §10: the new incarnation re-exports ephemeral vrefs the old one had; they were abandoned
    /// (their krefs orphaned) and get new krefs in the same crank.
    @Test func reexportedVrefsAfterAnUpgradeAreStoredExactly() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        let vrefs = (1...20).map { "o+\($0)" }
        _ = try kernel.syscalls([send("o-50", "take", vrefs)], from: b)
        _ = try kernel.drain()
        let outcome = try kernel.upgrade(b, UpgradeRequest(upgradeMessage: "m", startVatSyscalls: [send("o-50", "again", vrefs)]))
        #expect(outcome == .upgraded(incarnation: 1))
        _ = try kernel.drain()
        try store.flush()
        #expect(differences(try store.load(), kernel.state) == [])
    }

    @Test func loadRefusesWhileCranksAreStaged() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, _, b) = try twoVats(dir)
        defer { store.close() }
        _ = try kernel.syscalls(busyBatch(1), from: b)
        #expect(throws: KernelStoreError.unflushedCranks(path: store.path, cranks: 1)) { try store.load() }
        try store.flush()
        #expect(try store.load() == kernel.state)
    }

    @Test func aClosedStoreRefusesWork() throws {
        let store = try SQLiteStore(path: ":memory:")
        store.close()
        #expect(throws: KernelStoreError.closed(path: ":memory:")) { try store.load() }
        #expect(throws: KernelStoreError.closed(path: ":memory:")) { try store.flush() }
    }

    /// The temporary files of this process SQLite has open (it names them `etilqs_…` and
    /// unlinks them at once, so only `/proc/self/fd` still shows them).
    func openTemporaryFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")).flatMap { $0.contains("etilqs_") ? $0 : nil }
        }
    }

    @Test func aCrankThatRewritesPagesOfItsGroupWritesNoTemporaryFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel, a, _) = try twoVats(dir)
        defer { store.close() }
        // Given a group whose first crank wrote 200 vatstore values of 1,000 bytes (about 50 pages),
        let values = (0..<200).map { Syscall.vatstoreSet(key: "key\($0)", value: ByteString(String(repeating: "a", count: 1_000))) }
        _ = try kernel.syscalls(values, from: a)
        // when the next crank of the group rewrites them all (its savepoint must keep the old
        // pages, about 200 KB, past SQLite's 64 KiB before a statement journal spills to a file),
        let rewrites = (0..<200).map { Syscall.vatstoreSet(key: "key\($0)", value: ByteString(String(repeating: "b", count: 1_000))) }
        _ = try kernel.syscalls(rewrites, from: a)
        // then that journal stayed in memory: no temporary file is open, and the group commits.
        #expect(store.stagedCranks == 2)
        #expect(try openTemporaryFiles() == [])
        try store.flush()
        let c = try SQLiteConnection(path: store.path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { c.close() }
        #expect(try c.integer("SELECT count(*) FROM vatstore WHERE vat = '\(a)' AND value = '\(String(repeating: "b", count: 1_000))'") == 200)
    }
}
