import CSQLite
import VatKernel

/// A read-only connection to a store's database file, for answering reads off the kernel
/// thread (issue 9 part 3): each answer is read inside one `snapshot(_:)`, a WAL read
/// transaction, so it sees the last committed group and nothing of one still being written.
///
/// Rows come back as the core's own values (`VatRecord`, `KernelObject`, `CListEntry`, …),
/// decoded by the same readers `SQLiteStore.load()` uses, so whoever renders them renders
/// exactly what it would from the kernel's memory. Used by one thread at a time; statements
/// are prepared once for the life of the connection.
public final class SQLiteReader {
    public let path: String
    private let connection: SQLiteConnection
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens `path` read-only. The file must be a store of this version, already opened (and
    /// migrated) by its `SQLiteStore`: it is in WAL mode, so reading never blocks its writer.
    public init(path: String) throws {
        self.path = path
        connection = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY)
        sqlite3_busy_timeout(connection.db, SQLiteStore.busyTimeoutMilliseconds)
        do {
            let version = try SQLiteStore.inspect(connection)
            guard version == Schema.currentVersion else {
                throw KernelStoreError.cannotOpen(path: path, detail: "a reader needs schema version \(Schema.currentVersion), the file has \(version)")
            }
            // Pages straight from the file's mapping instead of a read(2) and a copy each: a
            // c-list page is a thousand index lookups. WAL frames are still read as before.
            try connection.execute("PRAGMA mmap_size = 268435456")
            try connection.execute("PRAGMA cache_size = -8192")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public func close() {
        guard connection.isOpen else { return }
        if !connection.isAutocommit { try? connection.execute("ROLLBACK") }
        for s in statements.values { s.finalize() }
        statements = [:]
        connection.close()
    }

    /// Runs `body` inside one read transaction: every read it makes sees the same committed
    /// state. A malformed row is `KernelStoreError.corrupt`, as at load.
    public func snapshot<T>(_ body: () throws -> T) throws -> T {
        try connection.execute("BEGIN", operation: "begin a read")
        defer { if !connection.isAutocommit { try? connection.execute("COMMIT") } }
        do {
            return try body()
        } catch let e as RowError {
            throw KernelStoreError.corrupt(path: path, detail: e.description)
        }
    }

    private func statement(_ sql: String) throws -> SQLiteStatement {
        if let s = statements[sql] { return s }
        let s = try connection.prepare(sql)
        statements[sql] = s
        return s
    }

    /// Runs `sql` with `bind`, and calls `body` for each row.
    private func rows(_ sql: String, bind: (SQLiteStatement) -> Void = { _ in }, _ body: (SQLiteStatement) throws -> Void) throws {
        let q = try statement(sql)
        defer { q.reset() }
        bind(q)
        while try q.step() { try body(q) }
    }

    // MARK: Tables

    /// The counters of the last committed crank; nil for a store no crank was committed to.
    public func counters() throws -> KernelCounters? {
        var out: KernelCounters?
        try rows("SELECT next_object, next_promise, next_vat, next_queue_id, crank FROM counters WHERE id = 1") { q in
            var c = KernelCounters()
            (c.nextObject, c.nextPromise, c.nextVat, c.nextQueueID, c.crank) = (q.int(0), q.int(1), q.int(2), q.int(3), q.int(4))
            out = c
        }
        return out
    }

    public func vat(_ id: VatID) throws -> VatRecord? {
        var out: VatRecord?
        try rows("SELECT \(StoredTables.vatColumns) FROM vats WHERE vat_id = ?1", bind: { $0.bind(1, id.description) }) { out = try $0.vatRecord() }
        return out
    }

    /// The vats numbered above `after` (nil: all), in number order, at most `limit`.
    public func vats(after: Int?, limit: Int) throws -> [VatRecord] {
        var out: [VatRecord] = []
        try rows("SELECT \(StoredTables.vatColumns) FROM vats WHERE CAST(substr(vat_id, 2) AS INTEGER) > ?1 ORDER BY CAST(substr(vat_id, 2) AS INTEGER) LIMIT ?2",
                 bind: { $0.bind(1, after ?? -1); $0.bind(2, limit) }) { out.append(try $0.vatRecord()) }
        return out
    }

    /// Where the vat's delivery log stands, as the kernel keeps it (`DeliveryLog`).
    public func deliveryLog(_ vat: VatRecord) throws -> DeliveryLog {
        try StoredRow.deliveryLog(vat.id, acknowledged: vat.deliveriesAcknowledged,
                                  oldest: statement(StoredRow.oldestDelivery), newest: statement(StoredRow.newestDelivery))
    }

    /// How many entries the vat's c-list holds.
    public func clistCount(_ vat: VatID) throws -> Int {
        var n = 0
        try rows("SELECT count(*) FROM clist WHERE vat = ?1", bind: { $0.bind(1, vat.description) }) { n = $0.int(0) }
        return n
    }

    public func clistEntry(_ vat: VatID, _ kref: KRef) throws -> CListEntry? {
        var out: CListEntry?
        try rows("SELECT vref, reachable FROM clist WHERE vat = ?1 AND kref = ?2",
                 bind: { $0.bind(1, vat.description); $0.bind(2, kref.description) }) {
            out = try $0.clistEntry(vref: 0, reachable: 1, "clist row \(vat) \(kref)")
        }
        return out
    }

    /// The numbers of the vat's c-list krefs of one kind, in no particular order.
    public func clistNumbers(_ vat: VatID, kind: KRef.Kind) throws -> [Int] {
        var out: [Int] = []
        try rows("SELECT kref FROM clist WHERE vat = ?1", bind: { $0.bind(1, vat.description) }) { q in
            let k = try q.kref(0, "clist row \(vat) kref")
            if k.kind == kind { out.append(k.number) }
        }
        return out
    }

    /// Which objects `objects(after:limit:owner:)` lists.
    public enum OwnerSelection: Sendable {
        case any
        /// Orphans: no owner.
        case none
        case vat(VatID)
    }

    /// Objects numbered above `after` (nil: all) that `owner` selects, by number, at most `limit`.
    public func objects(after: Int?, limit: Int, owner: OwnerSelection) throws -> [(Int, KernelObject)] {
        var sql = "SELECT \(StoredTables.objectColumns) FROM objects WHERE id > ?1"
        switch owner {
        case .any: break
        case .none: sql += " AND owner IS NULL"
        case .vat: sql += " AND owner = ?3"
        }
        var out: [(Int, KernelObject)] = []
        try rows(sql + " ORDER BY id LIMIT ?2", bind: { q in
            q.bind(1, after ?? -1)
            q.bind(2, limit)
            if case .vat(let v) = owner { q.bind(3, v.description) }
        }) { out.append(($0.int(0), try $0.kernelObject())) }
        return out
    }

    /// Promises numbered above `after` (nil: all) decided by `decider` and in `state` (each
    /// when given), by number, at most `limit`.
    public func promises(after: Int?, limit: Int, decider: VatID?, state: KernelPromise.State?) throws -> [(Int, KernelPromise)] {
        var sql = "SELECT \(StoredTables.promiseColumns) FROM promises WHERE id > ?1"
        if decider != nil { sql += " AND decider = ?3" }
        if state != nil { sql += " AND state = ?4" }
        var out: [(Int, KernelPromise)] = []
        try rows(sql + " ORDER BY id LIMIT ?2", bind: { q in
            q.bind(1, after ?? -1)
            q.bind(2, limit)
            if let decider { q.bind(3, decider.description) }
            if let state { q.bind(4, state.rawValue) }
        }) { out.append(($0.int(0), try $0.kernelPromise())) }
        return out
    }

    /// Object `ko<number>`, if it exists.
    public func object(_ number: Int) throws -> KernelObject? {
        var out: KernelObject?
        try rows("SELECT \(StoredTables.objectColumns) FROM objects WHERE id = ?1", bind: { $0.bind(1, number) }) { out = try $0.kernelObject() }
        return out
    }

    /// Promise `kp<number>`, if it exists, with its queue and data.
    public func promise(_ number: Int) throws -> KernelPromise? {
        var out: KernelPromise?
        try rows("SELECT \(StoredTables.promiseColumns) FROM promises WHERE id = ?1", bind: { $0.bind(1, number) }) { out = try $0.kernelPromise() }
        return out
    }

    /// Every holder of `kref` in the snapshot, as `Kernel.holders(of:)` lists them from the
    /// kernel's memory for the same committed state: each row is turned into holders by the
    /// same `Holder` functions the kernel's walk uses, and they are put in its order.
    ///
    /// The c-list entries are one lookup in `clist_by_kref` (schema 12), the pins and held
    /// results one in their primary keys. Queued events, promises and vats are not indexed by
    /// the krefs they hold: SQLite keeps only the rows whose JSON contains `"<kref>"` (the writer
    /// puts every ref there as that quoted text, so no holder is missed), and each kept row is
    /// then read in full and tested exactly, so a mention in a body is no holder.
    public func holders(of kref: KRef) throws -> [Holder] {
        var found: [Holder] = []
        func visit(_ k: KRef, _ h: Holder) { if k == kref { found.append(h) } }
        let quoted = "\"\(kref)\""
        try rows("SELECT vat, vref, reachable FROM clist WHERE kref = ?1", bind: { $0.bind(1, kref.description) }) { q in
            let vat = try q.vatID(0, "clist row of \(kref) vat")
            found.append(.clistEntry(vat: vat, kref: kref, try q.clistEntry(vref: 1, reachable: 2, "clist row \(vat) \(kref)")))
        }
        try rows("SELECT id, queue_name, event FROM queue WHERE instr(event, ?1) > 0", bind: { $0.bind(1, quoted) }) { q in
            Holder.forEach(inQueued: try q.queuedEvent().1.event, visit)
        }
        // A promise's own queue holds it without naming it: its messages hold their target.
        try rows("SELECT \(StoredTables.promiseColumns) FROM promises WHERE id = ?2 OR instr(queue, ?1) > 0 OR instr(data, ?1) > 0",
                 bind: { $0.bind(1, quoted); $0.bind(2, kref.isPromise ? kref.number : -1) }) { q in
            Holder.forEach(inPromise: .promise(q.int(0)), try q.kernelPromise(), visit)
        }
        let pinned = try pins(kref)
        if pinned > 0 { found.append(.pins(pinned)) }
        if try isHeld(kref) { found.append(.hostResult) }
        try rows("SELECT \(StoredTables.vatColumns) FROM vats WHERE instr(vat_parameters, ?1) > 0 OR instr(termination, ?1) > 0",
                 bind: { $0.bind(1, quoted) }) { q in
            let v = try q.vatRecord()
            Holder.forEach(inVat: v.id, v, visit)
        }
        return Holder.inListedOrder(found)
    }

    /// The host's pins on `kref` (0 when none).
    public func pins(_ kref: KRef) throws -> Int {
        var n = 0
        try rows("SELECT count FROM pins WHERE kref = ?1", bind: { $0.bind(1, kref.description) }) { n = $0.int(0) }
        return n
    }

    /// Whether the host keeps the result promise `kpid`.
    public func isHeld(_ kpid: KRef) throws -> Bool {
        var held = false
        try rows("SELECT 1 FROM held_results WHERE kpid = ?1", bind: { $0.bind(1, kpid.description) }) { _ in held = true }
        return held
    }

    /// The events of one queue with ids above `after` (nil: all), in queue order, at most `limit`.
    public func queue(_ name: QueueName, after: Int?, limit: Int) throws -> [QueuedEvent] {
        var out: [QueuedEvent] = []
        try rows("SELECT id, queue_name, event FROM queue WHERE queue_name = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                 bind: { $0.bind(1, name.rawValue); $0.bind(2, after ?? Int.min); $0.bind(3, limit) }) { out.append(try $0.queuedEvent().1) }
        return out
    }

    /// The pending GC actions, in no particular order.
    public func gcActions() throws -> [GCAction] {
        var out: [GCAction] = []
        try rows("SELECT action FROM gc_actions") { out.append(try $0.gcAction()) }
        return out
    }

    /// The vat's delivery records as `SQLiteStore.deliveries(_:after:limit:maxBytes:)` reads them.
    public func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        try SQLiteStore.deliveries(vat, after: after, limit: limit, maxBytes: maxBytes,
                                   query: statement(StoredRow.deliveriesAfter), values: statement(StoredRow.deliveryValue), path: path)
    }

    /// Events as `SQLiteStore.events(after:limit:type:vat:kref:maxBytes:)` reads them.
    public func events(after: Int, limit: Int, type: String?, vat: VatID?, kref: KRef?,
                       maxBytes: Int) throws -> (events: [[UInt8]], next: Int?) {
        let (rows, next) = try SQLiteStore.eventRows(connection, after: after, limit: limit, type: type, vat: vat, kref: kref, maxBytes: maxBytes)
        return (rows.map(\.event), next)
    }
}
