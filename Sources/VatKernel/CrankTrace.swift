/// What a crank did, step by step, for the event log (issue 10): the store writes each entry as
/// one event, in this order, in the crank's own transaction.
///
/// Recorded as the crank runs (an array append, no strings built), in the order things
/// happened; a part of the crank that is rolled back (a batch undone by an illegal syscall)
/// takes its entries with it. Pure values: the same requests give the same traces.
public enum CrankTraceEntry: Hashable, Sendable {
    /// A delivery appended to the vat's log, in both forms.
    case deliver(vat: VatID, record: DeliveryRecord, kd: KernelDelivery)
    /// One syscall of a batch (or of an upgrade's bringOutYourDead or startVat), in both forms.
    /// `ksc` is nil when the syscall broke a rule before it could be translated.
    case syscall(vat: VatID, index: Int, vsc: Syscall, ksc: KernelSyscall?, result: SyscallTraceResult)
    /// The syscall at `index` broke a rule: the batch was undone and the vat dies.
    case illegalSyscall(vat: VatID, index: Int, syscall: String, problem: String)
    /// A vat exported a new object (its first mention of an `o+` vref).
    case objectExported(kref: KRef, vat: VatID, vref: VRef)
    /// The object lost its owner (abandoned, its exporter terminated or upgraded).
    case objectOrphaned(kref: KRef, formerOwner: VatID)
    /// The object left the kernel's table; `owner` is nil for an orphan.
    case objectRetired(kref: KRef, owner: VatID?)
    /// A promise settled; `decider` is who decided it (nil: the kernel).
    case promiseSettled(kpid: KRef, decider: VatID?, rejected: Bool, data: CapData<KRef>)
    /// A vat was created.
    case vatCreated(vat: VatID, name: ByteString, options: JSONValue, vatParameters: CapData<KRef>)
    /// A vat was terminated; `isFailure` is SwingSet's `shouldReject`.
    case vatTerminated(vat: VatID, isFailure: Bool, info: CapData<KRef>)
    /// One cleanup crank of a terminated vat: what it removed, and whether cleanup is done.
    case vatCleanup(vat: VatID, work: CleanupWork, done: Bool)
    /// A vat started a new incarnation; `abandoned` are the exports it lost, in cleanup order.
    case vatUpgraded(vat: VatID, incarnation: Int, newIncarnation: Int, abandoned: [KRef])
}

/// How a traced syscall ended: its result, or the rule it broke.
public enum SyscallTraceResult: Hashable, Sendable {
    case ok(SyscallResult)
    case error(String)
}

/// What one cleanup crank removed.
public struct CleanupWork: Hashable, Sendable {
    /// Exports orphaned.
    public var exports = 0
    /// Object imports released.
    public var imports = 0
    /// Promise entries released.
    public var promises = 0
    /// Vatstore keys deleted.
    public var kv = 0
}

/// How a crank began: `crank-start`.
public struct CrankStart: Hashable, Sendable {
    /// What kind of work began the crank (SwingSet's `crankType`).
    public enum Kind: String, Hashable, Sendable {
        /// A host request (`request` says which).
        case host
        /// The acceptance queue's head is routed.
        case routing
        /// The run-queue's head is delivered.
        case delivery
        /// The reap queue's head (a bringOutYourDead) is delivered.
        case reap
        /// The GC action set is processed.
        case gc
        /// A terminated vat is cleaned, one budget's worth.
        case cleanup = "cleanup-terminated-vat"
    }

    public var kind: Kind
    /// The vat the crank is about, once known (a routed send's vat is known after routing).
    public var vat: VatID?
    /// For a host crank: what the host asked.
    public var request: HostRequest?
    /// For a queue crank: the queued event it took.
    public var message: KernelEvent?

    /// Makes a start record.
    public init(kind: Kind, vat: VatID? = nil, request: HostRequest? = nil, message: KernelEvent? = nil) {
        self.kind = kind
        self.vat = vat
        self.request = request
        self.message = message
    }
}

/// The host request that began a crank, in kernel references (the kernel never sees a token).
public enum HostRequest: Hashable, Sendable {
    case createVat(name: ByteString, options: JSONValue, vatParameters: CapData<KRef>)
    case send(target: KRef, methargs: CapData<KRef>, result: ResultPolicy)
    /// A syscall batch of `count` syscalls (each is its own `syscall` event).
    case syscalls(vat: VatID, count: Int)
    case addExport(vat: VatID, vref: VRef)
    case pin(KRef)
    case unpin(KRef)
    case releaseResult(KRef)
    case releaseTerminationReason(VatID)
    case acknowledgeDeliveries(vat: VatID, through: Int, drop: Bool)
    case bringOutYourDead(VatID)
    case upgrade(vat: VatID, upgradeMessage: String, vatParameters: CapData<KRef>, boydSyscalls: Int, startVatSyscalls: Int)
    case terminate(vat: VatID, reason: String)
    case reconsider([KRef])

    /// The request's name in the log.
    public var typeName: String {
        switch self {
        case .createVat: return "create-vat"
        case .send: return "send"
        case .syscalls: return "syscalls"
        case .addExport: return "add-export"
        case .pin: return "pin"
        case .unpin: return "unpin"
        case .releaseResult: return "release-result"
        case .releaseTerminationReason: return "release-termination-reason"
        case .acknowledgeDeliveries: return "acknowledge-deliveries"
        case .bringOutYourDead: return "bring-out-your-dead"
        case .upgrade: return "upgrade"
        case .terminate: return "terminate"
        case .reconsider: return "reconsider"
        }
    }
}

/// A promise settlement in kernel references (the kernel side of a notify or resolve).
public struct KernelResolution: Hashable, Sendable {
    public var kpid: KRef
    public var rejected: Bool
    public var data: CapData<KRef>

    /// Makes a settlement.
    public init(kpid: KRef, rejected: Bool, data: CapData<KRef>) {
        self.kpid = kpid
        self.rejected = rejected
        self.data = data
    }
}

/// A delivery in kernel references: SwingSet's `kd`, beside the vat's `vd` (`Delivery`).
public enum KernelDelivery: Hashable, Sendable {
    case message(target: KRef, message: Message)
    case notify([KernelResolution])
    case dropExports([KRef])
    case retireExports([KRef])
    case retireImports([KRef])
    case abandonImports([KRef])
    case bringOutYourDead
    case startVat(vatParameters: CapData<KRef>)
}

/// A syscall in kernel references: SwingSet's `ksc`, beside the vat's `vsc` (`Syscall`).
public enum KernelSyscall: Hashable, Sendable {
    case send(target: KRef, message: Message)
    case subscribe(kpid: KRef)
    case resolve([KernelResolution])
    case exit(isFailure: Bool, info: CapData<KRef>)
    case dropImports([KRef])
    case retireImports([KRef])
    case retireExports([KRef])
    case abandonExports([KRef])
    /// The vatstore syscalls name no references: the kernel form is the vat's.
    case vatstore(Syscall)
}

extension Kernel {
    /// Appends to the running crank's trace.
    @inline(__always)
    func traceEvent(_ entry: CrankTraceEntry) {
        trace.append(entry)
    }

    /// The running crank turned out to be about `vat` (a routed send, a GC delivery).
    func noteCrankVat(_ vat: VatID) {
        if crankStart?.vat == nil { crankStart?.vat = vat }
    }
}

extension KernelEvent {
    /// The vat a queued event names (a send names none until it is routed).
    public var vat: VatID? {
        switch self {
        case .send: return nil
        case .notify(let vat, _), .bringOutYourDead(let vat): return vat
        }
    }
}
