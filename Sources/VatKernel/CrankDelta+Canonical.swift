/// The canonical encoding of a crank's delta: the bytes a crank hash is computed over.
///
/// Two kernels that made the same changes in a crank give the same bytes, whatever order their
/// dictionaries iterate in. Each changed row becomes one record, written in the form SwingSet's
/// swing-store feeds its crank hasher for a kvStore change:
/// ```
/// add\n<key>\n<value>\n        (a row written)
/// delete\n<key>\n              (a row removed)
/// ```
/// Records are sorted by the UTF-8 bytes of their keys; values are canonical JSON (keys in byte
/// order, refs as text, no raw newline). Keys name the row as a kvStore would:
/// `counters`, `ko21`, `kp40`, `v1` (vat record), `v1.c.ko21` (c-list), `v1.vs."key"`
/// (vatstore, the key as a JSON string so any key stays one line), `v1.d.3` (delivery log),
/// `queue.7`, `gc.v1 dropExport ko21`, `pin.ko21`, `held.kp40`.
extension CrankDelta {
    /// The delta's records, sorted by key, as one byte string.
    public func canonicalEncoding() throws -> [UInt8] {
        var records = try canonicalRecords()
        records.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(0) { $0 + $1.key.count + ($1.value?.count ?? 0) + 10 })
        for r in records {
            if let value = r.value {
                out.append(contentsOf: "add\n".utf8)
                out.append(contentsOf: r.key)
                out.append(newline)
                out.append(contentsOf: value)
            } else {
                out.append(contentsOf: "delete\n".utf8)
                out.append(contentsOf: r.key)
            }
            out.append(newline)
        }
        return out
    }

    private var newline: UInt8 { UInt8(ascii: "\n") }

    /// One record per changed row; a nil value deletes.
    private func canonicalRecords() throws -> [(key: [UInt8], value: [UInt8]?)] {
        var r: [(key: [UInt8], value: [UInt8]?)] = []
        func add(_ key: String, _ value: (inout JSONWriter) throws -> Void) rethrows {
            r.append((Array(key.utf8), try JSONWriter.bytes(value)))
        }
        func delete(_ key: String) { r.append((Array(key.utf8), nil)) }

        add("counters") { $0.counters(counters) }
        for (id, o) in objects {
            if let o { add("ko\(id)") { $0.object(o) } } else { delete("ko\(id)") }
        }
        for (id, p) in promises {
            if let p { try add("kp\(id)") { try $0.promise(p) } } else { delete("kp\(id)") }
        }
        for (id, v) in vats {
            if let v { try add("\(id)") { try $0.vat(v) } } else { delete("\(id)") }
        }
        for (k, e) in clistEntries {
            let key = "\(k.vat).c.\(k.kref)"
            if let e { add(key) { $0.clistEntry(e) } } else { delete(key) }
        }
        for (k, v) in vatstore {
            let key = "\(k.vat).vs." + String(decoding: JSONWriter.bytes { $0.string(k.key.string) }, as: UTF8.self)
            if let v { add(key) { $0.string(v.string) } } else { delete(key) }
        }
        for (_, id) in queueRemovals { delete("queue.\(id)") }
        for (name, e) in queueAdds {
            try add("queue.\(e.id)") { w in
                w.beginObject()
                w.key("event"); try w.kernelEvent(e.event)
                w.key("queue"); w.string(name.rawValue)
                w.endObject()
            }
        }
        for (a, present) in gcActions {
            if present != nil { add("gc.\(a)") { $0.bool(true) } } else { delete("gc.\(a)") }
        }
        for (k, n) in pins {
            if let n, n > 0 { add("pin.\(k)") { $0.int(n) } } else { delete("pin.\(k)") }
        }
        for (k, held) in heldResults {
            if held != nil { add("held.\(k)") { $0.bool(true) } } else { delete("held.\(k)") }
        }
        for (vat, seq) in droppedDeliveries { delete("\(vat).d.\(seq)") }
        for (vat, d) in deliveries {
            try add("\(vat).d.\(d.seq)") { w in
                w.beginObject()
                w.key("crank"); w.int(d.crank)
                w.key("delivery"); try w.delivery(d.delivery)
                w.endObject()
            }
        }
        return r
    }
}

/// The row values of the canonical encoding, keys in byte order.
extension JSONWriter {
    mutating func counters(_ c: KernelCounters) {
        beginObject()
        key("crank"); int(c.crank)
        key("nextObject"); int(c.nextObject)
        key("nextPromise"); int(c.nextPromise)
        key("nextQueueID"); int(c.nextQueueID)
        key("nextVat"); int(c.nextVat)
        endObject()
    }

    mutating func object(_ o: KernelObject) {
        beginObject()
        key("owner"); optionalString(o.owner)
        key("reachable"); int(o.reachable)
        key("recognizable"); int(o.recognizable)
        endObject()
    }

    mutating func promise(_ p: KernelPromise) throws {
        beginObject()
        key("data")
        if let d = p.data { try capData(d) } else { null() }
        key("decider"); optionalString(p.decider)
        key("queue"); try messages(p.queue)
        key("refCount"); int(p.refCount)
        key("state"); string(p.state.rawValue)
        key("subscribers"); strings(p.subscribers)
        endObject()
    }

    mutating func vat(_ v: VatRecord) throws {
        beginObject()
        key("cleanedUp"); bool(v.cleanedUp)
        key("incarnation"); int(v.incarnation)
        key("name"); string(v.name.string)
        key("nextDeviceImport"); int(v.nextDeviceImport)
        key("nextObjectImport"); int(v.nextObjectImport)
        key("nextPromiseImport"); int(v.nextPromiseImport)
        key("options"); try value(v.options)
        key("termination")
        if let t = v.termination { try termination(t) } else { null() }
        key("vatParameters"); try capData(v.vatParameters)
        endObject()
    }

    mutating func clistEntry(_ e: CListEntry) {
        beginObject()
        key("reachable"); bool(e.reachable)
        key("vref"); string(e.vref.description)
        endObject()
    }
}
