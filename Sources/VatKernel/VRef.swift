/// A vat reference, in the grammar `T S [D] N [/I [:F]]` of KERNEL-SPEC §1.
///
/// `o+7` is an object the vat exports, `o-50` an object it imports, `p+1`/`p-60` promises,
/// `o+d5/3` a durable virtual object, `o+v7/1:0` a facet of a merely-virtual one.
/// Parsed once at the edge; inside the kernel only the fields are used.
public struct VRef: Hashable, Sendable, CustomStringConvertible, Codable {
    /// `o`, `p` or `d`.
    public enum Kind: UInt8, Sendable { case object, promise, device }
    /// How long an exported object outlives its incarnation.
    public enum Durability: UInt8, Sendable { case ephemeral, virtual, durable }

    public let kind: Kind
    /// `+`: allocated by the vat (an export); `-`: allocated by the kernel (an import).
    public let allocatedByVat: Bool
    /// Only for `o+`: absent (ephemeral), `v` (virtual) or `d` (durable).
    public let durability: Durability
    /// The decimal id `N`.
    public let id: Int
    /// The `/I` instance (subid), only on `o+v` / `o+d`; -1 when absent.
    public let instance: Int
    /// The `:F` facet, only with an instance; -1 when absent.
    public let facet: Int

    /// Makes a vref from its parts; the caller guarantees they fit the grammar.
    public init(kind: Kind, allocatedByVat: Bool, durability: Durability = .ephemeral, id: Int, instance: Int = -1, facet: Int = -1) {
        self.kind = kind
        self.allocatedByVat = allocatedByVat
        self.durability = durability
        self.id = id
        self.instance = instance
        self.facet = facet
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
        let u = Array(text.utf8)
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
        guard let id = number(upTo: UInt8(ascii: "/")) else { return nil }
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
                guard let f = number(upTo: nil) else { return nil }
                facet = f
            }
        }
        self.init(kind: kind, allocatedByVat: byVat, durability: durability, id: id, instance: instance, facet: facet)
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
        h.combine(UInt64(kind.rawValue) | UInt64(allocatedByVat ? 4 : 0) | UInt64(durability.rawValue) << 3 | UInt64(bitPattern: Int64(id)) << 5)
        if instance >= 0 { h.combine(instance &* 31 &+ facet) }
    }

    /// A cheap total order (kind, sign, durability, id, instance, facet) used where the kernel
    /// needs some deterministic order but no reader compares it with text order.
    public static func structuralLess(_ a: VRef, _ b: VRef) -> Bool {
        if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
        if a.allocatedByVat != b.allocatedByVat { return a.allocatedByVat }
        if a.durability != b.durability { return a.durability.rawValue < b.durability.rawValue }
        if a.id != b.id { return a.id < b.id }
        if a.instance != b.instance { return a.instance < b.instance }
        return a.facet < b.facet
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = VRef(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a vref: \(text)"))
        }
        self = v
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
