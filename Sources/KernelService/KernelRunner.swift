import CLinux
import Foundation
import HTTPServer
import KernelStore
import Synchronization
import VatKernel

/// The one thread that owns the kernel (DESIGN.md, "The service"), and the way in to it.
///
/// Requests arrive parsed, as `Operation`s, through `submit`. The thread takes every waiting
/// item at once (a *group*), runs them in order, each as one or more cranks, then calls the
/// store's `flush()` once if anything changed (group commit), and only then answers them: an
/// answer never reports a change that is not durable (KERNEL-SPEC §13.3). If the flush fails,
/// every answer that saw the group's changes is a 503 and the kernel undoes the group's cranks,
/// back to the last durable state.
///
/// The confinement is the compiler's to check: this `Sendable` front holds only what any
/// thread may touch (the inbox behind its lock, the semaphores, the published summary, the
/// credentials, the metrics and the configuration). The kernel, its store, the run mode, the
/// waiters and the streams are a `KernelThread`, which is not `Sendable`: it is created on the
/// kernel thread (the store opened and the kernel loaded there) and never leaves it.
final class KernelRunner: Sendable {
    /// A unit of work for the kernel thread.
    enum Work: Sendable {
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
    /// The loaded kernel thread waits for it before it takes work: `start()` (or `stop()`).
    private let begin = DispatchSemaphore(value: 0)
    private let begun = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// The body of `GET /kernel` as of the last group, served without a trip to the kernel
    /// thread; nil while the kernel could not be loaded from the store.
    let summary = Mutex<(body: [UInt8], crank: Int)?>(nil)
    let credentials: Credentials
    /// What `GET /metrics` shows; fed by this thread and the loop thread.
    let metrics: ServiceMetrics
    let configuration: KernelServiceConfiguration
    /// The reader threads that answer reads from the last committed state (`ReaderPool`);
    /// active only for a store in a database file.
    let readers: ReaderPool
    /// The kernel thread's ID (as /proc/self/task names it), for tests: it keeps the normal
    /// scheduling policy while the readers run under `SCHED_IDLE`.
    let kernelThreadID = Atomic<Int32>(0)

    /// Starts the kernel thread, which calls `storage` and loads the kernel from what it
    /// returns, and waits for that: what `storage` or the load throws is thrown here (the
    /// thread has ended then). The thread takes no work until `start()`.
    init(configuration: KernelServiceConfiguration, storage: @escaping @Sendable () throws -> (any KernelStorage)?) throws {
        self.configuration = configuration
        metrics = ServiceMetrics(version: configuration.identity.version, storePath: configuration.storePath)
        // The vats' token hashes are set by the kernel thread once it has loaded their records.
        credentials = Credentials(adminToken: configuration.adminToken, vatTokenHashes: [:])
        readers = ReaderPool(metrics: metrics, maxQueued: configuration.maxQueuedRequests)
        let loaded = LoadOutcome()
        let thread = Thread { [self] in
            runKernelThread(storage: storage, loaded: loaded)
        }
        thread.name = "VatKernel kernel"
        // Deep capdata and long batches recurse and allocate on this stack.
        thread.stackSize = 8 << 20
        thread.start()
        loaded.done.wait()
        if let error = loaded.failure.withLock({ $0 }) { throw error }
        if let path = loaded.databasePath.withLock({ $0 }), let error = readers.open(path: path, count: configuration.readerThreads) {
            FileHandle.standardError.write(Data("vatkernel: reads stay on the kernel thread: cannot open a reader on \(path): \(error)\n".utf8))
        }
    }

    /// The kernel thread's whole life: load, wait for `start()`, serve until `stop()`. Its state
    /// (and with it the store, if nothing else holds it) is released before `stop()` returns.
    private func runKernelThread(storage: @Sendable () throws -> (any KernelStorage)?, loaded: LoadOutcome) {
        kernelThreadID.store(vk_thread_id(), ordering: .releasing)
        do {
            let thread = try KernelThread(runner: self, storage: storage())
            if let store = thread.storage as? SQLiteStore, !store.isInMemory {
                loaded.databasePath.withLock { $0 = store.path }
            }
            loaded.done.signal()
            begin.wait()
            thread.run()
        } catch {
            loaded.failure.withLock { $0 = error }
            loaded.done.signal()
        }
        finished.signal()
    }

