#!/usr/bin/env bash
# libFuzzer targets (docs/fuzzing.md).
#
#   scripts/fuzz.sh build                 build the fuzz executable (sanitizers on) into .build-fuzz
#   scripts/fuzz.sh TARGET [ARGS...]      build, then fuzz TARGET with libFuzzer ARGS (e.g. -runs=10000000)
#   scripts/fuzz.sh ci [SECONDS]          build, then run every target SECONDS (default 30) each
#   scripts/fuzz.sh list                  the targets
#   scripts/fuzz.sh seeds                 rewrite the binary seeds (wal, checkpoint) with the real writers
#
# Targets: csv ndjson engine registry alerts wal checkpoint. Each runs over a copy of its seed corpus
# (Fuzz/corpus/TARGET, kept in the repository) in .build-fuzz/corpus/TARGET; crashes, leaks and
# slow inputs are written to .build-fuzz/findings/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=$ROOT/.build-fuzz
TARGETS=(csv ndjson engine registry alerts wal checkpoint)

build() {
    # GRIDCARBON_FUZZ=1 adds the GridCarbonFuzz target to the package (Package.swift). Optimised
    # (3.5-4.5 times the executions per second of a debug build). The code's checks are
    # `precondition`s, which -O keeps; -assert-config Debug keeps any `assert` too.
    GRIDCARBON_FUZZ=1 swift build -c release --scratch-path "$SCRATCH" --product GridCarbonFuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -assert-config -Xswiftc Debug 1>&2
}

binary() { echo "$SCRATCH/release/GridCarbonFuzz"; }

run_target() {
    local target=$1; shift
    local corpus=$SCRATCH/corpus/$target findings=$SCRATCH/findings/$target
    mkdir -p "$corpus" "$findings"
    local seeds=$target
    [[ $target == engine ]] && seeds="csv ndjson"
    for s in $seeds; do
        for f in "$ROOT/Fuzz/corpus/$s/"*; do [[ -e $f ]] && cp -n "$f" "$corpus/$s-${f##*/}"; done
    done
    local dict=()
    [[ -f $ROOT/Fuzz/dict/$target.dict ]] && dict=(-dict="$ROOT/Fuzz/dict/$target.dict")
    # Slow inputs are findings too: 5 s per input at most (-timeout; the sanitizer build of the engine
    # is slow, and a loaded machine slower still), inputs over 1 s reported, 2 GB of memory (-rss_limit_mb,
    # -malloc_limit_mb: a declared length that allocates is found, not survived).
    GRIDCARBON_FUZZ_TARGET=$target ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$(binary)" \
        -artifact_prefix="$findings/" -timeout=5 -report_slow_units=1 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -max_len=65536 "${dict[@]}" "$@" "$corpus"
}

case "${1:-}" in
    build) build ;;
    list) printf '%s\n' "${TARGETS[@]}" ;;
    seeds)
        build
        tmp=$(mktemp -d)
        GRIDCARBON_FUZZ_SEEDS=$tmp ASAN_OPTIONS=detect_leaks=0 "$(binary)"
        rm -f "$ROOT"/Fuzz/corpus/wal/* "$ROOT"/Fuzz/corpus/checkpoint/*
        mv "$tmp"/wal-* "$ROOT/Fuzz/corpus/wal/"
        mv "$tmp"/checkpoint-* "$ROOT/Fuzz/corpus/checkpoint/"
        rm -rf "$tmp"
        ;;
    ci)
        secs=${2:-30}
        build
        for t in "${TARGETS[@]}"; do
            echo "== $t: $secs s" >&2
            run_target "$t" -max_total_time="$secs" -print_final_stats=1
        done
        echo "fuzz ci: ${#TARGETS[@]} targets, $secs s each, no finding" >&2
        ;;
    csv|ndjson|engine|registry|alerts|wal|checkpoint)
        t=$1; shift
        build
        run_target "$t" "$@"
        ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
