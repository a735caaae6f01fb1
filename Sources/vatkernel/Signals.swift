import Glibc

/// Termination signals, taken synchronously with `sigwait` instead of handlers: blocked in the
/// calling thread before any other thread starts, so every thread inherits the block and the
/// signals wait, pending, for `wait()`.
struct Signals {
    private var set = sigset_t()

    /// Blocks `signals` in this thread (and the threads it starts from now on).
    static func block(_ signals: [Int32]) -> Signals {
        var s = Signals()
        sigemptyset(&s.set)
        for signal in signals { sigaddset(&s.set, signal) }
        pthread_sigmask(SIG_BLOCK, &s.set, nil)
        return s
    }

    /// Waits for one of the blocked signals and returns it.
    func wait() -> Int32 {
        var set = self.set
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }
}
