import VatKernel

/// One crank's delta as row writes: the counters, an upsert for every changed row and a delete
/// for every removed one (each table's mapping in `StoredTables`), the queues and the delivery
/// logs. Runs inside the crank's savepoint.
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

        for table in s.tables { try table.write(d, &w) }

        try writeQueues(d, s, &w)

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
