import Testing
@testable import HTTPServer
import TestSupport

/// What a parser reported, in a form tests can compare exactly.
enum Outcome: Equatable {
    case expectContinue
    case request(HTTPRequest, keepAlive: Bool)
    case failure(HTTPProtocolError)

    init(_ event: HTTPRequestParser.Event) {
        switch event {
        case .expectContinue: self = .expectContinue
        case .request(let request, let keepAlive): self = .request(request, keepAlive: keepAlive)
        case .failure(let error): self = .failure(error)
        }
    }
}

/// Feeds `text` to a fresh parser in pieces of `chunk` bytes, as a socket might deliver it, and
/// returns every event until the input ends or the parser fails.
func parse(
    _ text: String, chunk: Int = .max, maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20
) -> [Outcome] {
    var parser = HTTPRequestParser(limits: .init(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes))
    let bytes = Array(text.utf8)
    var outcomes: [Outcome] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        var offset = start
        let failed = bytes[start..<end].withUnsafeBytes { piece -> Bool in
            var input = piece
            while !input.isEmpty {
                let (consumed, event) = parser.parse(input)
                input = UnsafeRawBufferPointer(rebasing: input[consumed...])
                offset += consumed
                guard let event else { break }
                outcomes.append(Outcome(event))
                if case .failure = event { return true }
            }
            return false
        }
        if failed { break }
        start = end
    }
    return outcomes
}

