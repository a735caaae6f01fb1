import VatKernel

/// The event log (issue 10): events each crank writes in its own savepoint, so they are
/// durable exactly when the crank is, read back in `seq` order.
///
/// Each event is one JSON object `{"seq","crank","type",…}` (stored as `StoredEvent` says), with field names from SwingSet's
/// slog where one exists. A crank writes its `crank-start`, then its trace (`CrankTraceEntry`:
/// `deliver`, `syscall`, `illegal-syscall`, `object-exported`, `object-orphaned`,
/// `object-retired`, `promise-fulfilled`, `promise-rejected`, `create-vat`, `terminate`,
/// `vat-cleanup`, `vat-cleanup-complete`, `vat-upgrade`) in the order things happened, then
/// its `gc-action` changes (`added`: false when one was done or negated), then `crank-finish`
/// (`changes`: rows the crank wrote, `crankhash`, `activityhash`). openapi.yaml lists each
/// type's fields.
extension SQLiteStore {
    /// Every event type the log holds, in the order a crank can write them.
    public static let eventTypes = [
        "crank-start", "deliver", "syscall", "illegal-syscall", "object-exported", "object-orphaned",
        "object-retired", "promise-fulfilled", "promise-rejected", "create-vat", "terminate", "vat-cleanup",
        "vat-cleanup-complete", "vat-upgrade", "gc-action", "crank-finish",
    ]

    /// Writes crank `d`'s events after those of earlier cranks; `hashBytes` is the `hashes`
    /// blob of its crank-finish (`CrankHashes.computed`).
    func writeEvents(_ d: CrankDelta, _ hashBytes: [UInt8], _ s: Statements) throws {
        var log = EventLog(store: self, crank: d.crank, statement: s.addEvent, krefStatement: s.addEventKRef)
        if let start = d.start {
            try log.add("crank-start", vat: start.vat) { w in
                w.key("crankType"); w.string(start.kind.rawValue)
                w.key("vatID"); w.optionalString(start.vat)
                if let r = start.request { w.key("request"); try w.hostRequest(r) }
                if let m = start.message { w.key("message"); try w.kernelEvent(m) }
            }
        }
        for entry in d.trace { try log.add(entry) }
        for (a, present) in d.gcActions.sorted(by: { $0.key < $1.key }) {
            try log.add("gc-action", vat: a.vat) { w in
                w.key("vatID"); w.ref(a.vat)
                w.key("action"); w.string(a.kind.name)
                w.key("kref"); w.ref(a.kref)
                w.key("added"); w.bool(present != nil)
            }
        }
        // crankNum, then changes, crankhash, activityhash: StoredEvent adds the first and last two.
        try log.add("crank-finish", vat: nil, hashes: hashBytes) { w in
            w.key("changes"); w.int(d.rowCount)
        }
    }

    /// Events with `seq > after`, oldest first, at most `limit`, of `type`, about `vat` and
    /// mentioning `kref` if given (`kref` through the `event_krefs` index, Schema version 7),
    /// and no more than `maxBytes` of them (the first always); with the seq to pass as `after`
    /// for the next page (nil: no more).
    public func events(after: Int, limit: Int, type: String? = nil, vat: VatID? = nil, kref: KRef? = nil,
                       maxBytes: Int = .max) throws -> (events: [[UInt8]], next: Int?) {
        let (rows, next) = try eventRows(after: after, limit: limit, type: type, vat: vat, kref: kref, maxBytes: maxBytes)
        return (rows.map(\.event), next)
    }

    /// The same, each event with its seq (a stream's `id:`).
    public func eventRows(after: Int, limit: Int, type: String? = nil, vat: VatID? = nil, kref: KRef? = nil,
                          maxBytes: Int = .max) throws -> (rows: [(seq: Int, event: [UInt8])], next: Int?) {
        let (c, _) = try open()
        return try Self.eventRows(c, after: after, limit: limit, type: type, vat: vat, kref: kref, maxBytes: maxBytes)
    }

    /// The read behind `eventRows`, on any connection (`SQLiteReader`'s too).
    static func eventRows(_ c: SQLiteConnection, after: Int, limit: Int, type: String?, vat: VatID?, kref: KRef?,
                          maxBytes: Int) throws -> (rows: [(seq: Int, event: [UInt8])], next: Int?) {
        var sql = kref == nil
            ? "SELECT seq, crank, type, event, hashes FROM events WHERE seq > ?1"
            : "SELECT events.seq, crank, type, event, hashes FROM event_krefs JOIN events USING (seq) WHERE kref = ?5 AND event_krefs.seq > ?1"
        if type != nil { sql += " AND type = ?2" }
        if vat != nil { sql += " AND vat = ?3" }
        sql += kref == nil ? " ORDER BY seq LIMIT ?4" : " ORDER BY event_krefs.seq LIMIT ?4"
        let q = try c.prepare(sql)
        defer { q.finalize() }
        q.bind(1, after)
        if let type { q.bind(2, type) }
        if let vat { q.bind(3, vat.description) }
        q.bind(4, limit + 1)
        if let kref { q.bind(5, kref.description) }
        var out: [(seq: Int, event: [UInt8])] = []
        var lastSeq = after
        var more = false
        var bytes = 0
        while try q.step() {
            if out.count == limit { more = true; break }
            let seq = q.int(0), crank = q.int(1), type = q.text(2) ?? "", hashes = q.blob(4)
            let event = q.withText(3) { body in
                StoredEvent.json(seq: seq, crank: crank, type: type, body: body ?? UnsafeBufferPointer(start: nil, count: 0), hashes: hashes)
            }
            if !out.isEmpty, bytes + event.count > maxBytes { more = true; break }
            bytes += event.count
            lastSeq = seq
            out.append((lastSeq, event))
        }
        return (out, more ? lastSeq : nil)
    }

    /// The newest event's seq (0 when the log is empty).
    public var lastEventSeq: Int { nextEventSeq - 1 }

    func readNextEventSeq(_ c: SQLiteConnection) throws -> Int {
        (try c.integer("SELECT coalesce(max(seq), 0) FROM events") ?? 0) + 1
    }
}

extension CrankDelta {
    /// How many rows the crank wrote or removed (the `changes` of its `crank-finish`).
    var rowCount: Int {
        1 + objects.count + promises.count + vats.count + clistEntries.count + vatstore.count
            + queueRemovals.count + queueAdds.count + gcActions.count + pins.count + heldResults.count + deliveries.count
    }
}
