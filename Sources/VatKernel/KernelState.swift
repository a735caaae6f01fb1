/// The kernel's counters: every number it hands out, and how many cranks it has committed.
public struct KernelCounters: Hashable, Sendable {
    /// Next `koN`, `kpN`, `vN` (KERNEL-SPEC §13.6: start at 20, 40, 1; never reused).
    public var nextObject = 20
    public var nextPromise = 40
    public var nextVat = 1
    /// Next id for a queued event (see `QueuedEvent`).
    public var nextQueueID = 1
    /// Cranks committed so far; the crank being run has number `crank + 1`.
    public var crank = 0

    /// The state of a new kernel.
    public init() {}
}

/// Every table of the kernel (KERNEL-SPEC §2), in memory.
///
/// The kernel owns one and changes it only inside cranks, through its journal; storage gets
/// each crank's changes as a `CrankDelta` and can hand a whole state back at start-up.
public struct KernelState: Hashable, Sendable {
    /// Numbers handed out and cranks committed.
    public var counters = KernelCounters()
    /// Kernel objects by the number of their `koN`.
    public var objects: [Int: KernelObject] = [:]
    /// Kernel promises by the number of their `kpN`.
    public var promises: [Int: KernelPromise] = [:]
    /// Every vat ever created (terminated ones keep a record).
    public var vats = VatTable<VatRecord>()
    /// Each vat's c-list.
    public var clists = VatTable<CList>()
    /// Each vat's vatstore (§5.9).
    public var vatstores = VatTable<Vatstore>()
    /// Where each vat's delivery log stands; its records are in the storage
    /// (`Kernel.deliveries(_:after:limit:maxBytes:)` reads them).
    public var deliveryLogs = VatTable<DeliveryLog>()
    /// New sends and notifies, routed first (§4).
    public var acceptanceQueue = FIFO<QueuedEvent>()
    /// Routed work waiting for delivery.
    public var runQueue = FIFO<QueuedEvent>()
    /// bringOutYourDead requests.
    public var reapQueue = FIFO<QueuedEvent>()
    /// The durable GC action set (§8).
    public var gcActions: Set<GCAction> = []
    /// Host pins: each pin holds `1,1` on its object (root objects get one at creation).
    public var pins: [KRef: Int] = [:]
    /// Result promises the host asked to keep: each holds 1 on its promise.
    public var heldResults: Set<KRef> = []

    /// The state of a new kernel.
    public init() {}

    func queue(_ name: QueueName) -> FIFO<QueuedEvent> {
        switch name {
        case .acceptance: return acceptanceQueue
        case .run: return runQueue
        case .reap: return reapQueue
        }
    }

    /// Applies one crank's delta; how a store replays what the kernel committed.
    public mutating func apply(_ delta: CrankDelta) {
        counters = delta.counters
        for (id, o) in delta.objects { objects[id] = o }
        for (id, p) in delta.promises { promises[id] = p }
        for (id, v) in delta.vats {
            vats[id] = v
            if v != nil {
                if clists[id] == nil { clists[id] = CList() }
                if vatstores[id] == nil { vatstores[id] = Vatstore() }
                if deliveryLogs[id] == nil { deliveryLogs[id] = DeliveryLog() }
            }
        }
        for (key, e) in delta.clistEntries { clists[key.vat, default: CList()].set(key.kref, e) }
        for (key, v) in delta.vatstore { vatstores[key.vat, default: Vatstore()][key.key] = v }
        for (name, id) in delta.queueRemovals {
            switch name {
            case .acceptance: precondition(acceptanceQueue.popFirst()?.id == id)
            case .run: precondition(runQueue.popFirst()?.id == id)
            case .reap: precondition(reapQueue.popFirst()?.id == id)
            }
        }
        for (name, e) in delta.queueAdds {
            switch name {
            case .acceptance: acceptanceQueue.push(e)
            case .run: runQueue.push(e)
            case .reap: reapQueue.push(e)
            }
        }
        for (a, present) in delta.gcActions {
            if present { gcActions.insert(a) } else { gcActions.remove(a) }
        }
        for (k, n) in delta.pins { pins[k] = n == 0 ? nil : n }
        for (k, held) in delta.heldResults {
            if held { heldResults.insert(k) } else { heldResults.remove(k) }
        }
        for (vat, r) in delta.deliveries {
            deliveryLogs[vat, default: DeliveryLog()].last = r.seq
            deliveryLogs[vat, default: DeliveryLog()].count += 1
        }
        for (vat, _) in delta.droppedDeliveries { deliveryLogs[vat]?.count -= 1 }
    }
}
