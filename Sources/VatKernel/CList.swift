/// One c-list entry: the vat's name for a kernel reference, and its reachable flag.
public struct CListEntry: Hashable, Sendable, Codable {
    public var vref: VRef
    /// `R` (true) or `_` (false). On an import: does the vat reach it. On an export: has the
    /// kernel not yet told the vat it was dropped.
    public var reachable: Bool

    public init(vref: VRef, reachable: Bool) {
        self.vref = vref
        self.reachable = reachable
    }
}

/// A vat's c-list: a bijection between krefs and the vat's vrefs (KERNEL-SPEC §2).
public struct CList: Hashable, Sendable {
    public private(set) var byKRef: [KRef: CListEntry] = [:]
    public private(set) var byVRef: [VRef: KRef] = [:]

    public init() {}

    public var count: Int { byKRef.count }

    public subscript(kref: KRef) -> CListEntry? { byKRef[kref] }
    public subscript(vref: VRef) -> KRef? { byVRef[vref] }

    /// Sets or removes the entry for `kref`, keeping both directions in step.
    mutating func set(_ kref: KRef, _ entry: CListEntry?) {
        if let old = byKRef[kref], old.vref != entry?.vref { byVRef[old.vref] = nil }
        byKRef[kref] = entry
        if let entry { byVRef[entry.vref] = kref }
    }

    /// Every entry, sorted by vref in structural order: exports, imports, then promises.
    public func sortedEntries() -> [(kref: KRef, entry: CListEntry)] {
        byKRef.map { (kref: $0.key, entry: $0.value) }.sorted { VRef.structuralLess($0.entry.vref, $1.entry.vref) }
    }
}
