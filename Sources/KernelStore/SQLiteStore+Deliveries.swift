import VatKernel

/// The delivery log's records, read from the `deliveries` table: the kernel keeps only where
/// each log stands (`DeliveryLog`), so pages, long polls and streams read here.
extension SQLiteStore {
    /// The vat's records with `seq > after`, oldest first: at most `limit`, stopping before the
    /// one that would take the stored JSON past `maxBytes` (the first always comes). Read on the
    /// store's own connection, so the open group's staged cranks are seen; a malformed row is
    /// `KernelStoreError.corrupt`.
    public func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        let (_, s) = try open()
        let q = s.deliveriesAfter
        defer { q.reset() }
        q.bind(1, vat.description)
        q.bind(2, after)
        q.bind(3, max(0, limit))
        var out: [DeliveryRecord] = []
        var bytes = 0
        do {
            while try q.step() {
                let seq = q.int(0)
                let at = "deliveries row \(vat) \(seq)"
                let (d, size) = try q.withText(2) { text in
                    (try KernelValueReader(KernelValueReader.parse(text, "\(at) delivery"), "\(at) delivery").delivery(), text?.count ?? 0)
                }
                if !out.isEmpty, bytes + size > maxBytes { break }
                bytes += size
                out.append(DeliveryRecord(seq: seq, crank: q.int(1), delivery: d))
            }
        } catch let e as RowError {
            throw KernelStoreError.corrupt(path: path, detail: e.description)
        }
        return out
    }
}
