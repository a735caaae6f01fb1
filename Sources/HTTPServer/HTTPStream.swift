import Synchronization

/// The body of a long-lived response (Server-Sent Events): bytes a producer on any thread
/// gives over time, sent as they come, until the producer ends it, the client goes away, or
/// the server shuts down.
///
/// A response whose ``HTTPResponse/stream`` is set is sent with `Transfer-Encoding: chunked`
/// (HTTP/1.1; each ``send(_:)`` one chunk, ``finish()`` the last, empty one) or delimited by
/// closing the connection (HTTP/1.0), with `Connection: close` either way: nothing else is
/// read from that connection. To HEAD only the head is sent.
///
/// Backpressure: at most ``maxUnsentBytes`` given but not yet written to the socket. A
/// ``send(_:)`` past it is refused (`.full`) and nothing is buffered; once the client has taken
/// what was written, `onSpace` is called (on the loop thread) so the producer can go on from
/// where it stopped. A client that takes nothing for the server's `writeTimeout` is closed.
/// `onEnd` is called once when the stream ends, whatever ends it.
public final class HTTPStream: Sendable {
    /// What ``send(_:)`` did.
    public enum SendResult: Equatable, Sendable {
        /// Queued for the client.
        case sent
        /// Not queued: it would pass ``maxUnsentBytes``; `onSpace` tells when to try again.
        case full
        /// Not queued: the stream has ended.
        case ended
    }

    public let maxUnsentBytes: Int
    private let onSpace: @Sendable () -> Void
    private let onEnd: @Sendable () -> Void

    private struct State {
        /// Given by the producer, not yet taken by the loop.
        var pending: [UInt8] = []
        /// Taken by the loop and not yet written out.
        var inFlight = 0
        var finishing = false
        var ended = false
        /// Set by the loop once the response's head is out: how to tell it there is more.
        var wake: (@Sendable () -> Void)?
        var wakePending = false
        /// A send was refused since the last `onSpace`.
        var refused = false
    }

    private let state = Mutex(State())

    /// A stream that holds at most `maxUnsentBytes` (at least 1) unwritten bytes.
    public init(maxUnsentBytes: Int = 256 * 1024, onSpace: @escaping @Sendable () -> Void = {},
                onEnd: @escaping @Sendable () -> Void = {}) {
        self.maxUnsentBytes = max(1, maxUnsentBytes)
        self.onSpace = onSpace
        self.onEnd = onEnd
    }

    /// Bytes ``send(_:)`` would take now (0 once the stream has ended or is ending).
    public var room: Int {
        state.withLock { s in
            s.ended || s.finishing ? 0 : max(0, maxUnsentBytes - s.pending.count - s.inFlight)
        }
    }

    /// Whether the stream has ended (or ``finish()`` was called): the producer can forget it.
    public var isEnded: Bool { state.withLock { $0.ended || $0.finishing } }

    /// Queues `bytes` as the next piece of the body, all or nothing. Empty bytes are not sent.
    /// A piece larger than ``maxUnsentBytes`` is taken only when nothing else is unsent.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> SendResult {
        let (result, wake) = state.withLock { s -> (SendResult, (@Sendable () -> Void)?) in
            if s.ended || s.finishing { return (.ended, nil) }
            let unsent = s.pending.count + s.inFlight
            // A piece bigger than the bound alone is taken when nothing else is unsent.
            if unsent > 0, unsent + bytes.count > maxUnsentBytes {
                s.refused = true
                return (.full, nil)
            }
            guard !bytes.isEmpty else { return (.sent, nil) }
            s.pending.append(contentsOf: bytes)
            return (.sent, Self.takeWake(&s))
        }
        wake?()
        return result
    }

    /// Ends the stream once what was sent is written (the last chunk, then the close).
    public func finish() {
        let wake = state.withLock { s -> (@Sendable () -> Void)? in
            guard !s.ended, !s.finishing else { return nil }
            s.finishing = true
            return Self.takeWake(&s)
        }
        wake?()
    }

    private static func takeWake(_ s: inout State) -> (@Sendable () -> Void)? {
        guard let wake = s.wake, !s.wakePending else { return nil }
        s.wakePending = true
        return wake
    }

    // MARK: The loop's side

    /// Called once the head is encoded: from now on `wake` tells the loop to ``take()``.
    func attach(wake: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            s.wake = wake
            return !s.pending.isEmpty || s.finishing
        }
        if now { wake() }
    }

    /// What the producer gave since the last call, and whether it finished.
    func take() -> (bytes: [UInt8], finished: Bool) {
        state.withLock { s in
            s.wakePending = false
            let bytes = s.pending
            s.pending = []
            s.inFlight += bytes.count
            return (bytes, s.finishing)
        }
    }

    /// Everything taken so far is written: room again, and `onSpace` if a send was refused.
    func drained() {
        let refused = state.withLock { s -> Bool in
            s.inFlight = 0
            defer { s.refused = false }
            return s.refused && !s.ended && !s.finishing
        }
        if refused { onSpace() }
    }

    /// The stream is over (finished and written, the connection closed, or the server ending
    /// it): later sends are refused and `onEnd` runs, once.
    func end() {
        let first = state.withLock { s -> Bool in
            defer { s.ended = true; s.pending = []; s.wake = nil }
            return !s.ended
        }
        if first { onEnd() }
    }
}
