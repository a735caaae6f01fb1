/// What one `reconsider` crank collected (KERNEL-SPEC §13.8).
public struct ReconsiderOutcome: Hashable, Sendable {
    /// Objects and promises deleted in the crank (the named krefs and whatever their
    /// deletion released), objects first, each kind by number.
    public var collected: [KRef]
    /// GC actions the crank added (unreachable exports of live vats: their exporters are told
    /// by the GC cranks that follow), sorted as strings.
    public var gcActions: [GCAction]
}

extension Kernel {
    /// The host asks the kernel to look again (agoric-sdk #7212): the krefs go on the
    /// maybe-free list and one crank runs `processRefcounts` over them. Whatever is in fact
    /// unreferenced is collected by the normal rules; anything else is untouched.
    ///
    /// Throws (changing nothing) if a kref is not a live object or promise.
    public func reconsider(_ krefs: [KRef]) throws(KernelError) -> ReconsiderOutcome {
        for k in krefs {
            switch k.kind {
            case .object: guard state.objects[k.number] != nil else { throw KernelError.unknownKRef(k) }
            case .promise: guard state.promises[k.number] != nil else { throw KernelError.unknownKRef(k) }
            case .device: throw KernelError.rejected("device node \(k) has no refcount to reconsider")
            }
        }
        return try crank(CrankStart(kind: .host, request: .reconsider(krefs))) {
            let marks = (objects: state.objects.journaled, promises: state.promises.journaled,
                         gcActions: state.gcActions.journaled)
            for k in krefs { addMaybeFree(k) }
            try processRefcounts()
            var objects: Set<Int> = []
            var promises: Set<Int> = []
            var actions: Set<GCAction> = []
            for c in state.objects.changes(since: marks.objects) where c.old != nil && c.new == nil { objects.insert(c.key) }
            for c in state.promises.changes(since: marks.promises) where c.old != nil && c.new == nil { promises.insert(c.key) }
            for c in state.gcActions.changes(since: marks.gcActions) where c.old == nil && c.new != nil { actions.insert(c.key) }
            return ReconsiderOutcome(collected: objects.sorted().map(KRef.object) + promises.sorted().map(KRef.promise),
                                     gcActions: actions.sorted())
        }
    }
}
