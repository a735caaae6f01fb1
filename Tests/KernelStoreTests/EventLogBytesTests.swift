import Testing
import VatKernel
@testable import KernelStore

/// The bytes of the event log are a contract (issue 10: dashboards and `GET /events` readers,
/// two kernels compared by their crank hashes), so a change that makes the log cheaper to
/// write must leave them exactly as they were. These fingerprints were taken from the log as
/// 7464258 wrote and read it, before the event-cost work; one row per crank (schema 13) left
/// them all as they were. The three whole-log ones were taken again when a GC action's removal
/// gained `negated`: the log's 224 removals each grew by `,"negated":false`, 16 bytes, so
/// 1,333,853 bytes became 1,337,437; the filtered ones, which hold no removal, did not move.
@Suite struct EventLogBytesTests {
    /// FNV-1a (64 bits) of every page's events and `next`, in order: any byte that moves changes it.
    private static func fingerprint(_ store: SQLiteStore, limit: Int, type: String? = nil, vat: VatID? = nil,
                                    kref: KRef? = nil, maxBytes: Int = .max) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        var after = 0, events = 0, bytes = 0
        while true {
            let page = try store.events(after: after, limit: limit, type: type, vat: vat, kref: kref, maxBytes: maxBytes)
            for e in page.events { mix(e); mix([0x0A]); events += 1; bytes += e.count }
            mix("next=\(page.next.map(String.init) ?? "null")\n".utf8)
            guard let next = page.next else { return "\(events) events, \(bytes) bytes, fnv \(String(h, radix: 16))" }
            after = next
        }
    }

    /// Given the 1,000 mixed requests of the hash test (every event type, upgrades,
    /// terminations), then the whole log, and the pages of `type=`, `vat=` and `kref=` in
    /// small pages and under a byte limit, are the bytes 7464258 answered.
    @Test func theLogOfTheMixedRequestsIsTheSameBytes() throws {
        let store = try SQLiteStore(path: ":memory:", durability: .normal)
        let kernel = try Kernel(storage: store)
        var interpreter = HashScenario.Interpreter()
        for r in HashScenario.requests(count: 1_000, seed: 7) { _ = try interpreter.apply(r, kernel, store) }
        let all = try Self.fingerprint(store, limit: 1_000)
        let pages = try Self.fingerprint(store, limit: 7)
        let syscalls = try Self.fingerprint(store, limit: 50, type: "syscall")
        let alice = try Self.fingerprint(store, limit: 13, vat: VatID(1))
        let bobsDeliveries = try Self.fingerprint(store, limit: 13, type: "deliver", vat: VatID(2))
        let finishes = try Self.fingerprint(store, limit: 100, type: "crank-finish")
        let root = try Self.fingerprint(store, limit: 9, kref: KRef("ko20")!)
        let promise = try Self.fingerprint(store, limit: 9, kref: KRef("kp40")!)
        let rootDeliveries = try Self.fingerprint(store, limit: 9, type: "deliver", kref: KRef("ko20")!)
        let small = try Self.fingerprint(store, limit: 100, maxBytes: 2_000)
        #expect(all == "6885 events, 1337437 bytes, fnv 32b3fc251b731728")
        #expect(pages == "6885 events, 1337437 bytes, fnv 7c4481e16328a15d")
        #expect(syscalls == "729 events, 169420 bytes, fnv 4d6204d8bfdffbbf")
        #expect(alice == "84 events, 16447 bytes, fnv 760d9bf719118c4c")
        #expect(bobsDeliveries == "2 events, 495 bytes, fnv ee70c33cd90b131f")
        #expect(finishes == "1949 events, 457488 bytes, fnv a51e739493b414c3")
        #expect(root == "44 events, 10526 bytes, fnv b7008dbd24b4ebbb")
        #expect(promise == "4 events, 885 bytes, fnv 1056a4b9ab0a5e4c")
        #expect(rootDeliveries == "8 events, 2411 bytes, fnv abcbb5d9adc8300c")
        #expect(small == "6885 events, 1337437 bytes, fnv 3543fa335f277f5c")
    }
}
