import Foundation
import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// A failed flush (a full disk) is undone in memory (issue 9 part 5): the kernel undoes the
/// group's cranks and the store puts its bookkeeping back, so that both are exactly what a
/// fresh load of the file gives, and work goes on as if the group had never run.
@Suite struct FailedFlushUndoTests {
    /// The group that fails: the rich scenario's next phase (everything run: cleanup, GC; a
    /// rejection, an upgrade, a termination), a new vat, a kept send to it, acknowledgements.
    static func mixedGroup(_ kernel: Kernel) throws {
        _ = try RichScenario.proceed(kernel)
        let erin = try kernel.createVat(name: "erin", tokenHash: [UInt8](repeating: 7, count: 32))
        _ = try kernel.queueToKref(target: erin.rootKref, methargs: methargs("hi", [KRef.object(20)]), result: .keep)
        _ = try kernel.drain()
        for vat in [VatID(1), erin.vatID] {
            let last = try #require(kernel.state.deliveryLogs[vat]?.last)
            _ = try kernel.acknowledgeDeliveries(vat, through: last, drop: true)
        }
        _ = try kernel.syscalls([.vatstoreSet(key: "after", value: "ack"), send("o-50", "back", ["o+1"], result: "p+1")], from: erin.vatID)
        _ = try kernel.drain()
    }

    /// What the store keeps in memory beside the tables, compared with a fresh store's.
    struct Bookkeeping: Equatable {
        var hashes: CrankHashes?
        var lastEventSeq: Int
        var stagedCranks: Int
        init(_ s: SQLiteStore) {
            (hashes, lastEventSeq, stagedCranks) = (s.hashes, s.lastEventSeq, s.stagedCranks)
        }
    }

    /// The rich scenario, flushed, on a store at `path`.
    func built(_ path: String) throws -> (SQLiteStore, Kernel) {
        let store = try SQLiteStore(path: path)
        store.eventRetention = .bytes(1 << 30)
        let kernel = try Kernel(configuration: RichScenario.configuration, storage: store)
        try RichScenario.build(kernel) { try store.flush() }
        try store.flush()
        return (store, kernel)
    }

    @Test(.enabled(if: canMount, "mount is not permitted here: the real full disk needs a small tmpfs"))
    func aFlushThatFindsTheDiskFullIsUndoneToExactlyWhatLoadGives() throws {
        let disk = try MountedTmpfs(size: "8m")
        defer { disk.remove() }
        let (dir, mnt) = (disk.dir, disk.path)
        let (store, kernel) = try built("\(mnt)/k.sqlite")
        defer { store.close() }
        // The byte count the retention keeps, counted once now (as a flush would).
        let (c, _) = try store.open()
        try store.pruneEventsStep(c)
        let durable = kernel.state
        let bookkeeping = Bookkeeping(store)
        let eventBytes = try #require(store.eventBytes)

        // Given a disk with not one free block (and a write-ahead log with no room to reuse),
        try c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        disk.fill()
        // when a group of every kind of crank runs and its flush fails,
        kernel.beginGroup()
        try Self.mixedGroup(kernel)
        #expect(store.stagedCranks > 20)
        #expect(kernel.state != durable)
        do {
            try store.flush()
            Issue.record("the flush should find the disk full")
        } catch {
            #expect(String(describing: error).contains("disk full"), "\(error)")
        }

        // then undoing the group gives back the durable state, table by table,
        #expect(kernel.undoGroup())
        #expect(differences(kernel.state, durable) == [])
        #expect(kernel.state == durable)
        #expect(kernel.audit().isEmpty)
        // the store's bookkeeping is back too, retention count included,
        #expect(Bookkeeping(store) == bookkeeping)
        #expect(store.eventBytes?.0 == eventBytes.0 && store.eventBytes?.1 == eventBytes.1)
        // and both are what a second connection loads from the file.
        let fresh = try SQLiteStore(path: store.path)
        defer { fresh.close() }
        #expect(kernel.state == (try fresh.load()))
        #expect(Bookkeeping(fresh) == Bookkeeping(store))

        // Once there is room again, the same group gives exactly the state, crank hashes and
        // event numbers of a kernel that never failed.
        try FileManager.default.removeItem(atPath: "\(mnt)/filler")
        kernel.beginGroup()
        try Self.mixedGroup(kernel)
        try store.flush()
        kernel.groupIsDurable()
        let reference = try SQLiteStore(path: dir.file("reference.sqlite"))
        defer { reference.close() }
        let referenceKernel = try Kernel(configuration: RichScenario.configuration, storage: reference)
        try RichScenario.build(referenceKernel) { try reference.flush() }
        try Self.mixedGroup(referenceKernel)
        try reference.flush()
        #expect(kernel.state == referenceKernel.state)
        #expect(Bookkeeping(store) == Bookkeeping(reference))
        #expect(try store.events(after: 0, limit: 100_000).events == (try reference.events(after: 0, limit: 100_000).events))
    }

