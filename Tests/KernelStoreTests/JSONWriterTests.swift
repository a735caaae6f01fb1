import Foundation
import Testing
import VatKernel
@testable import KernelStore

/// The JSON columns give back exactly what was written: ints stay ints, doubles stay doubles.
@Suite struct JSONWriterTests {
    static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .int(0), .int(-1), .int(Int.max), .int(Int.min),
        .double(1.0), .double(-0.0), .double(0.1), .double(2.5), .double(1e300), .double(.leastNonzeroMagnitude),
        .double(1.2345678901234568e17), .double(-1e-7),
        .string(""), .string("plain"), .string("quote \" backslash \\ slash /"),
        .string("controls \u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F} end"),
        .string("ünïcödé 🐢 \u{2028} e\u{301}"),
        .array([]), .object([:]),
        .array([.int(1), .double(1), .string("1"), .null, .array([.object(["a": .int(1)])])]),
        .object(["b": .int(2), "a": .double(2), "é": .bool(true), "": .null, "$slot": .int(0)]),
    ]

    @Test(arguments: values)
    func aValueReadsBackExactly(_ value: JSONValue) throws {
        let text = try JSONWriter.text(value)
        #expect(try JSONValue.parse(text) == value, "\(text)")
    }

    @Test func doublesAreWrittenSoTheyReadBackAsDoubles() throws {
        #expect(try JSONWriter.text(.array([.double(1.0), .double(-0.0), .int(1), .double(1e20)])) == "[1.0,-0.0,1,1e+20]")
    }

    @Test func keysAreSortedAndTheOutputIsCompact() throws {
        let text = try JSONWriter.text(.object(["b": .int(1), "a": .object(["z": .null, "y": .array([])])]))
        #expect(text == #"{"a":{"y":[],"z":null},"b":1}"#)
    }

    @Test func foundationReadsWhatWeWrite() throws {
        let text = try JSONWriter.text(Self.values.last!)
        let any = try JSONSerialization.jsonObject(with: Data(text.utf8))
        #expect((any as? [String: Any])?.count == 5)
    }

    @Test func nonFiniteNumbersAreRefused() {
        #expect(throws: JSONWriterError.self) { try JSONWriter.text(.double(.nan)) }
        #expect(throws: JSONWriterError.self) { try JSONWriter.text(.array([.double(.infinity)])) }
    }
}
