import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Issue 8: each journaled table is mapped to the store once (`StoredTables`), and commit and
/// load loop over the mappings. These tests hold the mappings to the schema the migrations
/// build, so a migration that adds a column or a table without its mapping fails here.
@Suite struct StoredTableTests {
    /// The tables of the schema that are not journaled kernel tables, each with its own code:
    /// the one-row counters and hashes, the ordered queue and logs, and the store's own.
    static let notJournaled: Set<String> = [
        "meta", "counters", "activity", "queue", "deliveries", "delivery_values", "events", "event_keys",
    ]

    /// A fresh store's schema: each table's columns and primary key, from SQLite itself.
    static func schema() throws -> [String: (columns: Set<String>, key: [String])] {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("schema.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try Kernel(storage: store)
        store.close()
        let c = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { c.close() }
        var tables: [String] = []
        let names = try c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        while try names.step() { tables.append(names.text(0)!) }
        names.finalize()
        var out: [String: (columns: Set<String>, key: [String])] = [:]
        for t in tables {
            let info = try c.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY pk")
            info.bind(1, t)
            var columns: Set<String> = []
            var key: [String] = []
            while try info.step() {
                columns.insert(info.text(0)!)
                if info.int(1) > 0 { key.append(info.text(0)!) }
            }
            info.finalize()
            out[t] = (columns, key)
        }
        return out
    }

    @Test func eachMappingWritesEveryColumnOfItsTableAndKeysItByThePrimaryKey() throws {
        let schema = try Self.schema()
        var mapped: Set<String> = []
        for m in StoredTables.all {
            let t = try #require(schema[m.table], "\(m.table) is mapped but not in the schema")
            #expect(Set(m.keyColumns + m.rowColumns) == t.columns, "\(m.table)")
            #expect(m.keyColumns == t.key, "\(m.table)")
            mapped.insert(m.table)
        }
        #expect(mapped.count == StoredTables.all.count)
        // Every table of the schema is either mapped or one of the few with code of their own.
        #expect(mapped.union(Self.notJournaled) == Set(schema.keys))
        #expect(mapped.isDisjoint(with: Self.notJournaled))
    }

    /// The SQL the mappings make is the SQL the store ran before they existed.
    @Test func theStatementsAreTheOnesTheStoreAlwaysRan() {
        #expect(StoredTables.clist.upsertSQL == "INSERT OR REPLACE INTO clist (vat, kref, vref, reachable) VALUES (?1, ?2, ?3, ?4)")
        #expect(StoredTables.clist.deleteSQL == "DELETE FROM clist WHERE vat = ?1 AND kref = ?2")
        #expect(StoredTables.objects.upsertSQL == "INSERT OR REPLACE INTO objects (id, owner, reachable, recognizable) VALUES (?1, ?2, ?3, ?4)")
        #expect(StoredTables.gcActions.upsertSQL == "INSERT OR IGNORE INTO gc_actions (action) VALUES (?1)")
        #expect(StoredTables.heldResults.deleteSQL == "DELETE FROM held_results WHERE kpid = ?1")
        #expect(StoredTables.pins.upsertSQL == "INSERT OR REPLACE INTO pins (kref, count) VALUES (?1, ?2)")
    }
}
