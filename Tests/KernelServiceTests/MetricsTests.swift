import Testing
import VatKernel
@testable import KernelService

/// `GET /metrics`: exact samples after a known scenario.
struct MetricsTests {
    /// The samples of the page, `name{labels}` to value (histogram buckets left out).
    private func samples(_ page: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in page.split(separator: "\n") where !line.hasPrefix("#") && !line.contains("_bucket{") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out
    }

    @Test func countsWhatTheKernelDid() throws {
        let h = try Harness(KernelServiceConfiguration(adminToken: "admin-token-0123456789"))
        let admin = "admin-token-0123456789"
        h.createVat("alice", token: admin)
        let bob = h.createVat("bob", token: admin)
        let carol = h.createVat("carol", token: admin)
        h.call("POST", "/messages", #"{"target":"ko21","methargs":\#(methargs("hello", ["ko20"]))}"#, token: admin)
        h.call("POST", "/vats/v2/syscalls",
               #"{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"send","target":"o-50","methargs":\#(methargs("take", ["o+7", "o+8"]))},{"type":"abandonExports","vrefs":["o+8"]}]}"#,
               token: bob)
        #expect(h.call("POST", "/vats/v3/syscalls", #"{"syscalls":[{"type":"dropImports","vrefs":["o-99"]}]}"#, token: carol).status == 422)
        #expect(h.call("POST", "/vats/v2/upgrade", "{}", token: admin).status == 200)
        #expect(h.call("POST", "/vats/v1/upgrade", #"{"startVatFails":true}"#, token: admin).status == 422)

        #expect(h.call("GET", "/metrics").status == 401)  // the admin token, as everything else
        let page = h.call("GET", "/metrics", token: admin)
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let s = samples(page.body)
        #expect(s[#"vatkernel_build_info{version="\#(ServiceIdentity.currentVersion)"}"#] == "1.0")  // gauges are written as doubles
        // 3 creations, 1 send, 2 batches, 1 upgrade: 7 host cranks (the failed upgrade changed nothing).
        #expect(s[#"vatkernel_cranks_total{kind="host-request"}"#] == "7")
        #expect(s[#"vatkernel_deliveries_total{type="startVat"}"#] == "4")
        #expect(s[#"vatkernel_deliveries_total{type="bringOutYourDead"}"#] == "1")
        #expect(s[#"vatkernel_deliveries_total{type="message"}"#] == "2")
        #expect(s[#"vatkernel_syscalls_total{type="vatstoreSet"}"#] == "1")
        #expect(s[#"vatkernel_syscalls_total{type="send"}"#] == "1")
        #expect(s[#"vatkernel_syscalls_total{type="abandonExports"}"#] == "1")
        #expect(s[#"vatkernel_syscalls_total{type="dropImports"}"#] == nil)  // refused: it took no effect
        #expect(s["vatkernel_illegal_syscalls_total"] == "1")
        #expect(s["vatkernel_terminations_total"] == "1")
        #expect(s[#"vatkernel_upgrades_total{outcome="upgraded"}"#] == "1")
        #expect(s[#"vatkernel_upgrades_total{outcome="failed"}"#] == "1")
        // o+8 abandoned by its syscall, o+7 by bob's upgrade (non-durable, not the root).
        #expect(s["vatkernel_exports_abandoned_total"] == "2")
        #expect(s[#"vatkernel_vats{status="running"}"#] == "2.0")
        #expect(s[#"vatkernel_vats{status="terminated"}"#] == "1.0")
        #expect(s[#"vatkernel_queue_length{queue="run"}"#] == "0.0")
        #expect(s["vatkernel_objects"] == h.kernel { "\($0.state.objects.count).0" })
        #expect(s["vatkernel_promises"] == h.kernel { "\($0.state.promises.count).0" })
        #expect(s["vatkernel_clist_entries"] == h.kernel { k in "\(k.state.vats.rows.values.reduce(0) { $0 + (k.state.clists[$1.id]?.count ?? 0) }).0" })
        #expect(s["vatkernel_store_size_bytes"] == "0.0")
        #expect(s[#"vatkernel_http_request_duration_seconds_count{route="/vats/{vatID}/syscalls",method="POST",status="422"}"#] == "1")
        #expect(s[#"vatkernel_http_request_duration_seconds_count{route="/metrics",method="GET",status="401"}"#] == "1")
        #expect(Int(s[#"vatkernel_crank_duration_seconds_count"#] ?? "") ?? 0 >= 7)
    }

    /// An orphan is counted when it is made and again when it is retired, once nobody reaches
    /// or recognizes it; an object its owner retires is not an orphan retired.
    @Test func orphansAreCountedWhenMadeAndWhenRetired() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        let bob = h.createVat("bob")
        func sys(_ token: String, _ vat: String, _ syscalls: String) {
            let r = h.call("POST", "/vats/\(vat)/syscalls", #"{"syscalls":\#(syscalls)}"#, token: token)
            #expect(r.status == 200, "\(syscalls): \(r.body)")
        }
        // Alice learns bob's root, sends him two of her objects (ko22, ko23), abandons one.
        #expect(h.call("POST", "/messages", #"{"target":"ko20","methargs":\#(methargs("meet", ["ko21"]))}"#).status == 202)
        sys(alice, "v1", #"[{"type":"send","target":"o-50","methargs":\#(methargs("take", ["o+1", "o+2"]))},{"type":"abandonExports","vrefs":["o+1"]}]"#)
        func counts() -> (String?, String?) {
            let s = samples(h.call("GET", "/metrics").body)
            return (s["vatkernel_orphans_created_total"], s["vatkernel_orphans_retired_total"])
        }
        #expect(counts() == ("1", "0"))
        // Bob drops and retires both: both leave the kernel's table, the orphan ko22 at once and
        // ko23 through its owner alice (dropExports, retireExports); only ko22 was an orphan.
        sys(bob, "v2", #"[{"type":"dropImports","vrefs":["o-50","o-51"]},{"type":"retireImports","vrefs":["o-50","o-51"]}]"#)
        #expect(h.call("GET", "/objects/ko22").status == 404)
        #expect(h.call("GET", "/objects/ko23").status == 404)
        #expect(counts() == ("1", "1"))
    }
}
