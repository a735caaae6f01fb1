import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// `--event-retention`: its parser, and pruning in bounded steps at each flush.
@Suite struct EventRetentionTests {
    @Test func retentionIsCranksOrBytesWithAUnit() {
        #expect(EventRetention(parsing: "10000cranks") == .cranks(10_000))
        #expect(EventRetention(parsing: "1crank") == .cranks(1))
        #expect(EventRetention(parsing: "64MiB") == .bytes(64 << 20))
        #expect(EventRetention(parsing: "64mib") == .bytes(64 << 20))
        #expect(EventRetention(parsing: "500KB") == .bytes(500_000))
        #expect(EventRetention(parsing: "2GiB") == .bytes(2 << 30))
        #expect(EventRetention(parsing: "3GB") == .bytes(3_000_000_000))
        #expect(EventRetention(parsing: "1048576B") == .bytes(1 << 20))
        #expect(EventRetention(parsing: "4096") == .bytes(4096))
        for bad in ["", "cranks", "0cranks", "-5cranks", "10 cranks", "10k", "1.5MiB", "64MiBs", "999999999999999GiB", "1234567890123456"] {
            #expect(EventRetention(parsing: bad) == nil, "\(bad)")
        }
        #expect(EventRetention.cranks(5).description == "5cranks")
    }

    /// `count` host sends to alice's root, each flushed as its own group.
    private func cranks(_ kernel: Kernel, _ store: SQLiteStore, _ count: Int) throws {
        for _ in 0..<count {
            _ = try kernel.queueToKref(target: k("ko20"), methargs: methargs("ping", []), result: .none)
            while try kernel.step() != nil {}
            try store.flush()
        }
    }

    private func loggedCranks(_ store: SQLiteStore) throws -> [Int] {
        let (c, _) = try store.open()
        let q = try c.prepare("SELECT DISTINCT crank FROM events ORDER BY crank")
        defer { q.finalize() }
        var out: [Int] = []
        while try q.step() { out.append(q.int(0)) }
        return out
    }

    @Test func crankRetentionKeepsTheLastNCranksAndPrunesTheKRefIndex() throws {
        let store = try SQLiteStore(path: ":memory:")
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        _ = try kernel.createVat(name: "bob")
        try store.flush()
        let (c, _) = try store.open()
        // Crank 1 (alice's creation) is about alice and mentions her root object.
        #expect(try c.strings("SELECT vat FROM events WHERE seq = 1") == ["v1"])
        #expect(try c.strings("SELECT key FROM event_keys WHERE seq = 1") == ["ko20"])
        try cranks(kernel, store, 6)
        let n = kernel.state.counters.crank
        #expect(n == 20)  // two creations, then three cranks per send (accept, route, deliver)
        #expect(try loggedCranks(store) == Array(1...n))
        store.eventRetention = .cranks(3)
        try cranks(kernel, store, 1)  // three more cranks, and the step that prunes
        #expect(try loggedCranks(store) == [n + 1, n + 2, n + 3])
        #expect(try c.integer("SELECT count(*) FROM event_keys WHERE seq NOT IN (SELECT seq FROM events)") == 0)
        #expect(try c.integer("SELECT count(*) FROM event_keys WHERE seq = 1") == 0)
        #expect(try store.events(after: 0, limit: 1).events.first.map { String(decoding: $0, as: UTF8.self) }?.contains(#""crank":\#(n + 1)"#) == true)
    }

    @Test func eachFlushDeletesAtMostOneBatch() throws {
        let store = try SQLiteStore(path: ":memory:")
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        try cranks(kernel, store, 10)
        let (c, _) = try store.open()
        let counts = try c.strings("SELECT count FROM events ORDER BY seq").compactMap { Int($0) }
        let before = counts.reduce(0, +)
        #expect(before == store.lastEventSeq)
        // Whole cranks, oldest first, as many as fit in 5 events.
        var expected = 0
        for n in counts { if expected + n > 5 { break }; expected += n }
        #expect(expected > 0)
        let lastBefore = store.lastEventSeq
        store.eventRetention = .cranks(1)
        store.pruneBatch = 5
        try cranks(kernel, store, 1)
        let added = store.lastEventSeq - lastBefore
        let after = try c.integer("SELECT total(count) FROM events")!
        #expect(before + added - after == expected)
        store.pruneBatch = 1_000
        try cranks(kernel, store, 1)
        #expect(try loggedCranks(store) == [kernel.state.counters.crank])
    }

    @Test func byteRetentionKeepsTheNewestEventsThatFitAndAlwaysTheNewest() throws {
        let store = try SQLiteStore(path: ":memory:")
        let kernel = try Kernel(storage: store)
        _ = try kernel.createVat(name: "alice")
        try cranks(kernel, store, 10)
        let (c, _) = try store.open()
        func sizes() throws -> [Int: Int] {
            let q = try c.prepare("SELECT seq, length(CAST(events AS BLOB)) FROM events ORDER BY seq")
            defer { q.finalize() }
            var out: [Int: Int] = [:]
            while try q.step() { out[q.int(0)] = q.int(1) }
            return out
        }
        let all = try sizes()
        store.eventRetention = .bytes(2_000)
        try cranks(kernel, store, 1)
        let kept = try sizes()
        let total = kept.values.reduce(0, +)
        #expect(total <= 2_000)
        // The newest crank pruned would not have fitted.
        let oldestKept = kept.keys.min()!
        let newestPruned = try #require(all.keys.filter { $0 < oldestKept }.max())
        #expect(total + all[newestPruned]! > 2_000)
        store.eventRetention = .bytes(1)
        try cranks(kernel, store, 1)
        // The newest crank's events stay.
        #expect(try c.integer("SELECT count(*) FROM events") == 1)
        #expect(try c.integer("SELECT seq + count - 1 FROM events") == store.lastEventSeq)
    }
}
