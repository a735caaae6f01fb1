import VatKernel

/// The SHA-256 of each vat's bearer token (`TokenHash`), kept in the same database and the same
/// flush group as the crank that created the vat, so a vat and its token become durable
/// together or not at all. The token itself is never stored.
extension SQLiteStore {
    /// Every stored token hash (64 hex digits), by vat.
    public func loadTokenHashes() throws -> [VatID: String] {
        let (c, _) = try open()
        let q = try c.prepare("SELECT vat, token_sha256 FROM vat_tokens")
        defer { q.finalize() }
        var hashes: [VatID: String] = [:]
        while try q.step() {
            guard let text = q.text(0), let vat = VatID(text), let hash = q.text(1), TokenHash.digest(hex: hash) != nil else {
                throw KernelStoreError.corrupt(path: path, detail: "vat_tokens holds a row that is not a vat and a token hash")
            }
            hashes[vat] = hash
        }
        return hashes
    }

    /// Stages `hash` (`TokenHash.hex` of the token) as `vat`'s in the open group (opening one
    /// if needed); durable with the next `flush()`, lost with it if that fails.
    public func setTokenHash(_ hash: String, for vat: VatID) throws {
        let (c, s) = try open()
        if let lost = lostGroup { throw lost }
        if c.isAutocommit { try s.begin.run() }
        s.putToken.bind(1, vat.description)
        s.putToken.bind(2, hash)
        try s.putToken.run()
    }
}
