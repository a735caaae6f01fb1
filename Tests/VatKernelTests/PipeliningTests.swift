import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §5.1, §6, §7: a vat created with `enablePipelining` (SwingSet's comms vat)
/// receives messages sent to promises it decides at once, addressed to the promise, instead of
/// having them wait in the promise's queue. The cases of agoric-sdk's kernel.test.js
/// (pipelined promise queueing with and without delay, a result promise in the arguments) and
/// vpid-kernel.test.js (the reflected message, vpid cases 3 and 7 in every resolution mode),
/// then what becomes of pipelined messages when the decider resolves, changes, dies or upgrades.
///
/// Each world is `World.acquainted`: A = v1 (root ko20), B = v2 (root ko21); A's `o-50` is B's
/// root, B's `o-50` is A's root; both logs hold [startVat, meet].
@Suite struct PipeliningTests {
    static let pipelining: JSONValue = .object(["enablePipelining": .bool(true)])

    /// A's `foo` to `target` with result p+1, then `bar` to p+1 (result p+2), `urgh` to p+2 (result p+3).
    static func chain(_ target: String) -> [Syscall] {
        [send(target, "foo", result: "p+1"), send("p+1", "bar", result: "p+2"), send("p+2", "urgh", result: "p+3")]
    }

    // MARK: - kernel.test.js

    @Test func withoutTheOptionMessagesToAResultWaitInItsQueue() throws {
        // SwingSet's "non-pipelined promise queueing": bar waits on p1 once B decides it,
        // urgh waits on p2, which nobody decides.
        let (w, a, b) = try World.acquainted()
        try w.syscalls(a, Self.chain("o-50"))
        #expect(w.promise(k("kp40")) == "unresolved decider=none subscribers= queue=0 refCount=3")
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers= queue=0 refCount=3")
        #expect(w.promise(k("kp42")) == "unresolved decider=none subscribers= queue=0 refCount=2")
        #expect(w.cranks() == ["route v2", "route", "route", "delivery v2"])
        #expect(w.deliveries(b, after: 2) == [message("o+0", "foo", result: "p-60")])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=1 refCount=3")
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers= queue=1 refCount=3")
        #expect(w.promise(k("kp42")) == "unresolved decider=none subscribers= queue=0 refCount=2")
        #expect(w.problems() == [])
    }

    @Test func pipelinedMessagesReachTheirDeciderAtOnce() throws {
        // SwingSet's "pipelined promise queueing": all three reach B, addressed to B's names
        // for the results it decides.
        let (w, a, b) = try World.acquainted(b: Self.pipelining)
        try w.syscalls(a, Self.chain("o-50"))
        #expect(w.events(.acceptance) == ["send ko21 foo [] -> kp40", "send kp40 bar [] -> kp41", "send kp41 urgh [] -> kp42"])
        // foo goes to B's run-queue; bar and urgh wait: their targets have no decider yet.
        #expect(try (0..<3).map { _ in try w.step().map(w.name) } == ["route v2", "route", "route"])
        #expect(w.promise(k("kp40")) == "unresolved decider=none subscribers= queue=1 refCount=3")
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers= queue=1 refCount=3")
        // Delivering foo makes B kp40's decider and sends bar on its way again; bar makes B
        // kp41's decider and frees urgh.
        #expect(try w.step().map(w.name) == "delivery v2")
        #expect(w.events(.acceptance) == ["send kp40 bar [] -> kp41"])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=0 refCount=3")
        #expect(w.cranks() == ["route v2", "delivery v2", "route v2", "delivery v2"])
        #expect(w.deliveries(b, after: 2) == [
            message("o+0", "foo", result: "p-60"),
            message("p-60", "bar", result: "p-61"),
            message("p-61", "urgh", result: "p-62"),
        ])
        for kpid in ["kp40", "kp41", "kp42"] {
            #expect(w.promise(k(kpid)) == "unresolved decider=v2 subscribers= queue=0 refCount=2")
        }
        #expect(w.clist(b) == ["ko20": "R o-50", "ko21": "R o+0", "kp40": "R p-60", "kp41": "R p-61", "kp42": "R p-62"])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50", "kp40": "R p+1", "kp41": "R p+2", "kp42": "R p+3"])
        #expect(w.problems() == [])
    }

    @Test func pipelinedMessagesWaitUntilTheFirstTargetResolves() throws {
        // SwingSet's "pipelined promise queueing with delay": foo goes to A's own p+0 (kp40),
        // which A decides and does not pipeline, so all three wait; A then resolves p+0 to B.
        let (w, a, b) = try World.acquainted(b: Self.pipelining)
        try w.syscalls(a, Self.chain("p+0"))
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers= queue=0 refCount=2")
        #expect(try (0..<3).map { _ in try w.step().map(w.name) } == ["route", "route", "route"])
        #expect(w.deliveries(b).count == 2)
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers= queue=1 refCount=2")
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers= queue=1 refCount=3")
        #expect(w.promise(k("kp42")) == "unresolved decider=none subscribers= queue=1 refCount=3")
        #expect(w.promise(k("kp43")) == "unresolved decider=none subscribers= queue=0 refCount=2")

        try w.syscalls(a, [.resolve([fulfilled("p+0", .slot(0), ["o-50"])])])
        #expect(w.events(.acceptance) == ["send kp40 foo [] -> kp41"])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.object(k("ko21")) == "v2 3,3")
        #expect(w.cranks() == ["route v2", "delivery v2", "route v2", "delivery v2", "route v2", "delivery v2"])
        #expect(w.deliveries(b, after: 2) == [
            message("o+0", "foo", result: "p-60"),
            message("p-60", "bar", result: "p-61"),
            message("p-61", "urgh", result: "p-62"),
        ])
        // kp40 went with its last message (retargeted to ko21), and its hold on ko21 with it.
        #expect(w.promise(k("kp40")) == nil)
        #expect(w.object(k("ko21")) == "v2 2,2")
        for kpid in ["kp41", "kp42", "kp43"] {
            #expect(w.promise(k(kpid)) == "unresolved decider=v2 subscribers= queue=0 refCount=2")
        }
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50", "kp41": "R p+1", "kp42": "R p+2", "kp43": "R p+3"])
        #expect(w.problems() == [])
    }

    @Test func aPipeliningVatMayNameItsResultInTheArguments() throws {
        // SwingSet's "result promise in args (pipelining)", agoric-sdk #5189: the argument
        // allocates kp40 decided by A, the result then hands the decision to the message.
        let (w, a, b) = try World.acquainted(a: Self.pipelining)
        #expect(try w.syscalls(a, [send("o-50", "one", ["p+1"], result: "p+1")]) == .committed([.ok]))
        #expect(w.events(.acceptance) == ["send ko21 one [kp40] -> kp40"])
        #expect(w.promise(k("kp40")) == "unresolved decider=none subscribers= queue=0 refCount=3")
        #expect(w.cranks() == ["route v2", "delivery v2"])
        #expect(w.deliveries(b, after: 2) == [message("o+0", "one", ["p-60"], result: "p-60")])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=0 refCount=2")
        #expect(w.problems() == [])
    }

    @Test func aVatWithoutTheOptionMayNot() throws {
        // SwingSet's "result promise in args (non-pipelining)".
        let (w, a, _) = try World.acquainted()
        #expect(try w.syscalls(a, [send("o-50", "one", ["p+1"], result: "p+1")])
                == .illegal(index: 0, syscall: "send", problem: "vref p+1 is already allocated"))
        #expect(w.termination(a)?.info == .error("vref p+1 is already allocated"))
        #expect(w.kernel.state.promises.isEmpty)
    }

    // MARK: - vpid-kernel.test.js: the reflected message

    @Test func aPipeliningVatReflectsAMessageSentToItsPromise() throws {
        // B sends A one(p+1); A sends p~.two() (result p+2); B gets it at once and passes it
        // back to A with the same result, which A then decides.
        let (w, a, b) = try World.acquainted(b: Self.pipelining)
        try w.syscalls(b, [send("o-50", "one", ["p+1"])])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [message("o+0", "one", ["p-60"])])
        try w.syscalls(a, [send("p-60", "two", result: "p+2"), .subscribe(vpid: v("p+2"))])
        #expect(w.cranks() == ["route v2", "delivery v2"])
        #expect(w.deliveries(b, after: 2) == [message("p+1", "two", result: "p-60")])
        #expect(w.promise(k("kp41")) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2")

        #expect(try w.syscalls(b, [send("o-50", "two", result: "p-60")]) == .committed([.ok]))
        #expect(w.promise(k("kp41")) == "unresolved decider=none subscribers=v1 queue=0 refCount=3")
        #expect(w.cranks() == ["route v1", "delivery v1"])
        #expect(w.deliveries(a, after: 3) == [message("o+0", "two", result: "p+2")])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=0 refCount=2")
        #expect(w.promise(k("kp41")) == "unresolved decider=v1 subscribers=v1 queue=0 refCount=2")
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50", "kp40": "R p-60", "kp41": "R p+2"])
        #expect(w.clist(b) == ["ko20": "R o-50", "ko21": "R o+0", "kp40": "R p+1", "kp41": "R p-60"])
        #expect(w.problems() == [])
    }

    @Test func withoutTheOptionTheReflectedMessageWaitsForTheResolution() throws {
        let (w, a, b) = try World.acquainted()
        try w.syscalls(b, [send("o-50", "one", ["p+1"])])
        try w.run()
        try w.syscalls(a, [send("p-60", "two", result: "p+2"), .subscribe(vpid: v("p+2"))])
        #expect(w.cranks() == ["route"])
        #expect(w.deliveries(b).count == 2)
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=1 refCount=3")
        try w.syscalls(b, [.resolve([fulfilled("p+1", .slot(0), ["o-50"])])])
        #expect(w.cranks() == ["route v1", "delivery v1"])
        #expect(w.deliveries(a, after: 3) == [message("o+0", "two", result: "p+2")])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.promise(k("kp41")) == "unresolved decider=v1 subscribers=v1 queue=0 refCount=1")
        #expect(w.problems() == [])
    }

    // MARK: - vpid-kernel.test.js: cases 3 and 7 in every mode

    /// How the decider settles the promise (vpid-kernel.test.js's modes). The vat's own
    /// names: `target2` the other vat's root, `localTarget` a new export, `p1` a new promise.
    enum Mode: String, CaseIterable, Sendable {
        case presence, localObject = "local-object", data, promiseData = "promise-data", reject, promiseReject = "promise-reject"

        func resolution(_ vpid: String, target2: String, localTarget: String, p1: String) -> VatResolution {
            switch self {
            case .presence: return fulfilled(vpid, .slot(0), [target2])
            case .localObject: return fulfilled(vpid, .slot(0), [localTarget])
            case .data: return fulfilled(vpid, .int(4))
            case .promiseData: return fulfilled(vpid, .array([.slot(0)]), [p1])
            case .reject: return VatResolution(vpid: v(vpid), rejected: true, data: CapData(body: .string("error")))
            case .promiseReject: return VatResolution(vpid: v(vpid), rejected: true, data: CapData(body: .slot(0), slots: [v(p1)]))
            }
        }

        /// The c-list entries the resolution adds beyond the two roots: the resolver's own new
        /// export or promise, or the notified vat's import of it.
        func entries(resolver: Bool) -> [String: String] {
            switch self {
            case .localObject: return ["ko22": resolver ? "R o+1" : "R o-51"]
            case .promiseData, .promiseReject: return ["kp41": resolver ? "R p+3" : "R p-60"]
            default: return [:]
            }
        }

        /// What is left once the notify is delivered, given the decider's vat and the new
        /// export's and promise's krefs (ko22, kp41).
        func leftOver(decider: String) -> [String] {
            switch self {
            case .localObject: return ["ko20 v1 2,2", "ko21 v2 2,2", "ko22 \(decider) 1,1"]
            case .promiseData, .promiseReject: return ["ko20 v1 2,2", "ko21 v2 2,2", "kp41 unresolved decider=\(decider) subscribers= queue=0 refCount=2"]
            default: return ["ko20 v1 2,2", "ko21 v2 2,2"]
            }
        }
    }

    /// Objects, then promises, as `World.objects` and `World.promise` write them.
    func tables(_ w: World) -> [String] {
        w.objects + w.kernel.state.promises.rows.keys.sorted().map { "kp\($0) " + w.promise(.promise($0))! }
    }

    @Test(arguments: Mode.allCases)
    func case3APipeliningVatSendsAPromiseThenUsesItAsAResult(_ mode: Mode) throws {
        // B: alice~.one(p+2); subscribe(p+2); alice~.two(result = p+2). A resolves; B is told.
        let (w, a, b) = try World.acquainted(b: Self.pipelining)
        try w.syscalls(b, [send("o-50", "one", ["p+2"])])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [message("o+0", "one", ["p-60"])])
        try w.syscalls(b, [.subscribe(vpid: v("p+2"))])
        #expect(w.cranks() == [])
        #expect(try w.syscalls(b, [send("o-50", "two", result: "p+2")]) == .committed([.ok]))
        try w.run()
        #expect(w.deliveries(a, after: 3) == [message("o+0", "two", result: "p-60")])
        #expect(w.clist(a)["kp40"] == "R p-60")
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers=v2 queue=0 refCount=2")

        try w.syscalls(a, [.resolve([mode.resolution("p-60", target2: "o-50", localTarget: "o+1", p1: "p+3")])])
        try w.run()
        #expect(w.deliveries(b, after: 2) == [.notify([mode.resolution("p+2", target2: "o+0", localTarget: "o-51", p1: "p-60")])])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50"].merging(mode.entries(resolver: true)) { x, _ in x })
        #expect(w.clist(b) == ["ko20": "R o-50", "ko21": "R o+0"].merging(mode.entries(resolver: false)) { x, _ in x })
        #expect(tables(w) == mode.leftOver(decider: "v1"))
        #expect(w.problems() == [])
    }

    @Test(arguments: Mode.allCases)
    func case7APipeliningVatSendsAPromiseThenUsesItAsAResult(_ mode: Mode) throws {
        // A: bob~.one(p+1); bob~.two(result = p+1); subscribe(p+1). B resolves; A is told.
        let (w, a, b) = try World.acquainted(a: Self.pipelining)
        #expect(try w.syscalls(a, [send("o-50", "one", ["p+1"]), send("o-50", "two", result: "p+1"), .subscribe(vpid: v("p+1"))])
                == .committed([.ok, .ok, .ok]))
        try w.run()
        #expect(w.deliveries(b, after: 2) == [message("o+0", "one", ["p-60"]), message("o+0", "two", result: "p-60")])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2")

        try w.syscalls(b, [.resolve([mode.resolution("p-60", target2: "o-50", localTarget: "o+1", p1: "p+3")])])
        try w.run()
        #expect(w.deliveries(a, after: 2) == [.notify([mode.resolution("p+1", target2: "o+0", localTarget: "o-51", p1: "p-60")])])
        #expect(w.clist(a) == ["ko20": "R o+0", "ko21": "R o-50"].merging(mode.entries(resolver: false)) { x, _ in x })
        #expect(w.clist(b) == ["ko20": "R o-50", "ko21": "R o+0"].merging(mode.entries(resolver: true)) { x, _ in x })
        #expect(tables(w) == mode.leftOver(decider: "v2"))
        #expect(w.problems() == [])
    }

    // MARK: - Resolution, a new decider, termination, upgrade

    /// A: make() to B (result p+1), then use() and again() to p+1 (results p+2, p+3), both
    /// subscribed. Stepped until B has make and use, and again waits in B's run-queue.
    static func againWaitsInTheRunQueue() throws -> (World, VatID, VatID) {
        let (w, a, b) = try World.acquainted(b: pipelining)
        try w.syscalls(a, [send("o-50", "make", result: "p+1"), send("p+1", "use", result: "p+2"), send("p+1", "again", result: "p+3"),
                           .subscribe(vpid: v("p+2")), .subscribe(vpid: v("p+3"))])
        let names = try (0..<7).map { _ in try w.step().map(w.name) }
        #expect(names == ["route v2", "route", "route", "delivery v2", "route v2", "route v2", "delivery v2"])
        #expect(w.deliveries(b, after: 2) == [message("o+0", "make", result: "p-60"), message("p-60", "use", result: "p-61")])
        #expect(w.events(.run) == ["send kp40 again [] -> kp42"])
        #expect(w.promise(k("kp40")) == "unresolved decider=v2 subscribers= queue=0 refCount=3")
        return (w, a, b)
    }

    @Test func aPipelinedMessageFollowsTheResolutionMadeBeforeItsDelivery() throws {
        let (w, a, b) = try Self.againWaitsInTheRunQueue()
        // B resolves p-60 to A's root: again, routed again at the run-queue's front, goes to A.
        try w.syscalls(b, [.resolve([fulfilled("p-60", .slot(0), ["o-50"])])])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=2")
        #expect(w.cranks() == ["delivery v1"])
        #expect(w.deliveries(a, after: 2) == [message("o+0", "again", result: "p+3")])
        #expect(w.deliveries(b).count == 4)
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.promise(k("kp41")) == "unresolved decider=v2 subscribers=v1 queue=0 refCount=2")
        #expect(w.promise(k("kp42")) == "unresolved decider=v1 subscribers=v1 queue=0 refCount=1")
        #expect(w.object(k("ko20")) == "v1 3,3")
        #expect(w.problems() == [])
    }

    @Test func aPipelinedMessageWaitsIfTheDeciderPassedThePromiseOn() throws {
        let (w, a, b) = try Self.againWaitsInTheRunQueue()
        // B hands p-60 on as the result of its own send to A (not pipelining): at the run-queue's
        // front again finds kp40 undecided and waits; once A decides it, it still waits.
        #expect(try w.syscalls(b, [send("o-50", "fwd", result: "p-60")]) == .committed([.ok]))
        #expect(w.promise(k("kp40")) == "unresolved decider=none subscribers= queue=0 refCount=4")
        #expect(w.cranks() == ["route v1", "dropped", "delivery v1"])
        #expect(w.deliveries(a, after: 2) == [message("o+0", "fwd", result: "p+1")])
        #expect(w.promise(k("kp40")) == "unresolved decider=v1 subscribers= queue=1 refCount=3")
        // A settles its own p+1 with data: again has no method to call.
        try w.syscalls(a, [.resolve([fulfilled("p+1", .int(7))])])
        #expect(w.cranks() == ["route", "route v1", "delivery v1"])
        #expect(w.deliveries(a, after: 3) == [.notify([rejected("p+3", "data is not callable, has no method again")])])
        #expect(w.promise(k("kp40")) == "fulfilled refCount=1")
        #expect(w.promise(k("kp42")) == nil)
        #expect(w.problems() == [])
    }

    @Test func whenAPipeliningVatDiesWhatItWasSentRejectsWithVatTerminated() throws {
        let (w, a, b) = try Self.againWaitsInTheRunQueue()
        // kp40 and kp41 (results B decides) are rejected; again splats at delivery and rejects kp42.
        try w.kernel.terminate(b, reason: "stop")
        #expect(w.promise(k("kp40")) == "rejected refCount=3")
        #expect(w.promise(k("kp41")) == "rejected refCount=3")
        try w.run()
        #expect(w.deliveries(a, after: 2) == [.notify([rejected("p+2", "vat terminated")]), .notify([rejected("p+3", "vat terminated")])])
        #expect(w.kernel.state.deliveryLogs[b] == DeliveryLog(last: 4, count: 0))
        #expect(w.promise(k("kp40")) == "rejected refCount=1")
        #expect(w.promise(k("kp41")) == nil)
        #expect(w.promise(k("kp42")) == nil)
        #expect(w.problems() == [])
    }

    @Test func whenAPipeliningVatUpgradesWhatItWasSentRejectsAndTheNewIncarnationStillPipelines() throws {
        let (w, a, b) = try Self.againWaitsInTheRunQueue()
        #expect(try w.kernel.upgrade(b, UpgradeRequest(upgradeMessage: "v2 please")) == .upgraded(incarnation: 1))
        let upgraded = CapData<VRef>(body: .object(["name": .string("vatUpgraded"), "upgradeMessage": .string("v2 please"), "incarnationNumber": .int(0)]))
        try w.run()
        #expect(w.deliveries(a, after: 2) == [
            .notify([VatResolution(vpid: v("p+2"), rejected: true, data: upgraded)]),
            .notify([VatResolution(vpid: v("p+3"), rejected: true, data: upgraded)]),
        ])
        #expect(w.deliveries(b, after: 4) == [.bringOutYourDead, .startVat(vatParameters: CapData(body: .null))])
        #expect(w.clist(b) == ["ko20": "R o-50", "ko21": "R o+0"])
        #expect(w.kernel.state.vats[b]?.enablePipelining == true)

        // The new incarnation is still a pipelining vat.
        try w.syscalls(a, [send("o-50", "make", result: "p+4"), send("p+4", "use", result: "p+5")])
        #expect(w.cranks() == ["route v2", "route", "delivery v2", "route v2", "delivery v2"])
        #expect(w.deliveries(b, after: 6) == [message("o+0", "make", result: "p-62"), message("p-62", "use", result: "p-63")])
        #expect(w.problems() == [])
    }

    // MARK: - What stays illegal for a pipelining vat

    @Test func aPipeliningVatMayNotNameAResultItDoesNotDecide() throws {
        let (w, a, b) = try World.acquainted(a: Self.pipelining)
        try w.syscalls(b, [send("o-50", "take", ["p+1"])])
        try w.run()
        // A's p-60 is kp40, decided by B.
        #expect(try w.syscalls(a, [send("o-50", "x", result: "p-60")])
                == .illegal(index: 0, syscall: "send", problem: "syscall.send result p-60 is not an unresolved promise decided by v1"))

        let (w2, a2, _) = try World.acquainted(a: Self.pipelining)
        // Once sent as a result, p+1's decision is the message's.
        #expect(try w2.syscalls(a2, [send("o-50", "x", result: "p+1"), send("o-50", "y", result: "p+1")])
                == .illegal(index: 1, syscall: "send", problem: "syscall.send result p+1 is not an unresolved promise decided by v1"))
        #expect(w.problems() == [])
        #expect(w2.problems() == [])
    }
}
