import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §10 and §13.4: upgrade is one crank.
@Suite struct UpgradeTests {
    /// A = v1 (root ko20), B = v2 (root ko21); each imports the other's root as `o-50`.
    /// B sends A `take(o+5, o+v6/1, o+d7/1, o+8, p+1, p+2)` and subscribes to its own `p+2`:
    /// ko22 = o+5, ko23 = o+v6/1, ko24 = o+d7/1, ko25 = o+8, kp40 = p+1, kp41 = p+2 (A's
    /// o-51…o-54, p-60, p-61). A subscribes to both, drops `o-54` (ko25 becomes `0,1`, B gets
    /// dropExports) and sends B `m1` with result `p+1` (kp42, B's `p-60`).
    /// So B decides kp40, kp41 (self-subscribed) and kp42.
    func upgradable() throws -> (World, VatID, VatID) {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(b, [send("o-50", "take", ["o+5", "o+v6/1", "o+d7/1", "o+8", "p+1", "p+2"]), .subscribe(vpid: v("p+2"))])
        try w.run()
        try w.syscalls(a, [.subscribe(vpid: v("p-60")), .subscribe(vpid: v("p-61")),
                           send("o-50", "m1", result: "p+1"), .subscribe(vpid: v("p+1")), .dropImports([v("o-54")])])
        try w.run()
        return (w, a, b)
    }

    func upgraded(_ message: String, incarnation: Int) -> JSONValue {
        .object(["name": .string("vatUpgraded"), "upgradeMessage": .string(message), "incarnationNumber": .int(incarnation)])
    }