/// The request a well-formed GET of `target` parses into.
func request(
    _ target: String, method: String = "GET", path: String? = nil, query: [String: String] = [:],
    version: HTTPVersion = .http1_1, headers: HTTPHeaders = ["Host": "example.com"], body: String = ""
) -> HTTPRequest {
    HTTPRequest(
        method: method, target: target, path: path ?? target, query: query, version: version,
        headers: headers, body: Array(body.utf8))
}

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    @Test("a simple GET parses into method, target, path, version and headers")
    func simpleGet() {
        let outcomes = parse("GET /vats/v1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        #expect(outcomes == [
            .request(request("/vats/v1", headers: ["Host": "example.com", "Accept": "*/*"]), keepAlive: true)
        ])
    }

    @Test("the same bytes delivered one at a time parse the same, pipelined requests one after another")
    func byteByByteAndPipelined() {
        let text = "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /c HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
        let expected: [Outcome] = [
            .request(request("/a"), keepAlive: true),
            .request(request("/b", method: "POST", headers: ["Host": "example.com", "Content-Length": "5"], body: "hello"), keepAlive: true),
            .request(request("/c", headers: ["Host": "example.com", "Connection": "close"]), keepAlive: false),
        ]
        #expect(parse(text) == expected)
        #expect(parse(text, chunk: 1) == expected)
        #expect(parse(text, chunk: 7) == expected)
    }

    @Test("path is percent-decoded; query pairs decode + and %XX, last one wins")
    func pathAndQueryDecoding() {
        let outcomes = parse("GET /vats/a%20b/%C3%A9?after=3&limit=10&name=a+b%2Bc&flag&after=4 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(outcomes == [
            .request(
                request(
                    "/vats/a%20b/%C3%A9?after=3&limit=10&name=a+b%2Bc&flag&after=4", path: "/vats/a b/é",
                    query: ["after": "4", "limit": "10", "name": "a b+c", "flag": ""], headers: ["Host": "x"]),
                keepAlive: true)
        ])
    }

    @Test("absolute-form targets give their path; asterisk-form is for OPTIONS only")
    func targetForms() {
        #expect(parse("GET http://example.com:8080/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n") == [
            .request(request("http://example.com:8080/a?b=c", path: "/a", query: ["b": "c"]), keepAlive: true)
        ])
        #expect(parse("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n") == [
            .request(request("http://example.com", path: "/"), keepAlive: true)
        ])
        #expect(parse("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n") == [
            .request(request("*", method: "OPTIONS"), keepAlive: true)
        ])
        #expect(parse("GET * HTTP/1.1\r\nHost: example.com\r\n\r\n") == [
            .failure(.badRequest("asterisk-form request target is only allowed with OPTIONS"))
        ])
    }

    @Test(
        "malformed request lines are 400",
        arguments: [
            ("GET  / HTTP/1.1", "malformed request line"),
            ("GET / HTTP/1.1 ", "invalid HTTP version"),
            ("GET /", "malformed request line"),
            (" GET / HTTP/1.1", "invalid method in request line"),
            ("G@T / HTTP/1.1", "invalid method in request line"),
            ("GET / http/1.1", "invalid HTTP version"),
            ("GET / HTTP/1.10", "invalid HTTP version"),
            ("GET / HTTP/1", "invalid HTTP version"),
            ("GET /a b HTTP/1.1", "invalid HTTP version"),
            ("GET /<script> HTTP/1.1", "invalid character in request target"),
            ("GET /a#frag HTTP/1.1", "invalid character in request target"),
            ("GET /caf\u{e9} HTTP/1.1", "invalid character in request target"),
            ("GET /%zz HTTP/1.1", "invalid percent-encoding in request path"),
            ("GET /%C3 HTTP/1.1", "invalid percent-encoding in request path"),
            ("GET /?a=%4 HTTP/1.1", "invalid percent-encoding in query string"),
            ("GET relative/path HTTP/1.1", "request target must be origin-form or absolute-form"),
            ("GET ftp://example.com/ HTTP/1.1", "request target must be origin-form or absolute-form"),
            ("GET http://user@example.com/ HTTP/1.1", "request target must be origin-form or absolute-form"),
        ])
    func malformedRequestLine(line: String, message: String) {
        #expect(parse(line + "\r\nHost: x\r\n\r\n") == [.failure(.badRequest(message))])
    }

    @Test("versions other than 1.x are 505; a later 1.x minor is served as 1.1")
    func versions() {
        #expect(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == [.failure(.versionNotSupported("HTTP/2.0"))])
        #expect(parse("GET / HTTP/0.9\r\nHost: x\r\n\r\n") == [.failure(.versionNotSupported("HTTP/0.9"))])
        #expect(parse("GET / HTTP/1.2\r\nHost: x\r\n\r\n") == [.request(request("/", headers: ["Host": "x"]), keepAlive: true)])
    }

    @Test(
        "bad header syntax is 400",
        arguments: [
            ("Host : x\r\n", "invalid header field name"),
            ("Host: x\r\nX-Folded: a\r\n  continued\r\n", "obsolete line folding or whitespace before a header field"),
            (" Host: x\r\n", "obsolete line folding or whitespace before a header field"),
            ("Host: x\r\nBad Name: y\r\n", "invalid header field name"),
            ("Host: x\r\n: no-name\r\n", "invalid header field name"),
            ("Host: x\r\nNoColon\r\n", "invalid header field name"),
            ("Host: x\r\nX-Ctl: a\u{01}b\r\n", "invalid character in header field value"),
            ("Host: x\r\nX-Del: a\u{7f}b\r\n", "invalid character in header field value"),
            ("Host: x\r\nX-CR: a\rb\r\n", "bare CR in header field"),
            ("Host: x\r\nX-Nul: a\u{0}b\r\n", "invalid character in header field value"),
            ("Host: bad/host\r\n", "invalid Host header"),
        ])
    func badHeaderSyntax(headers: String, message: String) {
        #expect(parse("GET / HTTP/1.1\r\n" + headers + "\r\n") == [.failure(.badRequest(message))])
    }

    @Test("a line ending in LF without CR is 400, in the head and in a chunked body")
    func bareLineFeed() {
        #expect(parse("GET / HTTP/1.1\nHost: x\n\n") == [.failure(.badRequest("line not terminated by CRLF"))])
        #expect(parse("GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n", chunk: 3) == [.failure(.badRequest("line not terminated by CRLF"))])
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n") == [
            .failure(.badRequest("line not terminated by CRLF"))
        ])
    }

    @Test("HTTP/1.1 needs exactly one Host; HTTP/1.0 may omit it")
    func host() {
        #expect(parse("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n") == [.failure(.badRequest("missing Host header"))])
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == [.failure(.badRequest("more than one Host header"))])
        #expect(parse("GET / HTTP/1.0\r\n\r\n") == [.request(request("/", version: .http1_0, headers: [:]), keepAlive: false)])
        #expect(parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") == [
            .request(request("/", headers: ["Host": "[::1]:8080"]), keepAlive: true)
        ])
    }

    @Test("keep-alive: HTTP/1.1 persists unless close; HTTP/1.0 closes unless keep-alive")
    func keepAlive() {
        #expect(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n") == [
            .request(request("/", headers: ["Host": "x", "Connection": "Keep-Alive, CLOSE"]), keepAlive: false)
        ])
        #expect(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == [
            .request(request("/", version: .http1_0, headers: ["Connection": "keep-alive"]), keepAlive: true)
        ])
    }

    @Test("empty lines before a request line are skipped")
    func leadingEmptyLines() {
        #expect(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", chunk: 1) == [
            .request(request("/", headers: ["Host": "x"]), keepAlive: true)
        ])
    }

    @Test("CONNECT is not implemented")
    func connect() {
        #expect(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") == [
            .failure(.notImplemented("CONNECT is not supported"))
        ])
    }

    @Test("a Content-Length body arrives whole however it is split")
    func contentLengthBody() {
        let text = "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
        let expected: [Outcome] = [
            .request(request("/x", method: "PUT", headers: ["Host": "x", "Content-Length": "11"], body: "hello world"), keepAlive: true)
        ]
        #expect(parse(text) == expected)
        #expect(parse(text, chunk: 1) == expected)
    }

    @Test(
        "invalid or conflicting Content-Length is 400",
        arguments: [
            "Content-Length: abc\r\n", "Content-Length: -1\r\n", "Content-Length: +5\r\n", "Content-Length: 1 2\r\n",
            "Content-Length:\r\n", "Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 6\r\n",
            "Content-Length: 5,,5\r\n",
        ])
    func invalidContentLength(header: String) {
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\n" + header + "\r\n") == [.failure(.badRequest("invalid Content-Length"))])
    }

    @Test("repeated identical Content-Length values are accepted as one")
    func repeatedContentLength() {
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\nContent-Length: 02\r\n\r\nok") == [
            .request(
                request("/", method: "POST", headers: ["Host": "x", "Content-Length": "2, 2", "Content-Length": "02"], body: "ok"),
                keepAlive: true)
        ])
    }

    @Test("Transfer-Encoding framing rules")
    func transferEncodingRules() {
        let head = "POST / HTTP/1.1\r\nHost: x\r\n"
        #expect(parse(head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") == [
            .failure(.badRequest("both Transfer-Encoding and Content-Length"))
        ])
        #expect(parse(head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == [
            .failure(.badRequest("both Transfer-Encoding and Content-Length"))
        ])
        #expect(parse(head + "Transfer-Encoding: gzip\r\n\r\n") == [
            .failure(.badRequest("chunked must be the final transfer coding"))
        ])
        #expect(parse(head + "Transfer-Encoding: chunked, gzip\r\n\r\n") == [
            .failure(.badRequest("chunked must be the final transfer coding"))
        ])
        #expect(parse(head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == [
            .failure(.badRequest("chunked applied more than once"))
        ])
        #expect(parse(head + "Transfer-Encoding: gzip, chunked\r\n\r\n") == [
            .failure(.notImplemented("transfer coding \"gzip\" is not supported"))
        ])
        #expect(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == [
            .failure(.badRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request"))
        ])
    }

    @Test("a chunked body is decoded, extensions and trailers dropped, however it is split")
    func chunkedBody() {
        let text = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "5;name=value;flag\r\nhello\r\n" + "6 ; q=\"quoted; text\"\r\n world\r\n" + "000\r\n"
            + "X-Checksum: abc\r\nX-Other: d\r\n\r\n" + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        let expected: [Outcome] = [
            .request(request("/c", method: "POST", headers: ["Host": "x", "Transfer-Encoding": "Chunked"], body: "hello world"), keepAlive: true),
            .request(request("/next", headers: ["Host": "x"]), keepAlive: true),
        ]
        #expect(parse(text) == expected)
        #expect(parse(text, chunk: 1) == expected)
        #expect(parse(text, chunk: 5) == expected)
    }

    @Test("chunked framing errors are 400")
    func chunkedErrors() {
        let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(head + "zz\r\n") == [.failure(.badRequest("invalid chunk size"))])
        #expect(parse(head + "5x\r\nhello\r\n") == [.failure(.badRequest("invalid chunk extension"))])
        #expect(parse(head + "5\r\nhelloXY") == [.failure(.badRequest("chunk data not followed by CRLF"))])
        #expect(parse(head + "0\r\nbad trailer\r\n\r\n") == [.failure(.badRequest("invalid trailer field"))])
    }

    @Test("request line and headers beyond maxHeaderBytes are 431, in one piece or many")
    func headerLimit() {
        let text = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 200) + "\r\n\r\n"
        let expected: [Outcome] = [.failure(.headerFieldsTooLarge("request line and header fields exceed 128 bytes"))]
        #expect(parse(text, maxHeaderBytes: 128) == expected)
        #expect(parse(text, chunk: 10, maxHeaderBytes: 128) == expected)
        // Exactly at the limit is fine.
        let exact = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(parse(exact, maxHeaderBytes: exact.utf8.count) == [.request(request("/", headers: ["Host": "x"]), keepAlive: true)])
        #expect(parse(exact, chunk: 2, maxHeaderBytes: exact.utf8.count - 1) == [
            .failure(.headerFieldsTooLarge("request line and header fields exceed \(exact.utf8.count - 1) bytes"))
        ])
    }

    @Test("bodies beyond maxBodyBytes are 413: announced, chunked, or a chunk size that overflows")
    func bodyLimit() {
        let tooLarge: [Outcome] = [.failure(.payloadTooLarge(limit: 10))]
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", maxBodyBytes: 10) == tooLarge)
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", maxBodyBytes: 10) == tooLarge)
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(chunked + "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", maxBodyBytes: 10) == tooLarge)
        #expect(parse(chunked + "ffffffffffffffffffff\r\n", maxBodyBytes: 10) == tooLarge)
        #expect(parse(chunked + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", maxBodyBytes: 10) == [
            .request(request("/", method: "POST", headers: ["Host": "x", "Transfer-Encoding": "chunked"], body: "helloworld"), keepAlive: true)
        ])
    }

    @Test("chunk extensions and trailers share the header budget: 431 beyond it")
    func trailerLimit() {
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        let bigTrailer = "X-T: " + String(repeating: "t", count: 300) + "\r\n"
        #expect(parse(chunked + "0\r\n" + bigTrailer + "\r\n", maxHeaderBytes: 256) == [
            .failure(.headerFieldsTooLarge("chunk extensions and trailer fields exceed 256 bytes"))
        ])
    }

    @Test("Expect: 100-continue is reported before the body; other expectations are 417")
    func expectations() {
        let text = "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok"
        #expect(parse(text) == [
            .expectContinue,
            .request(request("/", method: "POST", headers: ["Host": "x", "Expect": "100-Continue", "Content-Length": "2"], body: "ok"), keepAlive: true),
        ])
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n", maxBodyBytes: 1000) == [
            .failure(.payloadTooLarge(limit: 1000))
        ])
        #expect(parse("GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n") == [.failure(.expectationFailed("teapot"))])
        // No body, nothing to wait for: no interim response.
        #expect(parse("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n") == [
            .request(request("/", headers: ["Host": "x", "Expect": "100-continue"]), keepAlive: true)
        ])
        // HTTP/1.0 clients cannot expect 100-continue: ignored (RFC 9110 §10.1.1).
        #expect(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok") == [
            .request(request("/", method: "POST", version: .http1_0, headers: ["Expect": "100-continue", "Content-Length": "2"], body: "ok"), keepAlive: false)
        ])
    }

    @Test("header values are trimmed of surrounding whitespace and may hold obs-text")
    func headerValues() {
        #expect(parse("GET / HTTP/1.1\r\nHost:x\r\nX-A: \t a b \t\r\nX-Empty:\r\nX-Latin: caf\u{e9}\r\n\r\n") == [
            .request(request("/", headers: ["Host": "x", "X-A": "a b", "X-Empty": "", "X-Latin": "café"]), keepAlive: true)
        ])
    }

    @Test("isMidRequest tracks whether part of a request has arrived")
    func midRequest() {
        var parser = HTTPRequestParser(limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 1024))
        #expect(!parser.isMidRequest)
        let head = Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nab".utf8)
        _ = head.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<5])) }
        #expect(parser.isMidRequest)
        _ = head.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[5...])) }
        #expect(parser.isMidRequest)
        let last = Array("c".utf8)
        let (consumed, event) = last.withUnsafeBytes { parser.parse($0) }
        #expect(consumed == 1)
        if case .request(let request, _) = event { #expect(request.body == Array("abc".utf8)) } else { Issue.record("no request") }
        #expect(!parser.isMidRequest)
    }

    @Test("however the bytes are split, and even when they are mangled, the events are the same as in one piece")
    func splitsAndMangling() {
        let samples = [
            "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
            "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
            "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
            "\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        ]
        var random = SplitMix64(seed: 42)
        var inputs = samples
        for sample in samples {
            for _ in 0..<200 {
                var bytes = Array(sample.utf8)
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let index = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(Array(" \r\n:;0\t".utf8)[Int(random.next() % 7)], at: index)
                    }
                }
                inputs.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        for input in inputs {
            let whole = parse(input, maxHeaderBytes: 96, maxBodyBytes: 8)
            for chunk in [1, 2, 3, 5, 8, 13] {
                let split = parse(input, chunk: chunk, maxHeaderBytes: 96, maxBodyBytes: 8)
                #expect(split == whole, "input \(input.debugDescription) split every \(chunk) bytes")
            }
        }
    }
}
