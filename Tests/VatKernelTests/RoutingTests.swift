import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §7: sends are routed when they leave the acceptance queue and again at the
/// front of the run-queue; messages to unresolved promises wait in the promise's queue.
@Suite struct RoutingTests {
    @Test func queuedMessagesFollowTheirPromiseToAnObject() throws {
        let (w, a, b) = try World.acquainted()
        // A pipelines `use(o+7)` to the result of `make()`.
        try w.syscalls(a, [send("o-50", "make", result: "p+1"), send("p+1", "use", ["o+7"], result: "p+2"), .subscribe(vpid: v("p+2"))])
        #expect(w.events(.acceptance) == ["send ko21 make [] -> kp40", "send kp40 use [ko22] -> kp41"])
        #expect(w.cranks() == ["route v2", "route", "delivery v2"])
        #expect(w.deliveries(b).last == message("o+0", "make", result: "p-60"))
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=1 refCount=3")
        #expect(w.object(k("ko22")) == "v1 1,1")

        // B fulfils it with its new o+9 (ko23): the waiting message goes to ko23's owner.
        try w.syscalls(b, [.resolve([fulfilled("p-60", .slot(0), ["o+9"])])])
        #expect(w.events(.acceptance) == ["send kp40 use [ko22] -> kp41"])
        #expect(w.cranks() == ["route v2", "delivery v2"])
        #expect(w.deliveries(b).last == message("o+9", "use", ["o-51"], result: "p-61"))
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.object(k("ko23")) == "v2 1,1")

        // Later sends to the settled promise go straight to the object too.
        try w.syscalls(a, [send("p+1", "again")])
        #expect(w.events(.acceptance) == ["send kp40 again []"])
        #expect(try w.step().map(w.name) == "route v2")
        #expect(w.events(.run) == ["send ko23 again []"])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.object(k("ko23")) == "v2 2,2")
        try w.run()
        #expect(w.deliveries(b).last == message("o+9", "again"))

        // Once B is gone, the promise still names ko23, now an orphan: sends to it reject.
        try w.kernel.terminate(b, reason: "stop")
        try w.run()
        try w.syscalls(a, [send("p+1", "late", result: "p+3"), .subscribe(vpid: v("p+3"))])
        try w.run()
        #expect(w.deliveries(a).last == .notify([rejected("p+3", "vat terminated")]))
        #expect(w.problems() == [])
    }

    @Test func pipelinedMessagesInheritTheRejection() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(a, [send("o-50", "make", result: "p+1"), send("p+1", "use", result: "p+2"), .subscribe(vpid: v("p+2")),
                           send("p+2", "more", result: "p+3"), .subscribe(vpid: v("p+3"))])
        try w.run()
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=1 refCount=3")
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers=v1 queue=1 refCount=3")

        try w.syscalls(b, [.resolve([VatResolution(vpid: v("p-60"), rejected: true, data: errorData("no"))])])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [
            .notify([VatResolution(vpid: v("p+2"), rejected: true, data: errorData("no"))]),
            .notify([VatResolution(vpid: v("p+3"), rejected: true, data: errorData("no"))]),
        ])
        #expect(w.deliveries(b).count == 3)
        #expect(w.kernel.state.promises.rows.keys.sorted() == [40])
        #expect(w.problems() == [])
    }

    @Test func dataThatIsNotASingleObjectHasNoMethods() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(a, [send("o-50", "make", result: "p+1"), send("p+1", "frob", result: "p+2"), .subscribe(vpid: v("p+2"))])
        try w.run()
        // Two references are data, not a target.
        try w.syscalls(b, [.resolve([fulfilled("p-60", .array([.slot(0), .slot(1)]), ["o+1", "o+2"])])])
        try w.run()
        #expect(w.deliveries(a).last == .notify([VatResolution(vpid: v("p+2"), rejected: true,
                                                              data: errorData("data is not callable, has no method frob"))]))
        #expect(w.problems() == [])
    }

    @Test func theOwnerIsCheckedAgainAtTheFrontOfTheRunQueue() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(a, [send("o-50", "one", result: "p+1"), .subscribe(vpid: v("p+1"))])
        #expect(try w.step().map(w.name) == "route v2")
        // Abandoned between routing and delivery: the message splats at the run-queue.
        try w.syscalls(b, [.abandonExports([v("o+0")])])
        #expect(w.object(k("ko21")) == "orphan 3,3")
        #expect(w.cranks() == ["dropped", "route v1", "delivery v1"])
        #expect(w.deliveries(a).last == .notify([rejected("p+1", "vat terminated")]))
        #expect(w.deliveries(b).count == 2)
        #expect(w.object(k("ko21")) == "orphan 2,2")
        #expect(w.problems() == [])
    }

    @Test func aSendToItsOwnUnresolvedPromiseWaitsInTheQueue() throws {
        let (w, _, b) = try World.acquainted()
        try w.syscalls(b, [send("p+1", "later", ["o+3"])])
        #expect(w.cranks() == ["route"])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=1 refCount=2")
        try w.syscalls(b, [.resolve([fulfilled("p+1", .slot(0), ["o+3"])])])
        // The promise goes once routed; the message was then ko22's only holder.
        #expect(w.cranks() == ["route v2", "delivery v2", "gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [message("o+3", "later", ["o+3"]), .dropExports([v("o+3")]), .retireExports([v("o+3")])])
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }
}
