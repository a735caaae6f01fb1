import HTTPServer
import KernelStore
import VatKernel

/// What each operation does to the kernel, and its answer. Runs on the kernel thread only.
extension KernelThread {
    /// One request's answer, and whether the store failed while it ran (in its own crank, or
    /// in the run after it, whose failure leaves the answer standing): then nothing more of the
    /// group runs.
    struct Performed {
        var response: HTTPResponse
        var storeFailed: Bool
    }

    /// Runs the operation, then in auto mode the kernel until idle. The run follows refusals
    /// too: an illegal syscall answers 422 but has terminated the vat, whose promises' rejections
    /// are queued.
    func execute(_ operation: Operation, on kernel: Kernel) -> Performed {
        let started = ContinuousClock.now
        let crankBefore = kernel.state.counters.crank
        stepsTaken = 0
        let watched = watchedDeliveries(operation, kernel.state)
        let outcome: Result<HTTPResponse, RequestFailure>
        do {
            outcome = .success(try answer(operation, kernel))
        } catch {
            outcome = .failure(RequestFailure(error, resource: operation.resource))
        }
        // Cranks the request ran itself (not steps of the run): one per changing request at most.
        if kernel.state.counters.crank - crankBefore > stepsTaken {
            metrics.crank(kind: "host-request", duration: ContinuousClock.now - started)
            if let (vat, last) = watched, let now = kernel.state.deliveryLogs[vat]?.last, now > last {
                for record in (try? kernel.deliveries(vat, after: last)) ?? [] { metrics.delivery(record.delivery.kind) }
            }
        }
        switch outcome {
        case .failure(.storage(let message)):
            let e = ServiceError.storageFailure(message)
            log(e.message)
            return Performed(response: e.response, storeFailed: true)
        case .failure(.refused(let e)):
            let runFailed = operation.changesState && runMode == .auto && !runUntilIdle(kernel)
            return Performed(response: e.response, storeFailed: runFailed)
        case .success(let response):
            let runFailed = operation.changesState && runMode == .auto && !runUntilIdle(kernel)
            // A terminated vat is shown as it is after the run, with its cleanup (if any) done.
            if case .terminate(let vat, _) = operation, let record = kernel.state.vats[vat] {
                return Performed(response: ok(vatJSON(record, kernel.state)), storeFailed: runFailed)
            }
            return Performed(response: response, storeFailed: runFailed)
        }
    }

    /// Auto mode: run until idle, at most `maxCranksPerRequest` cranks. The request's own
    /// change is already committed, so its answer stands whatever happens here: a halt just
    /// stops the run, and a store failure stops the group: false then.
    private func runUntilIdle(_ kernel: Kernel) -> Bool {
        var n = 0
        while n < configuration.maxCranksPerRequest {
            do {
                guard try step(kernel) != nil else { return true }
            } catch .halted(let reason) {
                log("kernel halted: \(reason)")
                return true
            } catch {
                log("store failure while running the kernel: \(error)")
                return false
            }
            n += 1
        }
        return true
    }

