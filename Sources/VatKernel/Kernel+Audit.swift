/// Who holds a reference, and with what share of its counts (KERNEL-SPEC §13.7).
public struct Holder: Hashable, Sendable {
    /// Where a reference is held.
    public enum Kind: String, Hashable, Sendable {
        /// An importer's c-list entry (objects: `1,1` if reachable, `0,1` if not; promises: 1).
        case importer
        /// The exporter's or decider's own c-list entry (objects: no count; promises: 1).
        case exporter
        /// A message or notify waiting in the acceptance or run queue.
        case queuedEvent
        /// A message waiting on an unresolved promise.
        case promiseQueue
        /// The settlement data of a promise.
        case resolutionData
        case pin
        /// A result promise the host keeps.
        case hostResult
        /// The stored parameters of a vat's incarnation.
        case vatParameters
        /// The reason a vat was terminated with, which the host holds until it releases it.
        case terminationReason
    }

    /// What kind of holder.
    public var kind: Kind
    /// The vat whose c-list, notify or parameters hold it.
    public var vat: VatID?
    /// The vat's name for it, for c-list holders.
    public var vref: VRef?
    /// The promise whose queue or data holds it, or the queued message's target.
    public var via: KRef?
    /// This holder's share of the reachable count (promises: of the refcount).
    public var reachable: Int
    /// This holder's share of the recognizable count.
    public var recognizable: Int
}

/// One mismatch the audit found.
public struct AuditProblem: Hashable, Sendable, CustomStringConvertible {
    /// How bad a problem is (KERNEL-SPEC §13.8).
    public enum Kind: String, Hashable, Sendable {
        /// Counts or tables that disagree with what holds them: the state cannot be trusted.
        case corruption
        /// Something nothing refers to, with right counts, that was never collected (an older
        /// version's single-pass processRefcounts, agoric-sdk #9888). Harmless to serve; the
        /// host can collect it with `reconsider`.
        case leak
    }

    /// The reference concerned, if the problem is about one.
    public var kref: KRef?
    /// What is wrong.
    public var message: String
    /// Corruption or a leak.
    public var kind: Kind = .corruption
    public var description: String { kref.map { "\($0): \(message)" } ?? message }
}

extension Holder {
    /// The holder a vat's c-list entry for `kref` is: the exporter's or decider's own entry
    /// when the vat allocated the vref, else an importer's, with its share of the counts.
    public static func clistEntry(vat: VatID, kref: KRef, _ e: CListEntry) -> Holder {
        let own = e.vref.allocatedByVat
        if kref.isObject {
            return Holder(kind: own ? .exporter : .importer, vat: vat, vref: e.vref,
                          reachable: !own && e.reachable ? 1 : 0, recognizable: own ? 0 : 1)
        }
        return Holder(kind: own ? .exporter : .importer, vat: vat, vref: e.vref, reachable: 1, recognizable: 1)
    }

    /// Calls `visit` for every reference an event waiting in a queue holds.
    public static func forEach(inQueued event: KernelEvent, _ visit: (KRef, Holder) -> Void) {
        switch event {
        case .send(let target, let m): forEach(in: m, target: target, kind: .queuedEvent, via: nil, visit)
        case .notify(let vat, let kpid): visit(kpid, Holder(kind: .queuedEvent, vat: vat, reachable: 1, recognizable: 1))
        case .bringOutYourDead: break
        }
    }

    /// Calls `visit` for every reference promise `kpid` holds: the messages waiting on it
    /// (each holds `kpid` itself too) and its settlement data.
    public static func forEach(inPromise kpid: KRef, _ p: KernelPromise, _ visit: (KRef, Holder) -> Void) {
        for m in p.queue { forEach(in: m, target: kpid, kind: .promiseQueue, via: kpid, visit) }
        if let data = p.data {
            for s in data.slots { visit(s, Holder(kind: .resolutionData, via: kpid, reachable: 1, recognizable: 1)) }
        }
    }

    /// Calls `visit` for every reference vat `vat`'s record holds: its incarnation's
    /// parameters, and the reason it was terminated with while the host holds it.
    public static func forEach(inVat vat: VatID, _ v: VatRecord, _ visit: (KRef, Holder) -> Void) {
        for s in v.vatParameters.slots { visit(s, Holder(kind: .vatParameters, vat: vat, reachable: 1, recognizable: 1)) }
        if let t = v.termination, t.reasonHeld {
            for s in t.info.slots { visit(s, Holder(kind: .terminationReason, vat: vat, reachable: 1, recognizable: 1)) }
        }
    }

