/// Writes compact JSON as UTF-8 bytes, one token at a time: the bottom of every JSON text the
/// project writes (the store's columns, the service's answers).
///
/// Numbers are written so that `JSONValue.parse` gives back exactly what was written: an `Int`
/// is digits only, and a `Double` always carries a `.` or an exponent (Swift's shortest
/// round-trip description: `1.0`, `1e+20`, `-0.0`, `5e-324`). Foundation's `JSONEncoder` writes
/// `.double(1.0)` as `1`, which would read back as `.int`.
///
/// The writer places the commas; the caller keeps the structure balanced and, inside an object,
/// calls `key(_:)` before each value. Keys are written in the order given; `value(_:)` sorts a
/// `JSONValue`'s keys, so the same value always gives the same bytes.
///
/// A writer for the API's answers (`doubles: .answer`) writes an integral double as digits
/// instead, the one way its bytes differ from the store's for the same value.
public struct JSONWriter: Sendable {
    /// How `double(_:)` writes a double.
    public enum Doubles: Sendable {
        /// So that `JSONValue.parse` reads back the same double (`1.0`, `1e+20`, `-0.0`); a NaN
        /// or an infinity is an error. The store's columns and the crank hash.
        case exact
        /// The API's answers, which have always written an integral double below 10^15 as
        /// digits (`2`, not `2.0`) and a NaN or an infinity (which no parsed body holds) as
        /// `null`, as JavaScript's JSON.stringify does. `-0.0` keeps its sign (`0` would read
        /// back as a different number); anything else is written as `.exact` writes it.
        case answer
    }

    /// The UTF-8 text written so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false
    /// How this writer writes doubles.
    public let doubles: Doubles
    /// Whether the writer notes `kStrings`.
    private let notesKStrings: Bool
    /// Where in `bytes` each string value (not key) that begins with `k` is, between its quotes,
    /// in the order written, if the writer was made `notingKStrings`: every kref the text holds
    /// is one of them, so the event log finds them without scanning the text. Nil when not
    /// noting, or once `encoded(_:)` has copied in bytes whose strings the writer did not see.
    public private(set) var kStrings: [Range<Int>]?

    /// An empty writer with room for `capacity` bytes before it grows.
    public init(capacity: Int = 128, doubles: Doubles = .exact, notingKStrings: Bool = false) {
        self.doubles = doubles
        notesKStrings = notingKStrings
        kStrings = notingKStrings ? [] : nil
        bytes.reserveCapacity(capacity)
    }

