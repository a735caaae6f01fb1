/// What one crank did, for the host driving the kernel.
public struct CrankReport: Hashable, Sendable {
    /// The kinds of crank, in the priority order `step()` picks them (KERNEL-SPEC §4).
    public enum Kind: String, Hashable, Sendable {
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
    /// A sentence for people.
    public var detail: String

    public init(crank: Int, kind: Kind, vat: VatID? = nil, delivery: DeliveryRecord? = nil, detail: String) {
        self.crank = crank
        self.kind = kind
        self.vat = vat
        self.delivery = delivery
        self.detail = detail
    }
}