    /// Lets the kernel thread take work.
    func start() {
        if !begun.exchange(true, ordering: .acquiringAndReleasing) { begin.signal() }
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
    /// for the kernel thread to end (one never started ends without taking work).
    func stop() {
        readers.stop()
        let wasAccepting = inbox.withLock { inbox in
            defer { inbox.accepting = false }
            return inbox.accepting
        }
        guard wasAccepting else { return }
        wake.signal()
        start()
        finished.wait()
    }

    // MARK: For the kernel thread

    /// Blocks until work is submitted, something nudges, or `deadline` passes.
    fileprivate func awaitWork(until deadline: DispatchTime?) {
        if let deadline { _ = wake.wait(timeout: deadline) } else { wake.wait() }
    }

    /// Everything queued, oldest first (the queue is empty after), and whether work is still taken.
    fileprivate func takeWork() -> (items: [Work], accepting: Bool) {
        inbox.withLock { inbox in
            defer {
                inbox.items.removeAll()
                inbox.requests = 0
                inbox.bytes = 0
            }
            return (inbox.items, inbox.accepting)
        }
    }

    fileprivate var hasQueuedWork: Bool { inbox.withLock { !$0.items.isEmpty } }
}

/// How the kernel thread's load went, for `KernelRunner.init` waiting on it.
private final class LoadOutcome: Sendable {
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<(any Error)?>(nil)
    /// The store's database file, when it has one: what the reader threads open.
    let databasePath = Mutex<String?>(nil)
}

/// The kernel thread's state, and what that thread does: the run loop, groups, answers,
/// waits and streams (in KernelRunner+Operations.swift, +EventWaits and +Streams).
///
/// Not `Sendable` (and declared never to be): `KernelRunner` creates it on the kernel thread,
/// which is then the only thread that can reach the kernel and its store. Other threads hand
/// it work through the runner's inbox and get answers through `respond` closures.
final class KernelThread {
    let runner: KernelRunner
    let configuration: KernelServiceConfiguration
    let metrics: ServiceMetrics
    let credentials: Credentials
    let storage: (any KernelStorage)?
    /// Nil only after a store failure from which the state could not be reloaded yet.
    var kernel: Kernel?
    var runMode: RunMode
    /// Cranks of the run (`step()`) within the request being executed, for the metrics.
    var stepsTaken = 0
    /// Long polls (`?wait=`) that found nothing yet, oldest first.
    var eventWaiters: [EventWaiter] = []
    /// Open `…/stream` responses (KernelRunner+Streams.swift).
    var feedStreams: [FeedStream] = []

    /// Loads the kernel from `storage` (a new one if it is empty), accepts its vats' tokens and
    /// publishes its summary.
    fileprivate init(runner: KernelRunner, storage: (any KernelStorage)?) throws {
        self.runner = runner
        configuration = runner.configuration
        metrics = runner.metrics
        credentials = runner.credentials
        self.storage = storage
        runMode = configuration.runMode
        let kernel = try Kernel(configuration: configuration.kernel, storage: storage)
        self.kernel = kernel
        for (vat, record) in kernel.state.vats {
            if let hash = record.tokenHash { credentials.setVatTokenHash(hash, for: vat) }
        }
        publishSummary()
    }

    /// Serves until the runner stops and its queue is empty, then flushes once more.
    fileprivate func run() {
        while true {
            // Parked waits end at their deadline, streams get their heartbeat, even when
            // nothing else happens.
            runner.awaitWork(until: nextFeedDeadline.map { .now() + .nanoseconds(max(0, nanoseconds(until: $0))) })
            let (items, accepting) = runner.takeWork()
            if !items.isEmpty { runGroup(items) } else { serveEventWaiters() }
            if !accepting, !runner.hasQueuedWork {
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
    private func runGroup(_ items: [KernelRunner.Work]) {
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
        // Readers on the database file would otherwise let its WAL grow without bound.
        if changed, !flushFailed { (storage as? SQLiteStore)?.restartWALIfLarge() }
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
        runner.summary.withLock { $0 = published }
        if let kernel {
            metrics.publish(kernel.state, gcActions: kernel.state.gcActions.count)
            metrics.orphansRetired(kernel.takeOrphansRetired())
        }
    }

    func log(_ message: String) {
        FileHandle.standardError.write(Data("vatkernel: \(message)\n".utf8))
    }
}

@available(*, unavailable, message: "the kernel thread's state never leaves the kernel thread")
extension KernelThread: Sendable {}
