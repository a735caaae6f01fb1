/// Everything the kernel keeps about a vat apart from its c-list, vatstore and delivery log.
public struct VatRecord: Hashable, Sendable {
    /// Running, or terminated (cleanup may still be pending).
    public enum Status: Hashable, Sendable {
        case running
        case terminated(TerminationInfo)
    }

    /// The vat's ID, never reused.
    public let id: VatID
    /// The name given at creation, byte for byte.
    public var name: ByteString
    /// As given at creation. The kernel reads `enablePipelining` and `receiveAbandonImport`
    /// from it; the rest passes through.
    public var options: JSONValue {
        didSet {
            enablePipelining = Self.pipelining(options)
            receiveAbandonImport = Self.abandonImports(options)
        }
    }
    /// `options.enablePipelining == true`: messages to promises this vat decides are delivered
    /// to it at once instead of waiting in the promise's queue (KERNEL-SPEC §7), and it may name
    /// a promise it already decides as a send's result (§5.1). Derived from `options`, kept
    /// apart so routing reads a flag rather than a JSON object.
    public private(set) var enablePipelining: Bool
    /// `options.receiveAbandonImport == true`: the vat is told by `abandonImports` when an
    /// object it imports becomes an orphan, and its c-list entry goes (KERNEL-SPEC §13.8).
    public private(set) var receiveAbandonImport: Bool
    /// 0 for the first incarnation, +1 per successful upgrade.
    public var incarnation: Int
    /// Running or terminated.
    public var status: Status
    /// The parameters of the current incarnation; their slots are held by the kernel.
    public var vatParameters: CapData<KRef>
    /// Next `o-N`, `p-N`, `d-N` for this vat: start at 50, 60, 70 and only grow.
    public var nextObjectImport: Int = 50
    public var nextPromiseImport: Int = 60
    public var nextDeviceImport: Int = 70
    /// The vat's driver has handled every delivery through this seq (`POST
    /// /vats/{vatID}/deliveries/ack`); those may have been dropped from the log.
    public var deliveriesAcknowledged: Int = 0
    /// True once termination cleanup has removed every c-list entry and vatstore key.
    public var cleanedUp: Bool = false
    /// The SHA-256 of the vat's bearer token, as the host gave it at creation; nil when the host
    /// gave none. The kernel only keeps it (journaled and committed with the vat's creation);
    /// it is left out of the crank hash, since it is the digest of a random secret.
    public var tokenHash: [UInt8]?

    /// A running vat at incarnation 0.
    public init(id: VatID, name: ByteString, options: JSONValue, vatParameters: CapData<KRef>, tokenHash: [UInt8]? = nil) {
        self.id = id
        self.tokenHash = tokenHash
        self.name = name
        self.options = options
        enablePipelining = Self.pipelining(options)
        receiveAbandonImport = Self.abandonImports(options)
        incarnation = 0
        status = .running
        self.vatParameters = vatParameters
    }

    static func pipelining(_ options: JSONValue) -> Bool { options["enablePipelining"] == .bool(true) }
    static func abandonImports(_ options: JSONValue) -> Bool { options["receiveAbandonImport"] == .bool(true) }

    /// Not terminated.
    public var isAlive: Bool { status == .running }

    /// Why it died, if it did.
    public var termination: TerminationInfo? {
        if case .terminated(let info) = status { return info }
        return nil
    }
}

/// Why and when a vat was terminated.
public struct TerminationInfo: Hashable, Sendable {
    /// True for failures (illegal syscall, exit with failure, host termination).
    public var isFailure: Bool
    /// The exit value or the error.
    public var info: CapData<KRef>
    /// The crank in which it happened; orders the cleanup of terminated vats.
    public var crank: Int
    /// True while the host holds the reason's slots (KERNEL-SPEC §13.8): each counts `+1,+1`
    /// (promises `+1`) from the termination until the host releases them. False once
    /// released, and for a reason without slots.
    public var reasonHeld: Bool

    /// Makes the record.
    public init(isFailure: Bool, info: CapData<KRef>, crank: Int, reasonHeld: Bool = false) {
        self.isFailure = isFailure
        self.info = info
        self.crank = crank
        self.reasonHeld = reasonHeld
    }
}
