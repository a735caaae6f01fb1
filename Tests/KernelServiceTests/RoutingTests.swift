import Testing
import VatKernel
@testable import KernelService

/// Routing, methods and parameter grammar: decided on the loop thread, before the kernel.
struct RoutingTests {
    @Test(arguments: [
        ("/healthz", Resource.healthz), ("/kernel/run-mode", .kernelRunMode), ("/vats/v1", .vat("v1")),
        ("/vats/v7/deliveries", .vatDeliveries("v7")), ("/objects/ko20/pin", .objectPin("ko20")),
        ("/promises/kp40/hold", .promiseHold("kp40")), ("/vats/v2/bring-out-your-dead", .vatBringOutYourDead("v2")),
        ("/kernel/gc/reconsider", .kernelGCReconsider), ("/vats/v3/termination/hold", .vatTerminationHold("v3")),
    ])
    func matchesPaths(_ path: String, _ resource: Resource) {
        #expect(Resource(path: path) == resource)
    }

    @Test(arguments: ["/", "/vats/", "//vats", "/vats/v1/clist/x", "/kernel/steps", "/objects/ko1/pins", "vats",
                      "/kernel/gc", "/kernel/x/reconsider", "/vats/v1/termination", "/vats/v1/termination/x", "/vats/v1/x/hold",
                      "/objects/ko1/termination/hold"])
    func refusesOtherPaths(_ path: String) {
        #expect(Resource(path: path) == nil)
    }

