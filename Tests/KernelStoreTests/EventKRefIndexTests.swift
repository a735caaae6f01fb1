import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// `GET /events?kref=` and `?vat=` read the `event_keys` index (Schema version 13; `event_krefs`
/// from version 8), which the store fills from each event's JSON as it writes it, whatever its
/// type (version 9; a trigger did before), one entry per crank's row.
@Suite struct EventKRefIndexTests {
    /// The index keys of the row that holds event `seq`, sorted.
    private func indexed(_ store: SQLiteStore, _ seq: Int) throws -> [String] {
        let (c, _) = try store.open()
        let q = try c.prepare("SELECT key FROM event_keys WHERE seq = (SELECT max(seq) FROM events WHERE seq <= ?1) ORDER BY key")
        defer { q.finalize() }
        q.bind(1, seq)
        var out: [String] = []
        while try q.step() { out.append(q.text(0) ?? "") }
        return out
    }

    /// Writes one event of `type` with the fields of the JSON object `json`, as the store writes
    /// every event.
    private func add(_ store: SQLiteStore, _ type: String, _ json: String) throws {
        let (_, s) = try store.open()
        guard case .object(let fields) = try JSONValue.parse(Array(json.utf8)) else { Issue.record("not an object"); return }
        var log = EventLog(store: store, crank: 1, statement: s.addEvent, keyStatement: s.addEventKey)
        try log.add(type, vat: nil) { w in
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { w.key(key.string); try w.value(value) }
        }
        try log.finish()
    }

