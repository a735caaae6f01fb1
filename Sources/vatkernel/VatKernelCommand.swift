import ArgumentParser
import Foundation
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
        let outcome = Outcome(client)
        let done = DispatchSemaphore(value: 0)
        // Detached: the main actor's thread is the one waiting.
        Task.detached {
            do { try await outcome.command.run() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { exit(withError: error) }
    }

    /// The client command and what it ended with: the task alone touches them until it signals,
    /// the main thread only after.
    final class Outcome: @unchecked Sendable {
        var command: any AsyncParsableCommand
        var error: (any Error)?

        init(_ command: any AsyncParsableCommand) { self.command = command }
    }
}
