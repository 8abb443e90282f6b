// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "bbcs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bbcsd", targets: ["bbcsd"]),
        .executable(name: "bbcsctl", targets: ["bbcsctl"]),
        // For the libFuzzer targets in Fuzz/ only (a package of their own); nothing installed links it.
        .library(name: "BBCSFuzzable", targets: ["BBCSServer", "BBCSProtocol", "BBCSCore", "BBCSPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Layered settings; no traits: the default JSON provider and the opt-in ones are not used.
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: []),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        // Needs swift-tools 6.2; its default trait, SubprocessFoundation, stays on (Foundation is linked anyway).
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        // Latency percentiles for `bbcs-bench load` only.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // The daemon's metrics, rendered in the Prometheus text format (no HTTP server of its own).
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libpq, the PostgreSQL C client.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // Wire types: envelopes, error codes, one type per method (over Core's value types).
        .target(name: "BBCSProtocol", dependencies: ["BBCSCore"]),
        // Domain model: periods, the plan document, RAG, permissions. No I/O.
        .target(name: "BBCSCore"),
        // libpq wrapper, connection pool, migrations and the stores.
        .target(
            name: "BBCSPostgres",
            dependencies: [
                "CLibPQ", "BBCSCore",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Running a child program through swift-subprocess: input, collected output, deadline, exit status.
        .target(
            name: "BBCSProcess",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess")]
        ),
        // The private PostgreSQL cluster of `bbcsd --dev`, the tests and the benchmark (initdb, pg_ctl).
        .target(name: "BBCSDevCluster", dependencies: ["BBCSPostgres", "BBCSProcess"]),
        // Socket listener, peer credentials, framing, method table, handlers.
        .target(
            name: "BBCSServer",
            dependencies: [
                "BBCSProtocol", "BBCSCore", "BBCSPostgres", "BBCSProcess", "BBCSReport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The performance report as text, Markdown, HTML with SVG charts, CSV and JSON.
        .target(name: "BBCSReport", dependencies: ["BBCSCore"]),
        // A blocking, typed client over a plain Unix socket (no NIO, no libpq).
        .target(name: "BBCSClient", dependencies: ["BBCSProtocol"]),
        .executableTarget(
            name: "bbcsd",
            dependencies: [
                "BBCSServer", "BBCSDevCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The client's commands, one file per noun, over the typed client.
        .target(
            name: "BBCSCommands",
            dependencies: [
                "BBCSClient", "BBCSProtocol", "BBCSCore", "BBCSReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "bbcsctl", dependencies: ["BBCSCommands"]),
        // Benchmarks (not tests): the report on a synthetic plan 100 times the real one, and the
        // load benchmark of bbcsd against pgbench on the same cluster.
        .executableTarget(
            name: "bbcs-bench",
            dependencies: ["BBCSClient", "BBCSCore", "BBCSPostgres", "BBCSProtocol", "BBCSDevCluster", "BBCSTestSupport",
                           .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        // The fault suite: scenarios that kill, stop, freeze and lock under load, checking every reply against the
        // database (a library, so its checker is tested); `bbcs-faults` is its command line.
        .target(name: "BBCSFaults", dependencies: ["BBCSClient", "BBCSProtocol", "BBCSPostgres", "BBCSDevCluster", "BBCSTestSupport"]),
        .executableTarget(
            name: "bbcs-faults",
            dependencies: ["BBCSFaults", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // What the tests and the benchmark share: the checkout's paths, temporary folders, child
        // processes waited for from synchronous code, the shared test cluster. Never a production dependency.
        .target(name: "BBCSTestSupport", dependencies: ["BBCSCore", "BBCSServer", "BBCSPostgres", "BBCSProcess", "BBCSDevCluster"]),
        .testTarget(name: "BBCSCoreTests", dependencies: ["BBCSCore", "BBCSProtocol", "BBCSReport", "BBCSTestSupport"]),
        .testTarget(
            name: "BBCSServerTests",
            dependencies: [
                "BBCSServer", "BBCSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BBCSIntegrationTests",
            dependencies: ["BBCSServer", "BBCSClient", "BBCSProtocol", "BBCSCore", "BBCSPostgres", "BBCSReport", "BBCSProcess",
                           "BBCSDevCluster", "BBCSTestSupport", "BBCSFaults", "bbcsd", "bbcsctl", "bbcs-bench", "bbcs-faults",
                           .product(name: "Configuration", package: "swift-configuration")]
        ),
    ]
)
