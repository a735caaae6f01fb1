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

extension Kernel {
    /// Calls `visit` for every reference held anywhere: c-lists, queues, promise queues and
    /// data, pins, host results, vat parameters. The walk the audit and `holders` share.
    func forEachHolder(_ visit: (KRef, Holder) -> Void) {
        for (vat, clist) in state.clists {
            for (kref, e) in clist.byKRef {
                let own = e.vref.allocatedByVat
                if kref.isObject {
                    visit(kref, Holder(kind: own ? .exporter : .importer, vat: vat, vref: e.vref,
                                       reachable: !own && e.reachable ? 1 : 0, recognizable: own ? 0 : 1))
                } else {
                    visit(kref, Holder(kind: own ? .exporter : .importer, vat: vat, vref: e.vref, reachable: 1, recognizable: 1))
                }
            }
        }
        func visitMessage(_ target: KRef, _ m: Message, kind: Holder.Kind, via: KRef?) {
            visit(target, Holder(kind: kind, via: via, reachable: 1, recognizable: 1))
            if let r = m.result { visit(r, Holder(kind: kind, via: via ?? target, reachable: 1, recognizable: 1)) }
            for s in m.methargs.slots { visit(s, Holder(kind: kind, via: via ?? target, reachable: 1, recognizable: 1)) }
        }
        for name in [QueueName.acceptance, .run, .reap] {
            for qe in state.queue(name).elements {
                switch qe.event {
                case .send(let target, let m): visitMessage(target, m, kind: .queuedEvent, via: nil)
                case .notify(let vat, let kpid): visit(kpid, Holder(kind: .queuedEvent, vat: vat, reachable: 1, recognizable: 1))
                case .bringOutYourDead: break
                }
            }
        }
        for (n, p) in state.promises {
            let kpid = KRef.promise(n)
            for m in p.queue { visitMessage(kpid, m, kind: .promiseQueue, via: kpid) }
            if let data = p.data {
                for s in data.slots { visit(s, Holder(kind: .resolutionData, via: kpid, reachable: 1, recognizable: 1)) }
            }
        }
        for (kref, n) in state.pins { visit(kref, Holder(kind: .pin, reachable: n, recognizable: n)) }
        for kpid in state.heldResults { visit(kpid, Holder(kind: .hostResult, reachable: 1, recognizable: 1)) }
        for (vat, v) in state.vats {
            for s in v.vatParameters.slots { visit(s, Holder(kind: .vatParameters, vat: vat, reachable: 1, recognizable: 1)) }
            if let t = v.termination, t.reasonHeld {
                for s in t.info.slots { visit(s, Holder(kind: .terminationReason, vat: vat, reachable: 1, recognizable: 1)) }
            }
        }
    }

    /// Every holder of `kref`, in a stable order.
    public func holders(of kref: KRef) -> [Holder] {
        var found: [Holder] = []
        forEachHolder { k, h in if k == kref { found.append(h) } }
        return found.sorted { a, b in
            (ByteString(a.kind.rawValue), ByteString(a.vat?.description ?? ""), ByteString(a.via?.description ?? ""))
                < (ByteString(b.kind.rawValue), ByteString(b.vat?.description ?? ""), ByteString(b.via?.description ?? ""))
        }
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
