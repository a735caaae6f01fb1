import Foundation
import Testing
@testable import VatKernel
import TestSupport

/// KERNEL-SPEC §1: vrefs, krefs, vat IDs, and the GC action strings of §2/§8.
@Suite struct RefsTests {
    // MARK: vrefs

    struct Parsed: Sendable, CustomTestStringConvertible {
        var text: String
        var kind: VRef.Kind
        var byVat: Bool
        var durability: VRef.Durability
        var id: Int
        var instance: Int
        var facet: Int
        var testDescription: String { text }
    }

    static let valid: [Parsed] = [
        Parsed(text: "o+0", kind: .object, byVat: true, durability: .ephemeral, id: 0, instance: -1, facet: -1),
        Parsed(text: "o+7", kind: .object, byVat: true, durability: .ephemeral, id: 7, instance: -1, facet: -1),
        Parsed(text: "o+12", kind: .object, byVat: true, durability: .ephemeral, id: 12, instance: -1, facet: -1),
        Parsed(text: "o-50", kind: .object, byVat: false, durability: .ephemeral, id: 50, instance: -1, facet: -1),
        Parsed(text: "p+1", kind: .promise, byVat: true, durability: .ephemeral, id: 1, instance: -1, facet: -1),
        Parsed(text: "p-60", kind: .promise, byVat: false, durability: .ephemeral, id: 60, instance: -1, facet: -1),
        Parsed(text: "o+v6/1", kind: .object, byVat: true, durability: .virtual, id: 6, instance: 1, facet: -1),
        Parsed(text: "o+d5/3", kind: .object, byVat: true, durability: .durable, id: 5, instance: 3, facet: -1),
        Parsed(text: "o+v7/1:0", kind: .object, byVat: true, durability: .virtual, id: 7, instance: 1, facet: 0),
        Parsed(text: "o+d10/20:3", kind: .object, byVat: true, durability: .durable, id: 10, instance: 20, facet: 3),
        Parsed(text: "o+d5", kind: .object, byVat: true, durability: .durable, id: 5, instance: -1, facet: -1),
        Parsed(text: "o+v6", kind: .object, byVat: true, durability: .virtual, id: 6, instance: -1, facet: -1),
        Parsed(text: "d-70", kind: .device, byVat: false, durability: .ephemeral, id: 70, instance: -1, facet: -1),
        // Parses; exporting it is what is illegal (IllegalSyscallTests).
        Parsed(text: "d+1", kind: .device, byVat: true, durability: .ephemeral, id: 1, instance: -1, facet: -1),
    ]

    @Test(arguments: valid)
    func vrefParsesAndPrintsBack(_ p: Parsed) throws {
        let vref = try #require(VRef(p.text))
        #expect(vref.kind == p.kind)
        #expect(vref.allocatedByVat == p.byVat)
        #expect(vref.durability == p.durability)
        #expect(vref.id == p.id)
        #expect(vref.instance == p.instance)
        #expect(vref.facet == p.facet)
        #expect(vref.description == p.text)
        #expect(VRef(vref.description) == vref)
    }

    @Test func vrefMadeFromPartsPrints() {
        #expect(VRef.root.description == "o+0")
        #expect(VRef.objectImport(50).description == "o-50")
        #expect(VRef.promiseImport(60).description == "p-60")
        #expect(VRef.deviceImport(70).description == "d-70")
        #expect(VRef(kind: .object, allocatedByVat: true, durability: .virtual, id: 7, instance: 1, facet: 0) == v("o+v7/1:0"))
    }

    @Test func durableAndNonDurableExports() {
        // Durable ⇔ starts with o+d.
        for text in ["o+d5/3", "o+d5", "o+d10/20:3"] {
            #expect(v(text).isDurable, "\(text)")
            #expect(v(text).isExport, "\(text)")
        }
        // Non-durable export ⇔ o+ but not o+d.
        for text in ["o+0", "o+5", "o+v6/1", "o+v7/1:0", "o+v6"] {
            #expect(!v(text).isDurable, "\(text)")
            #expect(v(text).isExport, "\(text)")
        }
        // Not exports at all.
        for text in ["o-50", "p+1", "p-60", "d-70", "d+1"] {
            #expect(!v(text).isDurable, "\(text)")
            #expect(!v(text).isExport, "\(text)")
        }
        #expect(v("o-50").isObjectImport)
        #expect(!v("o+5").isObjectImport)
        #expect(!v("p-60").isObjectImport)
    }