    /// The host's `count` pins on an object.
    public static func pins(_ count: Int) -> Holder { Holder(kind: .pin, reachable: count, recognizable: count) }

    /// The host keeping a result promise.
    public static var hostResult: Holder { Holder(kind: .hostResult, reachable: 1, recognizable: 1) }

    /// `holders` in the order `Kernel.holders(of:)` lists them: by kind, then vat, then via,
    /// each compared by its bytes. Holders equal in all three are equal in every field.
    public static func inListedOrder(_ holders: [Holder]) -> [Holder] {
        holders.sorted { a, b in
            (ByteString(a.kind.rawValue), ByteString(a.vat?.description ?? ""), ByteString(a.via?.description ?? ""))
                < (ByteString(b.kind.rawValue), ByteString(b.vat?.description ?? ""), ByteString(b.via?.description ?? ""))
        }
    }

    /// A message's target, result and slots, held by whatever holds the message.
    private static func forEach(in m: Message, target: KRef, kind: Kind, via: KRef?, _ visit: (KRef, Holder) -> Void) {
        visit(target, Holder(kind: kind, via: via, reachable: 1, recognizable: 1))
        if let r = m.result { visit(r, Holder(kind: kind, via: via ?? target, reachable: 1, recognizable: 1)) }
        for s in m.methargs.slots { visit(s, Holder(kind: kind, via: via ?? target, reachable: 1, recognizable: 1)) }
    }
}

extension Kernel {
    /// Calls `visit` for every reference held anywhere: c-lists, queues, promise queues and
    /// data, pins, host results, vat parameters. The walk the audit and `holders` share; each
    /// kind of row's holders are `Holder`'s, which a store snapshot uses to find them too.
    func forEachHolder(_ visit: (KRef, Holder) -> Void) {
        for (vat, clist) in state.clists {
            for (kref, e) in clist.byKRef { visit(kref, .clistEntry(vat: vat, kref: kref, e)) }
        }
        for name in [QueueName.acceptance, .run, .reap] {
            for qe in state.queue(name).elements { Holder.forEach(inQueued: qe.event, visit) }
        }
        for (n, p) in state.promises { Holder.forEach(inPromise: .promise(n), p, visit) }
        for (kref, n) in state.pins { visit(kref, .pins(n)) }
        for kpid in state.heldResults { visit(kpid, .hostResult) }
        for (vat, v) in state.vats { Holder.forEach(inVat: vat, v, visit) }
    }

    /// Every holder of `kref`, in a stable order (`Holder.inListedOrder`).
    public func holders(of kref: KRef) -> [Holder] {
        var found: [Holder] = []
        forEachHolder { k, h in if k == kref { found.append(h) } }
        return Holder.inListedOrder(found)
    }

    /// Recomputes every object and promise count from what holds them and checks the
    /// tables' invariants. Empty when all is well. Meant to run between cranks. Each problem
    /// says whether it is corruption or a leak (KERNEL-SPEC §13.8).
    public func audit() -> [AuditProblem] {
        var problems: [AuditProblem] = []
        let (objectCounts, promiseCounts) = countHolders(&problems)
        auditObjects(objectCounts, &problems)
        auditPromises(promiseCounts, &problems)
        auditCLists(&problems)
        return problems.sorted { $0.description.precedesInBytes($1.description) }
    }

    /// What the holders add up to, per object (`reachable,recognizable`, exporters aside) and
    /// per promise; a holder of something that does not exist is a problem.
    private func countHolders(_ problems: inout [AuditProblem]) -> (objects: [Int: (Int, Int)], promises: [Int: Int]) {
        var objectCounts: [Int: (Int, Int)] = [:]
        var promiseCounts: [Int: Int] = [:]
        forEachHolder { kref, h in
            switch kref.kind {
            case .object:
                if h.kind == .exporter { return }
                if state.objects[kref.number] == nil {
                    // Importers may keep entries for retired objects until they retire them.
                    if h.kind != .importer {
                        problems.append(AuditProblem(kref: kref, message: "held by \(h.kind.rawValue) but does not exist"))
                    }
                    return
                }
                let c = objectCounts[kref.number] ?? (0, 0)
                objectCounts[kref.number] = (c.0 + h.reachable, c.1 + h.recognizable)
            case .promise:
                if state.promises[kref.number] == nil {
                    problems.append(AuditProblem(kref: kref, message: "held by \(h.kind.rawValue) but does not exist"))
                    return
                }
                promiseCounts[kref.number, default: 0] += h.reachable
            case .device:
                return
            }
        }
        return (objectCounts, promiseCounts)
    }

