#!/usr/bin/env bash
# Builds the libFuzzer targets (FuzzLineFraming, FuzzRequestLine, FuzzPlanDocument) with
# coverage and AddressSanitizer, into Fuzz/.build-fuzz; the root package never builds them.
# Prints where the binaries are.
set -euo pipefail
cd "$(dirname "$0")"
# The sanitizer flags apply to every module of the graph (NIO, swift-log, the daemon's own);
# -enable-testing lets the targets reach the daemon's internals with @testable import.
swift build --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing "$@" 2>&1 |
    { grep -v "warning: Cannot export local symbol" || true; }  # gold, once per ASan helper: noise
echo "fuzz: built in $(swift build --scratch-path .build-fuzz --show-bin-path)"