    private func answer(_ operation: Operation, _ kernel: Kernel) throws -> HTTPResponse {
        let state = kernel.state
        switch operation {
        case .kernelSummary:
            return ok(summaryJSON(kernel))
        case .probe, .streamEvents, .streamDeliveries:
            // Answered on the loop thread, or taken by `startStream`, before anything runs: never performed.
            throw ServiceError.shuttingDown
        case .listEvents(let filter, let page, _):
            return try eventsPage(filter, page)
        case .step:
            guard let report = try step(kernel) else { return ok(.object([("type", .string("idle")), ("idle", .bool(true))])) }
            return ok(Representation.crankReport(report))
        case .run(let maxCranks):
            return try run(maxCranks, kernel)
        case .getRunMode:
            return ok(.object([("mode", .string(runMode.rawValue))]))
        case .setRunMode(let mode):
            runMode = mode
            return ok(.object([("mode", .string(mode.rawValue))]))
        case .runQueue(let page):
            return ok(events(state.runQueue, page))
        case .acceptanceQueue(let page):
            return ok(events(state.acceptanceQueue, page))
        case .gcActions(let page):
            return ok(Representation.gcActionsPage(page.select(state.gcActions), page))
        case .audit:
            return ok(.array(kernel.audit().map(Self.auditProblem)))
        case .createVat(let name, let options, let parameters):
            return try createVat(name: name, options: options, parameters: parameters, kernel)
        case .listVats(let page):
            return ok(vats(state, page))
        case .showVat(let vat):
            return ok(vatJSON(try record(vat, state), state))
        case .clist(let vat, let page):
            return ok(clist(try record(vat, state).id, page, state))
        case .deliveries(let vat, let page, _):
            return try deliveriesPage(try record(vat, state).id, page)
        case .syscalls(let vat, let batch):
            return try syscalls(vat, batch, kernel)
        case .addExport(let vat, let vref):
            let kref = try kernel.addExport(vat: vat, vref: vref)
            return ok(.object([("kref", .string(kref.description))]))
        case .bringOutYourDead(let vat):
            try kernel.bringOutYourDead(vat)
            return response(202, .object([("vatID", .string(vat.description))]))
        case .upgrade(let vat, let request):
            return try upgrade(vat, request, kernel)
        case .terminate(let vat, let reason):
            try kernel.terminate(vat, reason: reason)
            return ok(vatJSON(try record(vat, kernel.state), kernel.state))
        case .acknowledgeDeliveries(let vat, let through):
            return ok(acknowledged(try kernel.acknowledgeDeliveries(vat, through: through, drop: !configuration.keepDeliveries)))
        case .releaseTerminationReason(let vat):
            try kernel.releaseTerminationReason(vat)
            return ok(vatJSON(try record(vat, kernel.state), kernel.state))
        case .reconsider(let krefs):
            return ok(Self.reconsidered(try kernel.reconsider(krefs)))
        case .send(let target, let methargs, let policy):
            let result = try kernel.queueToKref(target: target, methargs: methargs, result: policy)
            return response(202, .object([("result", .text(result))]))
        case .listObjects(let owner, let page):
            return try listObjects(owner: owner, page, state)
        case .listPromises(let decider, let promiseState, let page):
            return try listPromises(decider: decider, promiseState: promiseState, page, state)
        case .showObject(let kref), .showPromise(let kref):
            return ok(try show(kref, kernel))
        case .pin(let kref):
            try kernel.pin(kref)
            return ok(pinsJSON(kref, kernel.state))
        case .unpin(let kref):
            try kernel.unpin(kref)
            return ok(pinsJSON(kref, kernel.state))
        case .releaseResult(let kpid):
            try kernel.releaseResult(kpid)
            return ok(.object([("kpid", .string(kpid.description)), ("heldByHost", .bool(false))]))
        }
    }

    // MARK: Answers

    private static func auditProblem(_ p: AuditProblem) -> JSON {
        .object([("kref", .text(p.kref)), ("message", .string(p.message)), ("kind", .string(p.kind.rawValue))])
    }

    /// `POST /kernel/gc/reconsider`: what the crank collected and the GC actions it added.
    private static func reconsidered(_ outcome: ReconsiderOutcome) -> JSON {
        .object([
            ("collected", .array(outcome.collected.map { .string($0.description) })),
            ("gcActions", .array(outcome.gcActions.map { .string($0.description) })),
        ])
    }

    /// `GET /objects/{kref}`, `GET /promises/{kpid}`: the object or promise, with its holders.
    private func show(_ kref: KRef, _ kernel: Kernel) throws(KernelError) -> JSON {
        let state = kernel.state
        if kref.isObject {
            guard let o = state.objects[kref.number] else { throw KernelError.unknownKRef(kref) }
            return Representation.object(kref, o, pins: state.pins[kref] ?? 0, holders: kernel.holders(of: kref))
        }
        guard let p = state.promises[kref.number] else { throw KernelError.unknownKRef(kref) }
        return Representation.promise(kref, p, held: state.heldResults.contains(kref), holders: kernel.holders(of: kref))
    }

