import Testing
@testable import HTTPServer

@Suite("HTTPResponse encoding")
struct HTTPResponseTests {
    private func wire(
        _ response: HTTPResponse, head: Bool = false, connection: HTTPResponse.ConnectionDirective = .none
    ) -> String {
        var bytes: [UInt8] = []
        response.encode(into: &bytes, headRequest: head, connection: connection)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("json() sets the content type; the server adds Content-Length")
    func json() {
        #expect(wire(.json(201, Array(#"{"a":1}"#.utf8)))
            == "HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
    }

    @Test("the server's framing headers replace the handler's, and its Connection directive is written")
    func framingHeaders() {
        let response = HTTPResponse(
            status: 200,
            headers: [("content-length", "99"), ("Transfer-Encoding", "chunked"), ("Connection", "keep-alive"), ("X-A", "b")],
            body: Array("hi".utf8))
        #expect(wire(response, connection: .close) == "HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        #expect(wire(response, connection: .keepAlive) == "HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi")
    }

    @Test("headers that could split the response are dropped")
    func injection() {
        let response = HTTPResponse(
            status: 200,
            headers: [("X-Evil", "a\r\nSet-Cookie: x=1"), ("Bad Name", "v"), ("", "v"), ("X-Nul", "a\u{0}"), ("X-Ok", "fine\tvalue")])
        #expect(wire(response) == "HTTP/1.1 200 OK\r\nX-Ok: fine\tvalue\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("204 and 304 carry neither body nor Content-Length")
    func noContent() {
        #expect(wire(HTTPResponse(status: 204, body: Array("x".utf8))) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(wire(HTTPResponse(status: 304)) == "HTTP/1.1 304 Not Modified\r\n\r\n")
    }

    @Test("HEAD: the body's length without the body, or the handler's announced length when it sent none")
    func headResponses() {
        #expect(wire(HTTPResponse(status: 200, body: Array("hello".utf8)), head: true) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        #expect(wire(HTTPResponse(status: 200, headers: [("Content-Length", "1234")]), head: true)
            == "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        #expect(wire(HTTPResponse(status: 200, headers: [("Content-Length", "12x")]), head: true)
            == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("a status without a registered reason phrase gets an empty one")
    func unknownStatus() {
        #expect(wire(HTTPResponse(status: 299)) == "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n")
        #expect(wire(HTTPResponse(status: 429)) == "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("asksToClose reads the handler's Connection header")
    func asksToClose() {
        #expect(HTTPResponse(status: 200, headers: [("connection", " Close ")]).asksToClose)
        #expect(HTTPResponse(status: 200, headers: [("Connection", "upgrade, close")]).asksToClose)
        #expect(!HTTPResponse(status: 200, headers: [("Connection", "keep-alive")]).asksToClose)
        #expect(!HTTPResponse(status: 200).asksToClose)
    }
}
