import Algorithms
import VatKernel

/// Chooses the items of one page of a table keyed by number (objects, promises, a c-list's
/// krefs): the first `limit + 1` numbers after the cursor, in increasing order.
///
/// Krefs are handed out in increasing order from a counter, so a table's numbers mostly lie
/// close together below that counter. The selection walks up from the cursor, testing each
/// number (O(limit) for a dense table), and gives up after a few probes per item wanted; then
/// one pass over the table finds the rest without sorting it (`min(count:)`). A sparse table
/// is small next to the numbers it skips, so either way a page costs about
/// min(limit × 8, table size), never a sort of the whole table.
enum PageSelection {
    /// How many numbers the walk may test per item the page wants.
    static let probesPerItem = 8

    /// The first `want` numbers above `after` (nil: from the start) and below `upper` that
    /// `contains` holds, ascending; `all` lists every number of the table, in any order.
    static func first<S: Sequence<Int>>(_ want: Int, after: Int?, below upper: Int,
                                        contains: (Int) throws -> Bool, all: @autoclosure () throws -> S) rethrows -> [Int] {
        var out: [Int] = []
        var n = max((after ?? -1) + 1, 0)
        var probes = 0
        while n < upper, out.count < want, probes < want * probesPerItem {
            if try contains(n) { out.append(n) }
            n += 1
            probes += 1
        }
        if out.count == want || n >= upper { return out }
        let from = n
        return try out + all().lazy.filter { $0 >= from && $0 < upper }.min(count: want - out.count)
    }
}

extension PageSelection {
    /// The c-list positions (`PageCursor.position`) of one page: objects by number, then
    /// promises by number, the first `page.limit + 1` after the cursor. `contains` says whether
    /// the c-list holds a kref, `numbers` lists the numbers it holds of one kind (any order).
    static func clistPositions(_ page: Page, counters: KernelCounters, contains: (KRef) throws -> Bool,
                               numbers: (KRef.Kind) throws -> [Int]) rethrows -> [Int] {
        let want = page.limit + 1
        var positions: [Int] = []
        for (kind, upper) in [(KRef.Kind.object, counters.nextObject), (.promise, counters.nextPromise)] where positions.count < want {
            let base = PageCursor.position(KRef(kind, 0))
            let after = page.after.flatMap { $0 >= base ? $0 - base : nil }
            if let a = page.after, a >= base + (1 << 56) { continue }  // the cursor is past this kind
            let found = try first(want - positions.count, after: after, below: upper,
                                  contains: { try contains(KRef(kind, $0)) }, all: try numbers(kind))
            positions += found.map { base + $0 }
        }
        return positions
    }
}