    /// Forgets what was written, keeping the buffer for the next text.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
        if kStrings != nil { kStrings!.removeAll(keepingCapacity: true) } else if notesKStrings { kStrings = [] }
    }

    /// Writes `{`.
    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    /// Writes `}`.
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    /// Writes `[`.
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    /// Writes `]`.
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// Writes `"name":`; the next call writes its value.
    public mutating func key(_ name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes `null`.
    public mutating func null() { separate(); bytes.append(contentsOf: "null".utf8); needsComma = true }

    /// Writes `true` or `false`.
    public mutating func bool(_ b: Bool) { separate(); bytes.append(contentsOf: (b ? "true" : "false").utf8); needsComma = true }

    /// Writes an integer as digits alone, so it reads back as an `.int`.
    public mutating func int(_ i: Int) { separate(); appendDecimal(i); needsComma = true }

    /// Writes a string, quoted; `"`, `\` and the control characters U+0000…U+001F and U+007F
    /// are escaped, everything else is its UTF-8.
    public mutating func string(_ s: String) {
        separate()
        let start = bytes.count + 1
        writeString(s)
        noteKString(from: start)
        needsComma = true
    }

    /// Notes the string value just written, from `start` to before its closing quote, if it
    /// begins with `k` and the writer notes such strings.
    private mutating func noteKString(from start: Int) {
        guard kStrings != nil, start < bytes.count - 1, bytes[start] == UInt8(ascii: "k") else { return }
        kStrings!.append(start..<(bytes.count - 1))
    }

    /// Writes a finite double so that it reads back as that same double: `1.0`, `1e+20`, `-0.0`
    /// (or as `Doubles.answer` says, in an answer writer, which never throws).
    public mutating func double(_ d: Double) throws(JSONWriterError) {
        if doubles == .answer {
            if !d.isFinite { return null() }
            if d == d.rounded(), abs(d) < 1e15, !(d == 0 && d.sign == .minus) { return int(Int(d)) }
        }
        guard d.isFinite else { throw JSONWriterError(number: d) }
        separate()
        bytes.append(contentsOf: d.description.utf8)
        needsComma = true
    }

    /// Writes a value that another writer wrote (`bytes` of one complete value), as it is.
    public mutating func encoded(_ value: [UInt8]) {
        kStrings = nil
        separate()
        bytes.append(contentsOf: value)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Appends `i` as `String(i)` spells it (`-` and digits), without making that String.
    private mutating func appendDecimal(_ i: Int) {
        if i >= 0, i < 10 { bytes.append(UInt8(truncatingIfNeeded: i) &+ 0x30); return }
        DecimalText.with(i) { bytes.append(contentsOf: $0) }
    }

    // MARK: Refs

    /// Writes a kref's text as a string (`"ko21"`), as `string(k.description)` does, without
    /// making that String: a ref's text is ASCII that JSON never escapes.
    public mutating func ref(_ k: KRef) {
        let letter: UInt8
        switch k.kind {
        case .object: letter = UInt8(ascii: "o")
        case .promise: letter = UInt8(ascii: "p")
        case .device: letter = UInt8(ascii: "d")
        }
        quotedRef(UInt8(ascii: "k"), letter, number: k.number)
    }

    /// Writes a vat ID's text as a string (`"v1"`), as `string(v.description)` does.
    public mutating func ref(_ v: VatID) {
        quotedRef(UInt8(ascii: "v"), nil, number: v.number)
    }

    /// A ref whose text is one or two letters and a number (`"ko21"`, `"v1"`), as a string.
    private mutating func quotedRef(_ first: UInt8, _ second: UInt8?, number: Int) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(first)
        if let second { bytes.append(second) }
        appendDecimal(number)
        bytes.append(UInt8(ascii: "\""))
        noteKString(from: start)
        needsComma = true
    }

    /// Writes a vref's text as a string (`"o+d5/3:1"`), as `string(v.description)` does.
    public mutating func ref(_ v: VRef) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        switch v.kind {
        case .object: bytes.append(UInt8(ascii: "o"))
        case .promise: bytes.append(UInt8(ascii: "p"))
        case .device: bytes.append(UInt8(ascii: "d"))
        }
        bytes.append(v.allocatedByVat ? UInt8(ascii: "+") : UInt8(ascii: "-"))
        switch v.durability {
        case .ephemeral: break
        case .virtual: bytes.append(UInt8(ascii: "v"))
        case .durable: bytes.append(UInt8(ascii: "d"))
        }
        appendDecimal(v.id)
        if v.instance >= 0 {
            bytes.append(UInt8(ascii: "/"))
            appendDecimal(v.instance)
            if v.facet >= 0 {
                bytes.append(UInt8(ascii: ":"))
                appendDecimal(v.facet)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes `r.description` as a string: a `KRef`, `VRef` or `VatID` through `ref(_:)`
    /// (the casts vanish where the type is known), anything else through its String.
    @inlinable
    public mutating func refString<T: CustomStringConvertible>(_ r: T) {
        if let k = r as? KRef { ref(k) } else if let v = r as? VRef { ref(v) } else if let v = r as? VatID { ref(v) } else { string(r.description) }
    }

    // MARK: Strings

    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        if s.utf8.withContiguousStorageIfAvailable({ appendEscaped($0) }) == nil {
            Array(s.utf8).withUnsafeBufferPointer { appendEscaped($0) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `utf8`, escaping what JSON requires escaped; the runs between escapes are
    /// copied in one step.
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var run = 0
        for i in utf8.indices {
            let c = utf8[i]
            // Most bytes need no escape: one range test and two compares for them.
            if c >= 0x20, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\"), c != 0x7F { continue }
            let escape: UInt8
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): escape = c
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            case 0x09: escape = UInt8(ascii: "t")
            case 0..<0x20, 0x7F: escape = UInt8(ascii: "u")
            default: continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<i]))
            run = i + 1
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(escape)
            if escape == UInt8(ascii: "u") {
                bytes.append(contentsOf: "00".utf8)
                bytes.append(Self.hex[Int(c >> 4)])
                bytes.append(Self.hex[Int(c & 0xF)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
    }
}

// MARK: - JSONValue

extension JSONWriter {
    /// Writes a kernel value, object keys in the order of their UTF-8 bytes, so the same value
    /// always gives the same bytes. A NaN or an infinity anywhere inside is an error.
    public mutating func value(_ v: JSONValue) throws(JSONWriterError) {
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
            for (k, e) in o.sorted(by: { $0.key < $1.key }) {
                key(k.string)
                try value(e)
            }
            endObject()
        }
    }

    /// The canonical JSON text of one value: compact, keys sorted.
    public static func text(_ v: JSONValue) throws(JSONWriterError) -> String {
        var w = JSONWriter()
        try w.value(v)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The bytes `body` writes into a fresh writer that writes doubles as `doubles` says.
    public static func bytes(doubles: Doubles = .exact, _ body: (inout JSONWriter) throws -> Void) rethrows -> [UInt8] {
        var w = JSONWriter(doubles: doubles)
        try body(&w)
        return w.bytes
    }
}
