import Testing
@testable import VatKernel
import TestSupport

/// Scenarios that once showed the kernel differing from KERNEL-SPEC, kept so the bugs stay fixed.
@Suite struct RegressionTests {
    // MARK: The stored state diverges when one crank reuses a vref for a new kref

    /// §5.8 ("if the vat later mentions the same vref again, it is a new export with a new
    /// kref") and §13.3 (a committed crank is exactly what the store holds). B abandons ten
    /// exports and mentions them again in the same batch: each vref now names a new kref.
    /// The kernel was right, but `KernelState.apply` replays the crank's c-list rows in
    /// dictionary order, and `CList.set(oldKref, nil)` cleared `byVRef[vref]` even when it
    /// already points at the new kref. Ten vrefs make a miss (right order by chance) unlikely.
    @Test
    func abandonedVrefsMentionedAgainInTheSameBatchAreStoredExactly() throws {
        let (w, a, b) = try World.exported()
        let vrefs = (1...10).map { "o+\($0)" }
        try w.syscalls(b, [send("o-50", "take", vrefs)])
        try w.run()
        #expect(try w.syscalls(b, [.abandonExports(vrefs.map(v)), send("o-50", "again", vrefs)]) == .committed([.ok, .ok]))
        #expect(w.clist(b)["ko42"] == "R o+10")
        #expect(w.problems() == [])
        _ = a
    }

    /// §5.3 note: resolving a `p+N` drops it from the c-list; mentioning `p+N` again makes a
    /// fresh promise. Same storage divergence as above.
    @Test
    func resolvedPromiseVrefsReusedInTheSameBatchAreStoredExactly() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let vpids = (1...10).map { v("p+\($0)") }
        try w.syscalls(a, vpids.map { .subscribe(vpid: $0) })
        #expect(try w.syscalls(a, [.resolve(vpids.map { VatResolution(vpid: $0, rejected: false, data: CapData(body: .null)) })]
                                  + vpids.map { .subscribe(vpid: $0) }).outcomeIsCommitted)
        #expect(w.problems() == [])
    }

    /// §10/§13.4: the new incarnation re-exports ephemeral vrefs its predecessor had (kernel-side
    /// abandonment and the startVat syscalls are one crank). Same storage divergence.
    @Test
    func startVatReexportingAbandonedVrefsIsStoredExactly() throws {
        let (w, _, b) = try World.exported()
        let vrefs = (1...10).map { "o+\($0)" }
        try w.syscalls(b, [send("o-50", "take", vrefs)])
        try w.run()
        let request = UpgradeRequest(upgradeMessage: "m", startVatSyscalls: [send("o-50", "again", vrefs)])
        #expect(try w.kernel.upgrade(b, request) == .upgraded(incarnation: 1))
        #expect(w.problems() == [])
    }

    // MARK: The host can re-reach an export its exporter was told was dropped

    /// §13.2: only kernel bugs halt the kernel; a host request that breaks a rule is refused
    /// and changes nothing. Here A dropped ko22 and B got dropExports (its flag is `_`); the
    /// host then sends to ko22. The kernel accepts the send, and delivering it to B trips
    /// "kernel sent unreachable export ko22 to v2": the kernel halts.
    @Test
    func aHostSendToADroppedExportDoesNotHaltTheKernel() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        #expect(w.clist(b)["ko22"] == "_ o+100")
        let before = w.kernel.state
        #expect(throws: KernelError.rejected("ko22 was dropped by its exporter v2 and can no longer be reached")) {
            _ = try w.kernel.queueToKref(target: k("ko22"), methargs: methargs("poke", [KRef]()), result: .none)
        }
        #expect(w.kernel.state == before)
        try w.kernel.run()
        #expect(w.deliveries(b).last == .dropExports([v("o+100")]))
        #expect(w.kernel.haltedReason == nil)
        #expect(w.problems() == [])
    }

    /// §13.5: "objects a vat exports only to the host are never collected behind the host's
    /// back". The host pins ko22 after B was told it was dropped; B then (legally) retires it
    /// and the kernel deletes a pinned object: the pin dangles ("held by pin but does not exist").
    @Test
    func aHostPinIsNeverLeftDangling() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        #expect(throws: KernelError.rejected("ko22 was dropped by its exporter v2 and can no longer be reached")) {
            try w.kernel.pin(k("ko22"))
        }
        _ = try w.syscalls(b, [.retireExports([v("o+100")])])
        try w.run()
        #expect(w.problems() == [])
    }

    /// Same cause through upgrade's vatParameters: B's durable export was dropped by its only
    /// importer; the host names it in the new incarnation's parameters, and translating the
    /// startVat delivery halts the kernel instead of refusing the request.
    @Test
    func upgradeParametersNamingADroppedExportDoNotHaltTheKernel() throws {
        let (w, a, b) = try World.exported()
        try w.syscalls(b, [send("o-50", "take", ["o+d5/1"])])
        try w.run()
        try w.syscalls(a, [.dropImports([v("o-51")])])
        try w.run()
        #expect(w.clist(b)["ko23"] == "_ o+d5/1")
        let before = w.kernel.state
        #expect(throws: KernelError.rejected("ko23 was dropped by its exporter v2 and can no longer be reached")) {
            _ = try w.kernel.upgrade(b, UpgradeRequest(vatParameters: CapData(body: .slot(0), slots: [k("ko23")]), upgradeMessage: "m"))
        }
        #expect(w.kernel.state == before)
        #expect(w.kernel.haltedReason == nil)
        #expect(w.problems() == [])
    }

    // MARK: Cleanup budget

    /// §13.7 / issue 2: termination cleanup runs in bounded steps, never unboundedly; but a
    /// `cleanupBudget` of 0 (or less) makes every cleanup crank do nothing, so cleanup never
    /// ends and `run()` never returns. A budget below one should count as one (or be refused).
    @Test
    func aCleanupBudgetBelowOneStillFinishes() throws {
        var config = KernelConfiguration()
        config.cleanupBudget = 0
        let (w, _, b) = try World.exported(configuration: config)
        try w.kernel.terminate(b, reason: "stop")
        let ran = try w.kernel.run(maxCranks: 100)
        #expect(ran.idle)
        #expect(w.clist(b) == [:])
    }
}

extension SyscallBatchOutcome {
    var outcomeIsCommitted: Bool {
        if case .committed = self { return true }
        return false
    }
}
