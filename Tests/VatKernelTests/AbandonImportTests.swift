import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §13.8 `abandonImports`, beyond SwingSet: an importer created with
/// `options.receiveAbandonImport: true` is told when an object it imports becomes an orphan,
/// and its c-list entry goes; importers without the option behave exactly as before.
@Suite struct AbandonImportTests {
    /// A = v1 alice (no option), B = v2 bob (the exporter), C = v3 carol (opted in); roots
    /// ko20, ko21, ko22. The host sends B `meet(ko20, ko22)`; B sends A and C `take(o+100)`:
    /// ko23 is B's `o+100`, A's `o-50` and C's `o-50`, reachable by both (`v2 2,2`).
    func shared() throws -> (World, VatID, VatID, VatID) {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        let c = try w.createVat("carol", options: .object(["receiveAbandonImport": .bool(true)])).vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20"), k("ko22")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"]), send("o-51", "take", ["o+100"])])
        try w.run()
        #expect(w.clist(a) == ["ko20": "R o+0", "ko23": "R o-50"])
        #expect(w.clist(c) == ["ko22": "R o+0", "ko23": "R o-50"])
        #expect(w.object(k("ko23")) == "v2 2,2")
        #expect(w.kernel.state.vats[c]?.receiveAbandonImport == true)
        #expect(w.kernel.state.vats[a]?.receiveAbandonImport == false)
        return (w, a, b, c)
    }

    @Test func abandoningAReachableExportTellsTheImporterThatOptedIn() throws {
        let (w, a, b, c) = try shared()
        let bLog = w.deliveries(b).count
        let aLog = w.deliveries(a).count

        #expect(try w.syscalls(b, [.abandonExports([v("o+100")])]) == .committed([.ok]))
        #expect(w.object(k("ko23")) == "orphan 2,2")
        #expect(w.gcActions == ["v3 abandonImport ko23"])
        #expect(w.cranks() == ["gc-delivery v3"])
        #expect(w.deliveries(c).last == .abandonImports([v("o-50")]))
        // C's share went with its entry; A's entry and share stay.
        #expect(w.clist(c) == ["ko22": "R o+0"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko23": "R o-50"])
        #expect(w.object(k("ko23")) == "orphan 1,1")
        #expect(w.deliveries(a).count == aLog)
        #expect(w.problems() == [])

        // A, without the option, keeps naming it, is rejected, drops it: retired, and only A
        // is told to retire it.
        try w.syscalls(a, [send("o-50", "ping", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.run()
        #expect(w.deliveries(a, after: aLog) == [.notify([rejected("p+1", "vat terminated")])])
        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.object(k("ko23")) == nil)
        #expect(w.gcActions == ["v1 retireImport ko23"])
        try w.run()
        #expect(w.deliveries(a).last == .retireImports([v("o-50")]))
        #expect(w.deliveries(c).last == .abandonImports([v("o-50")]))
        #expect(w.deliveries(b).count == bLog)
        #expect(w.problems() == [])
    }

    /// C's last share was the only thing reaching the orphan: abandoning the import retires it
    /// in the same crank, and A (who only recognizes it) is told to retire its import.
    @Test func theAbandonedImportWasTheLastReachableShare() throws {
        let (w, a, b, c) = try shared()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.run()
        #expect(w.object(k("ko23")) == "v2 1,2")
        #expect(w.clist(a)["ko23"] == "_ o-50")
        #expect(try w.syscalls(b, [.abandonExports([v("o+100")])]) == .committed([.ok]))
        #expect(w.cranks() == ["gc-delivery v3", "gc-delivery v1"])
        #expect(w.deliveries(c).last == .abandonImports([v("o-50")]))
        #expect(w.deliveries(a).last == .retireImports([v("o-50")]))
        #expect(w.object(k("ko23")) == nil)
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.clist(c) == ["ko22": "R o+0"])
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }

    /// Abandoning a merely recognizable export retires it at once: both importers are told to
    /// retire it, and C's abandonImport does not survive (the object is gone).
    @Test func abandoningAMerelyRecognizableExport() throws {
        let (w, a, b, c) = try shared()
        try w.syscalls(a, [.dropImports([v("o-50")])])
        try w.syscalls(c, [.dropImports([v("o-50")])])
        try w.run()
        #expect(w.object(k("ko23")) == "v2 0,2")
        #expect(w.clist(b)["ko23"] == "_ o+100")
        #expect(try w.syscalls(b, [.abandonExports([v("o+100")])]) == .committed([.ok]))
        #expect(w.object(k("ko23")) == nil)
        #expect(w.gcActions == ["v1 retireImport ko23", "v3 abandonImport ko23", "v3 retireImport ko23"])
        // v3's retireImport goes first (kind order); its abandonImport is then negated.
        #expect(w.cranks() == ["gc-delivery v1", "gc-delivery v3", "negated-gc-action"])
        #expect(w.deliveries(a).last == .retireImports([v("o-50")]))
        #expect(w.deliveries(c).last == .retireImports([v("o-50")]))
        #expect(!w.deliveries(c).contains(.abandonImports([v("o-50")])))
        #expect(w.clist(c) == ["ko22": "R o+0"])
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }

    /// After abandonImports the vref is unknown to the vat: naming it is illegal.
    @Test func theAbandonedVrefIsUnknownAfterwards() throws {
        let (w, _, b, c) = try shared()
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        try w.run()
        #expect(try w.syscalls(c, [send("o-50", "ping")]) == .illegal(index: 0, syscall: "send", problem: "unknown vatSlot o-50"))
        #expect(w.isAlive(c) == false)
    }

    /// A message sent to C carrying the orphan while C's abandonImport waits: the GC crank
    /// goes first (§4), and the message then makes the orphan a new import of C's, `o-51`.
    @Test func aMessageInFlightMakesTheOrphanANewImport() throws {
        let (w, a, b, c) = try shared()
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("meet", [k("ko22")]), result: .none)
        try w.run()
        #expect(w.clist(a)["ko22"] == "R o-51")
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        try w.syscalls(a, [send("o-51", "give", ["o-50"])])
        #expect(w.gcActions == ["v3 abandonImport ko23"])
        #expect(w.object(k("ko23")) == "orphan 3,3")
        try w.run()
        #expect(w.deliveries(c).suffix(2) == [.abandonImports([v("o-50")]), message("o+0", "give", ["o-51"])])
        #expect(w.clist(c) == ["ko22": "R o+0", "ko23": "R o-51"])
        #expect(w.object(k("ko23")) == "orphan 2,2")
        #expect(w.problems() == [])
    }

    /// B's termination orphans ko23 in its cleanup: C is told, A is not.
    @Test func terminationTellsTheImporterThatOptedIn() throws {
        let (w, a, b, c) = try shared()
        let aLog = w.deliveries(a).count
        try w.kernel.terminate(b, reason: "stop")
        #expect(w.cranks() == ["cleanup-terminated-vat v2", "gc-delivery v3"])
        #expect(w.deliveries(c).last == .abandonImports([v("o-50")]))
        #expect(w.clist(c) == ["ko22": "R o+0"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko23": "R o-50"])
        #expect(w.object(k("ko23")) == "orphan 1,1")
        #expect(w.deliveries(a).count == aLog)
        #expect(w.problems() == [])
    }

    /// B's upgrade abandons its non-durable `o+100`: C is told, A is not; B's durable export
    /// stays B's and C keeps it.
    @Test func upgradeTellsTheImporterThatOptedIn() throws {
        let (w, a, b, c) = try shared()
        try w.syscalls(b, [send("o-51", "take", ["o+d7"])])
        try w.run()
        #expect(w.clist(c)["ko24"] == "R o-51")
        let aLog = w.deliveries(a).count
        #expect(try w.kernel.upgrade(b, UpgradeRequest()) == .upgraded(incarnation: 1))
        #expect(w.object(k("ko23")) == "orphan 2,2")
        #expect(w.gcActions == ["v3 abandonImport ko23"])
        try w.run()
        #expect(w.deliveries(c).last == .abandonImports([v("o-50")]))
        #expect(w.clist(c) == ["ko22": "R o+0", "ko24": "R o-51"])
        #expect(w.object(k("ko24")) == "v2 1,1")
        #expect(w.object(k("ko23")) == "orphan 1,1")
        #expect(w.deliveries(a).count == aLog)
        #expect(w.problems() == [])
    }

    /// A vat whose options say nothing (or false) gets exactly what it got before.
    @Test func withoutTheOptionNothingChanges() throws {
        let w = World()
        let a = try w.createVat("alice", options: .object(["receiveAbandonImport": .bool(false)])).vatID
        let b = try w.createVat("bob").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"])])
        try w.run()
        let aLog = w.deliveries(a).count
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        #expect(w.gcActions == [])
        #expect(try w.run() == 0)
        #expect(w.deliveries(a).count == aLog)
        #expect(w.clist(a)["ko22"] == "R o-50")
        #expect(w.problems() == [])
    }

    /// When every importer opted in, the orphan disappears right after its queued messages
    /// drain: C (the only importer) has a message to it queued when B abandons it; C's
    /// abandonImports goes first, the message is then rejected, and nothing holds ko23.
    @Test func withEveryImporterOptedInTheOrphanGoesOnceItsMessagesDrain() throws {
        let w = World()
        _ = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        let c = try w.createVat("carol", options: .object(["receiveAbandonImport": .bool(true)])).vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko22")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"])])
        try w.run()
        #expect(w.clist(c) == ["ko22": "R o+0", "ko23": "R o-50"])
        try w.syscalls(c, [send("o-50", "ping", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        #expect(w.object(k("ko23")) == "orphan 2,2")
        try w.run()
        #expect(w.deliveries(c).suffix(2) == [.abandonImports([v("o-50")]), .notify([rejected("p+1", "vat terminated")])])
        #expect(w.kernel.state.objects[23] == nil)
        #expect(w.clist(c) == ["ko22": "R o+0"])
        #expect(w.gcActions == [])
        #expect(w.problems() == [])
    }
}
