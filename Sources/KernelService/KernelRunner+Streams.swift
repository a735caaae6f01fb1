import HTTPServer
import KernelStore
import VatKernel

/// Server-Sent Events framing (the WHATWG HTML "server-sent events" stream format).
enum ServerSentEvents {
    /// `id: <id>` then one `data:` line per line of `data`, then the blank line that ends it.
    static func event(id: Int, data: [UInt8]) -> [UInt8] {
        var out = Array("id: \(id)\n".utf8)
        out.reserveCapacity(out.count + data.count + 16)
        var lineStart = 0
        var i = 0
        while i <= data.count {
            let atEnd = i == data.count
            if atEnd || data[i] == UInt8(ascii: "\n") || data[i] == UInt8(ascii: "\r") {
                out.append(contentsOf: "data: ".utf8)
                out.append(contentsOf: data[lineStart..<i])
                out.append(UInt8(ascii: "\n"))
                // CRLF is one line end.
                if !atEnd, data[i] == UInt8(ascii: "\r"), i + 1 < data.count, data[i + 1] == UInt8(ascii: "\n") { i += 1 }
                lineStart = i + 1
            }
            i += 1
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// A comment line (`: text`), which clients ignore: the heartbeat.
    static func comment(_ text: String) -> [UInt8] {
        Array(": \(text)\n\n".utf8)
    }
}

/// An open `GET /events/stream` or `GET /vats/{vatID}/deliveries/stream`: where it is in its
/// feed and when its next heartbeat is due.
struct FeedStream {
    let feed: Feed
    let stream: HTTPStream
    /// The seq of the last item sent (the client's `Last-Event-ID`).
    var cursor: Int
    var nextHeartbeat: ContinuousClock.Instant
}

extension KernelThread {
    /// Takes a stream request: answers its head at once (or 404 / 503) and lists it; what it
    /// shows is sent by `serveStreams` after the group's flush. True if `operation` is one.
    func startStream(_ operation: Operation, _ respond: @escaping @Sendable (HTTPResponse) -> Void) -> Bool {
        let feed: Feed
        let after: Int
        switch operation {
        case .streamEvents(let filter, let a): (feed, after) = (.events(filter), a)
        case .streamDeliveries(let vat, let a): (feed, after) = (.deliveries(vat), a)
        default: return false
        }
        if case .deliveries(let vat) = feed, kernel?.state.vats[vat] == nil {
            respond(ServiceError(KernelError.unknownVat(vat)).response)
            return true
        }
        feedStreams.removeAll { $0.stream.isEnded }
        guard feedStreams.count < configuration.maxStreams else {
            respond(ServiceError.overloaded("\(configuration.maxStreams) streams (maxStreams)").response)
            return true
        }
        let stream = HTTPStream(maxUnsentBytes: configuration.streamBufferBytes,
                                onSpace: { [weak runner] in runner?.nudge() }, onEnd: { [weak runner] in runner?.nudge() })
        respond(HTTPResponse(status: 200, headers: [
            ("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-store"),
        ], stream: stream))
        feedStreams.append(FeedStream(feed: feed, stream: stream, cursor: after,
                                      nextHeartbeat: .now + configuration.streamHeartbeat))
        metrics.openStreams(feedStreams.count)
        return true
    }

    /// Sends each stream what it has room for of its feed, and its heartbeat when due; drops
    /// the ended ones. `ending`: every stream is finished (the service stops).
    func serveStreams(ending: Bool = false) {
        guard !feedStreams.isEmpty else { return }
        let now = ContinuousClock.now
        for i in feedStreams.indices where !feedStreams[i].stream.isEnded {
            pump(&feedStreams[i], now: now)
            if ending { feedStreams[i].stream.finish() }
        }
        feedStreams.removeAll { $0.stream.isEnded }
        metrics.openStreams(feedStreams.count)
    }

    /// Items after the cursor until the feed is exhausted or the stream is full (its `onSpace`
    /// then wakes the kernel thread to go on); a heartbeat if nothing was sent for a while.
    private func pump(_ s: inout FeedStream, now: ContinuousClock.Instant) {
        while true {
            let room = s.stream.room
            guard let (items, more) = try? feedItems(s.feed, after: s.cursor, limit: 256, maxBytes: max(room, 1)),
                  let last = items.last else { break }
            var out: [UInt8] = []
            for item in items { out.append(contentsOf: ServerSentEvents.event(id: item.seq, data: item.json)) }
            guard s.stream.send(out) == .sent else { return }
            s.cursor = last.seq
            s.nextHeartbeat = now + configuration.streamHeartbeat
            if !more { break }
        }
        if s.nextHeartbeat <= now {
            s.stream.send(ServerSentEvents.comment("heartbeat"))
            s.nextHeartbeat = now + configuration.streamHeartbeat
        }
    }
}
