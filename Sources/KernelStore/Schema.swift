/// The database layout and how to get there from any older version.
///
/// The version lives in the file header (`PRAGMA user_version`) and, for people, in the
/// `meta` table; `PRAGMA application_id` marks the file as VatKernel's. A new database is an
/// empty one migrated from version 0, so there is exactly one way tables come to exist.
///
/// Reading it while debugging (WAL mode: a reader never blocks the kernel):
/// ```
/// sqlite3 -readonly vatkernel.sqlite
///   SELECT * FROM counters;
///   SELECT kref, owner, reachable, recognizable FROM objects WHERE owner IS NULL;  -- orphans
///   SELECT * FROM clist WHERE vat = 'v1' ORDER BY vref;
///   SELECT kpid, state, decider, subscribers FROM promises WHERE state = 'unresolved';
///   SELECT id, queue_name, json_extract(event, '$.type') FROM queue ORDER BY id;
///   SELECT seq, crank, json_extract(delivery, '$.type') FROM deliveries WHERE vat = 'v2' ORDER BY seq;
///   SELECT crank, crank_hash, activity_hash FROM activity;
///   SELECT seq, crank, count, events FROM events ORDER BY seq DESC LIMIT 20;  -- a row per crank
/// ```
enum Schema {
    /// `PRAGMA application_id` of every VatKernel database: "VatK".
    static let applicationID: Int32 = 0x5661_744B

    /// The version this build writes.
    static var currentVersion: Int { migrations.count }

    /// One step from version `index` to `index + 1`: its SQL, then a step in code for what
    /// SQL cannot do (hashing).
    struct Migration: Sendable {
        let sql: String
        var rewrite: (@Sendable (SQLiteConnection) throws -> Void)? = nil
    }

    /// `migrations[n]` takes a database from version n to n+1, inside the opening transaction;
    /// each `versionN` says what its step changes.
    static let migrations: [Migration] = [
        Migration(sql: version1),  // the kernel's tables (KERNEL-SPEC §2)
        Migration(sql: version2),  // each vat's bearer token, kept with the crank that created the vat
        Migration(sql: version3),  // the last crank's crankHash and activityHash
        Migration(sql: version4),  // the event log
        Migration(sql: version5, rewrite: hashTokensInPlace),  // vat tokens kept as their SHA-256 only
        Migration(sql: version6),  // what each vat's driver acknowledged of its delivery log
        Migration(sql: version7),  // each vat's token hash in its vats row, no side table
        Migration(sql: version8),  // the krefs each event mentions, for GET /events?kref=
        Migration(sql: version9),  // the store indexes each event's krefs as it writes it
        Migration(sql: version10, rewrite: storeEventsWithoutEnvelope),  // events without what their columns hold
        Migration(sql: version11),  // a notify's resolution body kept once for all its subscribers
        Migration(sql: version12),  // the c-list rows of each kref, for its holders off the kernel thread
        Migration(sql: version13, rewrite: storeEventsPerCrank),  // one row of events per crank
    ]

