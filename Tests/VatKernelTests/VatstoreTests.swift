import Testing
@testable import VatKernel

/// KERNEL-SPEC §5.9: each vat's own string store, part of the crank transaction.
@Suite struct VatstoreTests {
    @Test func getSetDeleteAndGetNextKey() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let outcome = try w.syscalls(a, [
            .vatstoreGet(key: "b"),
            .vatstoreSet(key: "b", value: "2"), .vatstoreSet(key: "a", value: "1"), .vatstoreSet(key: "b1", value: "3"),
            .vatstoreSet(key: "c", value: "4"),
            .vatstoreGet(key: "b"),
            .vatstoreGetNextKey(priorKey: ""), .vatstoreGetNextKey(priorKey: "a"), .vatstoreGetNextKey(priorKey: "b"),
            .vatstoreGetNextKey(priorKey: "b0"), .vatstoreGetNextKey(priorKey: "c"),
            .vatstoreDelete(key: "b1"), .vatstoreDelete(key: "nothing"),
            .vatstoreGetNextKey(priorKey: "b"), .vatstoreSet(key: "a", value: "one"), .vatstoreGet(key: "a"),
        ])
        #expect(outcome == .committed([
            .value(nil),
            .ok, .ok, .ok, .ok,
            .value("2"),
            .value("a"), .value("b"), .value("b1"), .value("b1"), .value(nil),
            .ok, .ok,
            .value("c"), .ok, .value("one"),
        ]))
        #expect(w.vatstore(a) == ["a": "one", "b": "2", "c": "4"])
        #expect(w.problems() == [])
    }

    @Test func eachVatSeesOnlyItsOwnKeys() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        let b = try w.createVat("bob").vatID
        try w.syscalls(a, [.vatstoreSet(key: "k", value: "alice")])
        #expect(try w.syscalls(b, [.vatstoreGet(key: "k"), .vatstoreGetNextKey(priorKey: ""), .vatstoreSet(key: "k", value: "bob")])
            == .committed([.value(nil), .value(nil), .ok]))
        #expect(try w.syscalls(a, [.vatstoreGet(key: "k")]) == .committed([.value("alice")]))
        #expect(w.vatstore(a) == ["k": "alice"] && w.vatstore(b) == ["k": "bob"])
        #expect(w.problems() == [])
    }

    @Test func writesOfARolledBackBatchAreUndone() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        try w.syscalls(a, [.vatstoreSet(key: "keep", value: "1"), .vatstoreSet(key: "change", value: "old")])
        #expect(try w.syscalls(a, [.vatstoreSet(key: "change", value: "new"), .vatstoreDelete(key: "keep"), .vatstoreSet(key: "added", value: "x"),
                                   .dropImports([v("o-99")])])
            == .illegal(index: 3, syscall: "dropImports", problem: "vref o-99 not in clist"))
        #expect(w.vatstore(a) == ["keep": "1", "change": "old"])
        #expect(w.problems() == [])
    }

    @Test func upgradeKeepsTheVatstore() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        try w.syscalls(a, [.vatstoreSet(key: "durable", value: "state")])
        #expect(try w.kernel.upgrade(a, UpgradeRequest(upgradeMessage: "m", startVatSyscalls: [.vatstoreGet(key: "durable")])) == .upgraded(incarnation: 1))
        #expect(w.vatstore(a) == ["durable": "state"])
        #expect(w.problems() == [])
    }
}
