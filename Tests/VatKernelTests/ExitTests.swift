import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §13.8: the last `exit` of a batch wins, and the references in an exit reason
/// are held by the host until it releases them.
@Suite struct ExitTests {
    /// A happy exit followed by a failing one: the failure is what is left at the end of the
    /// batch, so the whole batch rolls back and the vat dies with the second reason.
    @Test func aLaterFailingExitReplacesAHappyOne() throws {
        let (w, _, b) = try World.exported()
        let (twin, _, tb) = try World.exported()
        let outcome = try w.syscalls(b, [.vatstoreSet(key: "k", value: "v"), .exit(isFailure: false, info: CapData(body: .string("first"))),
                                         send("o-50", "bye"), .exit(isFailure: true, info: errorData("second"))])
        #expect(outcome == .exited(isFailure: true, results: []))
        #expect(w.termination(b) == TerminationInfo(isFailure: true, info: .error("second"), crank: w.kernel.state.counters.crank))
        #expect(w.vatstore(b) == [:])
        #expect(w.events(.acceptance) == [])

        // Exactly the state of a batch that held only the failing exit.
        #expect(try twin.syscalls(tb, [.exit(isFailure: true, info: errorData("second"))]) == .exited(isFailure: true, results: []))
        #expect(w.kernel.state == twin.kernel.state)
        try w.run()
        try twin.run()
        #expect(w.kernel.state == twin.kernel.state)
        #expect(w.problems() == [])
    }

    /// A failing exit followed by a happy one: the happy exit wins and the batch commits.
    @Test func aLaterHappyExitReplacesAFailingOne() throws {
        let (w, a, b) = try World.exported()
        let outcome = try w.syscalls(b, [.vatstoreSet(key: "k", value: "v"), .exit(isFailure: true, info: errorData("first")),
                                         send("o-50", "bye"), .exit(isFailure: false, info: CapData(body: .string("second")))])
        #expect(outcome == .exited(isFailure: false, results: [.ok, .ok, .ok, .ok]))
        #expect(w.termination(b) == TerminationInfo(isFailure: false, info: CapData(body: .string("second")), crank: w.kernel.state.counters.crank))
        #expect(w.vatstore(b) == ["k": "v"])
        #expect(w.events(.acceptance) == ["send ko20 bye []"])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [message("o+0", "bye")])
        #expect(w.problems() == [])
    }

    /// The failing exit's index is the one reported when its reason cannot be translated
    /// after the rollback (a vref the undone part of the batch introduced is not a problem:
    /// exports are allocated again), and an earlier exit's reason is forgotten.
    @Test func onlyTheLastExitsReasonIsRecorded() throws {
        let (w, _, b) = try World.exported()
        let outcome = try w.syscalls(b, [.exit(isFailure: true, info: CapData(body: .slot(0), slots: [v("o+7")])),
                                         .exit(isFailure: true, info: errorData("plain"))])
        #expect(outcome == .exited(isFailure: true, results: []))
        #expect(w.termination(b)?.info == .error("plain"))
        #expect(w.termination(b)?.reasonHeld == false)
        // o+7 was only named by the forgotten reason: it is gone with the rollback.
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o+100"])
        #expect(w.kernel.state.objects[23] == nil)
        #expect(w.problems() == [])
    }

    /// B exits naming a new export `o+7` (ko23), its import `o-50` (A's root ko20) and a new
    /// promise `p+1` (kp40). The host holds each `+1,+1` (the promise `+1`) through the
    /// termination and the cleanup; releasing them collects what nothing else holds.
    @Test func anExitReasonsReferencesAreHeldByTheHostUntilReleased() throws {
        let (w, a, b) = try World.exported()
        let reason = CapData<VRef>(body: .array([.slot(0), .slot(1), .slot(2)]), slots: [v("o+7"), v("o-50"), v("p+1")])
        #expect(try w.syscalls(b, [.exit(isFailure: false, info: reason)]) == .exited(isFailure: false, results: [.ok]))
        #expect(w.termination(b)?.info.slots == [k("ko23"), k("ko20"), k("kp40")])
        #expect(w.termination(b)?.reasonHeld == true)
        #expect(w.object(k("ko23")) == "v2 1,1")
        #expect(w.object(k("ko20")) == "v1 3,3")
        // B decided kp40: rejected at its death; held by B's c-list and by the host.
        #expect(w.promise(k("kp40")) == "rejected refCount=2")
        #expect(w.kernel.holders(of: k("ko23")) == [
            Holder(kind: .exporter, vat: b, vref: v("o+7"), reachable: 0, recognizable: 0),
            Holder(kind: .terminationReason, vat: b, reachable: 1, recognizable: 1),
        ])
        #expect(w.problems() == [])

        try w.run()
        #expect(w.clist(b) == [:])
        #expect(w.object(k("ko23")) == "orphan 1,1")
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(w.object(k("ko20")) == "v1 2,2")
        #expect(w.promise(k("kp40")) == "rejected refCount=1")
        #expect(w.kernel.holders(of: k("kp40")) == [Holder(kind: .terminationReason, vat: b, reachable: 1, recognizable: 1)])
        #expect(w.problems() == [])

        try w.kernel.releaseTerminationReason(b)
        #expect(w.termination(b)?.reasonHeld == false)
        #expect(w.termination(b)?.info.slots == [k("ko23"), k("ko20"), k("kp40")])
        #expect(w.kernel.state.objects[23] == nil)
        #expect(w.kernel.state.promises[40] == nil)
        #expect(w.object(k("ko20")) == "v1 1,1")
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(try w.run() == 0)
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.problems() == [])

        #expect(throws: KernelError.rejected("the host holds nothing of v2's termination reason")) {
            try w.kernel.releaseTerminationReason(b)
        }
    }

    /// Only a terminated vat's reason can be released, and only while it is held.
    @Test func releasingWhatIsNotHeldChangesNothing() throws {
        let (w, a, b) = try World.exported()
        let before = w.kernel.state
        #expect(throws: KernelError.rejected("v1 is not terminated")) { try w.kernel.releaseTerminationReason(a) }
        #expect(throws: KernelError.unknownVat(VatID(9))) { try w.kernel.releaseTerminationReason(VatID(9)) }
        #expect(w.kernel.state == before)
        try w.kernel.terminate(b, reason: "stop")
        #expect(w.termination(b)?.reasonHeld == false)
        #expect(throws: KernelError.rejected("the host holds nothing of v2's termination reason")) { try w.kernel.releaseTerminationReason(b) }
    }
}
