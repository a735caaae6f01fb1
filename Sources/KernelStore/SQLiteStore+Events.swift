import VatKernel

/// The event log (issue 10): events each crank writes with its changes, so they are durable
/// exactly when the crank is, read back in `seq` order; one row per crank (`EventLog`).
///
/// Each event is one JSON object `{"seq","crank","type",…}` (stored as `StoredEvent` says), with field names from SwingSet's
/// slog where one exists. A crank writes its `crank-start`, then its trace (`CrankTraceEntry`:
/// `deliver`, `syscall`, `illegal-syscall`, `object-exported`, `object-orphaned`,
/// `object-retired`, `promise-fulfilled`, `promise-rejected`, `create-vat`, `terminate`,
/// `vat-cleanup`, `vat-cleanup-complete`, `vat-upgrade`) in the order things happened, then
/// its `gc-action` changes (`added`: false when one was removed, with `negated`: false when this
/// crank delivered it, true when it was dropped undelivered), then `crank-finish`
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
        var log = EventLog(store: self, crank: d.crank, statement: s.addEvent, keyStatement: s.addEventKey)
        if let start = d.start {
            try log.add("crank-start", vat: start.vat) { w in
                w.key("crankType"); w.string(start.kind.rawValue)
                w.key("vatID"); w.optionalString(start.vat)
                if let r = start.request { w.key("request"); try w.hostRequest(r) }
                if let m = start.message { w.key("message"); try w.kernelEvent(m) }
            }
        }
        for entry in d.trace { try log.add(entry) }
        let delivered = d.gcActions.values.contains(nil) ? d.deliveredGCActions : []
        for (a, present) in d.gcActions.sorted(by: { $0.key < $1.key }) {
            try log.add("gc-action", vat: a.vat) { w in
                w.key("vatID"); w.ref(a.vat)
                w.key("action"); w.string(a.kind.name)
                w.key("kref"); w.ref(a.kref)
                w.key("added"); w.bool(present != nil)
                if present == nil { w.key("negated"); w.bool(!delivered.contains(a)) }
            }
        }
        // crankNum, then changes, crankhash, activityhash: StoredEvent adds the first and last two.
        try log.add("crank-finish", vat: nil, hashes: hashBytes) { w in
            w.key("changes"); w.int(d.rowCount)
        }
        try log.finish()
    }

    /// Events with `seq > after`, oldest first, at most `limit`, of `type`, about `vat` and
    /// mentioning `kref` if given (`vat` and `kref` through the `event_keys` index, Schema
    /// version 13), and no more than `maxBytes` of them (the first always); with the seq to pass
    /// as `after` for the next page (nil: no more).
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
    ///
    /// The rows read start at the crank holding `after + 1` (the last row whose first seq is
    /// `after` or less may hold events after it); with `kref`, only the rows `event_keys` lists
    /// under it; with `vat` alone, the rows whose `vat` it is merged with those the keys list
    /// under it (a row is in one or the other). Each row's lines are then tested one by one, so
    /// an index entry, which names a crank, finds exactly the events that mention it.
    static func eventRows(_ c: SQLiteConnection, after: Int, limit: Int, type: String?, vat: VatID?, kref: KRef?,
                          maxBytes: Int) throws -> (rows: [(seq: Int, event: [UInt8])], next: Int?) {
        // The index a read walks: the kref's entries when there is one, else the vat's.
        let key = kref?.description ?? vat?.description
        let q = try c.prepare(eventsSQL(key: kref != nil ? .kref : vat != nil ? .vat : nil))
        defer { q.finalize() }
        q.bind(1, after)
        if let key { q.bind(2, key) }
        let typeBytes = type.map { Array($0.utf8) }
        let vatBytes = vat.map { Array($0.description.utf8) }
        let krefBytes = kref.map { Array($0.description.utf8) }
        var out: [(seq: Int, event: [UInt8])] = []
        var lastSeq = after
        var more = false
        var bytes = 0
        while !more, try q.step() {
            var seq = q.int(0)
            let crank = q.int(1), hashes = q.blob(3)
            q.withText(2) { text in
                guard let text else { return }
                StoredEvent.forEachLine(text) { eventType, eventVat, body in
                    defer { seq += 1 }
                    guard seq > after,
                          typeBytes.map({ eventType.elementsEqual($0) }) ?? true,
                          vatBytes.map({ eventVat.elementsEqual($0) }) ?? true,
                          krefBytes.map({ EventLog.mentions(body, $0) }) ?? true
                    else { return true }
                    if out.count == limit { more = true; return false }
                    let type = String(decoding: eventType, as: UTF8.self)
                    let event = StoredEvent.json(seq: seq, crank: crank, type: type, body: body,
                                                 hashes: type == "crank-finish" ? hashes : nil)
                    if !out.isEmpty, bytes + event.count > maxBytes { more = true; return false }
                    bytes += event.count
                    lastSeq = seq
                    out.append((seq, event))
                    return true
                }
            }
        }
        return (out, more ? lastSeq : nil)
    }

    enum EventKey { case vat, kref }

    /// The rows `eventRows` reads (`?1` the after, `?2` the vat or kref), in seq order.
    static func eventsSQL(key: EventKey?) -> String {
        let start = "coalesce((SELECT max(seq) FROM events WHERE seq <= ?1), 0)"
        let keyed = "SELECT event_keys.seq, crank, events, hashes FROM event_keys JOIN events USING (seq) WHERE key = ?2 AND event_keys.seq >= \(start)"
        switch key {
        case nil: return "SELECT seq, crank, events, hashes FROM events WHERE seq >= \(start) ORDER BY seq"
        case .kref: return keyed + " ORDER BY event_keys.seq"
        case .vat: return "SELECT seq, crank, events, hashes FROM events WHERE vat = ?2 AND seq >= \(start) UNION ALL \(keyed) ORDER BY 1"
        }
    }

    /// The newest event's seq (0 when the log is empty).
    public var lastEventSeq: Int { nextEventSeq - 1 }

    func readNextEventSeq(_ c: SQLiteConnection) throws -> Int {
        try c.integer("SELECT seq + count FROM events ORDER BY seq DESC LIMIT 1") ?? 1
    }
}

extension CrankDelta {
    /// The GC actions this crank's deliveries carried out (`dropExports` to a vat is its
    /// `dropExport` of each kref, and so on). An action the crank removed that is not one of
    /// them was negated: its object is reachable or recognizable again, the entry it needs is
    /// gone, or its vat was terminated.
    var deliveredGCActions: Set<GCAction> {
        var out: Set<GCAction> = []
        for case .deliver(let vat, _, let kd) in trace {
            let kind: GCAction.Kind, krefs: [KRef]
            switch kd {
            case .dropExports(let k): (kind, krefs) = (.dropExport, k)
            case .retireExports(let k): (kind, krefs) = (.retireExport, k)
            case .retireImports(let k): (kind, krefs) = (.retireImport, k)
            case .abandonImports(let k): (kind, krefs) = (.abandonImport, k)
            default: continue
            }
            for kref in krefs { out.insert(GCAction(vat, kind, kref)) }
        }
        return out
    }

    /// How many rows the crank wrote or removed (the `changes` of its `crank-finish`).
    var rowCount: Int {
        1 + objects.count + promises.count + vats.count + clistEntries.count + vatstore.count
            + queueRemovals.count + queueAdds.count + gcActions.count + pins.count + heldResults.count + deliveries.count
    }
}
