// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "rollout",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rollout", targets: ["rollout"]),
        .executable(name: "rollout-bench", targets: ["rollout-bench"]),
        .library(name: "RolloutCore", targets: ["RolloutCore"]),
        .library(name: "RolloutStore", targets: ["RolloutStore"]),
        .library(name: "RolloutPostgres", targets: ["RolloutPostgres"]),
        .library(name: "RolloutGuard", targets: ["RolloutGuard"]),
        .library(name: "RolloutMCP", targets: ["RolloutMCP"]),
        .library(name: "RolloutFuzz", targets: ["RolloutFuzz"]),
        .library(name: "RolloutAnomaly", targets: ["RolloutAnomaly"]),
        .library(name: "RolloutReports", targets: ["RolloutReports"]),
        .library(name: "RolloutGate", targets: ["RolloutGate"]),
        .library(name: "RolloutServe", targets: ["RolloutServe"]),
        .plugin(name: "RolloutGatePlugin", targets: ["RolloutGatePlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
        // The PostgreSQL engine (RolloutPostgres): postgres-nio and the NIO stack it runs on.
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // rollout serve (RolloutServe): Hummingbird 2.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "RolloutCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "RolloutStore",
            dependencies: [
                "RolloutCore",
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "RolloutPostgres",
            dependencies: [
                "RolloutCore",
                "RolloutStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RolloutGuard",
            dependencies: [
                "RolloutCore",
                "RolloutStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // prctl(2), which Swift cannot call (it is variadic): keeps rollout's secrets from the servers it starts.
        .systemLibrary(name: "CProcessControl"),
        .target(
            name: "RolloutMCP",
            dependencies: [
                "CProcessControl",
                "RolloutCore",
                "RolloutStore",
                "RolloutGuard",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "RolloutFuzz",
            dependencies: ["RolloutCore", "RolloutGuard", "RolloutMCP", "RolloutReports"]
        ),
        .target(
            name: "RolloutAnomaly",
            dependencies: ["RolloutCore", "RolloutStore", "RolloutReports"]
        ),
        .target(
            name: "RolloutReports",
            dependencies: ["RolloutCore", "CLibXML2", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "RolloutGate",
            dependencies: [
                "RolloutCore", "RolloutStore", "RolloutAnomaly", "RolloutReports",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "RolloutServe",
            dependencies: [
                "RolloutCore", "RolloutStore", "RolloutGuard", "RolloutMCP", "RolloutReports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .plugin(
            name: "RolloutGatePlugin",
            capability: .command(
                intent: .custom(verb: "rollout-gate", description: "Evaluate every gate for a tenant's next stage (the CI check)."),
                permissions: [.writeToPackageDirectory(reason: "rollout gate writes reports/gate-<tenant>.xml and records the verdict in the audit store")]
            )
        ),
        .executableTarget(
            name: "rollout",
            dependencies: [
                "RolloutCore",
                "RolloutStore",
                "RolloutPostgres",
                "RolloutServe",
                "RolloutGuard",
                "RolloutMCP",
                "RolloutFuzz",
                "RolloutAnomaly",
                "RolloutReports",
                "RolloutGate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "rollout-bench",
            dependencies: [
                "RolloutCore",
                "RolloutStore",
                "RolloutPostgres",
                "RolloutGuard",
                "RolloutMCP",
                "RolloutFuzz",
                "RolloutAnomaly",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "RolloutReports",
                "RolloutGate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "RolloutTestSupport",
            dependencies: ["RolloutCore", "RolloutStore", "RolloutPostgres", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/RolloutTestSupport"
        ),
        .testTarget(
            name: "RolloutCoreTests",
            dependencies: ["RolloutCore", "RolloutTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "RolloutReportsTests",
            dependencies: ["RolloutReports", "RolloutCore", "RolloutTestSupport"]
        ),
        .testTarget(
            name: "RolloutStoreTests",
            dependencies: [
                "RolloutStore", "RolloutCore", "RolloutTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "RolloutGuardTests",
            dependencies: [
                "RolloutGuard", "RolloutStore", "RolloutCore", "RolloutTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "RolloutFuzzTests",
            dependencies: ["RolloutFuzz", "RolloutGuard", "RolloutMCP", "RolloutReports", "RolloutCore", "RolloutTestSupport"]
        ),
        .testTarget(
            name: "RolloutAnomalyTests",
            dependencies: ["RolloutAnomaly", "RolloutStore", "RolloutCore", "RolloutTestSupport"]
        ),
        .testTarget(
            name: "RolloutGateTests",
            dependencies: ["RolloutGate", "RolloutAnomaly", "RolloutStore", "RolloutReports", "RolloutCore", "RolloutTestSupport"]
        ),
        .testTarget(
            name: "RolloutServeTests",
            dependencies: ["RolloutServe", "RolloutCore", "RolloutStore", "RolloutTestSupport"]
        ),
        .testTarget(
            name: "RolloutCLITests",
            dependencies: ["RolloutCore", "RolloutPostgres", "RolloutReports", "RolloutServe", "RolloutTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
