/// Where a vat's c-list entry lives: (vat, kref).
public struct CListKey: Hashable, Sendable {
    public var vat: VatID
    public var kref: KRef
    /// Makes the key.
    public init(vat: VatID, kref: KRef) {
        self.vat = vat
        self.kref = kref
    }
}

/// Where a vatstore value lives: (vat, key).
public struct VatstoreKey: Hashable, Sendable {
    public var vat: VatID
    public var key: ByteString
    /// Makes the key.
    public init(vat: VatID, key: ByteString) {
        self.vat = vat
        self.key = key
    }
}

/// Everything one committed crank changed: the rows a store must write (nil = delete).
///
/// Built from the crank's journals, so its size is proportional to what the crank touched.
/// Queue changes are removals from the front (by id) and additions at the back; an event
/// added and removed within the same crank appears in neither.
public struct CrankDelta: Sendable {
    /// The number of the crank (the counters' `crank` after commit).
    public var crank: Int
    public var counters: KernelCounters
    public var objects: [Int: KernelObject?] = [:]
    public var promises: [Int: KernelPromise?] = [:]
    public var vats: [VatID: VatRecord?] = [:]
    /// Changed c-list entries; nil deletes (both directions).
    public var clistEntries: [CListKey: CListEntry?] = [:]
    /// Changed vatstore values; nil deletes.
    public var vatstore: [VatstoreKey: ByteString?] = [:]
    /// Front removals, in order.
    public var queueRemovals: [(QueueName, Int)] = []
    /// Back additions, in order.
    public var queueAdds: [(QueueName, QueuedEvent)] = []
    /// GC actions added (true) or removed (nil).
    public var gcActions: [GCAction: Bool?] = [:]
    /// New pin count per kref; nil removes the row.
    public var pins: [KRef: Int?] = [:]
    /// Host-held results added (true) or released (nil).
    public var heldResults: [KRef: Bool?] = [:]
    /// Where each vat's delivery log stands after the crank, for the logs the crank changed
    /// (created, appended to, or dropped from). Not rows: a store derives it from the records
    /// below and the vat's acknowledged seq; a store that applies deltas takes it as it is.
    public var deliveryLogs: [VatID: DeliveryLog?] = [:]
    /// Appended delivery-log entries, in order.
    public var deliveries: [(VatID, DeliveryRecord)] = []
    /// Log records dropped because the vat's driver acknowledged them: (vat, seq).
    public var droppedDeliveries: [(VatID, Int)] = []
    /// How the crank began (nil for a delta not made by a kernel crank).
    public var start: CrankStart?
    /// What the crank did, in order, for the event log; not rows, and not hashed.
    public var trace: [CrankTraceEntry] = []

    /// An empty delta for crank `crank`.
    public init(crank: Int, counters: KernelCounters) {
        self.crank = crank
        self.counters = counters
    }
}
