/// Capability data: an opaque JSON body plus the references it carries, in order.
///
/// The slot type is `KRef` on the kernel side and `VRef` on a vat's side; translation
/// between the two is the kernel's work (KERNEL-SPEC §3).
public struct CapData<Slot: Hashable & Sendable>: Hashable, Sendable {
    /// Any JSON; references inside are written `{"$slot": i}`.
    public var body: JSONValue
    /// The references, indexed by the `$slot` entries of `body`.
    public var slots: [Slot]

    /// Makes capdata from a body and its slots.
    public init(body: JSONValue, slots: [Slot] = []) {
        self.body = body
        self.slots = slots
    }

    /// `Error(message)` with no slots: how the kernel rejects promises it must break.
    public static func error(_ message: String) -> CapData { CapData(body: .error(message)) }

    /// The method name of a methargs body `[method, [args...]]`, if it has that shape.
    public var methodName: String? {
        if case .array(let parts) = body, let first = parts.first { return first.stringValue }
        return nil
    }

    /// True when the body is exactly `{"$slot": 0}` with one slot: the value *is* that reference.
    public var isSingleReference: Bool {
        slots.count == 1 && body == .slot(0)
    }

    /// The same body with each slot mapped.
    public func mapSlots<T>(_ f: (Slot) throws -> T) rethrows -> CapData<T> {
        CapData<T>(body: body, slots: try slots.map(f))
    }
}

/// A message as the kernel queues it: method and arguments, and the promise for its result.
public struct Message: Hashable, Sendable {
    /// `[method, [args…]]` with the argument references.
    public var methargs: CapData<KRef>
    /// The promise for the result, if the sender wants one.
    public var result: KRef?

    /// Makes a message.
    public init(methargs: CapData<KRef>, result: KRef?) {
        self.methargs = methargs
        self.result = result
    }
}

/// One promise settlement, in a vat's own references (a `resolve` syscall or a `notify` delivery).
public struct VatResolution: Hashable, Sendable {
    /// The promise, in the vat's references.
    public var vpid: VRef
    /// True for a rejection, false for a fulfilment.
    public var rejected: Bool
    /// The value or the reason.
    public var data: CapData<VRef>

    /// Makes a settlement.
    public init(vpid: VRef, rejected: Bool, data: CapData<VRef>) {
        self.vpid = vpid
        self.rejected = rejected
        self.data = data
    }
}
