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

    /// The type name the API uses.
    public var typeName: String {
        switch self {
        case .send: return "send"
        case .subscribe: return "subscribe"
        case .resolve: return "resolve"
        case .exit: return "exit"
        case .dropImports: return "dropImports"
        case .retireImports: return "retireImports"
        case .retireExports: return "retireExports"
        case .abandonExports: return "abandonExports"
        case .vatstoreGet: return "vatstoreGet"
        case .vatstoreSet: return "vatstoreSet"
        case .vatstoreDelete: return "vatstoreDelete"
        case .vatstoreGetNextKey: return "vatstoreGetNextKey"
        }
    }
}

/// What one successful syscall returns: `["ok", null]`, or a string/null for the vatstore reads.
public enum SyscallResult: Hashable, Sendable {
    case ok
    case value(ByteString?)
}
