import VatKernel

/// Each vat's bearer token, kept in the same database and the same flush group as the crank
/// that created the vat, so a vat and its token become durable together or not at all.
extension SQLiteStore {
    /// Every stored token, by vat.
    public func loadTokens() throws -> [VatID: String] {
        let (c, _) = try open()
        let q = try c.prepare("SELECT vat, token FROM vat_tokens")
        defer { q.finalize() }
        var tokens: [VatID: String] = [:]
        while try q.step() {
            guard let text = q.text(0), let vat = VatID(text), let token = q.text(1) else {
                throw KernelStoreError.corrupt(path: path, detail: "vat_tokens holds a row that is not a vat and a token")
            }
            tokens[vat] = token
        }
        return tokens
    }

    /// Stages `token` as `vat`'s token in the open group (opening one if needed); durable
    /// with the next `flush()`, lost with it if that fails.
    public func setToken(_ token: String, for vat: VatID) throws {
        let (c, s) = try open()
        if let lost = lostGroup { throw lost }
        if c.isAutocommit { try s.begin.run() }
        s.putToken.bind(1, vat.description)
        s.putToken.bind(2, token)
        try s.putToken.run()
    }
}
