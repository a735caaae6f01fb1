/// What the host asks of the kernel (KERNEL-SPEC §13.5): vats, sends, pins, held results.
/// Each request that changes something is one crank.
public enum ResultPolicy: String, Hashable, Sendable, CaseIterable {
    /// No result promise.
    case none
    /// A result promise the host keeps (+1) until it releases it.
    case keep
    /// A result promise nobody holds: collected once settled and unreferenced.
    case ignore
}

/// A newly created vat.
public struct CreatedVat: Hashable, Sendable {
    /// The new vat.
    public var vatID: VatID
    /// The kref of its root object `o+0`, pinned for the host.
    public var rootKref: KRef
    /// Always 0 for a new vat.
    public var incarnation: Int
}

extension Kernel {
    /// Creates a vat: its root `o+0` exported and pinned (`1,1`), its parameters held, and a
    /// `startVat` delivery as the first entry of its log. `tokenHash` (the SHA-256 of the vat's
    /// bearer token, chosen by the host) is kept in the vat's record.
    public func createVat(name: ByteString, options: JSONValue = .object([:]),
                          vatParameters: CapData<KRef> = CapData(body: .null), tokenHash: [UInt8]? = nil) throws(KernelError) -> CreatedVat {
        try checkHostSlots(vatParameters.slots)
        let start = CrankStart(kind: .host, vat: VatID(state.counters.nextVat),
                               request: .createVat(name: name, options: options, vatParameters: vatParameters))
        return try crank(start) {
            var c = state.counters
            let vat = VatID(c.nextVat)
            c.nextVat += 1
            setCounters(c)
            setVat(vat, VatRecord(id: vat, name: name, options: options, vatParameters: vatParameters, tokenHash: tokenHash))
            traceEvent(.vatCreated(vat: vat, name: name, options: options, vatParameters: vatParameters))
            createVatTables(vat)
            let root = try mapV2K(vat, .root)
            try pinWithinCrank(root)
            try incRefSlots(vatParameters.slots)
            appendDelivery(vat, .startVat(vatParameters: try mapK2V(vat, vatParameters)), kd: .startVat(vatParameters: vatParameters))
            return CreatedVat(vatID: vat, rootKref: root, incarnation: 0)
        }
    }

    /// `queueToKref`: the host sends a message to an object or promise. Returns the result
    /// promise, if one was asked for.
    public func queueToKref(target: KRef, methargs: CapData<KRef>, result: ResultPolicy) throws(KernelError) -> KRef? {
        try checkHostSlots([target] + methargs.slots)
        return try crank(CrankStart(kind: .host, request: .send(target: target, methargs: methargs, result: result))) {
            var kresult: KRef?
            if result != .none {
                let kpid = allocatePromise(decider: nil)
                if result == .keep {
                    setHeld(kpid, true)
                    try incRef(kpid)
                }
                kresult = kpid
            }
            let message = Message(methargs: methargs, result: kresult)
            try incRefMessage(target: target, message)
            push(.acceptance, .send(target: target, message: message))
            return kresult
        }
    }

    /// SwingSet's `addExport`: the host takes (and pins) one of the vat's exports, creating
    /// it if the vat never mentioned it.
    public func addExport(vat: VatID, vref: VRef) throws(KernelError) -> KRef {
        guard let record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        guard record.isAlive else { throw KernelError.vatTerminated(vat) }
        guard vref.isExport else { throw KernelError.rejected("\(vref) is not an object export (o+…)") }
        return try crank(CrankStart(kind: .host, vat: vat, request: .addExport(vat: vat, vref: vref))) {
            let kref = try mapV2K(vat, vref)
            try pinWithinCrank(kref)
            return kref
        }
    }

    /// Adds one host pin (`1,1`) to an object.
    public func pin(_ kref: KRef) throws(KernelError) {
        guard kref.isObject else { throw KernelError.rejected("only objects can be pinned, not \(kref)") }
        try checkHostSlots([kref])
        try crank(CrankStart(kind: .host, request: .pin(kref))) { try pinWithinCrank(kref) }
    }

    /// Removes one host pin; the object may then be collected.
    public func unpin(_ kref: KRef) throws(KernelError) {
        guard kref.isObject, state.objects[kref.number] != nil else { throw KernelError.unknownKRef(kref) }
        let n = state.pins[kref] ?? 0
        guard n > 0 else { throw KernelError.rejected("\(kref) is not pinned") }
        try crank(CrankStart(kind: .host, request: .unpin(kref))) {
            setPins(kref, n - 1)
            try decRef(kref)
        }
    }

    /// Releases a result promise the host kept.
    public func releaseResult(_ kpid: KRef) throws(KernelError) {
        guard kpid.isPromise, state.promises[kpid.number] != nil else { throw KernelError.unknownKRef(kpid) }
        guard state.heldResults.contains(kpid) else { throw KernelError.rejected("\(kpid) is not held by the host") }
        try crank(CrankStart(kind: .host, request: .releaseResult(kpid))) {
            setHeld(kpid, false)
            try decRef(kpid)
        }
    }

