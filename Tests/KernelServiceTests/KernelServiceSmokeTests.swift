import Testing
@testable import KernelService

@Test func moduleLoads() { #expect(Bool(true)) }
