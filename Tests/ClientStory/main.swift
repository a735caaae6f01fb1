// The seed's story through VatKernelClient (Tests/e2e/swift-client.sh runs it against the real
// binary): bob exports an object to alice, abandons it, alice's send is rejected with
// Error("vat terminated"), she drops it, the orphan is retired, bob hears nothing more. Each
// vat is driven by a VatDriver; exact states at each step. Prints ok/FAIL lines and
// "N passed, N failed"; exits 1 on any failure.
//
//     ClientStory URL
import Foundation
import VatKernelClient

var passed = 0
var failed = 0

@MainActor func check<T: Equatable>(_ what: String, _ expected: T, _ actual: T) {
    if expected == actual {
        passed += 1
        print("ok   \(what)")
    } else {
        failed += 1
        print("FAIL \(what)\n     expected: \(expected)\n     actual:   \(actual)")
    }
}

func describe(_ delivery: Components.Schemas.Delivery) -> String {
    switch delivery {
    case .startVat(let d): "\(d.seq) startVat"
    case .message(let d):
        "\(d.seq) message \(d.target) \(d.methargs.call?.method ?? "?") \(d.methargs.slots) result \(d.result ?? "none")"
    case .notify(let d):
        "\(d.seq) notify " + d.resolutions.map { r in
            let error = r.data.body.value as? [String: (any Sendable)?]
            return "\(r.vpid) rejected \(r.rejected) \(error?["name"] as? String ?? "?")(\(error?["$error"] as? String ?? "?"))"
        }.joined(separator: ", ")
    case .retireImports(let d): "\(d.seq) retireImports \(d.vrefs)"
    default: "\(delivery.seq) other"
    }
}

func clist(_ host: Client, _ vatID: String) async throws -> [String] {
    try await withServerErrors {
        try await host.getCList(path: .init(vatID: vatID)).ok.body.json.entries.map { "\($0.kref) \($0.vref) \($0.reachable)" }
    }
}

func orphans(_ host: Client) async throws -> [String] {
    try await withServerErrors {
        try await host.listObjects(query: .init(owner: "none")).ok.body.json.objects.map { "\($0.kref) \($0.reachable)/\($0.recognizable)" }
    }
}

/// Drains `driver`'s log, recording what it saw; `reply` gives the syscalls for each delivery.
@MainActor func drain(
    _ driver: VatDriver, after: Int, reply: @escaping (Components.Schemas.Delivery) -> [Components.Schemas.Syscall] = { _ in [] }
) async throws -> (seen: [String], through: Int) {
    var seen: [String] = []
    let progress = try await driver.drain(after: after) { delivery in
        seen.append(describe(delivery))
        return reply(delivery)
    }
    return (seen, progress.through)
}

