import Algorithms

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
                                        contains: (Int) -> Bool, all: @autoclosure () -> S) -> [Int] {
        var out: [Int] = []
        var n = max((after ?? -1) + 1, 0)
        var probes = 0
        while n < upper, out.count < want, probes < want * probesPerItem {
            if contains(n) { out.append(n) }
            n += 1
            probes += 1
        }
        if out.count == want || n >= upper { return out }
        let from = n
        return out + all().lazy.filter { $0 >= from && $0 < upper }.min(count: want - out.count)
    }
}
