public import OpenAPIRuntime
public import VatKernelAPI

/// Methargs without the generated tuple parts (`MethargsPart` has a `value1` for the method
/// and a `value2` for the arguments): `[method, [args...]]` plus slots.
extension Components.Schemas.MethargsV {
    /// `method(args...)` in the vat's references; `{"$slot": i}` in `args` points at `slots[i]`.
    public init(method: String, args: [OpenAPIValueContainer] = [], slots: [String] = []) {
        self.init(body: [.init(value1: method), .init(value2: args)], slots: slots)
    }

    /// The method name and the arguments.
    public var call: (method: String, args: [OpenAPIValueContainer])? { Methargs.call(body) }
}

extension Components.Schemas.MethargsK {
    /// `method(args...)` in kernel references; `{"$slot": i}` in `args` points at `slots[i]`.
    public init(method: String, args: [OpenAPIValueContainer] = [], slots: [String] = []) {
        self.init(body: [.init(value1: method), .init(value2: args)], slots: slots)
    }
}

extension Components.Schemas.CapDataOutV {
    /// The method name and arguments when this capdata is a methargs (`[method, [args...]]`).
    public var call: (method: String, args: [OpenAPIValueContainer])? {
        guard let parts = body.value as? [(any Sendable)?], parts.count == 2,
              let method = parts[0] as? String, let args = parts[1] as? [(any Sendable)?] else { return nil }
        return (method, args.compactMap { try? OpenAPIValueContainer(unvalidatedValue: $0) })
    }
}

/// `{"$slot": index}`, the capdata reference to `slots[index]`.
public func slotRef(_ index: Int) -> OpenAPIValueContainer {
    // Strings and integers are always valid container values, so the init cannot throw here.
    (try? OpenAPIValueContainer(unvalidatedValue: ["$slot": index])) ?? nil
}

enum Methargs {
    static func call(_ body: Components.Schemas.MethargsBody) -> (method: String, args: [OpenAPIValueContainer])? {
        guard body.count == 2, let method = body[0].value1, let args = body[1].value2 else { return nil }
        return (method, args)
    }
}
