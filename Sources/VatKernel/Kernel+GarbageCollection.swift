/// Refcount processing and the GC action set (KERNEL-SPEC §8).
extension Kernel {
    /// End of every crank: free promises nobody counts, and turn unreachable objects into
    /// GC actions (live owner) or retire them (orphans). Works the maybe-free list until it
    /// is empty (KERNEL-SPEC §13.8): a kref leaves the set when it is visited, so one that
    /// is released again later in the walk (say by deleting a promise whose data held it,
    /// agoric-sdk #9888) is visited again, and nothing a crank releases is left behind.
    func processRefcounts() throws {
        var i = 0
        while i < maybeFree.count {
            let kref = maybeFree[i]
            i += 1
            maybeFreeSet.remove(kref)
            switch kref.kind {
            case .promise:
                guard let p = state.promises[kref.number], p.refCount == 0 else { continue }
                if let data = p.data { try decRefSlots(data.slots) }
                setPromise(kref.number, nil)
            case .object:
                try processObjectRefcount(kref)
            case .device:
                continue
            }
        }
        clearMaybeFree()
    }

    private func processObjectRefcount(_ kref: KRef) throws {
        guard var o = state.objects[kref.number] else { return }
        guard o.reachable == 0 else { return }
        if let owner = o.owner, state.vats[owner]?.isAlive == true {
            if state.clists[owner]?[kref]?.reachable == true {
                setGCAction(GCAction(owner, .dropExport, kref), present: true)
            }
            if o.recognizable == 0 {
                setGCAction(GCAction(owner, .retireExport, kref), present: true)
            }
            return
        }
        if let owner = o.owner {
            // The owner is terminated and its cleanup has not reached this export yet.
            if state.clists[owner]?[kref] != nil { setCListEntry(owner, kref, nil) }
            o.owner = nil
            setObject(kref.number, o)
            traceEvent(.objectOrphaned(kref: kref, formerOwner: owner))
        }
        if o.recognizable > 0 {
            try retireKernelObjects([kref])
        } else {
            retireObject(kref)
        }
    }

    /// Deletes objects whose exporter is gone, telling every live importer to retire them.
    func retireKernelObjects(_ krefs: [KRef]) throws {
        let liveVats = liveVatIDs()
        for kref in krefs {
            for vat in liveVats {
                if let e = state.clists[vat]?[kref], !e.vref.allocatedByVat {
                    setGCAction(GCAction(vat, .retireImport, kref), present: true)
                }
            }
            retireObject(kref)
        }
    }

    /// `orphanKernelObject` (§5.8): the object loses its owner and the owner's c-list
    /// entry, with no count change; importers and counts stay as they are. Every caller has
    /// found `kref` as an export in `vat`'s c-list, so an object that is missing or owned by
    /// another vat is a broken invariant: a kernel bug, which halts, never the vat's fault.
    func orphanKernelObject(_ kref: KRef, formerOwner vat: VatID) throws {
        guard var o = state.objects[kref.number], o.owner == vat else {
            throw KernelBug("orphaning \(kref), which \(vat) exports but does not own")
        }
        o.owner = nil
        setObject(kref.number, o)
        setCListEntry(vat, kref, nil)
        traceEvent(.objectOrphaned(kref: kref, formerOwner: vat))
        addMaybeFree(kref)
        // Importers that opted in are told (§13.8); the action survives only while the object
        // is still an orphan and the importer still has the entry.
        for importer in liveVatsReceivingAbandonImport() {
            if let e = state.clists[importer]?[kref], !e.vref.allocatedByVat {
                setGCAction(GCAction(importer, .abandonImport, kref), present: true)
            }
        }
    }

    /// One GC crank: the first vat/type group with survivors becomes a delivery; every
    /// action examined is removed. Nil if the set is empty.
    func processGCActionSet() throws -> CrankReport? {
        guard !state.gcActions.isEmpty else { return nil }
        var groups: [VatID: [GCAction.Kind: [KRef]]] = [:]
        for a in state.gcActions { groups[a.vat, default: [:]][a.kind, default: []].append(a.kref) }
        for vat in groups.keys.sorted() {
            for kind in GCAction.Kind.allCases {
                guard let krefs = groups[vat]?[kind] else { continue }
                for kref in krefs { setGCAction(GCAction(vat, kind, kref), present: false) }
                let survivors = krefs.filter { survives(vat, kind, $0) }.sorted()
                if !survivors.isEmpty { return try deliverGC(vat, kind, survivors) }
            }
        }
        return CrankReport(crank: currentCrank, kind: .negatedGCAction, note: .negated)
    }

    private func survives(_ vat: VatID, _ kind: GCAction.Kind, _ kref: KRef) -> Bool {
        let entry = state.clists[vat]?[kref]
        switch kind {
        case .dropExport:
            guard let o = state.objects[kref.number] else { return false }
            return o.reachable == 0 && entry?.reachable == true
        case .retireExport:
            guard let o = state.objects[kref.number] else { return false }
            return o.reachable == 0 && o.recognizable == 0 && entry != nil
        case .retireImport:
            return entry != nil
        case .abandonImport:
            guard let o = state.objects[kref.number], o.owner == nil, let entry else { return false }
            return !entry.vref.allocatedByVat
        }
    }
}
