import Dispatch
import HTTPServer
import Synchronization
import Testing
import VatKernel
@testable import KernelService

/// Group commit: answers wait for one flush per group; a failed store answers 503 and the
/// kernel goes back to the last durable state.
struct GroupCommitTests {
    @Test func aFailedFlushAnswers503AndForgetsTheGroup() throws {
        let h = try Harness()
        h.createVat("alice")
        h.storage.failNextFlush = true
        let failed = h.call("POST", "/vats", #"{"name":"bob"}"#)
        #expect(failed.status == 503)
        #expect(failed.body.hasPrefix(#"{"error":{"code":"storage-failure","#))
        #expect(h.call("GET", "/vats").json.objectValue?["vats"] == .array([h.call("GET", "/vats/v1").json]))
        #expect(h.call("GET", "/kernel").json.objectValue?["crank"] == .int(1))
        // The kernel was rebuilt from the durable state: bob's number is free again.
        let bob = h.call("POST", "/vats", #"{"name":"bob"}"#)
        #expect(bob.string("vatID") == "v2")
        #expect(h.call("GET", "/vats/v2/deliveries", token: bob.string("token")).status == 200)
        #expect(h.kernel { $0.audit().count } == 0)
    }

    @Test func aFailedCommitAnswers503AndChangesNothing() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        h.storage.failNextCommit = true
        let r = h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"}]}"#, token: alice)
        #expect(r.status == 503)
        let read = h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreGet","key":"a"}]}"#, token: alice)
        #expect(read.body == #"{"type":"ran","results":[null]}"#)
    }

    /// The token's hash is part of the vat's record: a creation that does not commit leaves
    /// neither the vat nor a token behind.
    @Test func aFailedCreationAnswers503AndLeavesNoVatAndNoToken() throws {
        let h = try Harness()
        h.storage.failNextCommit = true
        let failed = h.call("POST", "/vats", #"{"name":"alice"}"#)
        #expect(failed.status == 503)
        #expect(!failed.body.contains("token"))
        #expect(h.call("GET", "/vats").body == #"{"vats":[],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("POST", "/vats", #"{"name":"alice"}"#).string("vatID") == "v1")
    }

    @Test func requestsWaitingTogetherShareOneFlush() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        _ = h.kernel { _ in 0 }  // the creation's group is done
        let flushesBefore = h.storage.flushes
        // Hold the kernel thread, queue five changes, then let it go: one group, one flush.
        let release = h.holdKernelThread()
        let service = h.service
        let answered = DispatchSemaphore(value: 0)
        let statuses = Mutex<[Int]>([])
        for i in 0..<5 {
            let body = #"{"syscalls":[{"type":"vatstoreSet","key":"k\#(i)","value":"v"}]}"#
            var headers = HTTPHeadersForTest.bearer(alice)
            headers.add(name: "X-Test", value: "\(i)")
            service.handle(.init(method: "POST", target: "/vats/v1/syscalls", headers: headers, body: Array(body.utf8))) { r in
                statuses.withLock { $0.append(r.status) }
                answered.signal()
            }
        }
        release.signal()
        for _ in 0..<5 { answered.wait() }
        #expect(statuses.withLock { $0 } == [200, 200, 200, 200, 200])
        #expect(h.storage.flushes == flushesBefore + 1)
    }

    /// The queue to the kernel thread is bounded in requests and in bytes: past either bound a
    /// request is answered 503 `overloaded` with `Retry-After` at once and changes nothing,
    /// while those already queued run as usual.
    @Test(arguments: [
        (2, 64 << 20, "2 requests (maxQueuedRequests)"),
        (4096, 150, "150 bytes of requests (maxQueuedBytes)"),
    ])
    func aFullKernelQueueAnswers503AndChangesNothing(_ maxRequests: Int, _ maxBytes: Int, _ limit: String) throws {
        var configuration = KernelServiceConfiguration()
        configuration.maxQueuedRequests = maxRequests
        configuration.maxQueuedBytes = maxBytes
        let h = try Harness(configuration)
        let alice = h.createVat("alice")
        let release = h.holdKernelThread()
        let service = h.service
        let answered = DispatchSemaphore(value: 0)
        let replies = Mutex<[Int: HTTPResponse]>([:])
        for i in 0..<3 {
            // Each body is 60 bytes: two fit in 150, the third does not.
            let body = #"{"syscalls":[{"type":"vatstoreSet","key":"k\#(i)","value":"v"}]}"#
            service.handle(.init(method: "POST", target: "/vats/v1/syscalls", headers: HTTPHeadersForTest.bearer(alice), body: Array(body.utf8))) { r in
                replies.withLock { $0[i] = r }
                answered.signal()
            }
        }
        answered.wait()  // the refusal comes at once, while the kernel thread is still held
        let refused = try #require(replies.withLock { $0[2] })
        #expect(refused.status == 503)
        #expect(refused.headers.first { $0.0 == "Retry-After" }?.1 == "1")
        #expect(String(decoding: refused.body, as: UTF8.self)
            == #"{"error":{"code":"overloaded","message":"the kernel is busy: \#(limit) are already waiting; nothing was changed, retry later","details":{"limit":"\#(limit)"}}}"#)
        release.signal()
        answered.wait()
        answered.wait()
        #expect(replies.withLock { [$0[0]?.status, $0[1]?.status] } == [200, 200])
        let read = h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreGet","key":"k0"},{"type":"vatstoreGet","key":"k2"}]}"#, token: alice)
        #expect(read.body == #"{"type":"ran","results":["v",null]}"#)
    }

    /// A read whose connection closed while it waited is dropped before it runs (and
    /// counted); a change is made anyway, since the client may have meant it.
    @Test func readsForAClosedConnectionAreDroppedButChangesRun() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let release = h.holdKernelThread()
        let service = h.service
        let gone = PeerConnection(), open = PeerConnection()
        gone.markClosed()
        let answered = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        func send(_ name: String, _ method: String, _ target: String, _ body: String, _ peer: PeerConnection) {
            var request = HTTPRequest(method: method, target: target, headers: HTTPHeadersForTest.bearer(alice), body: Array(body.utf8))
            request.peer = peer
            service.handle(request) { r in
                answered.withLock { $0.append("\(name) \(r.status)") }
                done.signal()
            }
        }
        send("read-gone", "GET", "/vats/v1/deliveries", "", gone)
        send("write-gone", "POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"k","value":"v"}]}"#, gone)
        send("read-open", "GET", "/vats/v1/deliveries", "", open)
        release.signal()
        done.wait()
        done.wait()
        #expect(done.wait(timeout: .now() + 0.2) == .timedOut)
        #expect(answered.withLock { $0 } == ["write-gone 200", "read-open 200"])
        let read = h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreGet","key":"k"}]}"#, token: alice)
        #expect(read.body == #"{"type":"ran","results":["v"]}"#)
        let metrics = h.call("GET", "/metrics").body
        #expect(metrics.contains("vatkernel_requests_dropped_total 1\n"))
    }

    /// `GET /kernel` is answered from the last committed state at once, unless an earlier
    /// request of its connection is still queued: then it waits its turn and shows that
    /// request's effect (read-your-writes). Every answer says which crank it reflects.
    @Test func aPipelinedKernelSummarySeesTheRequestBeforeIt() throws {
        let h = try Harness()
        _ = h.createVat("alice")
        let release = h.holdKernelThread()
        let service = h.service
        let answers = Mutex<[String: HTTPResponse]>([:])
        let done = DispatchSemaphore(value: 0)
        func send(_ name: String, _ method: String, _ target: String, _ body: String = "", earlier: Int) {
            var request = HTTPRequest(method: method, target: target, body: Array(body.utf8))
            request.earlierUnanswered = earlier
            service.handle(request) { r in
                answers.withLock { $0[name] = r }
                done.signal()
            }
        }
        send("create", "POST", "/vats", #"{"name":"bob"}"#, earlier: 0)
        send("pipelined", "GET", "/kernel", earlier: 1)
        send("other", "GET", "/kernel", earlier: 0)
        done.wait()  // the other connection's summary comes at once, from before bob
        func field(_ name: String, _ key: String) -> String? {
            answers.withLock { $0[name] }.flatMap { try? JSONValue.parse($0.body) }.flatMap { $0[key] }.map { "\($0)" }
        }
        func crank(_ name: String) -> String? { answers.withLock { $0[name] }?.headers.first { $0.0 == "X-Kernel-Crank" }?.1 }
        #expect(answers.withLock { Array($0.keys) } == ["other"])
        #expect(field("other", "vats") == "int(1)")
        #expect(crank("other") == "1")
        release.signal()
        done.wait()
        done.wait()
        #expect(field("pipelined", "vats") == "int(2)")
        #expect(crank("create") == "2")
        #expect(crank("pipelined") == "2")
    }

    @Test func tokensAndStateSurviveARestart() throws {
        let storage = StagedStorage()
        var alice = ""
        do {
            let h = try Harness(storage: storage)
            alice = h.createVat("alice")
            h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"}]}"#, token: alice)
        }
        let h = try Harness(storage: storage)
        #expect(h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[{"type":"vatstoreGet","key":"a"}]}"#, token: alice).body
            == #"{"type":"ran","results":["1"]}"#)
        #expect(h.call("GET", "/vats/v1/deliveries", token: "not-alice").status == 403)
    }

    @Test func theAdminTokenGuardsEverythingButHealthz() throws {
        let admin = "admin-token-0123456789"
        let h = try Harness(KernelServiceConfiguration(adminToken: admin))
        #expect(h.call("GET", "/healthz").status == 200)
        let none = h.call("GET", "/kernel")
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate") == #"Bearer realm="vatkernel""#)
        #expect(h.call("GET", "/kernel", token: "nope").status == 403)
        #expect(h.call("POST", "/vats", #"{"name":"a"}"#).status == 401)
        let alice = h.createVat("alice", token: admin)
        #expect(h.call("GET", "/vats/v1/deliveries", token: alice).status == 200)
        #expect(h.call("GET", "/vats/v1/deliveries", token: admin).status == 200)
        #expect(h.call("GET", "/vats/v1", token: alice).status == 403)
        // Auth comes before the body: an unauthenticated malformed request learns nothing.
        #expect(h.call("POST", "/vats", "{", token: nil).status == 401)
    }
}

enum HTTPHeadersForTest {
    static func bearer(_ token: String) -> HTTPHeaders {
        var h = HTTPHeaders()
        h.add(name: "Authorization", value: "Bearer \(token)")
        return h
    }
}
