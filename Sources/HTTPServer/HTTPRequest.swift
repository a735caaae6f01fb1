/// A complete HTTP request as the server hands it to an ``HTTPHandler``.
///
/// The server has already enforced the framing rules: the body is exactly the request's content
/// (a chunked body arrives decoded), within the configured limits.
public struct HTTPRequest: Sendable, Equatable {
    /// The method token, case-sensitive as sent, e.g. `GET`.
    public var method: String
    /// The raw request-target, e.g. `/vats/v1/deliveries?after=3`.
    public var target: String
    /// The percent-decoded path without the query, e.g. `/vats/v1/deliveries`. `*` for
    /// `OPTIONS *`; for an absolute-form target, the path part of the URI.
    public var path: String
    /// The path's segments as sent, each percent-decoded on its own (`/vats/v1%2Fclist` is
    /// `["vats", "v1/clist"]`), for routing: unlike ``path``, an encoded `/` never separates
    /// segments. Nil when the target has no path (`*`) or a segment is not UTF-8 once decoded.
    public var pathSegments: [String]? { RequestTarget.pathSegments(target) }
    /// The decoded query parameters (`+` read as a space); when a name repeats, the last one wins.
    public var query: [String: String]
    /// The decoded query parameters as sent: in order, repeats kept, so a handler can refuse a
    /// name it does not know or one given twice (``query`` keeps only the last of each).
    public var queryItems: [(name: String, value: String)] { RequestTarget.queryItems(target) }
    /// The protocol version the client spoke.
    public var version: HTTPVersion
    /// The header fields as received.
    public var headers: HTTPHeaders
    /// The request content; empty when the request has none.
    public var body: [UInt8]
    /// The connection it came in on, set by the server (nil for a request made by hand).
    public var peer: PeerConnection?
    /// How many requests before this one on its connection the server has handed out and not
    /// yet answered (pipelining): a handler that answers from a snapshot must not answer this
    /// one from a snapshot older than those. Set by the server; 0 for a request made by hand.
    public var earlierUnanswered = 0

    /// A request with every part given explicitly.
    public init(
        method: String, target: String, path: String, query: [String: String],
        version: HTTPVersion, headers: HTTPHeaders, body: [UInt8]
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// A request whose ``path`` and ``query`` are derived from `target` the way the server derives
    /// them; handy for testing handlers without a socket. A target the server would refuse keeps
    /// itself as its path and gets no query.
    public init(
        method: String, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        let utf8 = Array(target.utf8)
        let parsed = utf8.withUnsafeBytes { RequestTarget.parse($0, method: method) }
        switch parsed {
        case .success(let components):
            self.init(
                method: method, target: target, path: components.path, query: components.query,
                version: version, headers: headers, body: body)
        case .failure:
            self.init(
                method: method, target: target, path: target, query: [:],
                version: version, headers: headers, body: body)
        }
    }
}
