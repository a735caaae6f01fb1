/// One client connection, owned by the event-loop thread: its parser, the queue of requests
/// waiting for their responses, the bytes waiting to be sent, and its deadlines.
///
/// Requests get consecutive sequence numbers as they are handed to the handler; each has a slot
/// in ``slots`` until its response is encoded into ``output``. Responses are encoded strictly in
/// slot order, which is what keeps pipelined responses in request order whatever order the
/// handler answers them in.
final class Connection {
    /// A request handed to the handler (or answered by the server) whose response has not been
    /// encoded yet.
    struct Slot {
        var response: HTTPResponse?
        /// Whether the request was HEAD, whose response carries no body.
        let headRequest: Bool
        /// Whether the client wants the connection kept open after this response.
        let keepAlive: Bool
        let version: HTTPVersion
    }

    let fd: Int32
    let id: UInt64
    /// What epoll reports this connection's events with.
    let token: UInt64
    var parser: HTTPRequestParser

    private(set) var slots: [Slot] = []
    /// Sequence number of `slots.first`.
    private(set) var firstSlotSequence: UInt64 = 0
    /// Sequence number the next request will get.
    var nextSequence: UInt64 { firstSlotSequence + UInt64(slots.count) }
    /// The request being received announced `Expect: 100-continue` and the interim response has
    /// not been sent yet.
    var continuePending = false

    /// Encoded responses; `output[outputOffset...]` is still to be written.
    var output: [UInt8] = []
    var outputOffset = 0
    /// Bytes received but not parsed because the connection had too many unanswered requests.
    var stash: [UInt8] = []

    /// False once no further request will be parsed: after a request that asked to close, an
    /// error, or when the server drains.
    var acceptingRequests = true
    /// The last response is encoded; close once it is written.
    var closeAfterOutput = false
    /// The client sent FIN.
    var peerClosed = false
    /// Our FIN is sent; reading and discarding until the client's FIN or the deadline, so that
    /// unread client bytes cannot turn our close into a reset that destroys the last response.
    var lingering = false
    /// The socket's send buffer is full; epoll watches for writability.
    var writeBlocked = false
    var isClosed = false
    /// Listed for a flush at the end of this loop iteration.
    var isDirty = false
    /// Accepted over the connection limit, answered 503 and closing.
    let isRejected: Bool

    /// The epoll interest currently registered.
    var interest: UInt32
    /// When the first byte of the request being received arrived.
    var requestStartedAt: UInt64?
    /// When the connection last made progress (accepted, read, or finished writing).
    var lastActivity: UInt64
    var writeBlockedSince: UInt64 = 0
    var lingerDeadline: UInt64 = 0
    /// The earliest time the loop must look at this connection again.
    var deadline: UInt64 = .max

    /// The streaming response being sent (its head is out); nil for ordinary responses. Nothing
    /// more is parsed; the connection closes when it ends.
    var stream: HTTPStream?
    /// Whether its chunks are framed (HTTP/1.1) or the body ends with the close (HTTP/1.0).
    var streamChunked = false
    /// The loop has connected the stream's wake-up to itself.
    var streamAttached = false

    /// What handlers see of this connection: whether it is still open.
    let peer = PeerConnection()

    init(fd: Int32, id: UInt64, token: UInt64, limits: HTTPRequestParser.Limits, now: UInt64, interest: UInt32, isRejected: Bool = false) {
        self.fd = fd
        self.id = id
        self.token = token
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivity = now
        self.interest = interest
        self.isRejected = isRejected
    }

    /// Requests handed out whose responses are not encoded yet.
    var unanswered: Int { slots.count }

    /// Whether there are bytes still to write.
    var hasPendingOutput: Bool { outputOffset < output.count }
    /// Bytes answered but not yet taken by the client: encoded output not written, and the
    /// bodies of responses waiting for an earlier one.
    var unsentBytes: Int { output.count - outputOffset + slots.reduce(0) { $0 + ($1.response?.body.count ?? 0) } }

    /// Nothing in flight: no request partly received, none unanswered, nothing to send.
    var isIdle: Bool { slots.isEmpty && !parser.isMidRequest && !hasPendingOutput && stash.isEmpty }

    /// Opens a slot for a request about to be handed to the handler; returns its sequence number.
    func beginRequest(headRequest: Bool, keepAlive: Bool, version: HTTPVersion) -> UInt64 {
        let sequence = nextSequence
        slots.append(Slot(response: nil, headRequest: headRequest, keepAlive: keepAlive, version: version))
        continuePending = false
        if !keepAlive { acceptingRequests = false }
        return sequence
    }

