/// How much of the event log a store keeps (`--event-retention`): the events of the last N
/// cranks, or the newest events that fit in N bytes of JSON (the newest event always stays, so
/// numbering goes on after a restart). Older events are deleted in
/// bounded steps, one per group commit (whole cranks, `SQLiteStore.pruneBatch` events at most),
/// never in one long transaction.
public enum EventRetention: Equatable, Sendable, CustomStringConvertible {
    case cranks(Int)
    case bytes(Int)

    /// Parses `10000cranks`, `64MiB`, `500KB`, `1048576B` (or a plain byte count): a positive
    /// integer and a unit (`crank(s)`, `B`, `KB`/`MB`/`GB` powers of 1000, `KiB`/`MiB`/`GiB`
    /// powers of 1024), case-insensitive. Nil for anything else.
    public init?(parsing text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 15, let n = Int(digits), n > 0 else { return nil }
        let unit = text.dropFirst(digits.count).lowercased()
        let scale: Int
        switch unit {
        case "crank", "cranks":
            self = .cranks(n)
            return
        case "", "b": scale = 1
        case "kb": scale = 1_000
        case "mb": scale = 1_000_000
        case "gb": scale = 1_000_000_000
        case "kib": scale = 1 << 10
        case "mib": scale = 1 << 20
        case "gib": scale = 1 << 30
        default: return nil
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        self = .bytes(bytes)
    }

    public var description: String {
        switch self {
        case .cranks(let n): return "\(n)cranks"
        case .bytes(let n): return "\(n)B"
        }
    }
}

/// Pruning the event log to its retention.
extension SQLiteStore {
    /// One bounded step: deletes the oldest cranks' events that are past the retention, whole
    /// cranks of at most `pruneBatch` events in all (or the oldest crank alone, if it has more),
    /// and never the newest crank's (their `event_keys` rows go with them, by trigger). Runs
    /// inside the group's transaction, just before it commits.
    func pruneEventsStep(_ c: SQLiteConnection) throws {
        guard let retention = eventRetention, lastEventSeq > 0 else { return }
        switch retention {
        case .cranks(let keep):
            guard let newest = try c.integer("SELECT crank FROM events ORDER BY seq DESC LIMIT 1") else { return }
            try pruneOldest(c) { crank, _ in crank <= newest - keep }
        case .bytes(let limit):
            var total = try loggedEventBytes(c)
            guard total > limit else { return }
            try pruneOldest(c) { _, bytes in
                guard total > limit else { return false }
                total -= bytes
                return true
            }
            eventBytes = (total, lastEventSeq)
        }
    }

    /// Deletes the oldest rows for which `past` (crank, bytes of its `events`) holds, in order,
    /// up to `pruneBatch` events, keeping the newest row.
    private func pruneOldest(_ c: SQLiteConnection, while past: (_ crank: Int, _ bytes: Int) -> Bool) throws {
        let oldest = try c.prepare("SELECT seq, crank, count, length(CAST(events AS BLOB)) FROM events ORDER BY seq")
        var through: Int?
        var events = 0
        while try oldest.step() {
            let seq = oldest.int(0), count = oldest.int(2)
            // The newest event always stays: after a restart, numbering goes on from it.
            guard seq + count - 1 < lastEventSeq, through == nil || events + count <= pruneBatch,
                  past(oldest.int(1), oldest.int(3)) else { break }
            through = seq
            events += count
        }
        oldest.finalize()
        guard let through else { return }
        let q = try c.prepare("DELETE FROM events WHERE seq <= ?1")
        defer { q.finalize() }
        q.bind(1, through)
        try q.run()
    }

    /// Bytes of JSON the log holds: counted in full once, then only the events added since.
    private func loggedEventBytes(_ c: SQLiteConnection) throws -> Int {
        let (total, through) = try eventBytes ?? (c.integer("SELECT total(length(CAST(events AS BLOB))) FROM events") ?? 0, lastEventSeq)
        let q = try c.prepare("SELECT total(length(CAST(events AS BLOB))) FROM events WHERE seq > ?1")
        defer { q.finalize() }
        q.bind(1, through)
        let added = try q.step() ? q.int(0) : 0
        eventBytes = (total + added, lastEventSeq)
        return total + added
    }
}
