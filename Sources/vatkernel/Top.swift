import ArgumentParser
import Foundation
import OpenAPIRuntime
import VatKernelClient

/// `vatkernel top`: a live view of the kernel, refreshed from GET /metrics and GET /events.
struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A live view: cranks per second, queue lengths, objects, promises, orphans and the busiest vats.",
        discussion: """
            Each refresh reads GET /metrics (cranks, queues, objects, promises, vats), GET \
            /objects?owner=none (orphans), GET /vats (names) and the deliver events since the last \
            refresh (busiest vats). Ctrl-C quits. --json prints one sample per line instead.
            """)
    @OptionGroup var options: ClientOptions
    @Option(help: "Seconds between refreshes.") var interval = 1.0
    @Option(help: "Stop after this many refreshes (0: until interrupted).") var iterations = 0

    /// One refresh.
    struct Sample: Encodable {
        var cranksPerSecond: Double
        var cranks: Int
        var queues: [String: Int]
        var gcActions: Int
        var objects: Int
        var promises: Int
        var orphans: Int
        var runningVats: Int
        var terminatedVats: Int
        /// Deliveries per vat since the previous refresh, busiest first.
        var busiest: [Busy]

        struct Busy: Encodable {
            var vatID: String
            var name: String
            var deliveries: Int
        }
    }

    func run() async throws {
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        try await clientCommand {
            let client = try options.client()
            var skipped: [String: Int] = [:]  // what happened before top started
            var cursor = try await Self.deliverEvents(client, after: 0, counts: &skipped)
            var previous: (cranks: Int, at: ContinuousClock.Instant)?
            var done = 0
            while iterations == 0 || done < iterations {
                var counts: [String: Int] = [:]
                cursor = try await Self.deliverEvents(client, after: cursor, counts: &counts)
                let metrics = try await Self.metrics(client)
                let now = ContinuousClock.now
                let cranks = Int(metrics.sum("vatkernel_cranks_total"))
                let elapsed = previous.map { Self.seconds(now - $0.at) } ?? 0
                let rate = previous.map { elapsed > 0 ? Double(cranks - $0.cranks) / elapsed : 0 } ?? 0
                previous = (cranks, now)
                let sample = try await Self.sample(client, metrics: metrics, cranks: cranks, rate: rate, counts: counts)
                if options.json { try options.printJSON(sample) } else { write(render(sample, elapsed: elapsed)) }
                done += 1
                if iterations == 0 || done < iterations { try await Task.sleep(for: .seconds(interval)) }
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func sample(
        _ client: Client, metrics: Metrics, cranks: Int, rate: Double, counts: [String: Int]
    ) async throws -> Sample {
        let orphans = try await client.listObjects(query: .init(owner: "none", limit: 1000)).ok.body.json.objects.count
        let vats = try await client.listVats(query: .init(limit: 1000)).ok.body.json.vats
        let names = Dictionary(vats.map { ($0.vatID, $0.name) }, uniquingKeysWith: { a, _ in a })
        let busiest = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(8)
            .map { Sample.Busy(vatID: $0.key, name: names[$0.key] ?? "", deliveries: $0.value) }
        return Sample(
            cranksPerSecond: (rate * 10).rounded() / 10, cranks: cranks,
            queues: Dictionary(uniqueKeysWithValues: ["run", "acceptance", "reap"].map {
                ($0, Int(metrics.value("vatkernel_queue_length", label: "queue=\"\($0)\"")))
            }),
            gcActions: Int(metrics.value("vatkernel_gc_actions_pending")),
            objects: Int(metrics.value("vatkernel_objects")), promises: Int(metrics.value("vatkernel_promises")),
            orphans: orphans,
            runningVats: Int(metrics.value("vatkernel_vats", label: "status=\"running\"")),
            terminatedVats: Int(metrics.value("vatkernel_vats", label: "status=\"terminated\"")),
            busiest: busiest)
    }

    func render(_ s: Sample, elapsed: Double) -> String {
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        var lines = [
            "vatkernel top    \(options.url ?? ProcessInfo.processInfo.environment["VATKERNEL_URL"] ?? "http://127.0.0.1:8080")    every \(interval)s    Ctrl-C quits",
            "",
            pad("cranks/s", 14) + pad(String(format: "%.1f", s.cranksPerSecond), 12) + "cranks \(s.cranks)",
            pad("queues", 14) + "run \(s.queues["run"] ?? 0)   acceptance \(s.queues["acceptance"] ?? 0)   reap \(s.queues["reap"] ?? 0)   gc actions \(s.gcActions)",
            pad("objects", 14) + pad("\(s.objects)", 12) + "promises \(s.promises)   orphans \(s.orphans)",
            pad("vats", 14) + "\(s.runningVats) running, \(s.terminatedVats) terminated",
            "",
            "busiest vats (deliveries in the last \(String(format: "%.1f", elapsed))s)",
        ]
        lines += s.busiest.isEmpty ? ["  none"] : s.busiest.map { "  " + pad($0.vatID, 8) + pad($0.name, 16) + "\($0.deliveries)" }
        // Home, clear the screen, then the frame; each line cleared to its end.
        return "\u{1B}[H\u{1B}[2J" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\n"
    }

    /// Reads the deliver events after `after` (at most 20 pages), counting them by vat into
    /// `counts`; returns the new cursor.
    static func deliverEvents(_ client: Client, after: Int, counts: inout [String: Int]) async throws -> Int {
        var cursor = after
        for _ in 0..<20 {
            let page = try await client.listEvents(query: .init(after: cursor, limit: 1000, _type: .deliver)).ok.body.json
            for case .deliver(let e) in page.events {
                counts[e.vatID, default: 0] += 1
                cursor = e.seq
            }
            guard let next = page.next else { break }
            cursor = next
        }
        return cursor
    }

    static func metrics(_ client: Client) async throws -> Metrics {
        let body = try await client.getMetrics().ok.body.plainText
        return Metrics(text: try await String(collecting: body, upTo: 8 << 20))
    }

    /// The Prometheus text format, as `name{labels} value` lines.
    struct Metrics {
        var samples: [(name: String, labels: String, value: Double)] = []

        init(text: String) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                let key = line[..<space]
                if let brace = key.firstIndex(of: "{") {
                    samples.append((String(key[..<brace]), String(key[key.index(after: brace)...].dropLast()), value))
                } else {
                    samples.append((String(key), "", value))
                }
            }
        }

        func sum(_ name: String) -> Double { samples.filter { $0.name == name }.reduce(0) { $0 + $1.value } }

        func value(_ name: String, label: String? = nil) -> Double {
            samples.first { sample in sample.name == name && (label.map { sample.labels.contains($0) } ?? true) }?.value ?? 0
        }
    }
}