    /// Given events of a type no writer knows, every string that is a canonical kref is
    /// indexed (fields, capdata slots, nested arrays and objects, duplicates once), and nothing
    /// else is: not keys, numbers, vrefs, escaped strings, near misses or leading zeros. Deleting
    /// the event deletes its rows.
    @Test func everyKRefStringOfAnyEventIsIndexedAndUnindexed() throws {
        let store = try SQLiteStore(path: ":memory:")
        try add(store, "new-type", ##"{"kref":"ko7","kd":{"methargs":{"body":"#{}","slots":["ko21","kp3","ko21"]},"result":"kp40"},"deep":[[{"x":"kd2"}]],"ko99":"v1","n":5,"vref":"o+1","esc":"k\"o1","near":["ko","ko01","ko1x","kx1","Ko1","ko-1","kp0","ko123456789012345678"]}"##)
        try add(store, "other", #"{"note":"ko7 is not a kref string"}"#)
        #expect(try indexed(store, 1) == ["kd2", "ko21", "ko7", "kp0", "kp3", "kp40"])
        #expect(try indexed(store, 2) == [])
        let (c, _) = try store.open()
        try c.execute("DELETE FROM events WHERE seq = 1")
        #expect(try indexed(store, 1) == [])
        #expect(try c.integer("SELECT count(*) FROM event_keys") == 0)
    }

    /// The scan finds what the migration's json_tree rule finds, in order of first mention.
    @Test func theScanAgreesWithTheSQLRule() throws {
        let json = ##"{"a":["kp12","ko3",{"ko4":"kd0"}],"b":"ko3","c":"\"ko5\"","d":"ko1234567890123456789"}"##
        let scanned = EventLog.krefs(in: Array(json.utf8)).map { String(decoding: $0, as: UTF8.self) }
        #expect(scanned == ["kp12", "ko3", "kd0"])
        let store = try SQLiteStore(path: ":memory:")
        let (c, _) = try store.open()
        let q = try c.prepare("SELECT value FROM json_tree(?1) WHERE \(Schema.krefTest) ORDER BY id")
        defer { q.finalize() }
        q.bind(1, json)
        var fromSQL: [String] = []
        while try q.step() { if let t = q.text(0), !fromSQL.contains(t) { fromSQL.append(t) } }
        #expect(fromSQL == scanned)
    }

    /// Given alice and bob, when bob sends alice an export and alice drops it, then `kref=ko22`
    /// is exactly the nine events that mention it (the send in krefs, its export, the cranks that
    /// route and deliver it, alice's drop, the GC action added and done, bob's dropExports), alone,
    /// with `type=`, `vat=` and pages.
    @Test func krefFilterCombinesWithTheOthers() throws {
        let store = try SQLiteStore(path: ":memory:")
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        _ = try kernel.createVat(name: "bob")
        _ = try kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
        while try kernel.step() != nil {}
        _ = try kernel.syscalls([send("o-50", "take", ["o+1"])], from: VatID(2))
        while try kernel.step() != nil {}
        _ = try kernel.syscalls([.dropImports([v("o-50")])], from: VatID(1))
        while try kernel.step() != nil {}

        let all = try store.events(after: 0, limit: 100).events.map { String(decoding: $0, as: UTF8.self) }
        let expected = all.filter { $0.contains(#""ko22""#) }
        #expect(expected.count == 9)
        let found = try store.events(after: 0, limit: 100, kref: k("ko22"))
        #expect(found.events.map { String(decoding: $0, as: UTF8.self) } == expected)
        #expect(found.next == nil)
        let first = try store.events(after: 0, limit: 1, kref: k("ko22"))
        #expect(first.events.map { String(decoding: $0, as: UTF8.self) } == [expected[0]])
        #expect(first.next == 19)
        #expect(try store.events(after: 19, limit: 10, kref: k("ko22")).events.map { String(decoding: $0, as: UTF8.self) } == Array(expected[1...]))
        #expect(try store.events(after: 0, limit: 10, type: "gc-action", vat: VatID(2), kref: k("ko22")).events.count == 2)
        #expect(try store.events(after: 0, limit: 10, type: "deliver", kref: k("ko22")).events.count == 2)
        #expect(try store.events(after: 0, limit: 10, vat: VatID(1), kref: k("ko22")).events.count == 4)
        #expect(try store.events(after: 0, limit: 10, type: "vat-upgrade", kref: k("ko22")).events.isEmpty)
        #expect(try store.events(after: 0, limit: 10, kref: k("ko999")).events.isEmpty)
    }

    /// The store finds a crank's krefs among the strings its writer noted (`JSONWriter.kStrings`)
    /// instead of scanning the text; given the 1,000 mixed requests, every row's keys and
    /// `event_keys` entries are exactly what scanning its lines gives, and its `vat` the first
    /// vat of its lines.
    @Test func theNotedStringsFindWhatAScanFinds() throws {
        let store = try SQLiteStore(path: ":memory:", durability: .normal)
        let kernel = try Kernel(storage: store)
        var interpreter = HashScenario.Interpreter()
        for r in HashScenario.requests(count: 1_000, seed: 7) { _ = try interpreter.apply(r, kernel, store) }
        try store.flush()
        let (c, _) = try store.open()
        let rows = try c.prepare("SELECT seq, vat, events, keys, (SELECT json_group_array(key) FROM (SELECT key FROM event_keys k WHERE k.seq = e.seq ORDER BY key)) FROM events e ORDER BY seq")
        defer { rows.finalize() }
        var checked = 0, withKRefs = 0
        while try rows.step() {
            var vat: String?
            var keys: [String] = []
            rows.withText(2) { text in
                StoredEvent.forEachLine(text!) { _, v, body in
                    let v = String(decoding: v, as: UTF8.self)
                    if !v.isEmpty { if vat == nil { vat = v } else if v != vat, !keys.contains(v) { keys.append(v) } }
                    for kref in EventLog.krefRanges(in: body) {
                        let k = String(decoding: UnsafeBufferPointer(rebasing: body[kref]), as: UTF8.self)
                        if !keys.contains(k) { keys.append(k) }
                    }
                    return true
                }
            }
            #expect(rows.text(1) == vat, "row \(rows.int(0))")
            #expect(try JSONValue.parse(Array((rows.text(3) ?? "").utf8)) == .array(keys.map { .string($0) }), "row \(rows.int(0))")
            #expect(try JSONValue.parse(Array((rows.text(4) ?? "").utf8)) == .array(keys.sorted().map { .string($0) }), "row \(rows.int(0))")
            checked += 1
            if keys.contains(where: { $0.hasPrefix("k") }) { withKRefs += 1 }
        }
        #expect(checked > 1_000)
        #expect(withKRefs > 500)
    }

    /// Given a crank about alice (her drop) that adds a GC action for bob, then `vat=v2` finds
    /// that one event of alice's row (through `event_keys`) among bob's own rows (through
    /// `events_by_vat`), in seq order, and pages of one event each walk the merge without
    /// losing or repeating one; `vat=v1` does not find it.
    @Test func aVatFilterMergesTheRowsAboutTheVatWithTheRowsThatMentionIt() throws {
        let w = try EventTypesTests.Two()
        _ = try w.kernel.syscalls([send("o-50", "take", ["o+1"])], from: VatID(2))
        try w.kernel.run()
        _ = try w.kernel.syscalls([.dropImports([v("o-50")])], from: VatID(1))
        try w.kernel.run()
        let all = try w.store.events(after: 0, limit: 1_000).events.map { String(decoding: $0, as: UTF8.self) }
        let drop = try #require(all.first { $0.contains(#""type":"gc-action""#) && $0.contains(#""added":true"#) })
        #expect(drop.contains(#""vatID":"v2""#))
        let (c, _) = try w.store.open()
        let dropSeq = try #require(Int(drop.split(separator: ",")[0].dropFirst(7)))
        let row = try #require(try c.integer("SELECT max(seq) FROM events WHERE seq <= \(dropSeq)"))
        #expect(try c.strings("SELECT vat FROM events WHERE seq = \(row)") == ["v1"])
        #expect(try c.strings("SELECT key FROM event_keys WHERE seq = \(row) ORDER BY key") == ["ko22", "v2"])

        let bob = try w.store.events(after: 0, limit: 1_000, vat: VatID(2)).events.map { String(decoding: $0, as: UTF8.self) }
        #expect(bob.contains(drop))
        #expect(bob == all.filter { bob.contains($0) })  // in the log's order
        #expect(bob.count == Set(bob).count)
        #expect(!(try w.store.events(after: 0, limit: 1_000, vat: VatID(1)).events.map { String(decoding: $0, as: UTF8.self) }.contains(drop)))
        var paged: [String] = []
        var after = 0
        while true {
            let page = try w.store.events(after: after, limit: 1, vat: VatID(2))
            paged += page.events.map { String(decoding: $0, as: UTF8.self) }
            guard let next = page.next else { break }
            after = next
        }
        #expect(paged == bob)
    }

    /// Every read of the log walks an index in seq order and stops when its page is full: no
    /// plan sorts (a `vat=` read merges the rows of `events_by_vat` with those `event_keys`
    /// lists), and each searches its index instead of scanning a table.
    @Test func everyReadOfTheLogIsAnIndexWalkInSeqOrder() throws {
        let store = try SQLiteStore(path: ":memory:")
        let (c, _) = try store.open()
        for key in [nil, SQLiteStore.EventKey.vat, .kref] {
            let plan = try c.prepare("EXPLAIN QUERY PLAN " + SQLiteStore.eventsSQL(key: key))
            defer { plan.finalize() }
            var details: [String] = []
            while try plan.step() { details.append(plan.text(3) ?? "") }
            #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(String(describing: key)): \(details)")
            #expect(!details.contains { $0.hasPrefix("SCAN ") && !$0.contains("INDEX") && !$0.contains("PRIMARY KEY") }, "\(String(describing: key)): \(details)")
            switch key {
            case .vat?:
                #expect(details.contains { $0.contains("MERGE (UNION ALL)") }, "\(details)")
                #expect(details.contains { $0.contains("USING INDEX events_by_vat (vat=? AND seq>?)") || $0.contains("USING INDEX events_by_vat (vat=?") }, "\(details)")
                #expect(details.contains { $0.contains("event_keys USING PRIMARY KEY (key=? AND seq>?)") }, "\(details)")
            case .kref?:
                #expect(details.contains { $0.contains("event_keys USING PRIMARY KEY (key=? AND seq>?)") }, "\(details)")
            case nil:
                #expect(details.contains { $0.contains("events USING INTEGER PRIMARY KEY (rowid>?)") }, "\(details)")
            }
        }
    }

    /// Given a version-7 database whose log mentions ko22, when it is opened, then the
    /// migration indexes the events already logged.
    @Test func theMigrationIndexesTheEventsAlreadyLogged() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v7.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice")
            _ = try kernel.createVat(name: "bob")
            _ = try kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .none)
            while try kernel.step() != nil {}
            _ = try kernel.syscalls([send("o-50", "take", ["o+1"])], from: VatID(2))
            while try kernel.step() != nil {}
            _ = try kernel.syscalls([.dropImports([v("o-50")])], from: VatID(1))
            while try kernel.step() != nil {}
            try store.flush()
            store.close()
        }
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        try StoredEventTests.storeEventsWhole(c)
        try undoVersion11(c)
        try c.execute("""
            DROP TRIGGER IF EXISTS events_index_krefs; DROP TRIGGER events_unindex_krefs; DROP TABLE event_krefs;
            PRAGMA user_version = 7; UPDATE meta SET value = 7 WHERE key = 'schema_version'
            """)
        c.close()
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.events(after: 0, limit: 10, kref: k("ko22")).events.count == 9)
        #expect(try indexed(store, 20).contains("ko22"))
    }
}
