import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §5, §13.2: a well-formed syscall that breaks a rule is vat-fatal. The whole
/// batch is rolled back, the vat is terminated with `Error(problem)`, and the outcome names
/// the syscall (index and type) and the problem.
///
/// Each case runs in `World.exported()` (A = v1 imports B's ko22 as `o-50`; B = v2 imports
/// A's root ko20 as `o-50`) after a legal prefix that touches every table (vatstore, a new
/// export, a new result promise, a new decided promise). A twin world gets the same setup and
/// then a host `terminate(vat, reason: problem)` instead of the batch: the two states must be
/// equal, which proves the prefix left no trace and the termination is the same.
@Suite struct IllegalSyscallTests {
    enum Actor: String, Sendable { case a, b }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var actor: Actor = .a
        var setup: @Sendable (World) throws -> Void = { _ in }
        var batch: [Syscall]
        /// Index of the illegal syscall within `batch` (the prefix comes first).
        var index = 0
        var syscall: String
        var problem: String
        var testDescription: String { name }
    }

    static let prefix: [Syscall] = [
        .vatstoreSet(key: "k", value: "v"),
        send("o-50", "hi", ["o+5"], result: "p+9"),
        .subscribe(vpid: v("p+8")),
    ]

    /// B sends A `take(p+1)`: A's `p-60` is kp40, decided by B.
    @Sendable static func bSendsAPromise(_ w: World) throws {
        #expect(try w.syscalls(VatID(2), [send("o-50", "take", ["p+1"])]) == .committed([.ok]))
        try w.run()
    }

    /// The host sends A `get()`: A decides the result, its `p-60`.
    @Sendable static func aDecidesAResult(_ w: World) throws {
        _ = try w.kernel.queueToKref(target: k("ko20"), methargs: methargs("get", [KRef]()), result: .ignore)
        try w.run()
    }

    static let cases: [Case] = [
        Case(name: "send to an unknown kernel-allocated vref", batch: [send("o-99", "x")],
             syscall: "send", problem: "unknown vatSlot o-99"),
        Case(name: "an unknown import promise as argument", batch: [send("o-50", "x", ["p-99"])],
             syscall: "send", problem: "unknown vatSlot p-99"),
        Case(name: "dropImports of a vref not in the c-list", batch: [.dropImports([v("o-51")])],
             syscall: "dropImports", problem: "vref o-51 not in clist"),
        Case(name: "retireImports of a vref not in the c-list", batch: [.retireImports([v("o-51")])],
             syscall: "retireImports", problem: "vref o-51 not in clist"),
        Case(name: "subscribe to an unknown import promise", batch: [.subscribe(vpid: v("p-99"))],
             syscall: "subscribe", problem: "unknown vatSlot p-99"),
        Case(name: "subscribe to an object", batch: [.subscribe(vpid: v("o+0"))],
             syscall: "subscribe", problem: "syscall.subscribe but o+0 is not a promise"),
        Case(name: "an unknown device node", batch: [send("o-50", "x", ["d-70"])],
             syscall: "send", problem: "unknown vatSlot d-70"),
        Case(name: "exporting a device node", batch: [send("o-50", "x", ["d+1"])],
             syscall: "send", problem: "vat may not export device node d+1"),
        Case(name: "retireImports before dropImports", batch: [.retireImports([v("o-50")])],
             syscall: "retireImports", problem: "syscall.retireImports but o-50 is still reachable"),
        Case(name: "retireExports before dropExports", actor: .b, batch: [.retireExports([v("o+100")])],
             syscall: "retireExports", problem: "syscall.retireExports but o+100 is still reachable"),
        Case(name: "retireExports of an import", batch: [.retireExports([v("o-50")])],
             syscall: "retireExports", problem: "syscall.retireExports but o-50 is not an object export"),
        Case(name: "retireExports of a vref not in the c-list", batch: [.retireExports([v("o+77")])],
             syscall: "retireExports", problem: "vref o+77 not in clist"),
        Case(name: "abandoning an import", batch: [.abandonExports([v("o-50")])],
             syscall: "abandonExports", problem: "syscall.abandonExports but o-50 is not an object export"),
        Case(name: "abandoning a promise", batch: [.subscribe(vpid: v("p+1")), .abandonExports([v("p+1")])], index: 1,
             syscall: "abandonExports", problem: "syscall.abandonExports but p+1 is not an object export"),
        Case(name: "abandoning a vref not in the c-list", batch: [.abandonExports([v("o+77")])],
             syscall: "abandonExports", problem: "vref o+77 not in clist"),
        Case(name: "the same vref twice in one abandonExports", actor: .b, batch: [.abandonExports([v("o+100"), v("o+100")])],
             syscall: "abandonExports", problem: "syscall.abandonExports names o+100 twice"),
        Case(name: "abandoning the same export in two syscalls", actor: .b,
             batch: [.abandonExports([v("o+100")]), .abandonExports([v("o+100")])], index: 1,
             syscall: "abandonExports", problem: "vref o+100 not in clist"),
        Case(name: "dropImports of an export", batch: [.dropImports([v("o+0")])],
             syscall: "dropImports", problem: "syscall.dropImports but o+0 is not an object import"),
        Case(name: "dropImports of a promise", setup: bSendsAPromise, batch: [.dropImports([v("p-60")])],
             syscall: "dropImports", problem: "syscall.dropImports but p-60 is not an object import"),
        Case(name: "retireImports of an export", batch: [.retireImports([v("o+0")])],
             syscall: "retireImports", problem: "syscall.retireImports but o+0 is not an object import"),
        Case(name: "resolving a promise another vat decides", setup: bSendsAPromise,
             batch: [.resolve([fulfilled("p-60", .int(1))])],
             syscall: "resolve", problem: "syscall.resolve but v1 is not the decider of p-60 (decider: v2)"),
        Case(name: "resolving the result of its own send", batch: [send("o-50", "q", result: "p+1"), .resolve([fulfilled("p+1", .int(1))])],
             index: 1, syscall: "resolve", problem: "syscall.resolve but v1 is not the decider of p+1 (decider: none)"),
        Case(name: "resolving twice in one resolve", batch: [.subscribe(vpid: v("p+1")), .resolve([fulfilled("p+1", .int(1)), fulfilled("p+1", .int(2))])],
             index: 1, syscall: "resolve", problem: "syscall.resolve but p+1 is already resolved"),
        Case(name: "resolving a received result twice", setup: aDecidesAResult,
             batch: [.resolve([fulfilled("p-60", .int(1))]), .resolve([fulfilled("p-60", .int(2))])],
             index: 1, syscall: "resolve", problem: "unknown vatSlot p-60"),
        Case(name: "resolving to a promise", batch: [.resolve([fulfilled("p+1", .slot(0), ["p+2"])])],
             syscall: "resolve", problem: "syscall.resolve of p+1: cannot resolve to a promise (p+2)"),
        Case(name: "resolving an object", batch: [.resolve([fulfilled("o+0", .int(1))])],
             syscall: "resolve", problem: "syscall.resolve but o+0 is not a promise"),
        Case(name: "send with a non-promise result", batch: [send("o-50", "x", result: "o+5")],
             syscall: "send", problem: "syscall.send result o+5 is not a promise"),
        Case(name: "send with an already-used result", batch: [send("o-50", "x", result: "p+1"), send("o-50", "y", result: "p+1")],
             index: 1, syscall: "send", problem: "vref p+1 is already allocated"),
        Case(name: "send with an imported promise as result", setup: bSendsAPromise, batch: [send("o-50", "x", result: "p-60")],
             syscall: "send", problem: "vref p-60 is already allocated"),
        Case(name: "send to a dropped import", batch: [.dropImports([v("o-50")]), send("o-50", "x")],
             index: 1, syscall: "send", problem: "vat tried to access unreachable import o-50"),
        Case(name: "a dropped import as argument", batch: [.dropImports([v("o-50")]), send("o+0", "x", ["o-50"])],
             index: 1, syscall: "send", problem: "vat tried to access unreachable import o-50"),
        Case(name: "an illegal syscall after a happy exit", batch: [.exit(isFailure: false, info: CapData(body: .string("bye"))), .dropImports([v("o+0")])],
             index: 1, syscall: "dropImports", problem: "syscall.dropImports but o+0 is not an object import"),
        Case(name: "exit info naming an unknown import", batch: [.exit(isFailure: false, info: CapData(body: .slot(0), slots: [v("o-99")]))],
             syscall: "exit", problem: "unknown vatSlot o-99"),
    ]

    @Test(arguments: cases)
    func isVatFatalAndRollsBackTheBatch(_ c: Case) throws {
        let (w, _, _) = try World.exported()
        let (twin, _, _) = try World.exported()
        try c.setup(w)
        try c.setup(twin)
        #expect(w.kernel.state == twin.kernel.state)
        let vat = c.actor == .a ? VatID(1) : VatID(2)
        let crank = w.kernel.state.counters.crank + 1

        let outcome = try w.syscalls(vat, Self.prefix + c.batch)
        #expect(outcome == .illegal(index: Self.prefix.count + c.index, syscall: c.syscall, problem: c.problem))
        #expect(w.termination(vat) == TerminationInfo(isFailure: true, info: .error(c.problem), crank: crank))
        #expect(w.vatstore(vat) == [:])

        try twin.kernel.terminate(vat, reason: c.problem)
        #expect(w.kernel.state == twin.kernel.state)
        try w.run()
        try twin.run()
        #expect(w.kernel.state == twin.kernel.state)
        #expect(w.problems() == [])
    }

    @Test func theFirstIllegalSyscallIsReportedAndNothingOfTheBatchStays() throws {
        let (w, a, b) = try World.exported()
        let before = w.kernel.state
        let outcome = try w.syscalls(a, [
            .vatstoreSet(key: "k", value: "v"),
            send("o-50", "hi", ["o+5"], result: "p+1"),
            .subscribe(vpid: v("p+1")),
            .dropImports([v("o-50")]),
            .retireImports([v("o-77")]),
            .abandonExports([v("o-50")]),
        ])
        #expect(outcome == .illegal(index: 4, syscall: "retireImports", problem: "vref o-77 not in clist"))
        // Tables exactly as before except A's status (cleanup is still pending).
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "R o-50"])
        #expect(w.clist(b) == ["ko21": "R o+0", "ko20": "R o-50", "ko22": "R o+100"])
        #expect(w.objects == ["ko20 v1 2,2", "ko21 v2 1,1", "ko22 v2 1,1"])
        #expect(w.kernel.state.promises.isEmpty)
        #expect(w.events(.acceptance) == [] && w.events(.run) == [])
        #expect(w.gcActions == [])
        #expect(w.vatstore(a) == [:])
        #expect(w.kernel.state.counters.nextObject == before.counters.nextObject)
        #expect(w.kernel.state.counters.nextPromise == before.counters.nextPromise)
        #expect(w.deliveries(a).count == 2 && w.deliveries(b).count == 2)
        #expect(w.termination(a)?.info == .error("vref o-77 not in clist"))
        #expect(!w.isAlive(a))
        #expect(w.problems() == [])
    }

    @Test func promisesTheVatDecidedAreRejectedWhenItDiesOfAnIllegalSyscall() throws {
        let (w, a, b) = try World.exported()
        // B asks A something and subscribes: A decides kp40 (its p-60).
        try w.syscalls(b, [send("o-50", "ask", result: "p+1"), .subscribe(vpid: v("p+1"))])
        try w.run()
        #expect(w.deliveries(a).last == message("o+0", "ask", result: "p-60"))
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers=v2 queue=0 refCount=2")

        #expect(try w.syscalls(a, [.resolve([fulfilled("p-60", .int(1))]), .dropImports([v("o+0")])])
            == .illegal(index: 1, syscall: "dropImports", problem: "syscall.dropImports but o+0 is not an object import"))
        // The resolve was rolled back: the kernel rejects kp40 for the dead decider instead.
        #expect(w.promise(k("kp40")) == "rejected refCount=3")
        #expect(w.data(k("kp40")) == .error("vat terminated"))
        #expect(w.events(.acceptance) == ["notify v2 kp40"])
        try w.run()
        #expect(w.deliveries(b).last == .notify([rejected("p+1", "vat terminated")]))
        #expect(w.problems() == [])
    }

    @Test func aBatchFromATerminatedVatThrowsAndChangesNothing() throws {
        let (w, a, _) = try World.exported()
        try w.kernel.terminate(a, reason: "stop")
        let before = w.kernel.state
        let commits = w.storage.commits
        #expect(throws: KernelError.vatTerminated(a)) { try w.syscalls(a, [.vatstoreSet(key: "k", value: "v")]) }
        #expect(throws: KernelError.vatTerminated(a)) { try w.syscalls(a, []) }
        #expect(w.kernel.state == before)
        try w.run()
        let cleaned = w.kernel.state
        #expect(throws: KernelError.vatTerminated(a)) { try w.syscalls(a, [.dropImports([v("o-50")])]) }
        #expect(w.kernel.state == cleaned)
        #expect(w.storage.commits == commits + 3) // cleanup, then dropExports and retireExports to B
        #expect(w.problems() == [])
    }

    @Test func aBatchFromAnUnknownVatThrowsAndChangesNothing() throws {
        let (w, _, _) = try World.exported()
        let before = w.kernel.state
        #expect(throws: KernelError.unknownVat(VatID(9))) { try w.syscalls(VatID(9), [.vatstoreSet(key: "k", value: "v")]) }
        #expect(w.kernel.state == before)
    }

    @Test func aBatchLongerThanTheLimitIsRefused() throws {
        var config = KernelConfiguration()
        config.maxSyscallsPerBatch = 2
        let (w, a, _) = try World.exported(configuration: config)
        let before = w.kernel.state
        #expect(throws: KernelError.self) {
            try w.syscalls(a, Array(repeating: .vatstoreSet(key: "k", value: "v"), count: 3))
        }
        #expect(w.kernel.state == before)
        #expect(w.isAlive(a))
        #expect(try w.syscalls(a, Array(repeating: .vatstoreSet(key: "k", value: "v"), count: 2)) == .committed([.ok, .ok]))
        #expect(w.problems() == [])
    }
}
