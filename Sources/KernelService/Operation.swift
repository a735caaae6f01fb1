import Algorithms
import KernelStore
import VatKernel

/// How the kernel is driven between requests (KERNEL-SPEC §13.3).
public enum RunMode: String, Sendable, CaseIterable {
    /// After every request that changes state, run until idle (bounded per request).
    case auto
    /// Queued work waits for `POST /kernel/step` or `POST /kernel/run`.
    case manual
}

/// Which objects `GET /objects?owner=` lists.
enum OwnerFilter: Equatable {
    case vat(VatID)
    /// `owner=none`: orphans.
    case none
}

/// One page of a list: entries strictly after `after`, at most `limit` of them.
struct Page: Equatable {
    /// The cursor's place in the list's numeric order: a number (a sequence number, an id, the
    /// number of a kref or vat ID), or for a c-list `PageCursor.anyKRef.position(_:)`.
    var after: Int?
    var limit: Int
}

/// A page of `GET /kernel/gc-actions`: the actions after `after`, at most `limit` of them, in
/// the order of the set itself. KERNEL-SPEC §2 makes `gcActions` a set of strings sorted as
/// plain strings (`v10` before `v2`, `ko100` before `ko21`), and §12 counts that order among
/// those that affect logs, so the list keeps it, as it did before it was paged; the cursor is
/// an action itself (`v1 dropExport ko23`).
struct GCActionPage: Equatable {
    var after: GCAction?
    var limit: Int

    /// The page's actions out of the whole set (in any order), without sorting all of it:
    /// the first `limit + 1`, so that the page knows whether more follow.
    func select<S: Sequence<GCAction>>(_ all: S) -> [GCAction] {
        all.lazy.filter { a in after.map { $0 < a } ?? true }.min(count: limit + 1)
    }
}

/// Which events `GET /events` and `GET /events/stream` show: all, or those of one type, about
/// one vat, mentioning one kref (any of them given must match).
struct EventFilter: Equatable {
    var type: String?
    var vat: VatID?
    /// Every event that mentions it: one object's or promise's life story.
    var kref: KRef?
}

/// What a list's `after` names; every list is in the numeric order of its cursors.
enum PageCursor {
    /// A sequence number or queue id.
    case number
    /// A kref of one kind (`koN`, `kpN`).
    case kref(KRef.Kind)
    /// A kref of any kind: c-list entries, objects (by number) before promises.
    case anyKRef
    /// A vat ID (`vN`).
    case vat

    /// A c-list entry's place: kind first, then number.
    static func position(_ k: KRef) -> Int { Int(k.kind.rawValue) << 56 | k.number }

    /// The kref at a c-list position (`position(_:)`).
    static func kref(position: Int) -> KRef {
        KRef(KRef.Kind(rawValue: UInt8(position >> 56))!, position & (1 << 56 - 1))
    }
}

/// `GET /healthz`, `/version`, `/readyz` and `/metrics`: what a prober or scraper asks, answered
/// by the loop thread itself, so that they answer while the kernel is busy or not ready.
enum Probe: Equatable {
    case health, version, readiness, metrics
}

/// A request, fully parsed and validated on the loop thread: what the kernel thread runs.
/// Nothing here can be malformed any more; what remains are the kernel's own rules.
enum Operation: Equatable {
    case kernelSummary
    /// Answered on the loop thread, never queued, ready or not.
    case probe(Probe)
    case step
    case run(maxCranks: Int)
    case getRunMode
    case setRunMode(RunMode)
    case runQueue(Page)
    case acceptanceQueue(Page)
    case gcActions(GCActionPage)
    case audit

    case createVat(name: ByteString, options: JSONValue, vatParameters: CapData<KRef>)
    case listVats(Page)
    case showVat(VatID)
    case clist(VatID, Page)
    /// With `wait` > 0 seconds, answered as soon as a delivery after `after` is durable.
    case deliveries(VatID, Page, wait: Int)
    case syscalls(VatID, [Syscall])
    case addExport(VatID, VRef)
    case bringOutYourDead(VatID)
    case upgrade(VatID, UpgradeRequest)
    case terminate(VatID, reason: String)
    case releaseTerminationReason(VatID)
    case acknowledgeDeliveries(VatID, through: Int)
    case reconsider([KRef])

