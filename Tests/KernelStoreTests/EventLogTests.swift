import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// The event log the store writes with each crank (issue 10).
@Suite struct EventLogTests {
    /// Given alice and bob, when bob sends alice an export and alice drops it, then the log holds
    /// exactly, crank by crank: its start (kind, vat, the host request or queued event), the vats
    /// created and objects exported, each delivery and syscall in both forms, the GC action added
    /// then done, and its finish with its changes and hashes.
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
        func finish(_ seq: Int, _ i: Int, _ changes: Int) -> String {
            let h = hashes[i]
            return #"{"seq":\#(seq),"crank":\#(h.crank),"type":"crank-finish","crankNum":\#(h.crank),"changes":\#(changes),"crankhash":"\#(h.crankHash)","activityhash":"\#(h.activityHash)"}"#
        }
        #expect(hashes.count == 10)
        #expect(events == [
            #"{"seq":1,"crank":1,"type":"crank-start","crankNum":1,"crankType":"host","vatID":"v1","request":{"name":"alice","options":{},"type":"create-vat","vatParameters":{"body":null,"slots":[]}}}"#,
            #"{"seq":2,"crank":1,"type":"create-vat","vatID":"v1","name":"alice","options":{},"vatParameters":{"body":null,"slots":[]}}"#,
            #"{"seq":3,"crank":1,"type":"object-exported","kref":"ko20","vatID":"v1","vref":"o+0"}"#,
            #"{"seq":4,"crank":1,"type":"deliver","vatID":"v1","deliveryNum":1,"kd":{"type":"startVat","vatParameters":{"body":null,"slots":[]}},"vd":{"type":"startVat","vatParameters":{"body":null,"slots":[]}}}"#,
            finish(5, 0, 6),
            #"{"seq":6,"crank":2,"type":"crank-start","crankNum":2,"crankType":"host","vatID":"v2","request":{"name":"bob","options":{},"type":"create-vat","vatParameters":{"body":null,"slots":[]}}}"#,
            #"{"seq":7,"crank":2,"type":"create-vat","vatID":"v2","name":"bob","options":{},"vatParameters":{"body":null,"slots":[]}}"#,
            #"{"seq":8,"crank":2,"type":"object-exported","kref":"ko21","vatID":"v2","vref":"o+0"}"#,
            #"{"seq":9,"crank":2,"type":"deliver","vatID":"v2","deliveryNum":1,"kd":{"type":"startVat","vatParameters":{"body":null,"slots":[]}},"vd":{"type":"startVat","vatParameters":{"body":null,"slots":[]}}}"#,
            finish(10, 1, 6),
            #"{"seq":11,"crank":3,"type":"crank-start","crankNum":3,"crankType":"host","vatID":null,"request":{"methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko20"]},"result":"none","target":"ko21","type":"send"}}"#,
            finish(12, 2, 4),
            #"{"seq":13,"crank":4,"type":"crank-start","crankNum":4,"crankType":"routing","vatID":"v2","message":{"message":{"methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko20"]},"result":null},"target":"ko21","type":"send"}}"#,
            finish(14, 3, 3),
            #"{"seq":15,"crank":5,"type":"crank-start","crankNum":5,"crankType":"delivery","vatID":"v2","message":{"message":{"methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko20"]},"result":null},"target":"ko21","type":"send"}}"#,
            #"{"seq":16,"crank":5,"type":"deliver","vatID":"v2","deliveryNum":2,"kd":{"methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko20"]},"result":null,"target":"ko21","type":"message"},"vd":{"methargs":{"body":["meet",[{"$slot":0}]],"slots":["o-50"]},"result":null,"target":"o+0","type":"message"}}"#,
            finish(17, 4, 7),
            #"{"seq":18,"crank":6,"type":"crank-start","crankNum":6,"crankType":"host","vatID":"v2","request":{"count":1,"type":"syscalls","vatID":"v2"}}"#,
            #"{"seq":19,"crank":6,"type":"syscall","vatID":"v2","syscallNum":0,"ksc":{"methargs":{"body":["take",[{"$slot":0}]],"slots":["ko22"]},"result":null,"target":"ko20","type":"send"},"vsc":{"methargs":{"body":["take",[{"$slot":0}]],"slots":["o+1"]},"result":null,"target":"o-50","type":"send"},"vsr":["ok",null]}"#,
            #"{"seq":20,"crank":6,"type":"object-exported","kref":"ko22","vatID":"v2","vref":"o+1"}"#,
            finish(21, 5, 5),
            #"{"seq":22,"crank":7,"type":"crank-start","crankNum":7,"crankType":"routing","vatID":"v1","message":{"message":{"methargs":{"body":["take",[{"$slot":0}]],"slots":["ko22"]},"result":null},"target":"ko20","type":"send"}}"#,
            finish(23, 6, 3),
            #"{"seq":24,"crank":8,"type":"crank-start","crankNum":8,"crankType":"delivery","vatID":"v1","message":{"message":{"methargs":{"body":["take",[{"$slot":0}]],"slots":["ko22"]},"result":null},"target":"ko20","type":"send"}}"#,
            #"{"seq":25,"crank":8,"type":"deliver","vatID":"v1","deliveryNum":2,"kd":{"methargs":{"body":["take",[{"$slot":0}]],"slots":["ko22"]},"result":null,"target":"ko20","type":"message"},"vd":{"methargs":{"body":["take",[{"$slot":0}]],"slots":["o-50"]},"result":null,"target":"o+0","type":"message"}}"#,
            finish(26, 7, 7),
            #"{"seq":27,"crank":9,"type":"crank-start","crankNum":9,"crankType":"host","vatID":"v1","request":{"count":1,"type":"syscalls","vatID":"v1"}}"#,
            #"{"seq":28,"crank":9,"type":"syscall","vatID":"v1","syscallNum":0,"ksc":{"krefs":["ko22"],"type":"dropImports"},"vsc":{"type":"dropImports","vrefs":["o-50"]},"vsr":["ok",null]}"#,
            #"{"seq":29,"crank":9,"type":"gc-action","vatID":"v2","action":"dropExport","kref":"ko22","added":true}"#,
            finish(30, 8, 4),
            #"{"seq":31,"crank":10,"type":"crank-start","crankNum":10,"crankType":"gc","vatID":"v2"}"#,
            #"{"seq":32,"crank":10,"type":"deliver","vatID":"v2","deliveryNum":3,"kd":{"krefs":["ko22"],"type":"dropExports"},"vd":{"type":"dropExports","vrefs":["o+1"]}}"#,
            #"{"seq":33,"crank":10,"type":"gc-action","vatID":"v2","action":"dropExport","kref":"ko22","added":false,"negated":false}"#,
            finish(34, 9, 4),
        ])

        // Filters and pages.
        let bobs = try store.events(after: 0, limit: 2, vat: VatID(2))
        #expect(bobs.events.map { String(decoding: $0, as: UTF8.self) } == [events[5], events[6]])
        #expect(bobs.next == 7)
        let rest = try store.events(after: 30, limit: 10, vat: VatID(2))
        #expect(rest.events.map { String(decoding: $0, as: UTF8.self) } == [events[30], events[31], events[32]])
        #expect(rest.next == nil)
        #expect(try store.events(after: 0, limit: 100, type: "gc-action").events.count == 2)
        #expect(store.lastEventSeq == 34)
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
            #expect(try store.events(after: 0, limit: 10).events.count == 5)
            _ = try kernel.createVat(name: "bob")
            try store.flush()
            store.close()
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let kernel = try Kernel(storage: store)
        #expect(store.lastEventSeq == 10)
        try kernel.bringOutYourDead(VatID(1))
        let all = try store.events(after: 0, limit: 20).events.map { String(decoding: $0, as: UTF8.self) }
        #expect(all.count == 12)
        #expect(all[5] == #"{"seq":6,"crank":2,"type":"crank-start","crankNum":2,"crankType":"host","vatID":"v2","request":{"name":"bob","options":{},"type":"create-vat","vatParameters":{"body":null,"slots":[]}}}"#)
        #expect(all[10] == #"{"seq":11,"crank":3,"type":"crank-start","crankNum":3,"crankType":"host","vatID":"v1","request":{"type":"bring-out-your-dead","vatID":"v1"}}"#)
        #expect(all[11].hasPrefix(#"{"seq":12,"crank":3,"type":"crank-finish","crankNum":3,"changes":2,"#))
    }

    /// The events go in before the crank's savepoint (so SQLite does not copy the log's pages
    /// into its journal); given a group with a crank staged, when the next crank fails while
    /// writing its rows, then its events and their `event_keys` rows are gone, the staged
    /// crank's stay, and the next crank numbers on from there.
    @Test func aCrankThatFailsInItsGroupTakesItsEventsAndKRefRowsOut() throws {
        let store = try SQLiteStore(path: ":memory:")
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        let (c, _) = try store.open()
        let rows = "SELECT group_concat(seq || ':' || count || ':' || vat, ' ') FROM events"
        let keys = "SELECT group_concat(key || '@' || seq, ' ') FROM (SELECT * FROM event_keys ORDER BY seq, key)"
        #expect(try c.strings(rows) == ["1:5:v1"])
        #expect(try c.strings(keys) == ["ko20@1"])
        store.failAfterWrites = 3
        #expect(throws: KernelError.self) { _ = try kernel.createVat(name: "bob") }
        store.failAfterWrites = nil
        #expect(try c.strings(rows) == ["1:5:v1"])
        #expect(try c.strings(keys) == ["ko20@1"])
        #expect(store.lastEventSeq == 5)
        _ = try kernel.createVat(name: "bob")
        try store.flush()
        #expect(try c.strings(rows) == ["1:5:v1 6:5:v2"])
        #expect(try c.strings(keys) == ["ko20@1 ko21@6"])
        #expect(try store.events(after: 5, limit: 1).events.map { String(decoding: $0, as: UTF8.self) }
            == [#"{"seq":6,"crank":2,"type":"crank-start","crankNum":2,"crankType":"host","vatID":"v2","request":{"name":"bob","options":{},"type":"create-vat","vatParameters":{"body":null,"slots":[]}}}"#])
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
