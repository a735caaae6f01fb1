import CSQLite
import VatKernel

/// The kernel's state in a SQLite database: every table of `KernelState` as a real table a
/// person can query with the `sqlite3` command line (see `Schema`).
///
/// Cranks are grouped: `commit(_:)` writes a crank's delta inside a savepoint of the open
/// group transaction (opening it with `BEGIN IMMEDIATE` if needed), so a crank that fails
/// leaves no row behind; `flush()` commits the group, and only then are its cranks durable.
/// WAL mode; statements are prepared once for the life of the store. Not thread-safe: one
/// owner drives it, as it drives the kernel.
public final class SQLiteStore: KernelStorage {
    /// How hard a flush works to survive power loss (`PRAGMA synchronous`).
    public enum Durability: String, Hashable, Sendable, CaseIterable {
        /// `FULL`: each flush is on disk when it returns; survives power loss.
        case full
        /// `NORMAL`: survives a crash of the process, but a power loss may lose the last
        /// flushes (never corrupt the database). Much faster per flush.
        case normal
    }

    /// The schema version this build writes (`PRAGMA user_version`), as `GET /version` reports it.
    public static var schemaVersion: Int { Schema.currentVersion }

    /// The database file (or `:memory:`).
    public let path: String
    /// Set at open for the life of the store.
    public let durability: Durability
    /// True for a throwaway store (`:memory:`), which no other connection can read.
    public var isInMemory: Bool { Self.isMemory(path) }
    /// Cranks committed into the open group and not yet flushed.
    public private(set) var stagedCranks = 0
    /// The hashes of the last crank committed (staged or flushed); nil before the first
    /// crank of a new store, or of one migrated from before hashes were kept.
    public internal(set) var hashes: CrankHashes?
    /// The seq the next event gets (see `SQLiteStore+Events`).
    var nextEventSeq = 1
    /// How much of the event log to keep (`EventRetention`); nil (the default) keeps it all.
    public var eventRetention: EventRetention?
    /// Most events one pruning step deletes (one step per flush).
    public var pruneBatch = 2_000
    /// The log's bytes of JSON and the seq they are counted through (byte retention only);
    /// nil until first counted, and again after a failed flush.
    var eventBytes: (Int, Int)?
    /// False: cranks write no events (StoreBench measures what the event log costs with it).
    public var writesEvents = true
    /// `hashes`, `nextEventSeq` and `eventBytes` as of the last durable point (taken when a
    /// group begins): what a lost group puts back, so that memory matches the disk again.
    private var durablePoint: Bookkeeping?

    var connection: SQLiteConnection?
    var statements: Statements?
    /// Set when SQLite rolled back a group that held staged cranks; `flush()` reports it.
    var lostGroup: KernelStoreError?
    /// Test hook: the delta write throws after this many row writes.
    var failAfterWrites: Int?
    /// Test hook: the next flush fails before its COMMIT and leaves the transaction open, as
    /// a COMMIT that fails with an I/O error may.
    var failNextCommit = false
    /// Test hook: `ROLLBACK TO` and `ROLLBACK` are taken as failed (without being run), as
    /// SQLite reports them when the disk is gone.
    var simulateFailedRollback = false
    /// Set when a rollback failed and the connection was dropped: `open()` opens a new one.
    var mustReconnect = false

    /// How long to wait for another connection's write lock before failing.
    static let busyTimeoutMilliseconds: Int32 = 5_000

    /// Opens (or creates) the database at `path`; `":memory:"` for a throwaway store.
    ///
    /// A file that is not a VatKernel database, is from a newer version, is corrupt, or
    /// cannot be written is refused with a `KernelStoreError` before anything is written to it.
    /// An older schema is migrated in one transaction.
    public init(path: String, durability: Durability = .full) throws {
        self.path = path
        self.durability = durability
        let c = try Self.openChecked(path: path, durability: durability)
        connection = c
        do {
            statements = try Statements(c)
        } catch {
            c.close()
            throw error
        }
    }

    deinit { close() }

    /// The open connection and its statements, or `.closed`.
    func open() throws -> (SQLiteConnection, Statements) {
        reconnectIfNeeded()
        guard let c = connection, let s = statements else { throw KernelStoreError.closed(path: path) }
        return (c, s)
    }

