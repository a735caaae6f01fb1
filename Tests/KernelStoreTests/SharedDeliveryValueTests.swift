import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Issue 9 part 2: a value delivered to many vats is stored once. A resolution notified to 200
/// subscribers is one `delivery_values` row counted 200 times; each subscriber still reads
/// exactly the delivery it was sent, before and after a restart; acknowledging releases it.
@Suite struct SharedDeliveryValueTests {
    static let body: JSONValue = .object(["text": .string(String(repeating: "long answer ", count: 300)), "ref": .slot(0)])
    static let subscribers = 200

    /// Alice decides the host's kept `ask` result (her p-60); each subscriber is sent it (its
    /// p-60) and subscribes; then alice fulfils it with `body` and her new export o+5.
    static func build(_ kernel: Kernel) throws -> [VatID] {
        let alice = try kernel.createVat(name: "alice")
        let kp = try #require(try kernel.queueToKref(target: alice.rootKref, methargs: methargs("ask", [KRef]()), result: .keep))
        var subs: [VatID] = []
        for i in 0..<subscribers {
            let s = try kernel.createVat(name: ByteString("s\(i)"))
            _ = try kernel.queueToKref(target: s.rootKref, methargs: methargs("take", [kp]), result: .none)
            subs.append(s.vatID)
        }
        _ = try kernel.run()
        for s in subs { _ = try kernel.syscalls([.subscribe(vpid: v("p-60"))], from: s) }
        _ = try kernel.syscalls([.resolve([VatResolution(vpid: v("p-60"), rejected: false,
                                                         data: CapData(body: body, slots: [v("o+5")]))])], from: alice.vatID)
        _ = try kernel.run()
        return subs
    }

    /// Every subscriber's log, as records and as the bytes `JSONWriter.delivery` writes for each.
    static func logs(_ kernel: Kernel, _ subs: [VatID]) throws -> [[DeliveryRecord]] {
        try subs.map { try kernel.deliveries($0) }
    }

    @Test func aResolutionNotifiedTo200SubscribersIsStoredOnce() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("shared.sqlite")
        let store = try SQLiteStore(path: path, durability: .normal)
        let kernel = try Kernel(storage: store)
        let subs = try Self.build(kernel)
        try store.flush()
        let reference = try Kernel(storage: InMemoryStorage())
        #expect(try Self.build(reference) == subs)
        let expected = try Self.logs(reference, subs)
        // Each subscriber was notified: startVat, take, notify.
        #expect(expected.allSatisfy { $0.map(\.seq) == [1, 2, 3] })
        #expect(expected[0][2].delivery == .notify([VatResolution(vpid: v("p-60"), rejected: false, data: CapData(body: Self.body, slots: [v("o-50")]))]))

        // The body is one row, counted by the 200 notify rows, each of which is small.
        let bodyJSON = String(decoding: try JSONWriter.bytes { try $0.value(Self.body) }, as: UTF8.self)
        let c = try SQLiteConnection(path: path, flags: 0x1 /* SQLITE_OPEN_READONLY */)
        #expect(try c.strings("SELECT body FROM delivery_values") == [bodyJSON])
        #expect(try c.strings("SELECT refs FROM delivery_values") == ["200"])
        let key = try #require(try c.strings("SELECT sha256 FROM delivery_values").first)
        #expect(try c.integer("SELECT count(*) FROM deliveries WHERE value_refs IS NOT NULL") == 200)
        #expect(try c.strings("SELECT DISTINCT delivery || ' ' || value_refs FROM deliveries WHERE value_refs IS NOT NULL") == [
            #"{"resolutions":[{"data":{"bodyRef":"\#(key)","slots":["o-50"]},"rejected":false,"vpid":"p-60"}],"type":"notify"} ["\#(key)"]"#,
        ])
        // 169 bytes per notify row instead of 169 - 80 + 3,629: the body once, not 200 times.
        #expect(try c.integer("SELECT sum(length(delivery)) FROM deliveries WHERE value_refs IS NOT NULL") == 200 * 169)
        #expect(bodyJSON.utf8.count == 3629)
        c.close()

        // Each subscriber reads exactly what it was sent, the same bytes as the reference.
        func same(_ kernel: Kernel) throws {
            let got = try Self.logs(kernel, subs)
            #expect(got == expected)
            for (g, e) in zip(got, expected) {
                #expect(try JSONWriter.bytes { try $0.delivery(g[2].delivery) } == JSONWriter.bytes { try $0.delivery(e[2].delivery) })
            }
        }
        try same(kernel)
        store.close()
        let reopened = try SQLiteStore(path: path)
        defer { reopened.close() }
        let restarted = try Kernel(storage: reopened)
        try same(restarted)

        // Acknowledging releases the value; the last acknowledgement deletes it.
        for s in subs.dropLast() { #expect(try restarted.acknowledgeDeliveries(s, through: 3, drop: true) == (3, 3)) }
        try reopened.flush()
        let after = try SQLiteConnection(path: path, flags: 0x1)
        defer { after.close() }
        #expect(try after.strings("SELECT refs FROM delivery_values") == ["1"])
        #expect(try restarted.deliveries(subs.last!) == expected.last!)
        #expect(try restarted.acknowledgeDeliveries(subs.last!, through: 3, drop: true) == (3, 3))
        try reopened.flush()
        #expect(try after.integer("SELECT count(*) FROM delivery_values") == 0)
        #expect(try after.integer("SELECT count(*) FROM deliveries WHERE value_refs IS NOT NULL") == 0)
    }
}