    /// SQLite rolls the whole group back when a crank in it finds the database full: the flush
    /// then reports the loss, and the undo covers the cranks before the one that failed.
    @Test func aGroupLostInsideACrankIsUndoneToWhatLoadGives() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel) = try built(dir.file("k.sqlite"))
        defer { store.close() }
        let durable = kernel.state
        let bookkeeping = Bookkeeping(store)

        kernel.beginGroup()
        _ = try RichScenario.proceed(kernel)
        #expect(store.stagedCranks > 10)
        let (c, _) = try store.open()
        try c.execute("PRAGMA max_page_count = \(try #require(try c.integer("PRAGMA page_count")))")
        let big = [Syscall.vatstoreSet(key: "big", value: ByteString(String(repeating: "x", count: 256 * 1024)))]
        #expect(throws: KernelError.self) { try kernel.syscalls(big, from: VatID(1)) }
        try c.execute("PRAGMA max_page_count = 1073741823")
        #expect(throws: KernelStoreError.self) { try store.flush() }

        #expect(kernel.undoGroup())
        #expect(differences(kernel.state, durable) == [])
        #expect(kernel.state == durable)
        #expect(Bookkeeping(store) == bookkeeping)
        let fresh = try SQLiteStore(path: store.path)
        defer { fresh.close() }
        #expect(kernel.state == (try fresh.load()))
        #expect(Bookkeeping(fresh) == bookkeeping)
        // The kernel goes on from there, and what it commits loads back.
        kernel.beginGroup()
        _ = try RichScenario.proceed(kernel)
        try store.flush()
        kernel.groupIsDurable()
        #expect(kernel.state == (try fresh.load()))
        #expect(Bookkeeping(fresh) == Bookkeeping(store))
    }

    /// A group that changes more than its undo limit gives the undo up: the owner reloads.
    @Test func aGroupPastItsUndoLimitCannotBeUndone() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (store, kernel) = try built(dir.file("k.sqlite"))
        defer { store.close() }
        kernel.beginGroup(undoLimit: 10)
        _ = try kernel.syscalls([.vatstoreSet(key: "one", value: "1")], from: VatID(1))
        let afterOne = kernel.state
        _ = try RichScenario.proceed(kernel)
        #expect(!kernel.undoGroup())
        // Nothing was undone: the state is the group's, and only a reload gives the durable one.
        #expect(kernel.state != afterOne)
        #expect(kernel.state.vatstores[VatID(1)]?["one"] == "1")
    }

    /// §13.1 and issue 9: a syscall batch that changes nothing (only reads) is not a crank, so
    /// it needs no disk: on a disk without one free block, the reads are answered and the
    /// flush after them has nothing to write.
    @Test(.enabled(if: canMount, "mount is not permitted here: the real full disk needs a small tmpfs"))
    func aBatchOfReadsIsAnsweredOnAFullDisk() throws {
        let disk = try MountedTmpfs(size: "8m")
        defer { disk.remove() }
        let mnt = disk.path
        let (store, kernel) = try built("\(mnt)/k.sqlite")
        defer { store.close() }
        let durable = kernel.state
        let bookkeeping = Bookkeeping(store)
        let (c, _) = try store.open()
        try c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        disk.fill()

        let bob = VatID(2)
        let reads: [Syscall] = [.vatstoreGet(key: "a"), .vatstoreGet(key: "b"), .vatstoreGet(key: "none"),
                                .vatstoreGetNextKey(priorKey: "a")]
        let outcome = try kernel.syscalls(reads, from: bob)
        #expect(outcome == .committed([.value("1"), .value("two\u{0}nul"), .value(nil), .value("b")]))
        #expect(store.stagedCranks == 0)
        try store.flush()
        #expect(kernel.state == durable)
        #expect(Bookkeeping(store) == bookkeeping)

        // A write on the same full disk is refused and leaves the same state behind.
        kernel.beginGroup()
        do {
            _ = try kernel.syscalls([.vatstoreSet(key: "a", value: "changed")], from: bob)
            try store.flush()
            Issue.record("the write should find the disk full")
        } catch {
            #expect(String(describing: error).contains("disk full"), "\(error)")
        }
        #expect(kernel.undoGroup())
        #expect(kernel.state == durable)
        #expect(try kernel.syscalls([.vatstoreGet(key: "a")], from: bob) == .committed([.value("1")]))
        #expect(kernel.state == (try store.load()))
    }
}
