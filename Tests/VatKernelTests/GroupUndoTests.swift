import Testing
@testable import VatKernel
import TestSupport

/// Issue 9 part 5: the kernel keeps the journal of a commit group until its owner says the
/// group is durable or lost; undoing it gives back the state of the group's start exactly, and
/// a crank that changes nothing is not a crank.
@Suite struct GroupUndoTests {
    /// More than a thousand sends routed and delivered, so the queues pass their compaction
    /// threshold inside the group; an abandonExports, a termination with its cleanup, an exit.
    func busyGroup(_ w: World, _ a: VatID, _ b: VatID) throws {
        for n in 0..<1_100 {
            _ = try w.syscalls(a, [send("o-50", "ping", ["o+\(1_000 + n)"], result: "p+\(n + 1)"),
                                   .vatstoreSet(key: ByteString("k\(n)"), value: "v")])
        }
        _ = try w.run()
        _ = try w.syscalls(b, [.abandonExports([v("o+100")])])
        _ = try w.kernel.acknowledgeDeliveries(b, through: 500, drop: true)
        try w.kernel.terminate(a, reason: "bored")
        _ = try w.run()
        let c = try w.createVat("carol")
        _ = try w.syscalls(c.vatID, [.exit(isFailure: false, info: CapData(body: .string("bye")))])
        _ = try w.run()
    }

    @Test func undoingAGroupGivesBackItsStartExactlyAndWorkGoesOnAsIfItNeverRan() throws {
        var configuration = KernelConfiguration()
        configuration.cleanupBudget = 100
        let (w, a, b) = try World.exported(configuration: configuration)
        let (twin, _, _) = try World.exported(configuration: configuration)
        let start = w.kernel.state
        #expect(w.kernel.liveVatIDs() == [a, b])

        w.kernel.beginGroup()
        try busyGroup(w, a, b)
        #expect(w.kernel.state.counters.crank > start.counters.crank + 3_300)
        #expect(w.kernel.liveVatIDs() == [b])
        #expect(w.kernel.undoGroup())

        #expect(w.kernel.state == start)
        #expect(w.kernel.liveVatIDs() == [a, b])
        #expect(w.kernel.pendingCleanupVats() == [])
        // (The in-memory store kept the cranks: it has no flush to fail. Only the audit applies.)
        #expect(w.kernel.audit().isEmpty)
        // The same work again (no group now) gives what a kernel that never undid gives.
        try busyGroup(w, a, b)
        try busyGroup(twin, a, b)
        #expect(w.kernel.state == twin.kernel.state)
        #expect(w.kernel.state.counters.crank == twin.kernel.state.counters.crank)
        #expect(w.kernel.audit().isEmpty)
        #expect(twin.problems() == [])
    }

    @Test func aDurableGroupIsForgottenAndCannotBeUndone() throws {
        let (w, a, _) = try World.exported()
        w.kernel.beginGroup()
        _ = try w.syscalls(a, [.vatstoreSet(key: "k", value: "v")])
        w.kernel.groupIsDurable()
        let after = w.kernel.state
        #expect(!w.kernel.undoGroup())
        #expect(w.kernel.state == after)
        #expect(w.vatstore(a)["k"] == "v")
    }

    @Test func aGroupPastItsLimitGivesUpItsUndo() throws {
        let (w, a, _) = try World.exported()
        w.kernel.beginGroup(undoLimit: 6)
        _ = try w.syscalls(a, [.vatstoreSet(key: "k1", value: "v")])
        _ = try w.syscalls(a, [.vatstoreSet(key: "k2", value: "v"), .vatstoreSet(key: "k3", value: "v"),
                               .vatstoreSet(key: "k4", value: "v"), .vatstoreSet(key: "k5", value: "v"),
                               .vatstoreSet(key: "k6", value: "v"), .vatstoreSet(key: "k7", value: "v")])
        let after = w.kernel.state
        #expect(!w.kernel.undoGroup())
        #expect(w.kernel.state == after)
    }

    /// A failed crank inside a group is rolled back on its own; the group's undo then takes
    /// back the cranks around it and nothing else.
    @Test func aRolledBackCrankInsideAGroupIsNotUndoneTwice() throws {
        struct DiskFull: Error {}
        let (w, a, _) = try World.exported()
        let start = w.kernel.state
        w.kernel.beginGroup()
        _ = try w.syscalls(a, [.vatstoreSet(key: "k1", value: "v")])
        w.storage.failNextCommit = DiskFull()
        #expect(throws: KernelError.self) { try w.syscalls(a, [.vatstoreSet(key: "k2", value: "v")]) }
        _ = try w.syscalls(a, [.vatstoreSet(key: "k3", value: "v")])
        #expect(w.vatstore(a)["k1"] == "v" && w.vatstore(a)["k2"] == nil && w.vatstore(a)["k3"] == "v")
        #expect(w.kernel.undoGroup())
        #expect(w.kernel.state == start)
    }

    /// A batch of reads changes nothing: no crank number, nothing handed to the store (so
    /// nothing to flush, and no disk needed), the same answers as before.
    @Test func aBatchThatChangesNothingIsNotACrank() throws {
        let (w, a, _) = try World.exported()
        _ = try w.syscalls(a, [.vatstoreSet(key: "a", value: "1"), .vatstoreSet(key: "b", value: "2")])
        let before = w.kernel.state
        let commits = w.storage.commits
        let reads: [Syscall] = [.vatstoreGet(key: "a"), .vatstoreGetNextKey(priorKey: "a"), .vatstoreGet(key: "z"),
                                .vatstoreGetNextKey(priorKey: "b")]
        #expect(try w.syscalls(a, reads) == .committed([.value("1"), .value("b"), .value(nil), .value(nil)]))
        #expect(w.kernel.state == before)
        #expect(w.kernel.state.counters.crank == before.counters.crank)
        #expect(w.storage.commits == commits)
        // A batch that changes something is a crank, even with reads in it.
        #expect(try w.syscalls(a, [.vatstoreGet(key: "a"), .vatstoreDelete(key: "a")]) == .committed([.value("1"), .ok]))
        #expect(w.kernel.state.counters.crank == before.counters.crank + 1)
        #expect(w.storage.commits == commits + 1)
    }
}
