// swift-tools-version: 6.1
import PackageDescription

// Micro-benchmarks for Inlet's hot path (issue 6), kept in their own package so the gateway itself never
// depends on the benchmark framework. Run them with `bash bench/run-micro.sh`.
let package = Package(
    name: "InletBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, so the product references below do not depend on the name of the checkout's directory.
        .package(name: "Inlet", path: "../.."),
        // MallocInterposer (malloc counts, no jemalloc needed on Swift 6.3) without the default RuntimeInterposer
        // trait, whose package this machine's mirrors do not carry.
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        // Signs Discord (Ed25519) and SendGrid (ECDSA P-256) requests at every body size with a fresh key pair.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // The ingress benchmark decodes a request head with NIO's HTTPRequestDecoder, as the server's pipeline does.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "InletMicro",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "InletCore", package: "Inlet"),
                .product(name: "InletConfig", package: "Inlet"),
                .product(name: "InletStore", package: "Inlet"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Benchmarks/InletMicro",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "package-benchmark"),
            ]
        ),
    ]
)
