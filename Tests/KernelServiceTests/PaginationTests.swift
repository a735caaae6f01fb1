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
