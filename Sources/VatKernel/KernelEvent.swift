/// Work waiting in one of the kernel's queues.
public enum KernelEvent: Hashable, Sendable {
    /// A message to an object or promise; it holds counts on its target, result and slots.
    case send(target: KRef, message: Message)
    /// Tell `vat` that `kpid` settled; it holds one count on the promise.
    case notify(vat: VatID, kpid: KRef)
    /// Ask `vat` to report what it can drop (the reap queue).
    case bringOutYourDead(vat: VatID)
}

/// A queued event with its durable position, so storage can add and remove single rows.
public struct QueuedEvent: Hashable, Sendable {
    /// Unique for the kernel's life, increasing in order of enqueueing.
    public var id: Int
    /// What waits.
    public var event: KernelEvent

    /// Makes a queued event.
    public init(id: Int, event: KernelEvent) {
        self.id = id
        self.event = event
    }
}

/// The kernel's three FIFO queues.
public enum QueueName: String, Sendable, CaseIterable {
    case acceptance, run, reap
}
