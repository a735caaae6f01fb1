import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §9 (and §4 priorities, §12 "owner fields until cleanup", §13.7 bounded cleanup).
@Suite struct TerminationTests {
    /// B (v2) decides four promises A (v1) subscribed to: `p-60`, `p-61` (results of A's
    /// sends) and `p+2`, `p+10` (B's own, sent to A). Their rejections follow the vref text
    /// order `p+10`, `p+2`, `p-60`, `p-61`, not the numeric one.
    @Test func decidedPromisesAreRejectedInVrefTextOrder() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("meet", [k("ko21")]), result: .none)
        try w.run()
        try w.syscalls(a, [send("o-50", "m1", result: "p+1"), .subscribe(vpid: v("p+1")),
                           send("o-50", "m2", result: "p+2"), .subscribe(vpid: v("p+2"))])
        try w.run()
        #expect(w.deliveries(b, after: 2) == [message("o+0", "m1", result: "p-60"), message("o+0", "m2", result: "p-61")])
        try w.syscalls(b, [send("o-50", "take", ["p+2", "p+10"])])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [message("o+0", "take", ["p-60", "p-61"])])
        try w.syscalls(a, [.subscribe(vpid: v("p-60")), .subscribe(vpid: v("p-61"))])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "kp40": "R p-60", "kp41": "R p-61", "kp42": "R p+2", "kp43": "R p+10"])
        for n in 40...43 { #expect(w.promise(.promise(n)) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2") }

        try w.kernel.terminate(b, reason: "bye")
        // kp43 = p+10, kp42 = p+2, kp40 = p-60, kp41 = p-61.
        #expect(w.events(.acceptance) == ["notify v1 kp43", "notify v1 kp42", "notify v1 kp40", "notify v1 kp41"])
        for n in 40...43 {
            #expect(w.promise(.promise(n)) == "rejected refCount=3")
            #expect(w.data(.promise(n)) == .error("vat terminated"))
        }
        // C-lists are not touched by the terminating crank.
        #expect(w.clist(b).count == 6)

        #expect(w.cranks() == ["route v1", "route v1", "route v1", "route v1", "cleanup-terminated-vat v2",
                               "delivery v1", "delivery v1", "delivery v1", "delivery v1"])
        let error = errorData("vat terminated")
        #expect(w.deliveries(a, after: 3) == [
            .notify([VatResolution(vpid: v("p-61"), rejected: true, data: error)]),
            .notify([VatResolution(vpid: v("p-60"), rejected: true, data: error)]),
            .notify([VatResolution(vpid: v("p+1"), rejected: true, data: error)]),
            .notify([VatResolution(vpid: v("p+2"), rejected: true, data: error)]),
        ])
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50"])
        #expect(w.clist(b) == [:])
        #expect(w.objects == ["ko20 v1 1,1", "ko21 orphan 2,2"])
        #expect(w.problems() == [])
    }

    @Test func ownersStayVisibleUntilCleanupThenExportsAreOrphanedAndTheRestDeleted() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(b, [.vatstoreSet(key: "x", value: "1"), .vatstoreSet(key: "y", value: "2")])
        try w.kernel.terminate(b, reason: "stop")
        let crank = w.kernel.state.counters.crank
        #expect(w.termination(b) == TerminationInfo(isFailure: true, info: .error("stop"), crank: crank))
        #expect(!w.isAlive(b))
        // Right after the terminating crank: owners, c-list and vatstore are all still there.
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 1,1", "ko22 v2 1,1"])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o+100"])
        #expect(w.vatstore(b) == ["x": "1", "y": "2"])
        #expect(!w.kernel.isIdle)

        #expect(w.cranks() == ["cleanup-terminated-vat v2"])
        // Exports orphaned (still reachable: pin, importer), import released, vatstore gone.
        #expect(w.objects == ["ko20 v1 1,1", "ko21 orphan 1,1", "ko22 orphan 1,1"])
        #expect(w.clist(b) == [:])
        #expect(w.vatstore(b) == [:])
        #expect(w.kernel.state.vats[b]?.cleanedUp == true)
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        // The log went with the cleanup, as if acknowledged: nothing is left to read, and no
        // delivery was made after the two it held.
        #expect(w.kernel.state.deliveryLogs[b] == DeliveryLog(last: 2, count: 0))
        #expect(w.kernel.state.vats[b]?.deliveriesAcknowledged == 2)
        #expect(w.deliveries(b) == [])
        #expect(w.termination(b)?.info == .error("stop"))
        #expect(w.kernel.isIdle)

        #expect(throws: KernelError.vatTerminated(b)) { try w.kernel.terminate(b, reason: "again") }
        #expect(throws: KernelError.unknownVat(VatID(7))) { try w.kernel.terminate(VatID(7), reason: "who") }
        #expect(w.problems() == [])
    }

    @Test func releasedImportsLetTheExporterCollect() throws {
        let (w, a, b) = try World.exported()
        // A gives B its o+7 (ko23), held only by B's import.
        try w.syscalls(a, [send("o-50", "take", ["o+7"])])
        try w.run()
        #expect(w.deliveries(b).last == message("o+100", "take", ["o-51"]))
        #expect(w.object(k("ko23")) == "v1 1,1")

        try w.kernel.terminate(b, reason: "stop")
        #expect(w.cranks() == ["cleanup-terminated-vat v2", "gc-delivery v1", "gc-delivery v1"])
        #expect(w.deliveries(a, after: 2) == [.dropExports([v("o+7")]), .retireExports([v("o+7")])])
        #expect(w.object(k("ko23")) == nil)
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.problems() == [])
    }

    /// B: exports o+0, o+1, o+2, o+3, o+100; import o-50; promise p+1; three vatstore keys =
    /// ten units of cleanup work, three per crank.
    func bigB() throws -> (World, VatID, VatID) {
        var config = KernelConfiguration()
        config.cleanupBudget = 3
        let (w, a, b) = try World.exported(configuration: config)
        try w.syscalls(b, [send("o-50", "take", ["o+1", "o+2", "o+3"], result: "p+1"),
                           .vatstoreSet(key: "a", value: "1"), .vatstoreSet(key: "b", value: "2"), .vatstoreSet(key: "c", value: "3")])
        try w.run()
        #expect(w.clist(b).count == 7)
        #expect(w.deliveries(a).last == message("o+0", "take", ["o-51", "o-52", "o-53"], result: "p-60"))
        return (w, a, b)
    }

    @Test func cleanupRunsInBoundedSteps() throws {
        let (w, _, b) = try bigB()
        try w.kernel.terminate(b, reason: "stop")
        var seen: [(clist: Int, vatstore: Int, done: Bool)] = []
        while let r = try w.step() {
            #expect(r.kind == .cleanupTerminatedVat && r.vat == b)
            seen.append((w.clist(b).count, w.vatstore(b).count, w.kernel.state.vats[b]!.cleanedUp))
        }
        // Exports first (five: 3 + 2), then the import, the promise, then the vatstore keys.
        #expect(seen.map(\.clist) == [4, 1, 0, 0])
        #expect(seen.map(\.vatstore) == [3, 3, 1, 0])
        #expect(seen.map(\.done) == [false, false, false, true])
        #expect(w.objects == ["ko20 v1 1,1", "ko21 orphan 1,1", "ko22 orphan 1,1", "ko23 orphan 1,1", "ko24 orphan 1,1", "ko25 orphan 1,1"])
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers= queue=0 refCount=1")
        #expect(w.problems() == [])
    }

    @Test func routingGoesBeforeCleanupAndDeliveriesAfterIt() throws {
        let (w, a, b) = try bigB()
        try w.kernel.terminate(b, reason: "stop")
        #expect(w.name(try #require(try w.step())) == "cleanup-terminated-vat v2")
        // One of A's imports from B that cleanup has not reached yet: its owner is still v2.
        let pending = try #require(["o-50", "o-51", "o-52", "o-53"].first { w.object(w.kernel.state.clists[a]![v($0)]!)?.hasPrefix("v2") == true })
        try w.syscalls(a, [send(pending, "ping", result: "p+1"), .subscribe(vpid: v("p+1"))])
        // The send splats (owner terminated), its notify is routed, cleanup resumes, then the
        // run-queue delivers.
        #expect(w.cranks() == ["route", "route v1", "cleanup-terminated-vat v2", "cleanup-terminated-vat v2",
                               "cleanup-terminated-vat v2", "delivery v1"])
        #expect(w.deliveries(a).last == .notify([rejected("p+1", "vat terminated")]))
        #expect(w.problems() == [])
    }

    @Test func anImporterDroppingBeforeCleanupRetiresTheObjectAtOnce() throws {
        let (w, a, b) = try World.exported()
        try w.kernel.terminate(b, reason: "stop")
        try w.syscalls(a, [.dropImports([v("o-50")])])
        // §8 case 2: the dead owner's entry and owner field go now, then the orphan is retired.
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.gcActions == ["v1 retireImport ko22"])
        #expect(w.cranks() == ["cleanup-terminated-vat v2", "gc-delivery v1"])
        #expect(w.deliveries(a, after: 2) == [.retireImports([v("o-50")])])
        #expect(w.kernel.state.deliveryLogs[b] == DeliveryLog(last: 2, count: 0))
        #expect(w.problems() == [])
    }

    @Test func aMessageAlreadyInTheRunQueueIsRejectedAtDelivery() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [send("o-50", "ping", result: "p+1"), .subscribe(vpid: v("p+1"))])
        #expect(w.name(try #require(try w.step())) == "route v2")
        #expect(w.events(.run) == ["send ko22 ping [] -> kp40"])
        try w.kernel.terminate(b, reason: "stop")
        #expect(w.cranks() == ["cleanup-terminated-vat v2", "dropped", "route v1", "delivery v1"])
        #expect(w.deliveries(a, after: 2) == [.notify([rejected("p+1", "vat terminated")])])
        #expect(w.kernel.state.deliveryLogs[b] == DeliveryLog(last: 2, count: 0))
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }

    @Test func notifiesForADeadSubscriberAreDropped() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(b, [send("o-50", "ask", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.run()
        try w.kernel.terminate(b, reason: "stop")
        try w.run()
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers=v2 queue=0 refCount=1")
        try w.syscalls(a, [.resolve([fulfilled("p-60", .int(7))])])
        #expect(w.events(.acceptance) == ["notify v2 kp40"])
        #expect(w.cranks() == ["route v2", "dropped v2"])
        #expect(w.kernel.state.deliveryLogs[b] == DeliveryLog(last: 2, count: 0))
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }

    @Test func happyExitKeepsTheRestOfTheBatch() throws {
        let (w, a, b) = try World.exported()
        let info = CapData<VRef>(body: .string("done"))
        let outcome = try w.syscalls(b, [.vatstoreSet(key: "k", value: "v"), send("o-50", "bye", ["o+5"]), .exit(isFailure: false, info: info)])
        #expect(outcome == .exited(isFailure: false, results: [.ok, .ok, .ok]))
        #expect(w.termination(b) == TerminationInfo(isFailure: false, info: CapData(body: .string("done")), crank: w.kernel.state.counters.crank))
        #expect(w.vatstore(b) == ["k": "v"])
        #expect(w.events(.acceptance) == ["send ko20 bye [ko23]"])
        #expect(w.clist(b)["ko23"] == "R o+5")
        #expect(w.object(k("ko23")) == "v2 1,1")

        #expect(w.cranks() == ["route v1", "cleanup-terminated-vat v2", "delivery v1"])
        #expect(w.deliveries(a, after: 2) == [message("o+0", "bye", ["o-51"])])
        #expect(w.object(k("ko23")) == "orphan 1,1")
        #expect(w.vatstore(b) == [:])
        try w.syscalls(a, [.dropImports([v("o-51")])])
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a).last == .retireImports([v("o-51")]))
        #expect(w.problems() == [])
    }

    @Test func failingExitRollsBackTheRestOfTheBatch() throws {
        let (w, _, b) = try World.exported()
        let (twin, _, _) = try World.exported()
        let outcome = try w.syscalls(b, [.vatstoreSet(key: "k", value: "v"), send("o-50", "bye", ["o+5"]),
                                         .exit(isFailure: true, info: errorData("fail"))])
        #expect(outcome == .exited(isFailure: true, results: []))
        #expect(w.termination(b)?.isFailure == true)
        #expect(w.vatstore(b) == [:])
        #expect(w.events(.acceptance) == [])
        try twin.kernel.terminate(b, reason: "fail")
        #expect(w.kernel.state == twin.kernel.state)
        try w.run()
        try twin.run()
        #expect(w.kernel.state == twin.kernel.state)
        #expect(w.problems() == [])
    }

    /// A failing exit rolls the batch back, so a kref its reason got from the undone part (a
    /// new export there) was never allocated: the reason named a number the next export then
    /// took, so one kref meant two objects. The reason is now translated again after the
    /// rollback: it names an object that exists, and the next export gets a fresh number.
    @Test func failingExitReasonNamesOnlyKrefsThatSurviveTheRollback() throws {
        let (w, a, b) = try World.exported()
        let reason = CapData<VRef>(body: .slot(0), slots: [v("o+5")])
        let outcome = try w.syscalls(b, [send("o-50", "bye", ["o+5"]), .exit(isFailure: true, info: reason)])
        #expect(outcome == .exited(isFailure: true, results: []))
        #expect(w.termination(b)?.info == CapData(body: .slot(0), slots: [k("ko23")]))
        #expect(w.events(.acceptance) == [])
        #expect(w.clist(b)["ko23"] == "R o+5")
        // The host holds the reason's object (KERNEL-SPEC §13.8).
        #expect(w.object(k("ko23")) == "v2 1,1")
        #expect(try w.kernel.addExport(vat: a, vref: v("o+1")) == k("ko24"))
        #expect(w.object(k("ko24")) == "v1 1,1")
        #expect(w.problems() == [])
        try w.run()
        #expect(w.termination(b)?.info.slots == [k("ko23")])
        #expect(w.object(k("ko23")) == "orphan 1,1")
        #expect(w.problems() == [])
    }

    /// The same when the reason's export is new in the exit itself: the rolled-back batch still
    /// leaves the reason's kref allocated, and nothing else from the batch.
    @Test func failingExitReasonWithItsOwnNewExportKeepsItAllocated() throws {
        let (w, a, b) = try World.exported()
        let reason = CapData<VRef>(body: .slot(0), slots: [v("o+6")])
        let outcome = try w.syscalls(b, [.vatstoreSet(key: "k", value: "v"), .exit(isFailure: true, info: reason)])
        #expect(outcome == .exited(isFailure: true, results: []))
        #expect(w.vatstore(b) == [:])
        #expect(w.termination(b)?.info.slots == [k("ko23")])
        #expect(w.object(k("ko23")) == "v2 1,1")
        #expect(try w.kernel.addExport(vat: a, vref: v("o+1")) == k("ko24"))
        #expect(w.problems() == [])
    }
}
