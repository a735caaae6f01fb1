import CSQLite

/// One SQLite connection, used by one thread at a time; every failure becomes a
/// `KernelStoreError` naming the file and the operation.
final class SQLiteConnection {
    let path: String
    private var handle: OpaquePointer?

    /// Opens `path` with SQLite `flags` (`SQLITE_OPEN_*`). Extended result codes are on.
    init(path: String, flags: Int32) throws {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw KernelStoreError.from(code: code, message: message, path: path, operation: "open")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    var isOpen: Bool { handle != nil }

    /// The raw handle; the connection must be open.
    var db: OpaquePointer {
        guard let handle else { preconditionFailure("SQLite connection to \(path) used after close") }
        return handle
    }

    /// Runs one or more statements that return no rows we need.
    func execute(_ sql: String, operation: String? = nil) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errmsg)
            throw error(sqlite3_extended_errcode(db), operation ?? sql, message: message)
        }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, "prepare \(sql)") }
        return SQLiteStatement(stmt, connection: self, sql: sql)
    }

    /// The first column of the first row of `sql`, as an integer (nil when there is no row).
    func integer(_ sql: String) throws -> Int? {
        let s = try prepare(sql)
        defer { s.finalize() }
        return try s.step() ? s.int(0) : nil
    }

    /// The first column of every row of `sql`, as text.
    func strings(_ sql: String) throws -> [String] {
        let s = try prepare(sql)
        defer { s.finalize() }
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// The error for result code `code` from `operation`, with SQLite's current message.
    func error(_ code: Int32, _ operation: String, message: String? = nil) -> KernelStoreError {
        let text = message ?? handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        return KernelStoreError.from(code: code, message: text, path: path, operation: operation)
    }

    /// True outside a transaction; SQLite sets it when it rolls a transaction back by itself.
    var isAutocommit: Bool { sqlite3_get_autocommit(db) != 0 }

    /// True when SQLite opened the main database read-only (e.g. the file is write-protected).
    var isReadOnly: Bool { sqlite3_db_readonly(db, "main") == 1 }

    /// Closes the connection; every statement must have been finalized.
    func close() {
        guard let h = handle else { return }
        handle = nil
        sqlite3_close_v2(h)
    }
}
