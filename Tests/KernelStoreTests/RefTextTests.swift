import Testing
import VatKernel
@testable import KernelStore

/// The store's byte-level ref parsers accept exactly what the core's parsers accept.
@Suite struct RefTextTests {
    static let vrefs = ["o+0", "o-50", "p+1", "p-60", "d-70", "o+d5/3", "o+v7/1:0", "o+d12/0:34", "o+7",
                        "o+05", "o+d5/", "o+5/3", "o+d5/3:", "o+v/1", "p+d5", "x+1", "o*1", "o+", "o", "",
                        "o+1234567890123456789", "o+-1", "o-d5/3", "o+d5/3:1:2", "o+d05/3", "o+d5/03"]
    static let krefs = ["ko20", "kp40", "kd1", "ko0", "ko", "k", "ko01", "kx1", "ko-1", "ko72057594037927936",
                        "ko72057594037927935", "KO20", "ko2 "]
    static let vatIDs = ["v1", "v10", "v0", "v01", "v", "x1", "v-1", "v1.0", "v999999999999999999", "v1234567890123456789"]

    @Test(arguments: vrefs)
    func aVRefParsesAsTheCoreParsesIt(_ text: String) {
        var t = text
        #expect(t.withUTF8(RefText.vref) == VRef(text))
    }

    @Test(arguments: krefs)
    func aKRefParsesAsTheCoreParsesIt(_ text: String) {
        var t = text
        #expect(t.withUTF8(RefText.kref) == KRef(text))
    }

    @Test(arguments: vatIDs)
    func aVatIDParsesAsTheCoreParsesIt(_ text: String) {
        var t = text
        #expect(t.withUTF8(RefText.vatID) == VatID(text))
    }
}
