import Testing
import VatKernel
@testable import KernelService

/// The request-body parser: strict RFC 8259, bounded, with errors that say where.
struct JSONParserTests {
    func parse(_ text: String) throws(JSONParser.Failure) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func parsesEveryKindOfValue() throws {
        #expect(try parse(#" {"a": [1, -2.5, "x", true, false, null], "b": {}} "#) == .object([
            "a": .array([.int(1), .double(-2.5), .string("x"), .bool(true), .bool(false), .null]),
            "b": .object([:]),
        ]))
    }

    @Test func numbersThatDoNotFitAnIntBecomeDoubles() throws {
        #expect(try parse("9223372036854775807") == .int(Int.max))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("-0") == .int(0))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""a\"b\\c\/\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/\né😀"))
    }

    @Test(arguments: [
        ("", "unexpected end of JSON"),
        ("{", "expected a string key"),
        (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
        ("[1,]", "unexpected character"),
        ("01", "unexpected text after the JSON value"),
        ("1.", "invalid number"),
        (#""\ud800""#, "lone surrogate in string"),
        ("\"a\u{01}\"", "control character in string"),
        ("tru", "unexpected end of JSON"),
        ("nul!", "invalid literal"),
        ("{} {}", "unexpected text after the JSON value"),
    ])
    func refuses(_ text: String, _ message: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
        do { _ = try parse(text) } catch { #expect(error.message == message) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParser.Failure(message: "invalid UTF-8", offset: 1)) {
            try JSONParser.parse([0x22, 0xC3, 0x28, 0x22])
        }
        // An overlong encoding of "/".
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC0, 0xAF, 0x22]) }
    }

    @Test func boundsTheNesting() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parse(ok)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParser.Failure.self) { try parse(deep) }
        // Far deeper than any stack would survive recursively: refused, not crashed.
        #expect(throws: JSONParser.Failure.self) { try parse(String(repeating: "[", count: 1_000_000)) }
    }
}

/// The response writer: fields in the order given, kernel values with sorted keys, escaping.
struct JSONWriterTests {
    @Test func keepsFieldOrderAndEscapes() {
        let json = JSON.object([("seq", .int(3)), ("type", .string("a\"b\n\u{1}")), ("none", .null), ("x", .double(1.5))])
        #expect(json.description == #"{"seq":3,"type":"a\"b\n\u0001","none":null,"x":1.5}"#)
    }

    @Test func writesKernelValuesWithSortedKeys() {
        let v = JSONValue.object(["name": .string("Error"), "$error": .string("vat terminated")])
        #expect(JSON(v).description == #"{"$error":"vat terminated","name":"Error"}"#)
        #expect(JSON(.double(2)).description == "2")
    }

    @Test func roundTripsThroughTheParser() throws {
        let text = #"{"a":[1,2.25,"é😀",{"b":null}],"c":true}"#
        #expect(JSON(try JSONParser.parse(Array(text.utf8))).description == text)
    }
}
