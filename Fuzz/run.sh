#!/usr/bin/env bash
# Fuzzes each libFuzzer target for SECONDS (default 60) from its committed seeds
# (Fuzz/Corpus/<target>, and for the plan loader the shipped plans in Config/plans), then
# prints one line of figures per target: runs, execs/s, coverage, corpus, peak RSS, crashes.
# New inputs go to Fuzz/.build-fuzz/corpus/<target> (kept between runs), crashes to
# Fuzz/.build-fuzz/crashes/; a crash fails the run. Build first with Fuzz/build.sh.
#   Fuzz/run.sh [SECONDS] [TARGET...]      e.g. Fuzz/run.sh 20, Fuzz/run.sh 300 FuzzPlanDocument
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-FuzzLineFraming FuzzRequestLine FuzzPlanDocument}
# A crash is libFuzzer's and AddressSanitizer's to report: Swift's backtracer, reading other
# threads' stacks, trips AddressSanitizer itself.
export SWIFT_BACKTRACE=enable=no
# Swift's runtime keeps what it allocates once (metadata, the table's pool threads): not leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
bin=$(swift build --scratch-path .build-fuzz --show-bin-path)
mkdir -p .build-fuzz/crashes .build-fuzz/logs
failed=0
for target in $targets; do
    name=${target#Fuzz}
    corpus=.build-fuzz/corpus/$name
    mkdir -p "$corpus"
    cp Corpus/"$name"/* "$corpus"/
    [ "$name" = PlanDocument ] && cp ../Config/plans/*.json "$corpus"/
    case $name in
        LineFraming) max_len=512 ;;
        PlanDocument) max_len=262144 ;;
        *) max_len=4096 ;;
    esac
    log=.build-fuzz/logs/$name.log
    status=0
    "$bin/$target" "$corpus" -dict=Dictionaries/"$name".dict -max_total_time="$seconds" -max_len="$max_len" \
        -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 -artifact_prefix=.build-fuzz/crashes/"$name"- \
        >"$log" 2>&1 || status=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    # A crash at exit can print the final stats twice: the first counts.
    runs=$(sed -n '/^stat::number_of_executed_units:/{s/.*: *//p;q}' "$log")
    rate=$(sed -n '/^stat::average_exec_per_sec:/{s/.*: *//p;q}' "$log")
    rss=$(sed -n '/^stat::peak_rss_mb:/{s/.*: *//p;q}' "$log")
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    features=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    units=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    crashes=$(grep -c '^artifact_prefix=.*Test unit written to' "$log" || true)
    echo "fuzz: $target: ${runs:-?} runs in ${seconds} s, ${rate:-?} execs/s, cov ${cov:-?}, ft ${features:-?}, corpus ${units:-?}, peak RSS ${rss:-?} MB, crashes ${crashes}"
    if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        failed=1
        echo "fuzz: $target FAILED (exit $status); its log, $log, ends:"
        grep -v '^#[0-9]' "$log" | tail -40
    fi
done
exit $failed
