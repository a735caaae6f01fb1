import CLinux
import Foundation
import HTTPServer
import KernelStore
import Synchronization
import VatKernel

/// A few threads that answer reads from the last committed state, off the kernel thread
/// (issue 9 part 3): a read never waits behind the group the kernel thread is running, and
/// never delays it.
///
/// Each thread holds its own read-only connection to the store's database file (WAL mode) and
/// answers each request inside one read transaction, so an answer is one snapshot of the last
/// committed group; its `X-Kernel-Crank` is that snapshot's crank. The rows are read back into
/// the kernel's own values and rendered by `Representation`, exactly as the kernel thread
/// renders them (`ReaderPoolTests` compares the two byte for byte).
///
/// Which requests come here is `Operation.isSnapshotRead`, and `KernelService.handle` sends
/// one here only when nothing of its connection is still unanswered: an answered change is
/// committed (KERNEL-SPEC §13.3), so the snapshot holds it (read-your-writes); a read pipelined
/// behind an unanswered request goes to the kernel thread, in order behind it. A kernel without
/// a database file (`:memory:`, a test's store) has no pool: the kernel thread answers.
///
/// Reads must not delay cranks, and on a machine of few cores a reader that shares a core with
/// the kernel thread takes its time from the cranks. So each reader thread, and only it, runs
/// under `SCHED_IDLE` (Linux): it gets the CPU when no thread of normal policy wants it, and the
/// kernel thread or the event loop preempts it as soon as it wakes. The kernel thread and the
/// event loop keep the normal policy. A thread that cannot take the policy serves anyway.
final class ReaderPool: Sendable {
    private struct Job: Sendable {
        let operation: Operation
        let peer: PeerConnection?
        let respond: @Sendable (HTTPResponse) -> Void
    }

    private struct Queue {
        var jobs: [Job] = []
        var accepting = true
        /// Set by `hold(_:)`, for tests: no thread takes a read until it is cleared or the pool stops.
        var held = false
    }

    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)
    private let threads = Atomic<Int>(0)
    private let active = Atomic<Bool>(false)
    private let metrics: ServiceMetrics
    private let maxQueued: Int
    /// Answers the pool gave, for tests.
    let answered = Atomic<Int>(0)
    /// The kernel thread IDs of the reader threads (as /proc/self/task names them), for tests.
    let threadIDs = Mutex<[Int32]>([])

    init(metrics: ServiceMetrics, maxQueued: Int) {
        self.metrics = metrics
        self.maxQueued = maxQueued
    }

    /// Whether the pool takes reads: its threads opened their connections.
    var isActive: Bool { active.load(ordering: .acquiring) }

    /// Starts `count` threads on `path`, each opening its own read-only connection, and waits
    /// for them; if any cannot open, every thread ends and the pool stays inactive (the
    /// kernel thread answers every read), and the error is returned.
    func open(path: String, count: Int) -> (any Error)? {
        guard count > 0 else { return nil }
        let opened = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        for i in 0..<count {
            let thread = Thread { [self] in
                if vk_thread_set_idle_policy() != 0 {
                    FileHandle.standardError.write(Data("vatkernel: reader thread \(i + 1) keeps the normal scheduling policy: SCHED_IDLE refused (errno \(errno))\n".utf8))
                }
                threadIDs.withLock { $0.append(vk_thread_id()) }
                let reader: SQLiteReader
                do {
                    reader = try SQLiteReader(path: path)
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    opened.signal()
                    ended.signal()
                    return
                }
                opened.signal()
                serve(reader)
                reader.close()
                ended.signal()
            }
            thread.name = "VatKernel reader \(i + 1)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        threads.store(count, ordering: .releasing)
        for _ in 0..<count { opened.wait() }
        if let error = failure.withLock({ $0 }) {
            stop()
            return error
        }
        active.store(true, ordering: .releasing)
        return nil
    }

    /// Queues a read, unless the pool is stopping or holds `maxQueued` reads already.
    func submit(_ operation: Operation, peer: PeerConnection?, respond: @escaping @Sendable (HTTPResponse) -> Void) -> KernelRunner.Submission {
        let result = queue.withLock { q -> KernelRunner.Submission in
            guard q.accepting else { return .stopping }
            if q.jobs.count >= maxQueued { return .overloaded("\(maxQueued) reads (maxQueuedRequests)") }
            q.jobs.append(Job(operation: operation, peer: peer, respond: respond))
            return .queued
        }
        if result == .queued { wake.signal() }
        return result
    }

    /// Stops taking reads, answers those queued, and waits for every thread to end.
    func stop() {
        let wasAccepting = queue.withLock { q in
            defer { q.accepting = false }
            return q.accepting
        }
        guard wasAccepting else { return }
        active.store(false, ordering: .releasing)
        let n = threads.load(ordering: .acquiring)
        for _ in 0..<n { wake.signal() }
        for _ in 0..<n { ended.wait() }
    }

    /// Keeps every reader thread off the queue while `held`, so that reads submitted meanwhile
    /// wait in it together (the way `Harness.holdKernelThread` makes requests wait for the
    /// kernel thread); for tests of the queue's bound and of reads whose connection closes
    /// while they wait. No route reaches it. Stopping the pool ends a hold, so that `stop()`
    /// still answers what is queued.
    func hold(_ held: Bool) {
        queue.withLock { $0.held = held }
        if !held {
            for _ in 0..<threads.load(ordering: .acquiring) { wake.signal() }
        }
    }

    /// A reader thread's life: take reads until the pool stops and its queue is empty.
    private func serve(_ reader: SQLiteReader) {
        while true {
            let next = queue.withLock { q -> (job: Job?, done: Bool) in
                if !q.jobs.isEmpty && (!q.held || !q.accepting) { return (q.jobs.removeFirst(), false) }
                return (nil, !q.accepting)
            }
            if let job = next.job {
                answer(job, reader)
            } else if next.done {
                return
            } else {
                wake.wait()
            }
        }
    }

    private func answer(_ job: Job, _ reader: SQLiteReader) {
        // Nobody will read this answer (a read changes nothing): skip it, as the kernel thread does.
        if job.peer?.isClosed == true {
            metrics.requestDropped()
            return
        }
        var crank = 0
        var response: HTTPResponse
        do {
            response = try reader.snapshot {
                crank = try reader.counters()?.crank ?? 0
                return try SnapshotRead(reader: reader).answer(job.operation)
            }
        } catch {
            response = RequestFailure(error, resource: job.operation.resource).serviceError.response
        }
        response.headers.append(("X-Kernel-Crank", String(crank)))
        answered.add(1, ordering: .relaxed)
        job.respond(response)
    }
}
