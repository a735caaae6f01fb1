/// Reading JSON text: one strict RFC 8259 parser for request bodies and stored columns alike.
///
/// Written here rather than borrowed from Foundation so that every text is held to the same
/// rules on every platform, and so the core stays standard-library only:
/// - valid UTF-8 only (no overlongs, no encoded surrogates), no lone `\uD800`…`\uDFFF` escapes;
/// - no duplicate object keys (RFC 8259 leaves their meaning open, so they are refused);
/// - nesting bounded by `maxDepth`, because the parser recurses and a deep text must not
///   exhaust the stack;
/// - numbers are never silently changed (issue 9): digits alone are an `.int` (64 bits); a
///   number with a `.` or an exponent is a `.double`, and Swift's shortest description of a
///   `Double` reads back as that same `Double`. A number the kernel cannot keep is refused
///   rather than rounded to something else: digits beyond the 64-bit range
///   (`9223372036854775808`), a magnitude too large for a `Double` (`1e400`), and a nonzero
///   number too small for one (`1e-400`, which would become `0`). The sign of zero is kept:
///   `-0` and `-0.0` are `.double(-0.0)`;
/// - every error carries the byte offset where the text went wrong, and the path of the
///   value that holds it (`syscalls[0].methargs`), so an answer can name the field.
extension JSONValue {
    /// The default nesting limit. Capdata bodies are small documents: 64 levels is far beyond
    /// what a message needs and far below what the stack allows.
    public static let defaultMaxDepth = 64

    /// Parses one JSON document: a value with optional whitespace around it and nothing else.
    ///
    /// The fast path: no copy of the input, and a string without escapes is made from its
    /// bytes in one step. Arrays and objects nested more than `maxDepth` deep are refused.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        return try parser.document()
    }

    /// Parses one JSON document from any collection of UTF-8 bytes (`[UInt8]`, `ArraySlice`,
    /// a `String.UTF8View`); contiguous storage is read in place, anything else is copied once.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        let inPlace = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try parse(buffer, maxDepth: maxDepth) }
        }
        if let inPlace { return try inPlace.get() }
        return try parse(Array(bytes), maxDepth: maxDepth)
    }

    /// Parses one JSON document from a string's UTF-8.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSONParseError) in try parse(buffer, maxDepth: maxDepth) }
        }.get()
    }
}

