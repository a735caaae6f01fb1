import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §4, §13.2, §13.3: every crank is atomic; what the store holds is exactly what
/// the kernel committed; a kernel reloaded from the store, or fed the same calls, behaves the same.
@Suite struct CrankAtomicityTests {
    struct DiskFull: Error {}

    func isStorageFailure(_ error: any Error) -> Bool {
        if case KernelError.storageFailure = error { return true }
        return false
    }

    @Test func aFailedCommitOfASyscallBatchLeavesNoTrace() throws {
        let (w, a, b) = try World.exported()
        let before = w.kernel.state
        let commits = w.storage.commits
        w.storage.failNextCommit = DiskFull()
        let batch: [Syscall] = [.vatstoreSet(key: "k", value: "v"), send("o-50", "hi", ["o+5"], result: "p+1"),
                                .subscribe(vpid: v("p+1")), .dropImports([v("o-50")])]
        let error = #expect(throws: KernelError.self) { try w.syscalls(a, batch) }
        #expect(error.map(isStorageFailure) == true)
        #expect(w.kernel.state == before)
        #expect(w.storage.commits == commits)
        #expect(w.problems() == [])
        // The same batch then commits as if the failure never happened.
        #expect(try w.syscalls(a, batch) == .committed([.ok, .ok, .ok, .ok]))
        #expect(w.clist(a) == ["ko20": "R o+0", "ko22": "_ o-50", "ko23": "R o+5", "kp40": "R p+1"])
        #expect(w.kernel.state.counters.crank == before.counters.crank + 1)
        _ = b
        #expect(w.problems() == [])
    }

    @Test func aFailedCommitOfAStepLeavesNoTraceAndTheStepIsRetried() throws {
        let (w, a, b) = try World.exported()
        let (twin, _, _) = try World.exported()
        for world in [w, twin] {
            try world.syscalls(a, [send("o-50", "ping", ["o+5"], result: "p+1"), .dropImports([v("o-50")])])
        }
        // Cranks pending: route, the delivery, then dropExports. Each one fails once first.
        var cranks = 0
        while !w.kernel.isIdle {
            let before = w.kernel.state
            w.storage.failNextCommit = DiskFull()
            let error = #expect(throws: KernelError.self) { try w.step() }
            #expect(error.map(isStorageFailure) == true)
            #expect(w.kernel.state == before)
            #expect(w.problems() == [])
            let report = try w.step()
            #expect(report == (try twin.step()))
            #expect(w.kernel.state == twin.kernel.state)
            cranks += 1
        }
        #expect(cranks == 3)
        #expect(w.deliveries(b, after: 2) == [message("o+100", "ping", ["o-51"], result: "p-60"), .dropExports([v("o+100")])])
        #expect(w.problems() == [])
    }

