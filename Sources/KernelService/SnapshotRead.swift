import HTTPServer
import KernelStore
import VatKernel

/// The answer to a read (`Operation.isSnapshotRead`) from a store snapshot, on a reader thread
/// (`ReaderPool`): the same page selection and the same `Representation` as the kernel
/// thread's answer in `KernelThread.answer`, over rows read back into the kernel's values, so
/// the bytes are the same as the kernel thread would send for the same committed state.
struct SnapshotRead {
    let reader: SQLiteReader

    func answer(_ operation: Operation) throws -> HTTPResponse {
        switch operation {
        case .listVats(let page):
            return ok(try vats(page))
        case .showVat(let vat):
            return ok(try vatJSON(record(vat)))
        case .clist(let vat, let page):
            return ok(try clist(record(vat).id, page))
        case .listObjects(let owner, let page):
            return ok(try objects(owner, page))
        case .listPromises(let decider, let state, let page):
            return ok(try promises(decider, state, page))
        case .showObject(let kref), .showPromise(let kref):
            return ok(try show(kref))
        case .runQueue(let page):
            return ok(try queue(.run, page))
        case .acceptanceQueue(let page):
            return ok(try queue(.acceptance, page))
        case .gcActions(let page):
            return ok(Representation.gcActionsPage(page.select(try reader.gcActions()), page))
        case .deliveries(let vat, let page, _):
            return try deliveries(record(vat).id, page)
        case .listEvents(let filter, let page, _):
            let (events, next) = try reader.events(after: page.after ?? 0, limit: page.limit, type: filter.type, vat: filter.vat,
                                                   kref: filter.kref, maxBytes: Limits.maxPageBytes)
            return .json(200, Representation.eventsPage(events, next: next, page))
        default:
            preconditionFailure("not a snapshot read: \(operation)")
        }
    }

    private func ok(_ body: JSON) -> HTTPResponse { .json(200, body.bytes) }

    private func record(_ vat: VatID) throws -> VatRecord {
        guard let r = try reader.vat(vat) else { throw KernelError.unknownVat(vat) }
        return r
    }

    private func vatJSON(_ v: VatRecord) throws -> JSON {
        Representation.vat(v, clistSize: try reader.clistCount(v.id), deliveryCount: try reader.deliveryLog(v).count)
    }

    /// `GET /vats`: the vats numbered after the cursor, one more than the page holds.
    private func vats(_ page: Page) throws -> JSON {
        let rows = try reader.vats(after: page.after, limit: page.limit + 1).map { (id: $0.id, json: try vatJSON($0)) }
        return Representation.page("vats", page, rows, item: \.json, cursor: { .string($0.id.description) })
    }

    /// `GET /vats/{vatID}/clist`: `PageSelection.clistPositions`, testing krefs against the table.
    private func clist(_ vat: VatID, _ page: Page) throws -> JSON {
        var entries: [KRef: CListEntry] = [:]
        let positions = try PageSelection.clistPositions(page, counters: reader.counters() ?? KernelCounters(), contains: { kref in
            guard let e = try reader.clistEntry(vat, kref) else { return false }
            entries[kref] = e
            return true
        }, numbers: { try reader.clistNumbers(vat, kind: $0) })
        let krefs = positions.map(PageCursor.kref(position:))
        for kref in krefs where entries[kref] == nil {
            guard let e = try reader.clistEntry(vat, kref) else { throw KernelError.storageFailure("c-list entry \(vat) \(kref) vanished within one snapshot") }
            entries[kref] = e
        }
        return Representation.page("entries", page, krefs, item: { Representation.clistEntry($0, entries[$0]!) },
                                   cursor: { .string($0.description) })
    }

    private func objects(_ owner: OwnerFilter?, _ page: Page) throws -> JSON {
        let selection: SQLiteReader.OwnerSelection
        switch owner {
        case nil: selection = .any
        case .none?: selection = .none
        case .vat(let v)?: selection = .vat(v)
        }
        let rows = try reader.objects(after: page.after, limit: page.limit + 1, owner: selection).map { n, o in
            let kref = KRef.object(n)
            return (kref: kref, json: Representation.object(kref, o, pins: try reader.pins(kref), holders: nil))
        }
        return Representation.page("objects", page, rows, item: \.json, cursor: { .string($0.kref.description) })
    }

    private func promises(_ decider: VatID?, _ state: KernelPromise.State?, _ page: Page) throws -> JSON {
        let rows = try reader.promises(after: page.after, limit: page.limit + 1, decider: decider, state: state).map { n, p in
            let kpid = KRef.promise(n)
            return (kpid: kpid, json: Representation.promise(kpid, p, held: try reader.isHeld(kpid), holders: nil))
        }
        return Representation.page("promises", page, rows, item: \.json, cursor: { .string($0.kpid.description) })
    }

    /// `GET /objects/{kref}`, `GET /promises/{kpid}`: as `KernelThread`'s `show`, with the
    /// holders the snapshot's rows give (`SQLiteReader.holders(of:)`).
    private func show(_ kref: KRef) throws -> JSON {
        if kref.isObject {
            guard let o = try reader.object(kref.number) else { throw KernelError.unknownKRef(kref) }
            return Representation.object(kref, o, pins: try reader.pins(kref), holders: try reader.holders(of: kref))
        }
        guard let p = try reader.promise(kref.number) else { throw KernelError.unknownKRef(kref) }
        return Representation.promise(kref, p, held: try reader.isHeld(kref), holders: try reader.holders(of: kref))
    }

    private func queue(_ name: QueueName, _ page: Page) throws -> JSON {
        Representation.page("events", page, try reader.queue(name, after: page.after, limit: page.limit + 1),
                            item: Representation.event, cursor: { .int($0.id) })
    }

    private func deliveries(_ vat: VatID, _ page: Page) throws -> HTTPResponse {
        let records = DeliveryReader(after: page.after ?? 0, total: page.limit + 1) { after, limit in
            try reader.deliveries(vat, after: after, limit: limit, maxBytes: .max)
        }
        let body = Representation.page("deliveries", page, records, item: Representation.delivery, cursor: { .int($0.seq) })
        if let e = records.failure.error { throw e }
        return ok(body)
    }
}
