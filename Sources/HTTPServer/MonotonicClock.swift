import Glibc

/// The event loop's notion of time: CLOCK_MONOTONIC in nanoseconds, immune to wall-clock jumps.
enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot).
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
