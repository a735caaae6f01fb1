/// What one crank did, for the host driving the kernel.
public struct CrankReport: Hashable, Sendable {
    /// The kinds of crank, in the priority order `step()` picks them (KERNEL-SPEC §4).
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case route
        case cleanupTerminatedVat = "cleanup-terminated-vat"
        case gcDelivery = "gc-delivery"
        case negatedGCAction = "negated-gc-action"
        case bringOutYourDead
        case delivery
        /// The event was consumed but nothing was delivered (dead vat, already notified).
        case dropped
    }

    /// The crank's number.
    public var crank: Int
    public var kind: Kind
    public var vat: VatID?
    /// The delivery-log entry the crank appended, if any.
    public var delivery: DeliveryRecord?
    /// What happened, as data; `detail` renders it only when someone reads it.
    public var note: Note

    /// Makes a report.
    public init(crank: Int, kind: Kind, vat: VatID? = nil, delivery: DeliveryRecord? = nil, note: Note) {
        self.crank = crank
        self.kind = kind
        self.vat = vat
        self.delivery = delivery
        self.note = note
    }

    /// The facts behind a crank report, kept unformatted so the hot path builds no strings.
    public enum Note: Hashable, Sendable {
        case sendQueuedForVat(target: KRef, vat: VatID)
        case sendQueuedOnPromise(KRef)
        case sendRejected(target: KRef, error: CapData<KRef>)
        case notifyQueued(kpid: KRef, vat: VatID)
        case bringOutYourDeadQueued(VatID)
        case delivered(Delivery.Kind)
        case notifyDropped(kpid: KRef, reason: String)
        case deliveryDropped(String)
        case cleanup(vat: VatID, exportsOrphaned: Int, released: Int, vatstoreKeysDeleted: Int, done: Bool)
        case gcDelivery(kind: GCAction.Kind, krefs: [KRef])
        case negated
    }

    /// A sentence for people.
    public var detail: String {
        switch note {
        case .sendQueuedForVat(let t, let v): return "send to \(t) queued for \(v)"
        case .sendQueuedOnPromise(let p): return "send queued on \(p)"
        case .sendRejected(let t, let e):
            if case .object(let o) = e.body, let m = o["$error"]?.stringValue { return "send to \(t) rejected: \(m)" }
            return "send to \(t) rejected: \(e.body)"
        case .notifyQueued(let p, let v): return "notify of \(p) queued for \(v)"
        case .bringOutYourDeadQueued(let v): return "bringOutYourDead queued for \(v)"
        case .delivered(let kind): return kind.rawValue
        case .notifyDropped(let p, let why): return "notify of \(p) dropped: \(why)"
        case .deliveryDropped(let why): return why
        case .cleanup(let v, let e, let r, let k, let done):
            return "\(v): \(e) exports orphaned, \(r) imports/promises released, \(k) vatstore keys deleted\(done ? "; cleanup done" : "")"
        case .gcDelivery(let kind, let krefs):
            return "\(kind.name) \(krefs.map(\.description).joined(separator: ","))"
        case .negated: return "every pending GC action was already done or negated"
        }
    }
}
