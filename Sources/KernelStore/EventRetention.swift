/// How much of the event log a store keeps (`--event-retention`): the events of the last N
/// cranks, or the newest events that fit in N bytes of JSON (the newest event always stays, so
/// numbering goes on after a restart). Older events are deleted in
/// bounded steps, one per group commit (`SQLiteStore.pruneBatch` events at most), never in
/// one long transaction.
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
    /// One bounded step: deletes at most `pruneBatch` of the oldest events that are past the
    /// retention (their `event_krefs` rows go with them, by trigger). Runs inside the group's
    /// transaction, just before it commits.
    func pruneEventsStep(_ c: SQLiteConnection) throws {
        guard let retention = eventRetention, lastEventSeq > 0 else { return }
        switch retention {
        case .cranks(let keep):
            guard let newest = try c.integer("SELECT crank FROM events ORDER BY seq DESC LIMIT 1") else { return }
            let q = try c.prepare("""
                DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?1) AND crank <= ?2
                """)
            defer { q.finalize() }
            q.bind(1, pruneBatch)
            q.bind(2, newest - keep)
            try q.run()
        case .bytes(let limit):
            var total = try loggedEventBytes(c)
            guard total > limit else { return }
            let oldest = try c.prepare("SELECT seq, length(CAST(event AS BLOB)) FROM events ORDER BY seq LIMIT ?1")
            oldest.bind(1, pruneBatch)
            var through: Int?
            // The newest event always stays: after a restart, numbering goes on from it.
            while total > limit, try oldest.step(), oldest.int(0) < lastEventSeq {
                through = oldest.int(0)
                total -= oldest.int(1)
            }
            oldest.finalize()
            guard let through else { return }
            let q = try c.prepare("DELETE FROM events WHERE seq <= ?1")
            defer { q.finalize() }
            q.bind(1, through)
            try q.run()
            eventBytes = (total, lastEventSeq)
        }
    }

    /// Bytes of JSON the log holds: counted in full once, then only the events added since.
    private func loggedEventBytes(_ c: SQLiteConnection) throws -> Int {
        let (total, through) = try eventBytes ?? (c.integer("SELECT total(length(CAST(event AS BLOB))) FROM events") ?? 0, lastEventSeq)
        let q = try c.prepare("SELECT total(length(CAST(event AS BLOB))) FROM events WHERE seq > ?1")
        defer { q.finalize() }
        q.bind(1, through)
        let added = try q.step() ? q.int(0) : 0
        eventBytes = (total + added, lastEventSeq)
        return total + added
    }
}
