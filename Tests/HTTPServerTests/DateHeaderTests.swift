import Foundation
import Testing
@testable import HTTPServer

@Suite("Date header")
struct DateHeaderTests {
    @Test("IMF-fixdate, as RFC 9110 §5.6.7 spells its own example")
    func format() {
        #expect(String(decoding: HTTPDate.format(784_111_777), as: UTF8.self) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(String(decoding: HTTPDate.format(0), as: UTF8.self) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(String(decoding: HTTPDate.format(1_798_761_599), as: UTF8.self) == "Thu, 31 Dec 2026 23:59:59 GMT")
    }

    @Test("every response carries the current Date by default; a handler's own Date is sent instead")
    func sentByDefault() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        #expect(configuration.sendsDate)
        configuration.idleTimeout = .seconds(5)
        let server = HTTPServer(configuration: configuration, handler: DatedHandler())
        let port = try server.start()
        defer {
            server.shutdown()
            server.waitUntilStopped()
        }
        let client = try TestClient(port: port)
        let before = Int(Date().timeIntervalSince1970)
        try client.send("GET /plain HTTP/1.1\r\nHost: a\r\n\r\nGET /dated HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n")
        let plain = try client.readResponse()
        let after = Int(Date().timeIntervalSince1970)
        let sent = plain.headers.filter { $0.0 == "Date" }.map(\.1)
        #expect(sent.count == 1)
        let allowed = Set((before...after).map { String(decoding: HTTPDate.format(time_t($0)), as: UTF8.self) })
        #expect(allowed.contains(sent.first ?? ""))
        let dated = try client.readResponse()
        #expect(dated.headers.filter { $0.0.lowercased() == "date" }.map(\.1) == ["Sun, 06 Nov 1994 08:49:37 GMT"])
        let refused = try client.readResponse()  // the server's own 400 carries it too
        #expect(refused.status == 400)
        #expect(refused.header("Date").map { allowed.contains($0) || $0.hasSuffix(" GMT") } == true)
    }
}

/// Answers `/dated` with its own `Date` header, anything else without one.
private struct DatedHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        var headers: [(String, String)] = []
        if request.path == "/dated" { headers.append(("date", "Sun, 06 Nov 1994 08:49:37 GMT")) }
        respond(HTTPResponse(status: 200, headers: headers, body: Array("ok".utf8)))
    }
}
