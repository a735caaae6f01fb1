#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file-system questions the store asks before letting SQLite near a file.
enum FileChecks {
    /// The file's size, or nil if nothing exists at `path`.
    static func size(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    /// True if the file starts with SQLite's 16-byte magic string `SQLite format 3\0`.
    /// SQLite itself takes a file shorter than its header for an empty database and would
    /// overwrite it, so a non-empty file must show the magic before SQLite may open it.
    static func hasSQLiteHeader(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return true }  // unreadable: let SQLite report why
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &header, 16)
        return n == 16 && header == Array("SQLite format 3\0".utf8)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The directory holding `path` (where SQLite keeps the `-wal` and `-shm` files).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Why files cannot be created in `directory`, or nil if they can. As root only a
    /// read-only file system stops it: permission bits do not apply.
    static func whyNotWritable(_ directory: String) -> String? {
        guard isDirectory(directory) else { return "directory \(directory) does not exist" }
        if access(directory, W_OK) == 0 { return nil }
        let reason = errno == EROFS ? "is on a read-only file system" : "is not writable"
        return "directory \(directory) \(reason), so the write-ahead log (-wal, -shm) cannot be created there"
    }

    /// Why the existing file at `path` cannot be read, or nil if it can (or does not exist).
    static func whyNotReadable(_ path: String) -> String? {
        guard size(path) != nil, access(path, R_OK) != 0 else { return nil }
        return "the file cannot be read: \(String(cString: strerror(errno)))"
    }

    /// Creates an empty database file readable and writable by its owner only (0600), whatever
    /// the umask. SQLite gives the `-wal`, `-shm` and `-journal` files it creates the mode of
    /// the database file, so they are owner-only too. Nil on success, else why not.
    static func createOwnerOnly(_ path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        return fchmod(fd, 0o600) == 0 ? nil : String(cString: strerror(errno))
    }

    /// Takes group and other permissions away from the database and its side files, for a
    /// database an older version created 0644 (the files hold every vat's token). Only files
    /// this process owns; anything else is left as it is.
    static func restrictToOwner(_ path: String) {
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] {
            var st = stat()
            guard stat(file, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o077 != 0 else { continue }
            _ = chmod(file, st.st_mode & 0o700)
        }
    }

    /// Why the file at `path` cannot be written, or nil if it can.
    static func whyFileNotWritable(_ path: String) -> String? {
        if access(path, W_OK) == 0 { return nil }
        return errno == EROFS ? "the file is on a read-only file system" : "the file is write-protected"
    }
}
