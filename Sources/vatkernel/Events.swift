import ArgumentParser
import Foundation
import OpenAPIRuntime
import VatKernelClient

/// `vatkernel events [--follow]`.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the event log (GET /events), one line per event; --follow waits for new ones (long poll).")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only events after this seq.") var after = 0
    @Option(help: "Only events of this type: deliver, gc-action, crank-finish.") var type: String?
    @Option(help: "Only events about this vat.") var vat: String?
    @Flag(help: "Keep printing events as they are committed, until interrupted.") var follow = false

    func run() async throws {
        var kind: Components.Schemas.LogEventType?
        if let type {
            guard let k = Components.Schemas.LogEventType(rawValue: type) else {
                throw ValidationError("--type: deliver, gc-action or crank-finish")
            }
            kind = k
        }
        try await clientCommand {
            let client = try options.client()
            var cursor = after
            while true {
                let page = try await client.listEvents(
                    query: .init(after: cursor, _type: kind, vat: vat, wait: follow ? 10 : nil)).ok.body.json
                for event in page.events {
                    if options.json { try options.printJSON(event) } else { say(Self.line(event)) }
                    cursor = Self.seq(event)
                }
                if page.next == nil && !follow { break }
            }
        }
    }

    /// The event's fields as JSON values (every event type has `seq`, `crank` and `type`).
    static func fields(_ event: Components.Schemas.LogEvent) -> [String: Any] {
        let data = (try? JSONEncoder().encode(event)) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    static func seq(_ event: Components.Schemas.LogEvent) -> Int {
        fields(event)["seq"] as? Int ?? 0
    }

    /// `#12 crank 5 deliver v2 #3 message o+0 meet(o-50)`: seq, crank, type and vat, then the
    /// type's own fields (a few in words, the others as `key=value`).
    static func line(_ event: Components.Schemas.LogEvent) -> String {
        var f = fields(event)
        var words = ["#\(f.removeValue(forKey: "seq") ?? "?")", "crank \(f.removeValue(forKey: "crank") ?? "?")"]
        words.append(f.removeValue(forKey: "type") as? String ?? "?")
        if let vat = f.removeValue(forKey: "vatID") { words.append("\(vat)") }
        switch event {
        case .deliver(let e):
            words += ["#\(e.deliveryNum)", view(e.vd.additionalProperties.value)]
        case .syscall(let e):
            words += ["#\(e.syscallNum)", view(e.vsc.additionalProperties.value)]
        case .gcAction(let e):
            words += [e.action, e.kref, e.added ? "added" : "done"]
        case .crankFinish(let e):
            words += ["\(e.changes) changes, crankhash \(e.crankhash.prefix(12))"]
        default:
            words += f.keys.sorted().map { "\($0)=\(compact(f[$0] ?? NSNull()))" }
        }
        return words.joined(separator: " ")
    }

    static func compact(_ value: Any) -> String {
        if let text = value as? String { return text }
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A delivery view in a few words: its type, then the message or the vrefs.
    static func view(_ vd: [String: (any Sendable)?]) -> String {
        let type = vd["type"] as? String ?? "?"
        if let target = vd["target"] as? String, let methargs = vd["methargs"] as? [String: (any Sendable)?] {
            let body = methargs["body"] as? [(any Sendable)?]
            let method = body?.first as? String ?? "?"
            let slots = (methargs["slots"] as? [(any Sendable)?])?.compactMap { $0 as? String } ?? []
            return "\(type) \(target) \(method)(\(slots.joined(separator: ", ")))"
        }
        if let vrefs = vd["vrefs"] as? [(any Sendable)?] {
            return "\(type) \(vrefs.compactMap { $0 as? String }.joined(separator: " "))"
        }
        if let resolutions = vd["resolutions"] as? [(any Sendable)?] {
            let vpids = resolutions.compactMap { ($0 as? [String: (any Sendable)?])?["vpid"] as? String }
            return "\(type) \(vpids.joined(separator: " "))"
        }
        return type
    }
}
