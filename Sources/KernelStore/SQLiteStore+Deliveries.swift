import Crypto
import VatKernel

/// The delivery log's records, read from the `deliveries` table: the kernel keeps only where
/// each log stands (`DeliveryLog`), so pages, long polls and streams read here.
extension SQLiteStore {
    /// The vat's records with `seq > after`, oldest first: at most `limit`, stopping before the
    /// one that would take the stored JSON past `maxBytes` (the first always comes). Read on the
    /// store's own connection, so the open group's staged cranks are seen; a malformed row is
    /// `KernelStoreError.corrupt`. Resolution bodies kept once in `delivery_values` are put
    /// back in place (`StoredDelivery`), so each record is exactly the delivery that was made.
    public func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
        let (_, s) = try open()
        return try Self.deliveries(vat, after: after, limit: limit, maxBytes: maxBytes,
                                   query: s.deliveriesAfter, values: s.deliveryValue, path: path)
    }

    /// The read behind `deliveries(_:after:limit:maxBytes:)`, on any connection: `query` is
    /// `StoredRow.deliveriesAfter`, `values` `StoredRow.deliveryValue`, prepared on it.
    static func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int,
                           query q: SQLiteStatement, values: SQLiteStatement, path: String) throws -> [DeliveryRecord] {
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
                let (json, size) = try q.withText(2) { text in (try KernelValueReader.parse(text, "\(at) delivery"), text?.count ?? 0) }
                if !out.isEmpty, bytes + size > maxBytes { break }
                bytes += size
                let whole = q.int(3) != 0 ? try StoredDelivery.restoringValues(json, at, values) : json
                out.append(DeliveryRecord(seq: seq, crank: q.int(1), delivery: try KernelValueReader(whole, "\(at) delivery").delivery()))
            }
        } catch let e as RowError {
            throw KernelStoreError.corrupt(path: path, detail: e.description)
        }
        return out
    }
}

/// A delivery as the `deliveries` table keeps it (issue 9 part 2: a value delivered to many vats
/// is stored once).
///
/// A notify's resolution data is the promise's, translated for each subscriber: the same body,
/// each vat's own slots. A body of `sharedBodyBytes` or more is kept once in `delivery_values`,
/// keyed by the SHA-256 of its JSON and counted by the rows that refer to it; the row's
/// resolution holds `{"bodyRef": <hex>, "slots": [...]}` in its place, and `value_refs` lists
/// the keys it counts (each once). Deleting the row (acknowledged, or its vat cleaned up)
/// releases them: a trigger (schema version 11) deletes a value no row refers to any more.
/// Every other delivery, and a small body, is stored whole as `JSONWriter.delivery` writes it.
struct StoredDelivery {
    /// Bodies shorter than this are written in place: a key would cost about as much.
    static let sharedBodyBytes = 128

    /// The `delivery` column.
    var json: [UInt8]
    /// The values the row refers to, each once: (hex SHA-256, body JSON).
    var values: [(sha256: String, body: [UInt8])] = []

    /// The `value_refs` column: the keys, as a JSON array (read by the trigger's `json_each`).
    var valueRefs: String { "[" + values.map { "\"\($0.sha256)\"" }.joined(separator: ",") + "]" }

    init(_ d: Delivery) throws {
        guard case .notify(let resolutions) = d else {
            json = try JSONWriter.bytes { try $0.delivery(d) }
            return
        }
        var refs: [String?] = []
        for r in resolutions {
            let body = try JSONWriter.bytes { try $0.value(r.data.body) }
            guard body.count >= Self.sharedBodyBytes else {
                refs.append(nil)
                continue
            }
            let key = Hex.encode(SHA256.hash(data: body))
            refs.append(key)
            if !values.contains(where: { $0.sha256 == key }) { values.append((key, body)) }
        }
        guard !values.isEmpty else {
            json = try JSONWriter.bytes { try $0.delivery(d) }
            return
        }
        // `JSONWriter.delivery`'s notify with each shared body replaced by its key.
        json = try JSONWriter.bytes { w in
            w.beginObject()
            w.key("resolutions")
            w.beginArray()
            for (r, ref) in zip(resolutions, refs) {
                guard let ref else {
                    try w.vatResolution(r)
                    continue
                }
                w.beginObject()
                w.key("data")
                w.beginObject()
                w.key("bodyRef"); w.string(ref)
                w.key("slots"); w.strings(r.data.slots)
                w.endObject()
                w.key("rejected"); w.bool(r.rejected)
                w.key("vpid"); w.string(r.vpid.description)
                w.endObject()
            }
            w.endArray()
            w.key("type"); w.string(Delivery.Kind.notify.rawValue)
            w.endObject()
        }
    }

    /// The stored notify `json` with each `bodyRef` replaced by the body it names, read with
    /// `lookup` (`SELECT body FROM delivery_values WHERE sha256 = ?1`).
    static func restoringValues(_ json: JSONValue, _ at: String, _ lookup: SQLiteStatement) throws -> JSONValue {
        guard case .object(var fields) = json, case .array(var resolutions)? = fields["resolutions"] else {
            throw RowError("\(at) delivery: value_refs set on a row that is not a notify")
        }
        for i in resolutions.indices {
            guard case .object(var r) = resolutions[i], case .object(var data)? = r["data"],
                  let ref = data["bodyRef"] else { continue }
            guard case .string(let key) = ref else { throw RowError("\(at) delivery: bodyRef is not a string") }
            lookup.bind(1, key)
            defer { lookup.reset() }
            guard try lookup.step() else { throw RowError("\(at) delivery: no delivery_values row \(key)") }
            data["body"] = try lookup.withText(0) { try KernelValueReader.parse($0, "delivery_values row \(key)") }
            data["bodyRef"] = nil
            r["data"] = .object(data)
            resolutions[i] = .object(r)
        }
        fields["resolutions"] = .array(resolutions)
        return .object(fields)
    }
}
