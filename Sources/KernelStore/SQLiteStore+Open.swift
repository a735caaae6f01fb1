import CSQLite

/// Opening a file safely: look at it read-only first, and write nothing (not even the WAL
/// switch) until it is known to be an empty file or a VatKernel database we can read.
extension SQLiteStore {
    static func isMemory(_ path: String) -> Bool { path == ":memory:" || path.isEmpty }

    /// Opens the read-write connection, checked, configured and migrated.
    static func openChecked(path: String, durability: Durability) throws -> SQLiteConnection {
        if !isMemory(path) {
            if let size = FileChecks.size(path) {
                if FileChecks.isDirectory(path) {
                    throw KernelStoreError.cannotOpen(path: path, detail: "it is a directory")
                }
                // A read-only look first: a stranger's WAL-mode file is not even checkpointed
                // when this connection closes, so its bytes stay as they were.
                if size > 0 {
                    guard FileChecks.hasSQLiteHeader(path) else {
                        throw KernelStoreError.notAVatKernelDatabase(path: path, reason: "not a SQLite database: it does not start with the SQLite header")
                    }
                    let ro = try withDirectoryCheck(path) {
                        try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY)
                    }
                    defer { ro.close() }
                    _ = try withDirectoryCheck(path) { try inspect(ro) }
                }
            } else if let why = FileChecks.whyNotWritable(FileChecks.directory(of: path)) {
                if FileChecks.isDirectory(FileChecks.directory(of: path)) {
                    throw KernelStoreError.readOnly(path: path, detail: "cannot create the database: \(why)")
                }
                throw KernelStoreError.cannotOpen(path: path, detail: "cannot create the database: \(why)")
            } else if let why = FileChecks.createOwnerOnly(path) {
                throw KernelStoreError.cannotOpen(path: path, detail: "cannot create the database: \(why)")
            }
            FileChecks.restrictToOwner(path)
        }
        let c = try withDirectoryCheck(path) {
            try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        }
        do {
            try withDirectoryCheck(path) { try configure(c, durability: durability) }
            return c
        } catch {
            c.close()
            throw error
        }
    }

    /// Rewrites errors met while opening as "read-only" when the file or its directory cannot
    /// be written: SQLite then reports a failure to open the WAL, which hides the cause.
    private static func withDirectoryCheck<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as KernelStoreError {
            guard !isMemory(path) else { throw e }
            switch e {
            case .cannotOpen(_, let detail), .sqlite(_, _, _, let detail):
                if let why = FileChecks.whyNotReadable(path) {
                    throw KernelStoreError.cannotOpen(path: path, detail: "\(why) (\(detail))")
                }
                if let why = FileChecks.whyNotWritable(FileChecks.directory(of: path)) {
                    throw KernelStoreError.readOnly(path: path, detail: "\(why) (\(detail))")
                }
                if let why = FileChecks.whyFileNotWritable(path) {
                    throw KernelStoreError.readOnly(path: path, detail: "\(why) (\(detail))")
                }
                throw e
            default:
                throw e
            }
        }
    }

    /// Refuses what is not ours, checks the version, switches to WAL, migrates.
    private static func configure(_ c: SQLiteConnection, durability: Durability) throws {
        if c.isReadOnly {
            let why = FileChecks.whyFileNotWritable(c.path) ?? "SQLite opened it read-only"
            throw KernelStoreError.readOnly(path: c.path, detail: why)
        }
        sqlite3_busy_timeout(c.db, busyTimeoutMilliseconds)
        var version = try inspect(c)
        if !isMemory(c.path) {
            let mode = try c.strings("PRAGMA journal_mode = WAL").first ?? ""
            guard mode.lowercased() == "wal" else {
                throw KernelStoreError.cannotOpen(path: c.path, detail: "cannot switch to WAL mode (journal mode is \(mode))")
            }
        }
        try c.execute("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        // Bigger than the default 2 MB: a million-object kernel touches pages all over.
        try c.execute("PRAGMA cache_size = -32768")
        try c.execute("PRAGMA journal_size_limit = 67108864")
        // Each crank's savepoint keeps the pages it changes that the group changed before (to
        // roll the crank back alone); past 64 KiB SQLite spills that journal to a temporary
        // file, so a crank of a group then pays a write(2) for each such page. With the event
        // log a crank passes that mark, and its crank rate halved (Benchmarks/README.md, "What
        // the event log costs"). In memory it costs at most the pages one crank touches. (Sorts
        // and temporary tables live in memory too; this store's queries page through indexes.)
        try c.execute("PRAGMA temp_store = MEMORY")
        if version < Schema.currentVersion {
            try c.execute("BEGIN IMMEDIATE", operation: "begin the schema migration")
            do {
                // Again, now that we hold the write lock: nobody changed it since we looked.
                version = try inspect(c)
                for v in version..<Schema.currentVersion {
                    try c.execute(Schema.migrations[v].sql, operation: "migrate the schema to version \(v + 1)")
                    try Schema.migrations[v].rewrite?(c)
                }
                let to = Schema.currentVersion
                try c.execute("""
                    PRAGMA application_id = \(Schema.applicationID);
                    PRAGMA user_version = \(to);
                    INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', \(to));
                    COMMIT;
                    """, operation: "record schema version \(to)")
            } catch {
                if !c.isAutocommit { try? c.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// The schema version of the database on `c`: 0 for an empty database we may set up,
    /// else the version of a VatKernel database this build can use. Throws for anything else.
    static func inspect(_ c: SQLiteConnection) throws -> Int {
        let appID = try c.integer("PRAGMA application_id") ?? 0
        let version = try c.integer("PRAGMA user_version") ?? 0
        let names = try c.strings("SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        if appID == Int(Schema.applicationID) {
            if version > Schema.currentVersion {
                throw KernelStoreError.newerSchema(path: c.path, version: version, supported: Schema.currentVersion)
            }
            guard version > 0 else {
                throw KernelStoreError.corrupt(path: c.path, detail: "marked as a VatKernel database but has no schema version")
            }
            let recorded = try c.integer("SELECT value FROM meta WHERE key = 'schema_version'")
            guard recorded == version else {
                throw KernelStoreError.corrupt(path: c.path, detail: "header says schema version \(version), meta table says \(recorded.map(String.init) ?? "nothing")")
            }
            if version == Schema.currentVersion {
                let missing = Schema.tables.subtracting(names)
                guard missing.isEmpty else {
                    throw KernelStoreError.corrupt(path: c.path, detail: "tables missing: \(missing.sorted().joined(separator: ", "))")
                }
            }
            return version
        }
        if appID == 0, version == 0, names.isEmpty { return 0 }
        if appID != 0 {
            throw KernelStoreError.notAVatKernelDatabase(path: c.path, reason: "a SQLite database of another application (application_id \(appID))")
        }
        let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
        throw KernelStoreError.notAVatKernelDatabase(path: c.path, reason: names.isEmpty
            ? "a SQLite database with user_version \(version)"
            : "a SQLite database with other tables: \(shown)")
    }
}
