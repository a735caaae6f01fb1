import VatKernel

/// How an event is kept in its `events` row (Schema version 10), and the API's JSON rebuilt
/// from it byte for byte.
///
/// The API's event is `{"seq":S,"crank":C,"type":"T",…fields}`. The row's `seq`, `crank` and
/// `type` columns already hold the first three, so `event` keeps only the fields, as an object
/// (`{}` when there are none), without the `crankNum` of `crank-start` and `crank-finish` (always
/// the crank) and without `crank-finish`'s `crankhash` and `activityhash`: those are the
/// 64-byte `hashes` blob (crank hash ‖ activity hash), shown as lowercase hex. What costs the
/// event log its crank rate is the bytes it writes; this keeps 40% of them.
enum StoredEvent {
    /// The types whose first field is `crankNum`.
    static let crankNumTypes: Set<String> = ["crank-start", "crank-finish"]

    /// The API's JSON of the event of row (`seq`, `crank`, `type`, `body`, `hashes`).
    static func json(seq: Int, crank: Int, type: String, body: UnsafeBufferPointer<UInt8>, hashes: [UInt8]?) -> [UInt8] {
        var w = JSONWriter(capacity: body.count + 64 + (hashes == nil ? 0 : 160))
        w.beginObject()
        w.key("seq"); w.int(seq)
        w.key("crank"); w.int(crank)
        w.key("type"); w.string(type)
        if crankNumTypes.contains(type) { w.key("crankNum"); w.int(crank) }
        var out = w.bytes
        // The body is `{…}`: its fields follow the envelope's after a comma.
        if body.count > 2 {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: body[1..<(body.count - 1)])
        }
        if let hashes, hashes.count == 64 {
            out.append(contentsOf: #","crankhash":""#.utf8)
            out.append(contentsOf: Hex.encode(hashes[0..<32]).utf8)
            out.append(contentsOf: #"","activityhash":""#.utf8)
            out.append(contentsOf: Hex.encode(hashes[32...]).utf8)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The row form (`body`, `hashes`) of an event as versions 4–9 stored it (the API's JSON
    /// whole), or nil if `full` is not exactly what `json` rebuilds from that form.
    static func split(_ full: [UInt8], seq: Int, crank: Int, type: String) -> (body: [UInt8], hashes: [UInt8]?)? {
        let prefix = [UInt8](json(seq: seq, crank: crank, type: type, body: UnsafeBufferPointer(start: nil, count: 0), hashes: nil).dropLast())
        guard full.count >= prefix.count + 1, full.starts(with: prefix), full.last == UInt8(ascii: "}") else { return nil }
        var fields = Array(full[prefix.count..<(full.count - 1)])  // "" or ",…"
        var hashes: [UInt8]?
        if type == "crank-finish" {
            let tail = Array(#","crankhash":""#.utf8) + Array(repeating: 0, count: 64) + Array(#"","activityhash":""#.utf8)
                + Array(repeating: 0, count: 64) + [UInt8(ascii: "\"")]
            guard fields.count >= tail.count else { return nil }
            let at = fields.count - tail.count
            let text = String(decoding: fields[at...], as: UTF8.self)
            let crankHash = String(text.dropFirst(14).prefix(64)), activityHash = String(text.suffix(65).prefix(64))
            guard let a = Hex.decode(crankHash), let b = Hex.decode(activityHash), a.count == 32, b.count == 32 else { return nil }
            hashes = a + b
            fields.removeSubrange(at...)
        }
        guard fields.isEmpty || fields.first == UInt8(ascii: ",") else { return nil }
        let body = [UInt8(ascii: "{")] + fields.dropFirst() + [UInt8(ascii: "}")]
        let rebuilt = body.withUnsafeBufferPointer { json(seq: seq, crank: crank, type: type, body: $0, hashes: hashes) }
        return rebuilt == full ? (body, hashes) : nil
    }
}
