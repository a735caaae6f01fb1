import Testing
import VatKernel
@testable import KernelService

/// The answer document: fields in the order given, kernel values with sorted keys, escaping.
/// (Parsing request bodies is the core's `JSONValue.parse`, tested in VatKernelTests.)
struct JSONTests {
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
        #expect(JSON(try JSONValue.parse(text)).description == text)
    }
}
