import Testing
import TestSupport
@testable import KernelService

/// `PageSelection.first` gives exactly what sorting the table and taking the first numbers
/// after the cursor would, whether the table is dense (the walk) or sparse (the pass).
@Suite struct PageSelectionTests {
    func reference(_ table: Set<Int>, _ want: Int, after: Int?, below upper: Int) -> [Int] {
        Array(table.filter { $0 > (after ?? -1) && $0 < upper }.sorted().prefix(want))
    }

    @Test func aDenseTableIsWalkedAndASparseOneScanned() {
        let dense = Set(20..<10_020)
        #expect(PageSelection.first(3, after: nil, below: 10_020, contains: dense.contains, all: dense) == [20, 21, 22])
        #expect(PageSelection.first(3, after: 10_018, below: 10_020, contains: dense.contains, all: dense) == [10_019])
        #expect(PageSelection.first(3, after: 10_019, below: 10_020, contains: dense.contains, all: dense) == [])
        let sparse: Set<Int> = [25, 90_000, 500_000, 999_999]
        #expect(PageSelection.first(2, after: nil, below: 1_000_000, contains: sparse.contains, all: sparse) == [25, 90_000])
        #expect(PageSelection.first(5, after: 90_000, below: 1_000_000, contains: sparse.contains, all: sparse) == [500_000, 999_999])
    }

    @Test func randomTablesGiveTheSortedPrefix() {
        var random = SplitMix64(seed: 12)
        for round in 0..<300 {
            let upper = Int.random(in: 1...5_000, using: &random)
            let density = [0.001, 0.02, 0.3, 0.9, 1.0][round % 5]
            let table = Set((0..<upper).filter { _ in Double.random(in: 0..<1, using: &random) < density })
            let want = Int.random(in: 1...60, using: &random)
            let after: Int? = round % 3 == 0 ? nil : Int.random(in: -1..<upper + 5, using: &random)
            #expect(PageSelection.first(want, after: after, below: upper, contains: table.contains, all: table)
                == reference(table, want, after: after, below: upper), "round \(round)")
        }
    }
}
