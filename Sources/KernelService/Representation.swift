import VatKernel

/// The JSON of kernel values, exactly as API.md fixes it. Host-side values carry krefs,
/// vat-side values (deliveries, syscall results) the vat's vrefs. A value the store writes too
/// (capdata, a message, a queued event, a syscall result) is written by the core's encoder
/// (`JSONWriter+KernelValues`, `JSONWriter+Syscalls`), so the two cannot drift.
enum Representation {
    static func capData<S: CustomStringConvertible>(_ d: CapData<S>) -> JSON {
        .encoded { try $0.capData(d) }
    }

    static func refs<S: CustomStringConvertible>(_ refs: [S]) -> JSON {
        .array(refs.map { .string($0.description) })
    }

    static func resolution(_ r: VatResolution) -> JSON {
        .object([("vpid", .string(r.vpid.description)), ("rejected", .bool(r.rejected)), ("data", capData(r.data))])
    }

    /// `{seq, crank, type, …}`.
    static func delivery(_ r: DeliveryRecord) -> JSON {
        var f: [(String, JSON)] = [("seq", .int(r.seq)), ("crank", .int(r.crank)), ("type", .string(r.delivery.typeName))]
        switch r.delivery {
        case .message(let target, let methargs, let result):
            f += [("target", .string(target.description)), ("methargs", capData(methargs)), ("result", .text(result))]
        case .notify(let resolutions):
            f.append(("resolutions", .array(resolutions.map(resolution))))
        case .dropExports(let v), .retireExports(let v), .retireImports(let v), .abandonImports(let v):
            f.append(("vrefs", refs(v)))
        case .bringOutYourDead:
            break
        case .startVat(let parameters):
            f.append(("vatParameters", capData(parameters)))
        }
        return .object(f)
    }

    static func syscallResult(_ r: SyscallResult) -> JSON {
        .encoded { $0.syscallResult(r) }
    }

    /// A queued event with its id: `send`, `notify` or `bringOutYourDead`, in krefs.
    static func event(_ e: QueuedEvent) -> JSON {
        .encoded { try $0.queuedEvent(e) }
    }

    static func crankReport(_ r: CrankReport) -> JSON {
        .object([
            ("type", .string("crank")),
            ("idle", .bool(false)),
            ("crank", .int(r.crank)),
            ("kind", .string(r.kind.rawValue)),
            ("vatID", .text(r.vat)),
            ("delivery", r.delivery.map(delivery) ?? .null),
            ("detail", .string(r.detail)),
        ])
    }

    static func vat(_ v: VatRecord, clistSize: Int, deliveryCount: Int) -> JSON {
        var termination = JSON.null
        if let t = v.termination {
            termination = .object([
                ("isFailure", .bool(t.isFailure)),
                ("reason", capData(t.info)),
                ("reasonHeld", .bool(t.reasonHeld)),
                ("crank", .int(t.crank)),
                ("cleanupDone", .bool(v.cleanedUp)),
            ])
        }
        return .object([
            ("vatID", .string(v.id.description)),
            ("name", .string(v.name.string)),
            ("status", .string(v.isAlive ? "running" : "terminated")),
            ("incarnation", .int(v.incarnation)),
            ("options", JSON(v.options)),
            ("vatParameters", capData(v.vatParameters)),
            ("clistSize", .int(clistSize)),
            ("deliveryCount", .int(deliveryCount)),
            ("deliveriesAcknowledged", .int(v.deliveriesAcknowledged)),
            ("termination", termination),
        ])
    }

    /// A c-list entry of `GET /vats/{vatID}/clist`.
    static func clistEntry(_ kref: KRef, _ e: CListEntry) -> JSON {
        .object([("kref", .string(kref.description)), ("vref", .string(e.vref.description)), ("reachable", .bool(e.reachable))])
    }

    /// The body of a page of the event log, the events copied as the store keeps them.
    static func eventsPage(_ events: [[UInt8]], next: Int?, _ page: Page) -> [UInt8] {
        var body = Array(#"{"events":["#.utf8)
        for (i, e) in events.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: e)
        }
        body.append(contentsOf: "],\"next\":\(next.map(String.init) ?? "null"),\"limit\":\(page.limit),\"maxBytes\":\(Limits.maxPageBytes)}".utf8)
        return body
    }

    /// A page of `GET /kernel/gc-actions` from `selected` (`GCActionPage.select`: at most
    /// `limit + 1`, in order).
    static func gcActionsPage(_ selected: [GCAction], _ page: GCActionPage) -> JSON {
        Representation.page("gcActions", Page(after: nil, limit: page.limit), selected,
                            item: { .string($0.description) }, cursor: { .string($0.description) })
    }

    static func holder(_ h: Holder) -> JSON {
        .object([
            ("kind", .string(h.kind.rawValue)),
            ("vatID", .text(h.vat)),
            ("vref", .text(h.vref)),
            ("via", .text(h.via)),
            ("reachable", .int(h.reachable)),
            ("recognizable", .int(h.recognizable)),
        ])
    }

    /// An object row; `holders` only where one object is shown.
    static func object(_ kref: KRef, _ o: KernelObject, pins: Int, holders: [Holder]?) -> JSON {
        var f: [(String, JSON)] = [
            ("kref", .string(kref.description)),
            ("owner", .text(o.owner)),
            ("reachable", .int(o.reachable)),
            ("recognizable", .int(o.recognizable)),
            ("pins", .int(pins)),
        ]
        if let holders { f.append(("holders", .array(holders.map(holder)))) }
        return .object(f)
    }

    static func message(_ m: Message) -> JSON {
        .encoded { try $0.message(m) }
    }

    /// A promise row; queue, data and holders only where one promise is shown.
    static func promise(_ kpid: KRef, _ p: KernelPromise, held: Bool, holders: [Holder]?) -> JSON {
        var f: [(String, JSON)] = [
            ("kpid", .string(kpid.description)),
            ("state", .string(p.state.rawValue)),
            ("decider", .text(p.decider)),
            ("subscribers", refs(p.subscribers)),
            ("refCount", .int(p.refCount)),
            ("heldByHost", .bool(held)),
        ]
        if let holders {
            f.append(("queue", .array(p.queue.map(message))))
            f.append(("data", p.data.map(capData) ?? .null))
            f.append(("holders", .array(holders.map(holder))))
        }
        return .object(f)
    }

    /// One page of a list, built the same way for every list:
    /// `{"<items>": [...], "next": cursor|null, "limit": N, "maxBytes": B}`.
    ///
    /// `candidates` are the list's elements after the cursor, in the numeric order of their
    /// cursors. The page takes at most `page.limit` of them and stops before an item that would
    /// take its items past `Limits.maxPageBytes` (it always takes the first, so paging moves on).
    /// `next` is the last item's cursor when more remain: pass it as `after`.
    static func page<S: Sequence>(_ name: String, _ page: Page, _ candidates: S,
                                  item: (S.Element) -> JSON, cursor: (S.Element) -> JSON) -> JSON {
        var items: [JSON] = []
        var bytes = 0
        var last: S.Element?
        var more = false
        for c in candidates {
            if items.count == page.limit { more = true; break }
            let j = item(c)
            let size = j.bytes.count
            if !items.isEmpty, bytes + size > Limits.maxPageBytes { more = true; break }
            items.append(j)
            bytes += size
            last = c
        }
        let next: JSON = more ? last.map(cursor) ?? .null : .null
        return .object([(name, .array(items)), ("next", next), ("limit", .int(page.limit)), ("maxBytes", .int(Limits.maxPageBytes))])
    }
}
