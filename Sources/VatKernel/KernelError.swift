/// Why the kernel refused a host request. Nothing changed when one of these is thrown.
public enum KernelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kernel stopped after a broken invariant; the reason says which.
    case halted(reason: String)
    case unknownVat(VatID)
    /// The vat exists but is terminated.
    case vatTerminated(VatID)
    /// No live object or promise with this kref.
    case unknownKRef(KRef)
    /// The request is well formed but breaks a rule (the message says which).
    case rejected(String)
    /// The store could not commit the crank; it was rolled back.
    case storageFailure(String)

    public var description: String {
        switch self {
        case .halted(let r): return "kernel halted: \(r)"
        case .unknownVat(let v): return "no vat \(v)"
        case .vatTerminated(let v): return "vat \(v) is terminated"
        case .unknownKRef(let k): return "no \(k.isPromise ? "promise" : k.isObject ? "object" : "device node") \(k)"
        case .rejected(let m): return m
        case .storageFailure(let m): return "storage failure: \(m)"
        }
    }
}

/// A syscall that breaks the rules of KERNEL-SPEC §5: fatal to the vat that made it.
struct IllegalSyscall: Error {
    let problem: String
    init(_ problem: String) { self.problem = problem }
}

/// A broken kernel invariant: the crank is rolled back and the kernel halts (§13.2).
struct KernelBug: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
