import Foundation
import Synchronization
@testable import HTTPServer

/// Answers at once with a plain-text summary of the request: `METHOD path query-pairs body`.
struct EchoHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let query = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let text = "\(request.method) \(request.path) \(query) \(String(decoding: request.body, as: UTF8.self))"
        respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array(text.utf8)))
    }
}

/// Keeps every request with its `respond` callback, so a test decides when, in which order and
/// from which thread each one is answered.
final class ManualHandler: HTTPHandler {
    struct Pending: Sendable {
        let request: HTTPRequest
        let respond: @Sendable (HTTPResponse) -> Void
    }

    private let pending = Mutex<[Pending]>([])

    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        pending.withLock { $0.append(Pending(request: request, respond: respond)) }
    }

    /// How many requests have arrived so far.
    var count: Int { pending.withLock { $0.count } }

    /// The `index`th request to arrive.
    func request(_ index: Int) -> Pending {
        pending.withLock { $0[index] }
    }

    /// Waits until `count` requests have arrived.
    func waitFor(_ count: Int, timeout: Double = 3) -> Bool {
        eventually(timeout: timeout) { self.count >= count }
    }
}

/// Starts a server on a free loopback port with `configure` applied, runs `body` with the port,
/// then shuts the server down and waits for it.
func withServer<T>(
    handler: any HTTPHandler = EchoHandler(),
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    _ body: (Int, HTTPServer) throws -> T
) throws -> T {
    var configuration = HTTPServerConfiguration(port: 0)
    configuration.sendsDate = false  // the exact wire forms below carry no clock reading; DateHeaderTests turn it on
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    let port = try server.start()
    defer {
        server.shutdown()
        server.waitUntilStopped()
    }
    return try body(port, server)
}

/// The tests' handlers answer the server's own errors in the JSON shape the wire forms of
/// `serverError` expect (the shape KernelService gives them).
extension HTTPHandler {
    func response(for error: HTTPProtocolError) -> HTTPResponse {
        var body = Array(#"{"error":{"code":""#.utf8) + Array(error.code.rawValue.utf8) + Array(#"","message":""#.utf8)
        for byte in error.message.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): body += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: body += Array(String(format: "\\u%04x", byte).utf8)
            default: body.append(byte)
            }
        }
        return .json(error.status, body + Array(#""}}"#.utf8))
    }
}

/// A clock the test moves by hand (`HTTPServerConfiguration.clock`): the server's timeouts fire
/// when the test advances it past them and calls `HTTPServer.checkTimers()`, not after sleeps.
final class ManualClock: LoopClock {
    private let reading = Mutex<UInt64>(1_000_000_000)

    func now() -> UInt64 { reading.withLock { $0 } }

    func advance(_ duration: Duration) {
        reading.withLock { $0 += duration.nanoseconds }
    }
}
