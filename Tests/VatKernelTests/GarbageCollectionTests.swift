import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §3, §5.5–5.7, §6 (GC deliveries), §8: distributed GC between live vats.
/// Unless said otherwise the start is `World.exported()`: B (v2) exports ko22 = `o+100` to
/// A (v1) as `o-50`, reachable (`v2 1,1`).
@Suite struct GarbageCollectionTests {
    @Test func dropOnly() throws {
        let (w, a, b) = try World.exported()
        #expect(try w.syscalls(a, [.dropImports([v("o-50")])]) == .committed([.ok]))
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "_ o-50"])
        #expect(w.object(k("ko22")) == "v2 0,1")
        #expect(w.gcActions == ["v2 dropExport ko22"])

        let r = try #require(try w.step())
        #expect(r.kind == .gcDelivery && r.vat == b)
        #expect(r.delivery?.delivery == .dropExports([v("o+100")]))
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "_ o+100"])
        #expect(w.object(k("ko22")) == "v2 0,1")
        #expect(w.gcActions == [])
        #expect(try w.step() == nil)
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")])])
        #expect(w.deliveries(a).count == 2)

        // Dropping a dropped import again changes nothing, so it is not even a crank.
        let before = w.kernel.state
        #expect(try w.syscalls(a, [.dropImports([v("o-50")])]) == .committed([.ok]))
        #expect(w.kernel.state == before)
        #expect(w.problems() == [])
    }

    @Test func dropAndRetireInOneBatch() throws {
        let (w, a, b) = try World.exported()
        #expect(try w.syscalls(a, [.dropImports([v("o-50")]), .retireImports([v("o-50")])]) == .committed([.ok, .ok]))
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.object(k("ko22")) == "v2 0,0")
        #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])

        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.deliveries(a).count == 2)
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }

    @Test func dropThenRetireInLaterBatches() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.cranks() == ["gc-delivery v2"])
        #expect(w.clist(b)["ko22"] == "_ o+100")

        try w.syscalls(a, [.retireImports([v("o-50")])])
        #expect(w.object(k("ko22")) == "v2 0,0")
        #expect(w.gcActions == ["v2 retireExport ko22"])
        #expect(w.cranks() == ["gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.problems() == [])
    }

    @Test func exporterRetiresRightAfterDropExports() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        #expect(w.deliveries(b).last == .dropExports([v("o+100")]))

        // B answers the dropExports with retireExports while A still recognizes it.
        #expect(try w.syscalls(b, [.retireExports([v("o+100")])]) == .committed([.ok]))
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "_ o-50"])
        #expect(w.gcActions == ["v1 retireImport ko22"])
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a, after: 2) == [.retireImports([v("o-50")])])
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")])])
        #expect(w.problems() == [])
    }

    @Test func exporterRetiresLater() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        // Other work goes by; while A recognizes ko22 the kernel never retires it by itself.
        try w.syscalls(b, [.vatstoreSet(key: "note", value: "dropped"), send("o-50", "hello")])
        try w.syscalls(a, [.vatstoreSet(key: "x", value: "1")])
        #expect(w.cranks() == ["route v1", "delivery v1"])
        #expect(w.object(k("ko22")) == "v2 0,1")
        #expect(w.gcActions == [])

        #expect(try w.syscalls(b, [.retireExports([v("o+100")])]) == .committed([.ok]))
        #expect(w.gcActions == ["v1 retireImport ko22"])
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a, after: 2) == [message("o+0", "hello"), .retireImports([v("o-50")])])
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.problems() == [])
    }

    @Test func importerRetiringLastMakesTheKernelRetireTheExport() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        try w.syscalls(a, [.retireImports([v("o-50")])])
        #expect(w.gcActions == ["v2 retireExport ko22"])
        let r = try #require(try w.step())
        #expect(r.kind == .gcDelivery && r.vat == b && r.delivery?.delivery == .retireExports([v("o+100")]))
        #expect(w.object(k("ko22")) == nil)
        #expect(w.problems() == [])
    }

    @Test func exporterReExportsAfterDropExports() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        #expect(w.clist(b)["ko22"] == "_ o+100")

        // Mentioning the export again makes it reachable again: same kref, B's flag back to R.
        try w.syscalls(b, [send("o-50", "again", ["o+100"])])
        #expect(w.clist(b)["ko22"] == "R o+100")
        #expect(w.object(k("ko22")) == "v2 1,2")
        #expect(w.cranks() == ["route v1", "delivery v1"])
        #expect(w.deliveries(a, after: 2) == [message("o+0", "again", ["o-50"])])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.object(k("ko22")) == "v2 1,1")
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }

    /// A = v1 (ko20), B = v2 (ko21), C = v3 (ko22); B exports ko23 = `o+100` to A and C (both `o-50`).
    func twoImporters() throws -> (World, VatID, VatID, VatID) {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        let c = try w.createVat("carol").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20"), k("ko22")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"]), send("o-51", "take", ["o+100"])])
        try w.run()
        return (w, a, b, c)
    }

    @Test func twoImportersDropAndRetireOneAfterTheOther() throws {
        let (w, a, b, c) = try twoImporters()
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o-51", "ko23": "R o+100"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko23": "R o-50"])
        #expect(w.clist(c) == ["ko22": "R o+0", "ko23": "R o-50"])
        #expect(w.object(k("ko23")) == "v2 2,2")

        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.object(k("ko23")) == "v2 1,2")
        #expect(w.gcActions == [])
        try w.syscalls(c, [.dropImports([v("o-50")])])
        #expect(w.object(k("ko23")) == "v2 0,2")
        #expect(w.gcActions == ["v2 dropExport ko23"])
        #expect(w.cranks() == ["gc-delivery v2"])

        try w.syscalls(a, [.retireImports([v("o-50")])])
        #expect(w.object(k("ko23")) == "v2 0,1")
        #expect(w.gcActions == [])
        try w.syscalls(c, [.retireImports([v("o-50")])])
        #expect(w.object(k("ko23")) == "v2 0,0")
        #expect(w.gcActions == ["v2 retireExport ko23"])
        #expect(w.cranks() == ["gc-delivery v2"])

        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.deliveries(a).count == 2 && w.deliveries(c).count == 2)
        #expect(w.object(k("ko23")) == nil)
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o-51"])
        #expect(w.problems() == [])
    }

    @Test func twoImportersToldToRetireWhenTheExporterRetires() throws {
        let (w, a, b, c) = try twoImporters()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.syscalls(c, [.dropImports([v("o-50")])])
        try w.run()
        try w.syscalls(b, [.retireExports([v("o+100")])])
        #expect(w.object(k("ko23")) == nil)
        #expect(w.gcActions == ["v1 retireImport ko23", "v3 retireImport ko23"])
        #expect(w.cranks() == ["gc-delivery v1", "gc-delivery v3"])
        #expect(w.deliveries(a, after: 2) == [.retireImports([v("o-50")])])
        #expect(w.deliveries(c, after: 2) == [.retireImports([v("o-50")])])
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.clist(c) == ["ko22": "R o+0"])
        #expect(w.problems() == [])
    }

    /// The host keeps the result of `get()`; v1 (root ko20) settles it with its new export
    /// `o+100` (ko21). The settlement data is then the only holder of ko21.
    @Test(arguments: [false, true])
    func promiseResolutionHoldsTheOnlyReference(rejected: Bool) throws {
        let w = World()
        let b = try w.createVat("bob").vatID
        let kp = try #require(try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("get", [KRef]()), result: .keep))
        #expect(kp == k("kp40"))
        try w.run()
        #expect(w.deliveries(b, after: 1) == [message("o+0", "get", result: "p-60")])
        #expect(w.promise(kp) == "unresolved decider=v1 subscribers= queue=0 refCount=2")

        let data = CapData<VRef>(body: .slot(0), slots: [v("o+100")])
        try w.syscalls(b, [.resolve([VatResolution(vpid: v("p-60"), rejected: rejected, data: data)])])
        #expect(w.clist(b) == ["ko20": "R o+0", "ko21": "R o+100"])
        #expect(w.object(k("ko21")) == "v1 1,1")
        #expect(w.promise(kp) == (rejected ? "rejected refCount=1" : "fulfilled refCount=1"))
        #expect(w.data(kp) == CapData(body: .slot(0), slots: [k("ko21")]))
        #expect(w.gcActions == [])

        // Releasing the promise releases its data: ko21 becomes 0,0 in that same crank.
        try w.kernel.releaseResult(kp)
        #expect(w.promise(kp) == nil)
        #expect(w.object(k("ko21")) == "v1 0,0")
        #expect(w.gcActions == ["v1 dropExport ko21", "v1 retireExport ko21"])
        #expect(w.cranks() == ["gc-delivery v1", "gc-delivery v1"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.object(k("ko21")) == nil)
        #expect(w.clist(b) == ["ko20": "R o+0"])
        #expect(w.problems() == [])
    }

    /// v1 (root ko20) decides kp40 (`p-60`) and sends `use(o+100)` to it: the message waits in
    /// the promise's queue, the only holder of ko21. Settling kp40 requeues it; the message is
    /// rejected (no method on 42, or the rejection itself) and ko21 is collected.
    @Test(arguments: [false, true])
    func promiseQueueHoldsTheOnlyReference(rejected: Bool) throws {
        let w = World()
        let b = try w.createVat("bob").vatID
        let kp = try #require(try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("get", [KRef]()), result: .ignore))
        try w.run()
        #expect(w.promise(kp) == "unresolved decider=v1 subscribers= queue=0 refCount=1")

        try w.syscalls(b, [send("p-60", "use", ["o+100"], result: "p+1"), .subscribe(vpid: v("p+1"))])
        #expect(w.events(.acceptance) == ["send kp40 use [ko21] -> kp41"])
        #expect(w.cranks() == ["route"])
        #expect(w.events(.acceptance) == [] && w.events(.run) == [])
        #expect(w.promise(kp) == "unresolved decider=v1 subscribers= queue=1 refCount=2")
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers=v1 queue=0 refCount=2")
        #expect(w.object(k("ko21")) == "v1 1,1")
        #expect(w.kernel.holders(of: k("ko21")).map(\.kind) == [.exporter, .promiseQueue])

        let settlement = rejected
            ? VatResolution(vpid: v("p-60"), rejected: true, data: errorData("nope"))
            : fulfilled("p-60", .int(42))
        try w.syscalls(b, [.resolve([settlement])])
        #expect(w.events(.acceptance) == ["send kp40 use [ko21] -> kp41"])
        #expect(w.promise(kp) == (rejected ? "rejected refCount=1" : "fulfilled refCount=1"))
        #expect(w.object(k("ko21")) == "v1 1,1")

        #expect(w.cranks() == ["route", "route v1", "gc-delivery v1", "gc-delivery v1", "delivery v1"])
        let error = rejected ? errorData("nope") : errorData("data is not callable, has no method use")
        #expect(w.deliveries(b, after: 2) == [
            .dropExports([v("o+100")]), .retireExports([v("o+100")]),
            .notify([VatResolution(vpid: v("p+1"), rejected: true, data: error)]),
        ])
        #expect(w.object(k("ko21")) == nil)
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.clist(b) == ["ko20": "R o+0"])
        #expect(w.problems() == [])
    }

    /// §12: the queued message is the only reference; after delivery the object is 0,0 and one
    /// processRefcounts adds both dropExport and retireExport.
    @Test func messageToSelf() throws {
        let w = World()
        let b = try w.createVat("bob").vatID
        try w.syscalls(b, [send("o+100", "hi")])
        #expect(w.clist(b) == ["ko20": "R o+0", "ko21": "R o+100"])
        #expect(w.object(k("ko21")) == "v1 1,1")
        #expect(w.events(.acceptance) == ["send ko21 hi []"])

        #expect(try w.step()?.kind == .route)
        #expect(w.events(.run) == ["send ko21 hi []"])
        let r = try #require(try w.step())
        #expect(r.kind == .delivery && r.delivery?.delivery == message("o+100", "hi"))
        #expect(w.object(k("ko21")) == "v1 0,0")
        #expect(w.gcActions == ["v1 dropExport ko21", "v1 retireExport ko21"])

        #expect(w.cranks() == ["gc-delivery v1", "gc-delivery v1"])
        #expect(w.deliveries(b, after: 1) == [message("o+100", "hi"), .dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.object(k("ko21")) == nil)
        #expect(w.clist(b) == ["ko20": "R o+0"])
        #expect(w.problems() == [])
    }

    @Test func importerRetiringBeforeDroppingIsVatFatal() throws {
        let (w, a, b) = try World.exported()
        let problem = "syscall.retireImports but o-50 is still reachable"
        #expect(try w.syscalls(a, [.retireImports([v("o-50")])]) == .illegal(index: 0, syscall: "retireImports", problem: problem))
        #expect(w.termination(a)?.isFailure == true)
        #expect(w.termination(a)?.info == .error(problem))
        // The entry is untouched by the failed syscall; cleanup then releases it.
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.object(k("ko22")) == "v2 1,1")
        #expect(w.cranks() == ["cleanup-terminated-vat v1", "gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.object(k("ko20")) == "orphan 2,2")
        #expect(w.problems() == [])
    }

    @Test func exporterRetiringBeforeDropExportsIsVatFatal() throws {
        let (w, a, b) = try World.exported()
        let problem = "syscall.retireExports but o+100 is still reachable"
        #expect(try w.syscalls(b, [.retireExports([v("o+100")])]) == .illegal(index: 0, syscall: "retireExports", problem: problem))
        #expect(w.termination(b)?.info == .error(problem))
        #expect(w.clist(b)["ko22"] == "R o+100")
        #expect(w.object(k("ko22")) == "v2 1,1")
        try w.run()
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.problems() == [])
    }

    // MARK: processGCActionSet

    @Test func vatGroupsGoInStringOrderV10BeforeV2() throws {
        let w = World()
        for i in 1...10 { try w.createVat("vat\(i)") }
        let v1 = VatID(1), v2 = VatID(2), v10 = VatID(10)
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        _ = try w.kernel.queueToKref(target: k("ko29"), methargs: methargs("meet", [k("ko20")]), result: .none)
        try w.run()
        try w.syscalls(v2, [send("o-50", "take", ["o+1"])])
        try w.syscalls(v10, [send("o-50", "take", ["o+1"])])
        try w.run()
        #expect(w.clist(v1) == ["ko20": "R o+0", "ko30": "R o-50", "ko31": "R o-51"])

        try w.syscalls(v1, [.dropImports([v("o-50"), v("o-51")])])
        #expect(w.gcActions == ["v10 dropExport ko31", "v2 dropExport ko30"])
        let first = try #require(try w.step())
        #expect(first.vat == v10 && first.delivery?.delivery == .dropExports([v("o+1")]))
        let second = try #require(try w.step())
        #expect(second.vat == v2 && second.delivery?.delivery == .dropExports([v("o+1")]))
        #expect(first.crank + 1 == second.crank)
        #expect(try w.step() == nil)
        #expect(w.problems() == [])
    }

    @Test func withinAVatDropExportThenRetireExportThenRetireImport() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        let c = try w.createVat("carol").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        _ = try w.kernel.queueToKref(target: k("ko22"), methargs: methargs("meet", [k("ko21")]), result: .none)
        try w.run()
        // C exports ko23 to B; B drops it (C is told).
        try w.syscalls(c, [send("o-50", "give", ["o+1"])])
        try w.run()
        try w.syscalls(b, [.dropImports([v("o-51")])])
        try w.run()
        #expect(w.deliveries(c).last == .dropExports([v("o+1")]))
        // B exports ko24, ko25 to A.
        try w.syscalls(b, [send("o-50", "take", ["o+1", "o+2"])])
        try w.run()
        let bLog = w.deliveries(b).count

        // Inserted lowest priority first: C abandons ko23 (B must retire its import) ...
        try w.syscalls(c, [.abandonExports([v("o+1")])])
        #expect(w.gcActions == ["v2 retireImport ko23"])
        // ... then A drops both and retires one.
        try w.syscalls(a, [.dropImports([v("o-50"), v("o-51")]), .retireImports([v("o-51")])])
        #expect(w.gcActions == ["v2 dropExport ko24", "v2 dropExport ko25", "v2 retireExport ko25", "v2 retireImport ko23"])

        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: bLog) == [
            .dropExports([v("o+1"), v("o+2")]), .retireExports([v("o+2")]), .retireImports([v("o-51")]),
        ])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko24": "_ o+1"])
        #expect(w.object(k("ko24")) == "v2 0,1")
        #expect(w.object(k("ko25")) == nil && w.object(k("ko23")) == nil)
        #expect(w.problems() == [])
    }

    @Test func krefsInOneDeliverySortAsStringsKo100BeforeKo21() throws {
        let w = World()
        let b = try w.createVat("bob").vatID
        let exports = (1...80).map { "o+\($0)" }
        try w.syscalls(b, [send("o+0", "many", exports)])
        #expect(w.clist(b)["ko21"] == "R o+1")
        #expect(w.clist(b)["ko100"] == "R o+80")
        #expect(w.cranks() == ["route v1", "delivery v1", "gc-delivery v1", "gc-delivery v1"])
        let order = ["o+80"] + (1...79).map { "o+\($0)" }
        #expect(w.deliveries(b, after: 1) == [
            message("o+0", "many", exports), .dropExports(order.map(v)), .retireExports(order.map(v)),
        ])
        #expect(w.clist(b) == ["ko20": "R o+0"])
        #expect(w.objects == ["ko20 v1 1,1"])
        #expect(w.problems() == [])
    }

    @Test func dropExportMadeMootIsNegated() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.gcActions == ["v2 dropExport ko22"])
        // Before the GC crank, B sends ko22 to A again: reachable again.
        try w.syscalls(b, [send("o-50", "again", ["o+100"])])
        #expect(w.object(k("ko22")) == "v2 1,2")

        #expect(try w.step()?.kind == .route)
        let crank = w.kernel.state.counters.crank
        let negated = try #require(try w.step())
        #expect(negated.kind == .negatedGCAction)
        #expect(negated.kind.rawValue == "negated-gc-action")
        #expect(negated.delivery == nil && negated.vat == nil)
        #expect(w.kernel.state.counters.crank == crank + 1)
        #expect(w.gcActions == [])
        #expect(w.deliveries(b).count == 2)

        #expect(w.cranks() == ["delivery v1"])
        #expect(w.deliveries(a, after: 2) == [message("o+0", "again", ["o-50"])])
        #expect(w.clist(a)["ko22"] == "R o-50")
        #expect(w.object(k("ko22")) == "v2 1,1")
        #expect(w.problems() == [])
    }

    @Test func retireImportAlreadyDoneIsNegated() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        #expect(w.gcActions == ["v1 retireImport ko22"])
        // A retires it on its own first (the object is already gone: no count changes).
        #expect(try w.syscalls(a, [.retireImports([v("o-50")])]) == .committed([.ok]))
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.cranks() == ["negated-gc-action"])
        #expect(w.deliveries(a).count == 2)
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }
}
