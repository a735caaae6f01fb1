/// A vat's identity, `v1`, `v2`, ...: a number inside, text at the edges.
///
/// Ordering is the order of the text (`v10` < `v2`), because the spec sorts vat IDs as
/// plain strings wherever order is observable (subscribers, GC action groups).
public struct VatID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number after the `v`.
    public let number: Int

    /// Makes the ID `v<number>`.
    public init(_ number: Int) { self.number = number }

    /// Parses `vN` (N a positive decimal without leading zeros); nil for anything else.
    public init?(_ text: String) {
        var t = text
        guard let id = t.withUTF8(VatID.parse) else { return nil }
        self = id
    }

    /// Parses a vat ID from its UTF-8 bytes, exactly as ``init(_:)`` does.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let id = VatID.parse(bytes) else { return nil }
        self = id
    }

    private static func parse(_ u: UnsafeBufferPointer<UInt8>) -> VatID? {
        guard u.count >= 2, u[0] == UInt8(ascii: "v"), let n = parseCanonicalDecimal(u[1...]), n > 0 else { return nil }
        return VatID(n)
    }

    public var description: String { "v\(number)" }

    public static func < (a: VatID, b: VatID) -> Bool { a.description.precedesInBytes(b.description) }
}

/// Parses a non-negative decimal number in canonical form: digits only, no sign, no leading
/// zero unless the number is 0, at most 18 digits. Canonical form keeps text ↔ value a bijection.
func parseCanonicalDecimal<S: Collection>(_ digits: S) -> Int? where S.Element == UInt8 {
    guard !digits.isEmpty, digits.count <= 18 else { return nil }
    if digits.count > 1, digits.first == UInt8(ascii: "0") { return nil }
    var n = 0
    for d in digits {
        guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
        n = n * 10 + Int(d - UInt8(ascii: "0"))
    }
    return n
}
