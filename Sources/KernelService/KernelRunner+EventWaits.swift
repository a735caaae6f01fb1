import Dispatch
import HTTPServer
import KernelStore
import VatKernel

/// What a long poll or a stream follows: the event log, filtered, or one vat's deliveries.
/// Both are numbered by a seq that only grows.
enum Feed: Equatable {
    case events(EventFilter)
    case deliveries(VatID)
}

/// A `GET /events?wait=` or `GET /vats/{vatID}/deliveries?wait=` that found nothing yet:
/// answered by the kernel thread once a matching item is durable, or with an empty page at
/// its deadline.
struct EventWaiter {
    let feed: Feed
    let page: Page
    let deadline: ContinuousClock.Instant
    let respond: @Sendable (HTTPResponse) -> Void
}

/// Long polls and streams. A waiting request costs a list entry, never a thread: the kernel
/// thread looks at the waiters and streams after each group (after its flush, so nothing
/// shown is undurable), when a stream has room again, and when the earliest deadline or
/// heartbeat comes.
extension KernelThread {
    /// Takes `operation` if it is answered later: a wait with nothing to show yet, or a
    /// stream (`startStream`). True if taken.
    func park(_ operation: Operation, _ respond: @escaping @Sendable (HTTPResponse) -> Void) -> Bool {
        if startStream(operation, respond) { return true }
        let feed: Feed
        let page: Page
        let wait: Int
        switch operation {
        case .listEvents(let filter, let p, let w) where storage is SQLiteStore:
            (feed, page, wait) = (.events(filter), p, w)
        case .deliveries(let vat, let p, let w) where kernel?.state.vats[vat] != nil:
            (feed, page, wait) = (.deliveries(vat), p, w)
        default:
            return false
        }
        // Nothing to wait for, or something already there: answer in the group, as any read.
        guard wait > 0, !hasItems(feed, after: page.after ?? 0) else { return false }
        eventWaiters.append(EventWaiter(feed: feed, page: page, deadline: .now + .seconds(wait), respond: respond))
        return true
    }

    /// Answers every waiter that has items now, or whose deadline passed (or all, `ending`);
    /// then feeds the streams (ended too, `ending`).
    func serveEventWaiters(ending: Bool = false) {
        serveStreams(ending: ending)
        guard !eventWaiters.isEmpty else { return }
        let now = ContinuousClock.now
        var kept: [EventWaiter] = []
        for w in eventWaiters {
            if ending || w.deadline <= now || hasItems(w.feed, after: w.page.after ?? 0) {
                w.respond(answerPage(w))
            } else {
                kept.append(w)
            }
        }
        eventWaiters = kept
    }

    /// When the kernel thread must next look at the waiters and streams without being woken.
    var nextFeedDeadline: ContinuousClock.Instant? {
        let waits = eventWaiters.lazy.map(\.deadline).min()
        let beats = feedStreams.lazy.map(\.nextHeartbeat).min()
        switch (waits, beats) {
        case let (w?, b?): return min(w, b)
        case let (w, b): return w ?? b
        }
    }

    private func answerPage(_ w: EventWaiter) -> HTTPResponse {
        do {
            switch w.feed {
            case .events(let filter): return try eventsPage(filter, w.page)
            case .deliveries(let vat): return try deliveriesPage(vat, w.page)
            }
        } catch {
            return ServiceError(any: error, resource: nil).response
        }
    }

    /// Whether the feed has an item after `after`.
    func hasItems(_ feed: Feed, after: Int) -> Bool {
        if case .events = feed, ((storage as? SQLiteStore)?.lastEventSeq ?? 0) <= after { return false }
        return (try? feedItems(feed, after: after, limit: 1, maxBytes: .max))?.items.isEmpty == false
    }

    /// The feed's items after `after`, oldest first, at most `limit` and about `maxBytes` of
    /// JSON (the first always), each with its seq; and whether more follow.
    func feedItems(_ feed: Feed, after: Int, limit: Int, maxBytes: Int) throws -> (items: [(seq: Int, json: [UInt8])], more: Bool) {
        switch feed {
        case .events(let filter):
            guard let store = storage as? SQLiteStore else { return ([], false) }
            let (rows, next) = try store.eventRows(after: after, limit: limit, type: filter.type, vat: filter.vat,
                                                   kref: filter.kref, maxBytes: maxBytes)
            return (rows.map { ($0.seq, $0.event) }, next != nil)
        case .deliveries(let vat):
            let records = DeliveryReader(kernel: kernel, vat: vat, after: after, total: limit + 1)
            var items: [(seq: Int, json: [UInt8])] = []
            var bytes = 0
            var more = false
            for (i, r) in records.enumerated() {
                let json = Representation.delivery(r).bytes
                if i == limit || (!items.isEmpty && bytes + json.count > maxBytes) {
                    more = true
                    break
                }
                bytes += json.count
                items.append((r.seq, json))
            }
            if let e = records.failure.error { throw e }
            return (items, more)
        }
    }

    /// Nanoseconds from now until `deadline` (negative once it passed).
    func nanoseconds(until deadline: ContinuousClock.Instant) -> Int {
        let d = deadline - .now
        return Int(d.components.seconds) * 1_000_000_000 + Int(d.components.attoseconds / 1_000_000_000)
    }
}

/// A vat's delivery records after `after`, at most `total`, read from the kernel's storage in
/// chunks as they are consumed: a page or a stream that stops at its byte budget reads at most
/// one chunk past it, however long the log. A failed read ends the sequence and is kept in
/// `failure`, for the caller to answer.
struct DeliveryReader: Sequence {
    final class Failure {
        var error: (any Error)?
    }

    static let chunk = 64
    /// Reads up to `limit` records after a seq; nil reads nothing.
    let fetch: ((_ after: Int, _ limit: Int) throws -> [DeliveryRecord])?
    let after: Int
    let total: Int
    let failure = Failure()

    /// The records of `kernel`'s storage (none without a kernel).
    init(kernel: Kernel?, vat: VatID, after: Int, total: Int) {
        self.init(after: after, total: total, fetch: kernel.map { kernel in { try kernel.deliveries(vat, after: $0, limit: $1) } })
    }

    /// The records `fetch` reads (a reader thread's store connection).
    init(after: Int, total: Int, fetch: ((_ after: Int, _ limit: Int) throws -> [DeliveryRecord])?) {
        self.fetch = fetch
        self.after = after
        self.total = total
    }

    func makeIterator() -> AnyIterator<DeliveryRecord> {
        var buffer: [DeliveryRecord] = []
        var index = 0
        var cursor = after
        var left = total
        var exhausted = fetch == nil
        let (fetch, failure) = (fetch, failure)
        return AnyIterator {
            if index == buffer.count {
                guard !exhausted, left > 0, let fetch else { return nil }
                let want = Swift.min(left, Self.chunk)
                do {
                    buffer = try fetch(cursor, want)
                } catch {
                    failure.error = error
                    buffer = []
                }
                index = 0
                if buffer.count < want { exhausted = true }
                guard let last = buffer.last else { return nil }
                cursor = last.seq
                left -= buffer.count
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
