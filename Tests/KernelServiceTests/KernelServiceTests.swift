import Testing
import VatKernel
@testable import KernelService

/// Scenarios through the handler, with exact bodies: the JSON of API.md.
struct KernelServiceTests {
    @Test func createsVatsAndShowsThem() throws {
        let h = try Harness()
        let created = h.call("POST", "/vats", #"{"name":"alice","options":{"managerType":"local"}}"#)
        #expect(created.status == 201)
        #expect(created.header("Location") == "/vats/v1")
        let token = created.string("token")!
        #expect(created.body == #"{"vatID":"v1","name":"alice","rootKref":"ko20","incarnation":0,"token":"\#(token)"}"#)
        #expect(h.call("GET", "/vats/v1").body == #"{"vatID":"v1","name":"alice","status":"running","incarnation":0,"options":{"managerType":"local"},"vatParameters":{"body":null,"slots":[]},"clistSize":1,"deliveryCount":1,"deliveriesAcknowledged":0,"termination":null}"#)
        #expect(h.call("GET", "/vats/v1/clist").body == #"{"entries":[{"kref":"ko20","vref":"o+0","reachable":true}],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("GET", "/vats/v1/deliveries", token: token).body
            == #"{"deliveries":[{"seq":1,"crank":1,"type":"startVat","vatParameters":{"body":null,"slots":[]}}],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("GET", "/objects/ko20").body
            == #"{"kref":"ko20","owner":"v1","reachable":1,"recognizable":1,"pins":1,"holders":[{"kind":"exporter","vatID":"v1","vref":"o+0","via":null,"reachable":0,"recognizable":0},{"kind":"pin","vatID":null,"vref":null,"via":null,"reachable":1,"recognizable":1}]}"#)
        #expect(h.call("GET", "/kernel").body
            == #"{"crank":1,"crankHash":null,"activityHash":null,"runMode":"auto","halted":null,"idle":true,"queues":{"acceptance":0,"run":0,"reap":0},"gcActions":0,"vats":1,"runningVats":1,"objects":1,"promises":0,"store":{"path":":memory:","durability":null}}"#)
    }

    /// A vat's options read back in the one canonical form of a kernel value: keys in UTF-8
    /// byte order at every depth (so `K` < `a` < the Kelvin sign), numbers as given, escapes.
    @Test func optionsReadBackCanonically() throws {
        let h = try Harness()
        let options = #"{"\u212a":1,"b":{"y":[1,2.5,"\u0000\u00e9\"\\"],"x":null},"a":true,"K":false,"n":-12345678901234}"#
        #expect(h.call("POST", "/vats", #"{"name":"alice","options":\#(options)}"#).status == 201)
        let body = h.call("GET", "/vats/v1").body
        #expect(body.contains(#""options":{"K":false,"a":true,"b":{"x":null,"y":[1,2.5,"\u0000é\"\\"]},"n":-12345678901234,"\#u{212A}":1},"vatParameters""#), "\(body)")
    }

    @Test func enablePipeliningIsABooleanAndAPipeliningVatGetsMessagesToItsResults() throws {
        let h = try Harness()
        let refused = h.call("POST", "/vats", #"{"name":"bob","options":{"enablePipelining":1}}"#)
        #expect(refused.status == 400)
        #expect(refused.body == #"{"error":{"code":"invalid-request","message":"options.enablePipelining: must be true or false","details":{"field":"options.enablePipelining"}}}"#)
        let alice = h.createVat("alice")
        let bob = h.call("POST", "/vats", #"{"name":"bob","options":{"enablePipelining":true}}"#).string("token")!
        #expect(h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("meet", ["ko21"])),"result":"none"}"#).status == 202)
        let sent = h.call("POST", "/vats/v1/syscalls",
                          #"{"syscalls":[{"type":"send","target":"o-50","methargs":\#(methargs("make", [])),"result":"p+1"},{"type":"send","target":"p+1","methargs":\#(methargs("use", [])),"result":"p+2"}]}"#,
                          token: alice)
        #expect(sent.status == 200)
        #expect(h.call("GET", "/vats/v2/deliveries?after=1", token: bob).body
            == #"{"deliveries":[{"seq":2,"crank":9,"type":"message","target":"o+0","methargs":{"body":["make",[]],"slots":[]},"result":"p-60"},{"seq":3,"crank":11,"type":"message","target":"p-60","methargs":{"body":["use",[]],"slots":[]},"result":"p-61"}],"next":null,"limit":100,"maxBytes":1048576}"#)
    }

    @Test func deliversHostSendsInTheVatsReferences() throws {
        let h = try Harness()
        h.createVat("alice")
        let bob = h.createVat("bob")
        let sent = h.call("POST", "/messages", #"{"target":"ko21","methargs":\#(methargs("hello", ["ko20"])),"result":"keep"}"#)
        #expect(sent.status == 202)
        #expect(sent.body == #"{"result":"kp40"}"#)
        #expect(h.call("GET", "/vats/v2/deliveries?after=1", token: bob).body
            == #"{"deliveries":[{"seq":2,"crank":5,"type":"message","target":"o+0","methargs":{"body":["hello",[{"$slot":0}]],"slots":["o-50"]},"result":"p-60"}],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("GET", "/promises/kp40").body
            == #"{"kpid":"kp40","state":"unresolved","decider":"v2","subscribers":[],"refCount":2,"heldByHost":true,"queue":[],"data":null,"holders":[{"kind":"hostResult","vatID":null,"vref":null,"via":null,"reachable":1,"recognizable":1},{"kind":"importer","vatID":"v2","vref":"p-60","via":null,"reachable":1,"recognizable":1}]}"#)

        let resolved = h.call("POST", "/vats/v2/syscalls",
                              #"{"syscalls":[{"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":"hi","slots":[]}}]},{"type":"vatstoreSet","key":"a","value":"1"},{"type":"vatstoreGet","key":"a"},{"type":"vatstoreGetNextKey","priorKey":""}]}"#,
                              token: bob)
        #expect(resolved.status == 200)
        #expect(resolved.body == #"{"type":"ran","results":[null,null,"1","a"]}"#)
        #expect(h.call("GET", "/promises?state=fulfilled").body
            == #"{"promises":[{"kpid":"kp40","state":"fulfilled","decider":null,"subscribers":[],"refCount":1,"heldByHost":true}],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("DELETE", "/promises/kp40/hold").body == #"{"kpid":"kp40","heldByHost":false}"#)
        #expect(h.call("GET", "/promises/kp40").status == 404)
    }

    @Test func anIllegalSyscallTerminatesTheVatAndSaysWhy() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let r = h.call("POST", "/vats/v1/syscalls",
                       #"{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"retireImports","vrefs":["o-50"]}]}"#, token: alice)
        #expect(r.status == 422)
        #expect(r.body == #"{"error":{"code":"illegal-syscall","message":"syscall 1 (retireImports) is illegal: vref o-50 not in clist; vat v1 is terminated","details":{"index":1,"syscall":"retireImports","problem":"vref o-50 not in clist","vatTerminated":true}}}"#)
        #expect(h.call("GET", "/vats/v1").string("status") == "terminated")
        let again = h.call("POST", "/vats/v1/syscalls", #"{"syscalls":[]}"#, token: alice)
        #expect(again.body == #"{"error":{"code":"vat-terminated","message":"vat v1 is terminated","details":{"vatID":"v1"}}}"#)
        #expect(again.status == 409)
    }

    @Test func exitAnswersWhatHappened() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let r = h.call("POST", "/vats/v1/syscalls",
                       #"{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"exit","isFailure":true,"info":{"body":"oops"}}]}"#, token: alice)
        #expect(r.body == #"{"type":"exited","exited":true,"isFailure":true,"results":[]}"#)
        #expect(h.call("GET", "/vats/v1").body.contains(#""termination":{"isFailure":true,"reason":{"body":"oops","slots":[]},"#))
    }

    @Test func manualModeWaitsForStepAndRun() throws {
        let h = try Harness(KernelServiceConfiguration(runMode: .manual))
        h.createVat("alice")
        #expect(h.call("GET", "/kernel/run-mode").body == #"{"mode":"manual"}"#)
        h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("ping"))}"#)
        #expect(h.call("GET", "/kernel/acceptance-queue").body
            == #"{"events":[{"id":1,"type":"send","target":"ko20","methargs":{"body":["ping",[]],"slots":[]},"result":null}],"next":null,"limit":100,"maxBytes":1048576}"#)
        let step = h.call("POST", "/kernel/step")
        #expect(step.body == #"{"type":"crank","idle":false,"crank":3,"kind":"route","vatID":"v1","delivery":null,"detail":"send to ko20 queued for v1"}"#)
        let delivered = h.call("POST", "/kernel/step", "{}")
        #expect(delivered.string("kind") == "delivery")
        #expect(Harness.Reply(status: 0, headers: [], body: JSON(delivered["delivery"]!).description).body
            == #"{"crank":4,"methargs":{"body":["ping",[]],"slots":[]},"result":null,"seq":2,"target":"o+0","type":"message"}"#)
        #expect(h.call("POST", "/kernel/step").body == #"{"type":"idle","idle":true}"#)
        #expect(h.call("POST", "/kernel/run", #"{"maxCranks":5}"#).body == #"{"cranks":0,"idle":true}"#)
        #expect(h.call("PUT", "/kernel/run-mode", #"{"mode":"auto"}"#).body == #"{"mode":"auto"}"#)
        #expect(h.call("PUT", "/kernel/run-mode", #"{"mode":"fast"}"#).status == 400)
    }

    @Test func paginatesTheDeliveryLog() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        for _ in 0..<4 { h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("ping"))}"#) }
        let first = h.call("GET", "/vats/v1/deliveries?limit=2", token: alice)
        #expect(first.json.objectValue?["next"] == .int(2))
        let second = h.call("GET", "/vats/v1/deliveries?after=2&limit=2", token: alice)
        #expect(second.json.objectValue?["next"] == .int(4))
        let last = h.call("GET", "/vats/v1/deliveries?after=4&limit=2", token: alice)
        #expect(last.body.hasPrefix(#"{"deliveries":[{"seq":5,"#))
        #expect(last.json.objectValue?["next"] == .null)
        #expect(h.call("GET", "/objects?limit=1").body
            == #"{"objects":[{"kref":"ko20","owner":"v1","reachable":1,"recognizable":1,"pins":1}],"next":null,"limit":1,"maxBytes":1048576}"#)
    }

    @Test func upgradeAnswersTheIncarnationOrTheFailure() throws {
        let h = try Harness()
        h.createVat("alice")
        #expect(h.call("POST", "/vats/v1/upgrade", #"{"upgradeMessage":"hi"}"#).body == #"{"vatID":"v1","incarnation":1}"#)
        let failed = h.call("POST", "/vats/v1/upgrade", #"{"startVatFails":true}"#)
        #expect(failed.status == 422)
        #expect(failed.body == #"{"error":{"code":"vat-upgrade-failure","message":"vat-upgrade failure","details":{"reason":"the new incarnation failed to start"}}}"#)
        #expect(h.call("GET", "/vats/v1").string("status") == "running")
        #expect(h.call("GET", "/vats/v1").json.objectValue?["incarnation"] == .int(1))
    }

    @Test func hostRefusalsMapToStatuses() throws {
        let h = try Harness()
        h.createVat("alice")
        #expect(h.call("GET", "/vats/v9").body == #"{"error":{"code":"unknown-vat","message":"no vat v9","details":{"vatID":"v9"}}}"#)
        #expect(h.call("GET", "/objects/ko99").status == 404)
        let missingTarget = h.call("POST", "/messages", #"{"target":"ko99","methargs":\#(methargs("x"))}"#)
        #expect(missingTarget.status == 422)
        #expect(missingTarget.body == #"{"error":{"code":"unknown-kref","message":"no object ko99","details":{"kref":"ko99"}}}"#)
        #expect(h.call("POST", "/vats/v1/exports", #"{"vref":"o+7"}"#).body == #"{"kref":"ko21"}"#)
        #expect(h.call("POST", "/vats/v1/exports", #"{"vref":"o-7"}"#).status == 400)
        #expect(h.call("POST", "/objects/ko21/pin").body == #"{"kref":"ko21","pins":2}"#)
        #expect(h.call("DELETE", "/promises/kp40/hold").status == 404)
        #expect(h.call("POST", "/vats/v1/bring-out-your-dead").status == 202)
        #expect(h.call("POST", "/vats/v1/terminate", #"{"reason":"bye"}"#).string("status") == "terminated")
        #expect(h.call("POST", "/vats/v1/terminate").status == 409)
        #expect(h.call("GET", "/kernel/audit").body == "[]")
    }
}

extension JSONValue {
    var objectValue: [ByteString: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }
}
