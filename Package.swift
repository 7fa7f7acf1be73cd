// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Inlet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "inlet", targets: ["inlet"]),
        // For the packages beside this one (fuzz/, benchmarks/) that build against Inlet's targets.
        .library(name: "InletCore", targets: ["InletCore"]),
        .library(name: "InletConfig", targets: ["InletConfig"]),
        .library(name: "InletStore", targets: ["InletStore"]),
        .library(name: "InletServer", targets: ["InletServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure core: provider profiles, signature schemes, admission policy, CloudEvents. No I/O.
        .target(
            name: "InletCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Reads gateway config and provider profiles (TOML), resolves secrets.
        .target(
            name: "InletConfig",
            dependencies: [
                "InletCore",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The durable store: raw requests, idempotency, delivery queue. SQLite (GRDB, embedded default) or
        // PostgreSQL (postgres-nio, shared by several instances) behind one protocol.
        .target(
            name: "InletStore",
            dependencies: [
                "InletCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the ingest statements bound straight from the records' buffers.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Ingress server, admission pipeline, group-commit writer, delivery workers, dev sink.
        .target(
            name: "InletServer",
            dependencies: [
                "InletCore",
                "InletConfig",
                "InletStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The operator console's page: embedded by the plugin below, not compiled or copied as resources.
            exclude: ["Console"],
            plugins: ["ConsoleAssetsPlugin"]
        ),
        // Turns the console's files into Swift source at build time (run by ConsoleAssetsPlugin on the host).
        .executableTarget(name: "ConsoleAssetEmbedder"),
        .plugin(name: "ConsoleAssetsPlugin", capability: .buildTool(), dependencies: ["ConsoleAssetEmbedder"]),
        // The CLI's commands, as a library so they can be tested.
        .target(
            name: "InletCLI",
            dependencies: [
                "InletCore",
                "InletConfig",
                "InletStore",
                "InletServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "inlet",
            dependencies: ["InletCLI"]
        ),
        // Shared by the test targets (like HummingbirdTesting): a gateway on loopback, a recording destination,
        // config builders, signers, the repository's profiles and fixtures.
        .target(
            name: "InletTesting",
            dependencies: [
                "InletCore", "InletConfig", "InletStore", "InletServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "InletCoreTests",
            // The verification tests read the shipped profiles and fixtures through InletTesting.
            dependencies: ["InletCore", "InletConfig", "InletTesting", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Verification/Fixtures"]
        ),
        .testTarget(
            name: "InletConfigTests",
            dependencies: ["InletCore", "InletConfig", "InletTesting", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "InletCLITests",
            dependencies: ["InletCLI", "InletTesting", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "InletStoreTests",
            dependencies: ["InletCore", "InletStore"]
        ),
        .testTarget(
            name: "InletServerTests",
            dependencies: [
                "InletCore", "InletConfig", "InletStore", "InletServer", "InletTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
