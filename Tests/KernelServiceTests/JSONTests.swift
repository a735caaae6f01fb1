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

    @Test func integralDoublesAreDigitsAndNonFiniteOnesNull() {
        let json = JSON.array([.double(2), .double(-0.0), .double(-7), .double(1e15), .double(0.5), .double(.nan), .double(-.infinity)])
        // Issue 9 changes -0.0: it was written `0`, a different number.
        #expect(json.description == "[2,-0.0,-7,1000000000000000.0,0.5,null,null]")
    }

    @Test func roundTripsThroughTheParser() throws {
        let text = #"{"a":[1,2.25,"é😀",{"b":null}],"c":true}"#
        #expect(JSON(try JSONValue.parse(text)).description == text)
    }

    @Test func aNumberTheKernelWouldChangeIsA400NamingTheField() {
        #expect(throws: ServiceError(status: 400, code: "malformed-json",
                                     message: "request body is not valid JSON: syscalls[0].value: integer beyond the 64-bit range (it cannot be kept exactly)",
                                     details: [("offset", .int(22)), ("field", .string("syscalls[0].value"))])) {
            try Operation.json(Array(#"{"syscalls":[{"value":99999999999999999999}]}"#.utf8))
        }
        #expect(throws: ServiceError(status: 400, code: "malformed-json",
                                     message: "request body is not valid JSON: x[1]: nonzero number too small for a double (it would become 0)",
                                     details: [("offset", .int(9)), ("field", .string("x[1]"))])) {
            try Operation.json(Array(#"{"x":[0, 1e-400]}"#.utf8))
        }
    }

    @Test func keysAndStringsAreKeptByteForByte() throws {
        let text = "{\"K\":\"\u{212A}\",\"e\u{301}\":\"\u{E9}\",\"\u{E9}\":\"e\u{301}\",\"\u{212A}\":\"K\"}"
        #expect(JSON(try JSONValue.parse(text)).bytes == Array(text.utf8))
    }

    @Test func aBodyThatIsNotJSONIsA400NamingTheProblemAndTheByte() {
        #expect(throws: ServiceError(status: 400, code: "malformed-json",
                                     message: #"request body is not valid JSON: duplicate key "a""#, details: [("offset", .int(7))])) {
            try Operation.json(Array(#"{"a":1,"a":2}"#.utf8))
        }
        #expect(throws: ServiceError(status: 400, code: "malformed-json",
                                     message: "request body is not valid JSON: invalid UTF-8", details: [("offset", .int(1))])) {
            try Operation.json([0x22, 0xC3, 0x28, 0x22])
        }
    }
}
