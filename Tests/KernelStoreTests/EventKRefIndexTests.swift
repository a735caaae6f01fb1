import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// `GET /events?kref=` reads the `event_krefs` index (Schema version 8), which the store fills
/// from each event's JSON as it writes it, whatever its type (version 9; a trigger did before).
@Suite struct EventKRefIndexTests {
    /// The index rows of `seq`, sorted.
    private func indexed(_ store: SQLiteStore, _ seq: Int) throws -> [String] {
        let (c, _) = try store.open()
        let q = try c.prepare("SELECT kref FROM event_krefs WHERE seq = ?1 ORDER BY kref")
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
        var log = EventLog(store: store, crank: 1, statement: s.addEvent, krefStatement: s.addEventKRef)
        try log.add(type, vat: nil) { w in
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { w.key(key.string); try w.value(value) }
        }
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
        #expect(try c.integer("SELECT count(*) FROM event_krefs") == 0)
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
        #expect(try indexed(store, 20) == ["ko22"])
    }
}