    private func acknowledged(_ r: (acknowledged: Int, dropped: Int)) -> JSON {
        .object([("acknowledged", .int(r.acknowledged)), ("dropped", .int(r.dropped))])
    }

    /// An object's host pins, after a pin or unpin.
    private func pinsJSON(_ kref: KRef, _ state: KernelState) -> JSON {
        .object([("kref", .string(kref.description)), ("pins", .int(state.pins[kref] ?? 0))])
    }

    /// `POST /kernel/run`: up to `maxCranks` cranks; a halt on the way says how many ran.
    private func run(_ maxCranks: Int, _ kernel: Kernel) throws -> HTTPResponse {
        var n = 0
        do {
            while n < maxCranks, try step(kernel) != nil { n += 1 }
        } catch {
            guard case .halted = error else { throw error }
            var e = ServiceError(error)
            e.details.append(("cranks", .int(n)))
            throw e
        }
        return ok(.object([("cranks", .int(n)), ("idle", .bool(kernel.isIdle))]))
    }

    /// `POST /vats`: the new vat, with its token (shown this once).
    private func createVat(name: ByteString, options: JSONValue, parameters: CapData<KRef>, _ kernel: Kernel) throws -> HTTPResponse {
        // The token's hash is kernel input, kept in the vat's record and durable with its
        // creation; the service accepts the token once the group is committed.
        let token = Credentials.newToken()
        let created = try kernel.createVat(name: name, options: options, vatParameters: parameters,
                                           tokenHash: TokenHash.digest(token.utf8))
        let vat = created.vatID
        var r = response(201, .object([
            ("vatID", .string(vat.description)),
            ("name", .string(name.string)),
            ("rootKref", .string(created.rootKref.description)),
            ("incarnation", .int(created.incarnation)),
            ("token", .string(token)),
        ]))
        r.headers.append(("Location", "/vats/\(vat)"))
        return r
    }

    /// `POST /vats/{vatID}/syscalls`: the batch as one crank; an illegal syscall is a 422 (the vat is dead).
    private func syscalls(_ vat: VatID, _ batch: [Syscall], _ kernel: Kernel) throws -> HTTPResponse {
        switch try kernel.syscalls(batch, from: vat) {
        case .committed(let results):
            tookEffect(batch[...])
            return ok(.object([("type", .string("ran")), ("results", .array(results.map(Representation.syscallResult)))]))
        case .exited(let isFailure, let results):
            if !isFailure { tookEffect(batch[...]) }
            return ok(.object([
                ("type", .string("exited")),
                ("exited", .bool(true)),
                ("isFailure", .bool(isFailure)),
                ("results", .array(results.map(Representation.syscallResult))),
            ]))
        case .illegal(let index, let syscall, let problem):
            metrics.illegalSyscall()
            log("vat \(vat) terminated by an illegal syscall: syscall \(index) (\(syscall)): \(problem)")
            throw ServiceError.illegalSyscall(index: index, syscall: syscall, problem: problem, vat: vat)
        }
    }

    /// `POST /vats/{vatID}/upgrade`: the new incarnation, or a 422 when it failed and was rolled back.
    private func upgrade(_ vat: VatID, _ request: UpgradeRequest, _ kernel: Kernel) throws -> HTTPResponse {
        // What the upgrade abandons: the old incarnation's non-durable exports but its root.
        let abandoned = (kernel.state.clists[vat]?.byKRef ?? [:]).values.filter { $0.vref.isExport && !$0.vref.isDurable && $0.vref != .root }.count
        switch try kernel.upgrade(vat, request) {
        case .upgraded(let incarnation):
            metrics.upgrade("upgraded")
            tookEffect(request.boydSyscalls[...])
            tookEffect(request.startVatSyscalls[...])
            metrics.exportsAbandoned(abandoned)
            metrics.orphansCreated(abandoned)
            return ok(.object([("vatID", .string(vat.description)), ("incarnation", .int(incarnation))]))
        case .failed(let reason):
            metrics.upgrade("failed")
            throw ServiceError.upgradeFailed(reason: reason)
        }
    }

