import Testing
import TestSupport
import VatKernel

/// Keys compare by their UTF-8 bytes, not by Unicode canonical equivalence (issue 9).
@Suite struct ByteStringTests {
    @Test func canonicallyEquivalentSpellingsAreDistinct() {
        // Swift's String says these are equal; the kernel must not.
        #expect("\u{E9}" == "e\u{301}")
        #expect("K" == "\u{212A}")
        #expect(ByteString("\u{E9}") != ByteString("e\u{301}"))
        #expect(ByteString("K") != ByteString("\u{212A}"))
        #expect(Set<ByteString>(["\u{E9}", "e\u{301}", "K", "\u{212A}"]).count == 4)
        var d: [ByteString: Int] = [:]
        d["\u{E9}"] = 1
        d["e\u{301}"] = 2
        #expect(d.count == 2 && d["\u{E9}"] == 1 && d["e\u{301}"] == 2)
    }

    @Test func orderIsTheBytesOrder() {
        // K 4B; e 65 CC 81; é C3 A9; Kelvin E2 84 AA; U+10000 F0 90 80 80; U+FFFF EF BF BF.
        let keys: [ByteString] = ["\u{212A}", "\u{E9}", "e\u{301}", "K", "\u{10000}", "\u{FFFF}", "", "e"]
        #expect(keys.sorted().map { Array($0.string.utf8) } == [
            [], [0x4B], [0x65], [0x65, 0xCC, 0x81], [0xC3, 0xA9], [0xE2, 0x84, 0xAA], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
        ])
        #expect(!(ByteString("\u{E9}") < ByteString("\u{E9}")))
        #expect(ByteString("e") < ByteString("e\u{301}"))
    }

    @Test func distinctRandomByteStringsStayDistinct() {
        // Property: for strings built from a small alphabet of look-alikes, ByteString equality,
        // hashing and order agree with the bytes exactly.
        let alphabet: [String] = ["e", "\u{E9}", "\u{301}", "K", "\u{212A}", "A", "\u{C5}", "\u{212B}", "A\u{30A}", "\u{0}"]
        var random = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        func next() -> Int { Int(random.next() >> 33) }
        var strings: [String] = []
        for _ in 0..<2000 {
            var s = ""
            for _ in 0..<(next() % 4) { s += alphabet[next() % alphabet.count] }
            strings.append(s)
        }
        let byBytes = Set(strings.map { Array($0.utf8) })
        let keys = strings.map { ByteString($0) }
        #expect(Set(keys).count == byBytes.count)
        #expect(Set(strings).count < byBytes.count)
        let sorted = keys.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(!Array(b.string.utf8).lexicographicallyPrecedes(Array(a.string.utf8)))
        }
    }
}
