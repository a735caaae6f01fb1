import Foundation
import Glibc
import Testing
@testable import HTTPServer
import TestSupport

@Suite("HTTPServer over real sockets")
struct HTTPServerTests {
    // MARK: - Basic exchange and keep-alive

    @Test("a GET is answered with exact bytes and the connection stays open for the next request")
    func getAndKeepAlive() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /hello?b=2&a=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let first = try client.readResponse()
            #expect(first.raw == echoed("GET /hello a=1&b=2 "))
            try client.send("POST /again HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nbody")
            let second = try client.readResponse()
            #expect(second.raw == echoed("POST /again  body"))
        }
    }

    @Test("Connection: close is honoured: the response says so and the server closes")
    func connectionClose() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try client.readToEnd() == echoed("GET /x  ", connection: "close"))
        }
    }

    @Test("HTTP/1.0 closes after the response unless the client asks for keep-alive")
    func http10() throws {
        try withServer { port, _ in
            let plain = try TestClient(port: port)
            try plain.send("GET /old HTTP/1.0\r\n\r\n")
            #expect(try plain.readToEnd() == echoed("GET /old  ", connection: "close"))

            let keepAlive = try TestClient(port: port)
            try keepAlive.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive.readResponse().raw == echoed("GET /a  ", connection: "keep-alive"))
            try keepAlive.send("GET /b HTTP/1.0\r\n\r\n")
            #expect(try keepAlive.readToEnd() == echoed("GET /b  ", connection: "close"))
        }
    }

    @Test("a handler's Connection: close closes the connection after its response")
    func handlerAsksToClose() throws {
        struct Closing: HTTPHandler {
            func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
                respond(HTTPResponse(status: 202, headers: [("Connection", "close"), ("Content-Length", "999")], body: Array("bye".utf8)))
            }
        }
        try withServer(handler: Closing()) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try client.readToEnd() == "HTTP/1.1 202 Accepted\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye")
        }
    }

    @Test("a response to HEAD carries the length but not the body")
    func head() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n")
            let head = try client.readResponse(bodyless: true)
            #expect(head.raw == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \("HEAD /h  ".utf8.count)\r\n\r\n")
            #expect(try client.readResponse().raw == echoed("GET /g  "))
        }
    }

    // MARK: - Errors the server answers itself

    @Test(
        "malformed requests get a JSON 400 with Connection: close, then the server closes",
        arguments: [
            ("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", "invalid HTTP version"),
            ("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "invalid HTTP version"),
            ("GET\r\n\r\n", "invalid method in request line"),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", "invalid header field name"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", "obsolete line folding or whitespace before a header field"),
            ("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", "missing Host header"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", "invalid Content-Length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both Transfer-Encoding and Content-Length"),
        ])
    func badRequests(request: String, message: String) throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send(request)
            #expect(try client.readToEnd() == serverError(400, "Bad Request", code: "bad-request", message: message))
        }
    }

    @Test("an unsupported version is 505, an unknown transfer coding 501")
    func versionAndCoding() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET / HTTP/2.0\r\nHost: a\r\n\r\n")
            #expect(try client.readToEnd() == serverError(
                505, "HTTP Version Not Supported", code: "version-not-supported", message: "HTTP/2.0 is not supported; use HTTP/1.1"))
            let other = try TestClient(port: port)
            try other.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            #expect(try other.readToEnd() == serverError(
                501, "Not Implemented", code: "not-implemented", message: #"transfer coding \"gzip\" is not supported"#))
        }
    }

    @Test("an error after pipelined requests is answered in order, after their responses")
    func errorAfterGoodRequests() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nBROKEN\r\n\r\n")
            #expect(try client.readToEnd() == echoed("GET /1  ")
                + serverError(400, "Bad Request", code: "bad-request", message: "invalid method in request line"))
        }
    }

    @Test("request line and headers beyond maxHeaderBytes: 431")
    func oversizedHeaders() throws {
        try withServer({ $0.maxHeaderBytes = 1024 }) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "x", count: 2000) + "\r\n\r\n")
            #expect(try client.readToEnd() == serverError(
                431, "Request Header Fields Too Large", code: "header-fields-too-large",
                message: "request line and header fields exceed 1024 bytes"))
        }
    }

    @Test("a body announced beyond maxBodyBytes: 413 at once, without waiting for the body")
    func oversizedBody() throws {
        try withServer({ $0.maxBodyBytes = 100 }) { port, _ in
            let client = try TestClient(port: port)
            try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n")
            #expect(try client.readToEnd() == serverError(
                413, "Content Too Large", code: "payload-too-large", message: "request body exceeds 100 bytes"))
        }
    }

    @Test("the default body limit is 1 MiB and says so")
    func defaultBodyLimit() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n")
            #expect(try client.readToEnd() == serverError(
                413, "Content Too Large", code: "payload-too-large", message: "request body exceeds 1048576 bytes"))
        }
    }

    // MARK: - Bodies

    @Test("Expect: 100-continue gets 100 Continue before the body is sent; a too-large one gets 413 instead")
    func expectContinue() throws {
        try withServer({ $0.maxBodyBytes = 100 }) { port, _ in
            let client = try TestClient(port: port)
            try client.send("PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(try client.read(count: 25) == Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            try client.send("hello")
            #expect(try client.readResponse().raw == echoed("PUT /up  hello"))

            let large = try TestClient(port: port)
            try large.send("PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 500\r\n\r\n")
            #expect(try large.readToEnd() == serverError(
                413, "Content Too Large", code: "payload-too-large", message: "request body exceeds 100 bytes"))

            let odd = try TestClient(port: port)
            try odd.send("PUT /up HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\n")
            #expect(try odd.readToEnd() == serverError(
                417, "Expectation Failed", code: "expectation-failed", message: #"unsupported expectation \"something-else\""#))
        }
    }

    @Test("a chunked body is decoded before the handler sees it")
    func chunkedBody() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n")
            usleep(20_000)
            try client.send("6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n")
            #expect(try client.readResponse().raw
                == echoed("POST /c  Wikipedia in \r\n\r\nchunks."))
        }
    }

    @Test("a chunked body beyond maxBodyBytes is 413")
    func chunkedTooLarge() throws {
        try withServer({ $0.maxBodyBytes = 8 }) { port, _ in
            let client = try TestClient(port: port)
            try client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n")
            #expect(try client.readToEnd() == serverError(
                413, "Content Too Large", code: "payload-too-large", message: "request body exceeds 8 bytes"))
        }
    }

    // MARK: - Pipelining

    @Test("pipelined requests in one write are answered in order though the handler answers them out of order")
    func pipelinedOutOfOrder() throws {
        let handler = ManualHandler()
        try withServer(handler: handler) { port, _ in
            let client = try TestClient(port: port)
            try client.send(
                "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(handler.waitFor(3))
            #expect((0..<3).map { handler.request($0).request.path } == ["/1", "/2", "/3"])
            let answer: @Sendable (Int) -> Void = { index in
                handler.request(index).respond(HTTPResponse(status: 200, body: Array("r\(index + 1)".utf8)))
            }
            let worker = Thread {
                answer(2)
                usleep(30_000)
                answer(0)
                usleep(30_000)
                answer(1)
                answer(1)  // a second answer is ignored
            }
            worker.start()
            let responses = try (0..<3).map { _ in try client.readResponse().raw }
            #expect(responses == [
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr2",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr3",
            ])
        }
    }

    @Test("a connection with maxPipelinedRequests unanswered is not read further until responses go out")
    func pipelineLimit() throws {
        let handler = ManualHandler()
        try withServer(handler: handler, { $0.maxPipelinedRequests = 2 }) { port, _ in
            let client = try TestClient(port: port)
            try client.send((1...5).map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
            #expect(handler.waitFor(2))
            usleep(100_000)
            #expect(handler.count == 2)
            handler.request(0).respond(HTTPResponse(status: 200))
            #expect(handler.waitFor(3))
            usleep(50_000)
            #expect(handler.count == 3)
            for index in 1..<3 { handler.request(index).respond(HTTPResponse(status: 204)) }
            #expect(handler.waitFor(5))
            for index in 3..<5 { handler.request(index).respond(HTTPResponse(status: 200)) }
            let statuses = try (0..<5).map { _ in try client.readResponse().status }
            #expect(statuses == [200, 204, 204, 200, 200])
        }
    }

    // MARK: - Timeouts

    @Test("a client trickling a request is cut off with 408 once the read timeout passes")
    func slowClient() throws {
        let clock = ManualClock()
        try withServer({ $0.readTimeout = .milliseconds(300); $0.clock = clock }) { port, server in
            let client = try TestClient(port: port)
            // One byte every 50 ms: each arrives well within any per-byte timeout, but the whole
            // request would take 1.5 s.
            let request = Array("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
            for byte in request[..<6] {
                try client.send([byte])
                server.checkTimers()
                #expect(client.isQuiet)
                clock.advance(.milliseconds(50))
            }
            // 300 ms after the first byte, with the request still unfinished:
            server.checkTimers()
            #expect(try client.readToEnd() == serverError(408, "Request Timeout", code: "request-timeout", message: "request not received completely in time"))
        }
    }

    @Test("an idle keep-alive connection is closed after the idle timeout, silently")
    func idleTimeout() throws {
        let clock = ManualClock()
        try withServer({ $0.idleTimeout = .milliseconds(300); $0.clock = clock }) { port, server in
            let client = try TestClient(port: port)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            _ = try client.readResponse()
            clock.advance(.milliseconds(299))
            server.checkTimers()
            #expect(client.isQuiet)
            clock.advance(.milliseconds(1))
            server.checkTimers()
            #expect(try client.closesWithoutData())
        }
    }

    @Test("a request being processed is not cut off by the idle timeout")
    func slowHandlerIsNotIdle() throws {
        let handler = ManualHandler()
        let clock = ManualClock()
        try withServer(handler: handler, { $0.idleTimeout = .milliseconds(200); $0.clock = clock }) { port, server in
            let client = try TestClient(port: port)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(handler.waitFor(1))
            clock.advance(.milliseconds(400))
            server.checkTimers()
            #expect(client.isQuiet)
            handler.request(0).respond(HTTPResponse(status: 200))
            #expect(try client.readResponse().raw == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }
    }

    @Test("a client that stops reading its response is dropped after the write timeout")
    func writeTimeout() throws {
        struct Huge: HTTPHandler {
            static let body = [UInt8](repeating: 0x61, count: 16 * 1024 * 1024)
            func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
                respond(HTTPResponse(status: 200, body: Self.body))
            }
        }
        let clock = ManualClock()
        try withServer(handler: Huge(), { $0.writeTimeout = .milliseconds(300); $0.clock = clock }) { port, server in
            let client = try TestClient(port: port, receiveBuffer: 16 * 1024)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            // Not reading: the server's writes block; then its deadline passes.
            server.checkTimers()
            clock.advance(.milliseconds(300))
            server.checkTimers()
            let received = try client.readToEnd().utf8.count
            #expect(received > 0)
            #expect(received < 16 * 1024 * 1024)
        }
    }

    // MARK: - Connection limit

    @Test("connections beyond maxConnections are answered 503 and closed while all are busy; a freed slot is reused")
    func maxConnections() throws {
        let handler = ManualHandler()
        try withServer(handler: handler, { $0.maxConnections = 2 }) { port, _ in
            let first = try TestClient(port: port)
            let second = try TestClient(port: port)
            for (i, client) in [first, second].enumerated() {
                try client.send("GET /\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(handler.waitFor(i + 1))
            }
            // Both hold a request in progress: neither is idle, so the third is refused.
            let third = try TestClient(port: port)
            #expect(try third.readToEnd() == serverError(
                503, "Service Unavailable", code: "service-unavailable", message: "too many open connections"))

            handler.request(0).respond(HTTPResponse(status: 200, headers: [("Connection", "close")]))
            _ = try first.readToEnd()
            first.close()
            var served = false
            for _ in 0..<50 where !served {  // the server notices the close a moment later
                let fourth = try TestClient(port: port)
                try fourth.send("GET /4 HTTP/1.1\r\nHost: a\r\n\r\n")
                if handler.waitFor(3, timeout: 0.2) {
                    handler.request(2).respond(HTTPResponse(status: 200))
                    served = try fourth.readResponse().status == 200
                }
                if !served { usleep(20_000) }
            }
            #expect(served)
            handler.request(1).respond(HTTPResponse(status: 200))
            #expect(try second.readResponse().status == 200)
        }
    }

    @Test("a connection with maxUnsentBytes of answers waiting is not read further until they drain")
    func unsentOutputStopsReading() throws {
        let handler = ManualHandler()
        try withServer(handler: handler, { $0.maxUnsentBytes = 500_000 }) { port, _ in
            let client = try TestClient(port: port)
            // The first request is held, so the answer to the second waits in the connection.
            for i in 0..<2 {
                try client.send("GET /\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(handler.waitFor(i + 1))
            }
            handler.request(1).respond(HTTPResponse(status: 200, body: Array(repeating: 66, count: 1 << 20)))
            usleep(200_000)  // the loop takes the answer (it wakes for it) before the next bytes come
            // 1 MiB waits now: the third request is not read.
            try client.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(!handler.waitFor(3, timeout: 0.3))
            handler.request(0).respond(HTTPResponse(status: 200))
            for _ in 0..<2 { #expect(try client.readResponse().status == 200) }
            #expect(handler.waitFor(3))
            handler.request(2).respond(HTTPResponse(status: 204))
            #expect(try client.readResponse().status == 204)
        }
    }

    @Test("at maxConnections, the oldest idle keep-alive connection is closed to admit a new one")
    func oldestIdleConnectionMakesRoom() throws {
        try withServer({ $0.maxConnections = 2 }) { port, _ in
            let oldest = try TestClient(port: port)
            try oldest.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try oldest.readResponse().status == 200)
            usleep(20_000)
            let newer = try TestClient(port: port)
            try newer.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try newer.readResponse().status == 200)
            // Both are idle now; a third client takes the place of the one idle longest.
            let third = try TestClient(port: port)
            try third.send("GET /c HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try third.readResponse().text == "GET /c  ")
            #expect(try oldest.closesWithoutData())
            try newer.send("GET /d HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try newer.readResponse().text == "GET /d  ")
        }
    }

    @Test("a connection that never sent a byte counts as idle: silent sockets cannot lock others out")
    func silentSocketsMakeRoom() throws {
        try withServer({ $0.maxConnections = 3 }) { port, _ in
            let silent = try (0..<3).map { _ in try TestClient(port: port) }
            usleep(20_000)
            var clients: [TestClient] = []  // kept open, so each one needs a silent socket's place
            for i in 0..<3 {
                let client = try TestClient(port: port)
                try client.send("GET /\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(try client.readResponse().text == "GET /\(i)  ")
                clients.append(client)
            }
            for s in silent { #expect(try s.closesWithoutData()) }
            #expect(clients.count == 3)
        }
    }

    // MARK: - Lifecycle

    @Test("shutdown stops accepting, lets an in-flight request finish, then stops")
    func shutdownFinishesInFlight() throws {
        let handler = ManualHandler()
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.shutdownTimeout = .seconds(5)
        configuration.sendsDate = false  // the exact wire form below carries no clock reading
        let server = HTTPServer(configuration: configuration, handler: handler)
        let port = try server.start()
        let busy = try TestClient(port: port)
        let idle = try TestClient(port: port)
        try busy.send("POST /work HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
        #expect(handler.waitFor(1))

        server.shutdown()
        #expect(eventually { (try? TestClient(port: port)) == nil })  // no longer accepting
        #expect(try idle.closesWithoutData())  // idle connections close at once

        let started = Date()
        Thread {
            usleep(100_000)
            handler.request(0).respond(HTTPResponse(status: 200, body: Array("done".utf8)))
        }.start()
        #expect(try busy.readToEnd() == "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone")
        server.waitUntilStopped()
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test("shutdown waits no longer than shutdownTimeout for a request that never gets its answer")
    func shutdownIsBounded() throws {
        let handler = ManualHandler()
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0, shutdownTimeout: .milliseconds(300)), handler: handler)
        let port = try server.start()
        let client = try TestClient(port: port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(handler.waitFor(1))
        let started = Date()
        server.shutdown()
        server.waitUntilStopped()
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.25 && elapsed < 1.5)
        #expect(try client.closesWithoutData())
        handler.request(0).respond(HTTPResponse(status: 200))  // too late: dropped, no crash
    }

    @Test("a server starts once; a taken port and a bad host are clear errors")
    func startErrors() throws {
        try withServer { port, server in
            #expect(throws: HTTPServerError.alreadyStarted) { try server.start() }
            let rival = HTTPServer(configuration: HTTPServerConfiguration(port: port), handler: EchoHandler())
            #expect(throws: HTTPServerError.bindFailed(host: "127.0.0.1", port: port, reason: "Address already in use")) {
                try rival.start()
            }
        }
        let badHost = HTTPServer(configuration: HTTPServerConfiguration(host: "no-such-host.invalid", port: 0), handler: EchoHandler())
        #expect(throws: HTTPServerError.invalidHost("no-such-host.invalid")) { try badHost.start() }
        let badPort = HTTPServer(configuration: HTTPServerConfiguration(port: 70000), handler: EchoHandler())
        #expect(throws: HTTPServerError.invalidConfiguration("port 70000 is not in 0...65535")) { try badPort.start() }
    }

    @Test("localhost can be bound")
    func localhost() throws {
        let local = HTTPServer(configuration: HTTPServerConfiguration(host: "localhost", port: 0), handler: EchoHandler())
        let port = try local.start()
        defer { local.shutdown(); local.waitUntilStopped() }
        let client = try TestClient(port: port)
        try client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try client.readResponse().status == 200)
    }

    @Test("IPv6 loopback can be bound", .enabled(if: hasIPv6Loopback, "this machine has no IPv6 loopback (::1)"))
    func ipv6Loopback() throws {
        let v6 = HTTPServer(configuration: HTTPServerConfiguration(host: "::1", port: 0), handler: EchoHandler())
        let v6Port = try v6.start()
        defer { v6.shutdown(); v6.waitUntilStopped() }
        let v6Client = try TestClient(port: v6Port, host: "::1")
        try v6Client.send("GET /six HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        #expect(try v6Client.readResponse().text == "GET /six  ")
    }

    @Test("a client that disconnects with a request in flight does not disturb the server")
    func clientVanishes() throws {
        let handler = ManualHandler()
        try withServer(handler: handler) { port, _ in
            do {
                let client = try TestClient(port: port)
                try client.send("GET /gone HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(handler.waitFor(1))
            }  // closed here
            usleep(50_000)
            handler.request(0).respond(HTTPResponse(status: 200, body: Array(repeating: 65, count: 100_000)))
            let next = try TestClient(port: port)
            try next.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(handler.waitFor(2))
            handler.request(1).respond(HTTPResponse(status: 200))
            #expect(try next.readResponse().status == 200)
        }
    }

    @Test("a handler can see that the connection of a request it holds has closed")
    func peerClosed() throws {
        let handler = ManualHandler()
        try withServer(handler: handler) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(handler.waitFor(1))
            let peer = try #require(handler.request(0).request.peer)
            #expect(!peer.isClosed)
            client.reset()
            #expect(eventually { peer.isClosed })
            handler.request(0).respond(HTTPResponse(status: 200))  // ignored, as for any closed connection
        }
    }

    @Test("a client that half-closes after its request still gets the response")
    func halfClose() throws {
        try withServer { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /half HTTP/1.1\r\nHost: a\r\n\r\n")
            client.shutdownWrite()
            // Whether the response says "Connection: close" depends on whether the server saw the
            // FIN before answering; either way the response comes, then the close.
            #expect(try client.readResponse().text == "GET /half  ")
            #expect(try client.closesWithoutData())
        }
    }

    @Test("connections sending garbage get 4xx answers or a close, and the server keeps serving")
    func garbage() throws {
        try withServer({ $0.maxHeaderBytes = 512; $0.readTimeout = .milliseconds(200) }) { port, _ in
            var random = SplitMix64(seed: 7)
            for round in 0..<40 {
                let client = try TestClient(port: port, timeout: 2)
                var bytes = (0..<Int(random.next() % 1500)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if round % 2 == 0 { bytes = Array("GET / HTTP/1.1\r\n".utf8) + bytes }
                try? client.send(bytes)
                let reply = try client.readToEnd()
                #expect(reply.isEmpty || reply.hasPrefix("HTTP/1.1 4"), "round \(round): \(reply.prefix(40))")
            }
            let client = try TestClient(port: port)
            try client.send("GET /still HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try client.readResponse().raw == echoed("GET /still  "))
        }
    }

    @Test("a large response leaves whole even when the socket buffer fills")
    func largeResponse() throws {
        struct Big: HTTPHandler {
            static let body: [UInt8] = Array(repeating: Array("0123456789abcdef".utf8), count: 128 * 1024).flatMap { $0 }
            func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
                respond(HTTPResponse(status: 200, body: Self.body))
            }
        }
        try withServer(handler: Big()) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            usleep(100_000)  // let the server fill the socket buffers and wait for writability
            let response = try client.readResponse()
            let intact = response.body == Big.body
            #expect(response.body.count == 2 * 1024 * 1024)
            #expect(intact)
        }
    }
}

/// Whether a socket can be bound to ::1 here (some containers have no IPv6 loopback).
let hasIPv6Loopback: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
    }
}()
