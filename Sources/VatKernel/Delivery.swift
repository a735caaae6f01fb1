/// What the kernel delivers to a vat, in the vat's own references (KERNEL-SPEC §6, §13.1).
public enum Delivery: Hashable, Sendable {
    case message(target: VRef, methargs: CapData<VRef>, result: VRef?)
    case notify([VatResolution])
    case dropExports([VRef])
    case retireExports([VRef])
    case retireImports([VRef])
    /// The objects are orphans: the vat's c-list entries are gone (KERNEL-SPEC §13.8).
    case abandonImports([VRef])
    case bringOutYourDead
    case startVat(vatParameters: CapData<VRef>)

    /// Every type of delivery, named as the API names it: the one list that the delivery log's
    /// JSON (both forms), the store's reader, crank reports and the `deliveries_total` metric's
    /// `type` label take their names from.
    public enum Kind: String, CaseIterable, Sendable {
        case message, notify, dropExports, retireExports, retireImports, abandonImports, bringOutYourDead, startVat

        /// The kind named `name`, matched by its UTF-8 bytes as every stored tag is.
        public init?(named name: ByteString) {
            guard let kind = Kind.allCases.first(where: { ByteString($0.rawValue) == name }) else { return nil }
            self = kind
        }
    }

    /// This delivery's kind.
    public var kind: Kind {
        switch self {
        case .message: return .message
        case .notify: return .notify
        case .dropExports: return .dropExports
        case .retireExports: return .retireExports
        case .retireImports: return .retireImports
        case .abandonImports: return .abandonImports
        case .bringOutYourDead: return .bringOutYourDead
        case .startVat: return .startVat
        }
    }

    /// The type name the API and the log use.
    public var typeName: String { kind.rawValue }
}

/// One entry of a vat's delivery log.
public struct DeliveryRecord: Hashable, Sendable {
    /// 1, 2, 3… within the vat, across incarnations.
    public var seq: Int
    /// The crank that made the delivery.
    public var crank: Int
    public var delivery: Delivery

    /// Makes a log entry.
    public init(seq: Int, crank: Int, delivery: Delivery) {
        self.seq = seq
        self.crank = crank
        self.delivery = delivery
    }
}

/// What the kernel keeps in memory of a vat's delivery log: where it stands, not its records.
///
/// The records live in the storage (`KernelStorage.deliveries(_:after:limit:maxBytes:)`), so
/// memory does not grow with the log. The log holds seqs `first...last`, contiguous: records
/// are appended at the end and dropped from the front (acknowledged, §13.1).
public struct DeliveryLog: Hashable, Sendable {
    /// The seq of the newest record ever appended (0 before the first); numbering goes on
    /// from it even when every record was dropped.
    public var last: Int
    /// How many records the log holds now.
    public var count: Int

    /// A log whose newest seq is `last`, holding the last `count` records.
    public init(last: Int = 0, count: Int = 0) {
        self.last = last
        self.count = count
    }

    /// The seq of the oldest record held (`last + 1` when the log is empty).
    public var first: Int { last - count + 1 }
}

/// Every vat's delivery records, in memory: how a kernel without storage, and in-memory
/// stores, keep the log behind the same read the SQLite store answers from its table.
public struct DeliveryRecords: Hashable, Sendable {
    private var logs = VatTable<[DeliveryRecord]>()

    /// No records.
    public init() {}

    /// Takes in a crank's appended and dropped records.
    public mutating func apply(_ delta: CrankDelta) {
        for (vat, r) in delta.deliveries { append(vat, r) }
        for (vat, seq) in delta.droppedDeliveries { drop(vat, seq) }
    }

    /// Appends a record at the end of the vat's log.
    public mutating func append(_ vat: VatID, _ r: DeliveryRecord) {
        logs[vat, default: []].append(r)
    }

    /// Removes the newest record of the vat's log (a rolled-back append).
    mutating func removeLast(_ vat: VatID) {
        logs[vat]?.removeLast()
    }

    /// Removes record `seq` (the oldest, as acknowledgements drop them).
    public mutating func drop(_ vat: VatID, _ seq: Int) {
        if logs[vat]?.first?.seq == seq {
            logs[vat]!.removeFirst()
        } else {
            logs[vat]?.removeAll { $0.seq == seq }
        }
    }

    /// Puts dropped records back at the front (a rolled-back acknowledgement).
    mutating func restore(_ vat: VatID, _ records: [DeliveryRecord]) {
        logs[vat, default: []].insert(contentsOf: records, at: 0)
    }

    /// Removes the oldest `count` records of the vat's log, in one move, and returns them.
    mutating func removeFirst(_ vat: VatID, _ count: Int) -> [DeliveryRecord] {
        guard let log = logs[vat] else { return [] }
        let n = Swift.min(count, log.count)
        let removed = Array(log.prefix(n))
        logs[vat]!.removeFirst(n)
        return removed
    }

    /// The vat's records with `seq > after`, oldest first, at most `limit` (no byte budget:
    /// these records have no stored encoding to measure).
    public func records(_ vat: VatID, after: Int, limit: Int) -> [DeliveryRecord] {
        let log = logs[vat] ?? []
        // Binary search for the first seq > after; the log is in seq order.
        var lo = 0, hi = log.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if log[mid].seq <= after { lo = mid + 1 } else { hi = mid }
        }
        return Array(log[lo..<(lo + min(max(limit, 0), log.count - lo))])
    }
}
