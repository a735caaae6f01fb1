import Foundation
import Prometheus
import Synchronization
import VatKernel

/// What `GET /metrics` shows, in the Prometheus text format (swift-prometheus's registry).
///
/// Counters and histograms are fed as things happen: cranks and their deliveries, syscalls and
/// upgrades by the kernel thread, HTTP requests by the loop thread (the registry's metrics are
/// thread-safe). Gauges are set by the kernel thread after each group, from the state it owns;
/// the store's size is read when scraped. Every name starts with `vatkernel_`.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The database file whose size `vatkernel_store_size_bytes` reports; nil for `:memory:`.
    private let storePath: String?

    private let crankDuration: DurationHistogram
    private let commitDuration: DurationHistogram
    private let commitSize: ValueHistogram
    private let illegalSyscalls: Counter
    private let terminations: Counter
    private let droppedRequests: Counter
    private let storeSize: Gauge
    private let orphansRetiredCounter: Counter
    /// Terminated vats seen at the last group, so that terminations count as they happen.
    private let terminatedSeen = Mutex<Int?>(nil)

    init(version: String, storePath: String) {
        self.storePath = storePath == ":memory:" ? nil : storePath
        let build = registry.makeGauge(
            descriptor: Self.name("build", "info", "Always 1; the label says which build runs."), labels: [("version", version)])
        build.set(Int64(1))
        crankDuration = registry.makeDurationHistogram(
            descriptor: Self.name("crank_duration", "seconds", "Time to run one crank, its commit to the store included."),
            buckets: Self.durationBuckets)
        commitDuration = registry.makeDurationHistogram(
            descriptor: Self.name("commit_group_duration", "seconds", "Time of one group commit (the store's flush)."),
            buckets: Self.durationBuckets)
        commitSize = registry.makeValueHistogram(
            descriptor: Self.name("commit_group", "cranks", "Cranks made durable by one group commit."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096])
        illegalSyscalls = registry.makeCounter(
            descriptor: Self.name("illegal_syscalls", "total", "Syscall batches refused as illegal (each terminates its vat)."))
        terminations = registry.makeCounter(descriptor: Self.name("terminations", "total", "Vats terminated, for any reason."))
        droppedRequests = registry.makeCounter(
            descriptor: Self.name("requests_dropped", "total", "Reads not run because their connection had closed while they waited."))
        storeSize = registry.makeGauge(descriptor: Self.name("store_size", "bytes", "Size of the database file and its WAL (0 in memory)."))
        orphansRetiredCounter = registry.makeCounter(
            descriptor: Self.name("orphans_retired", "total", "Orphans (objects without an owner) retired once nothing reached or recognized them."))
        // Families whose samples appear as they happen, declared up front so the page lists them.
        for kind in ["host-request"] + CrankReport.Kind.allCases.map(\.rawValue) {
            _ = crankCounter(kind)
        }
    }

    /// `vatkernel_<name>[_<unit>]` with its help line.
    static func name(_ name: String, _ unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "vatkernel", metricName: name, unitName: unit, helpText: help)
    }

    static let durationBuckets: [Duration] = [
        .microseconds(10), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    // MARK: Kernel thread

    private func crankCounter(_ kind: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("cranks", "total", "Cranks committed, by kind."), labels: [("kind", kind)])
    }

    /// One crank committed; `kind` is the report's kind, or `host-request`.
    func crank(kind: String, duration: Duration) {
        crankCounter(kind).increment()
        crankDuration.record(duration)
    }

    /// A delivery entered a vat's log.
    func delivery(_ kind: Delivery.Kind) {
        registry.makeCounter(descriptor: Self.name("deliveries", "total", "Deliveries made to vats, by type."), labels: [("type", kind.rawValue)])
            .increment()
    }

    /// Syscalls that took effect, by type.
    func syscalls(_ batch: ArraySlice<Syscall>) {
        for s in batch {
            registry.makeCounter(descriptor: Self.name("syscalls", "total", "Syscalls that took effect, by type."), labels: [("type", s.typeName)])
                .increment()
        }
    }

    /// A batch was refused as illegal.
    func illegalSyscall() { illegalSyscalls.increment() }

    /// A read skipped because its connection closed while it waited for the kernel thread.
    func requestDropped() { droppedRequests.increment() }

    /// How many `…/stream` responses are open.
    func openStreams(_ count: Int) {
        registry.makeGauge(descriptor: Self.name("streams_open", "", "Server-Sent Event streams open (GET /events/stream, /vats/{vatID}/deliveries/stream).")).set(Int64(count))
    }

    /// An upgrade ended with `outcome` (`upgraded` or `failed`).
    func upgrade(_ outcome: String) {
        registry.makeCounter(descriptor: Self.name("upgrades", "total", "Vat upgrades, by outcome."), labels: [("outcome", outcome)])
            .increment()
    }

    /// GC deliveries made (dropExports, retireExports, retireImports), counted per kref.
    func gcActions(_ kind: String, count: Int) {
        registry.makeCounter(descriptor: Self.name("gc_actions", "total", "GC actions delivered to vats, per kref, by type."), labels: [("type", kind)])
            .increment(by: Int64(count))
    }

    /// Exports abandoned by `syscall.abandonExports` or by an upgrade (each becomes an orphan).
    func exportsAbandoned(_ count: Int) {
        registry.makeCounter(descriptor: Self.name("exports_abandoned", "total", "Exports abandoned by syscall.abandonExports or by an upgrade."))
            .increment(by: Int64(count))
    }

    /// Exports orphaned by the cleanup of terminated vats.
    func orphansCreated(_ count: Int) {
        registry.makeCounter(descriptor: Self.name("orphans_created", "total", "Objects orphaned: exports abandoned, or left by a terminated vat's cleanup."))
            .increment(by: Int64(count))
    }

    /// One group commit: how long the flush took and how many cranks it made durable.
    func commitGroup(duration: Duration, cranks: Int) {
        commitDuration.record(duration)
        commitSize.record(Double(cranks))
    }

    /// `count` more orphans retired (`Kernel.takeOrphansRetired`, at the end of a group).
    func orphansRetired(_ count: Int) {
        if count > 0 { orphansRetiredCounter.increment(by: Int64(count)) }
    }

    /// The gauges, from the state as of the end of a group.
    func publish(_ state: KernelState, gcActions: Int) {
        func gauge(_ name: String, _ labels: [(String, String)], _ help: String, _ value: Int) {
            registry.makeGauge(descriptor: Self.name(name, "", help), labels: labels).set(Int64(value))
        }
        gauge("queue_length", [("queue", "acceptance")], "Events waiting in each kernel queue.", state.acceptanceQueue.count)
        gauge("queue_length", [("queue", "run")], "Events waiting in each kernel queue.", state.runQueue.count)
        gauge("queue_length", [("queue", "reap")], "Events waiting in each kernel queue.", state.reapQueue.count)
        gauge("gc_actions_pending", [], "GC actions waiting in the durable set.", gcActions)
        gauge("objects", [], "Kernel objects.", state.objects.count)
        gauge("promises", [], "Kernel promises.", state.promises.count)
        var entries = 0, running = 0, terminated = 0
        for v in state.vats.rows.values {
            entries += state.clists[v.id]?.count ?? 0
            if v.isAlive { running += 1 } else { terminated += 1 }
        }
        gauge("clist_entries", [], "C-list entries over all vats.", entries)
        gauge("vats", [("status", "running")], "Vats by status.", running)
        gauge("vats", [("status", "terminated")], "Vats by status.", terminated)
        let newly = terminatedSeen.withLock { seen -> Int in
            defer { seen = terminated }
            guard let seen else { return 0 }  // those loaded at start-up died before this process
            return max(0, terminated - seen)
        }
        if newly > 0 { terminations.increment(by: Int64(newly)) }
    }

    // MARK: Loop thread

    /// One HTTP request answered.
    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", "seconds", "HTTP requests by route, method and status, with their time to answer."),
            labels: [("route", route), ("method", method), ("status", String(status))],
            buckets: Self.durationBuckets
        ).record(duration)
    }

    /// The page of `GET /metrics`.
    func exposition() -> [UInt8] {
        if let storePath {
            var total: Int64 = 0
            for path in [storePath, storePath + "-wal"] {
                if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber {
                    total += size.int64Value
                }
            }
            storeSize.set(total)
        }
        return registry.emitToBuffer()
    }
}
