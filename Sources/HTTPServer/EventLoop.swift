import CLinux

/// The server's single event-loop thread: accepts connections, reads and parses requests, hands
/// them to the handler, collects responses from any thread, writes them, and enforces deadlines.
///
/// Everything here runs on the loop thread; the only ways in from other threads are the
/// ``ResponseInbox`` and its eventfd. Each iteration waits on epoll, handles the ready sockets,
/// takes the responses posted meanwhile, encodes and writes each touched connection once (so
/// pipelined responses that are ready together leave in one write), then expires deadlines.
///
/// Timers: each connection computes its own next deadline (idle, read, write or linger) whenever
/// its state changes, and the loop remembers the earliest. When that moment passes, the loop
/// scans the connections once (at most maxConnections) and recomputes it. Deadlines only move
/// later with activity, so scans stay rare: about one per timeout period.
final class EventLoop {
    static let listenerToken: UInt64 = .max
    static let wakeToken: UInt64 = .max - 1
    private static let readChunkSize = 64 * 1024
    private static let maxEventsPerWait = 256
    private static let maxAcceptsPerWake = 64
    /// How long a closing connection waits for the client's FIN after sending its own.
    private static let lingerTimeout: UInt64 = 2_000_000_000
    /// The same for a connection refused with 503, which should cost as little as possible.
    private static let rejectedLingerTimeout: UInt64 = 1_000_000_000
    /// Refused connections allowed to linger at once; beyond, they are closed right after the 503.
    private static let maxLingeringRejections = 64
    /// Pause after accept fails for lack of descriptors, so the loop does not spin on the listener.
    private static let acceptRetryDelay: UInt64 = 100_000_000

    private let handler: any HTTPHandler
    private let inbox: ResponseInbox
    private let epoll: Epoll
    private var listenerFD: Int32
    private let limits: HTTPRequestParser.Limits
    private let maxConnections: Int
    private let maxPipelinedRequests: Int
    private let maxUnsentBytes: Int
    private let idleTimeout: UInt64
    private let readTimeout: UInt64
    private let writeTimeout: UInt64
    private let shutdownTimeout: UInt64

    /// Connections by descriptor.
    private var connections: [Connection?] = []
    private var openConnections = 0
    private var rejectedConnections = 0
    private var lingeringConnections = 0
    private var nextConnectionID: UInt64 = 1
    /// One read buffer for every connection: only the parser's partial state is per connection.
    private let readBuffer: UnsafeMutableRawBufferPointer
    private let eventBuffer: UnsafeMutableBufferPointer<vk_epoll_event>
    private var completions: [ResponseInbox.Completion] = []
    private var streamWakes: [ResponseInbox.StreamWake] = []
    private var dirty: [Connection] = []
    private let clock: any LoopClock
    private var now: UInt64
    /// Callers waiting for the loop to have looked at its deadlines (`HTTPServer.checkTimers`).
    private var timerChecks: [@Sendable () -> Void] = []
    private var nextTimerCheck: UInt64 = .max
    private var acceptResumesAt: UInt64?
    private var draining = false
    private var drainDeadline: UInt64 = .max
    /// Nil when the configuration sends no `Date`.
    private let date: HTTPDate?
    /// The handler's answers to two errors, asked once: the 503 written to a connection
    /// refused outright, and what replaces a response with an invalid status.
    private let serviceUnavailableBytes: [UInt8]
    private let invalidStatusResponse: HTTPResponse

