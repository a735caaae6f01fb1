/// A syscall as a vat posts it, in its own references (KERNEL-SPEC §5).
public enum Syscall: Hashable, Sendable {
    case send(target: VRef, methargs: CapData<VRef>, result: VRef?)
    case subscribe(vpid: VRef)
    case resolve([VatResolution])
    case exit(isFailure: Bool, info: CapData<VRef>)
    case dropImports([VRef])
    case retireImports([VRef])
    case retireExports([VRef])
    case abandonExports([VRef])
    case vatstoreGet(key: ByteString)
    case vatstoreSet(key: ByteString, value: ByteString)
    case vatstoreDelete(key: ByteString)
    case vatstoreGetNextKey(priorKey: ByteString)

    /// Every kind of syscall, named as the API names it: the one list that parsers, error
    /// messages, metrics and the event log take their names from.
    public enum Kind: String, CaseIterable, Sendable {
        case send, subscribe, resolve, exit, dropImports, retireImports, retireExports, abandonExports
        case vatstoreGet, vatstoreSet, vatstoreDelete, vatstoreGetNextKey
    }

    /// This syscall's kind.
    public var kind: Kind {
        switch self {
        case .send: return .send
        case .subscribe: return .subscribe
        case .resolve: return .resolve
        case .exit: return .exit
        case .dropImports: return .dropImports
        case .retireImports: return .retireImports
        case .retireExports: return .retireExports
        case .abandonExports: return .abandonExports
        case .vatstoreGet: return .vatstoreGet
        case .vatstoreSet: return .vatstoreSet
        case .vatstoreDelete: return .vatstoreDelete
        case .vatstoreGetNextKey: return .vatstoreGetNextKey
        }
    }

    /// The type name the API uses.
    public var typeName: String { kind.rawValue }
}

/// What one successful syscall returns: `["ok", null]`, or a string/null for the vatstore reads.
public enum SyscallResult: Hashable, Sendable {
    case ok
    case value(ByteString?)
}