    case send(target: KRef, methargs: CapData<KRef>, result: ResultPolicy)
    case listObjects(owner: OwnerFilter?, Page)
    case listPromises(decider: VatID?, state: KernelPromise.State?, Page)
    /// `GET /events`: a page of the event log, filtered; with `wait` > 0 seconds, answered as
    /// soon as such an event exists, or empty when the wait ends.
    case listEvents(EventFilter, Page, wait: Int)
    /// `GET /events/stream`: every durable event after `after` that passes the filter, then
    /// each one as it is committed, as Server-Sent Events.
    case streamEvents(EventFilter, after: Int)
    /// `GET /vats/{vatID}/deliveries/stream`: the same for a vat's deliveries.
    case streamDeliveries(VatID, after: Int)
    case showObject(KRef)
    case showPromise(KRef)
    case pin(KRef)
    case unpin(KRef)
    case releaseResult(KRef)

    /// The object or promise the request's path names, if any.
    var resource: KRef? {
        switch self {
        case .showObject(let k), .showPromise(let k), .pin(let k), .unpin(let k), .releaseResult(let k): return k
        default: return nil
        }
    }

    /// True for a read that the last committed state answers alone, which a reader thread can
    /// serve from the store (`ReaderPool`) instead of the kernel thread. Not: `GET /kernel`
    /// (the loop thread answers it from the summary the kernel thread publishes, run mode and
    /// idleness included), the run mode (kept only in memory), the audit (it recomputes every
    /// count from the whole state in memory), long polls (`?wait=`) and streams, which wait for
    /// cranks to come. One object or promise is a snapshot read: its holders come from the
    /// rows that hold it (`SQLiteReader.holders(of:)`).
    var isSnapshotRead: Bool {
        switch self {
        case .listVats, .showVat, .clist, .listObjects, .listPromises, .showObject, .showPromise, .runQueue, .acceptanceQueue,
             .gcActions:
            return true
        case .deliveries(_, _, let wait), .listEvents(_, _, let wait):
            return wait == 0
        default:
            return false
        }
    }

    /// True when the operation asks for a change: the kernel runs afterwards in auto mode.
    var changesState: Bool {
        switch self {
        case .kernelSummary, .probe, .getRunMode, .runQueue, .acceptanceQueue, .gcActions, .audit, .listVats, .showVat,
             .clist, .deliveries, .listObjects, .listPromises, .showObject, .showPromise, .listEvents, .streamEvents, .streamDeliveries:
            return false
        default:
            return true
        }
    }
}

/// Limits of the request grammar, shared by the parser and openapi.yaml.
enum Limits {
    /// Default and largest page of any list.
    static let defaultPageSize = 100
    /// The longest `GET /events?wait=`, in seconds.
    static let maxEventWait = 60
    /// The event types the log holds (`GET /events?type=`).
    static let eventTypes = SQLiteStore.eventTypes
    static let maxPageSize = 1000
    /// Most bytes of items one page holds (each page has at least one item, so paging always
    /// moves on): a page of big delivery bodies stops here even below its `limit`.
    static let maxPageBytes = 1 << 20
    /// Longest vat name, in Unicode scalars (what JSON Schema's maxLength counts).
    static let maxNameLength = 256
    /// Largest `maxCranks` a request may name (each request runs at most
    /// `KernelServiceConfiguration.maxCranksPerRequest` of them).
    static let maxCranksAsked = 1_000_000_000
    /// Largest number in a vat ID, a kref, or a sequence-number cursor: 15 digits, so the
    /// grammar is a plain pattern in openapi.yaml and safely inside the core's own ranges.
    static let maxNumber = 999_999_999_999_999
    /// Largest id or instance in a vref (12 digits) and largest facet (4 digits).
    static let maxVRefNumber = 999_999_999_999
    static let maxFacet = 9_999

    static func accepts(_ v: VatID) -> Bool { v.number <= maxNumber }
    static func accepts(_ k: KRef) -> Bool { k.kind != .device && k.number <= maxNumber }
    static func accepts(_ r: VRef) -> Bool {
        r.id <= maxVRefNumber && r.instance <= maxVRefNumber && r.facet <= maxFacet
    }
}

