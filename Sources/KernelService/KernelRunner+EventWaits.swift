import Dispatch
import HTTPServer
import KernelStore
import VatKernel

/// A `GET /events?wait=` that found nothing yet: answered by the kernel thread once a matching
/// event is durable, or with an empty page at its deadline.
struct EventWaiter {
    let filter: EventFilter
    let page: Page
    let deadline: ContinuousClock.Instant
    let respond: @Sendable (HTTPResponse) -> Void
}

/// Long polls of the event log. A waiting request costs a list entry, never a thread: the
/// kernel thread looks at the waiters after each group (after its flush, so an answer never
/// shows an event that is not durable) and when the earliest deadline passes.
extension KernelRunner {
    /// Parks `operation` if it is an event wait with nothing to show yet; true if parked.
    func park(_ operation: Operation, _ respond: @escaping @Sendable (HTTPResponse) -> Void) -> Bool {
        guard case .listEvents(let filter, let page, let wait) = operation, wait > 0,
              let store = storage as? SQLiteStore else { return false }
        let after = page.after ?? 0
        // Something already matches: answer in the group, as any read.
        if store.lastEventSeq > after, (try? loggedEvents(filter, after: after, limit: 1, maxBytes: .max))?.events.isEmpty != true {
            return false
        }
        eventWaiters.append(EventWaiter(filter: filter, page: page, deadline: .now + .seconds(wait), respond: respond))
        return true
    }

    /// Answers every waiter that has events now, or whose deadline passed (or all, `ending`).
    func serveEventWaiters(ending: Bool = false) {
        guard !eventWaiters.isEmpty else { return }
        let store = storage as? SQLiteStore
        let lastSeq = store?.lastEventSeq ?? 0
        let newEvents = lastSeq != waitersSawSeq
        waitersSawSeq = lastSeq
        let now = ContinuousClock.now
        var kept: [EventWaiter] = []
        for w in eventWaiters {
            let mayHave = newEvents && lastSeq > (w.page.after ?? 0)
            if mayHave, let found = try? loggedEvents(w.filter, after: w.page.after ?? 0, limit: 1, maxBytes: .max), !found.events.isEmpty {
                w.respond(answerPage(w))
            } else if ending || w.deadline <= now {
                w.respond(answerPage(w))
            } else {
                kept.append(w)
            }
        }
        eventWaiters = kept
    }

    private func answerPage(_ w: EventWaiter) -> HTTPResponse {
        do {
            return try eventsPage(w.filter, w.page)
        } catch {
            return ServiceError(any: error, resource: nil).response
        }
    }

    /// Nanoseconds from now until `deadline` (negative once it passed).
    func nanoseconds(until deadline: ContinuousClock.Instant) -> Int {
        let d = deadline - .now
        return Int(d.components.seconds) * 1_000_000_000 + Int(d.components.attoseconds / 1_000_000_000)
    }
}