    /// `GET /objects`: a page, by number, of those `owner` selects.
    private func listObjects(owner: OwnerFilter?, _ page: Page, _ state: KernelState) throws -> HTTPResponse {
        func matches(_ n: Int) -> Bool {
            guard let o = state.objects[n] else { return false }
            switch owner {
            case nil: return true
            case .none?: return o.owner == nil
            case .vat(let v)?: return o.owner == v
            }
        }
        let numbers = PageSelection.first(page.limit + 1, after: page.after, below: state.counters.nextObject,
                                          contains: matches, all: state.objects.rows.keys.lazy.filter(matches))
        return ok(Representation.page("objects", page, numbers.lazy.map(KRef.object), item: { kref in
            Representation.object(kref, state.objects[kref.number]!, pins: state.pins[kref] ?? 0, holders: nil)
        }, cursor: { .string($0.description) }))
    }

    /// `GET /promises`: a page, by number, of those the filters select.
    private func listPromises(decider: VatID?, promiseState: KernelPromise.State?, _ page: Page, _ state: KernelState) throws -> HTTPResponse {
        func matches(_ n: Int) -> Bool {
            guard let p = state.promises[n] else { return false }
            if let decider, p.decider != decider { return false }
            if let promiseState, p.state != promiseState { return false }
            return true
        }
        let numbers = PageSelection.first(page.limit + 1, after: page.after, below: state.counters.nextPromise,
                                          contains: matches, all: state.promises.rows.keys.lazy.filter(matches))
        return ok(Representation.page("promises", page, numbers.lazy.map(KRef.promise), item: { kpid in
            Representation.promise(kpid, state.promises[kpid.number]!, held: state.heldResults.contains(kpid), holders: nil)
        }, cursor: { .string($0.description) }))
    }

    // MARK: Metrics

    /// One crank of the run, timed and counted by its report.
    private func step(_ kernel: Kernel) throws(KernelError) -> CrankReport? {
        let started = ContinuousClock.now
        guard let report = try kernel.step() else { return nil }
        stepsTaken += 1
        metrics.crank(kind: report.kind.rawValue, duration: ContinuousClock.now - started)
        if let d = report.delivery { metrics.delivery(d.delivery.kind) }
        switch report.note {
        case .gcDelivery(let kind, let krefs): metrics.gcActions(kind.name, count: krefs.count)
        case .cleanup(_, let orphaned, _, _, _): metrics.orphansCreated(orphaned)
        default: break
        }
        return report
    }

    /// Counts syscalls that took effect, and the exports `abandonExports` orphaned.
    private func tookEffect(_ batch: ArraySlice<Syscall>) {
        metrics.syscalls(batch)
        var abandoned = 0
        for case .abandonExports(let vrefs) in batch { abandoned += vrefs.count }
        if abandoned > 0 {
            metrics.exportsAbandoned(abandoned)
            metrics.orphansCreated(abandoned)
        }
    }

    /// The vat whose log a host request may append to in its own crank (its `startVat`, an
    /// upgrade's two deliveries), with the log's last seq before.
    private func watchedDeliveries(_ operation: Operation, _ state: KernelState) -> (VatID, Int)? {
        switch operation {
        case .createVat: return (VatID(state.counters.nextVat), 0)
        case .upgrade(let vat, _): return (vat, state.deliveryLogs[vat]?.last ?? 0)
        default: return nil
        }
    }

    // MARK: Pieces

    /// `{"events":[…],"next":seq|null,"limit":N,"maxBytes":B}`, the page shape of every list,
    /// the events copied as the store keeps them; a page stops before `Limits.maxPageBytes`.
    func eventsPage(_ filter: EventFilter, _ page: Page) throws -> HTTPResponse {
        let (events, next) = try loggedEvents(filter, after: page.after ?? 0, limit: page.limit, maxBytes: Limits.maxPageBytes)
        return .json(200, Representation.eventsPage(events, next: next, page))
    }

