import CSQLite

/// Why the store refused to open a file, load it, or commit to it.
///
/// Every case says which file and what to do about it; none of them is thrown after the
/// store wrote anything to a file it did not recognise as its own.
public enum KernelStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The database was written by a newer vatkernel; opening it here could lose data.
    case newerSchema(path: String, version: Int, supported: Int)
    /// The file is not a VatKernel database: another program's SQLite file, or not SQLite at all.
    case notAVatKernelDatabase(path: String, reason: String)
    /// SQLite found damage in the file, or a row the store cannot read back.
    case corrupt(path: String, detail: String)
    /// The file or its directory cannot be opened (missing directory, no permission).
    case cannotOpen(path: String, detail: String)
    /// The file, its directory or the file system is read-only: the write-ahead log cannot be kept.
    case readOnly(path: String, detail: String)
    /// The disk (or the database's size limit) is full; the crank or group was rolled back.
    case diskFull(path: String, detail: String)
    /// Another connection holds the database's write lock for longer than the busy timeout.
    case busy(path: String, detail: String)
    /// Cranks staged since the last flush were lost (SQLite rolled the group back after an
    /// error). The owner must undo them (`Kernel.undoGroup`), or reload the kernel from `load()`.
    case stagedCranksLost(path: String, cranks: Int, cause: String)
    /// `load()` while cranks are staged: flush them (or close) first.
    case unflushedCranks(path: String, cranks: Int)
    /// The store was closed.
    case closed(path: String)
    /// Any other SQLite failure: the operation, SQLite's extended result code and message.
    case sqlite(path: String, operation: String, code: Int32, message: String)

    /// One sentence naming the file, what is wrong and, where there is one, what to do.
    public var description: String {
        switch self {
        case .newerSchema(let path, let version, let supported):
            return "\(path): database schema version \(version) is newer than this vatkernel supports (\(supported)); use a newer vatkernel"
        case .notAVatKernelDatabase(let path, let reason):
            return "\(path) is not a VatKernel database (\(reason)); refusing to touch it"
        case .corrupt(let path, let detail):
            return "\(path) is corrupt: \(detail)"
        case .cannotOpen(let path, let detail):
            return "cannot open \(path): \(detail)"
        case .readOnly(let path, let detail):
            return "\(path) is read-only: \(detail)"
        case .diskFull(let path, let detail):
            return "\(path): disk full: \(detail)"
        case .busy(let path, let detail):
            return "\(path) is busy: \(detail)"
        case .stagedCranksLost(let path, let cranks, let cause):
            return "\(path): \(cranks) staged crank(s) were rolled back (\(cause)); undo them or reload the kernel from the store"
        case .unflushedCranks(let path, let cranks):
            return "\(path): load() with \(cranks) unflushed crank(s); flush() first"
        case .closed(let path):
            return "\(path): the store is closed"
        case .sqlite(let path, let operation, let code, let message):
            return "\(path): \(operation) failed: \(message) (SQLite code \(code))"
        }
    }

    /// Classifies a SQLite result code from `operation` on `path`.
    static func from(code: Int32, message: String, path: String, operation: String) -> KernelStoreError {
        let detail = "\(operation): \(message) (SQLite code \(code))"
        switch code & 0xFF {
        case SQLITE_NOTADB:
            return .notAVatKernelDatabase(path: path, reason: "not a SQLite database: \(message)")
        case SQLITE_CORRUPT:
            return .corrupt(path: path, detail: detail)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH:
            return .cannotOpen(path: path, detail: detail)
        case SQLITE_READONLY:
            return .readOnly(path: path, detail: detail)
        case SQLITE_FULL:
            return .diskFull(path: path, detail: detail)
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .busy(path: path, detail: detail)
        default:
            if code == SQLITE_IOERR | (2 << 8) {  // SQLITE_IOERR_SHORT_READ
                return .corrupt(path: path, detail: "the file is shorter than its header says (truncated?): \(detail)")
            }
            return .sqlite(path: path, operation: operation, code: code, message: message)
        }
    }
}
