/// The refcount primitives and the c-list translations of KERNEL-SPEC §3, exactly.
extension Kernel {
    // MARK: Allocation

    func allocateObject(owner: VatID?) -> KRef {
        let n = takeNumber(\.nextObject)
        setObject(n, KernelObject(owner: owner))
        return .object(n)
    }

    func allocatePromise(decider: VatID?) -> KRef {
        let n = takeNumber(\.nextPromise)
        setPromise(n, KernelPromise(decider: decider))
        return .promise(n)
    }

    /// The counter's next number, which the counter then moves past (journaled).
    private func takeNumber(_ counter: WritableKeyPath<KernelCounters, Int>) -> Int {
        var c = state.counters
        let n = c[keyPath: counter]
        c[keyPath: counter] += 1
        setCounters(c)
        return n
    }

    // MARK: incRef / decRef

    /// Promise: +1. Object (unless an exporter's entry): recognizable +1, and reachable +1
    /// unless `onlyRecognizable`.
    func incRef(_ kref: KRef, onlyRecognizable: Bool = false, isExport: Bool = false) throws {
        switch kref.kind {
        case .promise:
            guard modifyPromise(kref.number, { $0.refCount += 1 }) != nil else {
                throw KernelBug("incRef of missing promise \(kref)")
            }
        case .object:
            guard !isExport else { return }
            let o = modifyObject(kref.number) { o in
                o.recognizable += 1
                if !onlyRecognizable { o.reachable += 1 }
            }
            if o == nil { throw KernelBug("incRef of missing object \(kref)") }
        case .device:
            break
        }
    }

    /// The reverse of `incRef`. A missing object is a silent no-op (it may have been retired);
    /// an object whose reachable or recognizable count reaches 0 may be freed.
    func decRef(_ kref: KRef, onlyRecognizable: Bool = false, isExport: Bool = false) throws {
        switch kref.kind {
        case .promise:
            guard let p = modifyPromise(kref.number, { $0.refCount -= 1 }) else {
                throw KernelBug("decRef of missing promise \(kref)")
            }
            try insist(p.refCount >= 0, "promise \(kref) refCount underflow")
            if p.refCount == 0 { addMaybeFree(kref) }
        case .object:
            guard !isExport else { return }
            guard let o = modifyObject(kref.number, { o in
                if !onlyRecognizable { o.reachable -= 1 }
                o.recognizable -= 1
            }) else { return }
            try insist(o.reachable >= 0 && o.recognizable >= o.reachable,
                       "object \(kref) refCount \(o.reachable),\(o.recognizable) broke 0 ≤ reachable ≤ recognizable")
            if o.reachable == 0 || o.recognizable == 0 { addMaybeFree(kref) }
        case .device:
            break
        }
    }

    func incRefSlots(_ slots: [KRef]) throws { for s in slots { try incRef(s) } }
    func decRefSlots(_ slots: [KRef]) throws { for s in slots { try decRef(s) } }

    /// Counts held by a queued message: its target, its result and every slot.
    func incRefMessage(target: KRef, _ m: Message) throws {
        try incRef(target)
        if let r = m.result { try incRef(r) }
        try incRefSlots(m.methargs.slots)
    }

    func decRefMessage(target: KRef, _ m: Message) throws {
        try decRef(target)
        if let r = m.result { try decRef(r) }
        try decRefSlots(m.methargs.slots)
    }

    // MARK: Reachable flag

    /// Sets the flag; an object import that becomes reachable adds one reachable count.
    func setReachableFlag(_ vat: VatID, _ kref: KRef) throws {
        guard var e = state.clists[vat]?[kref], !e.reachable else { return }
        e.reachable = true
        setCListEntry(vat, kref, e)
        if kref.isObject, !e.vref.allocatedByVat, let o = modifyObject(kref.number, { $0.reachable += 1 }) {
            try insist(o.reachable <= o.recognizable, "object \(kref) reachable above recognizable")
        }
    }

    /// Clears the flag; an object import that stops being reachable loses one reachable count
    /// (if the object still exists). Clearing a clear flag does nothing.
    func clearReachableFlag(_ vat: VatID, _ kref: KRef) throws {
        guard var e = state.clists[vat]?[kref], e.reachable else { return }
        e.reachable = false
        setCListEntry(vat, kref, e)
        if kref.isObject, !e.vref.allocatedByVat, let o = modifyObject(kref.number, { $0.reachable -= 1 }) {
            try insist(o.reachable >= 0, "object \(kref) reachable below zero")
            if o.reachable == 0 { addMaybeFree(kref) }
        }
    }

