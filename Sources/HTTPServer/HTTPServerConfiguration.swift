/// Where an ``HTTPServer`` listens and the limits it enforces. Every limit has a default fit for
/// a service on a small machine; each applies per connection unless it says otherwise.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind: an IPv4 dotted address, `localhost` (127.0.0.1), or an IPv6 literal such
    /// as `::1` (brackets allowed). Default `127.0.0.1`: loopback unless told otherwise.
    public var host: String
    /// TCP port; 0 picks a free port, which ``HTTPServer/start()`` returns. Default 8080.
    public var port: Int
    /// Length of the kernel's queue of connections not yet accepted. Default 511.
    public var backlog: Int
    /// Most bytes of request line plus header fields (with their CRLFs); beyond it the server
    /// answers 431 and closes. Also the budget for chunk extensions and trailers. Default 16 KiB.
    public var maxHeaderBytes: Int
    /// Most bytes of a request body (after chunked decoding); beyond it the server answers 413 and
    /// closes, as soon as a Content-Length announces it. Default 1 MiB.
    public var maxBodyBytes: Int
    /// Most connections open at once, server-wide. At the limit, the connection idle longest
    /// (keep-alive with nothing in progress, or silent since it opened) is closed to admit a new
    /// one; when none is idle, the new one is accepted, answered `503` with `Connection: close`
    /// and closed, so that a client learns why instead of hanging in the backlog. Default 1024.
    public var maxConnections: Int
    /// How long a keep-alive connection may sit with no request in progress and nothing left to
    /// send before the server closes it. Default 60 s.
    public var idleTimeout: Duration
    /// How long a request may take to arrive completely, counted from its first byte; a client
    /// that trickles bytes is answered 408 and closed (slowloris). Default 10 s.
    public var readTimeout: Duration
    /// How long the server waits for a client to take pending response bytes once the socket's
    /// send buffer is full; then it closes the connection. Default 30 s.
    public var writeTimeout: Duration
    /// Most requests a connection may have handed to the handler but not yet answered; past it the
    /// server stops reading from that connection until responses go out. Default 64.
    public var maxPipelinedRequests: Int
    /// Most bytes of answers a connection may have waiting for its client (written to no socket
    /// yet); past it the server stops reading that connection's requests until they drain, so a
    /// client that asks for large answers and does not read them pins only this much (plus the
    /// answers of requests already in progress). Default 4 MiB. Not an init parameter.
    public var maxUnsentBytes = 4 << 20
    /// How long ``HTTPServer/shutdown()`` lets in-flight requests finish before it closes every
    /// connection regardless. Default 5 s.
    public var shutdownTimeout: Duration
    /// Whether every response carries a `Date` header (RFC 9110 §6.6.1: an origin server with a
    /// clock sends one), unless the handler set its own. Default true. Not an init parameter.
    public var sendsDate = true
    /// The clock the timeouts are measured on (a test's own, moved by hand).
    var clock: any LoopClock = MonotonicClock()

    /// A configuration with the documented defaults, overriding whatever is given.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        backlog: Int = 511,
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int = 1 << 20,
        maxConnections: Int = 1024,
        idleTimeout: Duration = .seconds(60),
        readTimeout: Duration = .seconds(10),
        writeTimeout: Duration = .seconds(30),
        maxPipelinedRequests: Int = 64,
        shutdownTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.maxPipelinedRequests = maxPipelinedRequests
        self.shutdownTimeout = shutdownTimeout
    }

    /// The first setting that is out of range, described; nil when all are usable.
    func validationFailure() -> String? {
        if !(0...65535).contains(port) { return "port \(port) is not in 0...65535" }
        if backlog < 1 { return "backlog must be at least 1" }
        if maxHeaderBytes < 64 { return "maxHeaderBytes must be at least 64" }
        if maxBodyBytes < 0 { return "maxBodyBytes must not be negative" }
        if maxConnections < 1 { return "maxConnections must be at least 1" }
        if maxPipelinedRequests < 1 { return "maxPipelinedRequests must be at least 1" }
        if maxUnsentBytes < 1 { return "maxUnsentBytes must be at least 1" }
        for (name, value) in [
            ("idleTimeout", idleTimeout), ("readTimeout", readTimeout), ("writeTimeout", writeTimeout),
        ] where value <= .zero {
            return "\(name) must be positive"
        }
        if shutdownTimeout < .zero { return "shutdownTimeout must not be negative" }
        return nil
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating rather than overflowing.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        guard seconds < Int64(UInt64.max / 1_000_000_000) - 1 else { return UInt64.max / 2 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
