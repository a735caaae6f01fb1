/// A table keyed by `VatID`, stored by vat number in an array: vat numbers are small,
/// dense and never reused, so lookups need no hashing. Reads like a Dictionary.
///
/// Inlinable, so that code outside the core (a store loading its rows) gets the specialized
/// table and not a generic one.
public struct VatTable<Value: Hashable & Sendable>: Hashable, Sendable, Sequence {
    @usableFromInline var slots: [Value?] = []
    @usableFromInline var filled = 0

    /// An empty table.
    @inlinable public init() {}

    /// How many vats have a value.
    @inlinable public var count: Int { filled }

    /// True when no vat has a value.
    @inlinable public var isEmpty: Bool { filled == 0 }

    /// The vat's value; setting nil removes it.
    @inlinable public subscript(_ id: VatID) -> Value? {
        get { id.number < slots.count ? slots[id.number] : nil }
        _modify {
            if id.number >= slots.count { slots.append(contentsOf: repeatElement(nil, count: id.number + 1 - slots.count)) }
            let had = slots[id.number] != nil
            yield &slots[id.number]
            let has = slots[id.number] != nil
            if had != has { filled += has ? 1 : -1 }
        }
        set {
            if id.number >= slots.count { slots.append(contentsOf: repeatElement(nil, count: id.number + 1 - slots.count)) }
            let had = slots[id.number] != nil
            slots[id.number] = newValue
            if had != (newValue != nil) { filled += newValue != nil ? 1 : -1 }
        }
    }

    /// The vat's value, or `defaultValue` (stored on mutation).
    @inlinable public subscript(_ id: VatID, default defaultValue: @autoclosure () -> Value) -> Value {
        get { self[id] ?? defaultValue() }
        _modify {
            if self[id] == nil { self[id] = defaultValue() }
            yield &slots[id.number]!
        }
    }

    /// The vats that have a value, in number order.
    public var keys: [VatID] { slots.indices.filter { slots[$0] != nil }.map(VatID.init) }
    /// The values, in vat-number order.
    public var values: [Value] { slots.compactMap { $0 } }

    public func makeIterator() -> AnyIterator<(key: VatID, value: Value)> {
        var i = 0
        let slots = self.slots
        return AnyIterator {
            while i < slots.count {
                defer { i += 1 }
                if let v = slots[i] { return (key: VatID(i), value: v) }
            }
            return nil
        }
    }

    public static func == (a: VatTable, b: VatTable) -> Bool {
        a.filled == b.filled && a.elementsEqual(b) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into h: inout Hasher) {
        for (k, v) in self {
            h.combine(k)
            h.combine(v)
        }
    }
}
