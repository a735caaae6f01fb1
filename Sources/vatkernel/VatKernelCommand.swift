import ArgumentParser
import KernelService

/// `vatkernel`: the VatKernel service. One subcommand today, `serve`.
@main
struct VatKernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vatkernel",
        abstract: "An object-capability kernel in the style of Agoric's SwingSet, served over HTTP/JSON.",
        version: ServiceIdentity.currentVersion,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self)
}
