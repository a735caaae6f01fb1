import VatKernel

/// Reading every table back into a `KernelState` equal to the kernel's at the last flush.
extension SQLiteStore {
    /// The state of the last flushed crank, or nil for a store no crank was committed to.
    ///
    /// This is how an owner reloads after a failed flush: the store forgets any lost group,
    /// and a kernel built on the earlier state must be discarded. Refused while cranks are
    /// staged (flush them first).
    public func load() throws -> KernelState? {
        let (c, _) = try open()
        if stagedCranks > 0 { throw KernelStoreError.unflushedCranks(path: path, cranks: stagedCranks) }
        lostGroup = nil
        let ownTransaction = c.isAutocommit
        // One read transaction: every table from the same snapshot.
        if ownTransaction { try c.execute("BEGIN", operation: "begin reading the state") }
        defer { if ownTransaction, !c.isAutocommit { try? c.execute("COMMIT") } }
        do {
            hashes = try readHashes(c)
            nextEventSeq = try readNextEventSeq(c)
            return try readState(c)
        } catch let e as RowError {
            throw KernelStoreError.corrupt(path: path, detail: e.description)
        }
    }

    /// The last flushed crank's hashes, if a crank was committed since hashes were kept.
    private func readHashes(_ c: SQLiteConnection) throws -> CrankHashes? {
        let q = try c.prepare("SELECT crank, crank_hash, activity_hash FROM activity WHERE id = 1")
        defer { q.finalize() }
        guard try q.step() else { return nil }
        guard let crankHash = q.text(1), let activityHash = q.text(2) else { throw RowError("activity row: missing hash") }
        return CrankHashes(crank: q.int(0), crankHash: crankHash, activityHash: activityHash)
    }

    private func readState(_ c: SQLiteConnection) throws -> KernelState? {
        let q = try c.prepare("SELECT next_object, next_promise, next_vat, next_queue_id, crank FROM counters WHERE id = 1")
        defer { q.finalize() }
        guard try q.step() else { return nil }
        var counters = KernelCounters()
        counters.nextObject = q.int(0)
        counters.nextPromise = q.int(1)
        counters.nextVat = q.int(2)
        counters.nextQueueID = q.int(3)
        counters.crank = q.int(4)

        var state = KernelState()
        for table in StoredTables.all { try table.load(c, &state) }
        // A vat has its c-list and vatstore from its creation on, rows or not.
        for id in state.vats.rows.keys {
            state.clists.rows.addVat(id)
            state.vatstores.rows.addVat(id)
        }
        try readDeliveryLogs(c, &state)
        // Queued events go through `apply`, the public way to build a FIFO.
        var delta = CrankDelta(crank: counters.crank, counters: counters)
        try readQueues(c, &delta)
        state.apply(delta)
        return state
    }

    /// The queued events, into `delta` (`apply` is the public way to build a FIFO).
    private func readQueues(_ c: SQLiteConnection, _ delta: inout CrankDelta) throws {
        let q = try c.prepare("SELECT id, queue_name, event FROM queue ORDER BY id")
        defer { q.finalize() }
        while try q.step() {
            let (name, event) = try q.queuedEvent()
            delta.queueAdds.append((name, event))
        }
    }

    /// Where each vat's delivery log stands, from two index lookups per vat (its oldest and
    /// newest seq): the records stay in the table, so start-up does not grow with the log.
    /// An empty log goes on from what the vat acknowledged (everything through it was dropped).
    private func readDeliveryLogs(_ c: SQLiteConnection, _ state: inout KernelState) throws {
        let oldest = try c.prepare(StoredRow.oldestDelivery)
        defer { oldest.finalize() }
        let newest = try c.prepare(StoredRow.newestDelivery)
        defer { newest.finalize() }
        for (id, v) in state.vats {
            state.deliveryLogs.rows[id] = try StoredRow.deliveryLog(id, acknowledged: v.deliveriesAcknowledged, oldest: oldest, newest: newest)
        }
    }
}

/// The delivery-log reads that `load()` and `SQLiteReader` share, so that a row means the same
/// to both (the journaled tables' columns are their `StoredTables` mappings).
enum StoredRow {
    static let oldestDelivery = "SELECT seq FROM deliveries WHERE vat = ?1 ORDER BY seq LIMIT 1"
    static let newestDelivery = "SELECT seq FROM deliveries WHERE vat = ?1 ORDER BY seq DESC LIMIT 1"
    static let deliveriesAfter = "SELECT seq, crank, delivery, value_refs IS NOT NULL FROM deliveries WHERE vat = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    static let deliveryValue = "SELECT body FROM delivery_values WHERE sha256 = ?1"

    /// Where a vat's delivery log stands, from its oldest and newest seq (two index lookups);
    /// an empty log goes on from what the vat acknowledged (everything through it was dropped).
    static func deliveryLog(_ vat: VatID, acknowledged: Int, oldest: SQLiteStatement, newest: SQLiteStatement) throws -> DeliveryLog {
        func seq(_ q: SQLiteStatement) throws -> Int? {
            q.bind(1, vat.description)
            defer { q.reset() }
            return try q.step() ? q.int(0) : nil
        }
        guard let first = try seq(oldest), let last = try seq(newest) else { return DeliveryLog(last: acknowledged) }
        return DeliveryLog(last: last, count: last - first + 1)
    }
}

