import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §13.5 (and §12 test hooks, §13.7 "why is this kref alive"): what the host holds
/// counts like a kernel-held reference.
@Suite struct HostReferencesTests {
    @Test func aVatsRootIsExportedAndPinnedAtCreation() throws {
        let w = World()
        let alice = try w.kernel.createVat(name: "alice")
        #expect(alice == CreatedVat(vatID: VatID(1), rootKref: k("ko20"), incarnation: 0))
        #expect(w.object(k("ko20")) == "v1 1,1")
        #expect(w.kernel.state.pins.rows == [k("ko20"): 1])
        #expect(w.clist(alice.vatID) == ["ko20": "R o+0"])
        #expect(w.deliveries(alice.vatID) == [.startVat(vatParameters: CapData(body: .null))])
        #expect(w.kernel.holders(of: k("ko20")) == [
            Holder(kind: .exporter, vat: VatID(1), vref: .root, reachable: 0, recognizable: 0),
            Holder(kind: .pin, reachable: 1, recognizable: 1),
        ])
        let bob = try w.kernel.createVat(name: "bob")
        #expect(bob.rootKref == k("ko21") && bob.vatID == VatID(2))
        #expect(w.kernel.isIdle)
        #expect(w.problems() == [])
    }

    @Test func pinsAddOneOneAndTheLastUnpinLetsTheObjectGo() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        try w.kernel.pin(k("ko20"))
        #expect(w.object(k("ko20")) == "v1 2,2")
        #expect(w.kernel.state.pins[k("ko20")] == 2)
        #expect(w.kernel.holders(of: k("ko20")).last == Holder(kind: .pin, reachable: 2, recognizable: 2))
        try w.kernel.unpin(k("ko20"))
        #expect(w.object(k("ko20")) == "v1 1,1")
        #expect(w.gcActions == [])
        try w.kernel.unpin(k("ko20"))
        #expect(w.object(k("ko20")) == "v1 0,0")
        #expect(w.kernel.state.pins.isEmpty)
        #expect(w.gcActions == ["v1 dropExport ko20", "v1 retireExport ko20"])
        #expect(w.cranks() == ["gc-delivery v1", "gc-delivery v1"])
        #expect(w.deliveries(a, after: 1) == [.dropExports([.root]), .retireExports([.root])])
        #expect(w.object(k("ko20")) == nil)
        #expect(w.clist(a) == [:])
        #expect(throws: KernelError.unknownKRef(k("ko20"))) { try w.kernel.unpin(k("ko20")) }
        #expect(throws: KernelError.unknownKRef(k("ko20"))) { try w.kernel.pin(k("ko20")) }
        #expect(w.problems() == [])
    }

    @Test func pinRulesAreCheckedBeforeAnythingChanges() throws {
        let (w, _, _) = try World.exported()
        let before = w.kernel.state
        #expect(throws: KernelError.unknownKRef(k("ko99"))) { try w.kernel.pin(k("ko99")) }
        #expect(throws: KernelError.self) { try w.kernel.pin(k("kp40")) }
        #expect(throws: KernelError.self) { try w.kernel.unpin(k("ko22")) }  // exists, not pinned
        #expect(throws: KernelError.unknownKRef(k("ko99"))) { try w.kernel.unpin(k("ko99")) }
        #expect(w.kernel.state == before)
    }

    @Test func aPinKeepsAnImportedObjectAliveAfterItsImporterDrops() throws {
        let (w, a, b) = try World.exported()
        try w.kernel.pin(k("ko22"))
        #expect(w.object(k("ko22")) == "v2 2,2")
        try w.syscalls(a, [.dropImports([v("o-50")]), .retireImports([v("o-50")])])
        #expect(w.object(k("ko22")) == "v2 1,1")
        #expect(w.gcActions == [])
        try w.kernel.unpin(k("ko22"))
        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.problems() == [])
    }

    @Test func addExportTakesAndPinsAnExport() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        #expect(try w.kernel.addExport(vat: a, vref: v("o+7")) == k("ko21"))
        #expect(try w.kernel.addExport(vat: a, vref: v("o+d5/3")) == k("ko22"))
        #expect(try w.kernel.addExport(vat: a, vref: v("o+7")) == k("ko21"))
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o+7", "ko22": "R o+d5/3"])
        #expect(w.objects == ["ko20 v1 1,1", "ko21 v1 2,2", "ko22 v1 1,1"])
        #expect(w.kernel.state.pins.rows == [k("ko20"): 1, k("ko21"): 2, k("ko22"): 1])
        #expect(w.deliveries(a).count == 1)

        let before = w.kernel.state
        #expect(throws: KernelError.self) { try w.kernel.addExport(vat: a, vref: v("o-50")) }
        #expect(throws: KernelError.self) { try w.kernel.addExport(vat: a, vref: v("p+1")) }
        #expect(throws: KernelError.unknownVat(VatID(9))) { try w.kernel.addExport(vat: VatID(9), vref: v("o+1")) }
        #expect(w.kernel.state == before)
        try w.kernel.terminate(a, reason: "stop")
        #expect(throws: KernelError.vatTerminated(a)) { try w.kernel.addExport(vat: a, vref: v("o+1")) }
        #expect(w.problems() == [])
    }

    @Test func addExportOfADroppedExportMakesItReachableAgain() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        #expect(w.clist(b)["ko22"] == "_ o+100")
        #expect(try w.kernel.addExport(vat: b, vref: v("o+100")) == k("ko22"))
        #expect(w.clist(b)["ko22"] == "R o+100")
        #expect(w.object(k("ko22")) == "v2 1,2")
        #expect(w.problems() == [])
    }

    @Test func aKeptResultIsHeldUntilReleased() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let kp = try #require(try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("get", [KRef]()), result: .keep))
        #expect(kp == k("kp40"))
        #expect(w.promise(kp) == "unresolved decider=none subscribers= queue=0 refCount=2")
        #expect(w.kernel.state.heldResults.rows == [kp])
        #expect(w.events(.acceptance) == ["send ko20 get [] -> kp40"])
        #expect(w.object(k("ko20")) == "v1 2,2")
        #expect(w.kernel.holders(of: kp).map(\.kind) == [.hostResult, .queuedEvent])

        #expect(w.cranks() == ["route v1", "delivery v1"])
        #expect(w.deliveries(a, after: 1) == [message("o+0", "get", result: "p-60")])
        #expect(w.promise(kp) == "unresolved decider=v1 subscribers= queue=0 refCount=2")
        #expect(w.object(k("ko20")) == "v1 1,1")

        try w.syscalls(a, [.resolve([fulfilled("p-60", .int(42))])])
        #expect(w.promise(kp) == "fulfilled refCount=1")
        #expect(w.data(kp) == CapData(body: .int(42)))
        #expect(w.kernel.holders(of: kp) == [Holder(kind: .hostResult, reachable: 1, recognizable: 1)])
        #expect(w.cranks() == [])

        try w.kernel.releaseResult(kp)
        #expect(w.promise(kp) == nil)
        #expect(w.kernel.state.heldResults.isEmpty)
        #expect(throws: KernelError.unknownKRef(kp)) { try w.kernel.releaseResult(kp) }
        #expect(w.problems() == [])
    }

    @Test func aResultTheHostDoesNotKeepCannotBeReleased() throws {
        let w = World()
        _ = try w.createVat("alice")
        let kp = try #require(try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("get", [KRef]()), result: .ignore))
        let before = w.kernel.state
        #expect(throws: KernelError.self) { try w.kernel.releaseResult(kp) }
        #expect(throws: KernelError.unknownKRef(k("kp99"))) { try w.kernel.releaseResult(k("kp99")) }
        #expect(w.kernel.state == before)
    }

    @Test(arguments: [false, true])
    func anIgnoredResultIsCollectedOnceSettled(rejected: Bool) throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let kp = try #require(try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("get", [KRef]()), result: .ignore))
        #expect(w.promise(kp) == "unresolved decider=none subscribers= queue=0 refCount=1")
        #expect(w.kernel.state.heldResults.isEmpty)
        try w.run()
        #expect(w.promise(kp) == "unresolved decider=v1 subscribers= queue=0 refCount=1")
        try w.syscalls(a, [.resolve([rejected ? VatResolution(vpid: v("p-60"), rejected: true, data: errorData("no")) : fulfilled("p-60", .int(1))])])
        #expect(w.promise(kp) == nil)
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }

    @Test func noResultMeansNoPromise() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        #expect(try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("go", [KRef]()), result: .none) == nil)
        try w.run()
        #expect(w.deliveries(a, after: 1) == [message("o+0", "go")])
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.kernel.state.counters.nextPromise == 40)
    }

    @Test func aKeptResultOfASendToAnOrphanIsRejectedAndStillHeld() throws {
        let (w, _, b) = try World.exported()
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        let kp = try #require(try w.kernel.queueToKref(target: k("ko22"), methargs: methargs("ping", [KRef]()), result: .keep))
        #expect(w.object(k("ko22")) == "orphan 2,2")
        #expect(w.cranks() == ["route"])
        #expect(w.promise(kp) == "rejected refCount=1")
        #expect(w.data(kp) == .error("vat terminated"))
        #expect(w.object(k("ko22")) == "orphan 1,1")
        try w.kernel.releaseResult(kp)
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.problems() == [])
    }

    @Test func krefsTheHostNamesAreCountedWhileQueued() throws {
        let (w, _, b) = try World.exported()
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("back", [k("ko22")]), result: .none)
        #expect(w.object(k("ko21")) == "v2 2,2")
        #expect(w.object(k("ko22")) == "v2 2,2")
        try w.run()
        // B gets its own export back under its own name.
        #expect(w.deliveries(b).last == message("o+0", "back", ["o+100"]))
        #expect(w.object(k("ko21")) == "v2 1,1")
        #expect(w.object(k("ko22")) == "v2 1,1")

        let before = w.kernel.state
        #expect(throws: KernelError.unknownKRef(k("ko99"))) {
            try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("x", [k("ko99")]), result: .keep)
        }
        #expect(throws: KernelError.unknownKRef(k("kp77"))) {
            try w.kernel.queueToKref(target: k("kp77"), methargs: methargs("x", [KRef]()), result: .none)
        }
        #expect(throws: KernelError.self) {
            try w.kernel.queueToKref(target: KRef(.device, 30), methargs: methargs("x", [KRef]()), result: .none)
        }
        #expect(w.kernel.state == before)
        #expect(w.problems() == [])
    }

    /// ko23 = B's `o+100`, held by every kind of holder at once.
    @Test func holdersListsEachHolderWithItsShare() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        let c = try w.createVat("carol").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20"), k("ko22")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"]), send("o-51", "take", ["o+100"])])
        try w.run()
        try w.syscalls(c, [.dropImports([v("o-50")])])
        try w.kernel.pin(k("ko23"))
        // A kept result settled with ko23.
        let kept = try #require(try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("get", [KRef]()), result: .keep))
        try w.run()
        try w.syscalls(b, [.resolve([fulfilled("p-60", .slot(0), ["o+100"])])])
        // A message waiting on a promise B decides.
        let later = try #require(try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("later", [KRef]()), result: .keep))
        try w.run()
        _ = try w.kernel.queueToKref(target: later, methargs: methargs("use", [k("ko23")]), result: .none)
        try w.run()
        // Vat parameters of a new vat (which also imports it through startVat).
        let d = try w.kernel.createVat(name: "dave", vatParameters: CapData(body: .slot(0), slots: [k("ko23")])).vatID
        #expect(w.deliveries(d) == [.startVat(vatParameters: CapData(body: .slot(0), slots: [v("o-50")]))])
        // A message still in the acceptance queue.
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("take", [k("ko23")]), result: .none)

        #expect(kept == k("kp40") && later == k("kp41"))
        #expect(w.object(k("ko23")) == "v2 7,8")
        #expect(w.kernel.holders(of: k("ko23")) == [
            Holder(kind: .exporter, vat: b, vref: v("o+100"), reachable: 0, recognizable: 0),
            Holder(kind: .importer, vat: a, vref: v("o-50"), reachable: 1, recognizable: 1),
            Holder(kind: .importer, vat: c, vref: v("o-50"), reachable: 0, recognizable: 1),
            Holder(kind: .importer, vat: d, vref: v("o-50"), reachable: 1, recognizable: 1),
            Holder(kind: .pin, reachable: 1, recognizable: 1),
            Holder(kind: .promiseQueue, via: later, reachable: 1, recognizable: 1),
            Holder(kind: .queuedEvent, via: k("ko20"), reachable: 1, recognizable: 1),
            Holder(kind: .resolutionData, via: kept, reachable: 1, recognizable: 1),
            Holder(kind: .vatParameters, vat: d, reachable: 1, recognizable: 1),
        ])
        #expect(w.kernel.holders(of: kept) == [Holder(kind: .hostResult, reachable: 1, recognizable: 1)])
        #expect(w.promise(later) == "unresolved decider=v2 subscribers= queue=1 refCount=3")
        #expect(w.kernel.holders(of: later) == [
            Holder(kind: .hostResult, reachable: 1, recognizable: 1),
            Holder(kind: .importer, vat: b, vref: v("p-61"), reachable: 1, recognizable: 1),
            Holder(kind: .promiseQueue, via: later, reachable: 1, recognizable: 1),
        ])
        #expect(w.kernel.holders(of: k("ko99")) == [])
        #expect(w.problems() == [])
    }
}
