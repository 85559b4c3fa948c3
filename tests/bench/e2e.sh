#!/usr/bin/env bash
# kefu end-to-end benchmark (issue 6, item 4): tickets through the whole
# chain submit -> routed -> approved -> notified -> surveyed at rising
# concurrency, and in the same run the baselines on the same machine:
# pgbench one-row and 50-row batched INSERT transactions on the same
# PostgreSQL, and raw ZeroMQ PUSH/PULL. Run on demand, never from ctest
# (speed is measured, never asserted in tests); see README.md here.
#
#   tests/bench/e2e.sh [-n N] [-c "1 4 16"] [-k APPROVERS] [-T SECONDS]
#                      [-m ZMQ-MESSAGES] [--durable on|off] [--no-results]
#                      [--note TEXT]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

N=${KEFU_BENCH_N:-500}
CLIENTS=${KEFU_BENCH_CLIENTS:-"1 4 16"}
APPROVERS=4
PGBENCH_SECONDS=${KEFU_BENCH_PGBENCH_SECONDS:-10}
ZMQ_MESSAGES=1000000
DURABLE=on
WRITE_RESULTS=1
NOTE=
WAIT_S=${KEFU_BENCH_WAIT_S:-600}

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

  -n N            tickets per concurrency level (default 500; \$KEFU_BENCH_N)
  -c LIST         concurrency levels: clients submitting, and clients approving and
                  resolving (default "1 4 16"; \$KEFU_BENCH_CLIENTS)
  -k K            approvers, one amount band and one single-step policy each (default 4)
  -T SECONDS      duration of each pgbench baseline per level (default 10)
  -m MESSAGES     raw PUSH/PULL messages, 200 bytes each (default 1000000)
  --durable on    PostgreSQL with fsync, synchronous_commit and full_page_writes on
                  (stock settings, the default); off keeps the integration harness's
                  fast-and-unsafe settings
  --no-results    print only; do not append to tests/bench/RESULTS.md
  --note TEXT     a line of context written with the results

A level waits at most \$KEFU_BENCH_WAIT_S (default 600) seconds for its last
survey and notification; \$KEFU_BENCH_DEADLINE (default 3000) bounds the run.
EOF
}

# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
while [[ $# -gt 0 ]]; do
    bench_option "$@"
    if ((SHIFT)); then shift "$SHIFT"; continue; fi
    case $1 in
        -k) APPROVERS=${2:?}; shift 2 ;;
        -m) ZMQ_MESSAGES=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "e2e.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
bench_check_options e2e.sh
[[ $ZMQ_MESSAGES =~ ^[0-9]+$ && $ZMQ_MESSAGES -gt 0 ]] || { echo "e2e.sh: -m takes a positive integer" >&2; exit 2; }
[[ $APPROVERS =~ ^[0-9]+$ && $APPROVERS -ge 1 && $APPROVERS -le 99 ]] ||
    { echo "e2e.sh: -k takes 1 to 99" >&2; exit 2; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- build
bench_build kefu-bus kefu-intake kefu-router kefu-approval kefu-notifier kefu-survey kefu kefu-load \
    kefu-e2e-flow kefu-bench-zmq
bench_find_pgbench
LOAD=$build_dir/tests/bench/kefu-load
FLOW=$build_dir/tests/bench/kefu-e2e-flow
ZMQ=$build_dir/tests/bench/kefu-bench-zmq

export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-3000}
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
# shellcheck source=../integration/approval_lib.sh
source "$source_dir/tests/integration/approval_lib.sh"
it_init bench_e2e
bench_chain_env
it_pg_start

pg_settings='' pg_version=''
bench_pg_settings "$DURABLE"

bench_chain_approvers "$APPROVERS" e2e
KEFU_CERT=$(it_cert agent.li)
export KEFU_CERT

bench_pgbench_scripts

# ---------------------------------------------------------------- helpers
DAEMONS=(bus intake router approval notifier survey)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "-" }'; }