    // MARK: KernelStorage

    /// Writes one crank's delta into the open group, atomically: on any error nothing of
    /// this crank stays, the error is rethrown, and the kernel rolls the crank back.
    public func commit(_ delta: CrankDelta) throws {
        let (c, s) = try open()
        if let lost = lostGroup { throw lost }
        if c.isAutocommit {
            try s.begin.run()
            durablePoint = bookkeeping
        }
        let next: CrankHashes
        let firstEventSeq = nextEventSeq
        var inSavepoint = false
        do {
            let hashBytes: [UInt8]
            (next, hashBytes) = try CrankHashes.computed(delta, after: hashes)
            // The events go in before the crank's savepoint opens: SQLite copies every page a
            // savepoint changes into its journal first, and the event log's pages (the last
            // leaves of `events`, `events_by_vat` and `event_keys`) are pages each crank of a
            // group changes again. A crank that fails takes its events out (`abandonCrank`).
            if writesEvents { try writeEvents(delta, hashBytes, s) }
            try s.savepoint.run()
            inSavepoint = true
            try write(delta, s)
            try write(next, s)
            try s.release.run()
        } catch {
            nextEventSeq = firstEventSeq
            abandonCrank(error, c, s, inSavepoint: inSavepoint, eventsFrom: firstEventSeq)
            throw error
        }
        hashes = next
        stagedCranks += 1
    }

    /// Commits the open group: every crank committed since the last flush becomes durable
    /// (per `durability`). If COMMIT fails the group is rolled back, the store's bookkeeping
    /// (crank hashes, event seq, retention counts) goes back to the last durable point with it,
    /// and the error is thrown: the owner must undo the group's cranks (`Kernel.undoGroup`).
    public func flush() throws {
        let (c, s) = try open()
        if let lost = lostGroup {
            lostGroup = nil
            groupEnded(durable: false)
            throw lost
        }
        guard !c.isAutocommit else {
            groupEnded(durable: true)
            return
        }
        do {
            try pruneEventsStep(c)
            if failNextCommit {
                failNextCommit = false
                throw InjectedFault(description: "injected failure of COMMIT")
            }
            try s.commit.run()
        } catch {
            rollBackGroup(c, s)
            groupEnded(durable: false)
            throw error
        }
        groupEnded(durable: true)
    }

    /// The WAL size past which `restartWALIfLarge` checkpoints and truncates it.
    public static let walRestartBytes = 16 << 20
    /// How long that checkpoint waits for readers still on older snapshots.
    static let walRestartWaitMilliseconds: Int32 = 50
    /// How much the WAL grows after a failed restart (readers did not finish in time) before
    /// the next try, so that a busy reader costs one wait, not one per group.
    public static let walRestartRetryBytes = walRestartBytes / 4
    /// The WAL size when a restart last failed.
    private var walRestartFailedAt: Int?

