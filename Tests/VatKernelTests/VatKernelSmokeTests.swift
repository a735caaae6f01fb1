import Testing
@testable import VatKernel

@Test func moduleLoads() { #expect(Bool(true)) }