# ---------------------------------------------------------------- raw ZeroMQ
it_note "raw ZeroMQ PUSH/PULL: $ZMQ_MESSAGES messages of 200 bytes"
"$ZMQ" -n "$ZMQ_MESSAGES" -s 200 >"$IT_DIR/zmq.out" || it_fail "kefu-bench-zmq failed: $(cat "$IT_DIR/zmq.out")"
zmq_rate=$(val msgs_per_s "$IT_DIR/zmq.out")

# ---------------------------------------------------------------- levels
rows=()
cpu_rows=()
raw=()
for c in $CLIENTS; do
    for d in "${DAEMONS[@]}"; do it_start "$d"; done
    it_wait_for "intake to answer" 30 "$LOAD" -n 1 --timeout-ms 1000 --idem-prefix "probe$c"
    it_wait_for "kefu-approval to answer" 30 kefu --endpoint "$KEFU_APPROVAL" approvals
    it_wait_for "the probe routed" 60 it_psql_is \
        "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0
    t_base=$(it_psql "SELECT coalesce(max(id), 0) FROM ticket")
    n_base=$(it_psql "SELECT coalesce(max(id), 0) FROM notification")
    declare -A pid=() c0=()
    for d in "${DAEMONS[@]}"; do pid[$d]=$(it_pid "$d"); c0[$d]=$(cpu_ms "${pid[$d]}"); done
    mapfile -t pg_pids < <(pg_all_pids)
    pg0=$(cpu_ms "${pg_pids[@]}")
    m0=$(machine_jiffies)
    t0=${EPOCHREALTIME/./}

    it_note "level $c: kefu-load -n $N -c $c (submit, routed)"
    load_out=$IT_DIR/load-$c.out
    st=0
    timeout 1200 "$LOAD" -n "$N" -c "$c" --mix --wait-routed 120000 --timeout-ms 10000 \
        --idem-prefix "e2e$c" --tickets "$IT_DIR/tickets-$c.txt" >"$load_out" 2>"$IT_DIR/load-$c.err" || st=$?
    [[ $st == 0 ]] || it_fail "kefu-load exited with $st: $(tr '\n' ' ' <"$load_out") $(cat "$IT_DIR/load-$c.err")"

    it_note "level $c: kefu-e2e-flow -c $c (approval requested, approved; resolved)"
    flow_out=$IT_DIR/flow-$c.out
    st=0
    timeout 1200 "$FLOW" --tickets "$IT_DIR/tickets-$c.txt" --cert "$KEFU_CERT" \
        --cert-dir "$IT_DIR/certs" -k "$APPROVERS" -c "$c" >"$flow_out" 2>"$IT_DIR/flow-$c.err" || st=$?
    [[ $st == 0 ]] || it_fail "kefu-e2e-flow exited with $st: $(tr '\n' ' ' <"$flow_out") $(head -c 2000 "$IT_DIR/flow-$c.err")"

    it_note "level $c: waiting for every survey and notification"
    it_wait_for "level $c: every ticket surveyed and notified" "$WAIT_S" chain_done "$N" "$t_base" "$n_base"
    t1=${EPOCHREALTIME/./}
    declare -A c1=() rss=()
    for d in "${DAEMONS[@]}"; do c1[$d]=$(cpu_ms "${pid[$d]}"); rss[$d]=$(vm_hwm_mib "${pid[$d]}"); done
    pg1=$(cpu_ms "${pg_pids[@]}")
    m1=$(machine_jiffies)
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do it_kill "${DAEMONS[$i]}" TERM; done

    # Throughput from the store: first ticket received to the chain's last
    # write (a survey or a notification sent).
    chain_figures "$N" "$t_base" "$n_base"
    e2e_rate=$chain_rate notifications=$notified

    it_note "level $c: pgbench baselines, ${PGBENCH_SECONDS}s each"
    tps_one=$(pgbench_run "$IT_DIR/one.sql" "$c" "$IT_DIR/pgbench-one-$c.out")
    tps_batch=$(pgbench_run "$IT_DIR/batch.sql" "$c" "$IT_DIR/pgbench-batch-$c.out")
    rows_batch=$(awk -v t="$tps_batch" 'BEGIN { printf "%.0f", t * 50 }')

    rows+=("| $c | $N | $e2e_rate | $(val ack_per_s "$load_out") | $(val flow_per_s "$flow_out") | $(val ack_p50_ms "$load_out") / $(val ack_p99_ms "$load_out") | $h_route | $h_approve | $h_notify ($notifications$([[ $failed == 0 ]] || echo ", $failed not sent")) | $h_survey | ${tps_one%.*} | $rows_batch | $(ratio "$e2e_rate" "$tps_one") | $(ratio "$e2e_rate" "$rows_batch") | $(ratio "$e2e_rate" "$zmq_rate") |")
    per() { awk -v d="$1" -v n="$N" 'BEGIN { printf "%.0f", d * 1000 / n }'; }
    cpu_line="| $c"
    kefu_total=0
    for d in "${DAEMONS[@]}"; do
        cpu_line+=" | $(per $((c1[$d] - c0[$d]))) (${rss[$d]})"
        kefu_total=$((kefu_total + c1[$d] - c0[$d]))
    done
    machine=$(awk -v a="$m0" -v b="$m1" -v n="$N" -v t="$TCK" 'BEGIN { split(a, x, " "); split(b, y, " ");
        printf "%.0f (%.0f %%)", (y[1] - x[1]) * 1e6 / t / n, 100 * (y[1] - x[1]) / (y[2] - x[2]) }')
    cpu_rows+=("$cpu_line | $(per "$kefu_total") | $(per $((pg1 - pg0))) | $machine | $(( (t1 - t0) / 1000 )) |")
    raw+=("c=$c load: $(tr '\n' ' ' <"$load_out")")
    raw+=("c=$c flow: $(tr '\n' ' ' <"$flow_out")")
    raw+=("c=$c store: span_ms=$span_ms notifications=$notifications not_sent=$failed pgbench_one_tps=$tps_one pgbench_batch50_tps=$tps_batch")
    unset pid c0 c1 rss
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
fs=$(df -T "$IT_DIR" | awk 'NR == 2 {print $2}')
commit=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo "?")
report=$(
    echo "## $(date '+%Y-%m-%d %H:%M %Z') — end to end (e2e.sh): N=$N tickets per level, clients $CLIENTS, $APPROVERS approvers, durable=$DURABLE"
    echo
    echo "Machine: $(nproc) vCPU ($model), $mem RAM; load average $load_before before the run, $load_after after."
    echo "PostgreSQL $pg_version on $fs; $pg_settings. Tree at $commit$(git -C "$source_dir" diff --quiet HEAD -- 2>/dev/null || echo ' (plus uncommitted work)')."
    echo "Raw ZeroMQ PUSH/PULL (one pair, TCP loopback, 200-byte messages): $zmq_rate msgs/s."
    [[ -z $NOTE ]] || echo "Note: $NOTE"
    echo
    echo "| clients | tickets | end to end tickets/s | submits acked/s | approve+resolve flows/s | submit→ack p50 / p99 ms (client) | received→routed p50 / p99 ms | approval requested→completed p50 / p99 ms | notification created→sent p50 / p99 ms (count) | resolved→survey sent p50 / p99 ms | pgbench one-row tps | pgbench batched rows/s (50 per tx) | ÷ one-row | ÷ batched | ÷ PUSH/PULL |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "CPU per ticket, µs, from /proc over the level (submit to last notification), and peak RSS (VmHWM) in MiB in brackets:"
    echo
    echo "| clients | bus | intake | router | approval | notifier | survey | all kefu daemons | all PostgreSQL | whole machine (busy) | level wall ms |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${cpu_rows[@]}"
    echo
    raw_details "${raw[@]}"
)
publish "$report"
