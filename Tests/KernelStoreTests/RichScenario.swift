import VatKernel
import TestSupport

/// A kernel state with something in every table, built through the kernel's public calls only,
/// so the same calls on two kernels give the same state. Ends mid-way: a terminated vat with
/// cleanup pending, GC actions pending, events in all three queues.
enum RichScenario {
    static var configuration: KernelConfiguration {
        var c = KernelConfiguration()
        c.cleanupBudget = 2
        return c
    }

    /// Vats: alice v1, bob v2, carol v3 (terminated, cleanup pending), dave v4 (upgraded).
    /// `flush` is called between phases, as a service would after each group of requests.
    static func build(_ kernel: Kernel, flush: () throws -> Void = {}) throws {
        let alice = try kernel.createVat(name: "alice", options: .object([
            "exact": .array([.double(1.0), .double(-0.0), .double(2.5), .double(1e300), .int(3), .int(-7)]),
            "text": .string("ålice \"quoted\" \\ back\nslash\u{1} 🐢"),
            "flags": .object(["on": .bool(true), "off": .bool(false), "none": .null]),
        ]))
        let bob = try kernel.createVat(name: "bob")
        let carol = try kernel.createVat(name: "carol", vatParameters: CapData(body: .object(["friend": .slot(0)]), slots: [alice.rootKref]))
        let dave = try kernel.createVat(name: "dave")
        try flush()

        // The host introduces everyone to bob and keeps the result promise (a held result).
        _ = try kernel.queueToKref(target: bob.rootKref,
                                   methargs: methargs("meet", [alice.rootKref, carol.rootKref, dave.rootKref]), result: .keep)
        _ = try kernel.drain()
        let (aliceInBob, carolInBob, daveInBob) = (kernel.vref(bob.vatID, alice.rootKref), kernel.vref(bob.vatID, carol.rootKref), kernel.vref(bob.vatID, dave.rootKref))

        // Bob exports, sends with results, subscribes, queues on a promise, writes his vatstore.
        _ = try kernel.syscalls([
            send(aliceInBob, "hello", ["o+100"], result: "p+1"),
            .subscribe(vpid: v("p+1")),
            send(carolInBob, "hold", ["o+101", "o+d5/3"], result: "p+2"),
            send(daveInBob, "connect", ["o+103"], result: "p+3"),
            .subscribe(vpid: v("p+3")),
            .vatstoreSet(key: "a", value: "1"),
            .vatstoreSet(key: "b", value: "two\u{0}nul"),
        ], from: bob.vatID)
        _ = try kernel.drain()
        _ = try kernel.syscalls([send("p+1", "later", ["o+104"])], from: bob.vatID)
        // Bob fulfils the host's meet() result with a new export.
        let meetResult = try kernel.deliveries(bob.vatID).compactMap { r -> VRef? in
            if case .message(_, _, let result) = r.delivery { return result }
            return nil
        }.first!
        _ = try kernel.syscalls([.resolve([VatResolution(vpid: meetResult, rejected: false,
                                                         data: CapData(body: .array([.slot(0), .double(0.5)]), slots: [v("o+102")]))])],
                                from: bob.vatID)
        _ = try kernel.drain()
        try flush()

        // Carol exports to bob and keeps a vatstore, then is terminated by the host.
        let bobInCarol = kernel.vref(carol.vatID, kernel.kref(bob.vatID, "o+101"))
        _ = try kernel.syscalls([
            send(bobInCarol, "give", ["o+7", "o+8", "o+v9/1:2"], result: "p+4"),
            .vatstoreSet(key: "k1", value: "x"), .vatstoreSet(key: "k2", value: "y"), .vatstoreSet(key: "k3", value: "z"),
        ], from: carol.vatID)
        _ = try kernel.drain()

        // Dave offers bob a durable and an ephemeral export, then is upgraded.
        let bobInDave = sorted(kernel.state.clists[dave.vatID]!).first { $0.entry.vref.isObjectImport }!.entry.vref.description
        _ = try kernel.syscalls([send(bobInDave, "offer", ["o+5", "o+d9/1"])], from: dave.vatID)
        _ = try kernel.drain()
        let upgraded = try kernel.upgrade(dave.vatID, UpgradeRequest(
            vatParameters: CapData(body: .string("v2"), slots: [bob.rootKref]), upgradeMessage: "new code",
            boydSyscalls: [.vatstoreSet(key: "boyd", value: "yes")],
            startVatSyscalls: [.vatstoreSet(key: "started", value: "1"), send(bobInDave, "hiAgain")]))
        try check(upgraded == .upgraded(incarnation: 1), "dave upgraded: \(upgraded)")
        _ = try kernel.drain()
        try flush()

        // Bob abandons his export alice holds; pins; a second held result.
        _ = try kernel.syscalls([.abandonExports([v("o+100")])], from: bob.vatID)
        let pinned = try kernel.addExport(vat: alice.vatID, vref: v("o+9"))
        try kernel.pin(pinned)

        // Carol dies; cleanup (2 entries per crank) runs for one crank only.
        try kernel.terminate(carol.vatID, reason: "bored")
        while let r = try kernel.step() { if r.kind == .cleanupTerminatedVat { break } }
        try check(kernel.state.vats[carol.vatID]?.cleanedUp == false, "carol's cleanup is pending")

        // Bob drops dave's durable export: a GC action stays pending.
        let durable = sorted(kernel.state.clists[bob.vatID]!).first { e in kernel.state.objects[e.kref.number]?.owner == dave.vatID && e.kref != dave.rootKref }!.entry.vref
        _ = try kernel.syscalls([.dropImports([durable])], from: bob.vatID)
        // One event in each queue: reap, run (routed once), acceptance.
        try kernel.bringOutYourDead(alice.vatID)
        _ = try kernel.queueToKref(target: alice.rootKref, methargs: methargs("ping", [KRef]()), result: .ignore)
        let routed = try kernel.step()?.kind
        try check(routed == .route, "the ping was routed")
        _ = try kernel.queueToKref(target: bob.rootKref, methargs: methargs("pong", [pinned]), result: .keep)
        try flush()

        let s = kernel.state
        try check(!s.gcActions.isEmpty, "a GC action is pending")
        try check(!s.acceptanceQueue.isEmpty && !s.runQueue.isEmpty && !s.reapQueue.isEmpty, "every queue holds an event")
        try check(!s.heldResults.isEmpty && !s.pins.isEmpty, "held results and pins")
        try check(s.promises.rows.values.contains { !$0.queue.isEmpty && !$0.subscribers.isEmpty }, "a promise with a queue and subscribers")
        try check(s.promises.rows.values.contains { $0.state == .fulfilled } && s.promises.rows.values.contains { $0.state == .rejected }, "settled promises")
        try check(s.objects.rows.values.contains { $0.owner == nil }, "an orphan")
    }

