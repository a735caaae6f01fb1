import Testing
@testable import KernelStore

@Test func moduleLoads() { #expect(Bool(true)) }
