/// How a journaled table keeps its rows: at most one row per key, read and written by key.
///
/// A dictionary, a set (its row is `true` while the element is in it), a `VatTable`, or the
/// per-vat tables (`PerVat`: `CLists`, `Vatstores`) whose key is a (vat, key) pair.
public protocol TableRows: Hashable {
    associatedtype Key: Hashable
    associatedtype Row: Hashable
    /// No rows.
    init()
    /// How many rows (for the per-vat tables: how many vats have theirs).
    var count: Int { get }
    /// True when there are no rows.
    var isEmpty: Bool { get }
    /// The row at `key`, nil if there is none.
    func row(_ key: Key) -> Row?
    /// Writes the row at `key`; nil removes it.
    mutating func setRow(_ key: Key, _ row: Row?)
}

/// One table of the kernel's state (KERNEL-SPEC §2) that journals its own changes.
///
/// Every change the kernel makes goes through `set` (or `modify`), which keeps the key and
/// the row it replaced. From that one log the table can undo the running crank, or every
/// crank of an open group, newest first; and it can say which keys the crank changed, with
/// their rows now, which is its part of the crank's `CrankDelta`. Adding a table to the
/// kernel is one field of this type in `KernelState` and one line in `forEachTable`.
///
/// Reads go to the rows: `table[key]`, `count` and `isEmpty` on the table, anything else on
/// `rows`. Equality and hashing look at the rows only.
public struct JournaledTable<Rows: TableRows>: Hashable {
    /// The rows. A store rebuilding a committed state writes them directly; the kernel changes
    /// them only through `set` and `modify`, which journal.
    public var rows: Rows
    /// The key and old row of each change not yet forgotten, oldest first.
    @usableFromInline var log: [(key: Rows.Key, old: Rows.Row?)] = []
    /// Where the running crank's changes begin in `log`; the ones before it belong to the
    /// committed cranks of an open group, kept for `undoAll`.
    @usableFromInline var crankStart = 0

    /// A table holding `rows`, with nothing journaled.
    @inlinable
    public init(_ rows: Rows = Rows()) { self.rows = rows }

    /// The row at `key`.
    @inlinable
    public subscript(_ key: Rows.Key) -> Rows.Row? { rows.row(key) }

    /// How many rows.
    @inlinable
    public var count: Int { rows.count }

    /// True when there are no rows.
    @inlinable
    public var isEmpty: Bool { rows.isEmpty }

    public static func == (a: JournaledTable, b: JournaledTable) -> Bool { a.rows == b.rows }
    public func hash(into h: inout Hasher) { h.combine(rows) }

    // MARK: - Changes (the kernel's)

    /// Writes the row at `key` (nil removes it), journaling the row it replaces.
    @inlinable @inline(__always)
    mutating func set(_ key: Rows.Key, _ row: Rows.Row?) {
        log.append((key, rows.row(key)))
        rows.setRow(key, row)
    }

    /// How many changes the log holds, from this crank and from a kept group's cranks: a mark
    /// for `changes(since:)`, and what a group's undo limit counts.
    var journaled: Int { log.count }

    /// True if the running crank changed this table.
    var changedInCrank: Bool { log.count > crankStart }

    /// The keys changed since `mark` (a `journaled` count), each with the row it had before
    /// its first change after the mark and the row it has now; a key changed twice is listed
    /// twice.
    func changes(since mark: Int) -> some Sequence<(key: Rows.Key, old: Rows.Row?, new: Rows.Row?)> {
        log[mark...].lazy.map { [rows] e in (e.key, e.old, rows.row(e.key)) }
    }

    /// The running crank's part of the delta: each key it changed, with its row now (nil:
    /// removed). A key changed back and forth is still listed, with the row it ended on.
    func crankChanges() -> [Rows.Key: Rows.Row?] {
        var d: [Rows.Key: Rows.Row?] = [:]
        guard changedInCrank else { return d }
        // By index, reading only the key: copying whole entries would copy their old rows.
        for i in crankStart..<log.count {
            let key = log[i].key
            d[key] = .some(rows.row(key))
        }
        return d
    }