@MainActor func story(url: URL) async throws {
    let host = makeClient(url: url, token: nil)
    let alice = try await withServerErrors { try await host.createVat(body: .json(.init(name: "alice"))).created.body.json }
    let bob = try await withServerErrors { try await host.createVat(body: .json(.init(name: "bob"))).created.body.json }
    check("alice and bob, each with a root", ["v1", "ko20", "v2", "ko21"], [alice.vatID, alice.rootKref, bob.vatID, bob.rootKref])
    let aliceDriver = VatDriver(client: makeClient(url: url, token: alice.token), vatID: alice.vatID)
    let bobDriver = VatDriver(client: makeClient(url: url, token: bob.token), vatID: bob.vatID)

    let sent = try await withServerErrors {
        try await host.sendMessage(body: .json(.init(
            target: bob.rootKref, methargs: .init(method: "meet", args: [slotRef(0)], slots: [alice.rootKref])))).accepted.body.json
    }
    check("the host introduces alice to bob (no result promise)", nil, sent.result)
    let bobTake = Components.Schemas.Syscall.send(.init(
        _type: .send, target: "o-50", methargs: .init(method: "take", args: [slotRef(0)], slots: ["o+100"])))
    let bobStart = try await drain(bobDriver, after: 0) { delivery in
        if case .message = delivery { return [bobTake] } else { return [] }
    }
    check("bob's driver: startVat, then meet(alice) as o-50, answered with take(o+100)",
          ["1 startVat", "2 message o+0 meet [\"o-50\"] result none"], bobStart.seen)
    check("bob acknowledged through 2", 2, try await bobDriver.acknowledged())
    let aliceStart = try await drain(aliceDriver, after: 0)
    check("alice's driver: startVat, then take(o-50)", ["1 startVat", "2 message o+0 take [\"o-50\"] result none"], aliceStart.seen)
    let aliceList = try await clist(host, alice.vatID)
    let orphan = String(aliceList.last?.split(separator: " ").first ?? "")
    check("alice's c-list: her root and bob's object", ["ko20 o+0 true", "\(orphan) o-50 true"], aliceList)
    check("bob's c-list: his root, alice's, and his export",
          ["ko20 o-50 true", "ko21 o+0 true", "\(orphan) o+100 true"], try await clist(host, bob.vatID))

    let abandoned = try await bobDriver.post([.abandonExports(.init(_type: .abandonExports, vrefs: ["o+100"]))])
    check("bob abandons o+100", .ran(.init(_type: .ran, results: [nil])), abandoned)
    let detail = try await withServerErrors { try await host.getObject(path: .init(kref: orphan)).ok.body.json }
    check("the orphan: no owner, alice still reaches it, her import its one holder",
          "owner nil 1/1 pins 0 [\"importer v1 o-50 via nil 1/1\"]",
          "owner \(detail.owner ?? "nil") \(detail.reachable)/\(detail.recognizable) pins \(detail.pins) "
            + "\(detail.holders.map { "\($0.kind.rawValue) \($0.vatID ?? "nil") \($0.vref ?? "nil") via \($0.via ?? "nil") \($0.reachable)/\($0.recognizable)" })")
    check("GET /objects?owner=none lists it", ["\(orphan) 1/1"], try await orphans(host))
    check("bob's c-list lost o+100", ["ko20 o-50 true", "ko21 o+0 true"], try await clist(host, bob.vatID))

    let ping = try await aliceDriver.post([
        .send(.init(_type: .send, target: "o-50", methargs: .init(method: "ping"), result: "p+1")),
        .subscribe(.init(_type: .subscribe, vpid: "p+1")),
    ])
    check("alice sends ping() to it and subscribes", .ran(.init(_type: .ran, results: [nil, nil])), ping)
    let rejected = try await drain(aliceDriver, after: aliceStart.through) { delivery in
        if case .notify = delivery { return [.dropImports(.init(_type: .dropImports, vrefs: ["o-50"]))] } else { return [] }
    }
    check("her result is rejected with Error(\"vat terminated\"); her driver drops o-50",
          ["3 notify p+1 rejected true Error(vat terminated)"], rejected.seen)
    let retired = try await drain(aliceDriver, after: rejected.through)
    check("she is told to retire it", ["4 retireImports [\"o-50\"]"], retired.seen)
    do {
        _ = try await withServerErrors { try await host.getObject(path: .init(kref: orphan)).ok }
        check("the orphan is retired", "404 unknown-kref", "found")
    } catch let error as ServerError {
        check("the orphan is retired: 404 unknown-kref", "404 unknown-kref {\"kref\":\"\(orphan)\"}",
              "\(error.status) \(error.code) \(error.details ?? "")")
    }
    check("alice's c-list: only her root", ["ko20 o+0 true"], try await clist(host, alice.vatID))
    check("bob heard nothing after meet", [], try await drain(bobDriver, after: bobStart.through).seen)
    check("no orphans left", [], try await orphans(host))
    try await runUntilExit(host, url: url)
    let summary = try await withServerErrors { try await host.getKernel().ok.body.json }
    check("the kernel: idle, two running vats (carol exited), three roots, no promise, no GC action, empty queues",
          [1, 3, 2, 3, 0, 0, 0, 0, 0],
          [summary.idle ? 1 : 0, summary.vats, summary.runningVats, summary.objects, summary.promises, summary.gcActions,
           summary.queues.acceptance, summary.queues.run, summary.queues.reap])
}

/// VatDriver.run: carol's driver waits for deliveries until its answer to `stop()` exits the vat.
@MainActor func runUntilExit(_ host: Client, url: URL) async throws {
    let carol = try await withServerErrors { try await host.createVat(body: .json(.init(name: "carol"))).created.body.json }
    let driver = VatDriver(client: makeClient(url: url, token: carol.token), vatID: carol.vatID)
    let running = Task { @MainActor in
        var seen: [String] = []
        let progress = try await driver.run { delivery in
            seen.append(describe(delivery))
            guard case .message = delivery else { return [] }
            return [.exit(.init(_type: .exit, isFailure: false, info: .init(body: "done", slots: [])))]
        }
        return (seen, progress)
    }
    try await Task.sleep(for: .milliseconds(200))  // the driver is waiting on an empty log
    _ = try await withServerErrors {
        try await host.sendMessage(body: .json(.init(target: carol.rootKref, methargs: .init(method: "stop")))).accepted
    }
    let (seen, progress) = try await running.value
    check("carol's driver runs until her answer to stop() exits the vat",
          "[\"1 startVat\", \"2 message o+0 stop [] result none\"] through 2 handled 2 exited true",
          "\(seen) through \(progress.through) handled \(progress.handled) exited \(progress.exited)")
    let vat = try await withServerErrors { try await host.getVat(path: .init(vatID: carol.vatID)).ok.body.json }
    check("carol is terminated, not as a failure", "terminated false", "\(vat.status.rawValue) \(vat.termination?.isFailure ?? true)")
    let root = try await withServerErrors { try await host.getObject(path: .init(kref: carol.rootKref)).ok.body.json }
    check("her root stays, an orphan the host's pin holds", "owner nil pins 1 [\"pin\"]",
          "owner \(root.owner ?? "nil") pins \(root.pins) \(root.holders.map(\.kind.rawValue))")
}

guard CommandLine.arguments.count == 2, let url = URL(string: CommandLine.arguments[1]) else {
    print("usage: ClientStory URL")
    exit(2)
}
do {
    try await story(url: url)
} catch {
    failed += 1
    print("FAIL the story stopped: \(error)")
}
print("\(passed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
