import Glibc

/// Where the event loop reads the time, in nanoseconds from a fixed point. Every deadline
/// (idle, read, write, linger, shutdown) is measured on it: the system's monotonic clock in
/// production; a test passes a clock it moves by hand (`HTTPServer.checkTimers()` then lets
/// the loop look), so timeouts fire when the test says instead of after real sleeps.
protocol LoopClock: Sendable {
    func now() -> UInt64
}

/// CLOCK_MONOTONIC in nanoseconds, immune to wall-clock jumps.
struct MonotonicClock: LoopClock {
    /// Nanoseconds since an arbitrary fixed point (boot).
    func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
