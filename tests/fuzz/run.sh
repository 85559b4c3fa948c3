#!/usr/bin/env bash
# kefu — run the libFuzzer targets of tests/fuzz (see README.md here).
#
#   tests/fuzz/run.sh [--time SECONDS] [--build DIR] [--merge] [TARGET...]
#       A long run on demand: configures and builds DIR (default ./build-fuzz)
#       with CC=clang -DKEFU_FUZZ=ON when needed, then fuzzes each TARGET
#       (default: all) for SECONDS (default 600) in turn, and prints a summary
#       line per target. New inputs accumulate in DIR/tests/fuzz/work/TARGET;
#       --merge then adds those that reach new code to corpus/TARGET.
#
#   tests/fuzz/run.sh --ctest TARGET BINARY BINARY-DIR
#       The bounded run ctest registers (label fuzz): KEFU_FUZZ_SECONDS
#       (default 20, at most 240) of fuzzing, after replaying corpus/TARGET.
#
# Exit status: 0 when no target crashed; 1 otherwise (the crashing input is
# in BINARY-DIR/artifacts/TARGET/, see "Turning a crash into a regression
# test" in README.md).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORPUS=$HERE/corpus
TARGETS=(envelope body_json req_submit req_list req_action approval_req survey_req survey_report
    gateway_request gateway_calls)

say() { printf 'fuzz: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

# Fuzzes one target: fuzz_one NAME BINARY BINARY-DIR SECONDS. Prints one
# summary line; returns libFuzzer's status.
fuzz_one() {
    local name=$1 bin=$2 dir=$3 seconds=$4
    local work=$dir/work/$name art=$dir/artifacts/$name log=$dir/logs/$name.log
    [[ -x $bin ]] || die "$bin is not built"
    [[ -d $CORPUS/$name ]] || die "no corpus directory $CORPUS/$name"
    mkdir -p "$work" "$art" "$(dirname "$log")"
    rm -f "$dir/logs/$name.summary"
    local dict=()
    [[ -f $HERE/$name.dict ]] && dict=(-dict="$HERE/$name.dict")
    local rc=0
    # The first directory receives new inputs: never the committed corpus.
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
           -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" \
           "$work" "$CORPUS/$name" >"$log" 2>&1 || rc=$?
    local runs eps cov corpus
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | cut -d' ' -f2)
    corpus=$(find "$work" -type f | wc -l)
    # The summary also stays in logs/NAME.summary (deploy/local.sh test prints it).
    printf 'fuzz_%-14s runs=%s exec/s=%s seconds=%s cov=%s work-corpus=%s seeds=%s status=%s\n' \
           "$name" "${runs:-?}" "${eps:-?}" "$seconds" "${cov:-?}" "$corpus" \
           "$(find "$CORPUS/$name" -type f | wc -l)" "$rc" | tee "$dir/logs/$name.summary"
    if [[ $rc != 0 ]]; then
        say "fuzz_$name FAILED (status $rc); the end of its log ($log):"
        tail -n 60 "$log" >&2
        say "crashing inputs kept in $art/:"
        ls -l "$art" >&2 || true
        say "reproduce: $bin $art/<file>; then see README.md (Turning a crash into a regression test)"
        return 1
    fi
    return 0
}

if [[ ${1:-} == --ctest ]]; then
    (($# == 4)) || die "usage: run.sh --ctest TARGET BINARY BINARY-DIR"
    seconds=${KEFU_FUZZ_SECONDS:-20}
    [[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || die "KEFU_FUZZ_SECONDS must be a positive integer"
    ((seconds <= 240)) || seconds=240
    fuzz_one "$2" "$3" "$4" "$seconds"
    exit
fi

seconds=600
build=$ROOT/build-fuzz
merge=0
selected=()
while (($#)); do
    case $1 in
        --time) seconds=${2:?--time SECONDS}; shift 2 ;;
        --build) build=${2:?--build DIR}; shift 2 ;;
        --merge) merge=1; shift ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) selected+=("$1"); shift ;;
    esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || die "--time needs a positive number of seconds"
((${#selected[@]})) || selected=("${TARGETS[@]}")
for name in "${selected[@]}"; do
    [[ " ${TARGETS[*]} " == *" $name "* ]] || die "unknown target $name (targets: ${TARGETS[*]})"
done

command -v clang >/dev/null || die "clang is needed (apt-get install clang)"
if [[ ! -f $build/CMakeCache.txt ]]; then
    say "configuring $build (CC=clang, KEFU_FUZZ=ON)"
    CC=clang cmake -S "$ROOT" -B "$build" -DKEFU_FUZZ=ON >/dev/null
fi
say "building the fuzz targets in $build"
cmake --build "$build" --target fuzz_all -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

failed=0
for name in "${selected[@]}"; do
    say "fuzz_$name for ${seconds}s"
    fuzz_one "$name" "$build/tests/fuzz/fuzz_$name" "$build/tests/fuzz" "$seconds" || failed=1
    if [[ $merge == 1 && $failed == 0 ]]; then
        before=$(find "$CORPUS/$name" -type f | wc -l)
        "$build/tests/fuzz/fuzz_$name" -merge=1 "$CORPUS/$name" "$build/tests/fuzz/work/$name" \
            >"$build/tests/fuzz/logs/$name.merge.log" 2>&1 ||
            die "merging into corpus/$name failed; see $build/tests/fuzz/logs/$name.merge.log"
        say "corpus/$name: $before -> $(find "$CORPUS/$name" -type f | wc -l) files"
    fi
done
exit "$failed"