    /// Applies a delta's changes of this table (how a store replays what the kernel committed).
    public mutating func apply(_ changes: [Rows.Key: Rows.Row?]) {
        for (key, row) in changes { rows.setRow(key, row) }
    }

    /// Ends, aborts, or forgets what the log holds (`TableStep`).
    mutating func take(_ step: TableStep) {
        switch step {
        case .commitCrank(keep: true):
            crankStart = log.count
        case .commitCrank(keep: false), .forget:
            // Most cranks leave most tables alone: an empty log is not touched.
            guard !log.isEmpty else { return }
            log.removeAll(keepingCapacity: true)
            crankStart = 0
        case .undoCrank:
            undo(to: crankStart)
        case .undoAll:
            undo(to: 0)
            crankStart = 0
        }
    }

    private mutating func undo(to mark: Int) {
        while log.count > mark {
            let e = log.removeLast()
            rows.setRow(e.key, e.old)
        }
    }
}

extension JournaledTable {
    /// Changes the existing row at `key` in place with one hash lookup, journaling its old
    /// value; nil (and nothing journaled) if there is no row.
    @inlinable @inline(__always)
    mutating func modify<K, V>(_ key: K, _ body: (inout V) throws -> Void) rethrows -> V? where Rows == [K: V] {
        guard let i = rows.index(forKey: key) else { return nil }
        log.append((key, rows.values[i]))
        try body(&rows.values[i])
        return rows.values[i]
    }
}

extension JournaledTable {
    /// True if the set holds `element` (a hash lookup, not a scan).
    @inlinable
    public func contains<E>(_ element: E) -> Bool where Rows == Set<E> { rows.contains(element) }
}

/// What happens to a table's journal at the end of a crank, a group, or an abort.
enum TableStep {
    /// The crank committed: its changes are forgotten, or kept for an open group's undo.
    case commitCrank(keep: Bool)
    /// The running crank aborts: its changes are undone, newest first.
    case undoCrank
    /// The group is lost: every change kept since it began is undone, newest first.
    case undoAll
    /// The group is durable: what it kept is forgotten.
    case forget
}

/// Visits every journaled table of a state in one call: what a commit, an abort and a group's
/// undo go over, so none of them has a per-table case.
protocol TableVisitor {
    mutating func visit<Rows: TableRows>(_ table: inout JournaledTable<Rows>)
}

// MARK: - Row storages

extension JournaledTable: Sendable where Rows: Sendable, Rows.Key: Sendable, Rows.Row: Sendable {}

/// Iterates the rows (in the rows' own order).
extension JournaledTable: Sequence where Rows: Sequence {
    @inlinable public func makeIterator() -> Rows.Iterator { rows.makeIterator() }
    @inlinable public var underestimatedCount: Int { rows.underestimatedCount }
}

extension Dictionary: TableRows where Value: Hashable {
    public typealias Row = Value
    @inlinable public func row(_ key: Key) -> Value? { self[key] }
    @inlinable public mutating func setRow(_ key: Key, _ row: Value?) { self[key] = row }
}

extension Set: TableRows {
    public typealias Key = Element
    /// `true` while the element is in the set.
    public typealias Row = Bool
    @inlinable public func row(_ key: Element) -> Bool? { contains(key) ? true : nil }
    @inlinable public mutating func setRow(_ key: Element, _ row: Bool?) {
        if row == true { insert(key) } else { remove(key) }
    }
}

extension VatTable: TableRows {
    public typealias Key = VatID
    public typealias Row = Value
    @inlinable public func row(_ key: VatID) -> Value? { self[key] }
    @inlinable public mutating func setRow(_ key: VatID, _ row: Value?) { self[key] = row }
}

