/// The changes that are not a row of a keyed table (those journal themselves, in
/// `JournaledTable`), with what undoing each needs, in the order they were made.
enum Undo {
    case counters(KernelCounters)
    /// A vat's empty c-list and vatstore were added.
    case vatCreated(VatID)
    case pushed(QueueName, QueuedEvent)
    case popped(QueueName, QueuedEvent)
    case delivery(VatID, DeliveryRecord)
    /// The log's first `count` records, from seq `first`, were dropped (acknowledged); a kernel
    /// without storage keeps the `records` themselves, to put back.
    case deliveriesDropped(VatID, first: Int, count: Int, records: [DeliveryRecord])
}

/// Every change to `state` goes through these setters, which journal the old value.
extension Kernel {
    func setCounters(_ c: KernelCounters) {
        journal.append(.counters(state.counters))
        state.counters = c
    }

    func setObject(_ id: Int, _ o: KernelObject?) {
        state.objects.set(id, o)
    }

    /// Deletes an object from the table, tracing its retirement.
    func retireObject(_ kref: KRef) {
        let owner = state.objects[kref.number]?.owner
        setObject(kref.number, nil)
        traceEvent(.objectRetired(kref: kref, owner: owner))
    }

    /// Changes an existing object in place with one hash lookup; nil if it does not exist.
    @inline(__always)
    func modifyObject(_ id: Int, _ body: (inout KernelObject) throws -> Void) rethrows -> KernelObject? {
        try state.objects.modify(id, body)
    }

    /// Changes an existing promise in place with one hash lookup; nil if it does not exist.
    @inline(__always)
    func modifyPromise(_ id: Int, _ body: (inout KernelPromise) throws -> Void) rethrows -> KernelPromise? {
        try state.promises.modify(id, body)
    }

    func setPromise(_ id: Int, _ p: KernelPromise?) {
        state.promises.set(id, p)
    }

    func setVat(_ id: VatID, _ v: VatRecord?) {
        let old = state.vats[id]
        state.vats.set(id, v)
        if old?.isAlive != v?.isAlive || old?.receiveAbandonImport != v?.receiveAbandonImport {
            liveVatsCache = nil
            abandonImportVatsCache = nil
        }
        if old?.status != v?.status || old?.cleanedUp != v?.cleanedUp { pendingCleanupCache = nil }
    }

    /// Adds the empty per-vat tables of a new vat.
    func createVatTables(_ id: VatID) {
        journal.append(.vatCreated(id))
        state.clists.rows.addVat(id)
        state.vatstores.rows.addVat(id)
        state.deliveryLogs.set(id, DeliveryLog())
    }

    func setCListEntry(_ vat: VatID, _ kref: KRef, _ e: CListEntry?) {
        state.clists.set(CListKey(vat: vat, kref: kref), e)
    }

    func setVatstore(_ vat: VatID, _ key: ByteString, _ value: ByteString?) {
        state.vatstores.set(VatstoreKey(vat: vat, key: key), value)
    }

    func push(_ name: QueueName, _ event: KernelEvent) {
        var c = state.counters
        let qe = QueuedEvent(id: c.nextQueueID, event: event)
        c.nextQueueID += 1
        setCounters(c)
        journal.append(.pushed(name, qe))
        switch name {
        case .acceptance: state.acceptanceQueue.push(qe)
        case .run: state.runQueue.push(qe)
        case .reap: state.reapQueue.push(qe)
        }
    }

    func pop(_ name: QueueName) -> QueuedEvent? {
        let e: QueuedEvent?
        switch name {
        case .acceptance: e = state.acceptanceQueue.popFirst()
        case .run: e = state.runQueue.popFirst()
        case .reap: e = state.reapQueue.popFirst()
        }
        if let e { journal.append(.popped(name, e)) }
        return e
    }

    func setGCAction(_ a: GCAction, present: Bool) {
        let was = state.gcActions.contains(a)
        guard was != present else { return }
        state.gcActions.set(a, present ? true : nil)
    }

    func setPins(_ kref: KRef, _ n: Int) {
        state.pins.set(kref, n == 0 ? nil : n)
    }

    func setHeld(_ kpid: KRef, _ held: Bool) {
        state.heldResults.set(kpid, held ? true : nil)
    }

