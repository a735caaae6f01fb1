/// The seam between the pure kernel and whatever keeps its state.
///
/// The kernel calls `commit(_:)` once per crank, after the crank succeeded in memory; a
/// throw there makes the kernel roll the crank back, so nothing is half-applied. Stores that
/// group several cranks into one transaction (group commit) do so behind this protocol.
public protocol KernelStorage: AnyObject {
    /// The committed state, or nil for an empty store (a new kernel).
    func load() throws -> KernelState?
    /// Makes one crank's changes part of the store. Throwing aborts the crank.
    ///
    /// A store may stage the change in an open transaction (group commit): it is then
    /// durable only once `flush()` returns.
    func commit(_ delta: CrankDelta) throws
    /// Makes every crank committed so far durable. Answers to requests that changed state
    /// are sent only after this returns. If it throws, the staged cranks are lost and the
    /// store is back at its last durable point: the owner undoes them (`Kernel.beginGroup`,
    /// `Kernel.undoGroup`), or reloads the kernel from `load()` (the last durable state).
    func flush() throws
    /// The vat's delivery records with `seq > after`, oldest first: at most `limit`, and
    /// stopping before the one that would take the stored encoding past `maxBytes` (the first
    /// always comes). What was committed, staged cranks included: the kernel keeps only each
    /// log's `DeliveryLog` in memory and reads its records here.
    func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord]
}

extension KernelStorage {
    /// Stores that write each crank durably in `commit(_:)` have nothing to flush.
    public func flush() throws {}
}

/// A store that keeps the committed state in memory by applying each delta to its own copy.
///
/// It is what tests restart from, and it checks that deltas describe the crank exactly:
/// after any sequence of cranks, its state equals the kernel's.
public final class InMemoryStorage: KernelStorage {
    /// The committed state; nil until the first commit.
    public private(set) var state: KernelState?
    /// Cranks committed through this store.
    public private(set) var commits = 0
    /// When set, the next commit throws this error (for tests of failed writes).
    public var failNextCommit: (any Error)?
    /// The committed delivery records.
    public private(set) var records = DeliveryRecords()

    /// An empty store.
    public init() {}

    /// A store whose committed state is `state`, as if an earlier kernel had left it there
    /// (tests of what a kernel finds at start-up: an older version's leak, a corruption).
    public init(state: KernelState, records: DeliveryRecords = DeliveryRecords()) {
        self.state = state
        self.records = records
    }

    /// The committed state.
    public func load() throws -> KernelState? { state }

    /// Applies the delta to the committed state.
    public func commit(_ delta: CrankDelta) throws {
        if let e = failNextCommit {
            failNextCommit = nil
            throw e
        }
        var s = state ?? KernelState()
        s.apply(delta)
        state = s
        records.apply(delta)
        commits += 1
    }

    /// The committed records (no byte budget: they have no stored encoding).
    public func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        records.records(vat, after: after, limit: limit)
    }
}
