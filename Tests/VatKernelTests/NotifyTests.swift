import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §5.2 (subscribe) and §6 (notify deliveries).
@Suite struct NotifyTests {
    @Test func aNotifyCarriesTheSettledPromisesItsDataReaches() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(a, [send("o-50", "get", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.run()
        // B settles a new p+5 (kp41) with 5, and A's result with [p+5].
        try w.syscalls(b, [.resolve([fulfilled("p+5", .int(5)), fulfilled("p-60", .array([.slot(0)]), ["p+5"])])])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=2")
        #expect(w.promise(k("kp41")) == "fulfilled refCount=1")
        #expect(w.data(k("kp40")) == CapData(body: .array([.slot(0)]), slots: [k("kp41")]))
        #expect(w.events(.acceptance) == ["notify v1 kp40"])

        #expect(w.cranks() == ["route v1", "delivery v1"])
        #expect(w.deliveries(a).last == .notify([
            VatResolution(vpid: v("p+1"), rejected: false, data: CapData(body: .array([.slot(0)]), slots: [v("p-60")])),
            VatResolution(vpid: v("p-60"), rejected: false, data: CapData(body: .int(5))),
        ]))
        // Both of A's entries went with the notify; so did both promises.
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50"])
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.kernel.state.vats[a]?.nextPromiseImport == 61)
        #expect(w.problems() == [])
    }

    @Test func subscribingToASettledPromiseNotifiesAtOnce() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(b, [send("o-50", "take", ["p+5"])])
        try w.run()
        #expect(w.deliveries(a).last == message("o+0", "take", ["p-60"]))
        try w.syscalls(b, [.resolve([fulfilled("p+5", .int(7))])])
        // A did not subscribe: no notify, its entry stays.
        #expect(w.events(.acceptance) == [])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.clist(a)["kp40"] != nil)

        // Subscribing twice to a settled promise queues two notifies; the second finds the
        // entry gone and is dropped.
        try w.syscalls(a, [.subscribe(vpid: v("p-60")), .subscribe(vpid: v("p-60"))])
        #expect(w.events(.acceptance) == ["notify v1 kp40", "notify v1 kp40"])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=3")
        #expect(w.cranks() == ["route v1", "route v1", "delivery v1", "dropped v1"])
        #expect(w.deliveries(a).last == .notify([fulfilled("p-60", .int(7))]))
        #expect(w.deliveries(a).count == 4)
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }

    @Test func subscribingIsIdempotent() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(b, [send("o-50", "take", ["p+5"])])
        try w.run()
        try w.syscalls(a, [.subscribe(vpid: v("p-60")), .subscribe(vpid: v("p-60"))])
        try w.syscalls(a, [.subscribe(vpid: v("p-60"))])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2")
        try w.syscalls(b, [.resolve([fulfilled("p+5", .null)])])
        #expect(w.events(.acceptance) == ["notify v1 kp40"])
        try w.run()
        #expect(w.deliveries(a).last == .notify([fulfilled("p-60", .null)]))
        #expect(w.problems() == [])
    }

    @Test func subscribersAreNotifiedInStringOrderV10BeforeV2() throws {
        let w = World()
        for i in 1...10 { try w.createVat("vat\(i)") }
        let v1 = VatID(1), v2 = VatID(2), v10 = VatID(10)
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("meet", [k("ko21"), k("ko29")]), result: .none)
        try w.run()
        try w.syscalls(v1, [send("o-50", "take", ["p+1"]), send("o-51", "take", ["p+1"])])
        try w.run()
        try w.syscalls(v2, [.subscribe(vpid: v("p-60"))])
        try w.syscalls(v10, [.subscribe(vpid: v("p-60"))])
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers=v10,v2 queue=0 refCount=3")
        try w.syscalls(v1, [.resolve([fulfilled("p+1", .int(1))])])
        #expect(w.events(.acceptance) == ["notify v10 kp40", "notify v2 kp40"])
        #expect(w.cranks() == ["route v10", "route v2", "delivery v10", "delivery v2"])
        #expect(w.problems() == [])
    }

    @Test func aVatThatResolvesItsOwnSubscribedPromiseIsNotifiedToo() throws {
        let (w, _, b) = try World.acquainted()
        try w.syscalls(b, [.subscribe(vpid: v("p+1")), .resolve([fulfilled("p+1", .string("done"))])])
        // The resolve deleted B's entry, so the notify finds nothing to retire.
        #expect(w.events(.acceptance) == ["notify v2 kp40"])
        #expect(w.cranks() == ["route v2", "dropped v2"])
        #expect(w.deliveries(b).count == 2)
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }
}
