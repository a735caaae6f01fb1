import Dispatch
import Foundation
import HTTPServer
import Synchronization
import Testing
import VatKernel
@testable import KernelService

/// Issue 9 part 3: reads are answered off the kernel thread, by reader threads on their own
/// read-only connections to the database file, from the last committed state, with the same
/// bytes the kernel thread would send.
@Suite struct ReaderPoolTests {
    /// A fresh directory for one test's database, removed by the caller.
    private func directory() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("readerpool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    private func manual() -> KernelServiceConfiguration {
        var c = KernelServiceConfiguration(runMode: .manual)
        c.keepDeliveries = true
        // A terminated vat is cleaned two entries a crank, so one is left half cleaned.
        c.kernel.cleanupBudget = 2
        return c
    }

    /// Five vats with imports and exports, an orphan, messages waiting in the run-queue, the
    /// acceptance queue and on a promise, promises in every state, a notify whose body is kept
    /// once for its subscribers, GC actions, a reap, an upgraded vat, a terminated vat half
    /// cleaned, pins, held results, acknowledged deliveries kept: restart-rich.sh's state.
    /// Returns the vats' tokens.
    private func richScenario(_ h: Harness) -> [String: String] {
        var tokens: [String: String] = [:]
        for name in ["alice", "bob", "carol", "dave", "eve"] {
            let r = h.call("POST", "/vats", #"{"name":"\#(name)","options":{"role":"\#(name)"}}"#)
            #expect(r.status == 201)
            tokens[r.string("vatID")!] = r.string("token")!
        }
        func sys(_ vat: String, _ syscalls: String) {
            let r = h.call("POST", "/vats/\(vat)/syscalls", #"{"syscalls":\#(syscalls)}"#, token: tokens[vat])
            #expect(r.status == 200, "\(vat) \(syscalls): \(r.body)")
        }
        func send(_ target: String, _ result: String?, _ method: String, _ slots: [String] = []) -> String {
            #"{"type":"send","target":"\#(target)","methargs":\#(methargs(method, slots))\#(result.map { #","result":"\#($0)""# } ?? "")}"#
        }
        func runAll() { #expect(h.call("POST", "/kernel/run", "{}").json["idle"] == .bool(true)) }
        h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("meet", ["ko21", "ko22", "ko23", "ko24"]))}"#)
        h.call("POST", "/messages", #"{"target":"ko21","methargs":\#(methargs("meet", ["ko20"]))}"#)
        h.call("POST", "/messages", #"{"target":"ko23","methargs":\#(methargs("meet", ["ko22"]))}"#)
        h.call("POST", "/messages", #"{"target":"ko24","methargs":\#(methargs("meet", ["ko20"]))}"#)
        runAll()
        // Deliveries big enough that a page of alice's log stops at its byte budget.
        let huge = String(repeating: "y", count: 300_000)
        for _ in 0..<5 { h.call("POST", "/messages", #"{"target":"ko20","methargs":{"body":["big",["\#(huge)"]],"slots":[]}}"#) }
        runAll()
        sys("v1", "[\(send("o-50", nil, "take", ["o+10", "o+11", "o+12", "o+13"]))]")
        runAll()
        sys("v1", #"[{"type":"abandonExports","vrefs":["o+12"]}]"#)
        #expect(h.call("POST", "/vats/v1/exports", #"{"vref":"o+14"}"#).status == 200)
        #expect(h.call("POST", "/objects/ko22/pin").status == 200)
        sys("v1", #"[{"type":"vatstoreSet","key":"greeting","value":"hello"}]"#)
        h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("q1")),"result":"keep"}"#)
        h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("q2")),"result":"keep"}"#)
        sys("v2", "[\(send("o-50", "p+1", "ask")),{\"type\":\"subscribe\",\"vpid\":\"p+1\"},\(send("p+1", nil, "then", ["o+20"]))]")
        runAll()
        sys("v1", #"[{"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":{"$slot":0},"slots":["o+15"]}},{"vpid":"p-61","rejected":true,"data":{"body":{"$error":"no","name":"Error"},"slots":[]}}]}]"#)
        let big = String(repeating: "a long answer, ", count: 20)
        sys("v1", #"[{"type":"resolve","resolutions":[{"vpid":"p-62","rejected":false,"data":{"body":"\#(big)","slots":[]}}]}]"#)
        runAll()
        #expect(h.call("POST", "/vats/v2/deliveries/ack", #"{"through":2}"#, token: tokens["v2"]).status == 200)
        sys("v5", "[\(send("o-50", nil, "keep", ["o+d10/1", "o+5"])),{\"type\":\"vatstoreSet\",\"key\":\"v\",\"value\":\"1\"}]")
        runAll()
        let upgrade = #"{"upgradeMessage":"eve 2","vatParameters":{"body":{"version":2},"slots":[]},"startVatSyscalls":[{"type":"vatstoreSet","key":"v","value":"2"}]}"#
        #expect(h.call("POST", "/vats/v5/upgrade", upgrade).status == 200)
        sys("v4", "[\(send("o-50", nil, "take", (1...12).map { "o+\($0)" }))]")
        runAll()
        #expect(h.call("POST", "/vats/v4/terminate", #"{"reason":"enough"}"#).status == 200)
        #expect(h.call("POST", "/kernel/run", #"{"maxCranks":3}"#).status == 200)
        h.call("POST", "/messages", #"{"target":"ko21","methargs":\#(methargs("later", ["ko20"])),"result":"keep"}"#)
        #expect(h.call("POST", "/kernel/step", "{}").status == 200)
        h.call("POST", "/messages", #"{"target":"ko22","methargs":\#(methargs("waits"))}"#)
        sys("v3", "[\(send("o-50", nil, "hi"))]")
        sys("v2", #"[{"type":"dropImports","vrefs":["o-51"]}]"#)
        #expect(h.call("POST", "/vats/v3/bring-out-your-dead", "{}").status == 202)
        return tokens
    }

    /// Every GET resource a reader thread serves, with several pages and filters.
    private func readPaths(_ h: Harness) -> [String] {
        var paths = ["/vats", "/vats?limit=2", "/vats?after=v2&limit=2", "/vats?after=v5", "/vats/v9",
                     "/objects", "/objects?limit=3", "/objects?after=ko24&limit=5", "/objects?owner=none", "/objects?owner=v1&limit=2",
                     "/objects?owner=v4", "/objects?after=ko1000",
                     "/promises", "/promises?limit=2", "/promises?after=kp41&limit=2", "/promises?decider=v1",
                     "/promises?state=unresolved", "/promises?state=fulfilled&decider=v1", "/promises?decider=v9",
                     "/kernel/run-queue", "/kernel/run-queue?limit=1", "/kernel/acceptance-queue", "/kernel/acceptance-queue?after=1&limit=1",
                     "/kernel/gc-actions", "/kernel/gc-actions?limit=1", "/kernel/gc-actions?after=v1%20dropExport%20ko20",
                     "/events", "/events?limit=7", "/events?after=20&limit=5", "/events?type=deliver&limit=4", "/events?vat=v2",
                     "/events?kref=ko21&limit=3", "/events?type=syscall&vat=v1&after=3&limit=2"]
        for v in 1...5 {
            paths += ["/vats/v\(v)", "/vats/v\(v)/clist", "/vats/v\(v)/clist?limit=2", "/vats/v\(v)/clist?after=ko22&limit=3",
                      "/vats/v\(v)/clist?after=kp40", "/vats/v\(v)/deliveries", "/vats/v\(v)/deliveries?limit=2",
                      "/vats/v\(v)/deliveries?after=3&limit=2"]
        }
        paths += ["/vats/v9/clist"]
        // A page cut by the byte budget: the 300 KB deliveries below.
        paths += ["/vats/v1/deliveries?after=0&limit=1000"]
        return paths
    }

    @Test func aReaderAnswersEveryReadWithTheKernelThreadsBytes() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try Harness(manual(), database: "\(dir)/k.sqlite")
        let tokens = richScenario(h)
        let before = h.service.readerAnswers
        let paths = readPaths(h)
        // Every header but the request's own id.
        func headers(_ r: Harness.Reply) -> [String] { r.headers.filter { $0.0 != "X-Request-Id" }.map { "\($0.0): \($0.1)" } }
        for path in paths {
            // A vat's delivery log needs its token (or the admin's).
            let token = path.contains("/deliveries") ? tokens[String(path.split(separator: "/")[1])] : nil
            let reader = h.call("GET", path, token: token)
            let kernel = h.call("GET", path, token: token, pipelined: true)
            #expect(reader.status == kernel.status, "\(path)")
            #expect(reader.body == kernel.body, "\(path)")
            #expect(headers(reader) == headers(kernel), "\(path)")
        }
        #expect(h.service.readerAnswers - before == paths.count)
        // The scenario left every table worth comparing non-empty.
        #expect(h.call("GET", "/kernel/run-queue").json["events"]?.arrayValue?.isEmpty == false)
        #expect(h.call("GET", "/kernel/acceptance-queue").json["events"]?.arrayValue?.isEmpty == false)
        #expect(h.call("GET", "/kernel/gc-actions").json["gcActions"]?.arrayValue?.isEmpty == false)
        #expect(h.call("GET", "/vats/v1/deliveries?limit=1000", token: tokens["v1"]).json["next"]?.intValue != nil)
        #expect(h.call("GET", "/vats/v4").json["termination"]?["cleanupDone"] == .bool(false))
        #expect(h.call("GET", "/vats/v9/clist").status == 404)
        #expect(h.call("GET", "/vats/v1").header("X-Kernel-Crank") == h.call("GET", "/kernel").json["crank"]?.intValue.map(String.init))
    }

    /// `GET /objects/{kref}` and `GET /promises/{kpid}` of every kref the rich scenario
    /// allocated (and of a few it never did), plus a vat whose exit reason the host holds: a
    /// reader thread answers each, with the kernel thread's status, headers and bytes.
    @Test func aReaderShowsEveryObjectAndPromiseWithTheKernelThreadsBytes() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try Harness(manual(), database: "\(dir)/k.sqlite")
        _ = richScenario(h)
        // Frank exits naming his root, a new export and a new promise: the host holds them.
        let frank = h.call("POST", "/vats", #"{"name":"frank"}"#)
        let exit = #"{"syscalls":[{"type":"exit","isFailure":false,"info":{"body":[{"$slot":0},{"$slot":1},{"$slot":2}],"slots":["o+0","o+5","p+1"]}}]}"#
        #expect(h.call("POST", "/vats/v6/syscalls", exit, token: frank.string("token")).status == 200)
        let counters = h.kernel { $0.state.counters }
        let paths = (20...counters.nextObject + 1).map { "/objects/ko\($0)" } + (40...counters.nextPromise + 1).map { "/promises/kp\($0)" }
            + ["/objects/ko1000000", "/promises/kp1000000"]
        func headers(_ r: Harness.Reply) -> [String] { r.headers.filter { $0.0 != "X-Request-Id" }.map { "\($0.0): \($0.1)" } }
        let before = h.service.readerAnswers
        var shown: [String: Harness.Reply] = [:]
        for path in paths {
            let reader = h.call("GET", path)
            let kernel = h.call("GET", path, pipelined: true)
            #expect(reader.status == kernel.status, "\(path)")
            #expect(reader.body == kernel.body, "\(path)")
            #expect(headers(reader) == headers(kernel), "\(path)")
            shown[path] = reader
        }
        #expect(h.service.readerAnswers - before == paths.count)
        // What was compared: pins, held results, several holders, an orphan, unknown krefs.
        let found = shown.values.filter { $0.status == 200 }
        #expect(found.contains { $0.json["pins"]?.intValue ?? 0 > 0 })
        #expect(found.contains { $0.json["heldByHost"] == .bool(true) })
        #expect(found.contains { ($0.json["holders"]?.arrayValue?.count ?? 0) >= 4 })
        #expect(found.contains { $0.json["kref"] != nil && $0.json["owner"] == .null })
        #expect(found.contains { $0.body.contains(#""kind":"terminationReason""#) })
        #expect(shown["/objects/ko1000000"]?.status == 404 && shown["/promises/kp1000000"]?.status == 404)
        #expect(shown.values.filter { $0.status == 404 }.count > 2)
        #expect(shown["/objects/ko22"]?.header("X-Kernel-Crank") == h.call("GET", "/kernel").json["crank"]?.intValue.map(String.init))
    }

    @Test func aReadIsAnsweredWhileTheKernelThreadIsBusy() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try Harness(database: "\(dir)/k.sqlite")
        h.createVat("alice")
        let crank = h.call("GET", "/kernel").json["crank"]?.intValue
        let release = h.holdKernelThread()
        // The kernel thread is held inside a group: these are answered anyway, from the store.
        let answers = Mutex<[HTTPResponse]>([])
        let answered = DispatchSemaphore(value: 0)
        for target in ["/vats/v1/clist", "/vats/v1"] {
            h.service.handle(HTTPRequest(method: "GET", target: target, headers: HTTPHeaders(), body: [])) { response in
                answers.withLock { $0.append(response) }
                answered.signal()
            }
        }
        let inTime = answered.wait(timeout: .now() + 10) == .success && answered.wait(timeout: .now() + 10) == .success
        release.signal()
        #expect(inTime, "the reads waited for the kernel thread")
        if !inTime { _ = answered.wait(timeout: .now() + 10) }
        let replies = answers.withLock { $0 }.map { r in
            Harness.Reply(status: r.status, headers: r.headers, body: String(decoding: r.body, as: UTF8.self))
        }
        try #require(replies.count == 2)
        let (clist, vat) = replies[0].string("name") == nil ? (replies[0], replies[1]) : (replies[1], replies[0])
        #expect(clist.body == #"{"entries":[{"kref":"ko20","vref":"o+0","reachable":true}],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(vat.string("name") == "alice")
        #expect(vat.header("X-Kernel-Crank") == crank.map(String.init))
    }

    @Test func aChangeAnsweredIsInTheNextReadsSnapshot() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try Harness(database: "\(dir)/k.sqlite")
        let before = h.service.readerAnswers
        for i in 1...20 {
            let created = h.call("POST", "/vats", #"{"name":"vat\#(i)"}"#)
            let crank = Int(created.header("X-Kernel-Crank") ?? "") ?? .max
            let read = h.call("GET", "/vats/v\(i)")
            #expect(read.status == 200 && read.string("name") == "vat\(i)")
            #expect((Int(read.header("X-Kernel-Crank") ?? "") ?? -1) >= crank)
        }
        #expect(h.service.readerAnswers - before == 20)
    }

    /// A read whose connection closed while it waited for a reader thread is dropped unanswered
    /// (a read changes nothing) and counted; a read of an open connection queued behind it is
    /// answered.
    @Test func aReadForAClosedConnectionIsDroppedAndCounted() throws {
        var one = KernelServiceConfiguration()
        // One reader thread takes the reads in the order they were queued.
        one.readerThreads = 1
        try withHeldReaders(one) { h in
            let before = h.service.readerAnswers
            let service = h.service
            let gone = PeerConnection(), open = PeerConnection()
            let answered = Mutex<[String]>([])
            let done = DispatchSemaphore(value: 0)
            for (name, peer) in [("read-gone", gone), ("read-open", open)] {
                service.handle(readOfAlice(from: peer)) { r in
                    answered.withLock { $0.append("\(name) \(r.status)") }
                    done.signal()
                }
            }
            gone.markClosed()
            service.holdReaders(false)
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(done.wait(timeout: .now() + 0.2) == .timedOut)
            #expect(answered.withLock { $0 } == ["read-open 200"])
            #expect(h.service.readerAnswers - before == 1)
            #expect(h.call("GET", "/metrics").body.contains("vatkernel_requests_dropped_total 1\n"))
        }
    }

    /// With `maxQueuedRequests` reads waiting for the reader threads, one more is answered 503
    /// `overloaded` with `Retry-After` at once, naming the bound; those queued are answered.
    @Test func aFullReaderQueueAnswers503() throws {
        var two = KernelServiceConfiguration()
        two.maxQueuedRequests = 2
        try withHeldReaders(two) { h in
            let before = h.service.readerAnswers
            let service = h.service
            let replies = Mutex<[Int: HTTPResponse]>([:])
            let answered = DispatchSemaphore(value: 0)
            for i in 0..<4 {
                service.handle(readOfAlice()) { r in
                    replies.withLock { $0[i] = r }
                    answered.signal()
                }
            }
            // The refusals come at once, while the reader threads are held.
            let refused = replies.withLock { $0 }
            service.holdReaders(false)
            #expect(refused.keys.sorted() == [2, 3])
            for i in [2, 3] {
                let r = try #require(refused[i])
                #expect(r.status == 503)
                #expect(r.headers.first { $0.0 == "Retry-After" }?.1 == "1")
                #expect(String(decoding: r.body, as: UTF8.self)
                    == #"{"error":{"code":"overloaded","message":"the kernel is busy: 2 reads (maxQueuedRequests) are already waiting; nothing was changed, retry later","details":{"limit":"2 reads (maxQueuedRequests)"}}}"#)
            }
            for _ in 0..<4 { #expect(answered.wait(timeout: .now() + 10) == .success) }
            let queued = replies.withLock { $0 }
            #expect([queued[0]?.status, queued[1]?.status] == [200, 200])
            #expect(queued[0].map { String(decoding: $0.body, as: UTF8.self).contains(#""name":"alice""#) } == true)
            #expect(h.service.readerAnswers - before == 2)
        }
    }

    /// A kernel on a database file with alice (v1) and its reader threads held, as the tests of
    /// the readers' queue start; `body` runs with it, then the directory goes.
    private func withHeldReaders(_ configuration: KernelServiceConfiguration, _ body: (Harness) throws -> Void) throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try Harness(configuration, database: "\(dir)/k.sqlite")
        h.createVat("alice")
        h.service.holdReaders(true)
        try body(h)
    }

    /// `GET /vats/v1` as the event loop hands it to the service, from `peer`'s connection.
    private func readOfAlice(from peer: PeerConnection? = nil) -> HTTPRequest {
        var request = HTTPRequest(method: "GET", target: "/vats/v1", headers: HTTPHeaders(), body: [])
        request.peer = peer
        return request
    }

    /// The scheduling policy of thread `tid` of this process as the OS reports it: field 41 of
    /// /proc/self/task/TID/stat (0 SCHED_OTHER, 5 SCHED_IDLE), counted after the name's ')';
    /// nil `tid` for the calling thread.
    private func policy(ofThread tid: Int32?) throws -> Int? {
        let path = tid.map { "/proc/self/task/\($0)/stat" } ?? "/proc/thread-self/stat"
        let stat = try String(contentsOfFile: path, encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so field 41 is fields[38].
        return fields.count > 38 ? Int(fields[38]) : nil
    }

    @Test func readerThreadsRunUnderSCHEDIDLEAndTheKernelThreadDoesNot() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var three = KernelServiceConfiguration()
        three.readerThreads = 3
        let h = try Harness(three, database: "\(dir)/k.sqlite")
        h.createVat("alice")
        let readers = h.service.readerThreadIDs
        #expect(readers.count == 3)
        #expect(Set(readers).count == 3)
        for tid in readers { #expect(try policy(ofThread: tid) == 5, "reader thread \(tid)") }
        let kernel = h.service.kernelThreadID
        #expect(kernel != 0 && !readers.contains(kernel))
        #expect(try policy(ofThread: kernel) == 0)
        // The policy is the readers' own, not the process's: this thread keeps the normal one.
        #expect(try policy(ofThread: nil) == 0)
        // And the readers still answer.
        let before = h.service.readerAnswers
        #expect(h.call("GET", "/vats/v1").string("name") == "alice")
        #expect(h.service.readerAnswers - before == 1)
    }

    @Test func withoutADatabaseFileOrReaderThreadsTheKernelThreadAnswers() throws {
        let staged = try Harness()
        staged.createVat("alice")
        #expect(staged.call("GET", "/vats/v1/clist").status == 200)
        #expect(staged.service.readerAnswers == 0)

        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var none = KernelServiceConfiguration()
        none.readerThreads = 0
        let h = try Harness(none, database: "\(dir)/k.sqlite")
        h.createVat("alice")
        #expect(h.call("GET", "/vats/v1/clist").status == 200)
        #expect(h.service.readerAnswers == 0)

        let memory = try Harness(database: ":memory:")
        memory.createVat("alice")
        #expect(memory.call("GET", "/vats").status == 200)
        #expect(memory.service.readerAnswers == 0)
    }

    /// What needs the kernel's memory or waits for cranks. (One object or promise was here
    /// until a snapshot could find its holders: `aReaderShowsEveryObjectAndPromise…` above.)
    @Test func theKernelSummaryRunModeAuditAndLongPollsStayOnTheKernelThread() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try Harness(database: "\(dir)/k.sqlite")
        let alice = h.createVat("alice")
        let before = h.service.readerAnswers
        for path in ["/kernel", "/kernel/run-mode", "/kernel/audit", "/vats/v1/deliveries?wait=1"] {
            #expect(h.call("GET", path, token: alice).status == 200, "\(path)")
        }
        #expect(h.service.readerAnswers == before)
    }
}

extension JSONValue {
    fileprivate var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    fileprivate var intValue: Int? {
        if case .int(let n) = self { return n }
        return nil
    }
}
