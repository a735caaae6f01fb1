/// Promise settlement (KERNEL-SPEC §5.3): the subscribers' notifies, the data's counts, and
/// the messages that waited on the promise.
extension Kernel {
    /// Settles a promise (§5.3 execute): notifies for subscribers in order, counts for the
    /// data's slots, queued messages back to the acceptance queue, then the new state.
    func resolveKernelPromise(_ kpid: KRef, rejected: Bool, data: CapData<KRef>) throws {
        guard let before = state.promises[kpid.number], before.state == .unresolved else {
            throw KernelBug("resolving \(kpid), which is not an unresolved promise")
        }
        for vat in before.subscribers { try enqueueNotify(vat, kpid) }
        try incRefSlots(data.slots)
        requeue(kpid, before.queue)
        var p = state.promises[kpid.number]!
        p.state = rejected ? .rejected : .fulfilled
        p.data = data
        p.decider = nil
        p.subscribers = []
        p.queue = []
        setPromise(kpid.number, p)
        traceEvent(.promiseSettled(kpid: kpid, decider: before.decider, rejected: rejected, data: data))
    }

    /// Moves a promise's waiting messages back to the acceptance queue, in order, addressed to
    /// the promise: routed again, they go to its settlement or to its new pipelining decider.
    /// A lateral move: their counts stay. The caller empties or discards the promise's queue.
    func requeue(_ kpid: KRef, _ queue: [Message]) {
        for m in queue { push(.acceptance, .send(target: kpid, message: m)) }
    }

    /// Queues a notify; it holds one count on the promise until delivered.
    func enqueueNotify(_ vat: VatID, _ kpid: KRef) throws {
        try incRef(kpid)
        push(.acceptance, .notify(vat: vat, kpid: kpid))
    }
}
