import VatKernel

/// Where the hash of each vat's bearer token (`TokenHash.hex`) is kept, so tokens survive a
/// restart while no store holds a token itself.
///
/// The service calls `setTokenHash` on its kernel thread, in the same group as the crank that
/// created the vat: a store that also implements `KernelStorage` stages the token with that
/// group's cranks, so both become durable with the same `flush()` and both are lost if it
/// fails. `loadTokenHashes` is called once, when the service starts.
public protocol TokenStore: AnyObject {
    /// Every token hash stored, by vat. Those of vats that do not exist are ignored.
    func loadTokenHashes() throws -> [VatID: String]
    /// Stores `hash` as the hash of `vat`'s token, replacing any earlier one; durable with the next flush.
    func setTokenHash(_ hash: String, for vat: VatID) throws
}

/// Token hashes in memory: for tests and for `--db :memory:`.
public final class InMemoryTokenStore: TokenStore {
    public private(set) var hashes: [VatID: String] = [:]
    /// When set, the next `setTokenHash` throws this error (for tests of failed writes).
    public var failNextSet: (any Error)?

    public init() {}

    public func loadTokenHashes() throws -> [VatID: String] { hashes }

    public func setTokenHash(_ hash: String, for vat: VatID) throws {
        if let e = failNextSet {
            failNextSet = nil
            throw e
        }
        hashes[vat] = hash
    }
}
