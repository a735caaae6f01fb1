import VatKernel

/// One crank's delta as row writes: an upsert for every changed row, a delete for every
/// removed one. Runs inside the crank's savepoint.
extension SQLiteStore {
    func write(_ d: CrankDelta, _ s: Statements) throws {
        var writes = 0
        func run(_ st: SQLiteStatement) throws {
            if let limit = failAfterWrites, writes >= limit {
                st.reset()
                throw InjectedFault(writes: writes)
            }
            try st.run()
            writes += 1
        }

        let k = d.counters
        s.putCounters.bind(1, k.nextObject)
        s.putCounters.bind(2, k.nextPromise)
        s.putCounters.bind(3, k.nextVat)
        s.putCounters.bind(4, k.nextQueueID)
        s.putCounters.bind(5, k.crank)
        try run(s.putCounters)

        for (id, object) in d.objects {
            if let o = object {
                let st = s.putObject
                st.bind(1, id)
                st.bind(2, o.owner?.description)
                st.bind(3, o.reachable)
                st.bind(4, o.recognizable)
                try run(st)
            } else {
                s.deleteObject.bind(1, id)
                try run(s.deleteObject)
            }
        }

        for (id, promise) in d.promises {
            if let p = promise {
                let st = s.putPromise
                st.bind(1, id)
                st.bind(2, p.state.rawValue)
                st.bind(3, p.decider?.description)
                st.bind(4, utf8: JSONWriter.bytes { $0.strings(p.subscribers) })
                st.bind(5, utf8: try JSONWriter.bytes { try $0.messages(p.queue) })
                st.bind(6, utf8: try p.data.map { data in try JSONWriter.bytes { try $0.capData(data) } })
                st.bind(7, p.refCount)
                try run(st)
            } else {
                s.deletePromise.bind(1, id)
                try run(s.deletePromise)
            }
        }

        for (id, vat) in d.vats {
            if let v = vat {
                let st = s.putVat
                st.bind(1, id.description)
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
                try run(st)
            } else {
                s.deleteVat.bind(1, id.description)
                try run(s.deleteVat)
            }
        }

        for (key, entry) in d.clistEntries {
            if let e = entry {
                let st = s.putCListEntry
                st.bind(1, key.vat.description)
                st.bind(2, key.kref.description)
                st.bind(3, e.vref.description)
                st.bind(4, e.reachable)
                try run(st)
            } else {
                s.deleteCListEntry.bind(1, key.vat.description)
                s.deleteCListEntry.bind(2, key.kref.description)
                try run(s.deleteCListEntry)
            }
        }

        for (key, value) in d.vatstore {
            if let value {
                s.putVatstore.bind(1, key.vat.description)
                s.putVatstore.bind(2, key.key)
                s.putVatstore.bind(3, value)
                try run(s.putVatstore)
            } else {
                s.deleteVatstore.bind(1, key.vat.description)
                s.deleteVatstore.bind(2, key.key)
                try run(s.deleteVatstore)
            }
        }

        for (name, id) in d.queueRemovals {
            s.removeQueued.bind(1, id)
            s.removeQueued.bind(2, name.rawValue)
            try run(s.removeQueued)
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
            try run(s.addQueued)
        }

        for (action, present) in d.gcActions {
            let st = present ? s.addGCAction : s.deleteGCAction
            st.bind(1, action.description)
            try run(st)
        }

        for (kref, count) in d.pins {
            if count > 0 {
                s.putPin.bind(1, kref.description)
                s.putPin.bind(2, count)
                try run(s.putPin)
            } else {
                s.deletePin.bind(1, kref.description)
                try run(s.deletePin)
            }
        }

        for (kpid, held) in d.heldResults {
            let st = held ? s.addHeld : s.deleteHeld
            st.bind(1, kpid.description)
            try run(st)
        }

        for (vat, seq) in d.droppedDeliveries {
            s.deleteDelivery.bind(1, vat.description)
            s.deleteDelivery.bind(2, seq)
            try run(s.deleteDelivery)
        }
        for (vat, record) in d.deliveries {
            let st = s.addDelivery
            st.bind(1, vat.description)
            st.bind(2, record.seq)
            st.bind(3, record.crank)
            st.bind(4, utf8: try JSONWriter.bytes { try $0.delivery(record.delivery) })
            try run(st)
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

/// The failure `failAfterWrites` injects, for tests of a crank that dies half-written.
struct InjectedFault: Error, CustomStringConvertible {
    let writes: Int
    var description: String { "injected fault after \(writes) row writes" }
}
