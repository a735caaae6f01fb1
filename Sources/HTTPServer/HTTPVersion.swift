/// The protocol version of a request, as far as this server speaks it.
///
/// Later 1.x minors are read as ``http1_1``: RFC 9110 §2.5 asks a recipient to treat a higher
/// minor version as the highest one it implements. Other majors are refused with 505.
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// HTTP/1.0: a connection closes after each response unless the client asks for keep-alive.
    case http1_0
    /// HTTP/1.1: connections persist unless either side says `Connection: close`.
    case http1_1

    /// The version as it appears on the wire, e.g. `HTTP/1.1`.
    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        }
    }
}
