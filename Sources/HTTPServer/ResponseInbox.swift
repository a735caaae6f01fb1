import Synchronization

/// Where responses (and the shutdown request) cross from any thread to the event loop.
///
/// A poster appends under a mutex and signals the loop's eventfd only when the loop is asleep in
/// epoll_wait and not yet signalled; a loop that is busy finds the work when it next looks. So a
/// burst of responses from a worker costs one wake-up, and responses given on the loop thread
/// itself cost none.
final class ResponseInbox: Sendable {
    /// A response for request `sequence` of connection `connectionID` (which lives on `fd`).
    struct Completion: Sendable {
        let fd: Int32
        let connectionID: UInt64
        let sequence: UInt64
        let response: HTTPResponse
    }

    /// A streaming response on connection `connectionID` (on `fd`) was given more bytes.
    struct StreamWake: Sendable {
        let fd: Int32
        let connectionID: UInt64
    }

    private struct State {
        var completions: [Completion] = []
        var streamWakes: [StreamWake] = []
        var timerChecks: [@Sendable () -> Void] = []
        var shutdownRequested = false
        var sleeping = false
        var signalled = false
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeFD: Int32

    /// An inbox that wakes the loop through `wakeFD`.
    init(wakeFD: Int32) {
        self.wakeFD = wakeFD
    }

    /// Hands a response to the loop. Ignored once the loop has stopped.
    func post(_ completion: Completion) {
        state.withLock { state in
            guard !state.closed else { return }
            state.completions.append(completion)
            wakeIfSleeping(&state)
        }
    }

    /// Tells the loop a stream has bytes to send. Ignored once the loop has stopped.
    func post(_ wake: StreamWake) {
        state.withLock { state in
            guard !state.closed else { return }
            state.streamWakes.append(wake)
            wakeIfSleeping(&state)
        }
    }

    /// Asks the loop to look at its deadlines by its clock's current reading, then call `done`
    /// (at once if the loop has stopped).
    func postTimerCheck(_ done: @escaping @Sendable () -> Void) {
        let queued = state.withLock { state in
            guard !state.closed else { return false }
            state.timerChecks.append(done)
            wakeIfSleeping(&state)
            return true
        }
        if !queued { done() }
    }

    /// Asks the loop to shut down gracefully.
    func requestShutdown() {
        state.withLock { state in
            guard !state.closed else { return }
            state.shutdownRequested = true
            wakeIfSleeping(&state)
        }
    }

    /// Under the lock, so that the eventfd cannot be closed while it is being written.
    private func wakeIfSleeping(_ state: inout State) {
        if state.sleeping && !state.signalled {
            state.signalled = true
            Epoll.wake(wakeFD)
        }
    }

    /// Called by the loop before it waits: true if there is work already, in which case it must
    /// not sleep; otherwise it is marked asleep and the next post will wake it.
    func prepareToSleep() -> Bool {
        state.withLock { state in
            if !state.completions.isEmpty || !state.streamWakes.isEmpty || !state.timerChecks.isEmpty || state.shutdownRequested {
                return true
            }
            state.sleeping = true
            return false
        }
    }

    /// Called by the loop as soon as its wait returns, so that responses posted while it works
    /// (above all those given synchronously on the loop thread) do not signal the eventfd.
    func markAwake() {
        state.withLock { $0.sleeping = false }
    }

    /// Called by the loop after it has handled the ready sockets: swaps the queued completions into `completions` (which
    /// must be empty, and whose storage the inbox keeps for the next round) and reports whether
    /// shutdown was asked for since the last call.
    func take(into completions: inout [Completion], streams: inout [StreamWake],
              timerChecks: inout [@Sendable () -> Void]) -> Bool {
        state.withLock { state in
            swap(&state.completions, &completions)
            swap(&state.streamWakes, &streams)
            timerChecks.append(contentsOf: state.timerChecks)
            state.timerChecks.removeAll()
            state.sleeping = false
            state.signalled = false
            let shutdownRequested = state.shutdownRequested
            state.shutdownRequested = false
            return shutdownRequested
        }
    }

    /// Called by the loop as it ends: later posts are dropped, and the eventfd may be closed.
    func close() {
        let waiting = state.withLock { state in
            state.closed = true
            state.completions.removeAll()
            state.streamWakes.removeAll()
            defer { state.timerChecks.removeAll() }
            return state.timerChecks
        }
        for done in waiting { done() }
    }
}
