import Foundation
import HTTPServer
import Synchronization
import VatKernel

/// The one thread that owns the kernel (DESIGN.md, "The service").
///
/// Requests arrive parsed, as `Operation`s, through `submit`. The thread takes every waiting
/// item at once (a *group*), runs them in order, each as one or more cranks, then calls the
/// store's `flush()` once if anything changed (group commit), and only then answers them: an
/// answer never reports a change that is not durable (KERNEL-SPEC §13.3). If the flush fails,
/// every answer that saw the group's changes is a 503 and the kernel undoes the group's cranks,
/// back to the last durable state.
///
/// Everything below `// MARK: Kernel thread` is touched by that thread only; that is the
/// invariant that makes the `@unchecked Sendable` sound. The inbox is the only shared state.
final class KernelRunner: @unchecked Sendable {
    /// A unit of work for the kernel thread.
    enum Work {
        /// `peer`: the connection it came on, if any; a read for a closed one is dropped unrun.
        case request(Operation, peer: PeerConnection?, respond: @Sendable (HTTPResponse) -> Void)
        /// Runs a closure against the kernel (start-up audit, tests).
        case task(@Sendable (Kernel?) -> Void)
    }

    private struct Inbox {
        var items: [Work] = []
        /// Requests among `items`, and the bytes of their bodies: what the bounds count.
        var requests = 0
        var bytes = 0
        var accepting = true
    }

    /// What became of submitted work.
    enum Submission: Equatable {
        case queued
        /// The queue is at a bound (`maxQueuedRequests` or `maxQueuedBytes`), named here.
        case overloaded(String)
        case stopping
    }

    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// The body of `GET /kernel` as of the last group, served without a trip to the kernel
    /// thread; nil while the kernel could not be loaded from the store.
    let summary = Mutex<(body: [UInt8], crank: Int)?>(nil)
    let credentials: Credentials
    /// What `GET /metrics` shows; fed by this thread and the loop thread.
    let metrics: ServiceMetrics

    init(configuration: KernelServiceConfiguration, storage: (any KernelStorage)?) throws {
        self.configuration = configuration
        self.storage = storage
        runMode = configuration.runMode
        metrics = ServiceMetrics(version: configuration.identity.version, storePath: configuration.storePath)
        let kernel = try Kernel(configuration: configuration.kernel, storage: storage)
        self.kernel = kernel
        credentials = Credentials(adminToken: configuration.adminToken, vatTokenHashes: Dictionary(
            uniqueKeysWithValues: kernel.state.vats.compactMap { v in v.value.tokenHash.map { (v.key, $0) } }))
        publishSummary()
    }

    /// Starts the kernel thread.
    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "VatKernel kernel"
        // Deep capdata and long batches recurse and allocate on this stack.
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues `work`; false once the runner is stopping (the caller answers 503).
    @discardableResult
    func submit(_ work: Work) -> Bool {
        submit(work, bytes: 0) == .queued
    }

    /// Queues `work`, whose request body is `bytes` long, unless the runner is stopping or a
    /// request would pass a bound of the queue (tasks are not counted).
    func submit(_ work: Work, bytes: Int) -> Submission {
        let result = inbox.withLock { inbox -> Submission in
            guard inbox.accepting else { return .stopping }
            if case .request = work {
                if inbox.requests >= configuration.maxQueuedRequests {
                    return .overloaded("\(configuration.maxQueuedRequests) requests (maxQueuedRequests)")
                }
                if inbox.requests > 0, inbox.bytes + bytes > configuration.maxQueuedBytes {
                    return .overloaded("\(configuration.maxQueuedBytes) bytes of requests (maxQueuedBytes)")
                }
                inbox.requests += 1
                inbox.bytes += bytes
            }
            inbox.items.append(work)
            return .queued
        }
        if result == .queued { wake.signal() }
        return result
    }

    /// Wakes the kernel thread to look at its streams (one has room again, or ended).
    func nudge() {
        wake.signal()
    }

    /// Stops taking work, finishes what was queued (answering and flushing it), and waits
    /// for the kernel thread to end.
    func stop() {
        let wasAccepting = inbox.withLock { inbox in
            defer { inbox.accepting = false }
            return inbox.accepting
        }
        guard wasAccepting else { return }
        wake.signal()
        finished.wait()
    }

    // MARK: Kernel thread

    let configuration: KernelServiceConfiguration
    let storage: (any KernelStorage)?
    /// Nil only after a store failure from which the state could not be reloaded yet.
    var kernel: Kernel?
    var runMode: RunMode
    /// Cranks of the run (`step()`) within the request being executed, for the metrics.
    var stepsTaken = 0
    /// Long polls (`?wait=`) that found nothing yet, oldest first.
    var eventWaiters: [EventWaiter] = []
    /// Open `…/stream` responses (`KernelRunner+Streams`).
    var feedStreams: [FeedStream] = []

    private func run() {
        while true {
            // Parked waits end at their deadline, streams get their heartbeat, even when
            // nothing else happens.
            if let deadline = nextFeedDeadline {
                _ = wake.wait(timeout: .now() + .nanoseconds(max(0, nanoseconds(until: deadline))))
            } else {
                wake.wait()
            }
            let (items, accepting) = inbox.withLock { inbox in
                defer {
                    inbox.items.removeAll()
                    inbox.requests = 0
                    inbox.bytes = 0
                }
                return (inbox.items, inbox.accepting)
            }
            if !items.isEmpty { runGroup(items) } else { serveEventWaiters() }
            if !accepting, inbox.withLock({ $0.items.isEmpty }) {
                serveEventWaiters(ending: true)
                break
            }
        }
        if let storage, kernel != nil {
            do { try storage.flush() } catch { log("final flush failed: \(error)") }
        }
    }

