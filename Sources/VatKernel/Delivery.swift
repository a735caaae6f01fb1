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

    /// Every type of delivery, named as the API names it: the one list that the delivery log's
    /// JSON (both forms), the store's reader, crank reports and the `deliveries_total` metric's
    /// `type` label take their names from.
    public enum Kind: String, CaseIterable, Sendable {
        case message, notify, dropExports, retireExports, retireImports, abandonImports, bringOutYourDead, startVat

        /// The kind named `name`, matched by its UTF-8 bytes as every stored tag is.
        public init?(named name: ByteString) {
            guard let kind = Kind.allCases.first(where: { ByteString($0.rawValue) == name }) else { return nil }
            self = kind
        }
    }

    /// This delivery's kind.
    public var kind: Kind {
        switch self {
        case .message: return .message
        case .notify: return .notify
        case .dropExports: return .dropExports
        case .retireExports: return .retireExports
        case .retireImports: return .retireImports
        case .abandonImports: return .abandonImports
        case .bringOutYourDead: return .bringOutYourDead
        case .startVat: return .startVat
        }
    }

    /// The type name the API and the log use.
    public var typeName: String { kind.rawValue }
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
