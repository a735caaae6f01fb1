import Testing
import TestSupport
import VatKernel
@testable import KernelStore

/// Issue 9 part 1: what a vat writes is kept byte for byte in memory, on disk and after a
/// restart; canonically equivalent keys (é as one code point or two, K and the Kelvin sign)
/// are distinct keys everywhere.
@Suite struct SQLiteStoreBytesTests {
    /// Reopens the file, loads it and starts a kernel on it (a restart).
    private func restart(_ path: String) throws -> (SQLiteStore, Kernel) {
        let store = try SQLiteStore(path: path)
        return (store, try Kernel(storage: store))
    }

    /// The vat's rows on disk as hex key = hex value, in the table's (BINARY) order.
    private func rows(_ path: String, _ vat: VatID) throws -> [String] {
        let c = try SQLiteConnection(path: path, flags: 0x0000_0001 /* SQLITE_OPEN_READONLY */)
        defer { c.close() }
        return try c.strings("SELECT hex(key) || '=' || hex(value) FROM vatstore WHERE vat = '\(vat)' ORDER BY key")
    }

    @Test func theIssuesSequencesSurviveRestarts() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("k.sqlite")
        var (store, kernel) = try restart(path)
        let a = try kernel.createVat(name: "e\u{301}").vatID
        // Given é (C3 A9) set to A, then e + U+0301 (65 CC 81) set to B, K and Kelvin likewise.
        #expect(try kernel.syscalls([.vatstoreSet(key: "\u{E9}", value: "A")], from: a) == .committed([.ok]))
        #expect(try kernel.syscalls([.vatstoreSet(key: "e\u{301}", value: "B")], from: a) == .committed([.ok]))
        #expect(try kernel.syscalls([.vatstoreSet(key: "K", value: "k"), .vatstoreSet(key: "\u{212A}", value: "kelvin")], from: a)
            == .committed([.ok, .ok]))
        let reads: [Syscall] = [.vatstoreGet(key: "\u{E9}"), .vatstoreGet(key: "e\u{301}"), .vatstoreGet(key: "K"), .vatstoreGet(key: "\u{212A}")]
        #expect(try kernel.syscalls(reads, from: a) == .committed([.value("A"), .value("B"), .value("k"), .value("kelvin")]))
        try store.flush()
        store.close()
        #expect(try rows(path, a) == ["4B=6B", "65CC81=42", "C3A9=41", "E284AA=6B656C76696E"])

        // When it restarts, each key still reads its own value, and the name keeps its bytes.
        (store, kernel) = try restart(path)
        #expect(try kernel.syscalls(reads, from: a) == .committed([.value("A"), .value("B"), .value("k"), .value("kelvin")]))
        #expect(Array(kernel.state.vats[a]!.name.string.utf8) == [0x65, 0xCC, 0x81])
        // Then deleting é and K and restarting again keeps them deleted and the others intact.
        #expect(try kernel.syscalls([.vatstoreDelete(key: "\u{E9}"), .vatstoreDelete(key: "K")], from: a) == .committed([.ok, .ok]))
        try store.flush()
        store.close()
        #expect(try rows(path, a) == ["65CC81=42", "E284AA=6B656C76696E"])
        (store, kernel) = try restart(path)
        defer { store.close() }
        #expect(try kernel.syscalls(reads + [.vatstoreGetNextKey(priorKey: ""), .vatstoreGetNextKey(priorKey: "e\u{301}")], from: a)
            == .committed([.value(nil), .value("B"), .value(nil), .value("kelvin"), .value("e\u{301}"), .value("\u{212A}")]))
    }

    @Test func distinctByteStringsStayDistinctInMemoryOnDiskAndAfterReload() throws {
        // Property: random keys and values over an alphabet of look-alikes (and NUL) are as
        // many keys as distinct byte strings, everywhere, and walk in the same byte order.
        let alphabet: [String] = ["e", "\u{E9}", "\u{301}", "K", "\u{212A}", "A", "\u{C5}", "\u{212B}", "A\u{30A}", "\u{0}", "\u{10348}"]
        var random = SplitMix64(seed: 0x2545_F491_4F6C_DD1D)
        func next() -> Int { Int(random.next() >> 33) }
        func word() -> String { (0..<(1 + next() % 4)).map { _ in alphabet[next() % alphabet.count] }.joined() }
        var model: [[UInt8]: [UInt8]] = [:]
        var batch: [Syscall] = []
        for _ in 0..<3000 {
            let (key, value) = (word(), word())
            model[Array(key.utf8)] = Array(value.utf8)
            batch.append(.vatstoreSet(key: ByteString(key), value: ByteString(value)))
        }
        let canonical = Set(model.keys.map { String(decoding: $0, as: UTF8.self) })
        #expect(canonical.count < model.count)  // Swift's String would have merged some keys
        let sorted = model.keys.sorted { $0.lexicographicallyPrecedes($1) }
        func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined() }

        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("p.sqlite")
        var (store, kernel) = try restart(path)
        let a = try kernel.createVat(name: "alice").vatID
        _ = try kernel.syscalls(batch, from: a)
        let inMemory = kernel.state.vatstores[a]!
        #expect(inMemory.count == model.count)
        #expect(inMemory.map { Array($0.key.string.utf8) } == sorted)
        try store.flush()
        store.close()
        #expect(try rows(path, a) == sorted.map { "\(hex($0))=\(hex(model[$0]!))" })

        (store, kernel) = try restart(path)
        defer { store.close() }
        #expect(kernel.state.vatstores[a]! == inMemory)
        #expect(kernel.state.vatstores[a]!.map { Array($0.value.string.utf8) } == sorted.map { model[$0]! })
        // A walk with vatstoreGetNextKey after the reload visits the same keys in the same order.
        var walked: [[UInt8]] = []
        var prior: ByteString = ""
        while case .committed(let r) = try kernel.syscalls([.vatstoreGetNextKey(priorKey: prior)], from: a), case .value(let k?) = r[0] {
            walked.append(Array(k.string.utf8))
            prior = k
        }
        #expect(walked == sorted)
    }

    @Test func aVatstoreRowThatIsNotUTF8IsRefusedAtLoad() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("bad.sqlite")
        var (store, kernel) = try restart(path)
        let a = try kernel.createVat(name: "alice").vatID
        #expect(try kernel.syscalls([.vatstoreSet(key: "k", value: "v")], from: a) == .committed([.ok]))
        try store.flush()
        store.close()
        let c = try SQLiteConnection(path: path, flags: 0x0000_0002 /* SQLITE_OPEN_READWRITE */)
        try c.execute("UPDATE vatstore SET key = CAST(x'C3' AS TEXT) WHERE vat = 'v1'")
        c.close()
        store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(throws: KernelStoreError.corrupt(path: path, detail: "vatstore row v1: key or value is not UTF-8 text")) { try store.load() }
    }
}