    /// Krefs, vrefs and vat IDs are stored as their text (`ko21`, `o+d5/3`, `v1`), JSON
    /// columns hold `JSONWriter+KernelValues` forms. Objects and promises are keyed by the
    /// number of their kref, with the kref text as a generated column to query by.
    static let version1 = """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value ANY
        ) STRICT, WITHOUT ROWID;

        -- One row once the first crank is committed; none in a new store.
        CREATE TABLE counters (
            id            INTEGER PRIMARY KEY CHECK (id = 1),
            next_object   INTEGER NOT NULL,
            next_promise  INTEGER NOT NULL,
            next_vat      INTEGER NOT NULL,
            next_queue_id INTEGER NOT NULL,
            crank         INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE objects (
            id           INTEGER PRIMARY KEY,
            kref         TEXT GENERATED ALWAYS AS ('ko' || id) VIRTUAL,
            owner        TEXT,
            reachable    INTEGER NOT NULL,
            recognizable INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE promises (
            id          INTEGER PRIMARY KEY,
            kpid        TEXT GENERATED ALWAYS AS ('kp' || id) VIRTUAL,
            state       TEXT NOT NULL CHECK (state IN ('unresolved', 'fulfilled', 'rejected')),
            decider     TEXT,
            subscribers TEXT NOT NULL,
            queue       TEXT NOT NULL,
            data        TEXT,
            refcount    INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE vats (
            vat_id              TEXT PRIMARY KEY,
            name                TEXT NOT NULL,
            options             TEXT NOT NULL,
            incarnation         INTEGER NOT NULL,
            status              TEXT NOT NULL CHECK (status IN ('running', 'terminated')),
            termination         TEXT,
            vat_parameters      TEXT NOT NULL,
            next_object_import  INTEGER NOT NULL,
            next_promise_import INTEGER NOT NULL,
            next_device_import  INTEGER NOT NULL,
            cleaned_up          INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE clist (
            vat       TEXT NOT NULL,
            kref      TEXT NOT NULL,
            vref      TEXT NOT NULL,
            reachable INTEGER NOT NULL,
            PRIMARY KEY (vat, kref),
            UNIQUE (vat, vref)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE vatstore (
            vat   TEXT NOT NULL,
            key   TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (vat, key)
        ) STRICT, WITHOUT ROWID;

        -- All three queues; id is the kernel's queue id, so id order is queue order.
        CREATE TABLE queue (
            id         INTEGER PRIMARY KEY,
            queue_name TEXT NOT NULL CHECK (queue_name IN ('acceptance', 'run', 'reap')),
            event      TEXT NOT NULL
        ) STRICT;

        CREATE TABLE gc_actions (
            action TEXT PRIMARY KEY
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE pins (
            kref  TEXT PRIMARY KEY,
            count INTEGER NOT NULL CHECK (count > 0)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE held_results (
            kpid TEXT PRIMARY KEY
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE deliveries (
            vat      TEXT NOT NULL,
            seq      INTEGER NOT NULL,
            crank    INTEGER NOT NULL,
            delivery TEXT NOT NULL,
            PRIMARY KEY (vat, seq)
        ) STRICT, WITHOUT ROWID;

        INSERT INTO meta (key, value) VALUES ('application', 'vatkernel');
        """

    /// The service's bearer token for each vat, in plain text until version 5.
    static let version2 = """
        CREATE TABLE vat_tokens (
            vat   TEXT PRIMARY KEY,
            token TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;
        """

    /// Version 5 keeps only each token's SHA-256 (`TokenHash.hex`): a copy of the file (a
    /// backup, a stray read) gives nobody a vat's authority. The column says what it holds.
    static let version5 = """
        ALTER TABLE vat_tokens RENAME COLUMN token TO token_sha256;
        """

    /// Version 6: the seq through which a vat's driver acknowledged its deliveries
    /// (`VatRecord.deliveriesAcknowledged`); acknowledged rows may have been deleted.
    static let version6 = """
        ALTER TABLE vats ADD COLUMN deliveries_acknowledged INTEGER NOT NULL DEFAULT 0;
        """

    /// Version 7: the token hash moves into the vat's own row (`VatRecord.tokenHash`), written
    /// with the crank that created the vat like the rest of it; `vat_tokens` goes. Rows of vats
    /// whose creation never committed are dropped with it.
    static let version7 = """
        ALTER TABLE vats ADD COLUMN token_sha256 TEXT;
        UPDATE vats SET token_sha256 = (SELECT token_sha256 FROM vat_tokens WHERE vat_tokens.vat = vats.vat_id);
        DROP TABLE vat_tokens;
        """

    /// Version 8: every kref an event mentions, so `GET /events?kref=` is an index lookup.
    ///
    /// Filled by triggers from the event's JSON itself: any string in it (a field, an element
    /// of a capdata `slots` array, anywhere) that is a canonical kref (`koN`, `kpN`, `kdN`).
    /// So every event type, whoever writes it, is indexed without the writer knowing;
    /// deleting an event (retention) deletes its rows. Events already logged are indexed here.
    static let version8 = """
        CREATE TABLE event_krefs (
            kref TEXT NOT NULL,
            seq  INTEGER NOT NULL,
            PRIMARY KEY (kref, seq)
        ) STRICT, WITHOUT ROWID;
        CREATE TRIGGER events_index_krefs AFTER INSERT ON events BEGIN
            INSERT OR IGNORE INTO event_krefs (kref, seq)
                SELECT value, NEW.seq FROM json_tree(NEW.event) WHERE \(krefTest);
        END;
        CREATE TRIGGER events_unindex_krefs AFTER DELETE ON events BEGIN
            DELETE FROM event_krefs WHERE seq = OLD.seq
                AND kref IN (SELECT value FROM json_tree(OLD.event) WHERE \(krefTest));
        END;
        INSERT OR IGNORE INTO event_krefs (kref, seq)
            SELECT value, seq FROM (SELECT seq, event AS logged FROM events), json_tree(logged) WHERE \(krefTest);
        """

