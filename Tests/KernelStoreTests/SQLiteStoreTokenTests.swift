import Foundation
import Testing
import VatKernel
@testable import KernelStore

/// Vat token hashes: kept in each vat's own row (`VatRecord.tokenHash`), durable with the crank
/// that created the vat, and moved there from the `vat_tokens` table of older databases.
@Suite struct SQLiteStoreTokenTests {
    @Test func aTokenHashIsDurableOnlyWithItsVatsCreation() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("tokens.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice", tokenHash: TokenHash.digest("t1".utf8))
            try store.flush()
            _ = try kernel.createVat(name: "bob", tokenHash: TokenHash.digest("t2".utf8))
            store.close()  // bob and his token were never flushed: both are gone
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let state = try #require(try store.load())
        #expect(state.vats.rows.keys == [VatID(1)])
        #expect(state.vats[VatID(1)]?.tokenHash == TokenHash.digest("t1".utf8))
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("SELECT count(*) FROM vats WHERE token_sha256 = '\(TokenHash.hex("t1".utf8))'") == 1)
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
        try undoVersion11(c)
        try c.execute("ALTER TABLE vats DROP COLUMN token_sha256; DROP TABLE activity; DROP TABLE event_krefs; DROP TABLE events; ALTER TABLE vats DROP COLUMN deliveries_acknowledged; PRAGMA user_version = 1; UPDATE meta SET value = 1 WHERE key = 'schema_version'")
        c.close()

        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.load() == state)
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("PRAGMA user_version") == Schema.currentVersion)
        #expect(try check.integer("SELECT value FROM meta WHERE key = 'schema_version'") == Schema.currentVersion)
        #expect(try check.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'vat_tokens'") == 0)
    }

    /// Makes the database at `path` (its vat v1 created with a token hash) look as version
    /// `version` (4 or 6) wrote it: tokens in `vat_tokens`, as `token` (plain text, version 4)
    /// or `token_sha256` (version 6), plus a row for a vat whose creation never committed.
    private func downgrade(_ path: String, to version: Int, v1Token: String) throws {
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        defer { c.close() }
        let column = version == 4 ? "token" : "token_sha256"
        try StoredEventTests.storeEventsWhole(c)
        try undoVersion11(c)
        try c.execute("""
            ALTER TABLE vats DROP COLUMN token_sha256;
            DROP TRIGGER IF EXISTS events_index_krefs; DROP TRIGGER events_unindex_krefs; DROP TABLE event_krefs;
            CREATE TABLE vat_tokens (vat TEXT PRIMARY KEY, \(column) TEXT NOT NULL) STRICT, WITHOUT ROWID;
            INSERT INTO vat_tokens VALUES ('v1', '\(v1Token)'), ('v9', '\(v1Token)');
            \(version == 4 ? "ALTER TABLE vats DROP COLUMN deliveries_acknowledged;" : "")
            PRAGMA user_version = \(version); UPDATE meta SET value = \(version) WHERE key = 'schema_version'
            """)
    }

    private func makeDatabase(_ path: String) throws {
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice", tokenHash: TokenHash.digest("unused".utf8))
        try store.flush()
    }

    /// Version 4 kept tokens in plain text: opening the file hashes them in place, so no copy of
    /// the file made afterwards holds a token, and each vat's token still matches its hash.
    @Test func aVersion4DatabaseHasItsTokensHashedInPlace() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v4.sqlite")
        let token = "3f1c0a9e2b7d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
        try makeDatabase(path)
        try downgrade(path, to: 4, v1Token: token)

        let store = try SQLiteStore(path: path)
        #expect(try store.load()?.vats[VatID(1)]?.tokenHash == TokenHash.digest(token.utf8))
        try store.flush()
        store.close()
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        #expect(try check.integer("PRAGMA user_version") == Schema.currentVersion)
        #expect(try check.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'vat_tokens'") == 0)
        check.close()
        for file in [path, path + "-wal"] {
            if let data = bytes(file) { #expect(data.range(of: Data(token.utf8)) == nil, "\(file) still holds the token") }
        }
    }

    /// Version 6 kept the hashes in `vat_tokens`: they move into the vats' rows, and the row of
    /// a vat that does not exist goes with the table.
    @Test func aVersion6DatabaseHasItsTokenHashesMovedIntoTheVatsRows() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v6.sqlite")
        try makeDatabase(path)
        try downgrade(path, to: 6, v1Token: TokenHash.hex("alice's".utf8))

        let store = try SQLiteStore(path: path)
        defer { store.close() }
        let state = try #require(try store.load())
        #expect(state.vats.rows.keys == [VatID(1)])
        #expect(state.vats[VatID(1)]?.tokenHash == TokenHash.digest("alice's".utf8))
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'vat_tokens'") == 0)
    }

    @Test func aStoredTokenHashThatIsNotOneIsRefusedAsCorrupt() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("bad-token.sqlite")
        try makeDatabase(path)
        #expect(sh("sqlite3", path, "UPDATE vats SET token_sha256 = 'not hex' WHERE vat_id = 'v1'"))
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect {
            _ = try store.load()
        } throws: { e in
            guard case KernelStoreError.corrupt(_, let detail) = e else { return false }
            return detail == "vats row v1: token_sha256 is not a SHA-256 in hex"
        }
    }

    @Test func aTokenHashIsSHA256InHex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        #expect(TokenHash.hex("abc".utf8) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TokenHash.digest(hex: TokenHash.hex("abc".utf8)) == TokenHash.digest("abc".utf8))
        #expect(TokenHash.digest(hex: "BA7816BF") == nil)
        #expect(TokenHash.digest(hex: String(repeating: "g", count: 64)) == nil)
    }
}
