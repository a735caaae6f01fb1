import VatKernel

// What the test suites and benchmarks share: terse builders for kernel values and a seeded
// random number generator. Test-only: no product exposes this target.

/// The vref `s`; traps on a typo, which is what a test wants.
public func v(_ s: String) -> VRef { VRef(s)! }
/// The kref `s`; traps on a typo.
public func k(_ s: String) -> KRef { KRef(s)! }

/// Methargs `[method, [{$slot:0}, {$slot:1}, …]]` with one argument per slot.
public func methargs<S>(_ method: String, _ slots: [S]) -> CapData<S> {
    CapData(body: .array([.string(method), .array(slots.indices.map { JSONValue.slot($0) })]), slots: slots)
}

/// A `send` syscall to `target` with one argument per slot.
public func send(_ target: String, _ method: String, _ slots: [String] = [], result: String? = nil) -> Syscall {
    .send(target: v(target), methargs: methargs(method, slots.map(v)), result: result.map(v))
}

/// A c-list's entries in vref text order.
public func sorted(_ c: CList) -> [(kref: KRef, entry: CListEntry)] {
    c.byKRef.map { (kref: $0.key, entry: $0.value) }.sorted { $0.entry.vref.description < $1.entry.vref.description }
}

/// A small deterministic random number generator (SplitMix64), so failures and benchmark
/// orders reproduce from their seed.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