    /// Events of the log after `after` that pass `filter` (none without a SQLite store): the
    /// one read of the log behind pages, waits and streams.
    func loggedEvents(_ filter: EventFilter, after: Int, limit: Int, maxBytes: Int) throws -> (events: [[UInt8]], next: Int?) {
        guard let store = storage as? SQLiteStore else { return ([], nil) }
        return try store.events(after: after, limit: limit, type: filter.type, vat: filter.vat, kref: filter.kref, maxBytes: maxBytes)
    }

    func summaryJSON(_ kernel: Kernel) -> JSON {
        let s = kernel.state
        let running = s.vats.rows.values.reduce(0) { $0 + ($1.isAlive ? 1 : 0) }
        // The store's hashes are those of the last crank, which the kernel's state is at.
        let hashes = (storage as? SQLiteStore)?.hashes.flatMap { $0.crank == s.counters.crank ? $0 : nil }
        return .object([
            ("crank", .int(s.counters.crank)),
            ("crankHash", .orNull(hashes?.crankHash)),
            ("activityHash", .orNull(hashes?.activityHash)),
            ("runMode", .string(runMode.rawValue)),
            ("halted", .orNull(kernel.haltedReason)),
            ("idle", .bool(kernel.isIdle)),
            ("queues", .object([
                ("acceptance", .int(s.acceptanceQueue.count)),
                ("run", .int(s.runQueue.count)),
                ("reap", .int(s.reapQueue.count)),
            ])),
            ("gcActions", .int(s.gcActions.count)),
            ("vats", .int(s.vats.count)),
            ("runningVats", .int(running)),
            ("objects", .int(s.objects.count)),
            ("promises", .int(s.promises.count)),
            ("store", .object([("path", .string(configuration.storePath)), ("durability", .orNull(configuration.durability))])),
        ])
    }

    private func ok(_ body: JSON) -> HTTPResponse { response(200, body) }

    private func response(_ status: Int, _ body: JSON) -> HTTPResponse { .json(status, body.bytes) }

    private func record(_ vat: VatID, _ state: KernelState) throws -> VatRecord {
        guard let r = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        return r
    }

    private func vatJSON(_ v: VatRecord, _ state: KernelState) -> JSON {
        Representation.vat(v, clistSize: state.clists[v.id]?.count ?? 0, deliveryCount: state.deliveryLogs[v.id]?.count ?? 0)
    }

    /// One page of a vat's delivery log (`after` to `limit`), for `GET /vats/{vatID}/deliveries`.
    func deliveriesPage(_ vat: VatID, _ page: Page) throws -> HTTPResponse {
        let records = DeliveryReader(kernel: kernel, vat: vat, after: page.after ?? 0, total: page.limit + 1)
        let body = Representation.page("deliveries", page, records, item: Representation.delivery, cursor: { .int($0.seq) })
        if let e = records.failure.error { throw e }
        return ok(body)
    }

    /// One page of the vats, by number (`VatTable` iterates in that order).
    private func vats(_ state: KernelState, _ page: Page) -> JSON {
        let vats = state.vats.lazy.filter { v in page.after.map { v.key.number > $0 } ?? true }
        return Representation.page("vats", page, vats, item: { vatJSON($0.value, state) }, cursor: { .string($0.key.description) })
    }

    /// One page of a c-list: objects by number, then promises by number (`PageSelection`, so
    /// never a sort of the whole c-list).
    private func clist(_ vat: VatID, _ page: Page, _ state: KernelState) -> JSON {
        let clist = state.clists[vat] ?? CList()
        let positions = PageSelection.clistPositions(page, counters: state.counters, contains: { clist[$0] != nil },
                                                     numbers: { kind in clist.byKRef.keys.filter { $0.kind == kind }.map(\.number) })
        return Representation.page("entries", page, positions.lazy.map(PageCursor.kref(position:)), item: { kref in
            Representation.clistEntry(kref, clist[kref]!)
        }, cursor: { .string($0.description) })
    }

    /// One page of a queue, in queue order (ids increase along it).
    private func events(_ queue: FIFO<QueuedEvent>, _ page: Page) -> JSON {
        let after = queue.elements.lazy.filter { e in page.after.map { e.id > $0 } ?? true }
        return Representation.page("events", page, after, item: Representation.event, cursor: { .int($0.id) })
    }
}
