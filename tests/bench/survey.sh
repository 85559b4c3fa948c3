#!/usr/bin/env bash
# kefu benchmark of the survey loop: how fast kefu-survey turns resolutions
# into surveys and sends them, and how many follow-up answers per second it
# records, against a private PostgreSQL (durable stock settings by default).
# Run on demand (never from ctest).
#
#   tests/bench/survey.sh [-n N] [-c "1 4 16"] [--durable on|off]
#
# Steps: start bus, intake, router and kefu-survey (KEFU_SURVEY_DELAY_S=0);
# submit N x levels tickets with kefu-load and wait until they are routed;
# resolve them in the store, 500 per transaction (kefu_resolve, as intake
# does; no bus doorbell, so kefu-survey's catch-up creates the surveys) and
# time the surveys being created and sent; then for each concurrency C,
# kefu-survey-load records N answers (scores 3-5) on fresh tickets; then N
# answers of which every 4th scores 2 and reopens its ticket (C=4); then the
# first level's answers again (all duplicates, C=4).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
N=${KEFU_BENCH_N:-5000}
CLIENTS=${KEFU_BENCH_CLIENTS:-"1 4 16"}
DURABLE=${KEFU_BENCH_DURABLE:-on}

while [[ $# -gt 0 ]]; do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -c) CLIENTS=${2:?}; shift 2 ;;
        --durable) DURABLE=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "survey.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || { echo "survey.sh: -n must be a positive integer" >&2; exit 2; }
[[ $DURABLE == on || $DURABLE == off ]] || { echo "survey.sh: --durable is on or off" >&2; exit 2; }

build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
[[ -f $build_dir/CMakeCache.txt ]] || cmake -S "$source_dir" -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j 2 --target kefu-bus kefu-intake kefu-router kefu-survey kefu \
      kefu-load kefu-survey-load >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-1800}
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
it_init bench_survey
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY_DELAY_S=0 KEFU_SURVEY_SCAN_MS=100 KEFU_SURVEY_CATCHUP_MS=100
export KEFU_SURVEY_BATCH=${KEFU_SURVEY_BATCH:-500} KEFU_LOG_LEVEL=warn
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
if [[ $DURABLE == on ]]; then
    it_psql "ALTER SYSTEM SET fsync = on; " >/dev/null
    it_psql "ALTER SYSTEM SET synchronous_commit = on" >/dev/null
    it_psql "ALTER SYSTEM SET full_page_writes = on" >/dev/null
    it_psql "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
fi
it_start bus
it_start intake
it_start router
it_start survey
it_wait_for "intake to answer" 30 kefu tickets --limit 1

levels=($CLIENTS)
total=$((N * (${#levels[@]} + 1)))
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

it_note "submitting $total tickets"
"$build_dir/tests/bench/kefu-load" -n "$total" -c 4 --tickets "$IT_DIR/all.tickets" \
    >"$IT_DIR/log/load.log" 2>&1 || it_fail "kefu-load failed: $(tail -n 3 "$IT_DIR/log/load.log")"
it_wait_for "every ticket routed" 300 it_psql_is "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0

it_note "resolving $total tickets, 500 per transaction"
t0=$(now_ms)
for ((i = 0; i < (total + 499) / 500; i++)); do
    echo "SELECT count(*) FROM (SELECT id FROM ticket WHERE status <> 'resolved' ORDER BY id
          LIMIT 500) t, LATERAL kefu_resolve(t.id, 'agent.li', NULL, 'bench');"
done | psql -X -q -At -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" >/dev/null
t1=$(now_ms)
it_wait_for "every survey created" 600 it_psql_is "SELECT count(*) FROM survey" "$total"
t2=$(now_ms)
it_wait_for "every survey sent" 600 it_psql_is "SELECT count(*) FROM survey WHERE sent_at IS NULL" 0
t3=$(now_ms)
created_per_s=$(awk -v n="$total" -v ms=$((t2 - t0)) 'BEGIN { printf "%.0f", n * 1000 / ms }')
sent_per_s=$(awk -v n="$total" -v ms=$((t3 - t0)) 'BEGIN { printf "%.0f", n * 1000 / ms }')

mapfile -t ALL < <(it_psql "SELECT no FROM ticket ORDER BY id")
results=()
value() { sed -n "s/^$1=//p" "$2" | tail -n1; }
run_level() { # run_level LABEL C FILE [options]
    local label=$1 c=$2 file=$3 out=$IT_DIR/$1.out
    shift 3
    "$build_dir/tests/bench/kefu-survey-load" --tickets "$file" -c "$c" "$@" >"$out" 2>&1 ||
        it_note "kefu-survey-load $label: $(tr '\n' ' ' <"$out")"
    results+=("| $label | $c | $(value answered "$out") | $(value duplicates "$out") | $(value reopened "$out") | $(value errors "$out") | $(value answers_per_s "$out") | $(value p50_ms "$out") | $(value p99_ms "$out") |")
}
idx=0
for c in "${levels[@]}"; do
    printf '%s\n' "${ALL[@]:idx:N}" >"$IT_DIR/level$c.tickets"
    [[ $idx == 0 ]] && first=$IT_DIR/level$c.tickets
    run_level "answers (scores 3-5)" "$c" "$IT_DIR/level$c.tickets"
    idx=$((idx + N))
done
printf '%s\n' "${ALL[@]:idx:N}" >"$IT_DIR/low.tickets"
run_level "answers, every 4th a 2 (reopens)" 4 "$IT_DIR/low.tickets" --low-every 4
run_level "the same answers again (duplicates)" 4 "$first"

answers=$(it_psql "SELECT count(*) FROM survey WHERE answered_at IS NOT NULL")
events=$(it_psql "SELECT count(*) FROM event WHERE type = 'survey.answered'")
reopened=$(it_psql "SELECT count(*) FROM event WHERE type = 'ticket.reopened'")
cat <<EOF

## survey loop, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL durable=$DURABLE

resolutions: $total in $((t1 - t0)) ms (500 per transaction); all surveys created after
$((t2 - t0)) ms (**$created_per_s surveys created/s**, catch-up, batch $KEFU_SURVEY_BATCH),
all sent (survey.sent) after $((t3 - t0)) ms (**$sent_per_s/s** end to end).

| run | clients | answered | duplicates | reopened | errors | answers/s | p50 ms | p99 ms |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(printf '%s\n' "${results[@]}")

Store afterwards: $answers answers, $events survey.answered events, $reopened ticket.reopened.
EOF
