/// Where a send goes (KERNEL-SPEC §7).
enum Route {
    /// Deliver to `vat`, with the target now `target`: an object `vat` owns, or an unresolved
    /// promise a pipelining `vat` decides.
    case vat(VatID, target: KRef)
    /// Wait on the promise's queue.
    case promiseQueue(KRef)
    /// Reject the result with this error.
    case splat(CapData<KRef>)
}

extension Kernel {
    /// Decides where a message to `target` goes now.
    func route(_ target: KRef, _ message: Message) throws -> Route {
        switch target.kind {
        case .object:
            guard let owner = ownerOfKernelObject(target) else { return .splat(.error("vat terminated")) }
            return .vat(owner, target: target)
        case .promise:
            guard let p = state.promises[target.number] else { throw KernelBug("send to missing promise \(target)") }
            switch p.state {
            case .fulfilled:
                let data = p.data!
                if data.isSingleReference, data.slots[0].isObject {
                    let object = data.slots[0]
                    guard let owner = ownerOfKernelObject(object) else { return .splat(.error("vat terminated")) }
                    return .vat(owner, target: object)
                }
                let method = message.methargs.methodName ?? "undefined"
                return .splat(.error("data is not callable, has no method \(method)"))
            case .rejected:
                return .splat(p.data!)
            case .unresolved:
                guard let decider = p.decider else { return .promiseQueue(target) }
                guard let d = state.vats[decider], d.isAlive else { return .splat(.error("vat terminated")) }
                // A pipelining decider takes the message now, addressed to the promise.
                return d.enablePipelining ? .vat(decider, target: target) : .promiseQueue(target)
            }
        case .device:
            return .splat(.error("cannot send to device node \(target)"))
        }
    }

    /// A routing crank: the acceptance queue's head moves to the run-queue, a promise queue,
    /// or is splatted.
    func routeAcceptanceHead() throws -> CrankReport {
        let qe = pop(.acceptance)!
        switch qe.event {
        case .send(let target, let message):
            return try routeSend(target, message, kind: .route) { vat, newTarget in
                push(.run, .send(target: newTarget, message: message))
                return CrankReport(crank: currentCrank, kind: .route, vat: vat, note: .sendQueuedForVat(target: newTarget, vat: vat))
            }
        case .notify(let vat, let kpid):
            push(.run, qe.event)
            return CrankReport(crank: currentCrank, kind: .route, vat: vat, note: .notifyQueued(kpid: kpid, vat: vat))
        case .bringOutYourDead(let vat):
            push(.run, qe.event)
            return CrankReport(crank: currentCrank, kind: .route, vat: vat, note: .bringOutYourDeadQueued(vat))
        }
    }

    /// Routes a send taken from a queue: to a vat, where `toVat` takes it on (with the target
    /// it is now addressed to); onto an unresolved promise's queue; or splatted. A crank that
    /// ends without reaching a vat reports `kind`.
    func routeSend(_ target: KRef, _ message: Message, kind: CrankReport.Kind,
                   toVat: (VatID, KRef) throws -> CrankReport) throws -> CrankReport {
        switch try route(target, message) {
        case .vat(let vat, let newTarget):
            noteCrankVat(vat)
            try retarget(from: target, to: newTarget)
            return try toVat(vat, newTarget)
        case .promiseQueue(let kpid):
            queueOnPromise(kpid, message)
            return CrankReport(crank: currentCrank, kind: kind, note: .sendQueuedOnPromise(kpid))
        case .splat(let error):
            try splat(target, message, error)
            return CrankReport(crank: currentCrank, kind: kind, note: .sendRejected(target: target, error: error))
        }
    }

    /// A message routed from a resolved promise to its object now holds the object instead
    /// (one pipelined to its promise's decider keeps the promise).
    func retarget(from target: KRef, to newTarget: KRef) throws {
        guard newTarget != target else { return }
        try decRef(target)
        try incRef(newTarget)
    }

    /// Parks a message on an unresolved promise; its counts stay as they are.
    func queueOnPromise(_ kpid: KRef, _ message: Message) {
        _ = modifyPromise(kpid.number) { $0.queue.append(message) }
    }

    /// Rejects the message's result (if any) with `error` and releases what the message held.
    func splat(_ target: KRef, _ message: Message, _ error: CapData<KRef>) throws {
        if let r = message.result, let p = state.promises[r.number], p.state == .unresolved {
            try resolveKernelPromise(r, rejected: true, data: error)
        }
        try decRefMessage(target: target, message)
    }
}
