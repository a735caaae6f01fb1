/// A vat reference, in the grammar `T S [D] N [/I [:F]]` of KERNEL-SPEC §1.
///
/// `o+7` is an object the vat exports, `o-50` an object it imports, `p+1`/`p-60` promises,
/// `o+d5/3` a durable virtual object, `o+v7/1:0` a facet of a merely-virtual one.
/// Parsed once at the edge; inside the kernel only the fields are used.
public struct VRef: Hashable, Sendable, CustomStringConvertible {
    /// `o`, `p` or `d`.
    public enum Kind: UInt8, Sendable { case object, promise, device }
    /// How long an exported object outlives its incarnation.
    public enum Durability: UInt8, Sendable { case ephemeral, virtual, durable }

    /// Packed: kind (2 bits), `+` (1), durability (2), facet+1 (16), id (40). One word to
    /// hash; a c-list entry stays small. Ids reach 2^40−1 and facets 2^16−2.
    private let word: UInt64
    /// The instance, or -1.
    public let instance: Int

    /// Object, promise or device node.
    public var kind: Kind { Kind(rawValue: UInt8(word & 3))! }
    /// `+`: allocated by the vat (an export); `-`: allocated by the kernel (an import).
    public var allocatedByVat: Bool { word & 4 != 0 }
    /// Only for `o+`: absent (ephemeral), `v` (virtual) or `d` (durable).
    public var durability: Durability { Durability(rawValue: UInt8((word >> 3) & 3))! }
    /// The decimal id `N`.
    public var id: Int { Int(word >> 21) }
    /// The `:F` facet, only with an instance; -1 when absent.
    public var facet: Int { Int((word >> 5) & 0xFFFF) - 1 }

    /// The largest id a vref may carry.
    public static let maxID = (1 << 40) - 1
    /// The largest facet a vref may carry.
    public static let maxFacet = 0xFFFF - 1

    /// Makes a vref from its parts; the caller guarantees they fit the grammar and limits.
    public init(kind: Kind, allocatedByVat: Bool, durability: Durability = .ephemeral, id: Int, instance: Int = -1, facet: Int = -1) {
        precondition(id >= 0 && id <= VRef.maxID && facet <= VRef.maxFacet, "vref part out of range")
        word = UInt64(kind.rawValue) | (allocatedByVat ? 4 : 0) | UInt64(durability.rawValue) << 3
            | UInt64(facet + 1) << 5 | UInt64(id) << 21
        self.instance = instance
    }

    /// An object the kernel allocated in a vat: `o-N`.
    public static func objectImport(_ n: Int) -> VRef { VRef(kind: .object, allocatedByVat: false, id: n) }
    /// A promise the kernel allocated in a vat: `p-N`.
    public static func promiseImport(_ n: Int) -> VRef { VRef(kind: .promise, allocatedByVat: false, id: n) }
    /// A device node the kernel allocated in a vat: `d-N`.
    public static func deviceImport(_ n: Int) -> VRef { VRef(kind: .device, allocatedByVat: false, id: n) }
    /// The vat's root object, `o+0`.
    public static let root = VRef(kind: .object, allocatedByVat: true, id: 0)

    /// Parses a vref; nil if the text is not in the grammar.
    public init?(_ text: String) {
        var t = text
        guard let v = t.withUTF8(VRef.parse) else { return nil }
        self = v
    }

    /// Parses a vref from its UTF-8 bytes (a stored column, say), exactly as ``init(_:)`` does.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let v = VRef.parse(bytes) else { return nil }
        self = v
    }

    private static func parse(_ u: UnsafeBufferPointer<UInt8>) -> VRef? {
        guard u.count >= 3 else { return nil }
        let kind: Kind
        switch u[0] {
        case UInt8(ascii: "o"): kind = .object
        case UInt8(ascii: "p"): kind = .promise
        case UInt8(ascii: "d"): kind = .device
        default: return nil
        }
        let byVat: Bool
        switch u[1] {
        case UInt8(ascii: "+"): byVat = true
        case UInt8(ascii: "-"): byVat = false
        default: return nil
        }
        var i = 2
        var durability = Durability.ephemeral
        if kind == .object, byVat, u[i] == UInt8(ascii: "d") || u[i] == UInt8(ascii: "v") {
            durability = u[i] == UInt8(ascii: "d") ? .durable : .virtual
            i += 1
        }
        func number(upTo stop: UInt8?) -> Int? {
            let start = i
            while i < u.count, u[i] != stop { i += 1 }
            return parseCanonicalDecimal(u[start..<i])
        }
        guard let id = number(upTo: UInt8(ascii: "/")), id <= VRef.maxID else { return nil }
        var instance = -1
        var facet = -1
        if i < u.count {
            // Only virtual and durable objects have instances.
            guard durability != .ephemeral else { return nil }
            i += 1
            guard let inst = number(upTo: UInt8(ascii: ":")) else { return nil }
            instance = inst
            if i < u.count {
                i += 1
                guard let f = number(upTo: nil), f <= VRef.maxFacet else { return nil }
                facet = f
            }
        }
        return VRef(kind: kind, allocatedByVat: byVat, durability: durability, id: id, instance: instance, facet: facet)
    }

    /// An object the vat allocated (`o+…`).
    public var isExport: Bool { kind == .object && allocatedByVat }
    /// An object the kernel allocated in this vat (`o-N`).
    public var isObjectImport: Bool { kind == .object && !allocatedByVat }
    /// `o+d…`: survives upgrade.
    public var isDurable: Bool { isExport && durability == .durable }

    public var description: String {
        var s: String
        switch kind {
        case .object: s = "o"
        case .promise: s = "p"
        case .device: s = "d"
        }
        s += allocatedByVat ? "+" : "-"
        switch durability {
        case .ephemeral: break
        case .virtual: s += "v"
        case .durable: s += "d"
        }
        s += String(id)
        if instance >= 0 {
            s += "/" + String(instance)
            if facet >= 0 { s += ":" + String(facet) }
        }
        return s
    }

    public func hash(into h: inout Hasher) {
        h.combine(word)
        if instance >= 0 { h.combine(instance) }
    }
}