extension Operation {
    /// Parses a request for `resource` (whose method is already known to be allowed).
    /// Throws the 400 (or 413) that says what is wrong; never touches the kernel.
    /// `lastEventID`: the request's `Last-Event-ID` header, where a resuming stream starts.
    static func parse(_ resource: Resource, method: String, query: [String: String], body: [UInt8],
                      maxSyscalls: Int, maxRunCranks: Int, lastEventID: String? = nil) throws(ServiceError) -> Operation {
        switch resource {
        case .healthz:
            return .probe(.health)
        case .version:
            return .probe(.version)
        case .readyz:
            return .probe(.readiness)
        case .metrics:
            return .probe(.metrics)
        case .kernel:
            return .kernelSummary
        case .kernelStep:
            try emptyObject(body)
            return .step
        case .kernelRun:
            return try run(body: body, maxRunCranks: maxRunCranks)
        case .kernelRunMode:
            return try runMode(method: method, body: body)
        case .kernelRunQueue:
            return .runQueue(try page(query))
        case .kernelAcceptanceQueue:
            return .acceptanceQueue(try page(query))
        case .kernelGCActions:
            return .gcActions(try gcActionPage(query))
        case .kernelAudit:
            return .audit
        case .kernelGCReconsider:
            return try reconsider(body: body)
        case .vats:
            return try vats(method: method, query: query, body: body)
        case .vat(let id):
            return .showVat(try vatID(id))
        case .vatCList(let id):
            return .clist(try vatID(id), try page(query, cursor: .anyKRef))
        case .vatDeliveries(let id):
            return .deliveries(try vatID(id), try page(query), wait: try wait(query))
        case .vatDeliveriesStream(let id):
            return .streamDeliveries(try vatID(id), after: try streamStart(query, lastEventID: lastEventID))
        case .eventsStream:
            return .streamEvents(try eventFilter(query), after: try streamStart(query, lastEventID: lastEventID))
        case .vatSyscalls(let id):
            return try syscalls(id, body: body, maxSyscalls: maxSyscalls)
        case .vatExports(let id):
            return try export(id, body: body)
        case .vatBringOutYourDead(let id):
            let vat = try vatID(id)
            try emptyObject(body)
            return .bringOutYourDead(vat)
        case .vatUpgrade(let id):
            return try upgrade(id, body: body, maxSyscalls: maxSyscalls)
        case .vatTerminate(let id):
            return try terminate(id, body: body)
        case .vatDeliveriesAck(let id):
            return try acknowledgement(id, body: body)
        case .vatTerminationHold(let id):
            return .releaseTerminationReason(try vatID(id))
        case .messages:
            return try send(body: body)
        case .objects:
            return try objects(query: query)
        case .events:
            return .listEvents(try eventFilter(query), try page(query), wait: try wait(query))
        case .promises:
            return try promises(query: query)
        case .object(let k):
            return .showObject(try kref(k, .object))
        case .objectPin(let k):
            return try pin(k, method: method, body: body)
        case .promise(let k):
            return .showPromise(try kref(k, .promise))
        case .promiseHold(let k):
            return .releaseResult(try kref(k, .promise))
        }
    }

    // MARK: Endpoints

    /// `POST /kernel/run`.
    static func run(body: [UInt8], maxRunCranks: Int) throws(ServiceError) -> Operation {
        var f = try Fields(try json(body, emptyIs: .object([:])), path: "")
        let n = try f.optionalInt("maxCranks") ?? maxRunCranks
        try f.finish()
        guard (1...Limits.maxCranksAsked).contains(n) else {
            throw .invalidField("maxCranks", "must be between 1 and \(Limits.maxCranksAsked)")
        }
        // More than one request may run is not an error: the answer says the kernel is not idle.
        return .run(maxCranks: min(n, maxRunCranks))
    }

    /// `GET` and `PUT /kernel/run-mode`.
    static func runMode(method: String, body: [UInt8]) throws(ServiceError) -> Operation {
        if method == "GET" { return .getRunMode }
        var f = try Fields(try json(body), path: "")
        let s = try f.string("mode")
        try f.finish()
        guard let mode = RunMode(rawValue: s) else { throw .invalidField("mode", "must be \"auto\" or \"manual\"") }
        return .setRunMode(mode)
    }

