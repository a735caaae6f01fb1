import VatKernel

/// Where each vat's bearer token is kept, so tokens survive a restart.
///
/// The service calls `setToken` on its kernel thread, in the same group as the crank that
/// created the vat: a store that also implements `KernelStorage` stages the token with that
/// group's cranks, so both become durable with the same `flush()` and both are lost if it
/// fails. `loadTokens` is called once, when the service starts.
public protocol TokenStore: AnyObject {
    /// Every token stored, by vat. Tokens of vats that do not exist are ignored.
    func loadTokens() throws -> [VatID: String]
    /// Stores `token` as `vat`'s token, replacing any earlier one; durable with the next flush.
    func setToken(_ token: String, for vat: VatID) throws
}

/// Tokens in memory: for tests and for `--db :memory:`.
public final class InMemoryTokenStore: TokenStore {
    public private(set) var tokens: [VatID: String] = [:]
    /// When set, the next `setToken` throws this error (for tests of failed writes).
    public var failNextSet: (any Error)?

    public init() {}

    public func loadTokens() throws -> [VatID: String] { tokens }

    public func setToken(_ token: String, for vat: VatID) throws {
        if let e = failNextSet {
            failNextSet = nil
            throw e
        }
        tokens[vat] = token
    }
}
