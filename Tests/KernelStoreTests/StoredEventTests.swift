import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Schema version 10 keeps each event without what its columns hold (`StoredEvent`); the API
/// answers the same bytes as when the whole event was stored.
@Suite struct StoredEventTests {
    /// Makes the events of the database behind `c` look as versions 4–9 stored them: the API's
    /// JSON whole in `event`, no `hashes` column.
    static func storeEventsWhole(_ c: SQLiteConnection) throws {
        try undoVersion13(c)
        let read = try c.prepare("SELECT seq, crank, type, event, hashes FROM events ORDER BY seq")
        var rows: [(Int, [UInt8])] = []
        while try read.step() {
            let seq = read.int(0), crank = read.int(1), type = read.text(2) ?? "", hashes = read.blob(4)
            rows.append((seq, read.withText(3) { StoredEvent.json(seq: seq, crank: crank, type: type, body: $0!, hashes: hashes) }))
        }
        read.finalize()
        let write = try c.prepare("UPDATE events SET event = ?2 WHERE seq = ?1")
        for (seq, full) in rows {
            write.bind(1, seq)
            write.bind(2, utf8: full)
            try write.run()
        }
        write.finalize()
        try c.execute("ALTER TABLE events DROP COLUMN hashes")
    }

    /// Runs the alice/bob scenario (every crank kind of EventLogTests' log) on a file store.
    private func scenario(_ path: String) throws -> [[UInt8]] {
        let store = try SQLiteStore(path: path)
        defer { store.close() }
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
        return try store.events(after: 0, limit: 1000).events
    }

    /// Given a crank, its rows hold the fields only: no seq, crank, type or crankNum, and
    /// crank-finish's hashes as 64 bytes, which GET /events shows as the activity table's hex.
    @Test func aRowHoldsOnlyWhatItsColumnsDoNot() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        let events = try scenario(path)
        let c = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { c.close() }
        let last = try c.strings("SELECT crank_hash || ' ' || activity_hash FROM activity").first ?? ""
        let finish = try c.strings("SELECT events || ' ' || hex(hashes) FROM events ORDER BY seq DESC LIMIT 1").first ?? ""
        #expect(finish.contains("\ncrank-finish\t\t{\"changes\":"))
        #expect(finish.hasSuffix(" " + String(last.filter { $0 != " " }).uppercased()))
        let full = String(decoding: events.last ?? [], as: UTF8.self)
        #expect(full.hasSuffix(#","crankhash":"\#(last.prefix(64))","activityhash":"\#(last.suffix(64))"}"#))
        #expect(try c.integer("SELECT count(*) FROM events WHERE events LIKE '%{\"seq\"%' OR events LIKE '%crankNum%'") == 0)
        // One row per crank, each ending with its crank-finish and holding its hashes.
        #expect(try c.integer("SELECT count(*) FROM events") == c.integer("SELECT crank FROM activity"))
        #expect(try c.integer("SELECT count(*) FROM events WHERE length(hashes) IS NOT 64 OR events NOT LIKE '%crank-finish' || char(9, 9) || '{%}' || char(10)") == 0)
    }

    /// Given a version-9 database (events stored whole), when it is opened, then its events are
    /// rewritten and GET /events answers the same bytes, page by page, by type and by kref.
    @Test func theMigrationRewritesTheEventsAlreadyLogged() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v9.sqlite")
        let before = try scenario(path)
        let byKRef = before.filter { String(decoding: $0, as: UTF8.self).contains(#""ko22""#) }
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        try Self.storeEventsWhole(c)
        try undoVersion11(c)
        try c.execute("PRAGMA user_version = 9; UPDATE meta SET value = 9 WHERE key = 'schema_version'")
        #expect(try c.integer("SELECT count(*) FROM events WHERE event LIKE '{\"seq\"%'") == before.count)
        c.close()
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.events(after: 0, limit: 1000).events == before)
        #expect(try store.events(after: 5, limit: 3).events == Array(before[5..<8]))
        #expect(try store.events(after: 0, limit: 1000, kref: k("ko22")).events == byKRef)
        #expect(try store.events(after: 0, limit: 1000, type: "crank-finish").events
            == before.filter { String(decoding: $0, as: UTF8.self).contains(#""type":"crank-finish""#) })
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("PRAGMA user_version") == Schema.currentVersion)
        #expect(try check.integer("SELECT count(*) FROM events WHERE events LIKE '%{\"seq\"%'") == 0)
    }

    /// An event stored whole that is not what its columns say (another crank) stops the migration.
    @Test func anEventThatDisagreesWithItsColumnsIsNotRewritten() {
        let full = Array(#"{"seq":3,"crank":2,"type":"syscall","vatID":"v1"}"#.utf8)
        #expect(StoredEvent.split(full, seq: 3, crank: 2, type: "syscall")?.body == Array(#"{"vatID":"v1"}"#.utf8))
        #expect(StoredEvent.split(full, seq: 3, crank: 1, type: "syscall") == nil)
        #expect(StoredEvent.split(Array(#"{"seq":3,"crank":2,"type":"crank-start","crankNum":1}"#.utf8), seq: 3, crank: 2, type: "crank-start") == nil)
    }
}