    init(configuration: HTTPServerConfiguration, handler: any HTTPHandler, listenerFD: Int32, epoll: Epoll, inbox: ResponseInbox) {
        self.handler = handler
        self.inbox = inbox
        self.epoll = epoll
        self.listenerFD = listenerFD
        self.limits = HTTPRequestParser.Limits(
            maxHeaderBytes: configuration.maxHeaderBytes, maxBodyBytes: configuration.maxBodyBytes)
        self.maxConnections = configuration.maxConnections
        self.maxPipelinedRequests = configuration.maxPipelinedRequests
        self.maxUnsentBytes = configuration.maxUnsentBytes
        self.idleTimeout = configuration.idleTimeout.nanoseconds
        self.readTimeout = configuration.readTimeout.nanoseconds
        self.writeTimeout = configuration.writeTimeout.nanoseconds
        self.shutdownTimeout = configuration.shutdownTimeout.nanoseconds
        self.date = configuration.sendsDate ? HTTPDate() : nil
        var refusal: [UInt8] = []
        handler.response(for: .serviceUnavailable).encode(into: &refusal, headRequest: false, connection: .close)
        self.serviceUnavailableBytes = refusal
        self.invalidStatusResponse = handler.response(for: .invalidHandlerStatus)
        self.readBuffer = .allocate(byteCount: Self.readChunkSize, alignment: 16)
        self.eventBuffer = .allocate(capacity: Self.maxEventsPerWait)
        self.clock = configuration.clock
        self.now = configuration.clock.now()
    }

    deinit {
        readBuffer.deallocate()
        eventBuffer.deallocate()
    }

    /// Serves until a requested shutdown has drained, then closes every descriptor it owns.
    func run() {
        epoll.add(listenerFD, events: Epoll.readable, token: Self.listenerToken)
        while true {
            // Connections dirtied while expiring deadlines still need their flush: don't sleep.
            let hasWork = !dirty.isEmpty || inbox.prepareToSleep()
            let count = epoll.wait(into: eventBuffer, timeoutMilliseconds: hasWork ? 0 : waitTimeout())
            if !hasWork { inbox.markAwake() }
            now = clock.now()
            for index in 0..<count {
                let (events, token) = (eventBuffer[index].events, eventBuffer[index].token)
                switch token {
                case Self.listenerToken: acceptConnections()
                case Self.wakeToken: epoll.consumeWake()
                default: handle(events: events, token: token)
                }
            }
            if inbox.take(into: &completions, streams: &streamWakes, timerChecks: &timerChecks) && !draining {
                beginDraining()
            }
            deliverCompletions()
            deliverStreamOutput()
            flushDirtyConnections()
            if now >= nextTimerCheck {
                expireDeadlines()
            }
            if !timerChecks.isEmpty {
                flushDirtyConnections()
                for done in timerChecks { done() }
                timerChecks.removeAll()
            }
            // Draining ends when every response is out: connections that only wait for the
            // client's FIN after their last response need not hold the process.
            if draining && (openConnections == lingeringConnections || now >= drainDeadline) {
                break
            }
        }
        for case let connection? in connections {
            close(connection)
        }
        if listenerFD >= 0 { Socket.close(listenerFD) }
        for done in timerChecks { done() }
        inbox.close()
        epoll.close()
    }

    private func waitTimeout() -> Int32 {
        guard nextTimerCheck != .max else { return -1 }
        guard nextTimerCheck > now else { return 0 }
        let milliseconds = (nextTimerCheck - now + 999_999) / 1_000_000
        return Int32(min(milliseconds, 3_600_000))
    }

    // MARK: - Accepting

    private func acceptConnections() {
        guard listenerFD >= 0 else { return }
        for _ in 0..<Self.maxAcceptsPerWake {
            switch Socket.accept(listenerFD) {
            case .accepted(let fd):
                register(fd)
            case .wouldBlock:
                return
            case .skipped:
                continue
            case .outOfDescriptors:
                epoll.modify(listenerFD, events: 0, token: Self.listenerToken)
                acceptResumesAt = now + Self.acceptRetryDelay
                nextTimerCheck = min(nextTimerCheck, now + Self.acceptRetryDelay)
                return
            }
        }
    }

