import Foundation
import Testing
import VatKernel
@testable import KernelStore

/// Issue 9 part 4: the database and its side files hold every vat's token, so they are
/// owner-only (0600) whatever the umask, and an older 0644 database is tightened on open.
@Suite(.serialized) struct SQLiteStoreFileModeTests {
    private func mode(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_mode & 0o777) : nil
    }

    @Test func aNewDatabaseAndItsWALAreOwnerOnlyWhateverTheUmask() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("k.sqlite")
        let old = umask(0)
        defer { umask(old) }
        let store = try SQLiteStore(path: path)
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        try store.flush()
        // While open, in WAL mode: the database, -wal and -shm all exist.
        #expect(mode(path) == 0o600)
        #expect(mode(path + "-wal") == 0o600)
        #expect(mode(path + "-shm") == 0o600)
        store.close()
        #expect(mode(path) == 0o600)
    }

    @Test func anOlderWorldReadableDatabaseIsTightenedWhenOpened() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("old.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try Kernel(storage: store).createVat(name: "alice")
        try store.flush()
        store.close()
        chmod(path, 0o644)
        #expect(mode(path) == 0o644)
        let again = try SQLiteStore(path: path)
        defer { again.close() }
        #expect(try again.load()?.vats.count == 1)
        #expect(mode(path) == 0o600)
        #expect(mode(path + "-wal").map { $0 == 0o600 } ?? true)
    }
}