    private func auditObjects(_ counts: [Int: (Int, Int)], _ problems: inout [AuditProblem]) {
        for (n, o) in state.objects {
            let kref = KRef.object(n)
            let (r, rc) = counts[n] ?? (0, 0)
            if o.reachable != r || o.recognizable != rc {
                problems.append(AuditProblem(kref: kref, message: "refCount is \(o.reachable),\(o.recognizable) but holders add up to \(r),\(rc)"))
            }
            if o.reachable < 0 || o.reachable > o.recognizable {
                problems.append(AuditProblem(kref: kref, message: "refCount \(o.reachable),\(o.recognizable) breaks 0 ≤ reachable ≤ recognizable"))
            }
            if let owner = o.owner {
                if state.clists[owner]?[kref]?.vref.isExport != true {
                    problems.append(AuditProblem(kref: kref, message: "owner \(owner) has no export entry for it"))
                }
            } else if o.reachable == 0 {
                problems.append(AuditProblem(kref: kref, message: "orphan with no reachable holder was not retired", kind: .leak))
            }
            if let owner = o.owner, o.reachable == 0, state.vats[owner]?.isAlive == true,
               let e = state.clists[owner]?[kref], e.vref.isExport {
                if e.reachable, !state.gcActions.contains(GCAction(owner, .dropExport, kref)) {
                    problems.append(AuditProblem(kref: kref, message: "unreachable, but \(owner) was never told to drop \(e.vref)", kind: .leak))
                }
                if o.recognizable == 0, !state.gcActions.contains(GCAction(owner, .retireExport, kref)) {
                    problems.append(AuditProblem(kref: kref, message: "unrecognizable, but \(owner) was never told to retire \(e.vref)", kind: .leak))
                }
            }
        }
    }

    private func auditPromises(_ counts: [Int: Int], _ problems: inout [AuditProblem]) {
        for (n, p) in state.promises {
            let kref = KRef.promise(n)
            let expected = counts[n] ?? 0
            if p.refCount != expected {
                problems.append(AuditProblem(kref: kref, message: "refCount is \(p.refCount) but holders add up to \(expected)"))
            }
            if p.refCount == 0 {
                problems.append(AuditProblem(kref: kref, message: "promise with refCount 0 was not deleted",
                                             kind: expected == 0 ? .leak : .corruption))
            }
            if p.isSettled != (p.data != nil) {
                problems.append(AuditProblem(kref: kref, message: "state \(p.state.rawValue) does not match its data"))
            }
            if p.isSettled, p.decider != nil || !p.subscribers.isEmpty || !p.queue.isEmpty {
                problems.append(AuditProblem(kref: kref, message: "settled but still has a decider, subscribers or queue"))
            }
        }
    }

    private func auditCLists(_ problems: inout [AuditProblem]) {
        for (vat, clist) in state.clists {
            for (kref, e) in clist.byKRef where clist[e.vref] != kref {
                problems.append(AuditProblem(kref: kref, message: "\(vat) c-list maps \(kref)→\(e.vref) but \(e.vref)→\(clist[e.vref].map { "\($0)" } ?? "nothing")"))
            }
            if clist.byVRef.count != clist.byKRef.count {
                problems.append(AuditProblem(message: "\(vat) c-list directions differ in size"))
            }
            for (kref, e) in clist.byKRef where e.vref.isExport {
                if !e.reachable, let o = state.objects[kref.number], o.reachable > 0 {
                    problems.append(AuditProblem(kref: kref, message: "\(vat) was told \(e.vref) is dropped but it is reachable (\(o.reachable),\(o.recognizable))"))
                }
                if let o = state.objects[kref.number], o.owner != vat {
                    problems.append(AuditProblem(kref: kref, message: "\(vat) exports it as \(e.vref) but the owner is \(o.owner.map { "\($0)" } ?? "none")"))
                }
            }
        }
    }
}
