import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §5.8, §8 "Orphans", §9: B (v2) exports ko22 (`o+100`) to A (v1, `o-50`), then
/// B orphans it, by `abandonExports` or by being terminated (host `terminate`, then cleanup).
///
/// Matrix: cause × timing × what A does.
/// - timing `.before`: the orphaning is complete (for termination: cleanup has run) before A acts.
/// - timing `.after`: A acts first and B orphans the object while the effects of A's act (its
///   queued message, or the GC actions it caused for B) are still pending, before any crank runs.
/// - A's act: `reachable` = A keeps it and sends `ping` to it (result `p+1`, subscribed);
///   `recognizable` = A drops it; `gone` = A drops and retires it.
///
/// In every case B never receives a GC delivery for ko22, a send to it is rejected with
/// `Error("vat terminated")`, and an importer that still recognizes it gets `retireImports`.
@Suite struct OrphanMatrixTests {
    enum Cause: String, CaseIterable, Sendable { case abandonExports, terminate }
    enum Timing: String, CaseIterable, Sendable { case before, after }

    /// B orphans ko22. For termination, cleanup runs only when `runAfterwards`.
    func orphan(_ w: World, _ b: VatID, _ cause: Cause) throws {
        switch cause {
        case .abandonExports:
            #expect(try w.syscalls(b, [.abandonExports([v("o+100")])]) == .committed([.ok]))
        case .terminate:
            try w.kernel.terminate(b, reason: "gone")
            #expect(w.termination(b) == TerminationInfo(isFailure: true, info: .error("gone"), crank: w.kernel.state.counters.crank))
        }
    }

    /// B's c-list once the orphaning is complete.
    func bCList(_ cause: Cause) -> [String: String] {
        cause == .abandonExports ? ["ko21": "R o+0", "ko20": "R o-50"] : [:]
    }

    /// What else the orphaning leaves: B's root is an orphan still pinned by the host, and A's
    /// root lost B's import, for termination; nothing for abandonment.
    func checkRoots(_ w: World, _ cause: Cause) {
        switch cause {
        case .abandonExports:
            #expect(w.object(k("ko20")) == "v1 2,2")
            #expect(w.object(k("ko21")) == "v2 1,1")
        case .terminate:
            #expect(w.object(k("ko20")) == "v1 1,1")
            #expect(w.object(k("ko21")) == "orphan 1,1")
        }
    }

    @Test(arguments: Cause.allCases, Timing.allCases)
    func importerReachable(_ cause: Cause, _ timing: Timing) throws {
        let (w, a, b) = try World.exported()
        let ping: [Syscall] = [send("o-50", "ping", result: "p+1"), .subscribe(vpid: v("p+1"))]
        switch timing {
        case .before:
            try orphan(w, b, cause)
            try w.run()
            #expect(w.object(k("ko22")) == "orphan 1,1")
            #expect(w.clist(b) == bCList(cause))
            try w.syscalls(a, ping)
        case .after:
            try w.syscalls(a, ping)
            #expect(w.events(.acceptance) == ["send ko22 ping [] -> kp40"])
            #expect(w.object(k("ko22")) == "v2 2,2")
            try orphan(w, b, cause)
        }
        try w.run()
        // The send was rejected with Error("vat terminated"); A still holds the orphan, reachable.
        #expect(w.deliveries(a, after: 2) == [.notify([rejected("p+1", "vat terminated")])])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.clist(b) == bCList(cause))
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.gcActions == [])
        checkRoots(w, cause)

        // A's drop retires the orphan at once; A is told to retire its import.
        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.gcActions == ["v1 retireImport ko22"])
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a, after: 3) == [.retireImports([v("o-50")])])
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.kernel.state.deliveryLogs[b]?.last == 2)
        #expect(w.problems() == [])
    }

    @Test(arguments: Cause.allCases, Timing.allCases)
    func importerMerelyRecognizes(_ cause: Cause, _ timing: Timing) throws {
        let (w, a, b) = try World.exported()
        switch timing {
        case .before:
            try orphan(w, b, cause)
            try w.run()
            #expect(w.object(k("ko22")) == "orphan 1,1")
            try w.syscalls(a, [.dropImports([v("o-50")])])
            // Unreachable orphan: retired in the drop's own crank.
            #expect(w.object(k("ko22")) == nil)
            #expect(w.gcActions == ["v1 retireImport ko22"])
            #expect(w.cranks() == ["gc-delivery v1"])
        case .after:
            try w.syscalls(a, [.dropImports([v("o-50")])])
            #expect(w.object(k("ko22")) == "v2 0,1")
            #expect(w.gcActions == ["v2 dropExport ko22"])
            try orphan(w, b, cause)
            switch cause {
            case .abandonExports:
                // Retired in the abandoning crank; B's pending dropExport is left to be negated.
                #expect(w.object(k("ko22")) == nil)
                #expect(w.gcActions == ["v1 retireImport ko22", "v2 dropExport ko22"])
                #expect(w.cranks() == ["gc-delivery v1", "negated-gc-action"])
            case .terminate:
                // Owner kept until cleanup; cleanup orphans and retires it.
                #expect(w.object(k("ko22")) == "v2 0,1")
                #expect(w.cranks() == ["cleanup-terminated-vat v2", "gc-delivery v1", "negated-gc-action"])
            }
        }
        #expect(w.deliveries(a, after: 2) == [.retireImports([v("o-50")])])
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.clist(b) == bCList(cause))
        #expect(w.object(k("ko22")) == nil)
        #expect(w.gcActions == [])
        checkRoots(w, cause)
        #expect(w.kernel.state.deliveryLogs[b]?.last == 2)
        #expect(w.problems() == [])
    }

    @Test(arguments: Cause.allCases, Timing.allCases)
    func importerRetired(_ cause: Cause, _ timing: Timing) throws {
        let (w, a, b) = try World.exported()
        let dropAndRetire: [Syscall] = [.dropImports([v("o-50")]), .retireImports([v("o-50")])]
        switch timing {
        case .before:
            try orphan(w, b, cause)
            try w.run()
            try w.syscalls(a, dropAndRetire)
            // Nobody recognizes it any more: deleted with no GC action at all.
            #expect(w.object(k("ko22")) == nil)
            #expect(w.gcActions == [])
            #expect(w.cranks() == [])
        case .after:
            try w.syscalls(a, dropAndRetire)
            #expect(w.object(k("ko22")) == "v2 0,0")
            #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])
            try orphan(w, b, cause)
            switch cause {
            case .abandonExports:
                #expect(w.object(k("ko22")) == nil)
                #expect(w.gcActions == ["v2 dropExport ko22", "v2 retireExport ko22"])
                #expect(w.cranks() == ["negated-gc-action"])
            case .terminate:
                #expect(w.cranks() == ["cleanup-terminated-vat v2", "negated-gc-action"])
            }
        }
        #expect(w.deliveries(a).count == 2)
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.clist(b) == bCList(cause))
        #expect(w.object(k("ko22")) == nil)
        #expect(w.gcActions == [])
        checkRoots(w, cause)
        #expect(w.kernel.state.deliveryLogs[b]?.last == 2)
        #expect(w.problems() == [])
    }
}