    /// Further work on a kernel built by `build`: runs everything (cleanup finishes, GC runs),
    /// then more syscalls, an upgrade and a termination. Returns every crank's report.
    static func proceed(_ kernel: Kernel) throws -> [CrankReport] {
        var reports = try kernel.drain()
        let alice = VatID(1), bob = VatID(2), dave = VatID(4)
        let helloResult = try kernel.deliveries(alice).compactMap { r -> VRef? in
            if case .message(_, let m, let result) = r.delivery, m.methodName == "hello" { return result }
            return nil
        }.first!
        _ = try kernel.syscalls([
            .resolve([VatResolution(vpid: helloResult, rejected: true, data: .error("no thanks"))]),
            .vatstoreSet(key: "seen", value: "hello"),
        ], from: alice)
        reports += try kernel.drain()
        _ = try kernel.upgrade(dave, UpgradeRequest(upgradeMessage: "again"))
        reports += try kernel.drain()
        try kernel.terminate(bob, reason: "done")
        reports += try kernel.drain()
        return reports
    }
}

/// A step of the scenario did not lead where it should (the core changed under the test).
struct ScenarioError: Error, CustomStringConvertible {
    let description: String
}

func check(_ condition: Bool, _ what: String) throws {
    if !condition { throw ScenarioError(description: "scenario: expected \(what)") }
}
