import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// The event log the store writes with each crank (issue 10).
@Suite struct EventLogTests {
    /// Given alice and bob, when bob sends alice an export and alice drops it, then the log holds
    /// exactly: each delivery as the vat sees it, the GC action added then done, and every
    /// crank's finish with its changes and hashes, in order.
    @Test func deliveriesGCActionsAndCrankFinishesInOrder() throws {
        let store = try SQLiteStore(path: ":memory:")
        let kernel = try Kernel(storage: store)
        var hashes: [CrankHashes] = []
        func note() { hashes.append(store.hashes!) }
        _ = try kernel.createVat(name: "alice"); note()
        _ = try kernel.createVat(name: "bob"); note()
        _ = try kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none); note()
        while try kernel.step() != nil { note() }
        _ = try kernel.syscalls([send("o-50", "take", ["o+1"])], from: VatID(2)); note()
        while try kernel.step() != nil { note() }
        _ = try kernel.syscalls([.dropImports([v("o-50")])], from: VatID(1)); note()
        while try kernel.step() != nil { note() }

        let events = try store.events(after: 0, limit: 100).events.map { String(decoding: $0, as: UTF8.self) }
        let head = { (seq: Int, crank: Int, type: String) in #"{"seq":\#(seq),"crank":\#(crank),"type":"\#(type)","# }
        let startVat = #""vd":{"type":"startVat","vatParameters":{"body":null,"slots":[]}}}"#
        func message(_ method: String) -> String {
            #""vd":{"methargs":{"body":["\#(method)",[{"$slot":0}]],"slots":["o-50"]},"result":null,"target":"o+0","type":"message"}}"#
        }
        func finish(_ seq: Int, _ i: Int, _ changes: Int) -> String {
            let h = hashes[i]
            return head(seq, h.crank, "crank-finish") + #""crankNum":\#(h.crank),"changes":\#(changes),"crankhash":"\#(h.crankHash)","activityhash":"\#(h.activityHash)"}"#
        }
        #expect(hashes.count == 10)
        #expect(events == [
            head(1, 1, "deliver") + #""vatID":"v1","deliveryNum":1,"# + startVat,
            finish(2, 0, 6),
            head(3, 2, "deliver") + #""vatID":"v2","deliveryNum":1,"# + startVat,
            finish(4, 1, 6),
            finish(5, 2, 4),    // the host's send, accepted
            finish(6, 3, 3),    // routed to bob
            head(7, 5, "deliver") + #""vatID":"v2","deliveryNum":2,"# + message("meet"),
            finish(8, 4, 7),
            finish(9, 5, 5),    // bob's batch
            finish(10, 6, 3),   // routed to alice
            head(11, 8, "deliver") + #""vatID":"v1","deliveryNum":2,"# + message("take"),
            finish(12, 7, 7),
            head(13, 9, "gc-action") + #""vatID":"v2","action":"dropExport","kref":"ko22","added":true}"#,
            finish(14, 8, 4),   // alice's drop
            head(15, 10, "deliver") + #""vatID":"v2","deliveryNum":3,"vd":{"type":"dropExports","vrefs":["o+1"]}}"#,
            head(16, 10, "gc-action") + #""vatID":"v2","action":"dropExport","kref":"ko22","added":false}"#,
            finish(17, 9, 4),
        ])

        // Filters and pages.
        let bobs = try store.events(after: 0, limit: 2, vat: VatID(2))
        #expect(bobs.events.map { String(decoding: $0, as: UTF8.self) } == [events[2], events[6]])
        #expect(bobs.next == 7)
        let rest = try store.events(after: 7, limit: 10, vat: VatID(2))
        #expect(rest.events.map { String(decoding: $0, as: UTF8.self) } == [events[12], events[14], events[15]])
        #expect(rest.next == nil)
        #expect(try store.events(after: 0, limit: 100, type: "gc-action").events.count == 2)
        #expect(store.lastEventSeq == 17)
    }

    /// A crank that fails to write leaves no event and uses no seq; after a restart the log
    /// is there and numbering goes on.
    @Test func eventsAreCrankAtomicAndSurviveRestart() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("events.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice")
            store.failAfterWrites = 3
            #expect(throws: KernelError.self) { _ = try kernel.createVat(name: "bob") }
            store.failAfterWrites = nil
            #expect(try store.events(after: 0, limit: 10).events.count == 2)
            _ = try kernel.createVat(name: "bob")
            try store.flush()
            store.close()
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let kernel = try Kernel(storage: store)
        #expect(store.lastEventSeq == 4)
        try kernel.bringOutYourDead(VatID(1))
        let all = try store.events(after: 0, limit: 10).events.map { String(decoding: $0, as: UTF8.self) }
        #expect(all.count == 5)
        #expect(all[2].hasPrefix(#"{"seq":3,"crank":2,"type":"deliver","vatID":"v2""#))
        #expect(all[4].hasPrefix(#"{"seq":5,"crank":3,"type":"crank-finish","crankNum":3,"changes":2,"#))
    }

    /// With `writesEvents` off (the benchmark's comparison), cranks commit and hash as before but
    /// log nothing.
    @Test func writesEventsOffLogsNothing() throws {
        let store = try SQLiteStore(path: ":memory:")
        store.writesEvents = false
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        #expect(store.hashes?.crank == 1)
        #expect(try store.events(after: 0, limit: 10).events.isEmpty)
        #expect(store.lastEventSeq == 0)
    }
}