/// One vat's part of a per-vat table: its c-list, or its vatstore.
public protocol VatPart: Hashable, Sendable {
    associatedtype Key: Hashable
    associatedtype Row: Hashable
    /// An empty part (a new vat's).
    init()
    /// The row at `key`, nil if there is none.
    func row(_ key: Key) -> Row?
    /// Writes the row at `key`; nil removes it.
    mutating func setRow(_ key: Key, _ row: Row?)
}

/// The key of a per-vat table's row: the vat, and the key within the vat's part.
public protocol VatScopedKey: Hashable, Sendable {
    associatedtype PartKey: Hashable
    var vat: VatID { get }
    var partKey: PartKey { get }
}

/// A table whose rows are grouped by vat, as the rows of one table keyed by (vat, key): every
/// vat's c-list (`CLists`) or every vat's vatstore (`Vatstores`). A vat has its part from its
/// creation on (`addVat`), even while it is empty.
///
/// Inlinable, with `VatTable`, so that a store filling a table at start-up calls the
/// specialized code and not the generic one.
public struct PerVat<Part: VatPart, Key: VatScopedKey>: TableRows, Sendable, Sequence where Key.PartKey == Part.Key {
    @usableFromInline var parts = VatTable<Part>()

    /// No vats.
    @inlinable public init() {}

    /// The parts by vat.
    @inlinable public var byVat: VatTable<Part> { parts }

    /// The vat's part; nil for a vat that was never created.
    @inlinable public subscript(_ vat: VatID) -> Part? { parts[vat] }

    @inlinable public func row(_ key: Key) -> Part.Row? { parts[key.vat]?.row(key.partKey) }

    /// Sets or removes one row. Removing from a vat without a part changes nothing.
    @inlinable public mutating func setRow(_ key: Key, _ row: Part.Row?) {
        if row == nil, parts[key.vat] == nil { return }
        parts[key.vat, default: Part()].setRow(key.partKey, row)
    }

    /// The parts, in vat-number order.
    public var values: [Part] { parts.values }
    /// How many vats have a part.
    @inlinable public var count: Int { parts.count }
    /// True when no vat has one.
    @inlinable public var isEmpty: Bool { parts.isEmpty }

    /// Each vat's part, in vat-number order.
    public func makeIterator() -> VatTable<Part>.Iterator { parts.makeIterator() }

    /// Gives a new vat its empty part.
    public mutating func addVat(_ vat: VatID) {
        if parts[vat] == nil { parts[vat] = Part() }
    }

    /// Takes a vat's part away (the undo of its creation).
    mutating func removeVat(_ vat: VatID) { parts[vat] = nil }
}

/// Every vat's c-list, keyed by (vat, kref).
public typealias CLists = PerVat<CList, CListKey>
/// Every vat's vatstore, keyed by (vat, key).
public typealias Vatstores = PerVat<Vatstore, VatstoreKey>

extension PerVat where Part == CList {
    /// Makes room for `n` entries in the vat's c-list (a store loading a big one).
    public mutating func reserveCapacity(_ n: Int, for vat: VatID) {
        parts[vat, default: CList()].reserveCapacity(n)
    }
}

extension CList: VatPart {
    @inlinable public func row(_ kref: KRef) -> CListEntry? { self[kref] }
    @inlinable public mutating func setRow(_ kref: KRef, _ entry: CListEntry?) { set(kref, entry) }
}

extension Vatstore: VatPart {
    @inlinable public func row(_ key: ByteString) -> ByteString? { self[key] }
    @inlinable public mutating func setRow(_ key: ByteString, _ value: ByteString?) { self[key] = value }
}

extension CListKey: VatScopedKey {
    @inlinable public var partKey: KRef { kref }
}

extension VatstoreKey: VatScopedKey {
    @inlinable public var partKey: ByteString { key }
}

extension JournaledTable {
    /// The vat's part (its c-list, its vatstore); nil for a vat that was never created.
    @inlinable public subscript<P, K>(_ vat: VatID) -> P? where Rows == PerVat<P, K> { rows[vat] }
}
