import Glibc

/// The `Date` header's value (RFC 9110 §5.6.7, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`),
/// formatted at most once per second.
///
/// An origin server with a clock must send `Date` on every response; the event loop asks for
/// the current value once per flush, so the wall clock is read once per loop iteration and the
/// text is rebuilt only when the second changes. Confined to the event-loop thread.
final class HTTPDate {
    private var second: time_t = -1
    private(set) var bytes: [UInt8] = []

    /// The field value for now.
    func current() -> [UInt8] {
        let t = time(nil)
        if t != second {
            second = t
            bytes = Self.format(t)
        }
        return bytes
    }

    private static let days: [StaticString] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate of the UTC time `t` (seconds since the epoch).
    static func format(_ t: time_t) -> [UInt8] {
        var clock = t
        var parts = tm()
        gmtime_r(&clock, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(29)
        func append(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        func two(_ n: Int32) {
            out.append(UInt8(ascii: "0") &+ UInt8(n / 10))
            out.append(UInt8(ascii: "0") &+ UInt8(n % 10))
        }
        append(days[Int(parts.tm_wday)])
        append(", ")
        two(parts.tm_mday)
        out.append(ASCII.space)
        append(months[Int(parts.tm_mon)])
        out.append(ASCII.space)
        let year = Int(parts.tm_year) + 1900
        for divisor in [1000, 100, 10, 1] { out.append(UInt8(ascii: "0") &+ UInt8((year / divisor) % 10)) }
        out.append(ASCII.space)
        two(parts.tm_hour)
        out.append(UInt8(ascii: ":"))
        two(parts.tm_min)
        out.append(UInt8(ascii: ":"))
        two(parts.tm_sec)
        append(" GMT")
        return out
    }
}
