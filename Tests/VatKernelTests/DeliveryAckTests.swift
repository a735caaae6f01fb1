import Testing
@testable import VatKernel
import TestSupport

/// Issue 9 part 2: a vat's driver acknowledges what it has handled; acknowledged deliveries
/// leave the log (unless kept), unacknowledged ones never do, and numbering goes on.
@Suite struct DeliveryAckTests {
    @Test func acknowledgedDeliveriesAreDroppedAndNumberingGoesOn() throws {
        let (w, a, b) = try World.exported()
        // A's log: 1 startVat, 2 take.
        #expect(w.kernel.state.deliveries[a]?.map(\.seq) == [1, 2])
        let r = try w.kernel.acknowledgeDeliveries(a, through: 1, drop: true)
        #expect(r.acknowledged == 1 && r.dropped == 1)
        #expect(w.kernel.state.deliveries[a]?.map(\.seq) == [2])
        #expect(w.kernel.state.vats[a]?.deliveriesAcknowledged == 1)
        #expect(w.problems() == [])

        #expect(try w.kernel.acknowledgeDeliveries(a, through: 2, drop: true) == (2, 1))
        #expect(w.kernel.state.deliveries[a]?.isEmpty == true)
        // The next delivery is seq 3, not 1.
        try w.syscalls(b, [send("o-50", "again")])
        try w.run()
        #expect(w.kernel.state.deliveries[a]?.map(\.seq) == [3])
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
        #expect(w.kernel.state.deliveries[a]?.map(\.seq) == [1, 2])
        #expect(w.kernel.state.vats[a]?.deliveriesAcknowledged == 2)
        #expect(try w.kernel.acknowledgeDeliveries(a, through: 1, drop: true) == (2, 2))
        #expect(w.kernel.state.deliveries[a]?.isEmpty == true)
        #expect(w.problems() == [])
    }
}
