/// Why an ``HTTPServer`` could not start.
public enum HTTPServerError: Error, Equatable, CustomStringConvertible {
    /// A configuration value is out of range; the string says which and why.
    case invalidConfiguration(String)
    /// The host is neither an IP address nor `localhost`, nor a name that resolves.
    case invalidHost(String)
    /// Binding the address failed, e.g. the port is in use or the address is not local.
    case bindFailed(host: String, port: Int, reason: String)
    /// A system call the server needs failed (socket, listen, epoll...).
    case systemCallFailed(call: String, reason: String)
    /// ``HTTPServer/start()`` was called on a server that was already started or shut down.
    case alreadyStarted

    /// A sentence for logs and for the executable's error output.
    public var description: String {
        switch self {
        case .invalidConfiguration(let detail):
            "invalid HTTP server configuration: \(detail)"
        case .invalidHost(let host):
            "cannot listen on host \"\(host)\": not an IP address, nor a name that resolves"
        case .bindFailed(let host, let port, let reason):
            "cannot listen on \(host):\(port): \(reason)"
        case .systemCallFailed(let call, let reason):
            "\(call) failed: \(reason)"
        case .alreadyStarted:
            "the HTTP server was already started; a server runs once"
        }
    }
}
