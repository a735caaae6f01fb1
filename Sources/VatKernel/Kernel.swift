/// The VatKernel core: vats, c-lists, cranks, distributed GC (KERNEL-SPEC §1–10, §13).
///
/// Pure and deterministic: no I/O, clocks or randomness; the same calls give the same
/// states and logs. Not thread-safe: one owner drives it, one crank at a time. Every
/// change happens inside a crank and goes through the journal, which is how a crank
/// is rolled back without a trace and how its delta reaches storage.
public final class Kernel {
    /// The tables. Read freely; they change only inside cranks.
    public internal(set) var state: KernelState
    /// The settings the kernel was made with.
    public let configuration: KernelConfiguration
    let storage: (any KernelStorage)?
    /// The delivery records of a kernel without storage (with storage, they are read from it).
    var memoryRecords = DeliveryRecords()

    /// Set when an invariant broke; no crank runs after that.
    public internal(set) var haltedReason: String?

    /// Old values of what the running crank changed outside the keyed tables (each of those
    /// journals its own rows: `JournaledTable`), in order.
    var journal: [Undo] = []
    /// The journals of the cranks committed since the owner's last durable point, while it
    /// keeps a group open (`beginGroup`): what `undoGroup` replays if the group is lost; the
    /// keyed tables keep theirs likewise.
    var group: GroupUndo?
    var inCrank = false
    /// How the running crank began, and what it did so far, for the event log (`CrankTrace`).
    var crankStart: CrankStart?
    var trace: [CrankTraceEntry] = []
    /// Orphans (objects without an owner) that committed cranks retired since the owner last
    /// took the count (`takeOrphansRetired`), from their traces: for a metric. Not kernel state:
    /// nothing reads it back, and a kernel loaded from a store starts it at zero.
    private var orphansRetired = 0
    /// Krefs whose counts may have reached zero this crank, in insertion order (§2).
    var maybeFree: [KRef] = []
    var maybeFreeSet: Set<KRef> = []
    /// Per terminated vat, the c-list entries left to clean, in structural vref order.
    /// Derived from the c-list, so it is rebuilt rather than stored.
    var cleanupWork: [VatID: CleanupCursor] = [:]
    /// Live vats sorted as strings; derived from `state.vats`, dropped whenever liveness changes.
    var liveVatsCache: [VatID]?
    /// The live vats created with `receiveAbandonImport`, sorted as strings (derived).
    var abandonImportVatsCache: [VatID]?
    /// Terminated vats whose cleanup is pending, oldest termination first; derived likewise.
    var pendingCleanupCache: [VatID]?

    /// Makes a kernel, loading the committed state from `storage` if it has one.
    public init(configuration: KernelConfiguration = .init(), storage: (any KernelStorage)? = nil) throws {
        self.configuration = configuration
        self.storage = storage
        state = try storage?.load() ?? KernelState()
    }

    /// The number the running crank will have once committed.
    var currentCrank: Int { state.counters.crank + 1 }

    // MARK: - Cranks

    /// Runs `body` as one crank begun as `start` says: then `processRefcounts`, then commit.
    /// If anything throws, every change is undone. A `KernelError` is the request's refusal
    /// and passes through; an error `recover` turns into a value ends the crank with that
    /// value and nothing committed (a failed upgrade); anything else is a broken invariant
    /// (`KernelBug`, or an error no rule expects there) and halts the kernel (§13.2).
    func crank<T>(_ start: CrankStart, recover: (any Error) -> T? = { _ in nil },
                  _ body: () throws -> T) throws(KernelError) -> T {
        if let reason = haltedReason { throw .halted(reason: reason) }
        precondition(!inCrank, "cranks do not nest")
        inCrank = true
        crankStart = start
        defer {
            inCrank = false
            crankStart = nil
            trace.removeAll(keepingCapacity: true)
        }
        do {
            let result = try body()
            try processRefcounts()
            // A crank that changed nothing (a batch of reads) is not committed: it has no
            // number, no delta, no event and needs no disk, like a GET.
            if journal.isEmpty && !tablesChangedInCrank() { return result }
            try commit()
            return result
        } catch let refusal as KernelError {
            rollback()
            throw refusal
        } catch {
            rollback()
            if let value = recover(error) { return value }
            let reason = (error as? KernelBug)?.message ?? String(describing: error)
            haltedReason = reason
            throw .halted(reason: reason)
        }
    }

    /// Ends the crank: bumps the crank number, hands the delta to storage, forgets the journal.
    private func commit() throws(KernelError) {
        var counters = state.counters
        counters.crank += 1
        setCounters(counters)
        if let storage {
            do {
                try storage.commit(makeDelta())
            } catch {
                throw .storageFailure(String(describing: error))
            }
        }
        for case .objectRetired(_, nil) in trace { orphansRetired += 1 }
        if group != nil { group!.keep(journal, tableChanges: tableChangesJournaled()) }
        tables(.commitCrank(keep: group?.isUndoable == true))
        journal.removeAll(keepingCapacity: true)
        clearMaybeFree()
        // A kept group may pop an event and undo the pop later: the queues keep their heads.
        if group?.isUndoable != true { compactQueues() }
    }

