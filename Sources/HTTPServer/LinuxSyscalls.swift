import Glibc

/// Linux calls that the Swift `Glibc` module does not import (its umbrella header leaves out
/// `<sys/epoll.h>` and `<sys/eventfd.h>`, and `accept4` needs `_GNU_SOURCE`). They are looked
/// up once in the C library with `dlsym` and called through C function pointers, which keeps
/// the package free of a C shim target.
enum LinuxSyscalls {
    typealias EpollCreate1 = @convention(c) (Int32) -> Int32
    typealias EpollCtl = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    static let epollCreate1: EpollCreate1 = resolve("epoll_create1")
    static let epollCtl: EpollCtl = resolve("epoll_ctl")
    static let epollWait: EpollWait = resolve("epoll_wait")
    static let eventFD: EventFD = resolve("eventfd")
    static let accept4: Accept4 = resolve("accept4")

    // Kernel ABI constants from <sys/epoll.h> and <sys/eventfd.h>; stable across Linux architectures.
    static let epollIn: UInt32 = 0x001
    static let epollOut: UInt32 = 0x004
    static let epollErr: UInt32 = 0x008
    static let epollHup: UInt32 = 0x010
    static let epollCtlAdd: Int32 = 1
    static let epollCtlDel: Int32 = 2
    static let epollCtlMod: Int32 = 3
    static let epollCloexec = Int32(O_CLOEXEC)
    static let eventFDNonblock = Int32(O_NONBLOCK)
    static let eventFDCloexec = Int32(O_CLOEXEC)

    /// `struct epoll_event` is packed on x86-64 (12 bytes, data at offset 4) and naturally
    /// aligned elsewhere (16 bytes, data at offset 8).
    #if arch(x86_64) || arch(i386)
    static let epollEventSize = 12
    static let epollEventDataOffset = 4
    #else
    static let epollEventSize = 16
    static let epollEventDataOffset = 8
    #endif

    private static func resolve<Function>(_ name: String) -> Function {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            fatalError("the C library has no \(name); HTTPServer needs Linux")
        }
        return unsafeBitCast(symbol, to: Function.self)
    }
}