    /// Version 9: the store fills `event_krefs` itself as it writes each event (`EventLog`), by
    /// the same rule (`EventLog.krefs(in:)`): the insert trigger's `json_tree` over every event
    /// cost more than the rest of the event log. Deleting an event still unindexes it.
    static let version9 = "DROP TRIGGER events_index_krefs;"

    /// Version 10: an event's `event` keeps only its fields, and `crank-finish`'s hashes are
    /// the 64-byte `hashes` blob (`StoredEvent`): the log writes 40% fewer bytes per crank.
    /// Events already logged are rewritten so (`storeEventsWithoutEnvelope`).
    static let version10 = "ALTER TABLE events ADD COLUMN hashes BLOB;"

    /// Version 11: a value delivered to many vats is stored once (`StoredDelivery`). A notify's
    /// resolution body of 128 bytes or more goes to `delivery_values`, keyed by its SHA-256 and
    /// counted by the rows whose `value_refs` name it; deleting such a row releases its values,
    /// and a value no row refers to is deleted with it. Existing rows stay as they are (whole).
    static let version11 = """
        CREATE TABLE delivery_values (
            sha256 TEXT PRIMARY KEY,
            body   TEXT NOT NULL,
            refs   INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        ALTER TABLE deliveries ADD COLUMN value_refs TEXT;
        CREATE TRIGGER deliveries_release_values AFTER DELETE ON deliveries
        WHEN OLD.value_refs IS NOT NULL BEGIN
            UPDATE delivery_values SET refs = refs - 1 WHERE sha256 IN (SELECT value FROM json_each(OLD.value_refs));
            DELETE FROM delivery_values WHERE refs <= 0 AND sha256 IN (SELECT value FROM json_each(OLD.value_refs));
        END;
        """

    /// Version 12: the c-list rows that name a kref, found by an index lookup instead of a scan
    /// of every vat's c-list (the primary key leads with the vat): a reader thread answers
    /// `GET /objects/{kref}` and `GET /promises/{kpid}` with their holders (`SQLiteReader.holders`).
    static let version12 = "CREATE INDEX clist_by_kref ON clist (kref);"

    /// Version 13: a crank's events are one row of `events` (`StoredEvent`, `EventRow`). The
    /// first vat its events are about is the row's `vat` (`events_by_vat`); `event_keys` lists
    /// the row under every other vat and every kref they mention (`keys` holds the same list,
    /// so deleting a row unindexes it). `vat=` reads both, `kref=` the keys; `event_krefs` goes.
    /// The events already logged are regrouped by crank (`storeEventsPerCrank`).
    static let version13 = """
        DROP TRIGGER events_unindex_krefs;
        DROP INDEX events_by_vat;
        ALTER TABLE events RENAME TO events_v12;
        CREATE TABLE events (
            seq    INTEGER PRIMARY KEY,
            crank  INTEGER NOT NULL,
            count  INTEGER NOT NULL CHECK (count > 0),
            vat    TEXT,
            events TEXT NOT NULL,
            keys   TEXT NOT NULL,
            hashes BLOB
        ) STRICT;
        CREATE INDEX events_by_vat ON events (vat, seq) WHERE vat IS NOT NULL;
        CREATE TABLE event_keys (
            key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (key, seq)
        ) STRICT, WITHOUT ROWID;
        CREATE TRIGGER events_unindex AFTER DELETE ON events BEGIN
            DELETE FROM event_keys WHERE seq = OLD.seq AND key IN (SELECT value FROM json_each(OLD.keys));
        END;
        """

    /// Regroups the version-12 events (one row each) into one row per crank, as the store
    /// writes them now: consecutive events of the same crank are one row. Then the old table
    /// and its index go.
    static func storeEventsPerCrank(_ c: SQLiteConnection) throws {
        let read = try c.prepare("SELECT seq, crank, type, vat, event, hashes FROM events_v12 ORDER BY seq")
        defer { read.finalize() }
        let insert = try c.prepare(EventRow.insertSQL)
        defer { insert.finalize() }
        let insertKey = try c.prepare(EventRow.keySQL)
        defer { insertKey.finalize() }
        var row: (crank: Int, events: EventRow)?
        while try read.step() {
            let seq = read.int(0), crank = read.int(1)
            if let r = row, r.crank != crank || r.events.firstSeq + r.events.count != seq {
                try r.events.insert(crank: r.crank, insert, insertKey)
                row = nil
            }
            if row == nil { row = (crank, EventRow(firstSeq: seq)) }
            row?.events.add(type: read.text(2) ?? "", vat: read.text(3), body: read.withText(4) { $0.map(Array.init) ?? [] },
                            hashes: read.blob(5))
        }
        read.reset()
        if let r = row { try r.events.insert(crank: r.crank, insert, insertKey) }
        try c.execute("DROP TABLE events_v12; DROP TABLE event_krefs;")
    }

