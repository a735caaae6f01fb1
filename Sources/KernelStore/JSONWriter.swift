import VatKernel

/// Writes compact JSON as UTF-8 bytes, keys in sorted order, numbers exactly.
///
/// Why not Foundation's `JSONEncoder`: it writes `.double(1.0)` as `1` and `-0.0` as `-0`,
/// which read back as `.int`, so a stored state would not equal the kernel's. Here an `Int`
/// is digits only and a `Double` always carries a `.` or an exponent (Swift's shortest
/// round-trip form), so `JSONParser` gives back exactly what was written.
/// Structures are written key by key; callers write fixed keys in sorted order.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init() { bytes.reserveCapacity(128) }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// Writes `"name":`; the next call writes its value.
    mutating func key(_ name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func null() { separate(); bytes.append(contentsOf: "null".utf8); needsComma = true }
    mutating func bool(_ b: Bool) { separate(); bytes.append(contentsOf: (b ? "true" : "false").utf8); needsComma = true }
    mutating func int(_ i: Int) { separate(); bytes.append(contentsOf: String(i).utf8); needsComma = true }
    mutating func string(_ s: String) { separate(); writeString(s); needsComma = true }

    /// Writes a finite double so that it reads back as a double: `1.0`, `1e+20`, `-0.0`.
    mutating func double(_ d: Double) throws {
        guard d.isFinite else { throw JSONWriterError("JSON cannot hold the number \(d)") }
        separate()
        bytes.append(contentsOf: d.description.utf8)
        needsComma = true
    }

    mutating func value(_ v: JSONValue) throws {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): try double(d)
        case .string(let s): string(s)
        case .array(let a):
            beginArray()
            for e in a { try value(e) }
            endArray()
        case .object(let o):
            beginObject()
            for k in o.keys.sorted() {
                key(k)
                try value(o[k]!)
            }
            endObject()
        }
    }

    /// The JSON text of one value.
    static func text(_ v: JSONValue) throws -> String {
        var w = JSONWriter()
        try w.value(v)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(Self.hex[Int(c >> 4)])
                bytes.append(Self.hex[Int(c & 0xF)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A value JSON cannot represent (a NaN or an infinity).
struct JSONWriterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
