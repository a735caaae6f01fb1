import ArgumentParser

/// The exit statuses of `vatkernel serve` (sysexits.h), so scripts can tell why it stopped.
extension ExitCode {
    /// A setting is missing, malformed or refused (e.g. a public host without an admin token).
    static let usage = ExitCode(64)
    /// The port could not be bound.
    static let unavailable = ExitCode(69)
    /// The stored state fails the kernel's audit: refusing to serve it.
    static let auditFailed = ExitCode(70)
    /// The store could not be opened or read.
    static let storeFailed = ExitCode(74)
}
