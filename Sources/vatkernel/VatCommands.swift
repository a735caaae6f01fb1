import ArgumentParser
import Foundation
import OpenAPIRuntime
import VatKernelClient

/// `vatkernel vat create|list`.
struct VatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vat", abstract: "Create and list vats.", subcommands: [Create.self, List.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a vat (POST /vats); prints its ID, root object and token (the token is shown only once).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The vat's name.") var name: String

        func run() async throws {
            try await clientCommand {
                let vat = try await options.client().createVat(body: .json(.init(name: name))).created.body.json
                try options.output(vat) { ["\(vat.vatID) \(vat.name) root \(vat.rootKref)", "token \(vat.token)"] }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the vats (GET /vats, every page).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await clientCommand {
                let client = try options.client()
                var vats: [Components.Schemas.Vat] = []
                var after: String?
                repeat {
                    let page = try await client.listVats(query: .init(after: after)).ok.body.json
                    vats += page.vats
                    after = page.next ?? nil
                } while after != nil
                if options.json { return try options.printJSON(vats) }
                say(vats.isEmpty ? "no vats" : vats.map(Self.line).joined(separator: "\n"))
            }
        }

        static func line(_ v: Components.Schemas.Vat) -> String {
            let state = v.termination.map { $0.isFailure ? "terminated (failure)" : "terminated" } ?? v.status.rawValue
            return "\(v.vatID)\t\(v.name)\t\(state)\tincarnation \(v.incarnation)\tc-list \(v.clistSize)\t"
                + "deliveries \(v.deliveryCount) (acknowledged \(v.deliveriesAcknowledged))"
        }
    }
}

/// `vatkernel send TARGET METHOD [ARG...]`.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a message from the host (POST /messages).",
        discussion: """
            Each ARG is a JSON value; a kref argument (ko…/kp…) becomes a slot, written \
            {"$slot":N} in the body. --methargs gives the whole methargs JSON instead.
            """)
    @OptionGroup var options: ClientOptions
    @Argument(help: "The target kref (ko… or kp…).") var target: String
    @Argument(help: "The method name.") var method: String?
    @Argument(help: "The arguments: krefs, or JSON values.") var args: [String] = []
    @Option(help: "The whole methargs, as JSON ({\"body\":[method,[args]],\"slots\":[krefs]}).") var methargs: String?
    @Option(help: "none: no result promise; keep: the host holds the result; ignore: a result nobody holds.")
    var result: String?

    func run() async throws {
        let body = try methargsValue()
        var policy: Components.Schemas.ResultPolicy?
        if let result {
            guard let p = Components.Schemas.ResultPolicy(rawValue: result) else { throw ValidationError("--result: none, keep or ignore") }
            policy = p
        }
        try await clientCommand {
            let sent = try await options.client().sendMessage(
                body: .json(.init(target: target, methargs: body, result: policy))).accepted.body.json
            try options.output(sent) { [sent.result.map { "sent; result \($0)" } ?? "sent (no result promise)"] }
        }
    }

    func methargsValue() throws -> Components.Schemas.MethargsK {
        if let methargs {
            guard method == nil, args.isEmpty else { throw ValidationError("--methargs replaces METHOD and ARGs") }
            return try jsonValue(methargs, as: Components.Schemas.MethargsK.self, what: "--methargs")
        }
        guard let method else { throw ValidationError("give METHOD (or --methargs)") }
        var slots: [String] = []
        let values = try args.map { arg -> OpenAPIValueContainer in
            if arg.wholeMatch(of: /k[op](0|[1-9][0-9]*)/) != nil {
                slots.append(arg)
                return slotRef(slots.count - 1)
            }
            return try jsonValue(arg, as: OpenAPIValueContainer.self, what: "argument")
        }
        return .init(method: method, args: values, slots: slots)
    }
}

/// `vatkernel syscalls VATID [FILE]`.
struct Syscalls: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post a batch of a vat's syscalls (POST /vats/{vatID}/syscalls) from a file or standard input.",
        discussion: """
            The file holds {"syscalls":[...]} or just the array. Use the vat's token (--token or \
            VATKERNEL_TOKEN), or the admin token.
            """)
    @OptionGroup var options: ClientOptions
    @Argument(help: "The vat.") var vatID: String
    @Argument(help: "The batch's JSON file; - or none: standard input.") var file: String?

    func run() async throws {
        let data: Data
        if let file, file != "-" {
            guard let d = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            data = d
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        try await clientCommand {
            let batch = try Self.batch(data)
            let answer = try await options.client().postSyscalls(path: .init(vatID: vatID), body: .json(batch)).ok.body.json
            try options.output(answer) {
                switch answer {
                case .ran(let r): ["ran; results \(Self.results(r.results))"]
                case .exited(let e): ["exited (\(e.isFailure ? "failure" : "success")); the vat is terminated; results \(Self.results(e.results))"]
                }
            }
        }
    }

    static func batch(_ data: Data) throws -> Components.Schemas.SyscallBatch {
        let trimmed = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("[") {
            return .init(syscalls: try JSONDecoder().decode([Components.Schemas.Syscall].self, from: Data(trimmed.utf8)))
        }
        return try JSONDecoder().decode(Components.Schemas.SyscallBatch.self, from: Data(trimmed.utf8))
    }

    static func results(_ results: [String?]) -> String {
        "[" + results.map { $0.map { "\"\($0)\"" } ?? "null" }.joined(separator: ", ") + "]"
    }
}

/// `vatkernel show REF`.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an object (ko…) or promise (kp…) with its holders (GET /objects/{kref}, GET /promises/{kpid}).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The kref.") var kref: String

    func run() async throws {
        try await clientCommand {
            let client = try options.client()
            if kref.hasPrefix("kp") {
                let p = try await client.getPromise(path: .init(kpid: kref)).ok.body.json
                try options.output(p) {
                    ["\(p.kpid) \(p.state.rawValue), decider \(p.decider ?? "none"), subscribers \(p.subscribers.isEmpty ? "none" : p.subscribers.joined(separator: " ")), "
                        + "refCount \(p.refCount), held by the host \(p.heldByHost), \(p.queue.count) queued"]
                        + (p.data.map { ["data \(Self.json($0))"] } ?? []) + Self.holders(p.holders)
                }
            } else {
                let o = try await client.getObject(path: .init(kref: kref)).ok.body.json
                try options.output(o) {
                    ["\(o.kref) owner \(o.owner ?? "none (orphan)"), reachable \(o.reachable), recognizable \(o.recognizable), pins \(o.pins)"]
                        + Self.holders(o.holders)
                }
            }
        }
    }

    static func holders(_ holders: [Components.Schemas.Holder]) -> [String] {
        guard !holders.isEmpty else { return ["no holders"] }
        return ["holders:"] + holders.map { h in
            var words = ["  \(h.kind.rawValue)"]
            if let vat = h.vatID { words.append(vat) }
            if let vref = h.vref { words.append(vref) }
            if let via = h.via { words.append("via \(via)") }
            words.append("reachable \(h.reachable), recognizable \(h.recognizable)")
            return words.joined(separator: " ")
        }
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}
