// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "VatKernel",
    products: [
        .executable(name: "vatkernel", targets: ["vatkernel"]),
        .library(name: "VatKernel", targets: ["VatKernel"]),
    ],
    dependencies: [
        // Command-line parsing for `vatkernel serve`: the one external dependency of the product.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // GET /metrics in the Prometheus text format (it brings apple/swift-metrics' CoreMetrics).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // SHA-256 for the crank hash and activity hash (issue 10), outside the pure core.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The pure, deterministic kernel core: standard library only. It is driven by one
        // thread and mutates its tables through one journal, so dynamic exclusivity checks
        // (about 15% of a delivery crank, measured with perf) are off in release builds.
        .target(
            name: "VatKernel",
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // The system's libsqlite3, as a module map.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "KernelStore",
            dependencies: ["VatKernel", "CSQLite", .product(name: "Crypto", package: "swift-crypto")]),
        // epoll, eventfd and accept4, which Swift's Glibc module does not import.
        .target(name: "CLinux"),
        // HTTP/1.1 on POSIX sockets and epoll (Linux only); knows nothing about kernels.
        .target(name: "HTTPServer", dependencies: ["CLinux"]),
        .target(
            name: "KernelService",
            dependencies: [
                "VatKernel", "KernelStore", "HTTPServer",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(
            name: "vatkernel",
            dependencies: [
                "KernelService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "KernelBench", dependencies: ["VatKernel"],
            path: "Benchmarks/KernelBench"),
        .executableTarget(
            name: "StoreBench", dependencies: ["VatKernel", "KernelStore", "CSQLite", "TestSupport"],
            path: "Benchmarks/StoreBench"),
        // Builders for kernel values and a seeded generator, shared by the tests and benchmarks.
        .target(name: "TestSupport", dependencies: ["VatKernel"], path: "Tests/TestSupport"),
        .testTarget(name: "VatKernelTests", dependencies: ["VatKernel", "TestSupport"]),
        .testTarget(name: "KernelStoreTests", dependencies: ["KernelStore", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"]),
        .testTarget(name: "KernelServiceTests", dependencies: ["KernelService", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
