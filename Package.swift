// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "VatKernel",
    products: [
        .executable(name: "vatkernel", targets: ["vatkernel"]),
        .library(name: "VatKernel", targets: ["VatKernel"]),
        // A Swift client of the REST API, generated from openapi.yaml, with a vat driver loop.
        .library(name: "VatKernelClient", targets: ["VatKernelClient", "VatKernelAPI"]),
    ],
    dependencies: [
        // Command-line parsing for `vatkernel serve`: the one external dependency of the product.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // GET /metrics in the Prometheus text format (it brings apple/swift-metrics' CoreMetrics).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // SHA-256 for the crank hash and activity hash (issue 10), outside the pure core.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // VatKernelClient: its code is generated from openapi.yaml at build time (a build plugin),
        // and speaks HTTP through URLSession (libcurl on Linux).
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // min(count:) for list pages: the first items after a cursor without sorting the table.
        .package(url: "https://github.com/apple/swift-algorithms", from: "1.2.1"),
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
        // epoll, eventfd and accept4, which Swift's Glibc module does not import, and the reader
        // threads' scheduling policy.
        .target(name: "CLinux"),
        // HTTP/1.1 on POSIX sockets and epoll (Linux only); knows nothing about kernels.
        .target(name: "HTTPServer", dependencies: ["CLinux"]),
        .target(
            name: "KernelService",
            dependencies: [
                "VatKernel", "KernelStore", "HTTPServer", "CLinux",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Algorithms", package: "swift-algorithms"),
            ]),
        // The types and client that swift-openapi-generator makes from openapi.yaml at build time
        // (Sources/VatKernelAPI/openapi.yaml links to the repository's). Its generated files all
        // carry the same `public import`s, unused in some of them; Swift 6.3 warns about each and
        // the generator's `@diagnose` for them needs Swift 6.4, so this target alone builds with
        // warnings suppressed; the hand-written VatKernelClient below is held to no warnings.
        .target(
            name: "VatKernelAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            swiftSettings: [.unsafeFlags(["-Xfrontend", "-suppress-warnings"])],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]),
        // The hand-written layer: a client from a URL and token, a vat driver loop.
        .target(
            name: "VatKernelClient",
            dependencies: [
                "VatKernelAPI",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .executableTarget(
            name: "vatkernel",
            dependencies: [
                "KernelService", "VatKernelClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "KernelBench", dependencies: ["VatKernel"],
            path: "Benchmarks/KernelBench"),
        .executableTarget(
            name: "StoreBench", dependencies: ["VatKernel", "KernelStore", "CSQLite", "TestSupport"],
            path: "Benchmarks/StoreBench"),
        // The seed's story through VatKernelClient, for Tests/e2e/swift-client.sh.
        .executableTarget(name: "ClientStory", dependencies: ["VatKernelClient"], path: "Tests/ClientStory"),
        // Builders for kernel values and a seeded generator, shared by the tests and benchmarks.
        .target(name: "TestSupport", dependencies: ["VatKernel"], path: "Tests/TestSupport"),
        .testTarget(name: "VatKernelTests", dependencies: ["VatKernel", "TestSupport"]),
        .testTarget(name: "KernelStoreTests", dependencies: ["KernelStore", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"]),
        .testTarget(name: "KernelServiceTests", dependencies: ["KernelService", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
