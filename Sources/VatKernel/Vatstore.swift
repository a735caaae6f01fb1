/// One vat's vatstore (KERNEL-SPEC §5.9): keys and values kept exactly as written, ordered
/// by their UTF-8 bytes, as SQLite's BINARY collation and SwingSet's swing-store order them.
///
/// A two-level B+tree: the pairs live in sorted leaves of at most `leafCapacity` keys, and
/// `lastKeys` holds each leaf's largest key, so a lookup is two binary searches
/// (O(log n) byte comparisons) and an insert moves at most one leaf's worth of keys plus one
/// leaf reference per leaf. `vatstoreGetNextKey` is a lookup, never a scan of the vat's keys.
///
/// Invariants: every leaf is non-empty; keys strictly increase within a leaf and from one
/// leaf to the next; `lastKeys[i] == leaves[i].keys.last`.
public struct Vatstore: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// A leaf splits in two when an insert takes it past this many keys.
    static let leafCapacity = 256

    struct Leaf: Sendable {
        var keys: [ByteString] = []
        var values: [ByteString] = []
    }

    private var leaves: [Leaf] = []
    private var lastKeys: [ByteString] = []
    /// How many keys.
    public private(set) var count = 0

    /// An empty vatstore.
    public init() {}

    /// A vatstore holding `elements` (later duplicates win); for tests and literals.
    public init(dictionaryLiteral elements: (ByteString, ByteString)...) {
        for (k, v) in elements { self[k] = v }
    }

    /// True when there are no keys.
    public var isEmpty: Bool { count == 0 }

    /// The smallest key, if any.
    public var firstKey: ByteString? { leaves.first?.keys.first }

    /// The value of `key`, nil if absent; setting nil deletes the key.
    public subscript(key: ByteString) -> ByteString? {
        get {
            let l = leafIndex(atLeast: key)
            guard l < leaves.count else { return nil }
            let (i, found) = Self.search(leaves[l].keys, key)
            return found ? leaves[l].values[i] : nil
        }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    /// The smallest key after `prior` in byte order (`prior` itself need not exist).
    public func key(after prior: ByteString) -> ByteString? {
        let l = leafIndex(after: prior)
        guard l < leaves.count else { return nil }
        let keys = leaves[l].keys
        let (i, found) = Self.search(keys, prior)
        let j = found ? i + 1 : i
        // `lastKeys[l] > prior`, so the leaf has a key after `prior`.
        return keys[j]
    }

    /// The pairs in byte order of their keys.
    public func makeIterator() -> Iterator { Iterator(leaves: leaves) }

    /// Walks the leaves in order.
    public struct Iterator: IteratorProtocol {
        fileprivate let leaves: [Leaf]
        fileprivate var leaf = 0
        fileprivate var index = 0

        fileprivate init(leaves: [Leaf]) { self.leaves = leaves }

        /// The next pair.
        public mutating func next() -> (key: ByteString, value: ByteString)? {
            while leaf < leaves.count {
                if index < leaves[leaf].keys.count {
                    defer { index += 1 }
                    return (leaves[leaf].keys[index], leaves[leaf].values[index])
                }
                leaf += 1
                index = 0
            }
            return nil
        }
    }

    /// Equal when they hold the same keys with the same values (byte for byte), however
    /// the leaves happen to be split.
    public static func == (a: Vatstore, b: Vatstore) -> Bool {
        a.count == b.count && a.elementsEqual(b) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes what `==` compares.
    public func hash(into h: inout Hasher) {
        h.combine(count)
        for (k, v) in self {
            h.combine(k)
            h.combine(v)
        }
    }

    // MARK: - Inside

    private mutating func insert(_ key: ByteString, _ value: ByteString) {
        var l = leafIndex(atLeast: key)
        if l == leaves.count {
            // After every key: append to the last leaf (or start the first).
            if leaves.isEmpty {
                leaves.append(Leaf())
                lastKeys.append(key)
            }
            l = leaves.count - 1
            lastKeys[l] = key
        }
        let (i, found) = Self.search(leaves[l].keys, key)
        if found {
            leaves[l].values[i] = value
            return
        }
        leaves[l].keys.insert(key, at: i)
        leaves[l].values.insert(value, at: i)
        count += 1
        if leaves[l].keys.count > Self.leafCapacity { split(l) }
    }

    private mutating func remove(_ key: ByteString) {
        let l = leafIndex(atLeast: key)
        guard l < leaves.count else { return }
        let (i, found) = Self.search(leaves[l].keys, key)
        guard found else { return }
        leaves[l].keys.remove(at: i)
        leaves[l].values.remove(at: i)
        count -= 1
        if let last = leaves[l].keys.last {
            lastKeys[l] = last
        } else {
            leaves.remove(at: l)
            lastKeys.remove(at: l)
        }
    }

    /// Moves the upper half of leaf `l` into a new leaf after it.
    private mutating func split(_ l: Int) {
        let half = leaves[l].keys.count / 2
        let upper = Leaf(keys: Array(leaves[l].keys[half...]), values: Array(leaves[l].values[half...]))
        leaves[l].keys.removeSubrange(half...)
        leaves[l].values.removeSubrange(half...)
        leaves.insert(upper, at: l + 1)
        lastKeys.insert(upper.keys.last!, at: l + 1)
        lastKeys[l] = leaves[l].keys.last!
    }

    /// The first leaf whose largest key is ≥ `key` (`leaves.count` if none).
    private func leafIndex(atLeast key: ByteString) -> Int {
        var lo = 0, hi = lastKeys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lastKeys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first leaf whose largest key is > `key` (`leaves.count` if none).
    private func leafIndex(after key: ByteString) -> Int {
        var lo = 0, hi = lastKeys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if key < lastKeys[mid] { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Where `key` is in `keys`, or where it would go.
    private static func search(_ keys: [ByteString], _ key: ByteString) -> (index: Int, found: Bool) {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < keys.count && keys[lo] == key)
    }
}
