import Testing
@testable import VatKernel
import TestSupport

/// The seed's test plan (KERNEL-SPEC §5.8): B exports an object to A, then abandons it.
@Suite struct AbandonExportsTests {
    /// A = v1 (root ko20), B = v2 (root ko21); B has sent A `take(o+100)`, so ko22 is B's
    /// `o+100` and A's `o-50`, reachable by A.
    func exported() throws -> (World, VatID, VatID) {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        try w.run()
        try w.syscalls(b, [send("o-50", "take", ["o+100"])])
        try w.run()
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o+100"])
        #expect(w.object(k("ko22")) == "v2 1,1")
        #expect(w.deliveries(a, after: 1) == [.message(target: v("o+0"), methargs: methargs("take", [v("o-50")]), result: nil)])
        return (w, a, b)
    }

    @Test func abandoningAReachableExport() throws {
        let (w, a, b) = try exported()
        let bLog = w.deliveries(b).count

        #expect(try w.syscalls(b, [.abandonExports([v("o+100")])]) == .committed([.ok]))
        // The exporter's entry is gone both ways; the importer's stays; owner cleared; counts kept.
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.kernel.state.clists[b]?[v("o+100")] == nil)
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(w.gcActions == [])

        // A's send to the orphan is rejected with Error("vat terminated").
        try w.syscalls(a, [send("o-50", "ping", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [.notify([rejected("p+1", "vat terminated")])])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.kernel.state.promises.isEmpty)

        // A drops it: the orphan is retired at once, A is told to retire its import.
        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.gcActions == ["v1 retireImport ko22"])
        try w.run()
        #expect(w.deliveries(a, after: 3) == [.retireImports([v("o-50")])])
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.gcActions == [])
        // The abandoning vat never hears of it again.
        #expect(w.deliveries(b).count == bLog)
        #expect(w.problems() == [])
    }

    @Test func abandoningAMerelyRecognizableExport() throws {
        let (w, a, b) = try exported()

        // A drops first: B is told dropExports and its flag clears; A still recognizes it.
        try w.syscalls(a, [.dropImports([v("o-50")])])
        #expect(w.object(k("ko22")) == "v2 0,1")
        #expect(w.gcActions == ["v2 dropExport ko22"])
        try w.run()
        #expect(w.deliveries(b).last == .dropExports([v("o+100")]))
        #expect(w.clist(b)["ko22"] == "_ o+100")
        let bLog = w.deliveries(b).count

        // B abandons the merely-recognizable export: it is retired in the same crank.
        #expect(try w.syscalls(b, [.abandonExports([v("o+100")])]) == .committed([.ok]))
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50"])
        #expect(w.object(k("ko22")) == nil)
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "_ o-50"])
        #expect(w.gcActions == ["v1 retireImport ko22"])
        try w.run()
        #expect(w.deliveries(a).last == .retireImports([v("o-50")]))
        #expect(w.clist(a) == ["ko20": "R o+0"])
        #expect(w.deliveries(b).count == bLog)
        #expect(w.problems() == [])
    }

    /// §5.8: a vref mentioned again after abandonment is a new export with a new kref.
    @Test func mentioningTheVrefAgainLaterMakesANewExport() throws {
        let (w, a, b) = try exported()
        try w.syscalls(b, [.abandonExports([v("o+100")])])
        try w.syscalls(b, [send("o-50", "again", ["o+100"])])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko23": "R o+100"])
        #expect(w.object(k("ko23")) == "v2 1,1")
        try w.run()
        #expect(w.deliveries(a).last == message("o+0", "again", ["o-51"]))
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50", "ko23": "R o-51"])
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(w.object(k("ko23")) == "v2 1,1")
        #expect(w.problems() == [])
    }

    /// Any export can be abandoned: the pinned root and durable objects too.
    @Test func abandoningTheRootAndADurableExport() throws {
        let (w, a, b) = try exported()
        try w.syscalls(b, [send("o-50", "take", ["o+d5/1"])])
        try w.run()
        #expect(try w.syscalls(b, [.abandonExports([v("o+0"), v("o+d5/1")])]) == .committed([.ok]))
        #expect(w.clist(b) == ["ko20": "R o-50", "ko22": "R o+100"])
        #expect(w.object(k("ko21")) == "orphan 1,1")
        #expect(w.object(k("ko23")) == "orphan 1,1")
        let kp = try #require(try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("hello", [KRef]()), result: .keep))
        try w.run()
        #expect(w.data(kp) == .error("vat terminated"))
        #expect(w.deliveries(b).count == 2)
        // The host lets go of the root: nothing holds it any more, it is gone.
        try w.kernel.unpin(k("ko21"))
        #expect(w.object(k("ko21")) == nil)
        #expect(w.gcActions == [])
        _ = a
        #expect(w.problems() == [])
    }
}
