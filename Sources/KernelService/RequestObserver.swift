import HTTPServer

/// What every answer carries and what the access log says about it.
///
/// Each request gets an ID: the client's own `X-Request-Id` when it is 1 to 128 visible ASCII
/// characters, else a new random one (made as an instance ID is). The answer echoes it. With an
/// access log, each answer also writes one JSON line: time, request ID, method, target, status,
/// body bytes and duration.
struct RequestObserver: Sendable {
    /// Where access-log lines go (one line per call, without the newline); nil: no log.
    let accessLog: (@Sendable (String) -> Void)?

    /// The ID for `request`.
    static func requestID(_ request: HTTPRequest) -> String {
        if let given = request.headers["X-Request-Id"], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return given
        }
        return ServiceIdentity.newInstanceID()
    }

    /// The access-log line of an answer the HTTP layer gave to a request it could not read
    /// (method, target and duration null: unknown or not to be trusted).
    func logProtocolError(requestID: String, _ response: HTTPResponse) {
        accessLog?(Self.line(requestID, method: nil, target: nil, response, durationMs: nil))
    }

    /// One access-log line, with the same fields whoever answered.
    private static func line(_ requestID: String, method: String?, target: String?, _ response: HTTPResponse,
                             durationMs: Double?) -> String {
        JSON.object([
            ("time", .string(Timestamp.now().rfc3339)),
            ("requestId", .string(requestID)),
            ("method", .orNull(method)),
            ("target", .orNull(target)),
            ("status", .int(response.status)),
            ("bytes", .int(response.body.count)),
            ("durationMs", durationMs.map { .double($0) } ?? .null),
        ]).description
    }

    /// `respond`, wrapped so that the answer carries the request's ID and is logged.
    func wrap(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) -> @Sendable (HTTPResponse) -> Void {
        let id = Self.requestID(request)
        let accessLog = accessLog
        let started = ContinuousClock.now
        let method = request.method
        let target = request.target
        return { response in
            var response = response
            response.headers.append(("X-Request-Id", id))
            if let accessLog {
                let elapsed = ContinuousClock.now - started
                let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
                accessLog(Self.line(id, method: method, target: target, response, durationMs: Double(micros) / 1000))
            }
            respond(response)
        }
    }
}
