import Foundation
import Synchronization

/// An HTTP/1.1 server on POSIX sockets: one epoll event-loop thread, strict parsing, hard limits
/// on everything a client controls, and graceful shutdown. It knows nothing about what it serves:
/// requests go to the ``HTTPHandler``, responses come back through its `respond` callback.
///
/// ```swift
/// let server = HTTPServer(configuration: .init(port: 0), handler: MyHandler())
/// let port = try server.start()
/// // ... later, e.g. on SIGTERM:
/// server.shutdown()
/// server.waitUntilStopped()
/// ```
public final class HTTPServer: Sendable {
    private enum Phase {
        case idle
        case running(ResponseInbox)
        case stopped
    }

    private let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let phase = Mutex(Phase.idle)
    private let loopFinished = DispatchGroup()

    /// A server that will serve `handler` with `configuration` once started.
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// Binds and listens, then starts the event-loop thread. Returns the bound port (the one
    /// picked by the system when the configured port is 0). A server starts at most once.
    public func start() throws -> Int {
        try phase.withLock { phase in
            guard case .idle = phase else { throw HTTPServerError.alreadyStarted }
            if let problem = configuration.validationFailure() {
                throw HTTPServerError.invalidConfiguration(problem)
            }
            let listener = try Socket.makeListener(
                host: configuration.host, port: configuration.port, backlog: configuration.backlog)
            let epoll: Epoll
            do {
                epoll = try Epoll(wakeToken: EventLoop.wakeToken)
            } catch {
                Socket.close(listener.fd)
                throw error
            }
            let inbox = ResponseInbox(wakeFD: epoll.wakeFD)
            phase = .running(inbox)
            loopFinished.enter()
            let thread = Thread { [configuration, handler, loopFinished] in
                let loop = EventLoop(
                    configuration: configuration, handler: handler, listenerFD: listener.fd, epoll: epoll, inbox: inbox)
                loop.run()
                loopFinished.leave()
            }
            thread.name = "HTTPServer event loop"
            thread.start()
            return listener.port
        }
    }

    /// Begins a graceful shutdown and returns at once: the server stops accepting (the port is
    /// released), closes idle connections, lets requests already received get their responses
    /// for up to `shutdownTimeout`, then closes everything. Use ``waitUntilStopped()`` to wait.
    /// Safe to call from any thread, more than once, and before ``start()`` (which then fails).
    public func shutdown() {
        phase.withLock { phase in
            switch phase {
            case .idle: phase = .stopped
            case .running(let inbox): inbox.requestShutdown()
            case .stopped: break
            }
        }
    }

    /// Returns once the event loop has read what clients sent so far and looked at its deadlines
    /// by its clock's current reading: a test that moved its clock (`HTTPServerConfiguration.clock`)
    /// then knows that every timeout due by then has fired and its answer is written. At once if
    /// not running.
    func checkTimers() {
        let inbox: ResponseInbox? = phase.withLock { phase in
            if case .running(let inbox) = phase { return inbox }
            return nil
        }
        guard let inbox else { return }
        // Two rounds: the round that accepts a new connection reads its bytes only in the next.
        for _ in 0..<2 {
            let done = DispatchSemaphore(value: 0)
            inbox.postTimerCheck { done.signal() }
            done.wait()
        }
    }

    /// Blocks until the event loop has stopped after ``shutdown()``; returns at once if the server
    /// never started.
    public func waitUntilStopped() {
        loopFinished.wait()
    }
}