/// Rows read back into the core's values; a malformed row is a `RowError`.
extension SQLiteStatement {
    /// A `vats` row read with `StoredTables.vatColumns`.
    func vatRecord() throws -> VatRecord {
        let r = self
        let id = try r.vatID(0, "vats row")
        let at = "vats row \(id)"
        guard let name = r.byteText(1) else { throw RowError("\(at): name is not UTF-8 text") }
        var v = VatRecord(id: id, name: name,
                          options: try r.withText(2) { try KernelValueReader.parse($0, "\(at) options") },
                          vatParameters: try KernelValueReader(r.withText(6) { try KernelValueReader.parse($0, "\(at) vat_parameters") }, "\(at) vat_parameters").capDataK())
        v.incarnation = r.int(3)
        switch r.byteText(4) {
        case "running"?: v.status = .running
        case "terminated"?:
            let t = try r.withText(5) { try KernelValueReader.parse($0, "\(at) termination") }
            v.status = .terminated(try KernelValueReader(t, "\(at) termination").termination())
        case let s: throw RowError("\(at): unknown status \(s?.string ?? "NULL")")
        }
        v.nextObjectImport = r.int(7)
        v.nextPromiseImport = r.int(8)
        v.nextDeviceImport = r.int(9)
        v.cleanedUp = r.int(10) != 0
        v.deliveriesAcknowledged = r.int(11)
        if !r.isNull(12) {
            guard let hex = r.text(12), let hash = TokenHash.digest(hex: hex) else { throw RowError("\(at): token_sha256 is not a SHA-256 in hex") }
            v.tokenHash = hash
        }
        return v
    }

    /// An `objects` row read with `StoredTables.objectColumns` (its id is column 0).
    func kernelObject() throws -> KernelObject {
        let owner = try isNull(1) ? nil : vatID(1, "objects row ko\(int(0)) owner")
        return KernelObject(owner: owner, reachable: int(2), recognizable: int(3))
    }

    /// A `promises` row read with `StoredTables.promiseColumns` (its id is column 0), with its
    /// queue and data.
    func kernelPromise() throws -> KernelPromise {
        let r = self
        let at = "promises row kp\(r.int(0))"
        var p = KernelPromise(decider: try r.isNull(2) ? nil : r.vatID(2, "\(at) decider"), refCount: r.int(6))
        guard let t = r.text(1), let s = KernelPromise.State.allCases.first(where: { $0.rawValue.hasSameBytes(as: t) }) else { throw RowError("\(at): unknown state") }
        p.state = s
        p.subscribers = try r.withText(3) { bytes in
            if isEmptyArray(bytes) { return [] }
            return try KernelValueReader.strings(KernelValueReader.parse(bytes, "\(at) subscribers"), "\(at) subscribers")
                .map { try KernelValueReader.vatID($0, "\(at) subscribers") }
        }
        p.queue = try r.withText(4) { bytes in
            if isEmptyArray(bytes) { return [] }
            guard case .array(let a) = try KernelValueReader.parse(bytes, "\(at) queue") else { throw RowError("\(at) queue: expected an array") }
            return try a.map { try KernelValueReader($0, "\(at) queue").message() }
        }
        if !r.isNull(5) {
            p.data = try KernelValueReader(r.withText(5) { try KernelValueReader.parse($0, "\(at) data") }, "\(at) data").capDataK()
        }
        return p
    }

    /// A c-list entry from its `vref` and `reachable` columns; `at` names the row.
    func clistEntry(vref: Int32, reachable: Int32, _ at: @autoclosure () -> String) throws -> CListEntry {
        CListEntry(vref: try self.vref(vref, "\(at()) vref"), reachable: int(reachable) != 0)
    }

    /// A `queue` row read as `id, queue_name, event`.
    func queuedEvent() throws -> (QueueName, QueuedEvent) {
        let id = int(0)
        let at = "queue row \(id)"
        guard let t = text(1), let name = QueueName.allCases.first(where: { $0.rawValue.hasSameBytes(as: t) }) else { throw RowError("\(at): unknown queue") }
        let event = try KernelValueReader(withText(2) { try KernelValueReader.parse($0, "\(at) event") }, "\(at) event").kernelEvent()
        return (name, QueuedEvent(id: id, event: event))
    }

    /// A `gc_actions` row.
    func gcAction() throws -> GCAction {
        let text = self.text(0) ?? ""
        guard let a = GCAction(text) else { throw RowError("gc_actions row: not a GC action: \(text)") }
        return a
    }
}

extension SQLiteStatement {
    /// The column as a vat ID, parsed from its bytes; `context` names it in the error.
    func vatID(_ column: Int32, _ context: @autoclosure () -> String) throws -> VatID {
        try withText(column) { b in
            guard let b, let id = VatID(utf8: b) else { throw RowError("\(context()): not a vat ID: \(text(column) ?? "NULL")") }
            return id
        }
    }

    func kref(_ column: Int32, _ context: @autoclosure () -> String) throws -> KRef {
        try withText(column) { b in
            guard let b, let k = KRef(utf8: b) else { throw RowError("\(context()): not a kref: \(text(column) ?? "NULL")") }
            return k
        }
    }

    func vref(_ column: Int32, _ context: @autoclosure () -> String) throws -> VRef {
        try withText(column) { b in
            guard let b, let v = VRef(utf8: b) else { throw RowError("\(context()): not a vref: \(text(column) ?? "NULL")") }
            return v
        }
    }
}

/// `[]`: most promises have no subscribers and no queue; skip the parser for them.
private func isEmptyArray(_ bytes: UnsafeBufferPointer<UInt8>?) -> Bool {
    guard let bytes, bytes.count == 2 else { return false }
    return bytes[0] == UInt8(ascii: "[") && bytes[1] == UInt8(ascii: "]")
}