    /// `POST /kernel/gc/reconsider`.
    static func reconsider(body: [UInt8]) throws(ServiceError) -> Operation {
        var f = try Fields(try json(body), path: "")
        let raw = try f.array("krefs")
        try f.finish()
        guard !raw.isEmpty, raw.count <= Limits.maxPageSize else {
            throw .invalidField("krefs", "must name 1 to \(Limits.maxPageSize) krefs")
        }
        var krefs: [KRef] = []
        for (n, v) in raw.enumerated() {
            krefs.append(try Fields.kref(v, "krefs[\(n)]"))
        }
        return .reconsider(krefs)
    }

    /// `GET /vats` (a page) and `POST /vats` (a new vat).
    static func vats(method: String, query: [String: String], body: [UInt8]) throws(ServiceError) -> Operation {
        if method == "GET" { return .listVats(try page(query, cursor: .vat)) }
        var f = try Fields(try json(body), path: "")
        let name = try f.string("name")
        guard !name.isEmpty, name.unicodeScalars.count <= Limits.maxNameLength else {
            throw .invalidField("name", "must be 1 to \(Limits.maxNameLength) characters")
        }
        let options = f.optional("options") ?? .object([:])
        guard case .object = options else { throw .invalidField("options", "must be a JSON object") }
        // The options the kernel reads (KERNEL-SPEC §7, §13.8); a mistyped value would silently mean false.
        for option in ["enablePipelining", "receiveAbandonImport"] {
            if let value = options[option] { _ = try Fields.bool(value, "options.\(option)") }
        }
        let parameters = try f.optional("vatParameters").map { v throws(ServiceError) in
            try Fields.capData(v, "vatParameters", slot: Fields.kref)
        } ?? CapData(body: .null)
        try f.finish()
        return .createVat(name: ByteString(name), options: options, vatParameters: parameters)
    }

    /// `POST /vats/{vatID}/syscalls`.
    static func syscalls(_ id: String, body: [UInt8], maxSyscalls: Int) throws(ServiceError) -> Operation {
        let vat = try vatID(id)
        var f = try Fields(try json(body), path: "")
        let raw = try f.array("syscalls")
        try f.finish()
        return .syscalls(vat, try syscalls(raw, field: "syscalls", max: maxSyscalls))
    }

    /// `POST /vats/{vatID}/exports`.
    static func export(_ id: String, body: [UInt8]) throws(ServiceError) -> Operation {
        let vat = try vatID(id)
        var f = try Fields(try json(body), path: "")
        let vref = try Fields.vref(try f.required("vref"), "vref")
        try f.finish()
        guard vref.isExport else { throw .invalidField("vref", "must be an object export (o+…)") }
        return .addExport(vat, vref)
    }

    /// `POST /vats/{vatID}/upgrade`.
    static func upgrade(_ id: String, body: [UInt8], maxSyscalls: Int) throws(ServiceError) -> Operation {
        let vat = try vatID(id)
        var f = try Fields(try json(body, emptyIs: .object([:])), path: "")
        var request = UpgradeRequest()
        if let v = f.optional("vatParameters") { request.vatParameters = try Fields.capData(v, "vatParameters", slot: Fields.kref) }
        request.upgradeMessage = try f.optionalString("upgradeMessage") ?? ""
        if let raw = try f.optionalArray("boydSyscalls") {
            request.boydSyscalls = try syscalls(raw, field: "boydSyscalls", max: maxSyscalls)
        }
        if let raw = try f.optionalArray("startVatSyscalls") {
            request.startVatSyscalls = try syscalls(raw, field: "startVatSyscalls", max: maxSyscalls)
        }
        request.startVatFails = try f.optionalBool("startVatFails") ?? false
        try f.finish()
        return .upgrade(vat, request)
    }

    /// `POST /vats/{vatID}/terminate`.
    static func terminate(_ id: String, body: [UInt8]) throws(ServiceError) -> Operation {
        let vat = try vatID(id)
        var f = try Fields(try json(body, emptyIs: .object([:])), path: "")
        let reason = try f.optionalString("reason") ?? "terminated by the host"
        try f.finish()
        return .terminate(vat, reason: reason)
    }