    /// Runs one group: every item, one flush, then every answer.
    ///
    /// If the store fails while an item runs, that item is answered 503 and the items after
    /// it are not run (503 too); the cranks before it are still flushed, since the store
    /// discards only the failed crank. If the flush fails (a full disk), every answer given
    /// after the group's first crank is a 503 (those before it saw only durable state and
    /// stand), and the kernel undoes the group's cranks (`returnToDurablePoint`), so memory
    /// never runs ahead of the disk.
    private func runGroup(_ items: [Work]) {
        if kernel == nil { reload() }
        kernel?.beginGroup(undoLimit: configuration.maxGroupUndoEntries)
        let crankBefore = kernel?.state.counters.crank
        let nextVatBefore = kernel?.state.counters.nextVat
        // Each answer, and whether it was given before any crank of the group committed.
        var answers: [(respond: @Sendable (HTTPResponse) -> Void, response: HTTPResponse, durable: Bool)] = []
        // Set when the store failed during the group: nothing more runs in it.
        var groupFailed = false
        for item in items {
            switch item {
            case .task(let body):
                body(groupFailed ? nil : kernel)
            case .request(let operation, let peer, let respond):
                // Nobody will read this answer, and running it would change nothing: skip it.
                if !operation.changesState, peer?.isClosed == true {
                    metrics.requestDropped()
                    continue
                }
                if !groupFailed, park(operation, respond) { continue }
                if groupFailed {
                    answers.append((respond, ServiceError.storageFailure("an earlier request of the same commit group failed to commit").response, true))
                    continue
                }
                let performed = perform(operation)
                if performed.storeFailed { groupFailed = true }
                answers.append((respond, performed.response, kernel?.state.counters.crank == crankBefore))
            }
        }
        let changed = kernel?.state.counters.crank != crankBefore
        var flushFailed = false
        if changed, let storage {
            do {
                let started = ContinuousClock.now
                try storage.flush()
                metrics.commitGroup(duration: ContinuousClock.now - started,
                                    cranks: (kernel?.state.counters.crank ?? 0) - (crankBefore ?? 0))
            } catch {
                let response = ServiceError.storageFailure(String(describing: error)).response
                let lost = answers.filter { !$0.durable }.count
                log("flush failed; answering \(lost) request(s) with 503: \(error)")
                answers = answers.map { $0.durable ? $0 : ($0.respond, response, false) }
                flushFailed = true
            }
        }
        if flushFailed { returnToDurablePoint() } else { kernel?.groupIsDurable() }
        acceptTokensOfVatsCreated(since: nextVatBefore)
        publishSummary()
        for answer in answers { answer.respond(answer.response) }
        serveEventWaiters()
    }

    /// Runs one operation; every error becomes its HTTP answer here.
    private func perform(_ operation: Operation) -> Performed {
        guard let kernel else {
            return Performed(response: ServiceError.storageFailure("the kernel state could not be loaded from the store").response,
                             storeFailed: false)
        }
        var performed = execute(operation, on: kernel)
        // The state the answer reflects: durable by the time it is sent (the group's flush).
        performed.response.headers.append(("X-Kernel-Crank", String(kernel.state.counters.crank)))
        return performed
    }

    /// Accepts the tokens of the vats created since `nextVat` that are durable now: after a
    /// failed flush the group was undone, so a vat whose creation was lost is not there.
    private func acceptTokensOfVatsCreated(since nextVat: Int?) {
        guard let kernel, let nextVat else { return }
        for n in nextVat..<kernel.state.counters.nextVat {
            if let hash = kernel.state.vats[VatID(n)]?.tokenHash { credentials.setVatTokenHash(hash, for: VatID(n)) }
        }
    }

    /// After a failed flush: undoes the group's cranks, which puts the kernel back at the store's
    /// last durable state in time proportional to what the group changed. Reloads the whole
    /// state from the store only when the undo is impossible: the group changed more than
    /// `maxGroupUndoEntries` entries, so the kernel gave up keeping its undo.
    private func returnToDurablePoint() {
        guard let kernel else { return }
        if kernel.undoGroup() { return }
        log("the failed group changed more than \(configuration.maxGroupUndoEntries) entries; reloading the state from the store")
        reload()
    }

    /// Rebuilds the kernel from the store's last durable state.
    private func reload() {
        do {
            kernel = try Kernel(configuration: configuration.kernel, storage: storage)
        } catch {
            kernel = nil
            log("cannot reload the kernel from the store: \(error)")
        }
    }

    func publishSummary() {
        let published = kernel.map { (body: summaryJSON($0).bytes, crank: $0.state.counters.crank) }
        summary.withLock { $0 = published }
        if let kernel { metrics.publish(kernel.state, gcActions: kernel.state.gcActions.count) }
    }

    func log(_ message: String) {
        FileHandle.standardError.write(Data("vatkernel: \(message)\n".utf8))
    }
}
