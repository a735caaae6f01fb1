import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §8, §13.8: processRefcounts works its maybe-free list until it is empty, so
/// what is released by deleting something else in the same pass is collected in that crank
/// (agoric-sdk #9888). Start: `World.acquainted()` (A = v1, root ko20; B = v2, root ko21).
@Suite struct ProcessRefcountsTests {
    /// The sequence: one resolve fulfils p+1 with B's new o+9 and rejects p+2 with
    /// data naming p+1. p+1 is visited while p+2's data holds it; deleting p+2 releases it.
    @Test func aPromiseReleasedByDeletingAnotherIsCollectedInTheSameCrank() throws {
        let (w, _, b) = try World.acquainted()
        let outcome = try w.syscalls(b, [.resolve([
            fulfilled("p+1", .slot(0), ["o+9"]),
            VatResolution(vpid: v("p+2"), rejected: true, data: CapData(body: .slot(0), slots: [v("p+1")])),
        ])])
        #expect(outcome == .committed([.ok]))
        // kp40 = p+1, ko22 = o+9, kp41 = p+2: both promises are gone, and ko22 with them.
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.object(k("ko22")) == "v2 0,0")
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o+9"])
        #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])
        #expect(w.problems() == [])

        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+9")]), .retireExports([v("o+9")])])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.kernel.state.counters.nextPromise == 42)
        #expect(w.problems() == [])
    }

    /// A chain of three promises, each rejected with the previous one, ending in an export:
    /// in either order of the resolutions, every link is collected in the one crank.
    @Test(arguments: [false, true])
    func aChainOfPromisesThroughDataIsCollectedInOneCrank(reversed: Bool) throws {
        let (w, _, b) = try World.acquainted()
        var resolutions = [
            fulfilled("p+1", .slot(0), ["o+9"]),
            VatResolution(vpid: v("p+2"), rejected: true, data: CapData(body: .slot(0), slots: [v("p+1")])),
            VatResolution(vpid: v("p+3"), rejected: true, data: CapData(body: .slot(0), slots: [v("p+2")])),
        ]
        if reversed { resolutions.reverse() }
        #expect(try w.syscalls(b, [.resolve(resolutions)]) == .committed([.ok]))
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.object(k("ko22")) == "v2 0,0")
        #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])
        #expect(w.kernel.state.counters.nextPromise == 43)
        #expect(w.problems() == [])
        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+9")]), .retireExports([v("o+9")])])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 2,2"])
        #expect(w.problems() == [])
    }

    /// The chain ends in an export B abandons in the same batch: the orphan is visited while
    /// p+1's data reaches it, then released when p+1 goes, and must be visited again: it is
    /// retired in the crank, as §8 says of orphans whose last reference leaves.
    @Test func anOrphanReleasedByDeletingAPromiseIsRetiredInTheSameCrank() throws {
        let (w, a, b) = try World.acquainted()
        // A imports B's o+9 too (recognizable only), so the retirement shows as retireImports.
        try w.syscalls(b, [send("o-50", "take", ["o+9"])])
        try w.run()
        #expect(w.deliveries(a).last == message("o+0", "take", ["o-51"]))
        try w.syscalls(a, [.dropImports([v("o-51")])])
        try w.run()
        #expect(w.deliveries(b).last == .dropExports([v("o+9")]))
        #expect(w.object(k("ko22")) == "v2 0,1")

        // Data may name the dropped export again (the vat still recognizes it): mapping it sets
        // the flag back to R. Then it is abandoned, and both promises go.
        let outcome = try w.syscalls(b, [
            .resolve([
                fulfilled("p+1", .slot(0), ["o+9"]),
                VatResolution(vpid: v("p+2"), rejected: true, data: CapData(body: .slot(0), slots: [v("p+1")])),
            ]),
            .abandonExports([v("o+9")]),
        ])
        #expect(outcome == .committed([.ok, .ok]))
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50", "ko22": "_ o-51"])
        #expect(w.gcActions == ["v1 retireImport ko22"])
        #expect(w.problems() == [])
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a).last == .retireImports([v("o-51")]))
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50"])
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }

    /// A host-kept result promise resolved by B with data naming another of B's promises that
    /// is rejected with data naming an export: once the host releases its hold, the whole
    /// chain goes in that one crank.
    @Test func releasingAHeldResultCollectsTheChainBehindIt() throws {
        let (w, _, b) = try World.acquainted()
        let kp = try #require(try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("get", [KRef]()), result: .keep))
        try w.run()
        #expect(w.deliveries(b).last == message("o+0", "get", result: "p-60"))
        try w.syscalls(b, [.resolve([
            VatResolution(vpid: v("p+2"), rejected: true, data: CapData(body: .slot(0), slots: [v("o+9")])),
            fulfilled("p-60", .array([.slot(0)]), ["p+2"]),
        ])])
        // kp40 (held by the host) holds kp41 (= p+2), which holds ko22 (= o+9).
        #expect(w.promise(kp) == "fulfilled refCount=1")
        #expect(w.promise(k("kp41")) == "rejected refCount=1")
        #expect(w.object(k("ko22")) == "v2 1,1")
        #expect(w.problems() == [])

        try w.kernel.releaseResult(kp)
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.object(k("ko22")) == "v2 0,0")
        #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])
        #expect(w.problems() == [])
        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 2,2"])
        #expect(w.problems() == [])
    }
}