    /// Removes an entry both ways: an import loses its counts, an export changes nothing,
    /// a promise loses one.
    func deleteCListEntry(_ vat: VatID, _ kref: KRef) throws {
        guard let e = state.clists[vat]?[kref] else { return }
        try clearReachableFlag(vat, kref)
        try decRef(kref, onlyRecognizable: true, isExport: e.vref.allocatedByVat)
        setCListEntry(vat, kref, nil)
    }

    // MARK: Translation

    /// vat → kernel (§3 `mapV2K`). Violations are the vat's fault: `IllegalSyscall`.
    /// `requireNew` is asked only when the vref already has an entry.
    func mapV2K(_ vat: VatID, _ vref: VRef, setReachable: Bool = true, required: Bool = false,
                requireNew: @autoclosure () -> Bool = false) throws -> KRef {
        let kref: KRef
        if let existing = state.clists[vat]?[vref] {
            if requireNew() { throw IllegalSyscall("vref \(vref) is already allocated") }
            kref = existing
        } else {
            if required { throw IllegalSyscall("vref \(vref) not in clist") }
            guard vref.allocatedByVat else { throw IllegalSyscall("unknown vatSlot \(vref)") }
            switch vref.kind {
            case .object:
                kref = allocateObject(owner: vat)
            case .promise:
                kref = allocatePromise(decider: vat)
                try incRef(kref)
            case .device:
                throw IllegalSyscall("vat may not export device node \(vref)")
            }
            setCListEntry(vat, kref, CListEntry(vref: vref, reachable: false))
            if kref.isObject { traceEvent(.objectExported(kref: kref, vat: vat, vref: vref)) }
        }
        if setReachable, state.clists[vat]?[kref]?.reachable == false {
            if kref.isObject && !vref.allocatedByVat {
                throw IllegalSyscall("vat tried to access unreachable import \(vref)")
            }
            try setReachableFlag(vat, kref)
        }
        return kref
    }

    /// kernel → vat (§3 `mapK2V`). Failures are kernel bugs.
    func mapK2V(_ vat: VatID, _ kref: KRef, setReachable: Bool = true, required: Bool = false) throws -> VRef {
        var entry = state.clists[vat]?[kref]
        if entry == nil {
            try insist(!required, "\(vat) has no c-list entry for \(kref)")
            guard var v = state.vats[vat] else { throw KernelBug("mapK2V into unknown vat \(vat)") }
            let vref: VRef
            switch kref.kind {
            case .object:
                vref = .objectImport(v.nextObjectImport)
                v.nextObjectImport += 1
                try incRef(kref, onlyRecognizable: true)
            case .promise:
                vref = .promiseImport(v.nextPromiseImport)
                v.nextPromiseImport += 1
                try incRef(kref)
            case .device:
                vref = .deviceImport(v.nextDeviceImport)
                v.nextDeviceImport += 1
            }
            setVat(vat, v)
            let e = CListEntry(vref: vref, reachable: false)
            setCListEntry(vat, kref, e)
            entry = e
        }
        if setReachable, let e = entry, !e.reachable {
            if e.vref.allocatedByVat && kref.isObject {
                throw KernelBug("kernel sent unreachable export \(kref) to \(vat)")
            }
            try setReachableFlag(vat, kref)
        }
        return entry!.vref
    }

    func mapV2K(_ vat: VatID, _ data: CapData<VRef>) throws -> CapData<KRef> {
        try data.mapSlots { try mapV2K(vat, $0) }
    }

    func mapK2V(_ vat: VatID, _ data: CapData<KRef>) throws -> CapData<VRef> {
        try data.mapSlots { try mapK2V(vat, $0) }
    }

    /// The vat that routing should deliver to: the owner, unless absent or terminated.
    func ownerOfKernelObject(_ kref: KRef) -> VatID? {
        guard let owner = state.objects[kref.number]?.owner, state.vats[owner]?.isAlive == true else { return nil }
        return owner
    }
}
