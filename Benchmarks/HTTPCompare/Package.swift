// swift-tools-version: 6.0
import PackageDescription

// Comparison servers for the HTTP benchmark of Benchmarks/http-bench.sh (issue 3, "Speed").
// A separate package: never a dependency of the VatKernel product.
//
// Both serve the same two endpoints as `vatkernel serve`, with fixed bodies captured from it
// (Sources/Fixtures): GET /kernel and POST /vats/{vat}/syscalls.
let package = Package(
    name: "HTTPCompare",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        // The captured vatkernel answers, and the `--port` option both servers take.
        .target(name: "Fixtures"),
        // Hummingbird 2, default configuration: MultiThreadedEventLoopGroup.singleton
        // (one event loop per core, so 2 threads here).
        .executableTarget(
            name: "hb-server",
            dependencies: ["Fixtures", .product(name: "Hummingbird", package: "hummingbird")]),
        // Bare SwiftNIO with NIOHTTP1 and one minimal channel handler, on the same
        // default group: MultiThreadedEventLoopGroup.singleton (2 threads here).
        .executableTarget(
            name: "nio-server",
            dependencies: [
                "Fixtures",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