    /// Rewrites every event stored whole (versions 4–9) into its version-10 form, a thousand at
    /// a time; an event that is not exactly what version 10 rebuilds stops the migration.
    static func storeEventsWithoutEnvelope(_ c: SQLiteConnection) throws {
        let read = try c.prepare("SELECT seq, crank, type, event FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1000")
        defer { read.finalize() }
        let write = try c.prepare("UPDATE events SET event = ?2, hashes = ?3 WHERE seq = ?1")
        defer { write.finalize() }
        var after = Int.min
        while true {
            read.bind(1, after)
            var rows: [(seq: Int, body: [UInt8], hashes: [UInt8]?)] = []
            while try read.step() {
                let seq = read.int(0), crank = read.int(1), type = read.text(2) ?? ""
                let full = read.withText(3) { $0.map(Array.init) ?? [] }
                guard let (body, hashes) = StoredEvent.split(full, seq: seq, crank: crank, type: type) else {
                    read.reset()
                    throw KernelStoreError.corrupt(path: c.path, detail: "event \(seq) is not the event its seq, crank and type say (schema version 10 cannot rewrite it)")
                }
                rows.append((seq, body, hashes))
            }
            read.reset()
            guard let last = rows.last else { return }
            for row in rows {
                write.bind(1, row.seq)
                write.bind(2, utf8: row.body)
                write.bind(3, blob: row.hashes)
                try write.run()
            }
            after = last.seq
        }
    }

    /// A `json_tree` row that is a string holding a canonical kref, as `KRef.init?(_:)` reads
    /// one: `k`, `o`/`p`/`d`, then `0` or digits without a leading zero (below 2^56).
    static let krefTest = """
        type = 'text' AND length(value) BETWEEN 3 AND 19 AND value GLOB 'k[opd][0-9]*'
        AND substr(value, 3) NOT GLOB '*[^0-9]*' AND (substr(value, 3, 1) != '0' OR length(value) = 3)
        """

    /// Hashes every token a version-4 database kept in plain text, in place.
    static func hashTokensInPlace(_ c: SQLiteConnection) throws {
        let read = try c.prepare("SELECT vat, token_sha256 FROM vat_tokens")
        var rows: [(String, String)] = []
        while try read.step() {
            guard let vat = read.text(0), let token = read.text(1) else { continue }
            rows.append((vat, token))
        }
        read.finalize()
        let write = try c.prepare("UPDATE vat_tokens SET token_sha256 = ?2 WHERE vat = ?1")
        defer { write.finalize() }
        for (vat, token) in rows {
            write.bind(1, vat)
            write.bind(2, TokenHash.hex(token.utf8))
            try write.run()
        }
    }

    /// The last committed crank's hashes (`CrankHashes`), written in the crank's own savepoint.
    /// A database migrated from version 2 has no row until its next crank: its chain starts
    /// there, from the empty activity hash.
    static let version3 = """
        CREATE TABLE activity (
            id            INTEGER PRIMARY KEY CHECK (id = 1),
            crank         INTEGER NOT NULL,
            crank_hash    TEXT NOT NULL,
            activity_hash TEXT NOT NULL
        ) STRICT;
        """

    /// The event log: one row per event, the whole event as JSON in `event`; `type` and
    /// `vat` are kept apart for the filters of `GET /events`.
    static let version4 = """
        CREATE TABLE events (
            seq   INTEGER PRIMARY KEY,
            crank INTEGER NOT NULL,
            type  TEXT NOT NULL,
            vat   TEXT,
            event TEXT NOT NULL
        ) STRICT;
        CREATE INDEX events_by_vat ON events (vat, seq) WHERE vat IS NOT NULL;
        """

    /// The tables a database of the current version has, to tell ours from a stranger's.
    static let tables: Set<String> = [
        "meta", "counters", "objects", "promises", "vats", "clist", "vatstore", "queue",
        "gc_actions", "pins", "held_results", "deliveries", "activity", "events",
        "event_keys", "delivery_values",
    ]
}
