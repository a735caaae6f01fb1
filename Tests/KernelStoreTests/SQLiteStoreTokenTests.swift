import Foundation
import Testing
import VatKernel
@testable import KernelStore

/// Vat tokens: kept in the kernel's database, durable with the flush of their group, and
/// added to version-1 databases by the schema migration.
@Suite struct SQLiteStoreTokenTests {
    @Test func tokensAreDurableOnlyWithTheirFlush() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("tokens.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice")
            try store.setToken("t1", for: VatID(1))
            try store.flush()
            _ = try kernel.createVat(name: "bob")
            try store.setToken("t2", for: VatID(2))
            store.close()  // bob and his token were never flushed: both are gone
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.loadTokens() == [VatID(1): "t1"])
        #expect(try store.load()?.vats.keys == [VatID(1)])
    }

    @Test func aVersion1DatabaseIsMigratedAndKeepsItsState() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v1.sqlite")
        let state: KernelState
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice")
            try store.flush()
            state = kernel.state
            store.close()
        }
        // Make it a version-1 database, as the first release wrote it.
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        try c.execute("DROP TABLE vat_tokens; DROP TABLE activity; DROP TABLE events; PRAGMA user_version = 1; UPDATE meta SET value = 1 WHERE key = 'schema_version'")
        c.close()

        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.load() == state)
        #expect(try store.loadTokens() == [:])
        try store.setToken("t1", for: VatID(1))
        try store.flush()
        #expect(try store.loadTokens() == [VatID(1): "t1"])
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("PRAGMA user_version") == 4)
        #expect(try check.integer("SELECT value FROM meta WHERE key = 'schema_version'") == 4)
    }
}
