import HTTPServer
import Testing
import VatKernel
@testable import KernelService

/// The one mapping of errors to answers: the HTTP server's own errors and the kernel's outcomes.
@Suite struct ServiceErrorTests {
    @Test("server errors have the JSON shape of the API, escaped")
    func errorBodies() {
        let tooLarge = ServiceError.response(for: .payloadTooLarge(limit: 1_048_576))
        #expect(tooLarge.status == 413)
        #expect(tooLarge.headers.map { "\($0.0): \($0.1)" } == ["Content-Type: application/json; charset=utf-8"])
        #expect(tooLarge.body == Array(#"{"error":{"code":"payload-too-large","message":"request body exceeds 1048576 bytes"}}"#.utf8))
        #expect(ServiceError.response(for: .expectationFailed("a\"b\\c\u{1}")).body
            == Array(#"{"error":{"code":"expectation-failed","message":"unsupported expectation \"a\"b\\c\u0001\""}}"#.utf8))
    }

    @Test func aStoreErrorIsAStorageFailureAndEverythingElseARefusal() {
        struct DiskFull: Error {}
        #expect(RequestFailure(KernelError.storageFailure("disk full"), resource: nil).serviceError
            == ServiceError.storageFailure("disk full"))
        guard case .storage("DiskFull()") = RequestFailure(DiskFull(), resource: nil) else {
            Issue.record("a store's own error is a storage failure")
            return
        }
        guard case .refused(let refusal) = RequestFailure(KernelError.unknownVat(VatID(3)), resource: nil) else {
            Issue.record("an unknown vat is a refusal")
            return
        }
        #expect(refusal.status == 404)
        #expect(refusal.code == "unknown-vat")
        guard case .refused(let own) = RequestFailure(ServiceError.shuttingDown, resource: nil) else {
            Issue.record("the service's own errors pass through")
            return
        }
        #expect(own == .shuttingDown)
    }
}
