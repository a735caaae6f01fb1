/// Settings of one kernel, with documented defaults.
public struct KernelConfiguration: Hashable, Sendable {
    /// How many c-list entries or vatstore keys one `cleanup-terminated-vat` crank may
    /// remove. Bounds the longest crank when a huge vat dies; small vats finish in one crank.
    public var cleanupBudget: Int = 5_000

    /// The largest number of syscalls accepted in one batch.
    public var maxSyscallsPerBatch: Int = 10_000

    /// The documented defaults.
    public init() {}
}