    static let invalid = [
        "o+007", "o+07", "p-060", "o+v07/1", "o+v7/01", "o+v7/1:01",   // leading zeros
        "o+7/1", "o+0/1", "o-5/1", "p+1/2", "o-d5", "o-v5/1",          // instance only on o+v / o+d
        "o+v7:0", "o+d7:0",                                            // facet only with an instance
        "x+1", "O+1", "k+1", "o*1", "o1", "o=1", "p*1",                // type and sign
        "o+", "o-", "p+", "o+d", "o+v", "o+v/1", "o+d5/", "o+v7/1:", "", "o", "+1",
        "p+d1", "p+v1/2", "d+d1",                                      // durability only on objects
        "ko21", "kp40", "v1",                                          // not vrefs
        "o+1x", "o+ 1", " o+1", "o+1 ", "o+-1", "o++1", "o+1.0",
        "o+v7/1:0:0", "o+v7/1/2", "o+1,2", "o+1|2",                    // `|` and `,` never appear
        "o+1234567890123456789",                                       // too long to be canonical
    ]

    @Test(arguments: invalid)
    func vrefRejects(_ text: String) {
        #expect(VRef(text) == nil)
    }

    // MARK: krefs

    @Test func krefsParseAndPrint() throws {
        let ko = try #require(KRef("ko21"))
        #expect(ko.kind == .object && ko.number == 21 && ko.isObject && !ko.isPromise)
        let kp = try #require(KRef("kp40"))
        #expect(kp.kind == .promise && kp.number == 40 && kp.isPromise && !kp.isObject)
        let kd = try #require(KRef("kd30"))
        #expect(kd.kind == .device && kd.number == 30)
        #expect(KRef.object(20).description == "ko20")
        #expect(KRef.promise(40).description == "kp40")
        #expect(KRef("ko0")?.number == 0)
        for text in ["ko21", "kp40", "kd30", "ko100"] { #expect(KRef(text)?.description == text) }
    }

    @Test(arguments: ["ko", "kp", "k21", "ko021", "kx1", "kO21", "KO21", "ko-1", "ko+1", "ko21 ", " ko21", "kp4a",
                      "", "o+1", "o-50", "v1", "ko1.5", "ko1234567890123456789"])
    func krefRejects(_ text: String) {
        #expect(KRef(text) == nil)
    }

    @Test func krefsSortAsStrings() {
        #expect(k("ko100") < k("ko21"))
        #expect(k("ko21") < k("ko3"))
        #expect(k("ko99") < k("kp40"))
        #expect(["ko21", "ko3", "ko100", "kp40", "ko20"].map(k).sorted().map(\.description) == ["ko100", "ko20", "ko21", "ko3", "kp40"])
    }

    // MARK: vat IDs

    @Test func vatIDsParsePrintAndSortAsStrings() throws {
        #expect(VatID("v1")?.number == 1)
        #expect(VatID("v10")?.description == "v10")
        #expect(VatID(2).description == "v2")
        #expect(VatID(10) < VatID(2))
        #expect(VatID(1) < VatID(10))
        #expect((1...11).map(VatID.init).sorted().map(\.description) == ["v1", "v10", "v11", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"])
        for bad in ["v0", "v01", "v", "V1", "v-1", "1", "vx", "v1 ", "ko1"] { #expect(VatID(bad) == nil, "\(bad)") }
    }

    // MARK: GC actions

    @Test func gcActionsParseAndPrint() throws {
        let a = try #require(GCAction("v1 dropExport ko23"))
        #expect(a == GCAction(VatID(1), .dropExport, k("ko23")))
        #expect(a.description == "v1 dropExport ko23")
        #expect(GCAction("v10 retireExport ko100") == GCAction(VatID(10), .retireExport, k("ko100")))
        #expect(GCAction("v2 retireImport ko21")?.description == "v2 retireImport ko21")
        #expect(GCAction("v3 abandonImport ko23") == GCAction(VatID(3), .abandonImport, k("ko23")))
        for bad in ["v1 dropExports ko23", "v1 dropExport", "v1  dropExport ko23", "dropExport v1 ko23", "v1 dropExport o+1",
                    "v1 dropExport ko23 x", "v0 dropExport ko23", "v1 DropExport ko23", ""] {
            #expect(GCAction(bad) == nil, "\(bad)")
        }
    }

    @Test func gcActionsSortAsStrings() {
        let set = ["v2 dropExport ko21", "v10 retireImport ko5", "v2 dropExport ko100", "v2 retireExport ko21", "v1 retireImport ko30"]
            .compactMap(GCAction.init)
        #expect(set.count == 5)
        #expect(set.sorted().map(\.description) == [
            "v1 retireImport ko30", "v10 retireImport ko5", "v2 dropExport ko100", "v2 dropExport ko21", "v2 retireExport ko21",
        ])
    }

