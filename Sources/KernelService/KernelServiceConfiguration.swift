import VatKernel

/// Settings of a `KernelService`, with documented defaults.
public struct KernelServiceConfiguration: Sendable {
    /// The kernel's own settings (cleanup budget, longest syscall batch).
    public var kernel: KernelConfiguration
    /// How the kernel runs between requests. Default `auto`. Not stored: a restart comes back
    /// in the configured mode.
    public var runMode: RunMode
    /// When set, every endpoint but `/healthz` needs `Authorization: Bearer <adminToken>`
    /// (a vat's own token also opens its syscalls and delivery log). Default none.
    public var adminToken: String?
    /// Most cranks one request runs: the auto-mode run after a change, and the largest
    /// `maxCranks` of `POST /kernel/run`. Work beyond it stays queued for the next request.
    /// Default 100,000.
    public var maxCranksPerRequest: Int
    /// Where the state is kept, as `GET /kernel` reports it (`:memory:` or a file path).
    public var storePath: String
    /// The store's durability setting as `GET /kernel` reports it (`full`, `normal`), if any.
    public var durability: String?
    /// What `GET /version` reports. Default: this build, started when the configuration was made.
    public var identity = ServiceIdentity(schemaVersion: 0)
    /// Keep acknowledged deliveries in the log (`--keep-deliveries`); by default
    /// `POST /vats/{vatID}/deliveries/ack` drops them.
    public var keepDeliveries = false
    /// Most requests waiting for the kernel thread at once; beyond it a request is answered 503
    /// `overloaded` with `Retry-After` and changes nothing (`--max-queued-requests`). Default 4,096.
    public var maxQueuedRequests = 4096
    /// Most request-body bytes waiting for the kernel thread at once, likewise. Default 64 MiB.
    public var maxQueuedBytes = 64 << 20
    /// Most `…/stream` responses open at once (`--max-streams`); one more is answered 503
    /// `overloaded`. Default 64.
    public var maxStreams = 64
    /// How often a stream with nothing to send gets a `: heartbeat` comment
    /// (`--stream-heartbeat`). Default 15 s.
    public var streamHeartbeat: Duration = .seconds(15)
    /// Most bytes a stream may have sent but not yet taken by its client; past it the kernel
    /// stops reading the feed for it until the client catches up. Default 256 KiB.
    public var streamBufferBytes = 256 << 10
    /// Most undo entries (old values of changed rows) the kernel keeps for one commit group, so
    /// that a failed flush undoes the group in memory; a group that changes more is undone by
    /// reloading the whole state from the store instead (`--max-group-undo`). Default 1,000,000.
    public var maxGroupUndoEntries = 1_000_000
    /// Threads that answer reads from the last committed state, each on its own read-only
    /// connection to the database file, so that reads neither wait behind cranks nor delay
    /// them (`--reader-threads`; `ReaderPool`; each runs under `SCHED_IDLE`). 0 answers every
    /// read on the kernel thread, as does a store without a file. Default 2.
    public var readerThreads = 2
    /// Where the JSON access log goes, one line per answered request; nil (the default) for none.
    public var accessLog: (@Sendable (String) -> Void)?

    /// A configuration with the documented defaults, overriding whatever is given.
    public init(kernel: KernelConfiguration = KernelConfiguration(), runMode: RunMode = .auto,
                adminToken: String? = nil, maxCranksPerRequest: Int = 100_000,
                storePath: String = ":memory:", durability: String? = nil) {
        self.kernel = kernel
        self.runMode = runMode
        self.adminToken = adminToken
        self.maxCranksPerRequest = maxCranksPerRequest
        self.storePath = storePath
        self.durability = durability
    }
}
