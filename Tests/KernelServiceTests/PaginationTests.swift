import Testing
import VatKernel
@testable import KernelService

/// Issue 9 part 3: every list is paginated in the numeric order of its cursors with one
/// after/limit/next shape, says its limits, and stops at a byte budget.
@Suite struct PaginationTests {
    /// Follows `next` from the first page until it is null; the items' `field`s, page by page.
    private func walk(_ h: Harness, _ path: String, _ items: String, _ field: String, limit: Int, token: String? = nil) -> [[String]] {
        var pages: [[String]] = []
        var after: String?
        repeat {
            let sep = path.contains("?") ? "&" : "?"
            let page = h.call("GET", path + sep + "limit=\(limit)" + (after.map { "&after=\($0)" } ?? ""), token: token).json
            let list = page[items]?.arrayValue ?? []
            pages.append(list.map { $0[field]?.stringValue ?? "?" })
            #expect(page["limit"] == .int(limit) && page["maxBytes"] == .int(Limits.maxPageBytes))
            switch page["next"] {
            case .string(let s)?: after = s
            case .int(let n)?: after = "\(n)"
            default: after = nil
            }
        } while after != nil && pages.count < 100
        return pages
    }

    @Test func vatsArePagedByVatNumber() throws {
        let h = try Harness()
        for i in 1...11 { h.createVat("vat\(i)") }
        #expect(walk(h, "/vats", "vats", "vatID", limit: 4)
            == [["v1", "v2", "v3", "v4"], ["v5", "v6", "v7", "v8"], ["v9", "v10", "v11"]])
        #expect(h.call("GET", "/vats?after=v11").body == #"{"vats":[],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("GET", "/vats?after=v0").status == 400)
        #expect(h.call("GET", "/vats?after=ko20").json["error"]?["message"]?.stringValue == #"after: "ko20" is not a vat ID (v1, v2, …)"#)
    }

    @Test func aCListIsPagedObjectsThenPromisesEachByNumber() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        // ko21…ko110 (so text order would put ko100 before ko20), then kp40.
        for n in 1...90 { #expect(h.call("POST", "/vats/v1/exports", #"{"vref":"o+\#(n)"}"#).status == 200) }
        let send = #"{"syscalls":[{"type":"send","target":"o+0","methargs":\#(methargs("ping")),"result":"p+1"}]}"#
        #expect(h.call("POST", "/vats/v1/syscalls", send, token: alice).status == 200)
        let pages = walk(h, "/vats/v1/clist", "entries", "kref", limit: 40)
        #expect(pages.map(\.count) == [40, 40, 12])
        #expect(pages.flatMap { $0 } == (20...110).map { "ko\($0)" } + ["kp40"])
        let second = h.call("GET", "/vats/v1/clist?after=ko59&limit=1").body
        #expect(second == #"{"entries":[{"kref":"ko60","vref":"o+40","reachable":true}],"next":"ko60","limit":1,"maxBytes":1048576}"#)
        #expect(h.call("GET", "/vats/v1/clist?after=ko110").json["entries"]?.arrayValue?.count == 1)
        #expect(h.call("GET", "/vats/v1/clist?after=kp40").body == #"{"entries":[],"next":null,"limit":100,"maxBytes":1048576}"#)
        #expect(h.call("GET", "/vats/v1/clist?after=o%2B1").status == 400)
        #expect(h.call("GET", "/vats/v1/clist?limit=1001").status == 400)
    }

    @Test func aPageStopsAtItsByteBudgetButAlwaysMovesOn() throws {
        let h = try Harness()
        let alice = h.createVat("alice")
        // Five deliveries of about 300 KB each: three fit in 1 MiB, the fourth would not.
        let big = String(repeating: "x", count: 300_000)
        for _ in 0..<5 {
            #expect(h.call("POST", "/messages", #"{"target":"ko20","methargs":{"body":["take",["\#(big)"]],"slots":[]}}"#).status == 202)
        }
        let pages = walk(h, "/vats/v1/deliveries", "deliveries", "type", limit: 100, token: alice)
        #expect(pages.map(\.count) == [4, 2])  // startVat and three messages, then two messages
        let first = h.call("GET", "/vats/v1/deliveries", token: alice)
        #expect(first.json["next"] == .int(4))
        #expect(first.body.utf8.count < Limits.maxPageBytes + 200)
    }

    @Test func pendingGCActionsArePagedInTheSetsStringOrder() throws {
        // Manual: the actions stay pending instead of being delivered at once.
        let h = try Harness(KernelServiceConfiguration(runMode: .manual))
        let alice = h.createVat("alice")
        var tokens: [Int: String] = [:]
        for i in 2...10 { tokens[i] = h.createVat("vat\(i)") }
        // Vats 10 and 2 (roots ko29, ko21) meet alice (ko20); vat 10 sends her 85 of its objects
        // (ko30…ko114), then vat 2 one (ko115).
        for root in ["ko29", "ko21"] {
            #expect(h.call("POST", "/messages", #"{"target":"\#(root)","methargs":\#(methargs("meet", ["ko20"]))}"#).status == 202)
        }
        #expect(h.call("POST", "/kernel/run", "{}").json["idle"] == .bool(true))
        for (vat, count) in [(10, 85), (2, 1)] {
            let send = #"{"type":"send","target":"o-50","methargs":\#(methargs("take", (1...count).map { "o+\($0)" }))}"#
            #expect(h.call("POST", "/vats/v\(vat)/syscalls", #"{"syscalls":[\#(send)]}"#, token: tokens[vat]).status == 200)
        }
        #expect(h.call("POST", "/kernel/run", "{}").json["idle"] == .bool(true))
        // Alice drops all 86 imports: one dropExport for each exporter's object.
        let imports = (50..<136).map { "\"o-\($0)\"" }.joined(separator: ",")
        let drop = #"{"syscalls":[{"type":"dropImports","vrefs":[\#(imports)]}]}"#
        let dropped = h.call("POST", "/vats/v1/syscalls", drop, token: alice)
        #expect(dropped.status == 200, "\(dropped.body)")
        // The set's order, KERNEL-SPEC §2: strings sorted as strings, so ko100…ko114 before
        // ko30…ko99, and "v10" before "v2".
        let expected = (100...114).map { "v10 dropExport ko\($0)" } + (30...99).map { "v10 dropExport ko\($0)" }
            + ["v2 dropExport ko115"]
        var pages: [[String]] = []
        var after: String?
        repeat {
            let query = "?limit=40" + (after.map { "&after=\($0.replacingOccurrences(of: " ", with: "%20"))" } ?? "")
            let page = h.call("GET", "/kernel/gc-actions" + query).json
            pages.append((page["gcActions"]?.arrayValue ?? []).map { $0.stringValue ?? "?" })
            #expect(page["limit"] == .int(40) && page["maxBytes"] == .int(Limits.maxPageBytes))
            after = page["next"]?.stringValue
            if let after { #expect(after == pages.last?.last) }
        } while after != nil && pages.count < 10
        #expect(pages.map(\.count) == [40, 40, 6])
        #expect(pages.flatMap { $0 } == expected)
        #expect(h.call("GET", "/kernel/gc-actions?after=v10%20dropExport%20ko99").body
            == #"{"gcActions":["v2 dropExport ko115"],"next":null,"limit":100,"maxBytes":1048576}"#)
        // A cursor need not be in the set: the page starts after where it would stand.
        #expect(h.call("GET", "/kernel/gc-actions?after=v10%20abandonImport%20ko1&limit=1").body
            == #"{"gcActions":["v10 dropExport ko100"],"next":"v10 dropExport ko100","limit":1,"maxBytes":1048576}"#)
        let bad = h.call("GET", "/kernel/gc-actions?after=ko30")
        #expect(bad.status == 400)
        #expect(bad.json["error"]?["message"]?.stringValue
            == #"after: "ko30" is not a GC action as the list shows one ("v1 dropExport ko23")"#)
        #expect(h.call("GET", "/kernel/gc-actions?limit=0").status == 400)
        #expect(h.call("GET", "/kernel/gc-actions?owner=v1").status == 400)
    }
}

extension JSONValue {
    fileprivate subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[ByteString(key)] }
        return nil
    }

    fileprivate var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
