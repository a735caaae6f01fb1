import Testing
import TestSupport
@testable import VatKernel

/// The trace each crank hands its store with its delta (the event log's source, issue 10).
@Suite struct CrankTraceTests {
    /// Keeps every committed delta's start and trace.
    final class Recorder: KernelStorage {
        var cranks: [(start: CrankStart?, trace: [CrankTraceEntry])] = []
        func load() throws -> KernelState? { nil }
        var records = DeliveryRecords()
        func commit(_ delta: CrankDelta) throws {
            cranks.append((delta.start, delta.trace))
            records.apply(delta)
        }
        func deliveries(_ vat: VatID, after: Int, limit: Int, maxBytes: Int) throws -> [DeliveryRecord] {
            records.records(vat, after: after, limit: limit)
        }
    }

    /// Given alice and bob, when bob's batch sets a key then names a vref he does not have, then
    /// the crank's trace holds no trace of the undone vatstoreSet: the failing syscall with its
    /// error, the illegal syscall, the termination, in that order.
    @Test func anIllegalBatchKeepsOnlyTheOffenderAndWhatFollows() throws {
        let r = Recorder()
        let kernel = try Kernel(storage: r)
        _ = try kernel.createVat(name: "alice")
        _ = try kernel.createVat(name: "bob")
        let batch: [Syscall] = [.vatstoreSet(key: "a", value: "1"), .dropImports([v("o-99")])]
        _ = try kernel.syscalls(batch, from: VatID(2))
        let last = r.cranks.last!
        #expect(last.start == CrankStart(kind: .host, vat: VatID(2), request: .syscalls(vat: VatID(2), count: 2)))
        #expect(last.trace == [
            .syscall(vat: VatID(2), index: 1, vsc: batch[1], ksc: nil, result: .error("vref o-99 not in clist")),
            .illegalSyscall(vat: VatID(2), index: 1, syscall: "dropImports", problem: "vref o-99 not in clist"),
            .vatTerminated(vat: VatID(2), isFailure: true, info: .error("vref o-99 not in clist")),
        ])
    }

    /// A host request that fails inside its crank (an upgrade whose new incarnation fails to
    /// start, after its bringOutYourDead and rejections were traced) commits nothing, so it hands
    /// the store no trace; the next crank's trace starts clean.
    @Test func aFailedRequestLeavesNoTrace() throws {
        let r = Recorder()
        let kernel = try Kernel(storage: r)
        _ = try kernel.createVat(name: "alice")
        #expect(try kernel.upgrade(VatID(1), UpgradeRequest(startVatFails: true)) == .failed(reason: "the new incarnation failed to start"))
        #expect(r.cranks.count == 1)
        try kernel.bringOutYourDead(VatID(1))
        try kernel.run()
        #expect(r.cranks.map(\.start) == [
            CrankStart(kind: .host, vat: VatID(1), request: .createVat(name: "alice", options: .object([:]), vatParameters: CapData(body: .null))),
            CrankStart(kind: .host, vat: VatID(1), request: .bringOutYourDead(VatID(1))),
            CrankStart(kind: .reap, vat: VatID(1), message: .bringOutYourDead(vat: VatID(1))),
        ])
        #expect(r.cranks[1].trace == [])
        #expect(r.cranks[2].trace == [
            .deliver(vat: VatID(1), record: DeliveryRecord(seq: 2, crank: 3, delivery: .bringOutYourDead), kd: .bringOutYourDead),
        ])
    }
}
