import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// `GET /events?kref=` reads the `event_krefs` index (Schema version 8), which triggers fill
/// from each event's JSON, whatever its type.
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

    private func insert(_ store: SQLiteStore, _ seq: Int, _ json: String) throws {
        let (c, _) = try store.open()
        try c.execute("INSERT INTO events (seq, crank, type, vat, event) VALUES (\(seq), 1, 'test', NULL, '\(json)')")
    }

    /// Given events of a type no writer knows, every string that is a canonical kref is
    /// indexed (fields, capdata slots, nested arrays and objects, duplicates once), and nothing
    /// else is: not keys, numbers, vrefs, near misses or leading zeros. Deleting the event
    /// deletes its rows.
    @Test func everyKRefStringOfAnyEventIsIndexedAndUnindexed() throws {
        let store = try SQLiteStore(path: ":memory:")
        try insert(store, 1, ##"{"seq":1,"type":"new-type","kref":"ko7","kd":{"methargs":{"body":"#{}","slots":["ko21","kp3","ko21"]},"result":"kp40"},"deep":[[{"x":"kd2"}]],"ko99":"v1","n":5,"vref":"o+1","near":["ko","ko01","ko1x","kx1","Ko1","ko-1","kp0","ko123456789012345678"]}"##)
        try insert(store, 2, #"{"seq":2,"type":"other","note":"ko7 is not a kref string"}"#)
        #expect(try indexed(store, 1) == ["kd2", "ko21", "ko7", "kp0", "kp3", "kp40"])
        #expect(try indexed(store, 2) == [])
        let (c, _) = try store.open()
        try c.execute("DELETE FROM events WHERE seq = 1")
        #expect(try indexed(store, 1) == [])
        #expect(try c.integer("SELECT count(*) FROM event_krefs") == 0)
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
        try c.execute("""
            DROP TRIGGER events_index_krefs; DROP TRIGGER events_unindex_krefs; DROP TABLE event_krefs;
            PRAGMA user_version = 7; UPDATE meta SET value = 7 WHERE key = 'schema_version'
            """)
        c.close()
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.events(after: 0, limit: 10, kref: k("ko22")).events.count == 9)
        #expect(try indexed(store, 20) == ["ko22"])
    }
}
