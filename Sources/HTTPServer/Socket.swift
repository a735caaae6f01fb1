import CLinux
import Glibc

/// The POSIX socket calls the server makes, with errno turned into values the loop can switch on.
/// Every socket is non-blocking and close-on-exec; writes use MSG_NOSIGNAL so a vanished peer is
/// an EPIPE result, never a SIGPIPE that kills the process.
enum Socket {
    /// The outcome of a read or a write.
    enum IOResult {
        /// This many bytes moved (never 0).
        case transferred(Int)
        /// The socket is not ready; epoll says when it is.
        case wouldBlock
        /// The peer closed its sending side (reads only).
        case endOfFile
        /// The connection is broken (ECONNRESET, EPIPE...).
        case failed(Int32)
    }

    /// The outcome of accepting one connection.
    enum AcceptResult {
        case accepted(Int32)
        /// No connection is waiting.
        case wouldBlock
        /// The process or system is out of descriptors: pause accepting for a moment.
        case outOfDescriptors
        /// This one connection failed (it was reset before accept, say); try the next.
        case skipped
    }

    /// Creates a listening socket bound to `host:port` and returns it with the port actually bound.
    static func makeListener(host: String, port: Int, backlog: Int) throws -> (fd: Int32, port: Int) {
        var address = try resolve(host: host, port: port)
        let family = Int32(address.ss_family)
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError.systemCallFailed(call: "socket", reason: describe(errno)) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            throw HTTPServerError.bindFailed(host: host, port: port, reason: describe(code))
        }
        guard Glibc.listen(fd, Int32(clamping: backlog)) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw HTTPServerError.systemCallFailed(call: "listen", reason: describe(code))
        }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
        }
        return (fd, boundPort(of: local))
    }

    /// An IPv4 or IPv6 socket address for `host` (an address literal, optionally bracketed,
    /// `localhost`, or a name resolved with getaddrinfo, IPv4 preferred).
    private static func resolve(host: String, port: Int) throws -> sockaddr_storage {
        var name = host
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" { name = "127.0.0.1" }
        var storage = sockaddr_storage()
        let networkPort = UInt16(port).bigEndian
        var ipv4 = in_addr()
        if inet_pton(AF_INET, name, &ipv4) == 1 {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    $0.pointee.sin_family = sa_family_t(AF_INET)
                    $0.pointee.sin_port = networkPort
                    $0.pointee.sin_addr = ipv4
                }
            }
            return storage
        }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, name, &ipv6) == 1 {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    $0.pointee.sin6_family = sa_family_t(AF_INET6)
                    $0.pointee.sin6_port = networkPort
                    $0.pointee.sin6_addr = ipv6
                }
            }
            return storage
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else {
            throw HTTPServerError.invalidHost(host)
        }
        defer { freeaddrinfo(list) }
        var chosen: UnsafeMutablePointer<addrinfo>? = first
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let entry = candidate {
            if entry.pointee.ai_family == AF_INET { chosen = entry; break }
            candidate = entry.pointee.ai_next
        }
        guard let entry = chosen, let address = entry.pointee.ai_addr,
            entry.pointee.ai_family == AF_INET || entry.pointee.ai_family == AF_INET6
        else { throw HTTPServerError.invalidHost(host) }
        withUnsafeMutableBytes(of: &storage) { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen)))
        }
        // sin_port and sin6_port share offset 2, so this sets the port of either family.
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port = networkPort }
        }
        return storage
    }

    private static func boundPort(of address: sockaddr_storage) -> Int {
        var address = address
        let family = Int32(address.ss_family)
        return withUnsafePointer(to: &address) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// Accepts one waiting connection, non-blocking, with TCP_NODELAY set: responses go out as
    /// soon as they are written instead of waiting on Nagle's algorithm.
    static func accept(_ listener: Int32) -> AcceptResult {
        let fd = vk_accept(listener)
        if fd >= 0 {
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            return .accepted(fd)
        }
        switch errno {
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .outOfDescriptors
        default: return .skipped
        }
    }

    /// Reads what is available into `buffer`.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .endOfFile }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Writes as much of `bytes` as the socket takes.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return count == 0 ? .wouldBlock : .transferred(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Sends FIN: the peer reads end-of-file once it has the bytes already sent.
    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the descriptor.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// The C library's description of an errno value.
    static func describe(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return String(cString: message)
    }
}
