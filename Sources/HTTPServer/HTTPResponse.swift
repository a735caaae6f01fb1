/// A response for the server to send.
///
/// The server adds the framing itself: `Content-Length` from ``body`` (none for 1xx, 204 and 304),
/// and `Connection: close` or `keep-alive` as the connection requires. Headers named
/// `Content-Length`, `Transfer-Encoding` or `Connection` given here are not sent, with two
/// exceptions: `Connection: close` makes the server close the connection after this response,
/// and a `Content-Length` on an empty-bodied response to HEAD is kept (it announces the size a
/// GET would return). A header whose name is not a token or whose value holds CR, LF or other
/// control characters is dropped rather than sent, so a response can never be split.
public struct HTTPResponse: Sendable {
    /// The status code, 200...999. A code below 200 is not a final response; the server sends a
    /// 500 in its place.
    public var status: Int
    /// Header fields to send, in order.
    public var headers: [(String, String)]
    /// The content. Not sent in reply to HEAD, nor with 204 or 304.
    public var body: [UInt8]
    /// Set for a long-lived response: the body is what the stream is given, sent as it comes
    /// (``body`` is then ignored). See ``HTTPStream``.
    public var stream: HTTPStream?

    /// A response with the given status, headers and body.
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A streaming response: `status` and `headers` now, then whatever `stream` is given.
    public init(status: Int, headers: [(String, String)] = [], stream: HTTPStream) {
        self.init(status: status, headers: headers)
        self.stream = stream
    }

    /// A JSON response: `Content-Type: application/json; charset=utf-8` and `body` as given.
    public static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: body)
    }
}
