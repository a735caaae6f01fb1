import CLinux
import Glibc

/// An epoll instance plus an eventfd registered in it, which other threads signal to wake the loop.
///
/// Level-triggered: a socket keeps reporting readiness while it has unread data, so the loop can
/// read once per wake-up and stay fair between connections. Interest changes go through
/// ``modify(_:events:token:)`` only when a connection's wishes change.
struct Epoll: Sendable {
    /// The epoll descriptor.
    let fd: Int32
    /// The eventfd that ``wake(_:)`` signals; registered for reading.
    let wakeFD: Int32

    static let readable = vk_epoll_in
    static let writable = vk_epoll_out
    /// Error and hang-up: reported whatever the interest.
    static let failed = vk_epoll_err | vk_epoll_hup

    /// Creates the epoll instance and the wake-up eventfd, registering the latter with `wakeToken`.
    init(wakeToken: UInt64) throws {
        let fd = vk_epoll_create()
        guard fd >= 0 else { throw HTTPServerError.systemCallFailed(call: "epoll_create1", reason: Socket.describe(errno)) }
        let wakeFD = vk_eventfd()
        guard wakeFD >= 0 else {
            let code = errno
            Glibc.close(fd)
            throw HTTPServerError.systemCallFailed(call: "eventfd", reason: Socket.describe(code))
        }
        self.fd = fd
        self.wakeFD = wakeFD
        guard vk_epoll_add(fd, wakeFD, Self.readable, wakeToken) == 0 else {
            let code = errno
            Glibc.close(wakeFD)
            Glibc.close(fd)
            throw HTTPServerError.systemCallFailed(call: "epoll_ctl", reason: Socket.describe(code))
        }
    }

    /// Starts watching `fd` for `events`, reporting them with `token`.
    @discardableResult
    func add(_ fd: Int32, events: UInt32, token: UInt64) -> Bool {
        vk_epoll_add(self.fd, fd, events, token) == 0
    }

    /// Changes what `fd` is watched for.
    @discardableResult
    func modify(_ fd: Int32, events: UInt32, token: UInt64) -> Bool {
        vk_epoll_modify(self.fd, fd, events, token) == 0
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for events, filling `buffer`.
    /// Returns how many arrived; 0 on timeout or signal.
    func wait(into buffer: UnsafeMutableBufferPointer<vk_epoll_event>, timeoutMilliseconds: Int32) -> Int {
        let count = vk_epoll_wait(fd, buffer.baseAddress, Int32(buffer.count), timeoutMilliseconds)
        return count < 0 ? 0 : Int(count)  // EINTR: just go round again
    }

    /// Signals `wakeFD` from any thread, making the loop's next (or current) wait return.
    static func wake(_ wakeFD: Int32) {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(wakeFD, $0.baseAddress, 8) }
    }

    /// Resets the eventfd after a wake-up.
    func consumeWake() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(wakeFD, $0.baseAddress, 8) }
    }

    /// Closes the eventfd and the epoll descriptor.
    func close() {
        Glibc.close(wakeFD)
        Glibc.close(fd)
    }
}
