import VatKernel

/// Parses refs straight from a column's UTF-8 bytes, without making a `String` first: a
/// million-object load reads millions of them. Accepts exactly the canonical texts the core's
/// `VatID(_:)`, `KRef(_:)` and `VRef(_:)` accept (`RefTextTests` holds them to it).
enum RefText {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// `vN`, N > 0.
    static func vatID(_ b: Bytes) -> VatID? {
        guard b.count >= 2, b[0] == UInt8(ascii: "v"), let n = decimal(b, 1, b.count), n > 0 else { return nil }
        return VatID(n)
    }

    /// `koN`, `kpN`, `kdN`, N < 2^56.
    static func kref(_ b: Bytes) -> KRef? {
        guard b.count >= 3, b[0] == UInt8(ascii: "k") else { return nil }
        let kind: KRef.Kind
        switch b[1] {
        case UInt8(ascii: "o"): kind = .object
        case UInt8(ascii: "p"): kind = .promise
        case UInt8(ascii: "d"): kind = .device
        default: return nil
        }
        guard let n = decimal(b, 2, b.count), n < 1 << 56 else { return nil }
        return KRef(kind, n)
    }

    /// `T S [D] N [/I [:F]]` (KERNEL-SPEC §1), as `VRef(_:)` parses it.
    static func vref(_ b: Bytes) -> VRef? {
        guard b.count >= 3 else { return nil }
        let kind: VRef.Kind
        switch b[0] {
        case UInt8(ascii: "o"): kind = .object
        case UInt8(ascii: "p"): kind = .promise
        case UInt8(ascii: "d"): kind = .device
        default: return nil
        }
        let byVat: Bool
        switch b[1] {
        case UInt8(ascii: "+"): byVat = true
        case UInt8(ascii: "-"): byVat = false
        default: return nil
        }
        var i = 2
        var durability = VRef.Durability.ephemeral
        if kind == .object, byVat, b[i] == UInt8(ascii: "d") || b[i] == UInt8(ascii: "v") {
            durability = b[i] == UInt8(ascii: "d") ? .durable : .virtual
            i += 1
        }
        func number(upTo stop: UInt8?) -> Int? {
            let start = i
            while i < b.count, b[i] != stop { i += 1 }
            return decimal(b, start, i)
        }
        guard let id = number(upTo: UInt8(ascii: "/")) else { return nil }
        var instance = -1
        var facet = -1
        if i < b.count {
            guard durability != .ephemeral else { return nil }
            i += 1
            guard let inst = number(upTo: UInt8(ascii: ":")) else { return nil }
            instance = inst
            if i < b.count {
                i += 1
                guard let f = number(upTo: nil) else { return nil }
                facet = f
            }
        }
        return VRef(kind: kind, allocatedByVat: byVat, durability: durability, id: id, instance: instance, facet: facet)
    }

    /// A canonical non-negative decimal in `b[from..<to]`: digits only, no leading zero
    /// unless it is 0, at most 18 digits.
    static func decimal(_ b: Bytes, _ from: Int, _ to: Int) -> Int? {
        let count = to - from
        guard count > 0, count <= 18 else { return nil }
        if count > 1, b[from] == UInt8(ascii: "0") { return nil }
        var n = 0
        for j in from..<to {
            let d = b[j] &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            n = n * 10 + Int(d)
        }
        return n
    }
}
