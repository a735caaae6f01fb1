import CSQLite
import VatKernel

/// SQLite copies bound text and blobs when given this destructor (`SQLITE_TRANSIENT`).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement, kept for the life of its connection: bind, step, read, reset.
final class SQLiteStatement {
    private var stmt: OpaquePointer?
    private unowned let connection: SQLiteConnection
    let sql: String

    init(_ stmt: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.stmt = stmt
        self.connection = connection
        self.sql = sql
    }

    private var handle: OpaquePointer {
        guard let stmt else { preconditionFailure("statement used after finalize: \(sql)") }
        return stmt
    }

    func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    func bind(_ index: Int32, _ value: Bool) {
        sqlite3_bind_int64(handle, index, value ? 1 : 0)
    }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, index); return }
        value.withUTF8 { buf in
            // An empty buffer may have no address; SQLite would read that as NULL.
            if buf.isEmpty {
                sqlite3_bind_text(handle, index, "", 0, transient)
            } else {
                buf.withMemoryRebound(to: CChar.self) {
                    _ = sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient)
                }
            }
        }
    }

    /// Binds the bytes of a vatstore key, value or vat name as text, exactly as they are.
    func bind(_ index: Int32, _ value: ByteString) {
        bind(index, value.string)
    }

    /// Binds UTF-8 bytes (the JSON writer's output) as text.
    func bind(_ index: Int32, utf8 bytes: [UInt8]?) {
        guard let bytes else { sqlite3_bind_null(handle, index); return }
        if bytes.isEmpty {
            sqlite3_bind_text(handle, index, "", 0, transient)
            return
        }
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) {
                _ = sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient)
            }
        }
    }

    /// Binds UTF-8 bytes as text without SQLite copying them (`SQLITE_STATIC`): they must stay
    /// where they are until the statement is reset (`run()` resets it) or bound again.
    func bind(_ index: Int32, borrowedUTF8 buf: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no address; SQLite would read that as NULL.
        guard let base = buf.baseAddress, !buf.isEmpty else {
            sqlite3_bind_text(handle, index, "", 0, transient)
            return
        }
        base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
            _ = sqlite3_bind_text(handle, index, $0, Int32(buf.count), nil)
        }
    }

    /// Binds a vat ID as its text (`v1`; nil: NULL), without making that String.
    func bind(_ index: Int32, vat: VatID?) {
        guard let vat else { sqlite3_bind_null(handle, index); return }
        guard vat.number >= 0 else { return bind(index, vat.description) }
        DecimalText.with(vat.number, prefix: UInt8(ascii: "v")) { text in
            _ = sqlite3_bind_text(handle, index, text.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(text.count), transient)
        }
    }

    /// Binds bytes as a blob (nil: NULL).
    func bind(_ index: Int32, blob bytes: [UInt8]?) {
        guard let bytes else { sqlite3_bind_null(handle, index); return }
        bytes.withUnsafeBytes { _ = sqlite3_bind_blob(handle, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient) }
    }

    /// Binds a non-empty slice of UTF-8 bytes (a kref inside an event's JSON) as text.
    func bind(_ index: Int32, utf8 bytes: ArraySlice<UInt8>) {
        precondition(!bytes.isEmpty, "an empty slice may have no address; SQLite would read NULL")
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) {
                _ = sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient)
            }
        }
    }

    /// Steps once: true with a row to read, false when done. Resets itself on error.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.error(sqlite3_extended_errcode(connection.db), sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Steps to completion and resets, for statements that return no rows.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    /// Rows changed by the last `run()` of any statement on this connection.
    var changes: Int { Int(sqlite3_changes64(connection.db)) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    var columnCount: Int32 { sqlite3_column_count(handle) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    func text(_ column: Int32) -> String? {
        withText(column) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The column's text byte for byte; nil for NULL or for bytes that are not UTF-8 (which
    /// this store never writes: such a row is corrupt, not something to repair silently).
    func byteText(_ column: Int32) -> ByteString? {
        withText(column) { $0.flatMap { String(validating: $0, as: UTF8.self) }.map { ByteString($0) } }
    }

    /// The column's UTF-8 bytes without copying (nil for NULL), valid only inside `body`.
    func withText<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>?) throws -> T) rethrows -> T {
        guard let p = sqlite3_column_text(handle, column) else { return try body(nil) }
        let n = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeBufferPointer(start: p, count: n))
    }

    /// The column's bytes as a blob (nil for NULL).
    func blob(_ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let n = Int(sqlite3_column_bytes(handle, column))
        guard n > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    func finalize() {
        guard let s = stmt else { return }
        stmt = nil
        sqlite3_finalize(s)
    }
}
