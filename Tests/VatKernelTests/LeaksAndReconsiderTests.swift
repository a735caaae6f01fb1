import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §13.8: the audit tells leaks (unreferenced, counts right) from corruption, and
/// `reconsider` collects what is in fact unreferenced and leaves everything else alone.
/// Leaked states are built as an older version left them, then a kernel starts on them.
@Suite struct LeaksAndReconsiderTests {
    /// The state agoric-sdk #9888 leaves, built the long way: the host keeps kp40 (B's answer
    /// to `get`), fulfilled with B's o+9 (ko22, `1,1` through kp40's data); then the hold is
    /// removed from the tables without the decRef, as the single-pass processRefcounts left
    /// kp40: settled, refCount 0, held by nothing.
    static func leakedPromise() throws -> (KernelState, DeliveryRecords) {
        let (w, _, b) = try World.acquainted()
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("get", [KRef]()), result: .keep)
        try w.run()
        try w.syscalls(b, [.resolve([fulfilled("p-60", .slot(0), ["o+9"])])])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.object(k("ko22")) == "v2 1,1")
        var state = w.kernel.state
        state.heldResults.rows.remove(k("kp40"))
        state.promises.rows[40]!.refCount = 0
        return (state, w.storage.records)
    }

    @Test func aLeakedPromiseIsALeakAndReconsiderCollectsIt() throws {
        let (state, records) = try Self.leakedPromise()
        let w = World(restoring: state, records: records)
        let b = VatID(2)
        #expect(w.kernel.audit() == [
            AuditProblem(kref: k("kp40"), message: "promise with refCount 0 was not deleted", kind: .leak),
        ])
        let crank = w.kernel.state.counters.crank

        let outcome = try w.kernel.reconsider([k("kp40")])
        #expect(outcome == ReconsiderOutcome(collected: [k("kp40")], gcActions: [
            GCAction(b, .dropExport, k("ko22")), GCAction(b, .retireExport, k("ko22")),
        ]))
        #expect(w.kernel.state.counters.crank == crank + 1)
        #expect(w.promise(k("kp40")) == nil)
        #expect(w.object(k("ko22")) == "v2 0,0")
        #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])
        #expect(w.problems() == [])
        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 3) == [.dropExports([v("o+9")]), .retireExports([v("o+9")])])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 2,2"])
        #expect(w.problems() == [])
    }

    /// A crank that changes nothing is not committed (issue 9): not even the crank number moves.
    @Test func reconsideringWhatIsReferencedChangesNothingNotEvenTheCrankNumber() throws {
        let (w, _, _) = try World.acquainted()
        let before = w.kernel.state
        let commits = w.storage.commits
        #expect(try w.kernel.reconsider([k("ko20"), k("ko21"), k("ko20")]) == ReconsiderOutcome(collected: [], gcActions: []))
        #expect(w.kernel.state == before)
        #expect(w.storage.commits == commits)
        #expect(w.problems() == [])
    }

    @Test func anUnknownKrefIsRefusedAndNothingChanges() throws {
        let (state, records) = try Self.leakedPromise()
        let w = World(restoring: state, records: records)
        let before = w.kernel.state
        #expect(throws: KernelError.unknownKRef(k("ko99"))) { try w.kernel.reconsider([k("kp40"), k("ko99")]) }
        #expect(throws: KernelError.unknownKRef(k("kp41"))) { try w.kernel.reconsider([k("kp41")]) }
        #expect(throws: KernelError.rejected("device node kd30 has no refcount to reconsider")) {
            try w.kernel.reconsider([k("kd30")])
        }
        #expect(w.kernel.state == before)
        #expect(w.kernel.audit().map(\.kind) == [.leak])
    }

    /// An orphan left with no reachable holder (an older version missed it): a leak; reconsider
    /// retires it, and its importer is told.
    @Test func aLeakedOrphanIsRetiredByReconsider() throws {
        let (w0, a, b) = try World.exported()
        try w0.syscalls(a, [.dropImports([v("o-50")])])
        try w0.run()
        #expect(w0.object(k("ko22")) == "v2 0,1")
        var state = w0.kernel.state
        // B abandoned o+100 and the orphan was never visited.
        state.objects.rows[22]!.owner = nil
        state.clists.rows.setRow(CListKey(vat: b, kref: k("ko22")), nil)
        let w = World(restoring: state, records: w0.storage.records)
        #expect(w.kernel.audit() == [
            AuditProblem(kref: k("ko22"), message: "orphan with no reachable holder was not retired", kind: .leak),
        ])
        #expect(try w.kernel.reconsider([k("ko22")]) == ReconsiderOutcome(collected: [k("ko22")], gcActions: [GCAction(a, .retireImport, k("ko22"))]))
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a).last == .retireImports([v("o-50")]))
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 1,1"])
        #expect(w.problems() == [])
    }

    /// A live vat's export nobody reaches whose exporter was never told: a leak; reconsider
    /// schedules the dropExports and retireExports that processRefcounts would have.
    @Test func anUntoldUnreachableExportIsALeakAndReconsiderSchedulesItsGC() throws {
        let (w0, a, b) = try World.exported()
        var state = w0.kernel.state
        // A's import went away without the counts' processRefcounts.
        state.clists.rows.setRow(CListKey(vat: a, kref: k("ko22")), nil)
        state.objects.rows[22]!.reachable = 0
        state.objects.rows[22]!.recognizable = 0
        let w = World(restoring: state, records: w0.storage.records)
        #expect(w.kernel.audit() == [
            AuditProblem(kref: k("ko22"), message: "unreachable, but v2 was never told to drop o+100", kind: .leak),
            AuditProblem(kref: k("ko22"), message: "unrecognizable, but v2 was never told to retire o+100", kind: .leak),
        ])
        #expect(try w.kernel.reconsider([k("ko22")]) == ReconsiderOutcome(collected: [], gcActions: [
            GCAction(b, .dropExport, k("ko22")), GCAction(b, .retireExport, k("ko22")),
        ]))
        #expect(w.problems() == [])
        #expect(w.cranks() == ["gc-delivery v2", "gc-delivery v2"])
        #expect(w.deliveries(b, after: 2) == [.dropExports([v("o+100")]), .retireExports([v("o+100")])])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.problems() == [])
    }

    /// Counts that disagree with their holders are corruption, even when they are zero.
    @Test func countsThatDisagreeAreCorruption() throws {
        let (w0, _, _) = try World.exported()
        var state = w0.kernel.state
        state.objects.rows[20]!.recognizable += 1
        state.promises.rows[45] = KernelPromise(decider: nil, refCount: 0)
        state.clists.rows.setRow(CListKey(vat: VatID(1), kref: k("kp45")), CListEntry(vref: v("p-60"), reachable: false))
        let w = World(restoring: state, records: w0.storage.records)
        #expect(w.kernel.audit().map { "\($0.kind.rawValue) \($0)" } == [
            "corruption ko20: refCount is 2,3 but holders add up to 2,2",
            "corruption kp45: promise with refCount 0 was not deleted",
            "corruption kp45: refCount is 0 but holders add up to 1",
        ])
    }
}
