/// Vat termination and the slow cleanup after it (KERNEL-SPEC §9).
extension Kernel {
    /// Marks the vat terminated and rejects every unresolved promise it decides with
    /// `Error("vat terminated")`, in vref text order. C-lists are left for the cleanup cranks.
    /// The host holds the reason's slots until it releases them (§13.8).
    func terminateVat(_ vat: VatID, isFailure: Bool, info: CapData<KRef>) throws {
        guard var v = state.vats[vat], v.isAlive else { return }
        try incRefSlots(info.slots)
        v.status = .terminated(TerminationInfo(isFailure: isFailure, info: info, crank: currentCrank, reasonHeld: !info.slots.isEmpty))
        setVat(vat, v)
        traceEvent(.vatTerminated(vat: vat, isFailure: isFailure, info: info))
        for kpid in promisesDecided(by: vat) {
            try resolveKernelPromise(kpid, rejected: true, data: .error("vat terminated"))
        }
    }

    /// The unresolved promises `vat` decides among its c-list entries, in vref text order
    /// (`p+…` before `p-…`).
    func promisesDecided(by vat: VatID) -> [KRef] {
        guard let clist = state.clists[vat] else { return [] }
        return clist.byKRef.compactMap { kref, e -> (String, KRef)? in
            guard kref.isPromise, let p = state.promises[kref.number], p.state == .unresolved, p.decider == vat else { return nil }
            return (e.vref.description, kref)
        }.sorted { $0.0.precedesInBytes($1.0) }.map(\.1)
    }

    /// One `cleanup-terminated-vat` crank for the first pending vat: at most
    /// `configuration.cleanupBudget` c-list entries or vatstore keys. Exports are orphaned,
    /// imports and promises released; then the vatstore goes; then the vat is forgotten with its
    /// delivery log (its record stays, marked cleaned up, so the host can still read why it died).
    func cleanupStep(_ vat: VatID) throws -> CrankReport {
        var cursor = cleanupWork[vat] ?? CleanupCursor(remaining: state.clists[vat]?.krefsInCleanupOrder() ?? [])
        var budget = max(1, configuration.cleanupBudget)
        var work = CleanupWork()
        while budget > 0, cursor.next < cursor.remaining.count {
            let kref = cursor.remaining[cursor.next]
            cursor.next += 1
            guard let entry = state.clists[vat]?[kref] else { continue }
            budget -= 1
            if entry.vref.isExport {
                try insist(state.objects[kref.number]?.owner == vat, "terminated \(vat) exports \(kref) it does not own")
                try orphanKernelObject(kref, formerOwner: vat)
                work.exports += 1
            } else {
                try deleteCListEntry(vat, kref)
                if kref.isPromise { work.promises += 1 } else { work.imports += 1 }
            }
        }
        if cursor.next >= cursor.remaining.count {
            // Smallest key first, so each crank's share is the same whatever came before.
            while budget > 0, let key = state.vatstores[vat]?.firstKey {
                setVatstore(vat, key, nil)
                budget -= 1
                work.kv += 1
            }
        }
        var done = false
        if cursor.next >= cursor.remaining.count, state.vatstores[vat]?.isEmpty ?? true {
            try insist(state.clists[vat]?.count == 0, "cleanup of \(vat) left c-list entries")
            var v = state.vats[vat]!
            try decRefSlots(v.vatParameters.slots)
            v.vatParameters = CapData(body: .null)
            v.cleanedUp = true
            // The log goes with the vat: its records are dropped as if its driver had
            // acknowledged them all, so the log's numbering stays where it was.
            let log = state.deliveryLogs[vat] ?? DeliveryLog()
            v.deliveriesAcknowledged = max(v.deliveriesAcknowledged, log.last)
            setVat(vat, v)
            dropDeliveries(vat, first: log.count)
            cleanupWork[vat] = nil
            done = true
        } else {
            cleanupWork[vat] = cursor
        }
        traceEvent(.vatCleanup(vat: vat, work: work, done: done))
        return CrankReport(crank: currentCrank, kind: .cleanupTerminatedVat, vat: vat,
                           note: .cleanup(vat: vat, exportsOrphaned: work.exports, released: work.imports + work.promises,
                                          vatstoreKeysDeleted: work.kv, done: done))
    }
}
