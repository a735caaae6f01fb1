import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// Every kernel value written into a JSON column reads back equal, and its text is canonical
/// (sorted keys, compact), so a person can `json_extract` it and the bytes are deterministic.
@Suite struct KernelValueReaderTests {
    static let kdata = CapData(body: .array([.string("m"), .array([.slot(0), .slot(1), .double(1.0)])]), slots: [k("ko21"), k("kp40")])
    static let vdata = CapData(body: .object(["x": .slot(0), "n": .int(-3)]), slots: [v("o+d5/3:1")])

    static let events: [KernelEvent] = [
        .send(target: k("ko21"), message: Message(methargs: kdata, result: k("kp41"))),
        .send(target: k("kp40"), message: Message(methargs: CapData(body: .null), result: nil)),
        .notify(vat: VatID(12), kpid: k("kp99")),
        .bringOutYourDead(vat: VatID(1)),
    ]

    static let deliveries: [Delivery] = [
        .message(target: v("o+0"), methargs: vdata, result: v("p-60")),
        .message(target: v("o+v9/1"), methargs: CapData(body: .string("")), result: nil),
        .notify([VatResolution(vpid: v("p+1"), rejected: true, data: .error("no")),
                 VatResolution(vpid: v("p-61"), rejected: false, data: vdata)]),
        .notify([]),
        .dropExports([v("o+1"), v("o+d2/3")]), .retireExports([v("o+4")]), .retireImports([v("o-50")]), .abandonImports([v("o-51"), v("o-52")]),
        .bringOutYourDead,
        .startVat(vatParameters: vdata),
    ]

    /// Parses what `write` wrote and checks it is canonical.
    func written(_ write: (inout JSONWriter) throws -> Void) throws -> KernelValueReader {
        let bytes = try JSONWriter.bytes(write)
        let text = String(decoding: bytes, as: UTF8.self)
        let value = try JSONValue.parse(text)
        #expect(try JSONWriter.text(value) == text, "not canonical: \(text)")
        return try KernelValueReader(value, "test")
    }

    @Test(arguments: events)
    func aQueuedEventReadsBack(_ event: KernelEvent) throws {
        #expect(try written { try $0.kernelEvent(event) }.kernelEvent() == event)
    }

    @Test(arguments: deliveries)
    func aDeliveryReadsBack(_ delivery: Delivery) throws {
        #expect(try written { try $0.delivery(delivery) }.delivery() == delivery)
    }

    @Test(arguments: [false, true])
    func aTerminationReadsBack(_ reasonHeld: Bool) throws {
        let t = TerminationInfo(isFailure: true, info: Self.kdata, crank: 77, reasonHeld: reasonHeld)
        #expect(try written { try $0.termination(t) }.termination() == t)
    }

    /// A row written before the host held exit reasons (KERNEL-SPEC §13.8) has no
    /// `reasonHeld`: its slots were never counted, so nothing is held.
    @Test func anOlderTerminationRowHoldsNothing() throws {
        let row = #"{"crank":5,"info":{"body":{"$slot":0},"slots":["ko21"]},"isFailure":false}"#
        let t = try KernelValueReader(try JSONValue.parse(row), "vats row").termination()
        #expect(t == TerminationInfo(isFailure: false, info: CapData(body: .slot(0), slots: [k("ko21")]), crank: 5, reasonHeld: false))
    }

    @Test func aPromiseQueueReadsBack() throws {
        let queue = [Message(methargs: Self.kdata, result: nil), Message(methargs: Self.kdata, result: k("kp1"))]
        let bytes = try JSONWriter.bytes { try $0.messages(queue) }
        guard case .array(let items) = try JSONValue.parse(bytes) else { Issue.record("not an array"); return }
        #expect(try items.map { try KernelValueReader($0, "q").message() } == queue)
    }

    @Test func aMalformedRefIsAnErrorNamingTheField() throws {
        let r = try KernelValueReader(.object(["type": .string("notify"), "vat": .string("v0"), "kpid": .string("kp1")]), "queue row 3 event")
        #expect(throws: RowError("queue row 3 event.vat: not a vat ID: v0")) { try r.kernelEvent() }
    }
}

extension RowError: Equatable {
    public static func == (a: RowError, b: RowError) -> Bool { a.description == b.description }
}
