/// What an upgrade request became (KERNEL-SPEC §10, §13.4).
public enum UpgradeOutcome: Hashable, Sendable {
    /// The vat runs its new incarnation.
    case upgraded(incarnation: Int)
    /// `Error("vat-upgrade failure")`: the whole crank was rolled back; the vat runs on,
    /// unchanged. `reason` says what failed.
    case failed(reason: String)
}

/// The parts of an upgrade request.
public struct UpgradeRequest: Hashable, Sendable {
    /// The new incarnation's parameters, in krefs (held by the kernel).
    public var vatParameters: CapData<KRef>
    /// Given to every promise the vat decided, inside the `vatUpgraded` rejection.
    public var upgradeMessage: String
    /// What the old incarnation does in its final bringOutYourDead.
    public var boydSyscalls: [Syscall]
    /// What the new incarnation does in startVat.
    public var startVatSyscalls: [Syscall]
    /// True to say the new incarnation failed to start.
    public var startVatFails: Bool

    /// Makes a request; by default no parameters, no syscalls, a successful start.
    public init(vatParameters: CapData<KRef> = CapData(body: .null), upgradeMessage: String = "",
                boydSyscalls: [Syscall] = [], startVatSyscalls: [Syscall] = [], startVatFails: Bool = false) {
        self.vatParameters = vatParameters
        self.upgradeMessage = upgradeMessage
        self.boydSyscalls = boydSyscalls
        self.startVatSyscalls = startVatSyscalls
        self.startVatFails = startVatFails
    }
}

extension Kernel {
    /// Upgrades a vat in one crank: BOYD and its syscalls, `vatUpgraded` rejections,
    /// kernel-side abandonment of non-durable exports except `o+0`, a new incarnation, and
    /// `startVat` with its syscalls. Any failure rolls all of it back.
    public func upgrade(_ vat: VatID, _ request: UpgradeRequest) throws(KernelError) -> UpgradeOutcome {
        guard let record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        guard record.isAlive else { throw KernelError.vatTerminated(vat) }
        try checkHostSlots(request.vatParameters.slots)
        let maxSyscalls = configuration.maxSyscallsPerBatch
        guard request.boydSyscalls.count <= maxSyscalls, request.startVatSyscalls.count <= maxSyscalls else {
            throw KernelError.rejected("a batch holds at most \(maxSyscalls) syscalls")
        }
        struct UpgradeFailure: Error { let reason: String }
        let start = CrankStart(kind: .host, vat: vat, request: .upgrade(
            vat: vat, upgradeMessage: request.upgradeMessage, vatParameters: request.vatParameters,
            boydSyscalls: request.boydSyscalls.count, startVatSyscalls: request.startVatSyscalls.count))
        // A failure rolls the crank back and is the outcome, not a refusal.
        return try crank(start, recover: { ($0 as? UpgradeFailure).map { .failed(reason: $0.reason) } }) {
            let oldIncarnation = record.incarnation
            appendDelivery(vat, .bringOutYourDead, kd: .bringOutYourDead)
            do { try executeWithinCrank(request.boydSyscalls, from: vat) } catch let e as IllegalSyscall {
                throw UpgradeFailure(reason: "illegal syscall in the final bringOutYourDead: \(e.problem)")
            }
            let disconnection = CapData<KRef>(body: .object([
                "name": .string("vatUpgraded"),
                "upgradeMessage": .string(request.upgradeMessage),
                "incarnationNumber": .int(oldIncarnation),
            ]))
            for kpid in promisesDecided(by: vat) {
                let selfSubscribed = state.promises[kpid.number]!.subscribers.contains(vat)
                try resolveKernelPromise(kpid, rejected: true, data: disconnection)
                if !selfSubscribed { try deleteCListEntry(vat, kpid) }
            }
            var abandoned: [KRef] = []
            for kref in state.clists[vat]!.krefsInCleanupOrder() {
                guard let vref = state.clists[vat]![kref]?.vref else { continue }
                guard vref.isExport else { break }
                if !vref.isDurable && vref != .root {
                    try orphanKernelObject(kref, formerOwner: vat)
                    abandoned.append(kref)
                }
            }
            var v = state.vats[vat]!
            try incRefSlots(request.vatParameters.slots)
            try decRefSlots(v.vatParameters.slots)
            v.incarnation = oldIncarnation + 1
            v.vatParameters = request.vatParameters
            setVat(vat, v)
            traceEvent(.vatUpgraded(vat: vat, incarnation: oldIncarnation, newIncarnation: v.incarnation, abandoned: abandoned))
            appendDelivery(vat, .startVat(vatParameters: try mapK2V(vat, request.vatParameters)),
                           kd: .startVat(vatParameters: request.vatParameters))
            do { try executeWithinCrank(request.startVatSyscalls, from: vat) } catch let e as IllegalSyscall {
                throw UpgradeFailure(reason: "illegal syscall in startVat: \(e.problem)")
            }
            if request.startVatFails { throw UpgradeFailure(reason: "the new incarnation failed to start") }
                return .upgraded(incarnation: oldIncarnation + 1)
        }
    }
}
