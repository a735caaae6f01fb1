import ArgumentParser
import Foundation
import HTTPServer
import KernelService
import KernelStore
import VatKernel

/// `vatkernel serve`: open the store, audit it, serve the REST API until SIGTERM or SIGINT.
///
/// Every option can also come from a `VATKERNEL_*` environment variable; a flag wins over
/// the variable, the variable over the default.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the kernel's REST API (see openapi.yaml).",
        discussion: """
            Each option may also be set with the environment variable named in its help; a flag \
            wins over the variable. The service binds loopback by default and refuses any other \
            host unless an admin token is set. SIGTERM or SIGINT stops it cleanly: it stops \
            accepting, answers the requests in flight, flushes and closes the store, and exits 0.

            Exit status: 0 after a clean stop; 64 a bad setting; 69 the port cannot be bound; \
            70 the stored state fails the kernel's audit; 74 the store cannot be opened.
            """)

    @Option(help: "Address to listen on; loopback unless an admin token is set. [env: VATKERNEL_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "TCP port; 0 picks a free one (printed on the startup line). [env: VATKERNEL_PORT] (default: 8080)")
    var port: Int?

    @Option(help: "SQLite database file, created if missing; ':memory:' for a throwaway kernel. Only each vat token's SHA-256 is kept, in the database. [env: VATKERNEL_DB] (default: vatkernel.sqlite)")
    var db: String?

    @Option(help: "full: each commit is on disk before it is acknowledged; normal: faster, a power loss may lose the last commits. [env: VATKERNEL_DURABILITY] (default: full)")
    var durability: String?

    @Option(help: "Bearer token required by every endpoint but /healthz (a vat's own token also opens its syscalls and deliveries). At least 16 characters. Prefer --admin-token-file: a flag is visible in the process list. [env: VATKERNEL_ADMIN_TOKEN]")
    var adminToken: String?

    @Option(help: "File holding the admin token (surrounding whitespace ignored). [env: VATKERNEL_ADMIN_TOKEN_FILE]")
    var adminTokenFile: String?

    @Option(help: "Largest request body in bytes; larger ones are answered 413. [env: VATKERNEL_MAX_BODY] (default: 1048576)")
    var maxBody: Int?

    @Option(help: "Largest request line plus headers in bytes; larger ones are answered 431. [env: VATKERNEL_MAX_HEADER] (default: 16384)")
    var maxHeader: Int?

    @Option(help: "Most connections open at once; more are answered 503. [env: VATKERNEL_MAX_CONNECTIONS] (default: 1024)")
    var maxConnections: Int?

    @Option(help: "auto: run the kernel until idle after each request that changes state; manual: wait for POST /kernel/step or /kernel/run. [env: VATKERNEL_RUN_MODE] (default: auto)")
    var runMode: String?

    @Option(help: "Most cranks one request runs (the auto-mode run, and the largest maxCranks of POST /kernel/run). [env: VATKERNEL_MAX_CRANKS] (default: 100000)")
    var maxCranks: Int?

    @Option(help: "C-list entries or vatstore keys one termination-cleanup crank removes. [env: VATKERNEL_CLEANUP_BUDGET] (default: 5000)")
    var cleanupBudget: Int?

    @Option(help: "Most syscalls in one batch (and in each list of an upgrade); a longer batch is answered 400. [env: VATKERNEL_MAX_SYSCALLS] (default: 10000)")
    var maxSyscalls: Int?

    @Option(help: "Most requests waiting for the kernel thread; more are answered 503 overloaded with Retry-After. [env: VATKERNEL_MAX_QUEUED_REQUESTS] (default: 4096)")
    var maxQueuedRequests: Int?

    @Option(help: "Most request-body bytes waiting for the kernel thread; more are answered 503 overloaded with Retry-After. [env: VATKERNEL_MAX_QUEUED_BYTES] (default: 67108864)")
    var maxQueuedBytes: Int?

    @Option(help: "Most bytes of answers a connection may have waiting for its client before the server stops reading its requests. [env: VATKERNEL_MAX_UNSENT_BYTES] (default: 4194304)")
    var maxUnsentBytes: Int?

    @Option(help: "Most Server-Sent Event streams open at once (GET /events/stream, /vats/{vatID}/deliveries/stream); one more is answered 503 overloaded. Each also counts as a connection. [env: VATKERNEL_MAX_STREAMS] (default: 64)")
    var maxStreams: Int?

    @Option(help: "Most undo entries (old values of changed rows) kept for one commit group, so that a failed flush (a full disk) undoes the group in memory; a group that changed more is undone by reloading the whole state from the store. [env: VATKERNEL_MAX_GROUP_UNDO] (default: 1000000)")
    var maxGroupUndo: Int?

    @Option(help: "How much of the event log to keep: the last N cranks ('10000cranks') or the newest events within a size ('64MiB', '500MB'); older events are deleted in bounded steps (at most 2000 per commit). GET /events?after= older than the oldest kept starts at the oldest kept. [env: VATKERNEL_EVENT_RETENTION] (default: keep all)")
    var eventRetention: String?

    @Option(help: "Threads that answer reads (lists, pages, a vat, the queues, GET /events and deliveries without wait) from the last committed state, each on its own read-only connection to the database, so that reads neither wait behind cranks nor delay them; they run under the SCHED_IDLE scheduling policy (the kernel thread and the event loop keep the normal one), so a crank takes the CPU from a read whenever it needs it; 0 answers them on the kernel thread, as does a ':memory:' store. [env: VATKERNEL_READER_THREADS] (default: 2)")
    var readerThreads: Int?

    @Option(help: "Seconds between the ': heartbeat' comments of a stream with nothing to send. [env: VATKERNEL_STREAM_HEARTBEAT] (default: 15)")
    var streamHeartbeat: Int?

    @Option(help: "Seconds a keep-alive connection may sit idle. [env: VATKERNEL_IDLE_TIMEOUT] (default: 60)")
    var idleTimeout: Int?

    @Option(help: "Seconds a request may take to arrive completely; slower clients are answered 408. [env: VATKERNEL_READ_TIMEOUT] (default: 10)")
    var readTimeout: Int?

    @Option(help: "Seconds the server waits for a client to take answer bytes once its socket is full; then it closes the connection. [env: VATKERNEL_WRITE_TIMEOUT] (default: 30)")
    var writeTimeout: Int?

    @Option(help: "Most requests of one connection in progress at once (pipelined); past it the server reads no more of that connection's requests until answers go out. [env: VATKERNEL_MAX_PIPELINED_REQUESTS] (default: 64)")
    var maxPipelinedRequests: Int?

    @Flag(help: "Write one JSON line per answered request to standard error (time, requestId, method, target, status, bytes, durationMs). [env: VATKERNEL_ACCESS_LOG=1]")
    var accessLog = false

    @Flag(help: "Keep acknowledged deliveries in each vat's log instead of dropping them (POST /vats/{vatID}/deliveries/ack). [env: VATKERNEL_KEEP_DELIVERIES=1]")
    var keepDeliveries = false

    func run() throws {
        let settings: Settings
        do {
            settings = try Settings(self, environment: ProcessInfo.processInfo.environment)
        } catch {
            fail(error.description, .usage)
        }
        try serve(settings)
    }

    /// Prints a line to standard output at once (a log collector may be reading it through a pipe).
    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Prints `message` to standard error and exits with `code`.
    func fail(_ message: String, _ code: ExitCode) -> Never {
        FileHandle.standardError.write(Data("vatkernel: \(message)\n".utf8))
        Foundation.exit(code.rawValue)
    }

    private func serve(_ s: Settings) throws {
        // Signals are taken by sigwait on this thread; every thread started below inherits
        // the mask, so none of them is interrupted by them.
        let signals = Signals.block([SIGTERM, SIGINT])

        var kernelConfiguration = KernelConfiguration()
        kernelConfiguration.cleanupBudget = s.cleanupBudget
        kernelConfiguration.maxSyscallsPerBatch = s.maxSyscalls
        var serviceConfiguration = KernelServiceConfiguration(
            kernel: kernelConfiguration, runMode: s.runMode, adminToken: s.adminToken,
            maxCranksPerRequest: s.maxCranks, storePath: s.db, durability: s.durability.rawValue)
        serviceConfiguration.identity = ServiceIdentity(schemaVersion: SQLiteStore.schemaVersion)
        serviceConfiguration.keepDeliveries = s.keepDeliveries
        serviceConfiguration.maxQueuedRequests = s.maxQueuedRequests
        serviceConfiguration.maxQueuedBytes = s.maxQueuedBytes
        serviceConfiguration.maxStreams = s.maxStreams
        serviceConfiguration.readerThreads = s.readerThreads
        serviceConfiguration.maxGroupUndoEntries = s.maxGroupUndo
        serviceConfiguration.streamHeartbeat = .seconds(s.streamHeartbeat)
        if s.accessLog {
            serviceConfiguration.accessLog = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        // The store is opened on the kernel thread, the only one that uses it; it closes when
        // that thread ends, in `service.shutdown()`.
        let (db, durability, eventRetention) = (s.db, s.durability, s.eventRetention)
        let service: KernelService
        do {
            service = try KernelService(configuration: serviceConfiguration, openStorage: {
                let store: SQLiteStore
                do {
                    store = try SQLiteStore(path: db, durability: durability)
                } catch {
                    throw StoreOpeningFailed(error: error)
                }
                store.eventRetention = eventRetention
                return store
            })
        } catch let e as StoreOpeningFailed {
            fail("cannot open the store \(s.db): \(e.error)", .storeFailed)
        } catch {
            fail("cannot load the kernel from \(s.db): \(error)", .storeFailed)
        }
        // Listening before the audit, so that `GET /readyz` can say 503 while it runs; the
        // startup line (which scripts wait for) comes once the service is ready.
        let server = HTTPServer(configuration: s.http, handler: service)
        let port: Int
        do {
            port = try server.start()
        } catch {
            service.shutdown()
            fail("\(error)", .unavailable)
        }

        let problems = service.start()
        if !problems.isEmpty {
            server.shutdown()
            server.waitUntilStopped()
            service.shutdown()
            fail("the stored state fails the audit; refusing to serve it:\n  " + problems.joined(separator: "\n  "), .auditFailed)
        }
        // Leaks (unreferenced, with right counts; say an older version's) are served and
        // reported, for the host to collect with POST /kernel/gc/reconsider (KERNEL-SPEC §13.8).
        let leaks = service.startupLeaks
        if !leaks.isEmpty {
            say("vatkernel: the stored state has \(leaks.count) leak(s) that nothing refers to; serving it "
                + "(GET /kernel/audit lists them, POST /kernel/gc/reconsider collects them):\n  "
                + leaks.joined(separator: "\n  "))
        }
        let shownHost = s.host.contains(":") && !s.host.hasPrefix("[") ? "[\(s.host)]" : s.host
        say("vatkernel: listening on http://\(shownHost):\(port) (db \(s.db), durability \(s.durability.rawValue))")

        let signal = signals.wait()
        say("vatkernel: \(signal == SIGTERM ? "SIGTERM" : "SIGINT"): finishing requests in flight, then stopping")
        server.shutdown()
        server.waitUntilStopped()
        service.shutdown()
        say("vatkernel: stopped")
    }
}

/// `SQLiteStore` refused to open the database (as opposed to loading the kernel from it).
private struct StoreOpeningFailed: Error {
    let error: any Error
}
