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

    static let readable = LinuxSyscalls.epollIn
    static let writable = LinuxSyscalls.epollOut
    /// Error and hang-up: reported whatever the interest.
    static let failed = LinuxSyscalls.epollErr | LinuxSyscalls.epollHup

    /// Creates the epoll instance and the wake-up eventfd, registering the latter with `wakeToken`.
    init(wakeToken: UInt64) throws {
        let fd = LinuxSyscalls.epollCreate1(LinuxSyscalls.epollCloexec)
        guard fd >= 0 else { throw HTTPServerError.systemCallFailed(call: "epoll_create1", reason: Socket.describe(errno)) }
        let wakeFD = LinuxSyscalls.eventFD(0, LinuxSyscalls.eventFDNonblock | LinuxSyscalls.eventFDCloexec)
        guard wakeFD >= 0 else {
            let code = errno
            Glibc.close(fd)
            throw HTTPServerError.systemCallFailed(call: "eventfd", reason: Socket.describe(code))
        }
        self.fd = fd
        self.wakeFD = wakeFD
        guard control(LinuxSyscalls.epollCtlAdd, wakeFD, events: Self.readable, token: wakeToken) else {
            let code = errno
            Glibc.close(wakeFD)
            Glibc.close(fd)
            throw HTTPServerError.systemCallFailed(call: "epoll_ctl", reason: Socket.describe(code))
        }
    }

    /// Starts watching `fd` for `events`, reporting them with `token`.
    @discardableResult
    func add(_ fd: Int32, events: UInt32, token: UInt64) -> Bool {
        control(LinuxSyscalls.epollCtlAdd, fd, events: events, token: token)
    }

    /// Changes what `fd` is watched for.
    @discardableResult
    func modify(_ fd: Int32, events: UInt32, token: UInt64) -> Bool {
        control(LinuxSyscalls.epollCtlMod, fd, events: events, token: token)
    }

    /// Stops watching `fd`.
    func remove(_ fd: Int32) {
        _ = LinuxSyscalls.epollCtl(self.fd, LinuxSyscalls.epollCtlDel, fd, nil)
    }

    private func control(_ operation: Int32, _ target: Int32, events: UInt32, token: UInt64) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { event in
            event.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            event.storeBytes(of: token, toByteOffset: LinuxSyscalls.epollEventDataOffset, as: UInt64.self)
            return LinuxSyscalls.epollCtl(fd, operation, target, event.baseAddress) == 0
        }
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for events, filling `buffer`, which holds
    /// ``eventBufferSize(capacity:)`` bytes. Returns how many arrived; 0 on timeout or signal.
    func wait(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) -> Int {
        let capacity = Int32(buffer.count / LinuxSyscalls.epollEventSize)
        let count = LinuxSyscalls.epollWait(fd, buffer.baseAddress, capacity, timeoutMilliseconds)
        return count < 0 ? 0 : Int(count)  // EINTR: just go round again
    }

    /// Bytes needed for a wait buffer of `capacity` events.
    static func eventBufferSize(capacity: Int) -> Int {
        capacity * LinuxSyscalls.epollEventSize
    }

    /// The flags and token of event `index` in a buffer filled by ``wait(into:timeoutMilliseconds:)``.
    static func event(at index: Int, in buffer: UnsafeMutableRawBufferPointer) -> (events: UInt32, token: UInt64) {
        let base = index * LinuxSyscalls.epollEventSize
        return (
            buffer.loadUnaligned(fromByteOffset: base, as: UInt32.self),
            buffer.loadUnaligned(fromByteOffset: base + LinuxSyscalls.epollEventDataOffset, as: UInt64.self)
        )
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