    /// The orphans retired since the last call (`orphansRetired`), and starts counting again.
    public func takeOrphansRetired() -> Int {
        defer { orphansRetired = 0 }
        return orphansRetired
    }

    private func compactQueues() {
        state.acceptanceQueue.compact()
        state.runQueue.compact()
        state.reapQueue.compact()
    }

    // MARK: - Groups

    /// Starts keeping the journal of every crank committed from now on, until the owner says
    /// the group is durable (`groupIsDurable`) or lost (`undoGroup`).
    ///
    /// For an owner whose store stages cranks and makes them durable together (group commit):
    /// if that fails, memory goes back to the last durable point by undoing the group, in time
    /// proportional to what the group changed, instead of loading the whole state again.
    /// `undoLimit`: most undo entries kept; a group that changes more gives up its undo
    /// (`undoGroup` then returns false and the owner must reload). A group already open goes on.
    public func beginGroup(undoLimit: Int = .max) {
        precondition(!inCrank, "a group begins between cranks")
        if group == nil { group = GroupUndo(limit: undoLimit) }
    }

    /// The group's cranks are durable: forgets their journal.
    public func groupIsDurable() {
        precondition(!inCrank, "a group ends between cranks")
        guard group != nil else { return }
        group = nil
        tables(.forget)
        compactQueues()
    }

    /// The group's cranks were lost by the store: undoes them all, newest first, so the state
    /// is again the one of the last durable point (what the store's `load()` gives), and drops
    /// what is derived from it. False, with nothing undone, if the group gave up its undo
    /// (it passed its `undoLimit`), or if no group was open (nothing was kept): the owner must
    /// then rebuild the kernel from the store.
    public func undoGroup() -> Bool {
        precondition(!inCrank, "a group ends between cranks")
        guard let g = group else { return false }
        group = nil
        guard g.isUndoable else { return false }
        // The tables first: a vat creation's undo then takes the vat's emptied c-list away.
        tables(.undoAll)
        for u in g.entries.reversed() { undo(u) }
        clearMaybeFree()
        dropDerivedCaches()
        compactQueues()
        return true
    }

    /// Undoes the running crank's changes, newest first, and its trace. The crank stays open
    /// if it was (an illegal syscall undoes its batch this way before terminating the vat).
    func rollback() {
        // The tables first: a vat creation's undo then takes the vat's emptied c-list away.
        tables(.undoCrank)
        while let u = journal.popLast() { undo(u) }
        trace.removeAll(keepingCapacity: true)
        clearMaybeFree()
        dropDerivedCaches()
    }

    /// Derived state may have moved with the undone changes; it is rebuilt on demand.
    func dropDerivedCaches() {
        cleanupWork.removeAll()
        liveVatsCache = nil
        abandonImportVatsCache = nil
        pendingCleanupCache = nil
    }

    /// Live vats, sorted as strings.
    func liveVatIDs() -> [VatID] {
        if let c = liveVatsCache { return c }
        let c = state.vats.rows.values.filter(\.isAlive).map(\.id).sorted()
        liveVatsCache = c
        return c
    }

    /// Live vats that are told of orphaned imports (§13.8): looked at for every orphan, so
    /// kept apart from the (usually many more) vats that are not.
    func liveVatsReceivingAbandonImport() -> [VatID] {
        if let c = abandonImportVatsCache { return c }
        let c = liveVatIDs().filter { state.vats[$0]!.receiveAbandonImport }
        abandonImportVatsCache = c
        return c
    }

    /// Terminated vats still to clean, in the order they died.
    func pendingCleanupVats() -> [VatID] {
        if let c = pendingCleanupCache { return c }
        let c = state.vats.rows.values.compactMap { v -> (Int, VatID)? in
            guard let t = v.termination, !v.cleanedUp else { return nil }
            return (t.crank, v.id)
        }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.number < $1.1.number }.map(\.1)
        pendingCleanupCache = c
        return c
    }

    func clearMaybeFree() {
        maybeFree.removeAll(keepingCapacity: true)
        maybeFreeSet.removeAll(keepingCapacity: true)
    }

    func addMaybeFree(_ kref: KRef) {
        if maybeFreeSet.insert(kref).inserted { maybeFree.append(kref) }
    }

    /// Throws a `KernelBug` (halting the kernel) unless `condition` holds.
    func insist(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws {
        if !condition() { throw KernelBug(message()) }
    }
}

/// The undo entries of the cranks of an open group, oldest first (`Kernel.beginGroup`).
struct GroupUndo {
    let limit: Int
    private(set) var entries: [Undo] = []
    /// False once the group outgrew `limit` (its entries are then dropped).
    private(set) var isUndoable = true

    init(limit: Int) { self.limit = limit }

    /// Keeps one committed crank's journal; `tableChanges` is how many changes the keyed
    /// tables hold in theirs (this crank's and the group's), which count against the limit too.
    mutating func keep(_ journal: [Undo], tableChanges: Int) {
        guard isUndoable else { return }
        guard entries.count + journal.count + tableChanges <= limit else {
            isUndoable = false
            entries = []
            return
        }
        entries.append(contentsOf: journal)
    }
}

/// Where a terminated vat's cleanup stands.
struct CleanupCursor {
    /// The c-list's krefs when cleanup started, in cleanup order (exports, imports, promises).
    var remaining: [KRef]
    var next = 0
}
