/// A row of the kernel promise table (KERNEL-SPEC §2).
public struct KernelPromise: Hashable, Sendable {
    /// Unresolved, or settled one way or the other.
    public enum State: String, Sendable, CaseIterable { case unresolved, fulfilled, rejected }

    /// Unresolved, fulfilled or rejected.
    public var state: State
    /// Who may resolve it while unresolved; nil = the kernel (a queued message's result) or no one.
    public var decider: VatID?
    /// Vats to notify on settlement, sorted as strings, without repeats.
    public var subscribers: [VatID]
    /// Messages sent to the promise while unresolved, in order.
    public var queue: [Message]
    /// The settlement, once settled.
    public var data: CapData<KRef>?
    /// Every c-list entry, queued event, resolution and host hold naming it counts one.
    public var refCount: Int

    /// An unresolved promise with no subscribers, queue or data.
    public init(decider: VatID?, refCount: Int = 0) {
        state = .unresolved
        self.decider = decider
        subscribers = []
        queue = []
        data = nil
        self.refCount = refCount
    }

    /// Fulfilled or rejected.
    public var isSettled: Bool { state != .unresolved }
}
