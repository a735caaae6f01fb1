/// One journal entry: the old value of something a crank changed.
enum Undo {
    case counters(KernelCounters)
    case object(Int, KernelObject?)
    case promise(Int, KernelPromise?)
    indirect case vat(VatID, VatRecord?)
    case vatCreated(VatID)
    case clist(VatID, KRef, CListEntry?)
    case vatstore(VatID, ByteString, ByteString?)
    case pushed(QueueName, QueuedEvent)
    case popped(QueueName, QueuedEvent)
    case gcAction(GCAction, wasPresent: Bool)
    case pin(KRef, Int)
    case held(KRef, Bool)
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
        journal.append(.object(id, state.objects[id]))
        state.objects[id] = o
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
        guard let i = state.objects.index(forKey: id) else { return nil }
        var o = state.objects.values[i]
        journal.append(.object(id, o))
        try body(&o)
        state.objects.values[i] = o
        return o
    }

    /// Changes an existing promise in place with one hash lookup; nil if it does not exist.
    @inline(__always)
    func modifyPromise(_ id: Int, _ body: (inout KernelPromise) throws -> Void) rethrows -> KernelPromise? {
        guard let i = state.promises.index(forKey: id) else { return nil }
        journal.append(.promise(id, state.promises.values[i]))
        try body(&state.promises.values[i])
        return state.promises.values[i]
    }

    func setPromise(_ id: Int, _ p: KernelPromise?) {
        journal.append(.promise(id, state.promises[id]))
        state.promises[id] = p
    }

    func setVat(_ id: VatID, _ v: VatRecord?) {
        let old = state.vats[id]
        journal.append(.vat(id, old))
        state.vats[id] = v
        if old?.isAlive != v?.isAlive || old?.receiveAbandonImport != v?.receiveAbandonImport {
            liveVatsCache = nil
            abandonImportVatsCache = nil
        }
        if old?.status != v?.status || old?.cleanedUp != v?.cleanedUp { pendingCleanupCache = nil }
    }

    /// Adds the empty per-vat tables of a new vat.
    func createVatTables(_ id: VatID) {
        journal.append(.vatCreated(id))
        state.clists[id] = CList()
        state.vatstores[id] = Vatstore()
        state.deliveryLogs[id] = DeliveryLog()
    }

    func setCListEntry(_ vat: VatID, _ kref: KRef, _ e: CListEntry?) {
        journal.append(.clist(vat, kref, state.clists[vat]?[kref]))
        state.clists[vat, default: CList()].set(kref, e)
    }

    func setVatstore(_ vat: VatID, _ key: ByteString, _ value: ByteString?) {
        journal.append(.vatstore(vat, key, state.vatstores[vat]?[key]))
        state.vatstores[vat, default: Vatstore()][key] = value
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
        journal.append(.gcAction(a, wasPresent: was))
        if present { state.gcActions.insert(a) } else { state.gcActions.remove(a) }
    }

    func setPins(_ kref: KRef, _ n: Int) {
        journal.append(.pin(kref, state.pins[kref] ?? 0))
        state.pins[kref] = n == 0 ? nil : n
    }

    func setHeld(_ kpid: KRef, _ held: Bool) {
        let was = state.heldResults.contains(kpid)
        journal.append(.held(kpid, was))
        if held { state.heldResults.insert(kpid) } else { state.heldResults.remove(kpid) }
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
        state.deliveryLogs[vat] = log
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
        state.deliveryLogs[vat] = log
    }

    func undo(_ u: Undo) {
        switch u {
        case .counters(let c): state.counters = c
        case .object(let id, let o): state.objects[id] = o
        case .promise(let id, let p): state.promises[id] = p
        case .vat(let id, let v):
            state.vats[id] = v
            liveVatsCache = nil
            abandonImportVatsCache = nil
            pendingCleanupCache = nil
        case .vatCreated(let id):
            state.clists[id] = nil
            state.vatstores[id] = nil
            state.deliveryLogs[id] = nil
        case .clist(let vat, let kref, let e): state.clists[vat, default: CList()].set(kref, e)
        case .vatstore(let vat, let key, let v): state.vatstores[vat, default: Vatstore()][key] = v
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
        case .gcAction(let a, let was):
            if was { state.gcActions.insert(a) } else { state.gcActions.remove(a) }
        case .pin(let k, let n): state.pins[k] = n == 0 ? nil : n
        case .held(let k, let was):
            if was { state.heldResults.insert(k) } else { state.heldResults.remove(k) }
        case .delivery(let vat, let r):
            state.deliveryLogs[vat]!.last = r.seq - 1
            state.deliveryLogs[vat]!.count -= 1
            if storage == nil { memoryRecords.removeLast(vat) }
        case .deliveriesDropped(let vat, _, let count, let records):
            state.deliveryLogs[vat]!.count += count
            if storage == nil { memoryRecords.restore(vat, records) }
        }
    }

    /// The crank's changes as rows to write: each touched key with its current value.
    func makeDelta() -> CrankDelta {
        var d = CrankDelta(crank: state.counters.crank, counters: state.counters)
        var pushedIDs: Set<Int> = []
        var removals: [(QueueName, Int)] = []
        for u in journal {
            switch u {
            case .counters: break
            case .object(let id, _): d.objects[id] = .some(state.objects[id])
            case .promise(let id, _): d.promises[id] = .some(state.promises[id])
            case .vat(let id, _): d.vats[id] = .some(state.vats[id])
            case .vatCreated(let id): d.vats[id] = .some(state.vats[id])
            case .clist(let vat, let kref, _):
                d.clistEntries[CListKey(vat: vat, kref: kref)] = .some(state.clists[vat]?[kref])
            case .vatstore(let vat, let key, _):
                d.vatstore[VatstoreKey(vat: vat, key: key)] = .some(state.vatstores[vat]?[key])
            case .pushed(let name, let e):
                pushedIDs.insert(e.id)
                d.queueAdds.append((name, e))
            case .popped(let name, let e):
                if pushedIDs.remove(e.id) != nil {
                    d.queueAdds.removeAll { $0.1.id == e.id }
                } else {
                    removals.append((name, e.id))
                }
            case .gcAction(let a, _): d.gcActions[a] = state.gcActions.contains(a)
            case .pin(let k, _): d.pins[k] = state.pins[k] ?? 0
            case .held(let k, _): d.heldResults[k] = state.heldResults.contains(k)
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
