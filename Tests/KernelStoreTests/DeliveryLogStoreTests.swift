import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Issue 9 part 2: the delivery log lives in the `deliveries` table. The kernel keeps where each
/// log stands; start-up reads that from the index, not the records; pages read the table.
@Suite struct DeliveryLogStoreTests {
    /// Alice and 300 messages to her root: a log of 301 records, flushed.
    static func aliceWithALongLog(_ path: String) throws -> (Kernel, SQLiteStore, VatID) {
        let store = try SQLiteStore(path: path, durability: .normal)
        let kernel = try Kernel(storage: store)
        let alice = try kernel.createVat(name: "alice")
        for i in 1...300 {
            _ = try kernel.queueToKref(target: alice.rootKref, methargs: methargs("m\(i)", [KRef]()), result: .none)
        }
        _ = try kernel.run()
        try store.flush()
        return (kernel, store, alice.vatID)
    }

    @Test func startUpReadsWhereEachLogStandsNotItsRecords() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("log.sqlite")
        let (kernel, store, a) = try Self.aliceWithALongLog(path)
        #expect(kernel.state.deliveryLogs[a] == DeliveryLog(last: 301, count: 301))
        #expect(try kernel.acknowledgeDeliveries(a, through: 100, drop: true) == (100, 100))
        try store.flush()
        store.close()

        // A record start-up would have to parse is broken: start-up does not read it.
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        try c.execute("UPDATE deliveries SET delivery = '{' WHERE vat = 'v1' AND seq = 150")
        c.close()
        let reopened = try SQLiteStore(path: path)
        defer { reopened.close() }
        let loaded = try #require(try reopened.load())
        #expect(loaded.deliveryLogs[a] == DeliveryLog(last: 301, count: 201))
        #expect(differences(loaded, kernel.state) == [])

        // Pages read the table: by seq, at most `limit`.
        #expect(try reopened.deliveries(a, after: 0, limit: 3, maxBytes: .max).map(\.seq) == [101, 102, 103])
        #expect(try reopened.deliveries(a, after: 299, limit: 10, maxBytes: .max).map(\.seq) == [300, 301])
        #expect(try reopened.deliveries(a, after: 301, limit: 10, maxBytes: .max) == [])
        #expect(try reopened.deliveries(VatID(7), after: 0, limit: 10, maxBytes: .max) == [])
        let m = try #require(try reopened.deliveries(a, after: 200, limit: 1, maxBytes: .max).first)
        #expect(m == DeliveryRecord(seq: 201, crank: m.crank, delivery: .message(target: VRef.root, methargs: methargs("m200", [VRef]()), result: nil)))
        // The broken record is refused when it is read, as a corrupt database.
        #expect(throws: KernelStoreError.self) { try reopened.deliveries(a, after: 148, limit: 5, maxBytes: .max) }
        #expect(try reopened.deliveries(a, after: 148, limit: 1, maxBytes: .max).map(\.seq) == [149])
    }

    /// The byte budget counts the stored JSON: a page stops before the record that would pass
    /// it, and always holds the first.
    @Test func aReadStopsAtItsByteBudget() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (_, store, a) = try Self.aliceWithALongLog(dir.file("log.sqlite"))
        defer { store.close() }
        let c = try SQLiteConnection(path: dir.file("log.sqlite"), flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { c.close() }
        // Messages m1 to m9 have the same size.
        let size = try #require(try c.integer("SELECT length(delivery) FROM deliveries WHERE vat = 'v1' AND seq = 2"))
        #expect(try c.integer("SELECT length(delivery) FROM deliveries WHERE vat = 'v1' AND seq = 3") == size)
        #expect(try store.deliveries(a, after: 1, limit: 10, maxBytes: 1).map(\.seq) == [2])
        #expect(try store.deliveries(a, after: 1, limit: 10, maxBytes: 2 * size).map(\.seq) == [2, 3])
        #expect(try store.deliveries(a, after: 1, limit: 10, maxBytes: 2 * size + 1).map(\.seq) == [2, 3])
    }

    /// Reads inside the open group see its staged rows (answers go out after the flush).
    @Test func readsSeeTheOpenGroupsStagedRows() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("g.sqlite"))
        defer { store.close() }
        let kernel = try Kernel(storage: store)
        let alice = try kernel.createVat(name: "alice")
        #expect(store.stagedCranks == 1)
        #expect(try kernel.deliveries(alice.vatID) == [DeliveryRecord(seq: 1, crank: 1, delivery: .startVat(vatParameters: CapData(body: .null)))])
        #expect(try dump(dir.file("g.sqlite")).filter { $0.hasPrefix("deliveries") } == [])
        try store.flush()
        #expect(try dump(dir.file("g.sqlite")).filter { $0.hasPrefix("deliveries") }.count == 1)
    }

    /// A terminated vat's log goes with its cleanup: the rows leave the table, the vat shows the
    /// log as acknowledged through its last seq, and a restart finds it so.
    @Test func aTerminatedVatsCleanupDeletesItsRows() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("log.sqlite")
        let (kernel, store, a) = try Self.aliceWithALongLog(path)
        try kernel.terminate(a, reason: "done")
        _ = try kernel.run()
        try store.flush()
        #expect(kernel.state.vats[a]?.cleanedUp == true)
        #expect(kernel.state.deliveryLogs[a] == DeliveryLog(last: 301, count: 0))
        #expect(kernel.state.vats[a]?.deliveriesAcknowledged == 301)
        #expect(try dump(path).filter { $0.hasPrefix("deliveries") } == [])
        store.close()
        let reopened = try SQLiteStore(path: path)
        defer { reopened.close() }
        #expect(differences(try reopened.load(), kernel.state) == [])
    }
}
