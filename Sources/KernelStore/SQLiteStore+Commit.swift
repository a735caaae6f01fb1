import VatKernel

/// One crank's delta as row writes: an upsert for every changed row, a delete for every
/// removed one. Runs inside the crank's savepoint.
extension SQLiteStore {
    func write(_ d: CrankDelta, _ s: Statements) throws {
        var w = RowWrites(failAfter: failAfterWrites)

        let k = d.counters
        s.putCounters.bind(1, k.nextObject)
        s.putCounters.bind(2, k.nextPromise)
        s.putCounters.bind(3, k.nextVat)
        s.putCounters.bind(4, k.nextQueueID)
        s.putCounters.bind(5, k.crank)
        try w.run(s.putCounters)

        try w.rows(d.objects, put: s.putObject, delete: s.deleteObject, key: { $0.bind(1, $1) }) { st, o in
            st.bind(2, o.owner?.description)
            st.bind(3, o.reachable)
            st.bind(4, o.recognizable)
        }
        try w.rows(d.promises, put: s.putPromise, delete: s.deletePromise, key: { $0.bind(1, $1) }) { st, p in
            st.bind(2, p.state.rawValue)
            st.bind(3, p.decider?.description)
            st.bind(4, utf8: JSONWriter.bytes { $0.strings(p.subscribers) })
            st.bind(5, utf8: try JSONWriter.bytes { try $0.messages(p.queue) })
            st.bind(6, utf8: try p.data.map { data in try JSONWriter.bytes { try $0.capData(data) } })
            st.bind(7, p.refCount)
        }
        try w.rows(d.vats, put: s.putVat, delete: s.deleteVat, key: { $0.bind(1, $1.description) }, row: Self.bind(_:vat:))
        try w.rows(d.clistEntries, put: s.putCListEntry, delete: s.deleteCListEntry, key: { st, key in
            st.bind(1, key.vat.description)
            st.bind(2, key.kref.description)
        }) { st, e in
            st.bind(3, e.vref.description)
            st.bind(4, e.reachable)
        }
        try w.rows(d.vatstore, put: s.putVatstore, delete: s.deleteVatstore, key: { st, key in
            st.bind(1, key.vat.description)
            st.bind(2, key.key)
        }) { st, value in
            st.bind(3, value)
        }

        try writeQueues(d, s, &w)
        try writeSets(d, s, &w)

        for (vat, seq) in d.droppedDeliveries {
            s.deleteDelivery.bind(1, vat.description)
            s.deleteDelivery.bind(2, seq)
            try w.run(s.deleteDelivery)
        }
        for (vat, record) in d.deliveries {
            let stored = try StoredDelivery(record.delivery)
            for v in stored.values {
                s.retainDeliveryValue.bind(1, v.sha256)
                s.retainDeliveryValue.bind(2, utf8: v.body)
                try w.run(s.retainDeliveryValue)
            }
            let st = s.addDelivery
            st.bind(1, vat.description)
            st.bind(2, record.seq)
            st.bind(3, record.crank)
            st.bind(4, utf8: stored.json)
            st.bind(5, stored.values.isEmpty ? nil : stored.valueRefs)
            try w.run(st)
        }
    }

    /// A vat row's columns after its ID.
    private static func bind(_ st: SQLiteStatement, vat v: VatRecord) throws {
        st.bind(2, v.name)
        st.bind(3, utf8: try JSONWriter.bytes { try $0.value(v.options) })
        st.bind(4, v.incarnation)
        switch v.status {
        case .running:
            st.bind(5, "running")
            st.bind(6, utf8: nil)
        case .terminated(let info):
            st.bind(5, "terminated")
            st.bind(6, utf8: try JSONWriter.bytes { try $0.termination(info) })
        }
        st.bind(7, utf8: try JSONWriter.bytes { try $0.capData(v.vatParameters) })
        st.bind(8, v.nextObjectImport)
        st.bind(9, v.nextPromiseImport)
        st.bind(10, v.nextDeviceImport)
        st.bind(11, v.cleanedUp)
        st.bind(12, v.deliveriesAcknowledged)
        st.bind(13, v.tokenHash.map(Hex.encode))
    }

    /// The queues' removals, then their additions.
    private func writeQueues(_ d: CrankDelta, _ s: Statements, _ w: inout RowWrites) throws {
        for (name, id) in d.queueRemovals {
            s.removeQueued.bind(1, id)
            s.removeQueued.bind(2, name.rawValue)
            try w.run(s.removeQueued)
            // Only events stored by earlier cranks are removed: a miss means the store and
            // the kernel have parted ways, and acknowledging more would spread it.
            guard s.removeQueued.changes == 1 else {
                throw KernelStoreError.corrupt(path: path, detail: "the crank removes queued event \(id) from the \(name.rawValue) queue, but the store does not have it")
            }
        }
        for (name, event) in d.queueAdds {
            s.addQueued.bind(1, event.id)
            s.addQueued.bind(2, name.rawValue)
            s.addQueued.bind(3, utf8: try JSONWriter.bytes { try $0.kernelEvent(event.event) })
            try w.run(s.addQueued)
        }
    }

    /// The GC action set, the pins and the held results.
    private func writeSets(_ d: CrankDelta, _ s: Statements, _ w: inout RowWrites) throws {
        for (action, present) in d.gcActions {
            let st = present != nil ? s.addGCAction : s.deleteGCAction
            st.bind(1, action.description)
            try w.run(st)
        }
        for (kref, count) in d.pins {
            if let count, count > 0 {
                s.putPin.bind(1, kref.description)
                s.putPin.bind(2, count)
                try w.run(s.putPin)
            } else {
                s.deletePin.bind(1, kref.description)
                try w.run(s.deletePin)
            }
        }
        for (kpid, held) in d.heldResults {
            let st = held != nil ? s.addHeld : s.deleteHeld
            st.bind(1, kpid.description)
            try w.run(st)
        }
    }
}

/// Runs one crank's row writes and counts them, so a test can make the crank die half-written
/// (`failAfterWrites`).
struct RowWrites {
    let failAfter: Int?
    private(set) var count = 0

    init(failAfter: Int?) { self.failAfter = failAfter }

    /// Runs `st`, or throws `InjectedFault` once `failAfter` writes have run.
    mutating func run(_ st: SQLiteStatement) throws {
        if let limit = failAfter, count >= limit {
            st.reset()
            throw InjectedFault(description: "injected fault after \(count) row writes")
        }
        try st.run()
        count += 1
    }

    /// One table's changed rows: `put` for a row the crank left, `delete` for one it removed.
    /// `key` binds the key's columns, which come first in both statements; `row` binds the
    /// rest of `put`'s.
    mutating func rows<Key, Row>(_ changes: [Key: Row?], put: SQLiteStatement, delete: SQLiteStatement,
                                 key: (SQLiteStatement, Key) -> Void, row: (SQLiteStatement, Row) throws -> Void) throws {
        for (k, r) in changes {
            if let r {
                key(put, k)
                try row(put, r)
                try run(put)
            } else {
                key(delete, k)
                try run(delete)
            }
        }
    }
}

extension SQLiteStore {
    /// The crank's hashes, in the crank's savepoint: they are durable exactly when it is.
    func write(_ h: CrankHashes, _ s: Statements) throws {
        s.putActivity.bind(1, h.crank)
        s.putActivity.bind(2, h.crankHash)
        s.putActivity.bind(3, h.activityHash)
        try s.putActivity.run()
    }
}

/// The failure a test hook injects (`failAfterWrites`, `failNextCommit`).
struct InjectedFault: Error, CustomStringConvertible {
    let description: String
}
