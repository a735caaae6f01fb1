/// How the writers spell an integer (the JSON writer, the store's bindings) without making a
/// String: the ASCII text `String(n)` gives, built in a buffer on the stack.
public enum DecimalText {
    /// Calls `body` with the text of `n` (`-` and digits), after `prefix` if one is given
    /// (the `v` of a vat ID). The buffer lives only for the call.
    @inlinable
    public static func with<R>(_ n: Int, prefix: UInt8? = nil, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var m = n.magnitude
        // 24 bytes hold a prefix, a sign and the 20 digits of UInt64.max.
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &buffer) { raw in
            var at = raw.count
            repeat {
                at -= 1
                raw[at] = UInt8(truncatingIfNeeded: m % 10) &+ 0x30
                m /= 10
            } while m != 0
            if n < 0 { at -= 1; raw[at] = UInt8(ascii: "-") }
            if let prefix { at -= 1; raw[at] = prefix }
            return try body(UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }
}
