/// A pending GC action for one vat, as kept in the durable set (KERNEL-SPEC §8):
/// `"v1 dropExport ko23"`.
public struct GCAction: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The kinds, in the priority order processGCActionSet uses. `abandonImport` is for
    /// importers that opted in (KERNEL-SPEC §13.8) and comes last.
    public enum Kind: Int, Sendable, CaseIterable {
        case dropExport, retireExport, retireImport, abandonImport

        /// The word used in the action's text.
        public var name: String {
            switch self {
            case .dropExport: return "dropExport"
            case .retireExport: return "retireExport"
            case .retireImport: return "retireImport"
            case .abandonImport: return "abandonImport"
            }
        }
    }

    /// The vat the delivery would go to.
    public var vat: VatID
    /// Drop, retire an export, retire an import, or abandon an import.
    public var kind: Kind
    /// The object concerned.
    public var kref: KRef

    /// Makes an action.
    public init(_ vat: VatID, _ kind: Kind, _ kref: KRef) {
        self.vat = vat
        self.kind = kind
        self.kref = kref
    }

    /// Parses `"v1 dropExport ko23"`.
    public init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, let vat = VatID(String(parts[0])), let kref = KRef(String(parts[2])),
              let kind = Kind.allCases.first(where: { $0.name.hasSameBytes(as: String(parts[1])) })
        else { return nil }
        self.init(vat, kind, kref)
    }

    public var description: String { "\(vat) \(kind.name) \(kref)" }

    /// The order of the strings, as the spec sorts the set.
    public static func < (a: GCAction, b: GCAction) -> Bool { a.description.precedesInBytes(b.description) }
}
