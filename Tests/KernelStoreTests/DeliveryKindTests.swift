import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// A delivery type has one name, `Delivery.Kind`: the vat's JSON, the kernel's JSON in the
/// event log (`kd`), the store's reader and crank reports all take it from there.
@Suite struct DeliveryKindTests {
    static let pairs: [(Delivery, KernelDelivery)] = [
        (.message(target: v("o+0"), methargs: methargs("m", [VRef]()), result: nil),
         .message(target: k("ko1"), message: Message(methargs: methargs("m", [KRef]()), result: nil))),
        (.notify([]), .notify([])),
        (.dropExports([v("o+1")]), .dropExports([k("ko1")])),
        (.retireExports([v("o+1")]), .retireExports([k("ko1")])),
        (.retireImports([v("o-1")]), .retireImports([k("ko1")])),
        (.abandonImports([v("o-1")]), .abandonImports([k("ko1")])),
        (.bringOutYourDead, .bringOutYourDead),
        (.startVat(vatParameters: CapData(body: .null)), .startVat(vatParameters: CapData(body: .null))),
    ]

    @Test func everyKindIsNamedTheSameInBothFormsAndReadsBack() throws {
        #expect(Self.pairs.map(\.0.kind) == Delivery.Kind.allCases)
        for (vd, kd) in Self.pairs {
            let vatForm = try JSONValue.parse(try JSONWriter.bytes { try $0.delivery(vd) })
            let kernelForm = try JSONValue.parse(try JSONWriter.bytes { try $0.kernelDelivery(kd) })
            #expect(vatForm["type"] == .string(vd.kind.rawValue))
            #expect(kernelForm["type"] == .string(vd.kind.rawValue))
            #expect(try KernelValueReader(vatForm, "test").delivery() == vd)
        }
    }

    @Test func aLookAlikeTypeIsNotAKind() {
        #expect(Delivery.Kind(named: "notify") == .notify)
        #expect(Delivery.Kind(named: "Notify") == nil)
    }
}
