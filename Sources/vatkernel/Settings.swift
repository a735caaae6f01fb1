import Foundation
import HTTPServer
import KernelService
import KernelStore

/// `vatkernel serve`'s settings, resolved (flag, then environment, then default) and checked.
struct Settings {
    var host: String
    var db: String
    var durability: SQLiteStore.Durability
    var adminToken: String?
    var runMode: RunMode
    var maxCranks: Int
    var cleanupBudget: Int
    var maxSyscalls: Int
    var http: HTTPServerConfiguration
    var accessLog: Bool
    var keepDeliveries: Bool
    var maxQueuedRequests: Int
    var maxQueuedBytes: Int
    var maxStreams: Int
    var maxGroupUndo: Int
    var eventRetention: EventRetention?
    var streamHeartbeat: Int
    var readerThreads: Int

    /// Shortest admin token accepted: a guessable token is worse than none, since it invites
    /// a public bind.
    static let minimumAdminTokenLength = 16

    init(_ o: Serve, environment env: [String: String]) throws(SettingsError) {
        func text(_ flag: String?, _ name: String) -> String? {
            if let flag { return flag }
            if let v = env[name], !v.isEmpty { return v }
            return nil
        }
        func int(_ flag: Int?, _ name: String, default d: Int, range: ClosedRange<Int>, option: String) throws(SettingsError) -> Int {
            var value = d
            if let flag {
                value = flag
            } else if let v = env[name], !v.isEmpty {
                guard let n = Int(v) else { throw SettingsError("\(name)=\(v) is not an integer") }
                value = n
            }
            guard range.contains(value) else {
                throw SettingsError("\(option) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
            }
            return value
        }

        host = text(o.host, "VATKERNEL_HOST") ?? "127.0.0.1"
        let port = try int(o.port, "VATKERNEL_PORT", default: 8080, range: 0...65535, option: "--port")
        db = text(o.db, "VATKERNEL_DB") ?? "vatkernel.sqlite"
        let durabilityText = text(o.durability, "VATKERNEL_DURABILITY") ?? "full"
        guard let durability = SQLiteStore.Durability(rawValue: durabilityText) else {
            throw SettingsError("--durability must be full or normal, not \(durabilityText)")
        }
        self.durability = durability
        let modeText = text(o.runMode, "VATKERNEL_RUN_MODE") ?? "auto"
        guard let runMode = RunMode(rawValue: modeText) else {
            throw SettingsError("--run-mode must be auto or manual, not \(modeText)")
        }
        self.runMode = runMode

        adminToken = try Self.adminToken(inline: text(o.adminToken, "VATKERNEL_ADMIN_TOKEN"),
                                         file: text(o.adminTokenFile, "VATKERNEL_ADMIN_TOKEN_FILE"))
        if adminToken == nil, !Settings.isLoopback(host) {
            throw SettingsError("refusing to listen on \(host) without an admin token: anyone who can reach it could drive the kernel. Set --admin-token-file (or VATKERNEL_ADMIN_TOKEN), or listen on 127.0.0.1")
        }

        maxCranks = try int(o.maxCranks, "VATKERNEL_MAX_CRANKS", default: 100_000, range: 1...10_000_000, option: "--max-cranks")
        cleanupBudget = try int(o.cleanupBudget, "VATKERNEL_CLEANUP_BUDGET", default: 5_000, range: 1...10_000_000, option: "--cleanup-budget")
        maxSyscalls = try int(o.maxSyscalls, "VATKERNEL_MAX_SYSCALLS", default: 10_000, range: 1...1_000_000, option: "--max-syscalls")
        let maxBody = try int(o.maxBody, "VATKERNEL_MAX_BODY", default: 1 << 20, range: 0...(1 << 30), option: "--max-body")
        let maxHeader = try int(o.maxHeader, "VATKERNEL_MAX_HEADER", default: 16 * 1024, range: 256...(1 << 20), option: "--max-header")
        let maxConnections = try int(o.maxConnections, "VATKERNEL_MAX_CONNECTIONS", default: 1024, range: 1...1_000_000, option: "--max-connections")
        maxQueuedRequests = try int(o.maxQueuedRequests, "VATKERNEL_MAX_QUEUED_REQUESTS", default: 4096, range: 1...1_000_000, option: "--max-queued-requests")
        maxQueuedBytes = try int(o.maxQueuedBytes, "VATKERNEL_MAX_QUEUED_BYTES", default: 64 << 20, range: 1...(1 << 40), option: "--max-queued-bytes")
        if let r = text(o.eventRetention, "VATKERNEL_EVENT_RETENTION") {
            guard let retention = EventRetention(parsing: r) else {
                throw SettingsError("--event-retention must be a number of cranks (10000cranks) or a size (64MiB, 500MB), not \(r)")
            }
            eventRetention = retention
        } else {
            eventRetention = nil
        }
        maxStreams = try int(o.maxStreams, "VATKERNEL_MAX_STREAMS", default: 64, range: 0...100_000, option: "--max-streams")
        maxGroupUndo = try int(o.maxGroupUndo, "VATKERNEL_MAX_GROUP_UNDO", default: 1_000_000, range: 0...1_000_000_000, option: "--max-group-undo")
        readerThreads = try int(o.readerThreads, "VATKERNEL_READER_THREADS", default: 2, range: 0...64, option: "--reader-threads")
        streamHeartbeat = try int(o.streamHeartbeat, "VATKERNEL_STREAM_HEARTBEAT", default: 15, range: 1...3_600, option: "--stream-heartbeat")
        let idle = try int(o.idleTimeout, "VATKERNEL_IDLE_TIMEOUT", default: 60, range: 1...86_400, option: "--idle-timeout")
        let read = try int(o.readTimeout, "VATKERNEL_READ_TIMEOUT", default: 10, range: 1...3_600, option: "--read-timeout")
        let write = try int(o.writeTimeout, "VATKERNEL_WRITE_TIMEOUT", default: 30, range: 1...3_600, option: "--write-timeout")
        let pipelined = try int(o.maxPipelinedRequests, "VATKERNEL_MAX_PIPELINED_REQUESTS", default: 64, range: 1...4_096,
                                option: "--max-pipelined-requests")
        accessLog = o.accessLog || ["1", "true", "yes"].contains(env["VATKERNEL_ACCESS_LOG"]?.lowercased() ?? "")
        keepDeliveries = o.keepDeliveries || ["1", "true", "yes"].contains(env["VATKERNEL_KEEP_DELIVERIES"]?.lowercased() ?? "")
        let maxUnsent = try int(o.maxUnsentBytes, "VATKERNEL_MAX_UNSENT_BYTES", default: 4 << 20, range: 1...(1 << 40), option: "--max-unsent-bytes")
        http = HTTPServerConfiguration(
            host: host, port: port, maxHeaderBytes: maxHeader, maxBodyBytes: maxBody, maxConnections: maxConnections,
            idleTimeout: .seconds(idle), readTimeout: .seconds(read), writeTimeout: .seconds(write),
            maxPipelinedRequests: pipelined)
        http.maxUnsentBytes = maxUnsent
    }

    /// The admin token, given inline or in a file (once), checked: long enough, printable.
    static func adminToken(inline: String?, file: String?) throws(SettingsError) -> String? {
        if inline != nil, file != nil {
            throw SettingsError("give the admin token once: --admin-token (VATKERNEL_ADMIN_TOKEN) or --admin-token-file (VATKERNEL_ADMIN_TOKEN_FILE), not both")
        }
        var token = inline
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SettingsError("cannot read the admin token file \(file)")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let t = token {
            guard t.count >= Self.minimumAdminTokenLength else {
                throw SettingsError("the admin token must be at least \(Self.minimumAdminTokenLength) characters")
            }
            guard t.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw SettingsError("the admin token must be printable ASCII without spaces")
            }
        }
        return token
    }

    /// True for addresses only this machine can reach: 127.0.0.0/8, ::1, `localhost`.
    static func isLoopback(_ host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// A setting that cannot be used; the message says which and why.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