    /// Takes a new connection. At maxConnections the connection idle longest (keep-alive with
    /// nothing in progress, or never a byte sent) is closed to make room; when none is idle,
    /// the new one is answered 503 and closed.
    private func register(_ fd: Int32) {
        if openConnections - rejectedConnections >= maxConnections { closeOldestIdleConnection() }
        let overLimit = openConnections - rejectedConnections >= maxConnections
        if overLimit && rejectedConnections >= Self.maxLingeringRejections {
            serviceUnavailableBytes.withUnsafeBytes { _ = Socket.write(fd, $0) }
            Socket.close(fd)
            return
        }
        let id = nextConnectionID
        nextConnectionID += 1
        let token = (id & 0xFFFF_FFFF) << 32 | UInt64(UInt32(bitPattern: fd))
        let interest = overLimit ? 0 : Epoll.readable
        let connection = Connection(
            fd: fd, id: id, token: token, limits: limits, now: now, interest: interest, isRejected: overLimit)
        let slot = Int(fd)
        if slot >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: slot + 1 - connections.count))
        }
        connections[slot] = connection
        openConnections += 1
        epoll.add(fd, events: interest, token: token)
        if overLimit {
            rejectedConnections += 1
            connection.queueFailure(handler.response(for: .serviceUnavailable))
            flush(connection)
        } else {
            refresh(connection)
        }
    }

    /// Closes the admitted connection with the oldest activity among those idle, if any. One
    /// scan of the table, only when the limit is reached.
    private func closeOldestIdleConnection() {
        var oldest: Connection?
        for case let connection? in connections
        where connection.isIdle && !connection.isRejected && !connection.lingering && !connection.isClosed {
            if oldest.map({ connection.lastActivity < $0.lastActivity }) ?? true { oldest = connection }
        }
        if let oldest { close(oldest) }
    }

    // MARK: - Reading

    private func handle(events: UInt32, token: UInt64) {
        let slot = Int(UInt32(truncatingIfNeeded: token))
        guard slot < connections.count, let connection = connections[slot], connection.token == token else {
            return  // closed earlier in this batch
        }
        if events & Epoll.failed != 0 && connection.interest & Epoll.readable == 0 {
            close(connection)
            return
        }
        if events & (Epoll.readable | Epoll.failed) != 0 {
            read(from: connection)
        }
        if !connection.isClosed && events & Epoll.writable != 0 {
            flush(connection)
        }
    }

    private func read(from connection: Connection) {
        let result = Socket.read(connection.fd, into: readBuffer)
        if connection.lingering {
            switch result {
            case .transferred, .wouldBlock: return  // discarded
            case .endOfFile, .failed: close(connection)
            }
            return
        }
        switch result {
        case .transferred(let count):
            connection.lastActivity = now
            ingest(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), into: connection)
        case .wouldBlock:
            return
        case .endOfFile:
            connection.peerClosed = true
            if connection.parser.isMidRequest || (connection.slots.isEmpty && !connection.hasPendingOutput) {
                close(connection)  // nothing owed, or a request that can never complete
                return
            }
        case .failed:
            close(connection)
            return
        }
        refresh(connection)
    }

    /// Whether the connection may parse another request now. Not while it has
    /// maxPipelinedRequests unanswered, nor while the client is not taking our responses (its
    /// socket is full, or maxUnsentBytes of answers wait for it).
    private func canParse(_ connection: Connection) -> Bool {
        connection.acceptingRequests && !connection.closeAfterOutput
            && connection.unanswered < maxPipelinedRequests && !connection.writeBlocked
            && connection.unsentBytes < maxUnsentBytes
    }

    /// Parses requests out of `input` and hands each to the handler. What cannot be parsed yet is
    /// kept in the connection's stash (at most one read's worth, since reading stops meanwhile).
    private func ingest(_ bytes: UnsafeRawBufferPointer, into connection: Connection) {
        var input = bytes
        while !input.isEmpty {
            guard connection.acceptingRequests else { break }  // bytes after a final request are dropped
            guard canParse(connection) else {
                connection.stash.append(contentsOf: input)
                break
            }
            let (consumed, event) = connection.parser.parse(input)
            input = UnsafeRawBufferPointer(rebasing: input[consumed...])
            guard let event else { break }
            switch event {
            case .expectContinue:
                connection.continuePending = true
                markDirty(connection)
            case .request(let request, let keepAlive):
                dispatch(request, keepAlive: keepAlive, on: connection)
            case .failure(let error):
                connection.queueFailure(handler.response(for: error))
                markDirty(connection)
                input = UnsafeRawBufferPointer(rebasing: input[input.count...])
            }
        }
        if connection.parser.isMidRequest {
            if connection.requestStartedAt == nil { connection.requestStartedAt = now }
        } else {
            connection.requestStartedAt = nil
        }
    }

    private func dispatch(_ request: HTTPRequest, keepAlive: Bool, on connection: Connection) {
        let sequence = connection.beginRequest(
            headRequest: request.method == "HEAD", keepAlive: keepAlive, version: request.version)
        connection.requestStartedAt = nil
        if draining { connection.acceptingRequests = false }
        let inbox = self.inbox
        let fd = connection.fd
        let id = connection.id
        var request = request
        request.peer = connection.peer
        request.earlierUnanswered = connection.unanswered - 1
        handler.handle(request) { response in
            inbox.post(ResponseInbox.Completion(fd: fd, connectionID: id, sequence: sequence, response: response))
        }
    }

    // MARK: - Responding

    private func deliverCompletions() {
        for completion in completions {
            let slot = Int(completion.fd)
            guard slot >= 0, slot < connections.count, let connection = connections[slot],
                connection.id == completion.connectionID
            else {
                completion.response.stream?.end()  // the connection closed meanwhile
                continue
            }
            if connection.complete(sequence: completion.sequence, response: completion.response) {
                markDirty(connection)
            }
        }
        completions.removeAll(keepingCapacity: true)
    }

    /// Moves what producers gave their streams into the connections' output.
    private func deliverStreamOutput() {
        for wake in streamWakes {
            let slot = Int(wake.fd)
            guard slot >= 0, slot < connections.count, let connection = connections[slot],
                connection.id == wake.connectionID, connection.stream != nil
            else { continue }
            connection.takeStreamOutput()
            markDirty(connection)
        }
        streamWakes.removeAll(keepingCapacity: true)
    }

    /// A streaming response's head is out: its producer's sends now wake the loop. While
    /// draining, the stream ends at once.
    private func attachStream(_ connection: Connection) {
        guard let stream = connection.stream, !connection.streamAttached else { return }
        connection.streamAttached = true
        if draining {
            connection.endStream()
            return
        }
        let inbox = self.inbox
        let wake = ResponseInbox.StreamWake(fd: connection.fd, connectionID: connection.id)
        stream.attach { inbox.post(wake) }
    }

    private func markDirty(_ connection: Connection) {
        guard !connection.isDirty else { return }
        connection.isDirty = true
        dirty.append(connection)
    }

    private func flushDirtyConnections() {
        var index = 0
        while index < dirty.count {  // flushing may resume parsing and dirty more connections
            let connection = dirty[index]
            index += 1
            connection.isDirty = false
            if !connection.isClosed { flush(connection) }
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Encodes what is ready and writes as much as the socket takes.
    private func flush(_ connection: Connection) {
        connection.encodeReadyResponses(date: date?.current(), invalidStatus: invalidStatusResponse)
        attachStream(connection)
        while connection.hasPendingOutput {
            let result = connection.output.withUnsafeBytes { bytes in
                Socket.write(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.outputOffset...]))
            }
            switch result {
            case .transferred(let count):
                connection.outputOffset += count
            case .wouldBlock:
                if !connection.writeBlocked {
                    connection.writeBlocked = true
                    connection.writeBlockedSince = now
                }
                refresh(connection)
                return
            case .endOfFile, .failed:
                close(connection)  // EPIPE, ECONNRESET: the client is gone
                return
            }
        }
        if !connection.output.isEmpty {
            connection.outputDrained()
            connection.writeBlocked = false
            connection.lastActivity = now
            connection.stream?.drained()
        }
        refresh(connection)
    }

    // MARK: - Connection state

    /// Brings a connection in line with its state after any change: closes or lingers it when it
    /// is done, resumes parsing stashed bytes, sets its epoll interest and its deadline.
    private func refresh(_ connection: Connection) {
        guard !connection.isClosed else { return }
        if !connection.lingering && !connection.hasPendingOutput {
            if connection.closeAfterOutput {
                beginLingering(connection)
            } else if connection.slots.isEmpty && !connection.parser.isMidRequest
                && (connection.peerClosed || (draining && !connection.acceptingRequests && connection.stream == nil))
            {
                close(connection)
                return
            } else if !connection.stash.isEmpty && canParse(connection) {
                let stash = connection.stash
                connection.stash = []
                stash.withUnsafeBytes { ingest($0, into: connection) }
                if connection.isDirty || connection.closeAfterOutput { return }  // flushed later this iteration
            }
        }
        // A stream reads too, and drops what it reads: so the client's close is seen at once.
        let wantsRead =
            connection.lingering
            || (!connection.peerClosed && connection.stash.isEmpty && (canParse(connection) || connection.stream != nil))
        let interest = (wantsRead ? Epoll.readable : 0) | (connection.writeBlocked ? Epoll.writable : 0)
        if interest != connection.interest {
            epoll.modify(connection.fd, events: interest, token: connection.token)
            connection.interest = interest
        }
        connection.deadline = deadline(of: connection)
        nextTimerCheck = min(nextTimerCheck, connection.deadline)
    }

    private func deadline(of connection: Connection) -> UInt64 {
        if connection.lingering { return connection.lingerDeadline }
        if connection.writeBlocked { return connection.writeBlockedSince &+ writeTimeout }
        if connection.stream != nil { return .max }  // its producer keeps it going (heartbeats)
        if connection.parser.isMidRequest { return (connection.requestStartedAt ?? now) &+ readTimeout }
        if connection.slots.isEmpty && !connection.hasPendingOutput { return connection.lastActivity &+ idleTimeout }
        return .max  // waiting for the handler
    }

    /// Sends FIN after the last response, then reads and discards until the client's FIN.
    private func beginLingering(_ connection: Connection) {
        if connection.peerClosed {
            close(connection)
            return
        }
        Socket.shutdownWrite(connection.fd)
        connection.lingering = true
        lingeringConnections += 1
        connection.stash = []
        connection.lingerDeadline = now + (connection.isRejected ? Self.rejectedLingerTimeout : Self.lingerTimeout)
    }

    private func close(_ connection: Connection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        connection.peer.markClosed()
        connection.stream?.end()
        for slot in connection.slots { slot.response?.stream?.end() }
        Socket.close(connection.fd)  // also removes it from the epoll set
        connections[Int(connection.fd)] = nil
        openConnections -= 1
        if connection.isRejected { rejectedConnections -= 1 }
        if connection.lingering { lingeringConnections -= 1 }
    }

    // MARK: - Timers and shutdown

    private func expireDeadlines() {
        nextTimerCheck = draining ? drainDeadline : .max
        if let resume = acceptResumesAt {
            if now >= resume {
                acceptResumesAt = nil
                if listenerFD >= 0 { epoll.modify(listenerFD, events: Epoll.readable, token: Self.listenerToken) }
            } else {
                nextTimerCheck = min(nextTimerCheck, resume)
            }
        }
        for index in connections.indices {
            guard let connection = connections[index] else { continue }
            connection.deadline = deadline(of: connection)
            if connection.deadline <= now {
                expire(connection)
            }
            if !connection.isClosed {
                nextTimerCheck = min(nextTimerCheck, connection.deadline)
            }
        }
    }

    private func expire(_ connection: Connection) {
        if connection.lingering || connection.writeBlocked {
            close(connection)
        } else if connection.parser.isMidRequest {
            // Too slow to send its request (slowloris): answer 408 after whatever is in flight.
            connection.parser.reset()
            connection.requestStartedAt = nil
            connection.queueFailure(handler.response(for: .requestTimeout))
            flush(connection)
        } else {
            close(connection)  // idle keep-alive connection
        }
    }

    /// Stops accepting and lets in-flight requests finish within shutdownTimeout: idle connections
    /// close now, others after their last response (which says `Connection: close`).
    private func beginDraining() {
        draining = true
        drainDeadline = now &+ shutdownTimeout
        nextTimerCheck = min(nextTimerCheck, drainDeadline)
        if listenerFD >= 0 {
            Socket.close(listenerFD)
            listenerFD = -1
        }
        for index in connections.indices {
            guard let connection = connections[index], !connection.lingering else { continue }
            if connection.stream != nil {
                connection.endStream()  // its last chunk, then the close
                markDirty(connection)
                continue
            }
            if !connection.parser.isMidRequest {
                connection.acceptingRequests = false
                connection.stash = []
            }
            if connection.isIdle {
                close(connection)
            } else {
                markDirty(connection)
            }
        }
    }
}
