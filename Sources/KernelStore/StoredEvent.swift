import VatKernel

/// How an event is kept in its crank's `events` row (Schema versions 10 and 13), and the API's
/// JSON rebuilt from it byte for byte.
///
/// Since version 13 a crank's events are one row: `seq` is its first event's, `count` how many
/// it holds, and `events` one line per event, `type` TAB `vat` TAB `body` LF (`vat` empty when
/// the event is about none). A body is compact JSON, which has no raw TAB or LF in it (the
/// writer escapes every control character), so the lines split without ambiguity.
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

    /// Appends one event's line to its crank's `events` text.
    static func appendLine(_ row: inout [UInt8], type: String, vat: String?, body: [UInt8]) {
        row.append(contentsOf: type.utf8)
        row.append(tab)
        if let vat { row.append(contentsOf: vat.utf8) }
        row.append(tab)
        row.append(contentsOf: body)
        row.append(newline)
    }

    /// The lines of a crank's `events` text, in order: each event's type, vat and body (slices
    /// of `text`). Stops early when `each` returns false.
    static func forEachLine(_ text: UnsafeBufferPointer<UInt8>,
                            _ each: (_ type: Slice<UnsafeBufferPointer<UInt8>>, _ vat: Slice<UnsafeBufferPointer<UInt8>>,
                                     _ body: UnsafeBufferPointer<UInt8>) throws -> Bool) rethrows {
        var i = 0
        let n = text.count
        while i < n {
            guard let t = text[i...].firstIndex(of: tab), let v = text[(t + 1)...].firstIndex(of: tab) else { return }
            let end = text[(v + 1)...].firstIndex(of: newline) ?? n
            guard try each(text[i..<t], text[(t + 1)..<v], UnsafeBufferPointer(rebasing: text[(v + 1)..<end])) else { return }
            i = end + 1
        }
    }

    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")

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
