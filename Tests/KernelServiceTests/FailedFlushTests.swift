import Dispatch
import HTTPServer
import Synchronization
import Testing
import VatKernel
@testable import KernelService

/// Issue 9 part 5: a failed flush undoes the group in memory (no reload), and what moved with
/// the group moves back: the kernel's state, the summary, tokens, waits.
struct FailedFlushTests {
    /// Queues `requests` while the kernel thread is held, so that they run as one group, and
    /// returns their answers in order.
    func group(_ h: Harness, _ requests: [(String, String, String?, String?)], failFlush: Bool) -> [Harness.Reply] {
        let release = h.holdKernelThread()
        h.storage.failNextFlush = failFlush
        let replies = Mutex<[Int: Harness.Reply]>([:])
        let answered = DispatchSemaphore(value: 0)
        for (i, (method, target, body, token)) in requests.enumerated() {
            var headers = HTTPHeaders()
            if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
            h.service.handle(HTTPRequest(method: method, target: target, headers: headers, body: Array((body ?? "").utf8))) { r in
                replies.withLock { $0[i] = Harness.Reply(status: r.status, headers: r.headers, body: String(decoding: r.body, as: UTF8.self)) }
                answered.signal()
            }
        }
        release.signal()
        for _ in requests { answered.wait() }
        // The group is over, waiters and streams included, once a later task has run.
        _ = h.kernel { _ in 0 }
        return replies.withLock { r in requests.indices.map { r[$0]! } }
    }

    @Test func aFailedFlushUndoesTheGroupWithoutReloadingTheState() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let bob = h.createVat("bob")
        #expect(h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"k","value":"1"}]}"#, token: alice).status == 200)
        let summary = h.call("GET", "/kernel").body
        let vats = h.call("GET", "/vats").body
        let loads = h.storage.loads

        // A group of every kind of change: a creation, sends, a batch, an upgrade, an ack, a termination.
        let replies = group(h, [
            ("POST", "/vats", #"{"name":"carol"}"#, nil),
            ("POST", "/messages", #"{"target":"ko21","methargs":\#(methargs("hi", ["ko20"])),"result":"keep"}"#, nil),
            ("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"k","value":"2"},{"type":"vatstoreSet","key":"new","value":"x"}]}"#, alice),
            ("POST", "/vats/v2/upgrade", #"{"upgradeMessage":"v2"}"#, nil),
            ("POST", "/vats/v1/deliveries/ack", #"{"through":1}"#, alice),
            ("POST", "/vats/v2/terminate", #"{"reason":"bored"}"#, nil),
        ], failFlush: true)
        #expect(replies.map(\.status) == [503, 503, 503, 503, 503, 503])
        #expect(replies.allSatisfy { $0.body.hasPrefix(#"{"error":{"code":"storage-failure","#) })

        // The kernel was not reloaded: the group was undone, to exactly the durable state.
        #expect(h.storage.loads == loads)
        #expect(h.kernel { $0.state } == h.storage.durable)
        #expect(h.call("GET", "/kernel").body == summary)
        #expect(h.call("GET", "/vats").body == vats)
        #expect(h.kernel { $0.audit().count } == 0)
        let read = h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreGet","key":"k"},{"type":"vatstoreGet","key":"new"}]}"#, token: alice)
        #expect(read.body == #"{"type":"ran","results":["1",null]}"#)
        // Numbers given out by the lost group are given again; bob's token still works.
        #expect(h.call("POST", "/vats", #"{"name":"carol"}"#).string("vatID") == "v3")
        #expect(h.call("GET", "/vats/v2/deliveries", token: bob).status == 200)
        #expect(h.kernel { $0.state } == h.storage.durable)
    }

    /// Reads answered before the group's first crank saw only durable state: a failed flush
    /// leaves their answers standing. Those after it saw the lost changes: 503.
    @Test func readsBeforeTheFirstCrankOfAFailedGroupStand() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        #expect(h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"k","value":"1"}]}"#, token: alice).status == 200)
        let vat = h.call("GET", "/vats/v1", token: alice)
        let crank = vat.header("X-Kernel-Crank")
        let replies = group(h, [
            ("GET", "/vats/v1", nil, alice),
            ("GET", "/vats/v1/deliveries", nil, alice),
            ("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("lost")),"result":"none"}"#, nil),
            ("GET", "/vats/v1", nil, alice),
        ], failFlush: true)
        #expect(replies.map(\.status) == [200, 200, 503, 503])
        #expect(replies[0].body == vat.body)
        #expect(replies[0].header("X-Kernel-Crank") == crank)
        #expect(h.call("GET", "/vats/v1", token: alice).body == vat.body)
    }

    /// A batch of reads is not a crank: before the group's first crank its answer stands, and a
    /// group of reads only has nothing to flush, so a store that cannot flush answers it.
    @Test func aBatchOfReadsNeedsNoFlush() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        #expect(h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"k","value":"1"}]}"#, token: alice).status == 200)
        let crank = h.call("GET", "/kernel").json.objectValue?["crank"]
        let readK = #"{"syscalls":[{"type":"vatstoreGet","key":"k"},{"type":"vatstoreGetNextKey","priorKey":""}]}"#
        let ran = #"{"type":"ran","results":["1","k"]}"#
        let replies = group(h, [
            ("POST", "/vats/v1/syscalls", readK, alice),
            ("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"k","value":"2"}]}"#, alice),
            ("POST", "/vats/v1/syscalls", readK, alice),
        ], failFlush: true)
        #expect(replies.map(\.status) == [200, 503, 503])
        #expect(replies[0].body == ran)
        let flushes = h.storage.flushes
        let reads = group(h, [("POST", "/vats/v1/syscalls", readK, alice), ("POST", "/vats/v1/syscalls", readK, alice)], failFlush: true)
        #expect(reads.map(\.body) == [ran, ran])
        #expect(h.storage.flushes == flushes)
        h.storage.failNextFlush = false
        #expect(h.call("GET", "/kernel").json.objectValue?["crank"] == crank)
        #expect(h.kernel { $0.state } == h.storage.durable)
    }

    /// A long poll waiting when a group is lost is not answered with the lost deliveries; it
    /// gets the next durable one, numbered as the lost one was.
    @Test func aWaitingDriverSeesNothingOfALostGroup() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let answer = Mutex<Harness.Reply?>(nil)
        let answered = DispatchSemaphore(value: 0)
        h.service.handle(HTTPRequest(method: "GET", target: "/vats/v1/deliveries?after=1&wait=30",
                                     headers: HTTPHeadersForTest.bearer(alice), body: [])) { r in
            answer.withLock { $0 = Harness.Reply(status: r.status, headers: r.headers, body: String(decoding: r.body, as: UTF8.self)) }
            answered.signal()
        }
        _ = h.kernel { _ in 0 }  // the wait is parked
        let send = ("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("lost")),"result":"none"}"#, String?.none)
        #expect(group(h, [send], failFlush: true).map(\.status) == [503])
        #expect(answer.withLock { $0 } == nil)

        let kept = ("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("kept")),"result":"none"}"#, String?.none)
        #expect(group(h, [kept], failFlush: false).map(\.status) == [202])
        answered.wait()
        let page = try #require(answer.withLock { $0 })
        #expect(page.status == 200)
        guard case .array(let deliveries)? = page["deliveries"] else { Issue.record("\(page.body)"); return }
        #expect(deliveries.count == 1)
        #expect(deliveries.first?.objectValue?["seq"] == .int(2))
        #expect(page.body.contains(#""kept""#) && !page.body.contains(#""lost""#))
    }
}