    /// Queues the server's own error answer after the requests already in flight; nothing more is
    /// parsed and the connection closes after it.
    /// `response` is the handler's answer to the error.
    func queueFailure(_ response: HTTPResponse) {
        slots.append(Slot(response: response, headRequest: false, keepAlive: false, version: .http1_1))
        continuePending = false
        acceptingRequests = false
        stash = []
    }

    /// Records the handler's response for request `sequence`. Returns true if it made the oldest
    /// slot ready to encode. A second response, or one for a request already gone, is ignored.
    func complete(sequence: UInt64, response: HTTPResponse) -> Bool {
        let index = sequence >= firstSlotSequence ? Int(sequence - firstSlotSequence) : slots.count
        guard index < slots.count, slots[index].response == nil else {
            response.stream?.end()  // never to be sent: its producer must know
            return false
        }
        slots[index].response = response
        return index == 0
    }

    /// Encodes every response that is next in order into ``output`` (each with `date`, if any, as
    /// its `Date` header), then the `100 Continue` of the request being received if nothing is ahead of it.
    /// `invalidStatus` is sent instead of a handler's response whose status is not a valid one.
    func encodeReadyResponses(date: [UInt8]?, invalidStatus: HTTPResponse) {
        var encoded = 0
        while encoded < slots.count, let response = slots[encoded].response {
            let slot = slots[encoded]
            let isLast = encoded == slots.count - 1
            let closes =
                !slot.keepAlive || response.asksToClose
                || (isLast && !parser.isMidRequest && (!acceptingRequests || peerClosed))
            let directive: HTTPResponse.ConnectionDirective =
                closes ? .close : (slot.version == .http1_0 ? .keepAlive : .none)
            if output.isEmpty { output.reserveCapacity(256 + response.body.count) }
            if let stream = response.stream, (200...999).contains(response.status) {
                startStream(stream, response, slot, date: date)
                for later in slots[(encoded + 1)...] { later.response?.stream?.end() }
                encoded = slots.count  // nothing behind a stream is ever answered
                break
            } else if (200...999).contains(response.status) {
                response.encode(into: &output, headRequest: slot.headRequest, connection: directive, date: date)
            } else {
                invalidStatus.encode(into: &output, headRequest: slot.headRequest, connection: directive, date: date)
            }
            encoded += 1
            if closes {
                closeAfterOutput = true
                acceptingRequests = false
                stash = []
                for later in slots[(encoded)...] { later.response?.stream?.end() }
                encoded = slots.count  // whatever was behind it will never be sent
                break
            }
        }
        if encoded > 0 {
            slots.removeFirst(encoded)
            firstSlotSequence += UInt64(encoded)
        }
        if continuePending && slots.isEmpty && !closeAfterOutput {
            output.append(contentsOf: HTTPResponse.continueBytes)
            continuePending = false
        }
    }

    /// Encodes a streaming response's head: the connection then carries only that stream (a
    /// HEAD gets the head alone) and closes after it.
    private func startStream(_ stream: HTTPStream, _ response: HTTPResponse, _ slot: Slot, date: [UInt8]?) {
        streamChunked = slot.version != .http1_0
        response.encode(into: &output, headRequest: slot.headRequest, connection: .close, date: date, chunked: streamChunked)
        acceptingRequests = false
        continuePending = false
        stash = []
        if slot.headRequest {
            closeAfterOutput = true
            stream.end()
        } else {
            self.stream = stream
        }
    }

    /// Moves what the stream was given into ``output`` (one chunk); after its end, the last
    /// chunk, and the connection closes once that is written.
    func takeStreamOutput() {
        guard let stream else { return }
        let (bytes, finished) = stream.take()
        appendStreamBytes(bytes)
        if finished { endStream() }
    }

    /// `bytes` of the stream's body as the framing wants them: one chunk, or as they are.
    private func appendStreamBytes(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if streamChunked { HTTPResponse.appendChunk(bytes, to: &output) } else { output.append(contentsOf: bytes) }
    }

    /// Ends the stream for good: what it was given is queued, then the last chunk, and the
    /// connection closes after it.
    func endStream() {
        guard let stream else { return }
        let (bytes, _) = stream.take()
        appendStreamBytes(bytes)
        if streamChunked { HTTPResponse.appendChunk([], to: &output) }
        self.stream = nil
        closeAfterOutput = true
        stream.end()
    }

    /// Called once ``output`` is fully written: forgets it, releasing a large buffer so an idle
    /// connection holds little memory.
    func outputDrained() {
        if output.capacity > 64 * 1024 {
            output = []
        } else {
            output.removeAll(keepingCapacity: true)
        }
        outputOffset = 0
    }
}