    /// Releases the host's hold on the references in a terminated vat's reason (§13.8); what
    /// nothing else holds is then collected by the normal rules, in this crank. The reason
    /// itself stays readable.
    public func releaseTerminationReason(_ vat: VatID) throws(KernelError) {
        guard var record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        guard var t = record.termination else { throw KernelError.rejected("\(vat) is not terminated") }
        guard t.reasonHeld else { throw KernelError.rejected("the host holds nothing of \(vat)'s termination reason") }
        try crank(CrankStart(kind: .host, vat: vat, request: .releaseTerminationReason(vat))) {
            t.reasonHeld = false
            record.status = .terminated(t)
            setVat(vat, record)
            try decRefSlots(t.info.slots)
        }
    }

    /// The vat's driver has handled its deliveries through `seq`: recorded, and with `drop`
    /// those records leave the log (and the store) in this crank. The log's numbering goes on.
    /// Acknowledging less than before changes nothing; more than the log holds is refused.
    /// Returns what is now acknowledged and how many records were dropped.
    public func acknowledgeDeliveries(_ vat: VatID, through seq: Int, drop: Bool) throws(KernelError) -> (acknowledged: Int, dropped: Int) {
        guard var record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        let log = state.deliveryLogs[vat] ?? DeliveryLog(last: record.deliveriesAcknowledged)
        guard seq >= 0, seq <= log.last else {
            throw KernelError.rejected("\(vat) has deliveries 1 to \(log.last); \(seq) cannot be acknowledged")
        }
        let acknowledged = max(record.deliveriesAcknowledged, seq)
        // The log holds first...last, so the records through `acknowledged` are its first ones.
        let droppable = drop ? max(0, min(acknowledged, log.last) - log.first + 1) : 0
        if acknowledged == record.deliveriesAcknowledged && droppable == 0 { return (acknowledged, 0) }
        try crank(CrankStart(kind: .host, vat: vat, request: .acknowledgeDeliveries(vat: vat, through: seq, drop: drop))) {
            record.deliveriesAcknowledged = acknowledged
            setVat(vat, record)
            dropDeliveries(vat, first: droppable)
        }
        return (acknowledged, droppable)
    }

    /// The vat's delivery records with `seq > after`, oldest first: at most `limit`, and (from
    /// a store that keeps an encoding) about `maxBytes` of it, the first always. Read from the
    /// storage, or from memory for a kernel without one; an unknown vat has none.
    public func deliveries(_ vat: VatID, after: Int = 0, limit: Int = .max, maxBytes: Int = .max) throws(KernelError) -> [DeliveryRecord] {
        guard let storage else { return memoryRecords.records(vat, after: after, limit: limit) }
        do {
            return try storage.deliveries(vat, after: after, limit: limit, maxBytes: maxBytes)
        } catch {
            throw .storageFailure(String(describing: error))
        }
    }

    /// Schedules a `bringOutYourDead` delivery (the reap queue).
    public func bringOutYourDead(_ vat: VatID) throws(KernelError) {
        guard let record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        guard record.isAlive else { throw KernelError.vatTerminated(vat) }
        try crank(CrankStart(kind: .host, vat: vat, request: .bringOutYourDead(vat))) { push(.reap, .bringOutYourDead(vat: vat)) }
    }

    /// The host's `terminateVatExternally`: the vat dies with `Error(reason)`.
    public func terminate(_ vat: VatID, reason: String) throws(KernelError) {
        guard let record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        guard record.isAlive else { throw KernelError.vatTerminated(vat) }
        try crank(CrankStart(kind: .host, vat: vat, request: .terminate(vat: vat, reason: reason))) {
            try terminateVat(vat, isFailure: true, info: .error(reason))
        }
    }

    func pinWithinCrank(_ kref: KRef) throws {
        setPins(kref, (state.pins[kref] ?? 0) + 1)
        try incRef(kref)
    }

    /// Every kref the host names must be a live object or promise.
    func checkHostSlots(_ krefs: [KRef]) throws(KernelError) {
        for k in krefs {
            switch k.kind {
            case .object:
                guard let o = state.objects[k.number] else { throw KernelError.unknownKRef(k) }
                // Its exporter was told nobody reaches it: the host may not reach it again.
                if let owner = o.owner, state.clists[owner]?[k]?.reachable == false {
                    throw KernelError.rejected("\(k) was dropped by its exporter \(owner) and can no longer be reached")
                }
            case .promise: if state.promises[k.number] == nil { throw KernelError.unknownKRef(k) }
            case .device: throw KernelError.unknownKRef(k)
            }
        }
    }
}
