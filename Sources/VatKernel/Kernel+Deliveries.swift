/// Run-queue and reap-queue deliveries (KERNEL-SPEC §6, §13.1): translated into the vat's
/// references and appended to its delivery log; the crank ends there.
extension Kernel {
    func deliverRunQueueHead() throws -> CrankReport {
        let qe = pop(.run)!
        switch qe.event {
        case .send(let target, let message):
            // Routed again at the front of the run-queue: the owner may have died meanwhile, the
            // promise may have settled or changed deciders.
            return try routeSend(target, message, kind: .dropped) { vat, newTarget in
                try deliverMessage(vat, target: newTarget, message)
            }
        case .notify(let vat, let kpid):
            return try deliverNotify(vat, kpid)
        case .bringOutYourDead(let vat):
            return try deliverBringOutYourDead(vat)
        }
    }

    /// `message` delivery: the queue's counts go, the c-list's come (new imports, the vat
    /// becomes the result's decider). The target is an export of the vat, or (pipelining) a
    /// promise it decides; a pipelining vat also gets what waits on the result (§6).
    private func deliverMessage(_ vat: VatID, target: KRef, _ message: Message) throws -> CrankReport {
        try decRefMessage(target: target, message)
        let vtarget: VRef
        if target.isObject {
            vtarget = try mapK2V(vat, target)
            try insist(vtarget.isExport, "deliver() to wrong vat: \(target) is \(vtarget) in \(vat)")
        } else {
            try insist(state.promises[target.number]?.decider == vat, "wrong decider: \(vat) does not decide \(target)")
            vtarget = try mapK2V(vat, target, required: true)
        }
        let vargs = try mapK2V(vat, message.methargs)
        var vresult: VRef?
        if let r = message.result {
            guard let p = state.promises[r.number], p.state == .unresolved, p.decider == nil else {
                throw KernelBug("result \(r) of a delivered message is not an undecided unresolved promise")
            }
            vresult = try mapK2V(vat, r)
            var q = state.promises[r.number]!
            q.decider = vat
            // Only a queue that holds something needs the vat's option: the common path stays as it was.
            if !q.queue.isEmpty, state.vats[vat]?.enablePipelining == true {
                requeue(r, q.queue)
                q.queue = []
            }
            setPromise(r.number, q)
        }
        let record = appendDelivery(vat, .message(target: vtarget, methargs: vargs, result: vresult),
                                    kd: .message(target: target, message: message))
        return CrankReport(crank: currentCrank, kind: .delivery, vat: vat, delivery: record, note: .delivered(.message))
    }

    /// `notify`: the promise and every settled promise reachable through its data, in one
    /// delivery; the vat's entries for all of them are deleted.
    private func deliverNotify(_ vat: VatID, _ kpid: KRef) throws -> CrankReport {
        try decRef(kpid)
        guard state.vats[vat]?.isAlive == true else {
            return CrankReport(crank: currentCrank, kind: .dropped, vat: vat, note: .notifyDropped(kpid: kpid, reason: "vat is terminated"))
        }
        guard state.clists[vat]?[kpid] != nil else {
            return CrankReport(crank: currentCrank, kind: .dropped, vat: vat, note: .notifyDropped(kpid: kpid, reason: "already retired"))
        }
        let targets = kpidsToRetire(kpid)
        var resolutions: [VatResolution] = []
        var kresolutions: [KernelResolution] = []
        for t in targets {
            let p = state.promises[t.number]!
            let vpid = try mapK2V(vat, t)
            let data = try mapK2V(vat, p.data!)
            resolutions.append(VatResolution(vpid: vpid, rejected: p.state == .rejected, data: data))
            kresolutions.append(KernelResolution(kpid: t, rejected: p.state == .rejected, data: p.data!))
        }
        for t in targets { try deleteCListEntry(vat, t) }
        let record = appendDelivery(vat, .notify(resolutions), kd: .notify(kresolutions))
        return CrankReport(crank: currentCrank, kind: .delivery, vat: vat, delivery: record, note: .delivered(.notify))
    }

    /// The settled promise and, depth-first pre-order, every settled promise its data reaches.
    func kpidsToRetire(_ root: KRef) -> [KRef] {
        var seen: Set<KRef> = []
        var order: [KRef] = []
        func scan(_ kpid: KRef) {
            seen.insert(kpid)
            order.append(kpid)
            guard let data = state.promises[kpid.number]?.data else { return }
            for slot in data.slots where slot.isPromise {
                if let p = state.promises[slot.number], p.isSettled, !seen.contains(slot) { scan(slot) }
            }
        }
        scan(root)
        return order
    }

    func deliverBringOutYourDead(_ vat: VatID) throws -> CrankReport {
        guard state.vats[vat]?.isAlive == true else {
            return CrankReport(crank: currentCrank, kind: .dropped, vat: vat, note: .deliveryDropped("bringOutYourDead: vat is terminated"))
        }
        let record = appendDelivery(vat, .bringOutYourDead, kd: .bringOutYourDead)
        return CrankReport(crank: currentCrank, kind: .bringOutYourDead, vat: vat, delivery: record, note: .delivered(.bringOutYourDead))
    }

    /// A GC delivery chosen by `processGCActionSet`. Skipped for a dead vat.
    func deliverGC(_ vat: VatID, _ kind: GCAction.Kind, _ krefs: [KRef]) throws -> CrankReport {
        guard state.vats[vat]?.isAlive == true else {
            return CrankReport(crank: currentCrank, kind: .dropped, vat: vat, note: .deliveryDropped("GC delivery: vat is terminated"))
        }
        noteCrankVat(vat)
        var vrefs: [VRef] = []
        let delivery: Delivery
        let kd: KernelDelivery
        switch kind {
        case .dropExport:
            for kref in krefs {
                vrefs.append(try mapK2V(vat, kref, setReachable: false, required: true))
                try clearReachableFlag(vat, kref)
            }
            delivery = .dropExports(vrefs)
            kd = .dropExports(krefs)
        case .retireExport:
            for kref in krefs {
                retireObject(kref)
                vrefs.append(try mapK2V(vat, kref, setReachable: false, required: true))
                try deleteCListEntry(vat, kref)
            }
            delivery = .retireExports(vrefs)
            kd = .retireExports(krefs)
        case .retireImport:
            for kref in krefs {
                vrefs.append(try mapK2V(vat, kref, setReachable: false, required: true))
                try deleteCListEntry(vat, kref)
            }
            delivery = .retireImports(vrefs)
            kd = .retireImports(krefs)
        case .abandonImport:
            // The vat's share goes with its entries (reachable −1 if it was reachable,
            // recognizable −1); the orphan may then be retired in this crank.
            for kref in krefs {
                vrefs.append(try mapK2V(vat, kref, setReachable: false, required: true))
                try deleteCListEntry(vat, kref)
            }
            delivery = .abandonImports(vrefs)
            kd = .abandonImports(krefs)
        }
        let record = appendDelivery(vat, delivery, kd: kd)
        return CrankReport(crank: currentCrank, kind: .gcDelivery, vat: vat, delivery: record,
                           note: .gcDelivery(kind: kind, krefs: krefs))
    }
}