    @Test func answers404And405WithTheErrorBody() throws {
        let h = try Harness()
        let notFound = h.call("GET", "/nowhere")
        #expect(notFound.status == 404)
        #expect(notFound.body == #"{"error":{"code":"not-found","message":"no resource at /nowhere","details":{}}}"#)
        let wrong = h.call("DELETE", "/vats")
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "GET, POST")
        #expect(wrong.body == #"{"error":{"code":"method-not-allowed","message":"DELETE is not allowed here; use GET, POST","details":{"allow":["GET","POST"]}}}"#)
        // Issue 9 part 5 changes this answer: HEAD is GET without a body (the server drops it).
        #expect(h.call("HEAD", "/kernel/step").status == 405)
        #expect(h.call("HEAD", "/kernel/step").header("Allow") == "POST")
    }

    /// Issue 9 part 5: HEAD on a GET route was a 405; it is answered as the GET.
    @Test func answersHEADAsGET() throws {
        let h = try Harness()
        h.createVat("alice")
        for target in ["/kernel", "/vats", "/vats/v1", "/vats/v1/clist", "/kernel/run-queue", "/objects", "/healthz", "/kernel/run-mode"] {
            let get = h.call("GET", target)
            let head = h.call("HEAD", target)
            #expect(get.status == 200, "\(target)")
            #expect(head.status == 200, "\(target)")
            #expect(head.body == get.body, "\(target)")
        }
        #expect(h.call("HEAD", "/vats/v9").status == 404)
        #expect(h.call("HEAD", "/messages").status == 405)
    }

    /// Issue 9 part 5: the path was decoded before it was cut into segments, so `%2F` made a new
    /// segment and `GET /vats/v1%2Fclist` answered v1's c-list. Each segment is decoded alone.
    @Test func anEncodedSlashStaysInsideItsSegment() throws {
        let h = try Harness()
        h.createVat("alice")
        #expect(h.call("GET", "/vats/v1/clist").status == 200)
        let r = h.call("GET", "/vats/v1%2Fclist")
        #expect(r.status == 400)
        #expect(r.body == #"{"error":{"code":"invalid-parameter","message":"vatID: \"v1/clist\" is not a vat ID (v1, v2, …)","details":{"parameter":"vatID"}}}"#)
        #expect(h.call("GET", "/vats%2Fv1").status == 404)
        #expect(h.call("GET", "/vats%2Fv1/clist").status == 404)
        #expect(h.call("GET", "/kernel%2Frun-queue").status == 404)
        #expect(h.call("GET", "/vat%73/v1").status == 200)
        #expect(h.call("POST", "/vats/v1%2Fsyscalls", #"{"syscalls":[]}"#).status == 405)
    }

    /// Issue 11: `GET /objects?ownr=none` listed every object (the typo was ignored). An unknown
    /// or repeated query parameter is a 400 naming it, as an unknown body field is.
    @Test func refusesUnknownAndRepeatedQueryParameters() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let typo = h.call("GET", "/objects?ownr=none")
        #expect(typo.status == 400)
        #expect(typo.body == #"{"error":{"code":"invalid-parameter","message":"ownr: is not a query parameter of GET /objects (it takes owner, after, limit)","details":{"parameter":"ownr"}}}"#)
        let twice = h.call("GET", "/objects?owner=v1&limit=5&owner=none")
        #expect(twice.status == 400)
        #expect(twice.body == #"{"error":{"code":"invalid-parameter","message":"owner: is given more than once","details":{"parameter":"owner"}}}"#)
        let none = h.call("GET", "/kernel?verbose")
        #expect(none.status == 400)
        #expect(none.body == #"{"error":{"code":"invalid-parameter","message":"verbose: is not a query parameter of GET /kernel (it takes none)","details":{"parameter":"verbose"}}}"#)
        // The name is compared once decoded; HEAD is checked as its GET; the probes too.
        #expect(h.call("GET", "/objects?own%72=none").body.contains(#""details":{"parameter":"ownr"}"#))
        #expect(h.call("HEAD", "/promises?states=rejected").status == 400)
        #expect(h.call("GET", "/healthz?x=1").status == 400)
        #expect(h.call("POST", "/kernel/step?dry=1").status == 400)
        #expect(h.call("GET", "/vats/v1/deliveries?after=0&limit=1&after=1", token: alice).body.contains(#""message":"after: is given more than once""#))
        // What each endpoint declares still works, and an empty query or empty pieces are none.
        #expect(h.call("GET", "/objects?owner=v1&after=ko0&limit=5").status == 200)
        #expect(h.call("GET", "/promises?decider=v1&state=unresolved&after=kp0&limit=5").status == 200)
        #expect(h.call("GET", "/kernel/run-queue?after=0&limit=1").status == 200)
        #expect(h.call("GET", "/kernel/acceptance-queue?limit=1").status == 200)
        #expect(h.call("GET", "/vats/v1/deliveries?after=0&limit=1", token: alice).status == 200)
        #expect(h.call("GET", "/kernel?").status == 200)
        #expect(h.call("GET", "/objects?&&limit=1&").status == 200)
    }

    /// The credentials are checked before the query: without the admin token a typo is a 401.
    @Test func checksCredentialsBeforeTheQuery() throws {
        var configuration = KernelServiceConfiguration()
        configuration.adminToken = "secret"
        let h = try Harness(configuration)
        #expect(h.call("GET", "/objects?ownr=none").status == 401)
        #expect(h.call("GET", "/objects?ownr=none", token: "secret").status == 400)
    }

    @Test func checksParametersBeforeTheKernel() throws {
        let h = try Harness()
        let r = h.call("GET", "/vats/v01")
        #expect(r.status == 400)
        #expect(r.body == #"{"error":{"code":"invalid-parameter","message":"vatID: \"v01\" is not a vat ID (v1, v2, …)","details":{"parameter":"vatID"}}}"#)
        #expect(h.call("GET", "/objects/kp40").status == 400)
        #expect(h.call("GET", "/promises/ko20").status == 400)
        #expect(h.call("GET", "/objects/ko1000000000000000").status == 400)
        #expect(h.call("GET", "/kernel/run-queue?limit=0").status == 400)
        #expect(h.call("GET", "/kernel/run-queue?after=-1").status == 400)
        #expect(h.call("GET", "/objects?owner=v0").status == 400)
        #expect(h.call("GET", "/promises?state=pending").status == 400)
        #expect(h.call("GET", "/objects?after=kp4").status == 400)
    }

    @Test func parsesEverySyscallOfAPIMD() throws {
        let batch = #"""
        {"syscalls":[
          {"type": "send", "target": "o-50", "methargs": {"body": ["ping", []], "slots": []}, "result": "p+1"},
          {"type": "subscribe", "vpid": "p+1"},
          {"type": "resolve", "resolutions": [{"vpid": "p+5", "rejected": false, "data": {"body": {"$slot": 0}, "slots": ["o+7"]}}]},
          {"type": "exit", "isFailure": false, "info": {"body": "done", "slots": []}},
          {"type": "dropImports", "vrefs": ["o-50"]}, {"type": "retireImports", "vrefs": ["o-50"]},
          {"type": "retireExports", "vrefs": ["o+d5/3:1"]}, {"type": "abandonExports", "vrefs": ["o+v7/1"]},
          {"type": "vatstoreSet", "key": "k", "value": "v"}, {"type": "vatstoreGet", "key": "k"},
          {"type": "vatstoreDelete", "key": "k"}, {"type": "vatstoreGetNextKey", "priorKey": "k"}
        ]}
        """#
        let op = try Operation.parse(.vatSyscalls("v1"), method: "POST", query: [:], body: Array(batch.utf8),
                                     maxSyscalls: 100, maxRunCranks: 10)
        let v = { (s: String) in VRef(s)! }
        #expect(op == .syscalls(VatID(1), [
            .send(target: v("o-50"), methargs: CapData(body: .array([.string("ping"), .array([])])), result: v("p+1")),
            .subscribe(vpid: v("p+1")),
            .resolve([VatResolution(vpid: v("p+5"), rejected: false, data: CapData(body: .slot(0), slots: [v("o+7")]))]),
            .exit(isFailure: false, info: CapData(body: .string("done"))),
            .dropImports([v("o-50")]), .retireImports([v("o-50")]),
            .retireExports([v("o+d5/3:1")]), .abandonExports([v("o+v7/1")]),
            .vatstoreSet(key: "k", value: "v"), .vatstoreGet(key: "k"),
            .vatstoreDelete(key: "k"), .vatstoreGetNextKey(priorKey: "k"),
        ]))
    }

    @Test(arguments: [
        (#"{"syscalls":[{"type":"send","target":"o-50"}]}"#, "syscalls[0].methargs: is required"),
        (#"{"syscalls":[{"type":"subscribe","vpid":"p+1","extra":1}]}"#, "syscalls[0].extra: is not a known field"),
        (#"{"syscalls":[{"type":"dropImports","vrefs":["o-50","ko20"]}]}"#, #"syscalls[0].vrefs[1]: "ko20" is not a vref (o+N, o-N, p+N, p-N, o+dN/I:F…; ids and instances up to 12 digits, facets up to 4)"#),
        (#"{"syscalls":[{"type":"resolve","resolutions":[{"vpid":"p+1","rejected":"no","data":{"body":1}}]}]}"#, "syscalls[0].resolutions[0].rejected: must be true or false"),
        (#"{"syscalls":{}}"#, "syscalls: must be an array"),
        (#"[]"#, "body: must be a JSON object"),
        (#"{"syscalls":[{"type":"send","target":"o-50","methargs":{"body":[1,[]]}}]}"#, "syscalls[0].methargs.body: must be [method, [args...]]"),
    ])
    func namesTheBadField(_ body: String, _ message: String) {
        #expect(throws: ServiceError.self) {
            try Operation.parse(.vatSyscalls("v1"), method: "POST", query: [:], body: Array(body.utf8), maxSyscalls: 100, maxRunCranks: 10)
        }
        do {
            _ = try Operation.parse(.vatSyscalls("v1"), method: "POST", query: [:], body: Array(body.utf8), maxSyscalls: 100, maxRunCranks: 10)
        } catch {
            #expect(error.status == 400)
            #expect(error.message == message)
        }
    }

    @Test func refusesABatchLongerThanTheLimit() {
        let batch = #"{"syscalls":[{"type":"vatstoreGet","key":"a"},{"type":"vatstoreGet","key":"b"},{"type":"vatstoreGet","key":"c"}]}"#
        do {
            _ = try Operation.parse(.vatSyscalls("v1"), method: "POST", query: [:], body: Array(batch.utf8), maxSyscalls: 2, maxRunCranks: 10)
            Issue.record("a batch of 3 passed a limit of 2")
        } catch {
            #expect(error.status == 400)
            #expect(error.code == "too-many-syscalls")
        }
    }
}

/// Bearer tokens: parsing and constant-time comparison.
struct CredentialsTests {
    @Test func parsesBearerHeaders() {
        #expect(Credentials.bearer("Bearer abc") == Array("abc".utf8))
        #expect(Credentials.bearer("bEaReR   abc  ") == Array("abc".utf8))
        #expect(Credentials.bearer("Basic abc") == nil)
        #expect(Credentials.bearer("Bearer") == nil)
        #expect(Credentials.bearer("Bearer ") == nil)
        #expect(Credentials.bearer(nil) == nil)
    }

    @Test func comparesWholeTokens() {
        #expect(Credentials.constantTimeEqual(Array("secret".utf8), Array("secret".utf8)))
        #expect(!Credentials.constantTimeEqual(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!Credentials.constantTimeEqual(Array("secret".utf8), Array("secret2".utf8)))
        #expect(!Credentials.constantTimeEqual([], Array("x".utf8)))
    }

    @Test(arguments: [nil, "admin-token-0123456789"] as [String?])
    func aBadTokenGetsTheSameAnswerWhetherOrNotTheVatExists(_ admin: String?) throws {
        // Issue 9 part 4: a 404 for a missing vat against a 403 for an existing one told any
        // token holder which vats exist.
        let h = try Harness(KernelServiceConfiguration(adminToken: admin))
        let alice = h.createVat("alice", token: admin)
        for (method, path, body) in [("GET", "deliveries", nil), ("POST", "syscalls", #"{"syscalls":[]}"#)] as [(String, String, String?)] {
            for token in [alice, "not-a-token", String(repeating: "0", count: 64)] {
                let existing = h.call(method, "/vats/v1/\(path)", body, token: token == alice ? "wrong" : token)
                let missing = h.call(method, "/vats/v9/\(path)", body, token: token)
                #expect(existing.status == 403 && missing.status == 403)
                #expect(existing.body == missing.body)
            }
            #expect(h.call(method, "/vats/v9/\(path)", body).status == 401)
            #expect(h.call(method, "/vats/v1/\(path)", body, token: alice).status == 200)
        }
        if let admin { #expect(h.call("GET", "/vats/v9/deliveries", token: admin).status == 404) }
    }

    @Test func makesRandomHexTokens() {
        let a = Credentials.newToken(), b = Credentials.newToken()
        #expect(a.utf8.count == 64 && a.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        #expect(a != b)
    }
}
