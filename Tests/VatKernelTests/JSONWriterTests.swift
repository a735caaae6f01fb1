import Foundation
import Testing
import VatKernel

/// The one JSON writer: compact, exact numbers, sorted keys for kernel values, and text that
/// `JSONValue.parse` gives back exactly (ints stay ints, doubles stay doubles).
@Suite struct JSONWriterTests {
    static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .int(0), .int(-1), .int(Int.max), .int(Int.min),
        .double(1.0), .double(-0.0), .double(0.1), .double(2.5), .double(1e300), .double(.leastNonzeroMagnitude),
        .double(.greatestFiniteMagnitude), .double(1.2345678901234568e17), .double(-1e-7), .double(9223372036854775808),
        .string(""), .string("plain"), .string("quote \" backslash \\ slash /"),
        .string("controls \u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F} end"),
        .string("ünïcödé 🐢 \u{2028} e\u{301} \u{10FFFF}"),
        .array([]), .object([:]),
        .array([.int(1), .double(1), .string("1"), .null, .array([.object(["a": .int(1)])])]),
        .object(["b": .int(2), "a": .double(2), "é": .bool(true), "": .null, "$slot": .int(0), "k\"\n": .string("v")]),
    ]

    // MARK: Round trip

    @Test(arguments: values)
    func aValueReadsBackExactly(_ value: JSONValue) throws {
        let text = try JSONWriter.text(value)
        #expect(try JSONValue.parse(text) == value, "\(text)")
        // And the same text again: the writer is canonical.
        #expect(try JSONWriter.text(JSONValue.parse(text)) == text)
    }

    /// A writer made `notingKStrings` notes where each string value beginning with `k` is
    /// (strings and krefs, not keys, not vrefs or vat IDs), in order; `removeAll` forgets them,
    /// `encoded` gives up noting, and a writer not made so notes nothing.
    @Test func aNotingWriterNotesTheStringValuesThatBeginWithK() throws {
        var w = JSONWriter(notingKStrings: true)
        w.beginObject()
        w.key("kref"); w.ref(try #require(KRef("ko21")))
        w.key("k"); w.string("kp7")
        w.key("v"); w.ref(VatID(1))
        w.key("o"); w.ref(try #require(VRef("o+1")))
        w.key("x"); w.string("x\"kq")
        w.key("l"); try w.value(.array([.string("k"), .string(""), .string("k\"1"), .object(["ko1": .string("kd2")])]))
        w.endObject()
        let text = w.bytes
        #expect(try #require(w.kStrings).map { String(decoding: text[$0], as: UTF8.self) } == ["ko21", "kp7", "k", "k\\\"1", "kd2"])
        w.removeAll()
        #expect(w.kStrings == [])
        w.encoded(Array(#""ko3""#.utf8))
        #expect(w.kStrings == nil)
        w.removeAll()
        w.string("ko4")
        #expect(w.kStrings == [1..<4])
        var plain = JSONWriter()
        plain.string("ko5")
        #expect(plain.kStrings == nil)
    }

    @Test func negativeZeroStaysNegative() throws {
        guard case .double(let d) = try JSONValue.parse(JSONWriter.text(.double(-0.0))) else { Issue.record("not a double"); return }
        #expect(d.sign == .minus)
    }

    @Test func foundationReadsWhatWeWrite() throws {
        let text = try JSONWriter.text(Self.values.last!)
        let any = try JSONSerialization.jsonObject(with: Data(text.utf8))
        #expect((any as? [String: Any])?.count == 6)
    }

    // MARK: Exact output

    @Test func numbersAreWrittenExactly() throws {
        #expect(try JSONWriter.text(.array([.double(1.0), .double(-0.0), .int(1), .double(1e20)])) == "[1.0,-0.0,1,1e+20]")
        #expect(try JSONWriter.text(.array([.int(Int.max), .int(Int.min)])) == "[9223372036854775807,-9223372036854775808]")
        #expect(try JSONWriter.text(.array([.double(1e300), .double(.leastNonzeroMagnitude), .double(0.1), .double(-2.5e-7)]))
                == "[1e+300,5e-324,0.1,-2.5e-07]")
        #expect(try JSONWriter.text(.double(9223372036854775808)) == "9.223372036854776e+18")
    }

    @Test func stringsEscapeOnlyWhatJSONRequires() throws {
        #expect(try JSONWriter.text(.string("a\"b\\c/d\n\r\t\u{0}\u{8}\u{C}\u{1F}\u{7F}e"))
                == #""a\"b\\c/d\n\r\t\u0000\u0008\u000c\u001f\u007fe""#)
        // Non-ASCII is raw UTF-8: a scalar beyond the BMP is its four bytes, not a surrogate pair.
        #expect(try JSONWriter.text(.string("é🐢\u{2028}")) == "\"é🐢\u{2028}\"")
        #expect(JSONWriter.bytes { $0.string("🐢") } == [0x22, 0xF0, 0x9F, 0x90, 0xA2, 0x22])
        #expect(JSONWriter.bytes { $0.key("a\"b"); $0.null() } == Array(#""a\"b":null"#.utf8))
    }

    @Test func keysAreSortedAndTheOutputIsCompact() throws {
        let text = try JSONWriter.text(.object(["b": .int(1), "a": .object(["z": .null, "y": .array([])])]))
        #expect(text == #"{"a":{"y":[],"z":null},"b":1}"#)
    }

    @Test func theStreamingCallsPlaceTheCommas() throws {
        let bytes = try JSONWriter.bytes { w in
            w.beginObject()
            w.key("z"); w.beginArray(); w.int(1); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.string("s"); w.endArray()
            w.key("a"); w.bool(false)
            w.key("m"); try w.double(0.5)
            w.key("v"); try w.value(.array([.null, .bool(true)]))
            w.endObject()
        }
        // Keys in the order written: sorting is `value(_:)`'s job, not the stream's.
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"z":[1,{},[],"s"],"a":false,"m":0.5,"v":[null,true]}"#)
    }

    @Test func topLevelValuesFollowOneAnother() {
        // Not a document, but what a caller writing a sequence of values gets.
        #expect(JSONWriter.bytes { $0.int(1); $0.null(); $0.string("") } == Array(#"1,null,"""#.utf8))
    }

    // MARK: Refusals

    @Test func nonFiniteNumbersAreRefused() {
        #expect(throws: JSONWriterError.self) { try JSONWriter.text(.double(.nan)) }
        #expect(throws: JSONWriterError.self) { try JSONWriter.text(.array([.double(.infinity)])) }
        #expect(throws: JSONWriterError.self) { try JSONWriter.text(.object(["a": .double(-.infinity)])) }
        do { _ = try JSONWriter.text(.double(.infinity)) } catch { #expect(error.description == "JSON cannot hold the number inf") }
    }

    /// Integers are spelled as `String(n)` spells them, at the edges of Int too, with or
    /// without a prefix (the store binds vat IDs this way).
    @Test(arguments: [0, 7, 10, -1, -10, 1234567890, Int.max, Int.min])
    func decimalTextIsStringsSpelling(_ n: Int) {
        #expect(DecimalText.with(n) { Array($0) } == Array(String(n).utf8))
        #expect(DecimalText.with(n, prefix: UInt8(ascii: "v")) { Array($0) } == Array("v\(n)".utf8))
        let k = Int(n.magnitude % 1_000_000_007)
        var w = JSONWriter()
        w.beginArray(); w.int(n); w.ref(KRef(.object, k)); w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == "[\(n),\"ko\(k)\"]")
    }
}
