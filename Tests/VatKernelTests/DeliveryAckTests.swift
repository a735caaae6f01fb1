import Testing
@testable import VatKernel
import TestSupport

/// Issue 9 part 2: a vat's driver acknowledges what it has handled; acknowledged deliveries
/// leave the log (unless kept), unacknowledged ones never do, and numbering goes on.
@Suite struct DeliveryAckTests {
    @Test func acknowledgedDeliveriesAreDroppedAndNumberingGoesOn() throws {
        let (w, a, b) = try World.exported()
        // A's log: 1 startVat, 2 take.
        #expect(w.records(a).map(\.seq) == [1, 2])
        let r = try w.kernel.acknowledgeDeliveries(a, through: 1, drop: true)
        #expect(r.acknowledged == 1 && r.dropped == 1)
        #expect(w.records(a).map(\.seq) == [2])
        #expect(w.kernel.state.deliveryLogs[a] == DeliveryLog(last: 2, count: 1))
        #expect(w.kernel.state.vats[a]?.deliveriesAcknowledged == 1)
        #expect(w.problems() == [])

        #expect(try w.kernel.acknowledgeDeliveries(a, through: 2, drop: true) == (2, 1))
        #expect(w.records(a).isEmpty)
        // The next delivery is seq 3, not 1.
        try w.syscalls(b, [send("o-50", "again")])
        try w.run()
        #expect(w.records(a).map(\.seq) == [3])
        #expect(w.kernel.state.deliveryLogs[a] == DeliveryLog(last: 3, count: 1))
        #expect(w.deliveries(a) == [message("o+0", "again")])
        #expect(w.problems() == [])
    }

    @Test func acknowledgingLessChangesNothingAndMoreIsRefused() throws {
        let (w, a, _) = try World.exported()
        #expect(try w.kernel.acknowledgeDeliveries(a, through: 2, drop: true) == (2, 2))
        let before = w.kernel.state
        #expect(try w.kernel.acknowledgeDeliveries(a, through: 1, drop: true) == (2, 0))
        #expect(try w.kernel.acknowledgeDeliveries(a, through: 0, drop: true) == (2, 0))
        #expect(w.kernel.state == before)
        #expect(throws: KernelError.rejected("v1 has deliveries 1 to 2; 3 cannot be acknowledged")) {
            try w.kernel.acknowledgeDeliveries(a, through: 3, drop: true)
        }
        #expect(throws: KernelError.unknownVat(VatID(9))) { try w.kernel.acknowledgeDeliveries(VatID(9), through: 0, drop: true) }
        #expect(w.kernel.state == before)
    }

    /// `--keep-deliveries`: the acknowledgement is recorded, the log stays whole; dropping later
    /// takes what was acknowledged then.
    @Test func keptDeliveriesStayUntilDropped() throws {
        let (w, a, _) = try World.exported()
        #expect(try w.kernel.acknowledgeDeliveries(a, through: 2, drop: false) == (2, 0))
        #expect(w.records(a).map(\.seq) == [1, 2])
        #expect(w.kernel.state.vats[a]?.deliveriesAcknowledged == 2)
        #expect(try w.kernel.acknowledgeDeliveries(a, through: 1, drop: true) == (2, 2))
        #expect(w.records(a).isEmpty)
        #expect(w.problems() == [])
    }

    /// The kernel keeps where each log stands, not its records: a kernel without storage keeps
    /// them in memory behind the same read, and a rolled-back crank leaves both as they were.
    @Test func aKernelWithoutStorageReadsItsLogAndARollbackLeavesItAsItWas() throws {
        let kernel = try Kernel()
        let alice = try kernel.createVat(name: "alice")
        _ = try kernel.queueToKref(target: alice.rootKref, methargs: methargs("one", [KRef]()), result: .none)
        _ = try kernel.queueToKref(target: alice.rootKref, methargs: methargs("two", [KRef]()), result: .none)
        _ = try kernel.run()
        let a = alice.vatID
        #expect(try kernel.deliveries(a).map(\.seq) == [1, 2, 3])
        // Cranks 4 and 5 route the two sends, 6 delivers the first.
        #expect(try kernel.deliveries(a, after: 1, limit: 1) == [DeliveryRecord(seq: 2, crank: 6, delivery: message("o+0", "one"))])
        #expect(kernel.state.deliveryLogs[a] == DeliveryLog(last: 3, count: 3))
        #expect(try kernel.acknowledgeDeliveries(a, through: 2, drop: true) == (2, 2))
        #expect(try kernel.deliveries(a).map(\.seq) == [3])
        #expect(kernel.state.deliveryLogs[a] == DeliveryLog(last: 3, count: 1))
        #expect(try kernel.deliveries(VatID(9)) == [])

        // A crank that appends and drops, then fails, is undone in the log too.
        let before = kernel.state
        #expect(throws: KernelError.self) {
            try kernel.crank(CrankStart(kind: .host, vat: a)) {
                kernel.appendDelivery(a, .bringOutYourDead, kd: .bringOutYourDead)
                kernel.dropDeliveries(a, first: 2)
                throw KernelError.rejected("undo")
            }
        }
        #expect(kernel.state == before)
        #expect(try kernel.deliveries(a).map(\.seq) == [3])
        _ = try kernel.queueToKref(target: alice.rootKref, methargs: methargs("three", [KRef]()), result: .none)
        _ = try kernel.run()
        #expect(try kernel.deliveries(a).map(\.seq) == [3, 4])
    }
}
