import Testing
@testable import VatKernel

/// The one journaled table every keyed table of `KernelState` is (issue 8): it undoes a crank or
/// a whole group exactly, and its part of the delta is the keys the crank changed, with their
/// rows now.
@Suite struct JournaledTableTests {
    typealias Objects = JournaledTable<[Int: KernelObject]>

    func object(_ reachable: Int) -> KernelObject {
        KernelObject(owner: VatID(1), reachable: reachable, recognizable: reachable)
    }

    @Test func aCranksChangesAreItsKeysWithTheirRowsNowAndUndoingThemGivesTheRowsBack() {
        var t = Objects([20: object(1), 21: object(2)])
        let before = t.rows
        t.set(20, object(5))
        t.set(22, object(1))
        t.set(22, nil)  // added and removed in the same crank: listed, as removed
        _ = t.modify(21) { $0.reachable = 0 }
        #expect(t.modify(99) { $0.reachable = 0 } == nil)  // no row: nothing changed or journaled
        #expect(t.journaled == 4)
        let removed: KernelObject? = nil
        #expect(t.crankChanges() == [20: object(5), 21: KernelObject(owner: VatID(1), reachable: 0, recognizable: 2), 22: removed])
        t.take(.undoCrank)
        #expect(t.rows == before)
        #expect(t.journaled == 0)
        #expect(!t.changedInCrank)
    }

    @Test func aGroupKeepsItsCranksUntilItIsDurableOrUndone() {
        var t = Objects([20: object(1)])
        let start = t.rows
        t.set(20, object(2))
        t.take(.commitCrank(keep: true))
        t.set(21, object(1))
        // The delta of the second crank is its own change only.
        #expect(t.crankChanges() == [21: object(1)])
        t.take(.commitCrank(keep: true))
        #expect(!t.changedInCrank && t.journaled == 2)
        t.take(.undoAll)
        #expect(t.rows == start)
        #expect(t.journaled == 0)

        t.set(20, object(3))
        t.take(.commitCrank(keep: true))
        t.take(.forget)  // durable: nothing is kept, the rows stay
        #expect(t.journaled == 0 && t.rows == [20: object(3)])
    }

    @Test func withoutAGroupACommittedCrankIsForgotten() {
        var t = Objects()
        t.set(20, object(1))
        t.take(.commitCrank(keep: false))
        #expect(t.journaled == 0 && t.rows == [20: object(1)])
        t.take(.undoCrank)  // nothing of the committed crank is undone
        #expect(t.rows == [20: object(1)])
    }

    @Test func aSetsRowIsTrueWhileTheElementIsInIt() {
        var t = JournaledTable<Set<KRef>>()
        let kp = KRef("kp40")!
        t.set(kp, true)
        #expect(t.contains(kp) && t[kp] == true)
        #expect(t.crankChanges() == [kp: true])
        t.take(.commitCrank(keep: false))
        t.set(kp, nil)
        #expect(!t.contains(kp) && t[kp] == nil)
        let released: Bool? = nil
        #expect(t.crankChanges() == [kp: released])
        t.take(.undoCrank)
        #expect(t.rows == [kp])
    }

    @Test func aVatsCListIsThereFromItsCreationAndRemovingFromAVatWithoutOneChangesNothing() {
        var t = JournaledTable<CLists>()
        let v1 = VatID(1), ko20 = KRef("ko20")!
        t.rows.addVat(v1)
        #expect(t[v1] == CList() && t.count == 1)
        t.set(CListKey(vat: v1, kref: ko20), CListEntry(vref: VRef("o+0")!, reachable: true))
        #expect(t[v1]?[VRef("o+0")!] == ko20)  // both directions
        t.take(.undoCrank)
        #expect(t[v1] == CList())  // the entry went, the vat's empty c-list stays
        t.set(CListKey(vat: VatID(2), kref: ko20), nil)
        #expect(t[VatID(2)] == nil && t.count == 1)
    }
}
