/// One c-list entry: the vat's name for a kernel reference, and its reachable flag.
public struct CListEntry: Hashable, Sendable {
    public var vref: VRef
    /// `R` (true) or `_` (false). On an import: does the vat reach it. On an export: has the
    /// kernel not yet told the vat it was dropped.
    public var reachable: Bool

    /// Makes an entry for `vref` with its flag.
    public init(vref: VRef, reachable: Bool) {
        self.vref = vref
        self.reachable = reachable
    }
}

/// A vat's c-list: a bijection between krefs and the vat's vrefs (KERNEL-SPEC §2).
public struct CList: Hashable, Sendable {
    /// Kernel side → the vat's name and flag.
    public private(set) var byKRef: [KRef: CListEntry] = [:]
    /// The vat's name → kernel side.
    public private(set) var byVRef: [VRef: KRef] = [:]

    /// An empty c-list.
    public init() {}

    /// How many entries.
    public var count: Int { byKRef.count }

    /// The entry for a kref, if the vat knows it.
    public subscript(kref: KRef) -> CListEntry? { byKRef[kref] }
    /// The kref a vat's vref names, if any.
    public subscript(vref: VRef) -> KRef? { byVRef[vref] }

    /// Makes room for `n` entries (a store loading a big c-list).
    public mutating func reserveCapacity(_ n: Int) {
        byKRef.reserveCapacity(n)
        byVRef.reserveCapacity(n)
    }

    /// Sets or removes the entry for `kref`, keeping both directions in step. Outside the
    /// kernel this is for stores rebuilding committed state; the kernel's own changes go
    /// through its journal.
    public mutating func set(_ kref: KRef, _ entry: CListEntry?) {
        // The old vref may already name another kref (replayed deltas visit keys in any order).
        if let old = byKRef[kref], old.vref != entry?.vref, byVRef[old.vref] == kref { byVRef[old.vref] = nil }
        byKRef[kref] = entry
        if let entry { byVRef[entry.vref] = kref }
    }

    /// Every kref of the c-list: object exports, then object imports, then promises, then
    /// device nodes, each group by kref number. A deterministic order that sorts machine
    /// words, so ordering a million entries stays cheap.
    public func krefsInCleanupOrder() -> [KRef] {
        var keys: [UInt64] = []
        keys.reserveCapacity(byKRef.count)
        for (kref, e) in byKRef {
            let group: UInt64
            switch kref.kind {
            case .object: group = e.vref.allocatedByVat ? 0 : 1
            case .promise: group = 2
            case .device: group = 3
            }
            keys.append(group << 60 | UInt64(kref.number))
        }
        keys.sort()
        return keys.map { key in
            let n = Int(key & (1 << 60 - 1))
            switch key >> 60 {
            case 0, 1: return .object(n)
            case 2: return .promise(n)
            default: return KRef(.device, n)
            }
        }
    }
}
