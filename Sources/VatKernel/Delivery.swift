/// What the kernel delivers to a vat, in the vat's own references (KERNEL-SPEC §6, §13.1).
public enum Delivery: Hashable, Sendable {
    case message(target: VRef, methargs: CapData<VRef>, result: VRef?)
    case notify([VatResolution])
    case dropExports([VRef])
    case retireExports([VRef])
    case retireImports([VRef])
    /// The objects are orphans: the vat's c-list entries are gone (KERNEL-SPEC §13.8).
    case abandonImports([VRef])
    case bringOutYourDead
    case startVat(vatParameters: CapData<VRef>)

    /// The type name the API and the log use.
    public var typeName: String {
        switch self {
        case .message: return "message"
        case .notify: return "notify"
        case .dropExports: return "dropExports"
        case .retireExports: return "retireExports"
        case .retireImports: return "retireImports"
        case .abandonImports: return "abandonImports"
        case .bringOutYourDead: return "bringOutYourDead"
        case .startVat: return "startVat"
        }
    }
}

/// One entry of a vat's delivery log.
public struct DeliveryRecord: Hashable, Sendable {
    /// 1, 2, 3… within the vat, across incarnations.
    public var seq: Int
    /// The crank that made the delivery.
    public var crank: Int
    public var delivery: Delivery

    /// Makes a log entry.
    public init(seq: Int, crank: Int, delivery: Delivery) {
        self.seq = seq
        self.crank = crank
        self.delivery = delivery
    }
}
