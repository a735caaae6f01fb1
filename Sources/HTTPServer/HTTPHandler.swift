/// The application side of an ``HTTPServer``: turns each request into exactly one response.
public protocol HTTPHandler: Sendable {
    /// Called on the server's event-loop thread for each complete request.
    ///
    /// `respond` may be called later, from any thread, exactly once; calls after the first are
    /// ignored, as are calls after the connection closed. The server writes responses on a
    /// connection in request order (pipelining) even if they are answered out of order. The
    /// event loop serves every connection, so this method must return promptly: hand slow work
    /// to another thread and call `respond` from there.
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void)

    /// The response to an error the server answers by itself, before or instead of `handle`: a
    /// malformed or over-limit request, a slow one, too many connections, a response with an
    /// invalid status. Its status must be `error.status`; the body is the application's, in
    /// its own error format (the server knows none). The server adds `Connection: close`.
    /// Called on the event-loop thread (for some errors once, when the server starts).
    func response(for error: HTTPProtocolError) -> HTTPResponse
}
