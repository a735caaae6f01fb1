import Foundation

/// Who the running service is, as `GET /version` and `vatkernel --version` tell it.
///
/// Made by the executable at start-up: the start time and the instance ID are the only clock
/// reading and the only randomness about it, and they stay outside the kernel core. A client
/// that sees the instance ID change knows the server restarted between two of its requests.
public struct ServiceIdentity: Sendable, Equatable {
    /// This build's version.
    public static let currentVersion = "0.1.0"

    /// The build's version (``currentVersion`` unless a test says otherwise).
    public var version: String
    /// The store's schema version this build writes.
    public var schemaVersion: Int
    /// When the service started, RFC 3339 in UTC with milliseconds.
    public var startedAt: String
    /// Random, new on every start: 32 hex digits.
    public var instanceID: String

    /// An identity started now with a fresh instance ID, unless told otherwise.
    public init(version: String = ServiceIdentity.currentVersion, schemaVersion: Int,
                startedAt: String = Timestamp.now().rfc3339, instanceID: String = ServiceIdentity.newInstanceID()) {
        self.version = version
        self.schemaVersion = schemaVersion
        self.startedAt = startedAt
        self.instanceID = instanceID
    }

    /// 16 random bytes as 32 hex digits.
    public static func newInstanceID() -> String {
        var rng = SystemRandomNumberGenerator()
        return hex(rng.next()) + hex(rng.next())
    }

    /// A 64-bit number as 16 lowercase hex digits.
    static func hex(_ n: UInt64) -> String {
        let s = String(n, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// A wall-clock reading, for the start time and the access log.
public struct Timestamp: Sendable {
    /// Seconds and nanoseconds since the Unix epoch.
    public var seconds: Int
    public var nanoseconds: Int

    /// The system's real-time clock now.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int(ts.tv_sec), nanoseconds: Int(ts.tv_nsec))
    }

    /// `2026-12-02T10:30:00.123Z`.
    public var rfc3339: String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ n: Int32, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(nanoseconds / 1_000_000), 3))Z"
    }
}
