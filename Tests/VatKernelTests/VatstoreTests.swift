import Testing
@testable import VatKernel
import TestSupport

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

/// Issue 9 part 1: keys and values are kept by their UTF-8 bytes and walked in byte order
/// (SQLite's BINARY collation), from a sorted index.
@Suite struct VatstoreBytesTests {
    @Test func canonicallyEquivalentKeysStayTwoKeys() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        // "\u{E9}" is C3 A9, "e\u{301}" is 65 CC 81, "K" is 4B, the Kelvin sign is E2 84 AA.
        #expect(try w.syscalls(a, [
            .vatstoreSet(key: "\u{E9}", value: "A"), .vatstoreSet(key: "e\u{301}", value: "B"),
            .vatstoreSet(key: "K", value: "1"), .vatstoreSet(key: "\u{212A}", value: "2"),
            .vatstoreGet(key: "\u{E9}"), .vatstoreGet(key: "e\u{301}"), .vatstoreGet(key: "K"), .vatstoreGet(key: "\u{212A}"),
            .vatstoreGetNextKey(priorKey: ""), .vatstoreGetNextKey(priorKey: "K"), .vatstoreGetNextKey(priorKey: "e\u{301}"),
            .vatstoreGetNextKey(priorKey: "\u{E9}"), .vatstoreGetNextKey(priorKey: "\u{212A}"),
            .vatstoreGetNextKey(priorKey: "e"),
        ]) == .committed([
            .ok, .ok, .ok, .ok,
            .value("A"), .value("B"), .value("1"), .value("2"),
            .value("K"), .value("e\u{301}"), .value("\u{E9}"), .value("\u{212A}"), .value(nil),
            .value("e\u{301}"),
        ]))
        #expect(try w.syscalls(a, [.vatstoreDelete(key: "\u{E9}"), .vatstoreGet(key: "\u{E9}"), .vatstoreGet(key: "e\u{301}"),
                                   .vatstoreSet(key: "K", value: "\u{212A}"), .vatstoreGet(key: "K")])
            == .committed([.ok, .value(nil), .value("B"), .ok, .value("\u{212A}")]))
        let pairs = w.vatstore(a).map { (Array($0.key.string.utf8), Array($0.value.string.utf8)) }
        #expect(pairs.map(\.0) == [[0x4B], [0x65, 0xCC, 0x81], [0xE2, 0x84, 0xAA]])
        #expect(pairs.map(\.1) == [[0xE2, 0x84, 0xAA], [0x42], [0x32]])
        #expect(w.problems() == [])
    }

    @Test func aRolledBackBatchThatSplitLeavesRestoresEveryKey() throws {
        let w = World()
        let a = try w.createVat("alice").vatID
        try w.syscalls(a, (0..<300).map { .vatstoreSet(key: "k\(1000 + $0 * 3)", value: "old\($0)") })
        let before = w.vatstore(a)
        // 1,000 inserts between the existing keys (several leaf splits), 100 deletes, a change,
        // then an illegal syscall: the whole batch goes.
        var batch: [Syscall] = (0..<1000).map { .vatstoreSet(key: "k\(1000 + $0)", value: "new") }
        batch += (0..<100).map { .vatstoreDelete(key: "k\(1000 + $0 * 3)") }
        batch += [.vatstoreSet(key: "k1897", value: "changed"), .dropImports([v("o-99")])]
        #expect(try w.syscalls(a, batch) == .illegal(index: 1101, syscall: "dropImports", problem: "vref o-99 not in clist"))
        #expect(w.vatstore(a) == before)
        #expect(w.vatstore(a).count == 300)
        #expect(w.vatstore(a).map(\.key) == (0..<300).map { ByteString("k\(1000 + $0 * 3)") })
        #expect(w.problems() == [])
    }

    @Test func theIndexAgreesWithAModelOfBytes() {
        // Property: under random sets and deletes of look-alike keys (enough to split and empty
        // leaves), the vatstore holds exactly the model's byte strings, walks them in byte order,
        // and `key(after:)` is the model's next key, for keys present or not.
        let alphabet: [String] = ["e", "\u{E9}", "\u{301}", "K", "\u{212A}", "A", "\u{C5}", "A\u{30A}", "\u{0}", "z"]
        var random = SplitMix64(seed: 9)
        func word() -> String {
            (0..<Int.random(in: 0...4, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
        }
        var store = Vatstore()
        var model: [[UInt8]: [UInt8]] = [:]
        for round in 0..<40 {
            for _ in 0..<500 {
                let key = word()
                if Int.random(in: 0..<3, using: &random) == 0 && round % 10 > 6 {
                    store[ByteString(key)] = nil
                    model[Array(key.utf8)] = nil
                } else {
                    let value = word()
                    store[ByteString(key)] = ByteString(value)
                    model[Array(key.utf8)] = Array(value.utf8)
                }
            }
            let sorted = model.keys.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(store.count == model.count)
            #expect(store.map { Array($0.key.string.utf8) } == sorted)
            #expect(store.map { Array($0.value.string.utf8) } == sorted.map { model[$0]! })
            for _ in 0..<50 {
                let prior = Array(word().utf8)
                let expected = sorted.first { prior.lexicographicallyPrecedes($0) }
                #expect(store.key(after: ByteString(String(decoding: prior, as: UTF8.self))).map { Array($0.string.utf8) } == expected)
            }
            #expect(store.firstKey.map { Array($0.string.utf8) } == sorted.first)
        }
        #expect(model.count > Vatstore.leafCapacity * 2)
        // Equal (and hashed alike) however the leaves were split: rebuilt in reverse order.
        var rebuilt = Vatstore()
        for (k, v) in store.reversed() { rebuilt[k] = v }
        #expect(rebuilt == store && rebuilt.hashValue == store.hashValue)
        rebuilt[store.firstKey!] = "changed"
        #expect(rebuilt != store)
        // Deleting every key in random order empties every leaf.
        for key in store.map(\.key).shuffled(using: &random) {
            store[key] = nil
            #expect(store[key] == nil)
        }
        #expect(store.isEmpty && store.firstKey == nil && store.key(after: "") == nil && store == Vatstore())
    }
}