    /// Keeps the WAL bounded while other connections read (`SQLiteReader`): SQLite's own
    /// checkpoint after a commit copies the WAL back into the file but can start the WAL over
    /// only at a moment when no reader is using it, and readers that never all pause together
    /// let it grow without end (100 MB in 8 s of reads against small changes). Past
    /// `walRestartBytes` the store runs a TRUNCATE checkpoint, which waits (at most
    /// `walRestartWaitMilliseconds`) for the readers of older snapshots to finish (they take
    /// milliseconds; new ones read from the file) and empties the WAL. Without readers the WAL
    /// stays near SQLite's 1,000-page checkpoint mark and this never runs but after a group
    /// bigger than the bound.
    ///
    /// The owner calls it between groups, after answering (the kernel thread does, after each
    /// flush), so that no answer waits for it. Outside a group only.
    public func restartWALIfLarge() {
        guard let c = connection, c.isOpen, c.isAutocommit, !isInMemory, let size = FileChecks.size(path + "-wal"),
              size > Self.walRestartBytes, size > (walRestartFailedAt ?? 0) + Self.walRestartRetryBytes else { return }
        sqlite3_busy_timeout(c.db, Self.walRestartWaitMilliseconds)
        defer { sqlite3_busy_timeout(c.db, Self.busyTimeoutMilliseconds) }
        let rc = sqlite3_wal_checkpoint_v2(c.db, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        walRestartFailedAt = rc == SQLITE_OK ? nil : size
    }

    /// Rolls the open group transaction back, so that the file holds the last durable point.
    ///
    /// If even ROLLBACK fails (an I/O error on a dying disk), the connection would stay inside
    /// a transaction holding the lost group, and the next crank's savepoint would build on it:
    /// a later flush would make durable what the kernel has undone. So the connection is
    /// closed instead (SQLite rolls back the transaction of a connection it closes, and a
    /// transaction that never committed is not in the file) and a fresh one is opened on the
    /// file. If that fails too, the store stays without a connection: every call throws
    /// `.closed` until `open()` manages to reopen it.
    private func rollBackGroup(_ c: SQLiteConnection, _ s: Statements) {
        guard !c.isAutocommit else { return }
        if !simulateFailedRollback, (try? s.rollback.run()) != nil, c.isAutocommit { return }
        dropConnection()
        reconnectIfNeeded()
    }

    /// Closes the connection (rolling back its transaction) and remembers to open a new one.
    private func dropConnection() {
        statements?.finalizeAll()
        statements = nil
        connection?.close()
        connection = nil
        mustReconnect = !Self.isMemory(path)
    }

    /// Opens a fresh connection if `rollBackGroup` dropped the last one; a failure leaves
    /// the store closed, to be tried again at the next call.
    func reconnectIfNeeded() {
        guard mustReconnect, connection == nil else { return }
        guard let c = try? Self.openChecked(path: path, durability: durability) else { return }
        guard let s = try? Statements(c) else {
            c.close()
            return
        }
        (connection, statements, mustReconnect) = (c, s, false)
    }

    /// Closes the database. Cranks not flushed are rolled back, as if the process had died.
    public func close() {
        if let c = connection, c.isOpen, !c.isAutocommit { try? statements?.rollback.run() }
        statements?.finalizeAll()
        statements = nil
        connection?.close()
        connection = nil
        mustReconnect = false
        groupEnded(durable: false)
    }

    /// What the store keeps in memory about the log and the hash chain.
    private struct Bookkeeping {
        var hashes: CrankHashes?
        var nextEventSeq: Int
        var eventBytes: (Int, Int)?
    }

    private var bookkeeping: Bookkeeping {
        get { Bookkeeping(hashes: hashes, nextEventSeq: nextEventSeq, eventBytes: eventBytes) }
        set { (hashes, nextEventSeq, eventBytes) = (newValue.hashes, newValue.nextEventSeq, newValue.eventBytes) }
    }

    /// The group transaction is over: committed (`durable`, its bookkeeping is the new durable
    /// point) or rolled back (the bookkeeping goes back to the durable point).
    private func groupEnded(durable: Bool) {
        if !durable, let point = durablePoint { bookkeeping = point }
        durablePoint = nil
        stagedCranks = 0
    }

    /// Undoes the failed crank's writes. If SQLite already rolled back the whole group (it
    /// does for a full disk or an I/O error), earlier staged cranks are gone too: remember
    /// that, so `flush()` tells the owner to reload instead of acknowledging them.
    private func abandonCrank(_ error: any Error, _ c: SQLiteConnection, _ s: Statements, inSavepoint: Bool, eventsFrom firstEventSeq: Int) {
        if !c.isAutocommit {
            do {
                if simulateFailedRollback { throw error }
                if inSavepoint {
                    try s.rollbackTo.run()
                    try s.release.run()
                }
                // The crank's events were written before its savepoint (`commit`).
                s.dropEventsFrom.bind(1, firstEventSeq)
                try s.dropEventsFrom.run()
                // Nothing staged: end the empty group now rather than hold the write lock
                // until a flush the owner has no reason to call.
                if stagedCranks == 0 {
                    try s.rollback.run()
                    groupEnded(durable: false)
                }
                return
            } catch {
                rollBackGroup(c, s)
            }
        }
        if stagedCranks > 0 {
            lostGroup = .stagedCranksLost(path: path, cranks: stagedCranks, cause: String(describing: error))
        }
        groupEnded(durable: false)
    }
}
