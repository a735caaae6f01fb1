/// A row of the kernel object table (KERNEL-SPEC §2).
///
/// Counts cover importers and kernel-held references only; the exporter's own c-list entry
/// never counts. An object with no owner is an *orphan*.
public struct KernelObject: Hashable, Sendable {
    /// The exporting vat; nil once abandoned or after its exporter's termination cleanup.
    public var owner: VatID?
    /// Holders that can send to it.
    public var reachable: Int
    /// Holders that can compare it (always ≥ reachable).
    public var recognizable: Int

    /// Makes a row; a new export starts at `0,0`.
    public init(owner: VatID?, reachable: Int = 0, recognizable: Int = 0) {
        self.owner = owner
        self.reachable = reachable
        self.recognizable = recognizable
    }
}
