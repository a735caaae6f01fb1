import ArgumentParser
import Foundation
import Synchronization
import KernelService

/// `vatkernel`: the VatKernel service (`serve`, the default subcommand) and a command-line
/// client of it built on VatKernelClient (`vat`, `send`, `syscalls`, `show`, `events`, `top`).
@main
struct VatKernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vatkernel",
        abstract: "An object-capability kernel in the style of Agoric's SwingSet, served over HTTP/JSON.",
        discussion: """
            With no subcommand, `vatkernel` serves (`vatkernel serve`). The client subcommands talk \
            to a running server: --url or VATKERNEL_URL (default http://127.0.0.1:8080), --token or \
            VATKERNEL_TOKEN; readable text by default, --json for scripts. A refused request prints \
            the server's status, code and message and exits 1.
            """,
        version: ServiceIdentity.currentVersion,
        subcommands: [Serve.self, VatCommand.self, Send.self, Syscalls.self, Show.self, Events.self, Top.self],
        defaultSubcommand: Serve.self)

    /// The root stays synchronous so that `serve` runs on the main thread before any other
    /// thread exists (it blocks SIGTERM and SIGINT there, for every thread it starts, and waits
    /// for them with sigwait). A client subcommand runs as a task while the main thread waits.
    static func main() {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        guard let client = command as? any AsyncParsableCommand else {
            var command = command
            do { try command.run() } catch { exit(withError: error) }
            return
        }
        let outcome = Outcome()
        // Detached: the main actor's thread is the one waiting. The command is sent to the
        // task, which alone uses it from then on.
        Task.detached { [client] in
            var command = client
            do { try await command.run() } catch { outcome.error.withLock { $0 = error } }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let error = outcome.error.withLock({ $0 }) { exit(withError: error) }
    }

    /// What the client command ended with, for the main thread once the task signals.
    final class Outcome: Sendable {
        let done = DispatchSemaphore(value: 0)
        let error = Mutex<(any Error)?>(nil)
    }
}
