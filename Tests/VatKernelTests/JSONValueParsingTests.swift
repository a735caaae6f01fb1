import Testing
import TestSupport
import VatKernel

/// The one JSON parser, for request bodies and stored columns: strict RFC 8259, bounded,
/// numbers exactly as `JSONWriter` writes them, errors that say what and where.
@Suite struct JSONValueParsingTests {
    func parse(_ text: String, maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try JSONValue.parse(text, maxDepth: maxDepth)
    }

    /// The error `text` is refused with, or nil if it parses.
    func refusal(_ bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) -> JSONParseError? {
        do { _ = try JSONValue.parse(bytes, maxDepth: maxDepth); return nil } catch { return error }
    }

    func refusal(_ text: String) -> JSONParseError? { refusal(Array(text.utf8)) }

    // MARK: Values

    @Test func parsesEveryKindOfValue() throws {
        #expect(try parse(#" {"a": [1, -2.5, "x", true, false, null], "b": {}} "#) == .object([
            "a": .array([.int(1), .double(-2.5), .string("x"), .bool(true), .bool(false), .null]),
            "b": .object([:]),
        ]))
        #expect(try parse("\t\n\r 7 \r\n\t") == .int(7))
        #expect(try parse("[]") == .array([]))
        #expect(try parse(#"[{"a":[{}]}]"#) == .array([.object(["a": .array([.object([:])])])]))
    }

    @Test func everyInputFormGivesTheSameValue() throws {
        let text = #"{"k":["é",1,2.5]}"#
        let expected = try parse(text)
        let bytes = Array(text.utf8)
        #expect(try JSONValue.parse(bytes) == expected)
        #expect(try JSONValue.parse(text.utf8) == expected)
        #expect(try bytes.withUnsafeBufferPointer { try JSONValue.parse($0) } == expected)
        // A slice: offsets count from its own start.
        let framed = Array("xx\(text)yy".utf8)
        #expect(try JSONValue.parse(framed[2..<(framed.count - 2)]) == expected)
        do { _ = try JSONValue.parse(framed[2..<framed.count]) } catch { #expect(error == JSONParseError(.trailingText, at: bytes.count)) }
        // No contiguous storage: copied once, same answer.
        #expect(try JSONValue.parse(bytes.lazy.map { $0 }) == expected)
    }

    // MARK: Numbers

    @Test func digitsAloneAreIntsAndBigOnesAreRefused() throws {
        #expect(try parse("0") == .int(0))
        #expect(try parse("999999999999999999") == .int(999_999_999_999_999_999))
        #expect(try parse("-999999999999999999") == .int(-999_999_999_999_999_999))
        #expect(try parse("9223372036854775807") == .int(Int.max))
        #expect(try parse("-9223372036854775808") == .int(Int.min))
        // Issue 9 changes this: beyond Int the nearest Double would be a different number,
        // so such digits are refused (with the path of the value holding them).
        #expect(refusal("9223372036854775808") == JSONParseError(.integerOutOfRange, at: 0))
        #expect(refusal("-9223372036854775809") == JSONParseError(.integerOutOfRange, at: 0))
        #expect(refusal("123456789012345678901234567890") == JSONParseError(.integerOutOfRange, at: 0))
        let nested = refusal(#"{"syscalls":[{"value":[1,18446744073709551616]}]}"#)
        #expect(nested == JSONParseError(.integerOutOfRange, at: 25))
        #expect(nested?.field == "syscalls[0].value[1]")
        #expect(nested?.description == "invalid JSON at byte 25 (in syscalls[0].value[1]): integer beyond the 64-bit range (it cannot be kept exactly)")
        // As a double (a fraction or an exponent) the same magnitude is an ordinary number.
        #expect(try parse("9223372036854775808.0") == .double(9223372036854775808))
    }

    @Test func negativeZeroKeepsItsSign() throws {
        // Issue 9 changes `-0`: it was `.int(0)`, which lost the sign.
        for text in ["-0", "-0.0", "-0e5", "-0.000"] {
            guard case .double(let z) = try parse(text) else { Issue.record("\(text) is not a double"); continue }
            #expect(z == 0 && z.sign == .minus, "\(text)")
            #expect(try JSONWriter.text(parse(text)) == "-0.0")
        }
        #expect(try parse("0.0") == .double(0))
        #expect(try parse("0e-999") == .double(0))
    }

    @Test func aNonzeroNumberThatWouldBecomeZeroIsRefused() {
        #expect(refusal("1e-400") == JSONParseError(.numberUnderflow, at: 0))
        #expect(refusal("[-0.0000001e-400]") == JSONParseError(.numberUnderflow, at: 1))
        #expect(refusal(#"{"a":{"b":2.5e-999}}"#)?.field == "a.b")
        // The smallest subnormal is still a number, and kept.
        #expect((try? parse("5e-324")) == .double(.leastNonzeroMagnitude))
    }

    @Test func aFractionOrAnExponentMakesADouble() throws {
        #expect(try parse("1.0") == .double(1))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("1E+2") == .double(100))
        #expect(try parse("25e-1") == .double(2.5))
        #expect(try parse("1e300") == .double(1e300))
        guard case .double(let negativeZero) = try parse("-0.0") else { Issue.record("-0.0 is not a double"); return }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test func swiftsShortestDescriptionOfADoubleReadsBackExactly() throws {
        var doubles: [Double] = [
            0.1, 1.0 / 3, 2.5, 1e20, 1e300, -1e-7, 1.2345678901234568e17, 9007199254740991, 9007199254740994,
            .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne,
        ]
        // Plus a deterministic spread over every exponent (a 64-bit LCG over bit patterns).
        var random = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        while doubles.count < 5_000 {
            let d = Double(bitPattern: random.next())
            if d.isFinite { doubles.append(d) }
        }
        for d in doubles {
            let text = d.description
            guard case .double(let back) = try parse(text) else { Issue.record("\(text) is not a double"); continue }
            #expect(back.bitPattern == d.bitPattern, "\(text)")
        }
    }

    @Test func numbersOutsideTheGrammarOrRangeAreRefused() {
        #expect(refusal("1e400") == JSONParseError(.numberOutOfRange, at: 0))
        #expect(refusal("[0,-1e999]") == JSONParseError(.numberOutOfRange, at: 3))
        #expect(refusal("1.") == JSONParseError(.invalidNumber, at: 2))
        #expect(refusal("1e") == JSONParseError(.invalidNumber, at: 2))
        #expect(refusal("1e+") == JSONParseError(.invalidNumber, at: 3))
        #expect(refusal("-") == JSONParseError(.invalidNumber, at: 1))
        #expect(refusal("-a") == JSONParseError(.invalidNumber, at: 1))
        #expect(refusal("01") == JSONParseError(.trailingText, at: 1))
        #expect(refusal("-01") == JSONParseError(.trailingText, at: 2))
        #expect(refusal(".5")?.reason == .unexpectedCharacter)
        #expect(refusal("+1")?.reason == .unexpectedCharacter)
        #expect(refusal("NaN")?.reason == .unexpectedCharacter)
        #expect(refusal("Infinity")?.reason == .unexpectedCharacter)
        #expect(refusal("[01x]")?.reason == .expectedCommaOrBracket)
    }

    // MARK: Strings

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""a\"b\\c\/\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/\né😀"))
        #expect(try parse(#""\b\f\n\r\t\u0000\u001F\u00E9\uFFFF""#) == .string("\u{8}\u{C}\n\r\t\u{0}\u{1F}é\u{FFFF}"))
        #expect(try parse(#""\uD83D\uDC22 \udbff\udfff""#) == .string("🐢 \u{10FFFF}"))
        #expect(try parse(#" { "a" : [ 1 , 2.5e1 , "\u00e9\ud83d\udc22\/" ] } "#)
                == .object(["a": .array([.int(1), .double(25), .string("é🐢/")])]))
    }

    @Test func unescapedUTF8PassesThrough() throws {
        #expect(try parse("\"ünïcödé 🐢 \u{2028} e\u{301} \u{7F}\"") == .string("ünïcödé 🐢 \u{2028} e\u{301} \u{7F}"))
        #expect(try parse("\"before \\n after: 🐢\"") == .string("before \n after: 🐢"))
    }

    @Test func loneSurrogatesAreRefused() {
        #expect(refusal(#""\ud800""#)?.reason == .loneSurrogate)
        #expect(refusal(#""\ud800x""#)?.reason == .loneSurrogate)
        #expect(refusal(#""\ud800\u0041""#)?.reason == .loneSurrogate)
        #expect(refusal(#""\ud800\ud800""#)?.reason == .loneSurrogate)
        #expect(refusal(#""\udc00""#)?.reason == .loneSurrogate)
        #expect(refusal(#""\ude00\ud83d""#)?.reason == .loneSurrogate)
    }

    @Test func badEscapesAndControlCharactersAreRefused() {
        #expect(refusal(#""\x""#) == JSONParseError(.invalidEscape, at: 2))
        #expect(refusal(#""\'""#)?.reason == .invalidEscape)
        #expect(refusal(#""\u12""#)?.reason == .invalidUnicodeEscape)
        #expect(refusal(#""\u12G4""#)?.reason == .invalidUnicodeEscape)
        #expect(refusal("\"a\u{01}\"") == JSONParseError(.controlCharacter, at: 2))
        #expect(refusal("\"a\\n\u{0A}\"") == JSONParseError(.controlCharacter, at: 4))
        #expect(refusal("\"tab\tinside\"")?.reason == .controlCharacter)
        #expect(refusal("\"unterminated") == JSONParseError(.unterminatedString, at: 13))
        #expect(refusal(#""esc\n"#)?.reason == .unterminatedString)
        #expect(refusal(#""\"#)?.reason == .unterminatedString)
    }

    @Test func invalidUTF8IsRefusedWhereItStarts() {
        #expect(refusal([0x22, 0xC3, 0x28, 0x22]) == JSONParseError(.invalidUTF8, at: 1))
        // Overlong "/", an encoded surrogate, above U+10FFFF, truncated, a lone continuation byte.
        #expect(refusal([0x22, 0xC0, 0xAF, 0x22]) == JSONParseError(.invalidUTF8, at: 1))
        #expect(refusal([0x22, 0xED, 0xA0, 0x80, 0x22]) == JSONParseError(.invalidUTF8, at: 1))
        #expect(refusal([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]) == JSONParseError(.invalidUTF8, at: 1))
        #expect(refusal([0x22, 0x61, 0xE2, 0x82]) == JSONParseError(.invalidUTF8, at: 2))
        #expect(refusal([0x22, 0x80, 0x22]) == JSONParseError(.invalidUTF8, at: 1))
        // After an escape (the copying path), and outside any string.
        #expect(refusal([0x22, 0x5C, 0x6E, 0xFF, 0x22]) == JSONParseError(.invalidUTF8, at: 3))
        #expect(refusal([0xFF]) == JSONParseError(.unexpectedCharacter, at: 0))
        #expect(refusal([0xEF, 0xBB, 0xBF, 0x31])?.reason == .unexpectedCharacter)
    }

    // MARK: Objects

    @Test func duplicateKeysAreRefusedAtTheSecondKey() {
        #expect(refusal(#"{"a":1,"a":2}"#) == JSONParseError(.duplicateKey("a"), at: 7))
        #expect(refusal(#"{"x":{"a":1, "b":2, "a":3}}"#) == JSONParseError(.duplicateKey("a"), at: 20))
        // The same key after decoding.
        #expect(refusal(#"{"a":1,"\u0061":2}"#)?.reason == .duplicateKey("a"))
        // Issue 9 changes this: keys are their bytes, so canonically equivalent spellings
        // (é and e + U+0301, K and the Kelvin sign) are two keys, both kept.
        guard case .object(let o) = try? parse("{\"\u{E9}\":1,\"e\u{301}\":2,\"K\":3,\"\u{212A}\":4}") else {
            Issue.record("not an object"); return
        }
        #expect(o.count == 4)
        #expect(o[ByteString("\u{E9}")] == .int(1))
        #expect(o[ByteString("e\u{301}")] == .int(2))
        #expect(o[ByteString("K")] == .int(3))
        #expect(o[ByteString("\u{212A}")] == .int(4))
    }

    @Test func canonicallyEquivalentKeysAreWrittenBackDistinctInByteOrder() throws {
        let text = "{\"K\":3,\"e\u{301}\":2,\"\u{E9}\":1,\"\u{212A}\":4}"
        // Byte order: K (4B) < e (65) < é (C3 A9) < Kelvin (E2 84 AA).
        #expect(try JSONWriter.text(parse(text)) == text)
        #expect(try parse(text) != parse("{\"K\":3,\"\u{E9}\":2,\"e\u{301}\":1,\"\u{212A}\":4}"))
    }

    @Test func stringsCompareByTheirBytes() throws {
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
        #expect(Set([JSONValue.string("\u{E9}"), .string("e\u{301}"), .string("K"), .string("\u{212A}")]).count == 4)
        #expect(JSONValue.double(-0.0) != .double(0))
    }

    @Test func theSameKeyInDifferentObjectsIsFine() throws {
        #expect(try parse(#"[{"a":1},{"a":2}]"#) == .array([.object(["a": .int(1)]), .object(["a": .int(2)])]))
    }

    // MARK: Refusals with their messages

    @Test(arguments: [
        ("", "unexpected end of JSON"),
        ("   ", "unexpected end of JSON"),
        ("[", "unexpected end of JSON"),
        ("[1,2", "unexpected end of JSON"),
        (#"{"a":1"#, "unexpected end of JSON"),
        ("{", "expected a string key"),
        ("{1:2}", "expected a string key"),
        ("{\"a\":1,}", "expected a string key"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
        ("[1 2]", "expected ',' or ']'"),
        (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
        ("[1,]", "unexpected character"),
        ("'a'", "unexpected character"),
        ("\u{0B}1", "unexpected character"),
        ("01", "unexpected text after the JSON value"),
        ("[1] 2", "unexpected text after the JSON value"),
        ("{} {}", "unexpected text after the JSON value"),
        ("1.", "invalid number"),
        ("1e400", "number out of range"),
        (#""\ud800""#, "lone surrogate in string"),
        ("\"a\u{01}\"", "control character in string"),
        (#""\q""#, "invalid escape in string"),
        (#""\u00""#, #"invalid \u escape"#),
        ("\"unterminated", "unterminated string"),
        ("tru", "unexpected end of JSON"),
        ("nul!", "invalid literal"),
        ("True", "unexpected character"),
    ])
    func refuses(_ text: String, _ message: String) {
        #expect(refusal(text)?.reason.description == message)
    }

    @Test func theDescriptionNamesTheOffset() {
        #expect(refusal(#"{"a" 1}"#)?.description == "invalid JSON at byte 5: expected ':'")
    }

    // MARK: Depth

    @Test func boundsTheNesting() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parse(ok)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(refusal(deep) == JSONParseError(.tooDeep(limit: 64), at: 64))
        #expect(refusal(deep)?.reason.description == "JSON nested deeper than 64 levels")
        // Objects count as levels too.
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(refusal(objects)?.reason == .tooDeep(limit: 64))
        // Far deeper than any stack would survive recursively: refused, not crashed.
        #expect(refusal(String(repeating: "[", count: 1_000_000))?.reason == .tooDeep(limit: 64))
    }

    @Test func theDepthLimitIsTheCallers() throws {
        #expect(refusal(Array("[[[1]]]".utf8), maxDepth: 2) == JSONParseError(.tooDeep(limit: 2), at: 2))
        #expect(try parse("[[1]]", maxDepth: 2) == .array([.array([.int(1)])]))
        #expect(try parse("1", maxDepth: 0) == .int(1))
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try parse(deep, maxDepth: 512)
    }
}
