/// The scheduler (KERNEL-SPEC §4): which crank runs next, and running until idle.
extension Kernel {
    /// Runs exactly one crank, choosing work in the priority order of §4. Nil when idle.
    @discardableResult
    public func step() throws(KernelError) -> CrankReport? {
        if let reason = haltedReason { throw KernelError.halted(reason: reason) }
        if let head = state.acceptanceQueue.first {
            return try crank(CrankStart(kind: .routing, vat: head.event.vat, message: head.event)) { try routeAcceptanceHead() }
        }
        if let vat = pendingCleanupVats().first {
            return try crank(CrankStart(kind: .cleanup, vat: vat)) { try cleanupStep(vat) }
        }
        if !state.gcActions.isEmpty { return try crank(CrankStart(kind: .gc)) { try processGCActionSet() } }
        if let head = state.reapQueue.first {
            return try crank(CrankStart(kind: .reap, vat: head.event.vat, message: head.event)) {
                guard case .bringOutYourDead(let vat) = pop(.reap)!.event else {
                    throw KernelBug("reap queue holds something other than bringOutYourDead")
                }
                return try deliverBringOutYourDead(vat)
            }
        }
        if let head = state.runQueue.first {
            return try crank(CrankStart(kind: .delivery, vat: head.event.vat, message: head.event)) { try deliverRunQueueHead() }
        }
        return nil
    }

    /// Runs cranks until idle or `maxCranks` ran. Returns how many ran and whether idle.
    @discardableResult
    public func run(maxCranks: Int = .max) throws(KernelError) -> (cranks: Int, idle: Bool) {
        var n = 0
        while n < maxCranks {
            guard try step() != nil else { return (n, true) }
            n += 1
        }
        return (n, isIdle)
    }

    /// True when no crank has work to do.
    public var isIdle: Bool {
        state.acceptanceQueue.isEmpty && state.runQueue.isEmpty && state.reapQueue.isEmpty
            && state.gcActions.isEmpty && pendingCleanupVats().isEmpty
    }
}
