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
/// The kernel owns one and changes it only inside cranks: the keyed tables journal their own
/// changes (`JournaledTable`); the counters, the queues and the delivery logs' records go
/// through the kernel's journal. Storage gets each crank's changes as a `CrankDelta` and can
/// hand a whole state back at start-up.
public struct KernelState: Hashable, Sendable {
    /// Numbers handed out and cranks committed.
    public var counters = KernelCounters()
    /// Kernel objects by the number of their `koN`.
    public var objects = JournaledTable<[Int: KernelObject]>()
    /// Kernel promises by the number of their `kpN`.
    public var promises = JournaledTable<[Int: KernelPromise]>()
    /// Every vat ever created (terminated ones keep a record).
    public var vats = JournaledTable<VatTable<VatRecord>>()
    /// Each vat's c-list.
    public var clists = JournaledTable<CLists>()
    /// Each vat's vatstore (§5.9).
    public var vatstores = JournaledTable<Vatstores>()
    /// Where each vat's delivery log stands; its records are in the storage
    /// (`Kernel.deliveries(_:after:limit:maxBytes:)` reads them).
    public var deliveryLogs = JournaledTable<VatTable<DeliveryLog>>()
    /// New sends and notifies, routed first (§4).
    public var acceptanceQueue = FIFO<QueuedEvent>()
    /// Routed work waiting for delivery.
    public var runQueue = FIFO<QueuedEvent>()
    /// bringOutYourDead requests.
    public var reapQueue = FIFO<QueuedEvent>()
    /// The durable GC action set (§8).
    public var gcActions = JournaledTable<Set<GCAction>>()
    /// Host pins: each pin holds `1,1` on its object (root objects get one at creation).
    public var pins = JournaledTable<[KRef: Int]>()
    /// Result promises the host asked to keep: each holds 1 on its promise.
    public var heldResults = JournaledTable<Set<KRef>>()

    /// The state of a new kernel.
    public init() {}

    /// Every journaled table, once: the one list that commit, abort and group undo go over.
    mutating func forEachTable<V: TableVisitor>(_ v: inout V) {
        v.visit(&objects)
        v.visit(&promises)
        v.visit(&vats)
        v.visit(&clists)
        v.visit(&vatstores)
        v.visit(&deliveryLogs)
        v.visit(&gcActions)
        v.visit(&pins)
        v.visit(&heldResults)
    }

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
        objects.apply(delta.objects)
        promises.apply(delta.promises)
        vats.apply(delta.vats)
        for (id, v) in delta.vats where v != nil {
            clists.rows.addVat(id)
            vatstores.rows.addVat(id)
            if deliveryLogs[id] == nil { deliveryLogs.rows[id] = DeliveryLog() }
        }
        clists.apply(delta.clistEntries)
        vatstores.apply(delta.vatstore)
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
        gcActions.apply(delta.gcActions)
        pins.apply(delta.pins)
        heldResults.apply(delta.heldResults)
        deliveryLogs.apply(delta.deliveryLogs)
    }
}
