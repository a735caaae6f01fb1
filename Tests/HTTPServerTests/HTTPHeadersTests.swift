import Testing
@testable import HTTPServer

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test("lookup ignores case; the first value wins; values(for:) returns all in order")
    func lookup() {
        var headers: HTTPHeaders = ["Content-Type": "application/json", "X-Tag": "a"]
        headers.add(name: "x-tag", value: "b")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["CONTENT-TYPE"] == "application/json")
        #expect(headers["x-TAG"] == "a")
        #expect(headers.values(for: "X-Tag") == ["a", "b"])
        #expect(headers["missing"] == nil)
        #expect(headers.values(for: "missing") == [])
        #expect(headers.contains("x-tag"))
        #expect(headers.count == 3)
        #expect(headers.map(\.name) == ["Content-Type", "X-Tag", "x-tag"])
    }

    @Test("equality compares names without case and values exactly, in order")
    func equality() {
        #expect(HTTPHeaders([("A", "1"), ("B", "2")]) == ["a": "1", "b": "2"])
        #expect(HTTPHeaders([("A", "1")]) != ["A": "2"])
        #expect(HTTPHeaders([("A", "1"), ("B", "2")]) != ["B": "2", "A": "1"])
        #expect(!HTTPHeaders.namesEqual("content-length", "content-lengtH2"))
    }
}
