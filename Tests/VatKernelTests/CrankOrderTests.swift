import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §4: `step()` picks work in strict priority: acceptance queue, termination
/// cleanup, the GC action set, the reap queue (bringOutYourDead), then the run-queue.
@Suite struct CrankOrderTests {
    @Test func everyKindOfWorkPendingAtOnce() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        let c = try w.createVat("carol").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"])])
        try w.run()
        #expect(w.clist(a)["ko23"] == "R o-50")

        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("hello", [KRef]()), result: .none)
        #expect(try w.step().map(w.name) == "route v1")          // now in the run-queue
        try w.kernel.bringOutYourDead(a)                           // reap queue
        try w.syscalls(a, [.dropImports([v("o-50")])])              // GC action for B
        try w.kernel.terminate(c, reason: "stop")                  // cleanup pending
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("second", [KRef]()), result: .none)
        #expect(w.events(.acceptance) == ["send ko20 second []"])
        #expect(w.events(.reap) == ["bringOutYourDead v1"])
        #expect(w.events(.run) == ["send ko20 hello []"])
        #expect(w.gcActions == ["v2 dropExport ko23"])

        #expect(w.cranks() == ["route v1", "cleanup-terminated-vat v3", "gc-delivery v2", "bringOutYourDead v1",
                               "delivery v1", "delivery v1"])
        #expect(w.deliveries(a, after: 2) == [.bringOutYourDead, message("o+0", "hello"), message("o+0", "second")])
        // Sequence numbers count up per vat; crank numbers only grow.
        let records = w.records(a)
        #expect(records.map(\.seq) == Array(1...records.count))
        #expect(records.map(\.crank) == records.map(\.crank).sorted())
        #expect(w.problems() == [])
    }

    @Test func bringOutYourDeadForADeadVatIsDropped() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        try w.kernel.bringOutYourDead(a)
        try w.kernel.terminate(a, reason: "stop")
        #expect(w.cranks() == ["cleanup-terminated-vat v1", "dropped v1"])
        #expect(w.kernel.state.deliveryLogs[a] == DeliveryLog(last: 1, count: 0))
        #expect(throws: KernelError.vatTerminated(a)) { try w.kernel.bringOutYourDead(a) }
        #expect(w.problems() == [])
    }

    @Test func theVatAnswersBringOutYourDeadWithGCSyscalls() throws {
        let (w, a, b) = try World.exported()
        try w.kernel.bringOutYourDead(a)
        #expect(w.cranks() == ["bringOutYourDead v1"])
        #expect(w.deliveries(a).last == .bringOutYourDead)
        try w.syscalls(a, [.dropImports([v("o-50")]), .retireImports([v("o-50")])])
        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.problems() == [])
    }

    @Test func runStopsAfterMaxCranks() throws {
        let (w, a, _) = try World.exported()
        for i in 0..<3 { _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("m\(i)", [KRef]()), result: .none) }
        let first = try w.kernel.run(maxCranks: 4)
        #expect(first.cranks == 4 && !first.idle)
        let rest = try w.kernel.run()
        #expect(rest.cranks == 2 && rest.idle)
        #expect(w.deliveries(a, after: 2) == [message("o+0", "m0"), message("o+0", "m1"), message("o+0", "m2")])
        #expect(try w.kernel.run() == (0, true))
    }
}
