/// A first-in first-out queue over an array with a moving head: O(1) push, pop, and the
/// push-front an aborted crank needs to put a popped item back.
public struct FIFO<Element: Hashable & Sendable>: Hashable, Sendable {
    private var storage: [Element] = []
    private var head = 0

    /// An empty queue.
    public init() {}

    /// How many elements wait.
    public var count: Int { storage.count - head }
    /// True when nothing waits.
    public var isEmpty: Bool { head == storage.count }
    /// The element that leaves next.
    public var first: Element? { isEmpty ? nil : storage[head] }
    /// The elements in queue order.
    public var elements: ArraySlice<Element> { storage[head...] }

    mutating func push(_ e: Element) { storage.append(e) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let e = storage[head]
        head += 1
        return e
    }

    /// Undoes a `popFirst`. Only valid right after it (no compaction between them).
    mutating func unpop(_ e: Element) {
        precondition(head > 0, "FIFO.unpop without a pop")
        head -= 1
        storage[head] = e
    }

    /// Undoes a `push`.
    mutating func unpush() { storage.removeLast() }

    /// Drops the consumed prefix once it dominates; call only between cranks.
    mutating func compact() {
        if head > 1024, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    public static func == (a: FIFO, b: FIFO) -> Bool { a.elements.elementsEqual(b.elements) }
    public func hash(into h: inout Hasher) { for e in elements { h.combine(e) } }
}
