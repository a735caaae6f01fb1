import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Restart: what a kernel committed through a SQLiteStore comes back exactly, and the
/// restarted kernel carries on as if it had never stopped.
@Suite struct SQLiteStoreRoundTripTests {
    @Test func aRichStateSurvivesARestartAndWorkContinuesIdentically() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("kernel.sqlite")

        // Given a kernel on a SQLiteStore and a reference kernel fed the same calls.
        let store = try SQLiteStore(path: path)
        let kernel = try Kernel(configuration: RichScenario.configuration, storage: store)
        try RichScenario.build(kernel, flush: store.flush)
        let reference = try Kernel(configuration: RichScenario.configuration, storage: InMemoryStorage())
        try RichScenario.build(reference)
        #expect(differences(kernel.state, reference.state) == [])
        #expect(kernel.audit().isEmpty)
        store.close()

        // When the store is reopened and loaded,
        let reopened = try SQLiteStore(path: path)
        defer { reopened.close() }
        let loaded = try #require(try reopened.load())

        // then every table is as the kernel had it,
        #expect(loaded.counters == kernel.state.counters)
        #expect(loaded.objects == kernel.state.objects)
        #expect(loaded.promises == kernel.state.promises)
        #expect(loaded.vats == kernel.state.vats)
        #expect(loaded.clists == kernel.state.clists)
        #expect(loaded.vatstores == kernel.state.vatstores)
        #expect(loaded.deliveryLogs == kernel.state.deliveryLogs)
        #expect(loaded.acceptanceQueue == kernel.state.acceptanceQueue)
        #expect(loaded.runQueue == kernel.state.runQueue)
        #expect(loaded.reapQueue == kernel.state.reapQueue)
        #expect(loaded.gcActions == kernel.state.gcActions)
        #expect(loaded.pins == kernel.state.pins)
        #expect(loaded.heldResults == kernel.state.heldResults)
        #expect(differences(loaded, kernel.state) == [])

        // and a kernel started on it audits clean and continues exactly like the reference.
        let restarted = try Kernel(configuration: RichScenario.configuration, storage: reopened)
        #expect(restarted.audit().isEmpty)
        // Every log's records, read from the table, are the in-memory reference's.
        #expect(!reference.state.vats.rows.keys.isEmpty)
        for vat in reference.state.vats.rows.keys {
            #expect(try restarted.deliveries(vat) == reference.deliveries(vat))
        }
        let restartedReports = try RichScenario.proceed(restarted)
        let referenceReports = try RichScenario.proceed(reference)
        #expect(restartedReports == referenceReports)
        #expect(differences(restarted.state, reference.state) == [])
        #expect(restarted.audit().isEmpty)

        // Its store, flushed and reloaded once more, still matches.
        try reopened.flush()
        #expect(differences(try reopened.load(), restarted.state) == [])
    }

    @Test func aNewStoreLoadsNothingAndAKernelStartsEmpty() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("new.sqlite"))
        defer { store.close() }
        #expect(try store.load() == nil)
        let kernel = try Kernel(storage: store)
        #expect(kernel.state == KernelState())
    }

    @Test func anInMemoryStoreWorksWithinTheProcess() throws {
        let store = try SQLiteStore(path: ":memory:")
        defer { store.close() }
        let kernel = try Kernel(configuration: RichScenario.configuration, storage: store)
        try RichScenario.build(kernel, flush: store.flush)
        #expect(try store.load() == kernel.state)
    }

    @Test(arguments: SQLiteStore.Durability.allCases)
    func bothDurabilitiesRoundTrip(_ durability: SQLiteStore.Durability) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("d.sqlite"), durability: durability)
        let kernel = try Kernel(configuration: RichScenario.configuration, storage: store)
        try RichScenario.build(kernel, flush: store.flush)
        store.close()
        let again = try SQLiteStore(path: dir.file("d.sqlite"), durability: durability)
        defer { again.close() }
        #expect(try again.load() == kernel.state)
    }

    /// Issue 9 part 2: dropped deliveries are gone from the file, the acknowledgement and the
    /// numbering survive a restart.
    @Test func acknowledgedDeliveriesStayDroppedAcrossARestart() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("ack.sqlite")
        let store = try SQLiteStore(path: path)
        let kernel = try Kernel(storage: store)
        let alice = try kernel.createVat(name: "alice").vatID
        _ = try kernel.queueToKref(target: k("ko20"), methargs: methargs("hi", [KRef]()), result: .none)
        _ = try kernel.run()
        #expect(try kernel.deliveries(alice).map(\.seq) == [1, 2])
        #expect(try kernel.acknowledgeDeliveries(alice, through: 1, drop: true) == (1, 1))
        try store.flush()
        store.close()

        let reopened = try SQLiteStore(path: path)
        defer { reopened.close() }
        let loaded = try #require(try reopened.load())
        #expect(differences(loaded, kernel.state) == [])
        #expect(loaded.deliveryLogs[alice] == DeliveryLog(last: 2, count: 1))
        #expect(try reopened.deliveries(alice, after: 0, limit: 10, maxBytes: .max).map(\.seq) == [2])
        #expect(loaded.vats[alice]?.deliveriesAcknowledged == 1)
        let restarted = try Kernel(storage: reopened)
        #expect(try restarted.acknowledgeDeliveries(alice, through: 2, drop: true) == (2, 1))
        _ = try restarted.queueToKref(target: k("ko20"), methargs: methargs("again", [KRef]()), result: .none)
        _ = try restarted.run()
        try reopened.flush()
        #expect(try restarted.deliveries(alice).map(\.seq) == [3])
        #expect(try reopened.load()?.deliveryLogs[alice] == DeliveryLog(last: 3, count: 1))
        #expect(try dump(path).filter { $0.hasPrefix("deliveries") }.count == 1)
    }
}