    /// Appends a delivery to a vat's log, numbered and stamped with the running crank; `kd`
    /// is the same delivery in kernel references, for the trace.
    @discardableResult
    func appendDelivery(_ vat: VatID, _ d: Delivery, kd: KernelDelivery) -> DeliveryRecord {
        // After everything acknowledged was dropped the log is empty; numbering goes on.
        var log = state.deliveryLogs[vat] ?? DeliveryLog()
        log.last += 1
        log.count += 1
        let record = DeliveryRecord(seq: log.last, crank: currentCrank, delivery: d)
        journal.append(.delivery(vat, record))
        state.deliveryLogs.set(vat, log)
        if storage == nil { memoryRecords.append(vat, record) }
        traceEvent(.deliver(vat: vat, record: record, kd: kd))
        return record
    }

    /// Drops the first `count` records of a vat's log.
    func dropDeliveries(_ vat: VatID, first count: Int) {
        guard count > 0, var log = state.deliveryLogs[vat], count <= log.count else { return }
        let first = log.first
        let records = storage == nil ? memoryRecords.removeFirst(vat, count) : []
        journal.append(.deliveriesDropped(vat, first: first, count: count, records: records))
        log.count -= count
        state.deliveryLogs.set(vat, log)
    }

    /// Undoes one change of the ordered journal.
    func undo(_ u: Undo) {
        switch u {
        case .counters(let c): state.counters = c
        case .vatCreated(let id):
            state.clists.rows.removeVat(id)
            state.vatstores.rows.removeVat(id)
        case .pushed(let name, _):
            switch name {
            case .acceptance: state.acceptanceQueue.unpush()
            case .run: state.runQueue.unpush()
            case .reap: state.reapQueue.unpush()
            }
        case .popped(let name, let e):
            switch name {
            case .acceptance: state.acceptanceQueue.unpop(e)
            case .run: state.runQueue.unpop(e)
            case .reap: state.reapQueue.unpop(e)
            }
        case .delivery(let vat, _):
            if storage == nil { memoryRecords.removeLast(vat) }
        case .deliveriesDropped(let vat, _, _, let records):
            if storage == nil { memoryRecords.restore(vat, records) }
        }
    }

    /// Takes one step on every keyed table's journal.
    func tables(_ step: TableStep) {
        var v = StepVisitor(step: step)
        state.forEachTable(&v)
    }

    /// How many changes the keyed tables hold in their journals.
    func tableChangesJournaled() -> Int {
        var v = CountVisitor()
        state.forEachTable(&v)
        return v.count
    }

    /// True if the running crank changed a keyed table.
    func tablesChangedInCrank() -> Bool {
        var v = ChangedVisitor()
        state.forEachTable(&v)
        return v.changed
    }

    /// The crank's changes as rows to write: each touched key with its current value.
    func makeDelta() -> CrankDelta {
        var d = CrankDelta(crank: state.counters.crank, counters: state.counters)
        d.objects = state.objects.crankChanges()
        d.promises = state.promises.crankChanges()
        d.vats = state.vats.crankChanges()
        d.clistEntries = state.clists.crankChanges()
        d.vatstore = state.vatstores.crankChanges()
        d.gcActions = state.gcActions.crankChanges()
        d.pins = state.pins.crankChanges()
        d.heldResults = state.heldResults.crankChanges()
        d.deliveryLogs = state.deliveryLogs.crankChanges()
        var pushedIDs: Set<Int> = []
        var removals: [(QueueName, Int)] = []
        for u in journal {
            switch u {
            case .counters, .vatCreated: break
            case .pushed(let name, let e):
                pushedIDs.insert(e.id)
                d.queueAdds.append((name, e))
            case .popped(let name, let e):
                if pushedIDs.remove(e.id) != nil {
                    d.queueAdds.removeAll { $0.1.id == e.id }
                } else {
                    removals.append((name, e.id))
                }
            case .delivery(let vat, let r): d.deliveries.append((vat, r))
            case .deliveriesDropped(let vat, let first, let count, _):
                d.droppedDeliveries += (first..<(first + count)).map { (vat, $0) }
            }
        }
        d.queueRemovals = removals
        d.start = crankStart
        d.trace = trace
        return d
    }
}

private struct StepVisitor: TableVisitor {
    let step: TableStep
    mutating func visit<Rows: TableRows>(_ table: inout JournaledTable<Rows>) { table.take(step) }
}

private struct CountVisitor: TableVisitor {
    var count = 0
    mutating func visit<Rows: TableRows>(_ table: inout JournaledTable<Rows>) { count += table.journaled }
}

private struct ChangedVisitor: TableVisitor {
    var changed = false
    mutating func visit<Rows: TableRows>(_ table: inout JournaledTable<Rows>) {
        if table.changedInCrank { changed = true }
    }
}