/// One pass over the bytes of one document, by recursive descent.
///
/// Reads only at indices it has checked against `bytes.count`: the buffer's own bounds checks
/// are off in release builds, and the store parses millions of rows with this.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var i = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// The whole text as one value.
    mutating func document() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let v = try value()
        skipWhitespace()
        guard i == bytes.count else { throw fail(.trailingText) }
        return v
    }

    private func fail(_ reason: JSONParseError.Reason) -> JSONParseError { JSONParseError(reason, at: i) }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func value() throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[i] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw fail(.unexpectedCharacter)
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let utf8 = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for b in utf8 {
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[i] == b else { throw fail(.invalidLiteral) }
            i += 1
        }
    }

    // MARK: Arrays and objects

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw fail(.tooDeep(limit: maxDepth)) }
    }

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try enter()
        i += 1
        var result: [ByteString: JSONValue] = [:]
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return .object(result)
        }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail(.expectedKey) }
            let keyOffset = i
            let key = try string()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail(.expectedColon) }
            i += 1
            skipWhitespace()
            let v: JSONValue
            do { v = try value() } catch { throw error.inside(.key(key)) }
            guard result.updateValue(v, forKey: ByteString(key)) == nil else {
                throw JSONParseError(.duplicateKey(key), at: keyOffset)
            }
            skipWhitespace()
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; break }
            throw fail(.expectedCommaOrBrace)
        }
        depth -= 1
        return .object(result)
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
        try enter()
        i += 1
        var result: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return .array(result)
        }
        while true {
            skipWhitespace()
            do { result.append(try value()) } catch { throw error.inside(.index(result.count)) }
            skipWhitespace()
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; break }
            throw fail(.expectedCommaOrBracket)
        }
        depth -= 1
        return .array(result)
    }

    // MARK: Numbers

    private static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// True when the mantissa (up to an exponent) has a digit other than 0: the number is not zero.
    private static func hasNonzeroDigit(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        for b in text {
            if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") { return false }
            if b >= UInt8(ascii: "1"), b <= UInt8(ascii: "9") { return true }
        }
        return false
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(JSONParseError) -> JSONValue {
        let start = i
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < bytes.count, Self.isDigit(bytes[i]) else { throw fail(.invalidNumber) }
        let digitsStart = i
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        }
        let digitsEnd = i
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, Self.isDigit(bytes[i]) else { throw fail(.invalidNumber) }
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, Self.isDigit(bytes[i]) else { throw fail(.invalidNumber) }
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        }
        // Up to 18 digits always fit an Int: add them up without making a String.
        if isInteger, digitsEnd - digitsStart <= 18 {
            var n = 0
            for k in digitsStart..<digitsEnd { n = n * 10 + Int(bytes[k] &- UInt8(ascii: "0")) }
            // `-0` keeps its sign, as JavaScript reads it: an Int has no negative zero.
            if negative, n == 0 { return .double(-0.0) }
            return .int(negative ? -n : n)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if isInteger {
            guard let n = Int(text) else { throw JSONParseError(.integerOutOfRange, at: start) }
            return .int(n)
        }
        guard let d = Double(text), d.isFinite else { throw JSONParseError(.numberOutOfRange, at: start) }
        if d == 0, Self.hasNonzeroDigit(bytes[digitsStart..<i]) { throw JSONParseError(.numberUnderflow, at: start) }
        return .double(d)
    }

    // MARK: Strings

    /// A string from its opening quote to past its closing quote.
    private mutating func string() throws(JSONParseError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes, so the checked bytes are the string.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { return try escapedString(from: start) }
            if b < 0x20 { throw fail(.controlCharacter) }
            if b < 0x80 { i += 1 } else { i += try utf8SequenceLength(at: i) }
        }
        throw fail(.unterminatedString)
    }

    /// The rest of a string that has an escape at `i`; `start..<i` is already checked.
    private mutating func escapedString(from start: Int) throws(JSONParseError) -> String {
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                i += 1
                guard i < bytes.count else { throw fail(.unterminatedString) }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): UTF8.encode(try unicodeEscape()) { out.append($0) }
                default: i -= 1; throw fail(.invalidEscape)
                }
            case 0..<0x20:
                throw fail(.controlCharacter)
            case 0..<0x80:
                out.append(b)
                i += 1
            default:
                let n = try utf8SequenceLength(at: i)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<i + n]))
                i += n
            }
        }
        throw fail(.unterminatedString)
    }

    /// The scalar of `\uXXXX` (just past the `u`), or of a `\uD8xx\uDCxx` surrogate pair.
    private mutating func unicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        var code = try hex4()
        if (0xD800...0xDBFF).contains(code) {
            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                throw fail(.loneSurrogate)
            }
            i += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail(.loneSurrogate) }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        // Nil only for a low surrogate on its own: pairs and the rest of the BMP are scalars.
        guard let scalar = Unicode.Scalar(code) else { throw fail(.loneSurrogate) }
        return scalar
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail(.invalidUnicodeEscape) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail(.invalidUnicodeEscape)
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// The length of the well-formed UTF-8 sequence starting at `at` (RFC 3629: no overlongs,
    /// no surrogates, nothing above U+10FFFF).
    private func utf8SequenceLength(at: Int) throws(JSONParseError) -> Int {
        let b0 = bytes[at]
        func cont(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            at + k < bytes.count && range.contains(bytes[at + k])
        }
        switch b0 {
        case 0xC2...0xDF:
            if cont(1) { return 2 }
        case 0xE0:
            if cont(1, 0xA0...0xBF), cont(2) { return 3 }
        case 0xE1...0xEC, 0xEE...0xEF:
            if cont(1), cont(2) { return 3 }
        case 0xED:
            if cont(1, 0x80...0x9F), cont(2) { return 3 }
        case 0xF0:
            if cont(1, 0x90...0xBF), cont(2), cont(3) { return 4 }
        case 0xF1...0xF3:
            if cont(1), cont(2), cont(3) { return 4 }
        case 0xF4:
            if cont(1, 0x80...0x8F), cont(2), cont(3) { return 4 }
        default:
            break
        }
        throw JSONParseError(.invalidUTF8, at: at)
    }
}