    /// `POST /vats/{vatID}/deliveries/ack`.
    static func acknowledgement(_ id: String, body: [UInt8]) throws(ServiceError) -> Operation {
        let vat = try vatID(id)
        var f = try Fields(try json(body), path: "")
        let through = try Fields.int(try f.required("through"), "through")
        try f.finish()
        guard (0...Limits.maxNumber).contains(through) else {
            throw .invalidField("through", "must be a delivery seq between 0 and \(Limits.maxNumber)")
        }
        return .acknowledgeDeliveries(vat, through: through)
    }

    /// `POST /messages`.
    static func send(body: [UInt8]) throws(ServiceError) -> Operation {
        var f = try Fields(try json(body), path: "")
        let target = try Fields.kref(try f.required("target"), "target")
        let methargs = try Fields.methargs(try f.required("methargs"), "methargs", slot: Fields.kref)
        let policyText = try f.optionalString("result") ?? "none"
        try f.finish()
        guard let policy = ResultPolicy(rawValue: policyText) else {
            throw .invalidField("result", "must be \"none\", \"keep\" or \"ignore\"")
        }
        return .send(target: target, methargs: methargs, result: policy)
    }

    /// `GET /objects`.
    static func objects(query: [String: String]) throws(ServiceError) -> Operation {
        var owner: OwnerFilter?
        if let o = query["owner"] {
            if o == "none" {
                owner = OwnerFilter.none
            } else if let v = VatID(o), Limits.accepts(v) {
                owner = .vat(v)
            } else {
                throw .invalidParameter("owner", "\"\(o)\" is neither a vat ID (v1, v2, …) nor \"none\"")
            }
        }
        return .listObjects(owner: owner, try page(query, cursor: .kref(.object)))
    }

    /// `GET /promises`.
    static func promises(query: [String: String]) throws(ServiceError) -> Operation {
        var decider: VatID?
        if let d = query["decider"] {
            guard let v = VatID(d), Limits.accepts(v) else { throw .invalidParameter("decider", "\"\(d)\" is not a vat ID (v1, v2, …)") }
            decider = v
        }
        var state: KernelPromise.State?
        if let s = query["state"] {
            guard let st = KernelPromise.State(rawValue: s) else {
                throw .invalidParameter("state", "must be unresolved, fulfilled or rejected")
            }
            state = st
        }
        return .listPromises(decider: decider, state: state, try page(query, cursor: .kref(.promise)))
    }

    /// `POST` and `DELETE /objects/{kref}/pin`.
    static func pin(_ k: String, method: String, body: [UInt8]) throws(ServiceError) -> Operation {
        let kref = try kref(k, .object)
        if method == "POST" {
            try emptyObject(body)
            return .pin(kref)
        }
        return .unpin(kref)
    }

    // MARK: Pieces

    /// `type=`, `vat=` and `kref=` of the event routes.
    static func eventFilter(_ query: [String: String]) throws(ServiceError) -> EventFilter {
        var filter = EventFilter()
        if let v = query["vat"] {
            guard let id = VatID(v), Limits.accepts(id) else { throw .invalidParameter("vat", "\"\(v)\" is not a vat ID (v1, v2, …)") }
            filter.vat = id
        }
        if let t = query["type"] {
            guard Limits.eventTypes.contains(t) else {
                throw .invalidParameter("type", "must be one of \(Limits.eventTypes.joined(separator: ", "))")
            }
            filter.type = t
        }
        if let k = query["kref"] {
            guard let kref = KRef(k), Limits.accepts(kref) else { throw .invalidParameter("kref", "\"\(k)\" is not a kref (koN or kpN)") }
            filter.kref = kref
        }
        return filter
    }

    /// Where a stream starts: after its `Last-Event-ID` (a client resuming), else `after=`, else 0.
    static func streamStart(_ query: [String: String], lastEventID: String?) throws(ServiceError) -> Int {
        if let id = lastEventID {
            guard let n = canonicalInt(id), (0...Limits.maxNumber).contains(n) else {
                throw .invalidParameter("Last-Event-ID", "must be an event id the stream sent (an integer between 0 and \(Limits.maxNumber))")
            }
            return n
        }
        return try page(query).after ?? 0
    }