    @Test func gcActionKindsAreInPriorityOrder() {
        #expect(GCAction.Kind.allCases == [.dropExport, .retireExport, .retireImport, .abandonImport])
        #expect(GCAction.Kind.allCases.map(\.name) == ["dropExport", "retireExport", "retireImport", "abandonImport"])
    }
}

/// The byte parsers (what the store reads columns with) accept exactly what the text parsers
/// accept, and refuse out-of-range parts instead of trapping.
@Suite struct RefBytesTests {
    static let vrefs = ["o+0", "o-50", "p+1", "p-60", "d-70", "o+d5/3", "o+v7/1:0", "o+d12/0:34", "o+7",
                        "o+05", "o+d5/", "o+5/3", "o+d5/3:", "o+v/1", "p+d5", "x+1", "o*1", "o+", "o", "",
                        "o+1234567890123456789", "o+-1", "o-d5/3", "o+d5/3:1:2", "o+d05/3", "o+d5/03",
                        "o+9999999999999", "o+1099511627775", "o+1099511627776", "o+v1/1:65534", "o+v1/1:65535"]
    static let krefs = ["ko20", "kp40", "kd1", "ko0", "ko", "k", "ko01", "kx1", "ko-1", "ko72057594037927936",
                        "ko72057594037927935", "KO20", "ko2 "]
    static let vatIDs = ["v1", "v10", "v0", "v01", "v", "x1", "v-1", "v1.0", "v999999999999999999", "v1234567890123456789"]

    @Test(arguments: vrefs)
    func aVRefParsesFromBytesAsFromText(_ text: String) {
        var t = text
        #expect(t.withUTF8(VRef.init(utf8:)) == VRef(text))
        if let v = VRef(text) { #expect(v.description == text) }
    }

    @Test(arguments: krefs)
    func aKRefParsesFromBytesAsFromText(_ text: String) {
        var t = text
        #expect(t.withUTF8(KRef.init(utf8:)) == KRef(text))
        if let k = KRef(text) { #expect(k.description == text) }
    }

    @Test(arguments: vatIDs)
    func aVatIDParsesFromBytesAsFromText(_ text: String) {
        var t = text
        #expect(t.withUTF8(VatID.init(utf8:)) == VatID(text))
        if let id = VatID(text) { #expect(id.description == text) }
    }

    @Test func outOfRangePartsAreRefusedNotTrapped() {
        #expect(VRef("o+9999999999999") == nil)
        #expect(VRef("o+1099511627776") == nil)
        #expect(VRef("o+1099511627775")?.id == VRef.maxID)
        #expect(VRef("o+v1/1:65535") == nil)
        #expect(VRef("o+v1/1:65534")?.facet == VRef.maxFacet)
    }
}