    @Test func theStartingState() throws {
        let (w, a, b) = try upgradable()
        #expect(w.deliveries(a, after: 1) == [message("o+0", "meet", ["o-50"]), message("o+0", "take", ["o-51", "o-52", "o-53", "o-54", "p-60", "p-61"])])
        #expect(w.deliveries(b, after: 1) == [message("o+0", "meet", ["o-50"]), .dropExports([v("o+8")]), message("o+0", "m1", result: "p-60")])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o+5", "ko23": "R o+v6/1", "ko24": "R o+d7/1",
                               "ko25": "_ o+8", "kp40": "R p+1", "kp41": "R p+2", "kp42": "R p-60"])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 2,2", "ko22 v2 1,1", "ko23 v2 1,1", "ko24 v2 1,1", "ko25 v2 0,1"])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2")
        #expect(w.promise(k("kp41")) == "unresolved decider=v2 subscribers=v1,v2 queue=0 refCount=2")
        #expect(w.promise(k("kp42")) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2")
        #expect(w.kernel.state.vats[b]?.incarnation == 0)
        #expect(w.problems() == [])
    }

    @Test func upgradeRejectsAbandonsAndStartsANewIncarnation() throws {
        let (w, a, b) = try upgradable()
        #expect(try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "v2 upgrade")) == .upgraded(incarnation: 1))
        #expect(w.kernel.state.vats[b]?.incarnation == 1)
        #expect(w.isAlive(b))
        #expect(w.deliveries(b, after: 4) == [.bringOutYourDead, .startVat(vatParameters: CapData(body: .null))])

        // Decided promises rejected with the vatUpgraded record, in vref text order. kp41 is
        // self-subscribed: B's entry stays for the notify; the others' entries went at once.
        let record = CapData<KRef>(body: upgraded("v2 upgrade", incarnation: 0))
        for kp in ["kp40", "kp41", "kp42"] { #expect(w.data(k(kp)) == record) }
        #expect(w.promise(k("kp40")) == "rejected refCount=2")
        #expect(w.promise(k("kp41")) == "rejected refCount=4")
        #expect(w.promise(k("kp42")) == "rejected refCount=2")
        #expect(w.events(.acceptance) == ["notify v1 kp40", "notify v1 kp41", "notify v2 kp41", "notify v1 kp42"])

        // Non-durable exports abandoned except o+0; o+d7/1 kept with owner, flag and counts;
        // the unreachable o+8 (0,1) retired at once.
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko24": "R o+d7/1", "kp41": "R p+2"])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 2,2", "ko22 orphan 1,1", "ko23 orphan 1,1", "ko24 v2 1,1"])
        #expect(w.gcActions == ["v1 retireImport ko25"])

        #expect(w.cranks() == ["route v1", "route v1", "route v2", "route v1", "gc-delivery v1",
                               "delivery v1", "delivery v1", "delivery v2", "delivery v1"])
        let data = CapData<VRef>(body: upgraded("v2 upgrade", incarnation: 0))
        #expect(w.deliveries(a, after: 3) == [
            .retireImports([v("o-54")]),
            .notify([VatResolution(vpid: v("p-60"), rejected: true, data: data)]),
            .notify([VatResolution(vpid: v("p-61"), rejected: true, data: data)]),
            .notify([VatResolution(vpid: v("p+1"), rejected: true, data: data)]),
        ])
        #expect(w.deliveries(b, after: 6) == [.notify([VatResolution(vpid: v("p+2"), rejected: true, data: data)])])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko24": "R o+d7/1"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50", "ko22": "R o-51", "ko23": "R o-52", "ko24": "R o-53"])
        #expect(w.kernel.state.promises.isEmpty)

        // The abandoned object rejects; the durable one still reaches the new incarnation.
        try w.syscalls(a, [send("o-51", "ping", result: "p+2"), .subscribe(vpid: v("p+2")),
                           send("o-53", "ping", result: "p+3"), .subscribe(vpid: v("p+3"))])
        try w.run()
        #expect(w.deliveries(a).last == .notify([rejected("p+2", "vat terminated")]))
        #expect(w.deliveries(b).last == message("o+d7/1", "ping", result: "p-61"))
        #expect(w.problems() == [])
    }

    @Test func theFinalBOYDAndStartVatSyscallsRunInsideTheCrank() throws {
        let (w, a, b) = try upgradable()
        let request = UpgradeRequest(
            vatParameters: CapData(body: .slot(0), slots: [k("ko20")]), upgradeMessage: "m",
            boydSyscalls: [.dropImports([v("o-50")]), .retireImports([v("o-50")])],
            startVatSyscalls: [.vatstoreSet(key: "version", value: "2"), send("o-51", "hello", ["o+d7/1"])])
        #expect(try w.kernel.upgrade(b, request) == .upgraded(incarnation: 1))
        // The old incarnation retired ko20's o-50; the parameters bring it back as a new o-51.
        #expect(w.deliveries(b, after: 4) == [.bringOutYourDead, .startVat(vatParameters: CapData(body: .slot(0), slots: [v("o-51")]))])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-51", "ko24": "R o+d7/1", "kp41": "R p+2"])
        #expect(w.kernel.state.vats[b]?.vatParameters == CapData(body: .slot(0), slots: [k("ko20")]))
        // pin + B's import + vatParameters + the queued hello.
        #expect(w.object(k("ko20")) == "v1 4,4")
        #expect(w.object(k("ko24")) == "v2 2,2")
        #expect(w.vatstore(b) == ["version": "2"])
        #expect(w.events(.acceptance) == ["notify v1 kp40", "notify v1 kp41", "notify v2 kp41", "notify v1 kp42", "send ko20 hello [ko24]"])
        #expect(w.kernel.holders(of: k("ko20")).map(\.kind) == [.exporter, .importer, .pin, .queuedEvent, .vatParameters])
        try w.run()
        #expect(w.deliveries(a).last == message("o+0", "hello", ["o-53"]))
        #expect(w.object(k("ko20")) == "v1 3,3")
        #expect(w.problems() == [])
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        var name: String
        var request: UpgradeRequest
        var reason: String
        var testDescription: String { name }
    }

    static let failures: [Failure] = [
        Failure(name: "illegal syscall in the final BOYD",
                request: UpgradeRequest(upgradeMessage: "m", boydSyscalls: [.vatstoreSet(key: "boyd", value: "1"), .retireImports([v("o-50")])]),
                reason: "illegal syscall in the final bringOutYourDead: syscall.retireImports but o-50 is still reachable"),
        Failure(name: "illegal syscall in startVat",
                request: UpgradeRequest(upgradeMessage: "m", boydSyscalls: [.dropImports([v("o-50")])],
                                        startVatSyscalls: [.vatstoreSet(key: "x", value: "y"), send("o+0", "hi", ["o+9"]), .dropImports([v("o+0")])]),
                reason: "illegal syscall in startVat: syscall.dropImports but o+0 is not an object import"),
        Failure(name: "exit in startVat",
                request: UpgradeRequest(upgradeMessage: "m", startVatSyscalls: [.exit(isFailure: false, info: CapData(body: .null))]),
                reason: "illegal syscall in startVat: syscall.exit is not allowed during an upgrade"),
        Failure(name: "the new incarnation fails to start",
                request: UpgradeRequest(vatParameters: CapData(body: .slot(0), slots: [k("ko22")]), upgradeMessage: "m",
                                        boydSyscalls: [.abandonExports([v("o+d7/1")])],
                                        startVatSyscalls: [.vatstoreSet(key: "x", value: "y")], startVatFails: true),
                reason: "the new incarnation failed to start"),
    ]

    @Test(arguments: failures)
    func aFailedUpgradeRollsEverythingBack(_ f: Failure) throws {
        let (w, _, b) = try upgradable()
        let before = w.kernel.state
        let commits = w.storage.commits
        #expect(try w.kernel.upgrade(b, f.request) == .failed(reason: f.reason))
        #expect(w.kernel.state == before)
        #expect(w.storage.commits == commits)
        #expect(w.isAlive(b))
        #expect(w.kernel.state.vats[b]?.incarnation == 0)
        // The vat carries on as before: a plain upgrade still works.
        #expect(try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "again")) == .upgraded(incarnation: 1))
        try w.run()
        #expect(w.problems() == [])
    }

    @Test func durabilityDecidesWhatSurvivesEvenWhenUnreachable() throws {
        let (w, a, b) = try World.exported()
        let exports = ["o+v7/1:0", "o+v6/2", "o+d9/1", "o+d9/2", "o+3"]
        try w.syscalls(b, [send("o-50", "take", exports)])
        try w.run()
        // ko23 o+v7/1:0, ko24 o+v6/2, ko25 o+d9/1, ko26 o+d9/2, ko27 o+3 (A: o-51 … o-55).
        // A drops o+v6/2 and o+d9/1: B is told dropExports for both.
        try w.syscalls(a, [.dropImports([v("o-52"), v("o-53")])])
        try w.run()
        #expect(w.deliveries(b).last == .dropExports([v("o+v6/2"), v("o+d9/1")]))

        #expect(try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "m")) == .upgraded(incarnation: 1))
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko25": "_ o+d9/1", "ko26": "R o+d9/2"])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 1,1", "ko22 orphan 1,1", "ko23 orphan 1,1",
                              "ko25 v2 0,1", "ko26 v2 1,1", "ko27 orphan 1,1"])
        #expect(w.gcActions == ["v1 retireImport ko24"])
        #expect(w.cranks() == ["gc-delivery v1"])
        #expect(w.deliveries(a).last == .retireImports([v("o-52")]))
        #expect(w.problems() == [])
    }

    @Test func eachUpgradeNamesTheIncarnationItEnds() throws {
        let (w, a, b) = try World.exported()
        #expect(try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "first")) == .upgraded(incarnation: 1))
        try w.run()
        // A meets B's root (its o-51); the new incarnation decides a promise A waits on.
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("meet", [k("ko21")]), result: .none)
        try w.run()
        try w.syscalls(a, [send("o-51", "ask", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.run()
        #expect(w.deliveries(b).last == message("o+0", "ask", result: "p-60"))
        #expect(try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "second")) == .upgraded(incarnation: 2))
        try w.run()
        #expect(w.deliveries(a).last == .notify([VatResolution(vpid: v("p+1"), rejected: true,
                                                               data: CapData(body: upgraded("second", incarnation: 1)))]))
        #expect(w.deliveries(b, after: 2).map(\.typeName) == ["bringOutYourDead", "startVat", "message", "bringOutYourDead", "startVat"])
        // o+100 was ephemeral: orphaned by the first upgrade.
        #expect(w.object(k("ko22")) == "orphan 1,1")
        #expect(w.problems() == [])
    }

    @Test func upgradingATerminatedOrUnknownVatThrows() throws {
        let (w, _, b) = try World.exported()
        #expect(throws: KernelError.unknownVat(VatID(5))) { try w.kernel.upgrade(VatID(5), UpgradeRequest()) }
        try w.kernel.terminate(b, reason: "stop")
        let before = w.kernel.state
        #expect(throws: KernelError.vatTerminated(b)) { try w.kernel.upgrade(b, UpgradeRequest()) }
        #expect(throws: KernelError.unknownKRef(k("ko99"))) {
            try w.kernel.upgrade(VatID(1), UpgradeRequest(vatParameters: CapData(body: .slot(0), slots: [k("ko99")])))
        }
        #expect(w.kernel.state == before)
    }

    /// §10 step 5: an incarnation's parameters are held by the kernel (incRef new, decRef old);
    /// §9: cleanup releases the last incarnation's.
    @Test func vatParametersAreHeldPerIncarnationAndReleasedAtCleanup() throws {
        let w = World()
        _ = try w.createVat("alice")
        let b = try w.kernel.createVat(name: "bob", vatParameters: CapData(body: .slot(0), slots: [k("ko20")])).vatID
        #expect(w.deliveries(b) == [.startVat(vatParameters: CapData(body: .slot(0), slots: [v("o-50")]))])
        #expect(w.object(k("ko20")) == "v1 3,3")  // pin, parameters, B's import
        #expect(try w.kernel.upgrade(b, UpgradeRequest(vatParameters: CapData(body: .slot(0), slots: [k("ko20")]))) == .upgraded(incarnation: 1))
        #expect(w.object(k("ko20")) == "v1 3,3")
        #expect(w.deliveries(b).last == .startVat(vatParameters: CapData(body: .slot(0), slots: [v("o-50")])))
        #expect(try w.kernel.upgrade(b, UpgradeRequest()) == .upgraded(incarnation: 2))
        #expect(w.object(k("ko20")) == "v1 2,2")
        #expect(try w.kernel.upgrade(b, UpgradeRequest(vatParameters: CapData(body: .array([.slot(0)]), slots: [k("ko20")]))) == .upgraded(incarnation: 3))
        #expect(w.object(k("ko20")) == "v1 3,3")
        try w.kernel.terminate(b, reason: "stop")
        try w.run()
        #expect(w.object(k("ko20")) == "v1 1,1")
        #expect(w.kernel.state.vats[b]?.vatParameters == CapData(body: .null))
        #expect(w.problems() == [])
    }
}
