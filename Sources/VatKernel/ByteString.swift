/// A string that is equal, hashed and ordered by its UTF-8 bytes, exactly as written.
///
/// Swift's `String` compares by Unicode canonical equivalence: `"\u{E9}" == "e\u{301}"` and
/// `"K" == "\u{212A}"` (the Kelvin sign) are true, so two keys a vat wrote apart become one
/// key in a `Dictionary`, a `Set` or a sort. SQLite's BINARY collation and SwingSet's
/// swing-store compare bytes. Every key the kernel keeps (vatstore keys, JSON object keys) is a
/// `ByteString`, so memory agrees with the disk: distinct bytes stay distinct, and order is
/// the bytes' lexicographic order (which for UTF-8 is also code point order).
///
/// The text itself is kept as a `String` (whose bytes Swift never changes), so reading it
/// back costs nothing.
public struct ByteString: Hashable, Comparable, Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The text, byte for byte as it was given.
    public let string: String

    /// Wraps `string`; its UTF-8 bytes are what count.
    @inline(__always)
    public init(_ string: String) {
        var s = string
        // Keep contiguous UTF-8 so comparisons never take a slow path.
        s.makeContiguousUTF8()
        self.string = s
    }

    /// A literal key (`"$slot"`).
    public init(stringLiteral value: String) { self.init(value) }

    /// An interpolated key (`"k\(n)"`).
    public init(stringInterpolation: DefaultStringInterpolation) { self.init(String(stringInterpolation: stringInterpolation)) }

    /// The text.
    public var description: String { string }

    /// The number of UTF-8 bytes.
    public var utf8Count: Int { string.utf8.count }

    /// Calls `body` with the UTF-8 bytes.
    @inline(__always)
    public func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try string.utf8.withContiguousStorageIfAvailable(body) { return r }
        return try Array(string.utf8).withUnsafeBufferPointer(body)
    }

    /// Equal when the bytes are equal.
    @inline(__always)
    public static func == (a: ByteString, b: ByteString) -> Bool {
        guard a.string.utf8.count == b.string.utf8.count else { return false }
        return a.withUTF8 { x in b.withUTF8 { y in x.elementsEqual(y) } }
    }

    /// Hashes the bytes.
    public func hash(into hasher: inout Hasher) {
        withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Byte-wise lexicographic order: SQLite's BINARY collation, and code point order.
    @inline(__always)
    public static func < (a: ByteString, b: ByteString) -> Bool {
        a.withUTF8 { x in
            b.withUTF8 { y in
                let n = Swift.min(x.count, y.count)
                var i = 0
                while i < n {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
    }
}

extension String {
    /// True when the two strings have the same UTF-8 bytes (not merely canonically equivalent).
    public func hasSameBytes(as other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }

    /// True when the UTF-8 bytes come before `other`'s (byte order, not Unicode's).
    public func precedesInBytes(_ other: String) -> Bool {
        ByteString(self) < ByteString(other)
    }
}
