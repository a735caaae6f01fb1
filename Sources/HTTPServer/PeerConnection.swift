import Synchronization

/// The connection a request came in on, as a handler may see it from any thread: whether it is
/// still open. A handler with a queue of slow work can skip a request nobody will read the
/// answer to.
public final class PeerConnection: Sendable, Equatable {
    private let closed = Atomic<Bool>(false)

    /// A connection that is open until ``markClosed()``.
    public init() {}

    /// True once the server closed the connection (the client went away, or a limit or
    /// shutdown closed it): an answer to its requests would be thrown away.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Called by the event loop as it closes the connection; tests of handlers call it too.
    public func markClosed() { closed.store(true, ordering: .releasing) }

    /// The same connection.
    public static func == (a: PeerConnection, b: PeerConnection) -> Bool { a === b }
}