    @Test func failedCommitsOfHostRequestsLeaveNoTrace() throws {
        let (w, _, b) = try World.exported()
        let before = w.kernel.state
        let attempts: [(String, () throws -> Void)] = [
            ("createVat", { _ = try w.createVat("carol") }),
            ("queueToKref", { _ = try w.kernel.queueToKref(target: k("ko21"), methargs: methargs("x", [KRef]()), result: .keep) }),
            ("pin", { try w.kernel.pin(k("ko22")) }),
            ("unpin", { try w.kernel.unpin(k("ko21")) }),
            ("addExport", { _ = try w.kernel.addExport(vat: b, vref: v("o+9")) }),
            ("bringOutYourDead", { try w.kernel.bringOutYourDead(b) }),
            ("terminate", { try w.kernel.terminate(b, reason: "x") }),
            ("upgrade", { _ = try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "m")) }),
        ]
        for (name, attempt) in attempts {
            w.storage.failNextCommit = DiskFull()
            #expect(throws: KernelError.self, "\(name)") { try attempt() }
            #expect(w.kernel.state == before, "\(name)")
        }
        #expect(w.problems() == [])
    }

    /// An export whose object another vat owns cannot come from a vat's syscall: abandoning
    /// it halts the kernel (a bug) instead of terminating the vat as if the syscall were illegal.
    @Test func abandoningAnExportOwnedByAnotherVatIsAKernelBug() throws {
        let (w, _, b) = try World.exported()
        w.kernel.state.objects.rows[22]?.owner = VatID(1)  // behind the kernel's back
        let corrupted = w.kernel.state
        #expect(throws: KernelError.halted(reason: "orphaning ko22, which v2 exports but does not own")) {
            try w.syscalls(b, [.abandonExports([v("o+100")])])
        }
        #expect(w.kernel.state == corrupted)
        #expect(w.kernel.state.vats[b]?.isAlive == true)
    }

    @Test func aBrokenInvariantHaltsTheKernelAndKeepsWhatWasCommitted() throws {
        let (w, a, _) = try World.exported()
        let committed = w.kernel.state
        // Corrupt the in-memory table behind the kernel's back: A's reachable import no longer counts.
        w.kernel.state.objects.rows[22] = KernelObject(owner: VatID(2), reachable: 0, recognizable: 1)
        let corrupted = w.kernel.state

        let error = #expect(throws: KernelError.self) { try w.syscalls(a, [.vatstoreSet(key: "k", value: "v"), .dropImports([v("o-50")])]) }
        guard case .halted(let reason)? = error else {
            Issue.record("expected halted, got \(String(describing: error))")
            return
        }
        #expect(reason == "object ko22 reachable below zero")
        #expect(w.kernel.haltedReason == reason)
        #expect(w.kernel.state == corrupted)
        #expect(w.storage.state == committed)
        // Nothing runs any more.
        #expect(throws: KernelError.halted(reason: reason)) { try w.step() }
        #expect(throws: KernelError.halted(reason: reason)) { try w.syscalls(a, [.vatstoreSet(key: "k", value: "v")]) }
        #expect(throws: KernelError.halted(reason: reason)) { try w.kernel.pin(k("ko20")) }

        // A restart loads the last committed state, and the same batch then works.
        let restarted = try Kernel(storage: w.storage)
        #expect(restarted.state == committed)
        #expect(restarted.haltedReason == nil)
        #expect(try restarted.syscalls([.vatstoreSet(key: "k", value: "v"), .dropImports([v("o-50")])], from: a) == .committed([.ok, .ok]))
        #expect(restarted.state.objects[22] == KernelObject(owner: VatID(2), reachable: 0, recognizable: 1))
        #expect(restarted.audit() == [])
        #expect(w.storage.state == restarted.state)
    }

    /// A scenario touching every table, in four parts, driven against a bare kernel.
    func scenario(_ kernel: Kernel, part: Int) throws {
        let a = VatID(1), b = VatID(2), c = VatID(3)
        switch part {
        case 1:
            _ = try kernel.createVat(name: "alice")
            _ = try kernel.createVat(name: "bob")
            _ = try kernel.queueToKref(target: k("ko21"), methargs: methargs("meet", [k("ko20")]), result: .keep)
            try kernel.run()
            #expect(try kernel.syscalls([send("o-50", "take", ["o+1", "o+v2/1", "o+d3/1", "p+1"], result: "p+2"), .subscribe(vpid: v("p+2")),
                                         .vatstoreSet(key: "x", value: "1")], from: b) == .committed([.ok, .ok, .ok]))
            try kernel.run()
        case 2:
            #expect(try kernel.syscalls([.dropImports([v("o-51")]), .subscribe(vpid: v("p-60")), .resolve([fulfilled("p-61", .slot(0), ["o-52"])])],
                                        from: a) == .committed([.ok, .ok, .ok]))
            try kernel.run(maxCranks: 2)
            #expect(try kernel.upgrade(b, UpgradeRequest(upgradeMessage: "up", startVatSyscalls: [send("o-50", "back", ["o+d3/1"])]))
                == .upgraded(incarnation: 1))
            try kernel.run()
        case 3:
            #expect(try kernel.createVat(name: "carol").rootKref == k("ko25"))
            _ = try kernel.queueToKref(target: k("ko25"), methargs: methargs("meet", [k("ko20"), k("ko21")]), result: .ignore)
            try kernel.run()
            #expect(try kernel.syscalls([send("o-50", "hello", ["o+1"]), send("o-51", "hello", ["o+1"])], from: c) == .committed([.ok, .ok]))
            try kernel.terminate(a, reason: "done")
            try kernel.run(maxCranks: 3)
        default:
            try kernel.run()
            #expect(try kernel.syscalls([.dropImports([v("o-50")]), .retireImports([v("o-50")])], from: b) == .committed([.ok, .ok]))
            try kernel.run()
        }
    }

    @Test func twoKernelsFedTheSameCallsHaveEqualStates() throws {
        let one = World()
        let two = World()
        for part in 1...4 {
            try scenario(one.kernel, part: part)
            try scenario(two.kernel, part: part)
            #expect(one.kernel.state == two.kernel.state)
            #expect(one.storage.commits == two.storage.commits)
        }
        #expect(one.kernel.state.counters.nextObject > 25)
        #expect(one.problems() == [] && two.problems() == [])
    }

    @Test(arguments: 1...3)
    func aKernelReloadedFromItsStoreContinuesIdentically(afterPart: Int) throws {
        let original = World()
        let twin = World()
        for part in 1...afterPart {
            try scenario(original.kernel, part: part)
            try scenario(twin.kernel, part: part)
        }
        let reloaded = try Kernel(storage: original.storage)
        #expect(reloaded.state == original.kernel.state)
        for part in (afterPart + 1)...4 {
            try scenario(reloaded, part: part)
            try scenario(twin.kernel, part: part)
            #expect(reloaded.state == twin.kernel.state)
        }
        #expect(reloaded.state.counters == twin.kernel.state.counters)
        #expect(reloaded.state.deliveryLogs == twin.kernel.state.deliveryLogs)
        for vat in twin.kernel.state.vats.rows.keys {
            #expect(try reloaded.deliveries(vat) == twin.kernel.deliveries(vat))
        }
        #expect(original.storage.state == reloaded.state)
        #expect(reloaded.audit() == [])
    }

    @Test func aKernelReloadedInTheMiddleOfSlowCleanupFinishesItIdentically() throws {
        var config = KernelConfiguration()
        config.cleanupBudget = 2
        let (w, a, b) = try World.exported(configuration: config)
        let (twin, _, _) = try World.exported(configuration: config)
        for world in [w, twin] {
            try world.syscalls(b, [send("o-50", "take", ["o+1", "o+2", "o+3"]), .vatstoreSet(key: "a", value: "1"), .vatstoreSet(key: "b", value: "2")])
            try world.run()
            try world.kernel.terminate(b, reason: "stop")
            try world.step()
        }
        let reloaded = try Kernel(configuration: config, storage: w.storage)
        var reports: [CrankReport] = []
        var twinReports: [CrankReport] = []
        while let r = try reloaded.step() { reports.append(r) }
        while let r = try twin.step() { twinReports.append(r) }
        #expect(reports == twinReports)
        #expect(reports.count == 3)
        #expect(reloaded.state == twin.kernel.state)
        #expect(reloaded.state.clists[b]?.count == 0)
        #expect(reloaded.state.vatstores[b] == [:])
        _ = a
        #expect(twin.problems() == [])
        #expect(reloaded.audit() == [])
    }

    /// More than 1024 events pass through the queues, so they compact between cranks; a crank
    /// failing right after that still rolls back cleanly, and the store keeps up.
    @Test func longQueuesCompactWithoutChangingWhatTheyHold() throws {
        let w = World()
        let twin = World()
        for world in [w, twin] {
            let a = try world.createVat("alice").vatID
            for i in 0..<1100 { _ = try world.kernel.queueToKref(target: k("ko20"), methargs: methargs("m\(i)", [KRef]()), result: .none) }
            #expect(try world.kernel.run(maxCranks: 1050).cranks == 1050)
            _ = a
        }
        #expect(w.kernel.state == twin.kernel.state)
        let before = w.kernel.state
        w.storage.failNextCommit = DiskFull()
        #expect(throws: KernelError.self) { try w.step() }
        #expect(w.kernel.state == before)
        try w.run()
        try twin.run()
        #expect(w.kernel.state == twin.kernel.state)
        #expect(w.deliveries(VatID(1)).count == 1101)
        #expect(w.deliveries(VatID(1)).last == message("o+0", "m1099"))
        #expect(w.problems() == [])
        #expect(try Kernel(storage: w.storage).state == w.kernel.state)
    }
}
