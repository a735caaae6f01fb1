/// A kernel reference: `koN` (object), `kpN` (promise) or `kdN` (device node).
///
/// Vats never see these; the host side of the API speaks them. Ordering is the order of the
/// text (`ko100` < `ko21`), as the spec sorts krefs as plain strings.
public struct KRef: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// What the reference designates.
    public enum Kind: UInt8, Sendable {
        case object, promise, device
    }

    /// Kind in the top byte, number below: one word, one hash combine.
    private let raw: UInt64

    /// Object, promise or device node.
    public var kind: Kind { Kind(rawValue: UInt8(truncatingIfNeeded: raw >> 56))! }
    /// The number after the prefix.
    public var number: Int { Int(truncatingIfNeeded: raw & 0x00FF_FFFF_FFFF_FFFF) }

    /// Makes a kref from its parts (numbers below 2^56).
    public init(_ kind: Kind, _ number: Int) {
        raw = UInt64(kind.rawValue) << 56 | UInt64(number)
    }

    /// `koN`.
    public static func object(_ n: Int) -> KRef { KRef(.object, n) }
    /// `kpN`.
    public static func promise(_ n: Int) -> KRef { KRef(.promise, n) }

    /// Parses `koN`, `kpN`, `kdN`; nil for anything else.
    public init?(_ text: String) {
        var t = text
        guard let k = t.withUTF8(KRef.parse) else { return nil }
        self = k
    }

    /// Parses a kref from its UTF-8 bytes, exactly as ``init(_:)`` does.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let k = KRef.parse(bytes) else { return nil }
        self = k
    }

    private static func parse(_ u: UnsafeBufferPointer<UInt8>) -> KRef? {
        guard u.count >= 3, u[0] == UInt8(ascii: "k") else { return nil }
        let kind: Kind
        switch u[1] {
        case UInt8(ascii: "o"): kind = .object
        case UInt8(ascii: "p"): kind = .promise
        case UInt8(ascii: "d"): kind = .device
        default: return nil
        }
        guard let n = parseCanonicalDecimal(u[2...]), n < 1 << 56 else { return nil }
        return KRef(kind, n)
    }

    /// `koN`.
    public var isObject: Bool { kind == .object }
    /// `kpN`.
    public var isPromise: Bool { kind == .promise }

    public var description: String {
        switch kind {
        case .object: return "ko\(number)"
        case .promise: return "kp\(number)"
        case .device: return "kd\(number)"
        }
    }

    public static func < (a: KRef, b: KRef) -> Bool { a.description.precedesInBytes(b.description) }
}
