import Foundation
import Synchronization
import Testing
@testable import HTTPServer
import TestSupport

/// A handler that answers every request with a stream, kept for the test to feed.
final class StreamHandler: HTTPHandler {
    let streams = Mutex<[HTTPStream]>([])
    let ends = Atomic<Int>(0)
    let spaces = Atomic<Int>(0)
    let maxUnsent: Int
    init(maxUnsent: Int = 1024) { self.maxUnsent = maxUnsent }
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let stream = HTTPStream(maxUnsentBytes: maxUnsent,
                                onSpace: { [unowned self] in self.spaces.add(1, ordering: .relaxed) },
                                onEnd: { [unowned self] in self.ends.add(1, ordering: .relaxed) })
        streams.withLock { $0.append(stream) }
        respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream")], stream: stream))
    }
    func stream(_ i: Int) -> HTTPStream? { streams.withLock { $0.count > i ? $0[i] : nil } }
}


/// Long-lived responses (`HTTPStream`): chunked framing, HTTP/1.0 close-delimited bodies,
/// HEAD, backpressure, the client going away, and shutdown ending them cleanly.
@Suite("HTTPServer streaming responses")
struct HTTPStreamTests {
    private static let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
    private static let chunkedHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"

    @Test("each send is one chunk, sent at once; finish sends the last chunk and closes")
    func chunkedFraming() throws {
        let handler = StreamHandler()
        try withServer(handler: handler) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /s HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(eventually { handler.stream(0) != nil })
            let stream = try #require(handler.stream(0))
            let headBytes = Self.chunkedHead
            #expect(String(decoding: try client.read(count: headBytes.utf8.count), as: UTF8.self) == headBytes)
            #expect(stream.send(Array("id: 1\ndata: {}\n\n".utf8)) == .sent)
            #expect(String(decoding: try client.read(count: 22), as: UTF8.self) == "10\r\nid: 1\ndata: {}\n\n\r\n")
            #expect(stream.send(Array(": heartbeat\n\n".utf8)) == .sent)
            stream.finish()
            #expect(try client.readToEnd() == "d\r\n: heartbeat\n\n\r\n0\r\n\r\n")
            #expect(stream.send([1]) == .ended)
            #expect(eventually { handler.ends.load(ordering: .relaxed) == 1 })
        }
    }

    @Test("HTTP/1.0 gets the bytes as they are, ended by the close; HEAD gets the head alone")
    func http10AndHead() throws {
        let handler = StreamHandler()
        try withServer(handler: handler) { port, _ in
            let old = try TestClient(port: port)
            try old.send("GET /s HTTP/1.0\r\n\r\n")
            #expect(eventually { handler.stream(0) != nil })
            let stream = try #require(handler.stream(0))
            #expect(stream.send(Array("data: 1\n\n".utf8)) == .sent)
            stream.finish()
            #expect(try old.readToEnd() == Self.head + "\r\ndata: 1\n\n")

            let head = try TestClient(port: port)
            try head.send("HEAD /s HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try head.readToEnd() == Self.head + "\r\n")
            #expect(eventually { handler.ends.load(ordering: .relaxed) == 2 })
            #expect(handler.stream(1)?.send([1]) == .ended)
        }
    }

    @Test("past maxUnsentBytes a send is refused, nothing is buffered; onSpace comes once the client took it all")
    func backpressure() throws {
        let handler = StreamHandler(maxUnsent: 100)
        try withServer(handler: handler) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /s HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(eventually { handler.stream(0) != nil })
            let stream = try #require(handler.stream(0))
            #expect(stream.room == 100)
            // 60-byte pieces until one is refused: the loop writes them out concurrently, but
            // a second piece given before the first is written cannot fit.
            var sent = 0
            var refused = false
            for _ in 0..<10_000 where !refused {
                switch stream.send([UInt8](repeating: 0x61, count: 60)) {
                case .sent: sent += 1
                case .full: refused = true
                case .ended: Issue.record("ended")
                }
            }
            #expect(refused)
            #expect(eventually { handler.spaces.load(ordering: .relaxed) == 1 && stream.room == 100 })
            // A piece bigger than the bound is taken alone, when nothing else is unsent.
            #expect(stream.send([UInt8](repeating: 0x63, count: 101)) == .sent)
            stream.finish()
            let all = try client.readToEnd()
            let body = String(repeating: "3c\r\n" + String(repeating: "a", count: 60) + "\r\n", count: sent)
                + "65\r\n" + String(repeating: "c", count: 101) + "\r\n0\r\n\r\n"
            #expect(all.hasSuffix("\r\n\r\n" + body))
            #expect(all.count == Self.chunkedHead.count + body.count)
        }
    }

    @Test("a client that goes away ends its stream at once; a request pipelined behind a stream is never answered, its stream ends")
    func clientGoesAway() throws {
        let handler = StreamHandler()
        try withServer(handler: handler) { port, _ in
            let client = try TestClient(port: port)
            try client.send("GET /s HTTP/1.1\r\nHost: a\r\n\r\nGET /t HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(eventually { handler.stream(1) != nil })
            #expect(eventually { handler.ends.load(ordering: .relaxed) == 1 })
            #expect(handler.stream(1)?.send([1]) == .ended)
            #expect(handler.stream(0)?.send([1]) == .sent)
            client.close()
            #expect(eventually { handler.ends.load(ordering: .relaxed) == 2 })
            #expect(handler.stream(0)?.send([1]) == .ended)
        }
    }

    @Test("shutdown ends every stream with its last chunk, and the server stops")
    func shutdownEndsStreams() throws {
        let handler = StreamHandler()
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.sendsDate = false
        let server = HTTPServer(configuration: configuration, handler: handler)
        let port = try server.start()
        let client = try TestClient(port: port)
        try client.send("GET /s HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(eventually { handler.stream(0) != nil })
        #expect(handler.stream(0)?.send(Array("x".utf8)) == .sent)
        let started = ContinuousClock.now
        server.shutdown()
        server.waitUntilStopped()
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(try client.readToEnd() == Self.chunkedHead + "1\r\nx\r\n0\r\n\r\n")
        #expect(handler.ends.load(ordering: .relaxed) == 1)
    }
}