    /// `wait=SECONDS` of a long poll: 0 (the default) to `Limits.maxEventWait`.
    static func wait(_ query: [String: String]) throws(ServiceError) -> Int {
        guard let w = query["wait"] else { return 0 }
        guard let n = canonicalInt(w), (0...Limits.maxEventWait).contains(n) else {
            throw .invalidParameter("wait", "must be an integer between 0 and \(Limits.maxEventWait) (seconds)")
        }
        return n
    }

    /// Refuses a query parameter the resource does not take, and one given twice (which value
    /// would count is not for the server to guess): 400 `invalid-parameter` naming the first
    /// such name, as sent, like an unknown body field.
    static func checkQuery(_ names: [String], allowed: [String], method: String, resource: Resource) throws(ServiceError) {
        var seen: Set<String> = []
        for name in names {
            guard allowed.contains(name) else {
                let takes = allowed.isEmpty ? "takes none" : "takes \(allowed.joined(separator: ", "))"
                throw .invalidParameter(name, "is not a query parameter of \(method) \(resource.template) (it \(takes))")
            }
            guard seen.insert(name).inserted else { throw .invalidParameter(name, "is given more than once") }
        }
    }

    /// The body as JSON. An empty body is `emptyIs` where the body is optional, else a 400.
    static func json(_ body: [UInt8], emptyIs: JSONValue? = nil) throws(ServiceError) -> JSONValue {
        if let emptyIs, body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return emptyIs }
        do {
            return try JSONValue.parse(body)
        } catch {
            throw .malformedJSON(error)
        }
    }

    /// Endpoints that take no parameters accept an empty body or `{}`.
    static func emptyObject(_ body: [UInt8]) throws(ServiceError) {
        try Fields(try json(body, emptyIs: .object([:])), path: "").finish()
    }

    static func vatID(_ text: String) throws(ServiceError) -> VatID {
        guard let v = VatID(text), Limits.accepts(v) else { throw .invalidParameter("vatID", "\"\(text)\" is not a vat ID (v1, v2, …)") }
        return v
    }

    static func kref(_ text: String, _ kind: KRef.Kind) throws(ServiceError) -> KRef {
        guard let k = KRef(text), k.kind == kind, Limits.accepts(k) else {
            throw .invalidParameter(kind == .object ? "kref" : "kpid",
                                    "\"\(text)\" is not \(kind == .object ? "an object kref (koN)" : "a promise kref (kpN)")")
        }
        return k
    }

    /// `after` and `limit`, for a list whose cursors are `cursor`s.
    static func page(_ query: [String: String], cursor: PageCursor = .number) throws(ServiceError) -> Page {
        let after = try query["after"].map { text throws(ServiceError) in try Self.after(text, cursor) }
        return Page(after: after, limit: try limit(query))
    }

    /// `limit`, as every list takes it: 1 to `Limits.maxPageSize`, `defaultPageSize` if absent.
    static func limit(_ query: [String: String]) throws(ServiceError) -> Int {
        guard let l = query["limit"] else { return Limits.defaultPageSize }
        guard let n = canonicalInt(l), (1...Limits.maxPageSize).contains(n) else {
            throw .invalidParameter("limit", "must be an integer between 1 and \(Limits.maxPageSize)")
        }
        return n
    }

    /// `after` and `limit` of `GET /kernel/gc-actions`: `limit` as every list takes it, `after`
    /// an action as the list shows it.
    static func gcActionPage(_ query: [String: String]) throws(ServiceError) -> GCActionPage {
        var after: GCAction?
        if let text = query["after"] {
            guard let a = GCAction(text), Limits.accepts(a.vat), Limits.accepts(a.kref), a.kref.kind == .object else {
                throw .invalidParameter("after", "\"\(text)\" is not a GC action as the list shows one (\"v1 dropExport ko23\")")
            }
            after = a
        }
        return GCActionPage(after: after, limit: try limit(query))
    }

    /// The position `text` names in a list of `cursor`s.
    static func after(_ text: String, _ cursor: PageCursor) throws(ServiceError) -> Int {
        switch cursor {
        case .number:
            guard let n = canonicalInt(text), (0...Limits.maxNumber).contains(n) else {
                throw .invalidParameter("after", "must be an integer between 0 and \(Limits.maxNumber)")
            }
            return n
        case .kref(let kind):
            guard let k = KRef(text), k.kind == kind, Limits.accepts(k) else {
                throw .invalidParameter("after", "\"\(text)\" is not a \(kind == .object ? "koN" : "kpN") kref")
            }
            return k.number
        case .anyKRef:
            guard let k = KRef(text), Limits.accepts(k) else { throw .invalidParameter("after", "\"\(text)\" is not a kref (koN or kpN)") }
            return PageCursor.position(k)
        case .vat:
            guard let v = VatID(text), Limits.accepts(v) else { throw .invalidParameter("after", "\"\(text)\" is not a vat ID (v1, v2, …)") }
            return v.number
        }
    }

    /// A decimal integer as a query parameter: digits with an optional minus sign.
    static func canonicalInt(_ s: String) -> Int? {
        guard !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }) else { return nil }
        return Int(s)
    }

    /// A syscall batch, each in the JSON of API.md.
    static func syscalls(_ raw: [JSONValue], field: String, max: Int) throws(ServiceError) -> [Syscall] {
        guard raw.count <= max else { throw .tooManySyscalls(raw.count, max: max, field: field) }
        var out: [Syscall] = []
        out.reserveCapacity(raw.count)
        for (n, v) in raw.enumerated() { out.append(try syscall(v, "\(field)[\(n)]")) }
        return out
    }

    static func syscall(_ v: JSONValue, _ path: String) throws(ServiceError) -> Syscall {
        var f = try Fields(v, path: path)
        let type = try f.string("type")
        guard let kind = Syscall.Kind(rawValue: type) else {
            throw .invalidField(f.name("type"), "\"\(type)\" is not a syscall type (\(Syscall.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let s: Syscall
        switch kind {
        case .send:
            let target = try Fields.vref(try f.required("target"), f.name("target"))
            let methargs = try Fields.methargs(try f.required("methargs"), f.name("methargs"), slot: Fields.vref)
            var result: VRef?
            if let r = f.optional("result"), r != .null { result = try Fields.vref(r, f.name("result")) }
            s = .send(target: target, methargs: methargs, result: result)
        case .subscribe:
            s = .subscribe(vpid: try Fields.vref(try f.required("vpid"), f.name("vpid")))
        case .resolve:
            var resolutions: [VatResolution] = []
            for (n, r) in try f.array("resolutions").enumerated() {
                var rf = try Fields(r, path: f.name("resolutions[\(n)]"))
                let vpid = try Fields.vref(try rf.required("vpid"), rf.name("vpid"))
                let rejected = try rf.bool("rejected")
                let data = try Fields.capData(try rf.required("data"), rf.name("data"), slot: Fields.vref)
                try rf.finish()
                resolutions.append(VatResolution(vpid: vpid, rejected: rejected, data: data))
            }
            s = .resolve(resolutions)
        case .exit:
            let isFailure = try f.bool("isFailure")
            let info = try Fields.capData(try f.required("info"), f.name("info"), slot: Fields.vref)
            s = .exit(isFailure: isFailure, info: info)
        case .dropImports:
            s = .dropImports(try Fields.vrefs(try f.required("vrefs"), f.name("vrefs")))
        case .retireImports:
            s = .retireImports(try Fields.vrefs(try f.required("vrefs"), f.name("vrefs")))
        case .retireExports:
            s = .retireExports(try Fields.vrefs(try f.required("vrefs"), f.name("vrefs")))
        case .abandonExports:
            s = .abandonExports(try Fields.vrefs(try f.required("vrefs"), f.name("vrefs")))
        case .vatstoreGet:
            s = .vatstoreGet(key: ByteString(try f.string("key")))
        case .vatstoreSet:
            s = .vatstoreSet(key: ByteString(try f.string("key")), value: ByteString(try f.string("value")))
        case .vatstoreDelete:
            s = .vatstoreDelete(key: ByteString(try f.string("key")))
        case .vatstoreGetNextKey:
            s = .vatstoreGetNextKey(priorKey: ByteString(try f.string("priorKey")))
        }
        try f.finish()
        return s
    }
}
