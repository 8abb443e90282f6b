// swift-tools-version:6.1
// The libFuzzer targets, a package of their own so the root package's `swift build` and
// `swift test` never build them. Build and run with Fuzz/build.sh and Fuzz/run.sh.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is whatever the checkout was cloned as.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "bbcs-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which each target's entry point calls.
        .target(name: "CLibFuzzer"),
        // (a) The frame decoder, fed through a ByteToMessageHandler in pieces the fuzzer chooses.
        .executableTarget(
            name: "FuzzLineFraming",
            dependencies: [
                "CLibFuzzer",
                .product(name: "BBCSFuzzable", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // (b) The request decoder against the daemon's method table, parameters bound, no database.
        .executableTarget(
            name: "FuzzRequestLine",
            dependencies: [
                "CLibFuzzer",
                .product(name: "BBCSFuzzable", package: root),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // (c) The plan loader: decoding, validation, and the period arithmetic reads do on a plan.
        .executableTarget(
            name: "FuzzPlanDocument",
            dependencies: ["CLibFuzzer", .product(name: "BBCSFuzzable", package: root)]
        ),
    ]
)
