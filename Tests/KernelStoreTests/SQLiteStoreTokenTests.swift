import Foundation
import Testing
import VatKernel
@testable import KernelStore

/// Vat token hashes: kept in the kernel's database, durable with the flush of their group, and
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
            try store.setTokenHash(TokenHash.hex("t1".utf8), for: VatID(1))
            try store.flush()
            _ = try kernel.createVat(name: "bob")
            try store.setTokenHash(TokenHash.hex("t2".utf8), for: VatID(2))
            store.close()  // bob and his token were never flushed: both are gone
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.loadTokenHashes() == [VatID(1): TokenHash.hex("t1".utf8)])
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
        try c.execute("DROP TABLE vat_tokens; DROP TABLE activity; DROP TABLE events; ALTER TABLE vats DROP COLUMN deliveries_acknowledged; PRAGMA user_version = 1; UPDATE meta SET value = 1 WHERE key = 'schema_version'")
        c.close()

        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.load() == state)
        #expect(try store.loadTokenHashes() == [:])
        try store.setTokenHash(TokenHash.hex("t1".utf8), for: VatID(1))
        try store.flush()
        #expect(try store.loadTokenHashes() == [VatID(1): TokenHash.hex("t1".utf8)])
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        defer { check.close() }
        #expect(try check.integer("PRAGMA user_version") == Schema.currentVersion)
        #expect(try check.integer("SELECT value FROM meta WHERE key = 'schema_version'") == Schema.currentVersion)
    }

    /// Version 4 kept tokens in plain text: opening the file hashes them in place, so no copy of
    /// the file made afterwards holds a token, and each vat's token still matches its hash.
    @Test func aVersion4DatabaseHasItsTokensHashedInPlace() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("v4.sqlite")
        let token = "3f1c0a9e2b7d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
        do {
            let store = try SQLiteStore(path: path)
            let kernel = try Kernel(storage: store)
            _ = try kernel.createVat(name: "alice")
            try store.setTokenHash(TokenHash.hex("unused".utf8), for: VatID(1))
            try store.flush()
            store.close()
        }
        // Make it a version-4 database holding alice's token in plain text.
        let c = try SQLiteConnection(path: path, flags: 0x2 /* SQLITE_OPEN_READWRITE */)
        try c.execute("""
            ALTER TABLE vat_tokens RENAME COLUMN token_sha256 TO token; ALTER TABLE vats DROP COLUMN deliveries_acknowledged;
            UPDATE vat_tokens SET token = '\(token)';
            PRAGMA user_version = 4; UPDATE meta SET value = 4 WHERE key = 'schema_version'
            """)
        c.close()

        let store = try SQLiteStore(path: path)
        #expect(try store.loadTokenHashes() == [VatID(1): TokenHash.hex(token.utf8)])
        try store.flush()
        store.close()
        let check = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        #expect(try check.integer("PRAGMA user_version") == Schema.currentVersion)
        #expect(try check.integer("SELECT count(*) FROM vat_tokens WHERE token_sha256 = '\(token)'") == 0)
        check.close()
        for file in [path, path + "-wal"] {
            if let data = bytes(file) { #expect(data.range(of: Data(token.utf8)) == nil, "\(file) still holds the token") }
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
