// swift-tools-version:6.0
// libFuzzer targets for Inlet's parsers. Build and run with `bash scripts/fuzz` (see fuzz/README.md).
//
// Sources/InletCore and Sources/InletConfig here are symlinks to the root package's source folders: the fuzz
// targets compile the very same files with only swift-crypto and TOMLKit beside them. Depending on the root
// package's library products (`.package(path: "..")`) would also resolve and check out its whole dependency graph
// (NIO, GRDB, PostgresNIO, …) for a build that needs none of it.
import PackageDescription

let fuzzTarget = { (name: String) in
    Target.executableTarget(name: name, dependencies: ["FuzzSupport", "InletCore", "InletConfig"])
}

let package = Package(
    name: "InletFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Same constraints as the root Package.swift.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        .target(
            name: "InletCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "InletConfig",
            dependencies: ["InletCore", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["InletCore", "InletConfig", "CFuzzerDriver"]),
        fuzzTarget("fuzz-signature"),
        fuzzTarget("fuzz-profile"),
        fuzzTarget("fuzz-config"),
        fuzzTarget("fuzz-json"),
        fuzzTarget("fuzz-delivery"),
        fuzzTarget("fuzz-sink"),
    ]
)
