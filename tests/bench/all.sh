#!/usr/bin/env bash
# kefu benchmark, all of it in one run (issue 16, item 4): against one
# private, durable PostgreSQL and at each concurrency level, pgbench's one-row
# and 50-row INSERT (the floor and the ceiling), intake alone, submit ->
# routed, the whole chain (routed -> approved -> resolved -> notified ->
# surveyed) and approval decisions, with p50 / p99 latencies, CPU per item
# split by process, WAL bytes per item and every daemon's peak RSS. Prints
# one Markdown report and appends it, dated, to RESULTS.md. Run on demand,
# never from ctest (speed is measured, never asserted); see README.md here.
#
#   tests/bench/all.sh [-n N] [-c "1 16 64"] [-T SECONDS] [--store-size S]
#                      [--durable on|off] [--no-results] [--note TEXT]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

N=${KEFU_BENCH_N:-5000}
CLIENTS=${KEFU_BENCH_CLIENTS:-"1 16 64"}
PGBENCH_SECONDS=${KEFU_BENCH_PGBENCH_SECONDS:-10}
STORE_SIZE=0
DURABLE=on
WRITE_RESULTS=1
NOTE=
WARMUP=${KEFU_BENCH_WARMUP:-300}
WAIT_S=${KEFU_BENCH_WAIT_S:-600}
APPROVERS=20 # bench_chain_approvers: ap01..ap20, one refund policy each

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

  -n N             tickets (and approval decisions) per phase and level
                   (default 5000; \$KEFU_BENCH_N)
  -c LIST          concurrency levels (default "1 16 64"; \$KEFU_BENCH_CLIENTS)
  -T SECONDS       duration of each pgbench baseline per level (default 10)
  --store-size S   before measuring, write S finished tickets straight into the
                   store (set-based SQL: tickets, history, outbox events marked
                   processed), e.g. 1000000, to show latency against the
                   store's size; compare with a run without it
  --durable on     PostgreSQL with fsync, synchronous_commit and full_page_writes
                   on (stock settings, the default); off keeps the integration
                   harness's fast-and-unsafe settings
  --no-results     print only; do not append to tests/bench/RESULTS.md
  --note TEXT      a line of context written with the results

Per level: pgbench one-row, pgbench 50-row; bus + intake (intake alone);
+ router (submit -> routed); + approval, notifier, survey (the whole chain,
kefu-load then kefu-e2e-flow); kefu-approval alone (decisions). Daemons are
started afresh per level, so peak RSS is per level. \$KEFU_BENCH_DEADLINE
(default 7200 s) bounds the run; everything started is stopped on exit,
failure or Ctrl-C.
EOF
}

fail_usage() { echo "all.sh: $*" >&2; exit 2; }
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
while [[ $# -gt 0 ]]; do
    bench_option "$@"
    if ((SHIFT)); then shift "$SHIFT"; continue; fi
    case $1 in
        --store-size) STORE_SIZE=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) fail_usage "unknown argument '$1' (try --help)" ;;
    esac
done
bench_check_options all.sh
[[ $STORE_SIZE =~ ^[0-9]+$ ]] || fail_usage "--store-size takes a number of tickets"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_t0=$SECONDS

bench_build kefu-bus kefu-intake kefu-router kefu-approval kefu-notifier kefu-survey kefu \
    kefu-admin kefu-load kefu-e2e-flow kefu-test-approval-decide
bench_find_pgbench
LOAD=$build_dir/tests/bench/kefu-load
FLOW=$build_dir/tests/bench/kefu-e2e-flow
DECIDE=$build_dir/tests/integration/kefu-test-approval-decide

export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-7200}
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
# shellcheck source=../integration/approval_lib.sh
source "$source_dir/tests/integration/approval_lib.sh"
it_init bench_all
bench_trap_signals
bench_chain_env
it_pg_start

pg_settings='' pg_version=''
bench_pg_settings "$DURABLE"
bench_chain_approvers "$APPROVERS" bench
KEFU_CERT=$(it_cert agent.li)
export KEFU_CERT
agent_key=$(it_psql "SELECT public_key FROM staff_cert WHERE staff_id = 'agent.li' AND revoked_at IS NULL LIMIT 1")
bench_pgbench_scripts

preload_note=
if ((STORE_SIZE > 0)); then
    it_note "preloading $STORE_SIZE tickets"
    p0=$SECONDS
    bench_preload "$STORE_SIZE"
    preload_note="Store preloaded with $STORE_SIZE finished tickets in $((SECONDS - p0)) s (bench_preload, bench_lib.sh): $(it_psql "SELECT pg_size_pretty(pg_database_size('kefu'))") in all."
    it_note "$preload_note"
fi

# ---------------------------------------------------------------- phases
DAEMONS=(bus intake router approval notifier survey)

# Starts the named daemons.
start() { local d; for d in "$@"; do it_start "$d"; done; }

# Stops the named daemons that run, last first.
stop() {
    local i
    for ((i = $# ; i >= 1; i--)); do
        ! it_running "${!i}" || it_kill "${!i}" TERM
    done
}

# Starts the measure of a phase: CPU of the daemons running, of PostgreSQL,
# of the machine; WAL bytes.
measure_begin() {
    local d pids=()
    declare -gA m_c0=()
    for d in "${DAEMONS[@]}"; do
        if it_running "$d"; then
            m_c0[$d]=$(cpu_ms "$(it_pid "$d")")
            pids+=("$(it_pid "$d")")
        fi
    done
    m_pg0=$(pg_cpu_ms) m_wal0=$(wal_bytes) m_mach0=$(machine_jiffies)
    ((${#pids[@]} == 0)) || pss_sampler_start "${pids[@]}"
}

# measure_end PHASE CLIENTS ITEMS LOADER-CPU-MS: adds the phase's row of CPU
# µs per item (each daemon, all daemons, PostgreSQL, loader, machine), WAL
# bytes per item and peak RSS (MiB) of each daemon running to cost_rows.
measure_end() {
    local phase=$1 c=$2 n=$3 loader=$4 d row rss total=0 t
    local pg1 wal1 mach1
    pg1=$(pg_cpu_ms) wal1=$(wal_bytes) mach1=$(machine_jiffies)
    pss_sampler_stop
    per() { awk -v d="$1" -v n="$n" 'BEGIN { if (n > 0 && d != "") printf "%.0f", d * 1000 / n; else print "-" }'; }
    row="| $phase | $c | $n"
    rss=
    for d in "${DAEMONS[@]}"; do
        if [[ -n ${m_c0[$d]:-} ]] && it_running "$d"; then
            t=$(( $(cpu_ms "$(it_pid "$d")") - ${m_c0[$d]} ))
            total=$((total + t))
            row+=" | $(per "$t")"
            rss+="${rss:+ / }$(vm_hwm_mib "$(it_pid "$d")")"
        else
            row+=" | –"
            rss+="${rss:+ / }–"
        fi
    done
    row+=" | $(per "$total") | $(per $((pg1 - m_pg0))) | $(per "$loader")"
    row+=" | $(busy_us_per "$m_mach0" "$mach1" "$n") ($(busy_pct "$m_mach0" "$mach1") %)"
    row+=" | $(awk -v b=$((wal1 - m_wal0)) -v n="$n" 'BEGIN { printf "%.0f", b / n }') | $rss | $pss_peak_mib |"
    cost_rows+=("$row")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else print "-" }'; }

# load PREFIX C [kefu-load options]: N submits from C clients into
# $IT_DIR/PREFIX.out (tickets in PREFIX.tickets); fails the run unless all
# were acknowledged (and routed, with --wait-routed).
load() {
    local prefix=$1 c=$2 st=0
    shift 2
    bench_fg timeout 1800 "$LOAD" -n "$N" -c "$c" --mix --timeout-ms 10000 --idem-prefix "$prefix" \
        --tickets "$IT_DIR/$prefix.tickets" "$@" >"$IT_DIR/$prefix.out" 2>"$IT_DIR/$prefix.err" || st=$?
    [[ $st == 0 ]] || it_fail "kefu-load ($prefix) exited with $st: $(tr '\n' ' ' <"$IT_DIR/$prefix.out") $(head -c 2000 "$IT_DIR/$prefix.err")"
    raw+=("$prefix: $(tr '\n' ' ' <"$IT_DIR/$prefix.out")")
}

# Level C, the baselines: pgbench one-row and 50-row INSERT.
phase_pgbench() {
    local c=$1 tx
    it_note "level $c: pgbench one-row and 50-row, ${PGBENCH_SECONDS}s each"
    measure_begin
    tps_one=$(pgbench_run "$IT_DIR/one.sql" "$c" "$IT_DIR/pgbench-one-$c.out")
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$IT_DIR/pgbench-one-$c.out")
    measure_end "pgbench one-row INSERT (per row)" "$c" "$tx" ""
    lat_one=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$IT_DIR/pgbench-one-$c.out")
    measure_begin
    tps_batch=$(pgbench_run "$IT_DIR/batch.sql" "$c" "$IT_DIR/pgbench-batch-$c.out")
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$IT_DIR/pgbench-batch-$c.out")
    measure_end "pgbench 50-row INSERT (per row)" "$c" "$((tx * 50))" ""
    rows_batch=$(awk -v t="$tps_batch" 'BEGIN { printf "%.0f", t * 50 }')
}

# Level C, intake alone: bus and intake, warmed up, then N submits.
phase_intake() {
    local c=$1
    start bus intake
    it_wait_for "intake to answer" 30 "$LOAD" -n 1 --timeout-ms 1000 --idem-prefix "probe$c"
    bench_fg timeout 300 "$LOAD" -n "$WARMUP" -c 4 --idem-prefix "warm$c" >"$IT_DIR/warm-$c.out" ||
        it_fail "warm-up failed: $(cat "$IT_DIR/warm-$c.out")"
    it_note "level $c: intake alone, kefu-load -n $N -c $c"
    measure_begin
    load "intake$c" "$c"
    measure_end "intake alone (per ticket)" "$c" "$N" "$(val load_cpu_ms "$IT_DIR/intake$c.out")"
}

# Level C, submit -> routed: the router joins, routes what intake alone
# left (not measured), then N submits waited for until routed.
phase_routed() {
    local c=$1
    start router
    it_wait_for "the router to catch up" "$WAIT_S" it_psql_is \
        "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0
    it_note "level $c: submit -> routed, kefu-load -n $N -c $c --wait-routed"
    measure_begin
    load "routed$c" "$c" --wait-routed 120000
    measure_end "submit → routed (per ticket)" "$c" "$N" "$(val load_cpu_ms "$IT_DIR/routed$c.out")"
}

# Level C, the whole chain: approval, notifier and survey join (past the
# events of the phases before, which they would have taken as they came);
# N submits until routed, then kefu-e2e-flow (approval opened, approved,
# ticket resolved) until every survey and notification is sent.
phase_chain() {
    local c=$1 st=0 t_base n_base flow_cpu resolved
    skip_events_for notifier survey
    start approval notifier survey
    it_wait_for "kefu-approval to answer" 30 approval_answers
    t_base=$(it_psql "SELECT coalesce(max(id), 0) FROM ticket")
    n_base=$(it_psql "SELECT coalesce(max(id), 0) FROM notification")
    it_note "level $c: the whole chain, $N tickets"
    measure_begin
    load "chain$c" "$c" --wait-routed 120000
    bench_fg timeout 1800 "$FLOW" --tickets "$IT_DIR/chain$c.tickets" --cert "$KEFU_CERT" --cert-dir "$IT_DIR/certs" \
        -k "$APPROVERS" -c "$c" --timeout-ms 30000 >"$IT_DIR/flow$c.out" 2>"$IT_DIR/flow$c.err" || st=$?
    raw+=("flow$c: exit=$st $(tr '\n' ' ' <"$IT_DIR/flow$c.out")")
    # A flow that failed on some tickets (a request unanswered in 30 s on
    # a loaded machine) is reported, not fatal: the chain is then waited
    # for on the tickets it resolved.
    resolved=$(val resolved "$IT_DIR/flow$c.out")
    [[ $resolved =~ ^[0-9]+$ && $resolved -gt 0 ]] ||
        it_fail "kefu-e2e-flow exited with $st: $(tr '\n' ' ' <"$IT_DIR/flow$c.out") $(head -c 2000 "$IT_DIR/flow$c.err")"
    flow_errors=$(val errors "$IT_DIR/flow$c.out")
    [[ $st == 0 ]] || it_note "kefu-e2e-flow exited with $st: $(tr '\n' ' ' <"$IT_DIR/flow$c.out")"
    it_wait_for "level $c: every ticket surveyed and notified" "$WAIT_S" chain_done "$resolved" "$t_base" "$n_base"
    flow_cpu=$(val load_cpu_ms "$IT_DIR/chain$c.out")
    measure_end "whole chain (per ticket)" "$c" "$N" "$flow_cpu"
    chain_figures "$N" "$t_base" "$n_base"
    chain_notes="$notified notifications$([[ $failed == 0 ]] || echo ", $failed not sent")$([[ $flow_errors == 0 ]] || echo "; $flow_errors of $N flows failed")"
    raw+=("chain$c store: span_ms=$span_ms notifications=$notified not_sent=$failed")
}

# Runs a kefu-test-approval-decide on each $IT_DIR/part.* at once; one
# failing, or a TERM, stops the others. Run by bench_fg (in a subshell).
run_deciders() {
    local pids=() part p
    trap 'kill "${pids[@]}" 2>/dev/null; exit 1' TERM
    for part in "$IT_DIR"/part.*; do
        KEFU_DECIDE_LATENCIES=$part.lat timeout 1800 "$DECIDE" <"$part" >"$part.out" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        wait "$p" || { kill "${pids[@]}" 2>/dev/null; exit 1; }
    done
}

# Level C, approval decisions: kefu-approval alone (with the bus); N
# requests opened in the store at once on the routed phase's tickets, then
# decided by C clients (kefu-test-approval-decide), each taking a run of
# approvers' queues (one CURVE connection per approver, see approval.sh).
phase_approval() {
    local c=$1 r_base lat
    stop intake router notifier survey
    r_base=$(it_psql "SELECT coalesce(max(id), 0) FROM approval_request")
    it_psql "SELECT count(*) FROM (SELECT t.no, row_number() OVER (ORDER BY t.id) AS g FROM ticket t
               WHERE t.no = ANY (string_to_array('$(cut -d' ' -f1 "$IT_DIR/routed$c.tickets" | tr '\n' ' ')', ' '))) t,
               LATERAL kefu_approval_open('$agent_key', NULL, t.no, 'refund', ((t.g - 1) % $APPROVERS) * 10000 + 5000,
                                          'bench', current_date + 30, NULL, 'bench', false) o
              WHERE o.err_code IS NULL" >/dev/null
    it_psql "SELECT r.id, '$IT_DIR/certs/' || s.approver || '.cert', '$KEFU_APPROVAL_BIND'
               FROM approval_request r JOIN approval_step s ON s.request_id = r.id
              WHERE r.id > $r_base ORDER BY s.approver, random()" | tr '|' ' ' >"$IT_DIR/decisions$c"
    decisions=$(wc -l <"$IT_DIR/decisions$c")
    rm -f "$IT_DIR"/part.*
    split -n "l/$c" "$IT_DIR/decisions$c" "$IT_DIR/part."
    it_note "level $c: $decisions approval decisions from $c clients"
    measure_begin
    bench_fg run_deciders || it_fail "a decider failed: $(cat "$IT_DIR"/part.*.out)"
    measure_end "approval decisions (per decision)" "$c" "$decisions" ""
    decide_rate=$(it_psql "SELECT round(count(*) / nullif(extract(epoch FROM max(s.decided_at) - min(s.decided_at)), 0)::numeric, 0)
                             FROM approval_step s WHERE s.request_id > $r_base AND s.decided_at IS NOT NULL")
    lat=$(cat "$IT_DIR"/part.*.lat 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- / -"; exit }
        printf "%.1f / %.1f", v[int((NR - 1) * 0.50) + 1] / 1000, v[int((NR - 1) * 0.99) + 1] / 1000 }')
    h_decide=$lat
    stop bus approval
}

# ---------------------------------------------------------------- levels
rate_rows=() lat_rows=() cost_rows=() raw=()
for c in $CLIENTS; do
    phase_pgbench "$c"
    phase_intake "$c"
    phase_routed "$c"
    phase_chain "$c"
    phase_approval "$c"
    i=$IT_DIR/intake$c.out r=$IT_DIR/routed$c.out
    rate_rows+=("| $c | ${tps_one%.*} | $rows_batch | $(val ack_per_s "$i") ($(ratio "$(val ack_per_s "$i")" "$tps_one")) | $(val ack_per_s "$r") / $(val routed_per_s "$r") ($(ratio "$(val routed_per_s "$r")" "$(val ack_per_s "$r")")) | $chain_rate ($(ratio "$chain_rate" "$tps_one")) | $decide_rate ($(ratio "$decide_rate" "$tps_one")) |")
    lat_rows+=("| $c | $lat_one | $(val ack_p50_ms "$i") / $(val ack_p99_ms "$i") | $(val ack_p50_ms "$r") / $(val ack_p99_ms "$r") | $(val routed_p50_ms "$r") / $(val routed_p99_ms "$r") | $h_route | $h_approve | $h_notify ($chain_notes) | $h_survey | $h_decide |")
    raw+=("pgbench c=$c: one_tps=$tps_one one_latency_ms=$lat_one batch50_tps=$tps_batch decisions=$decisions decisions_per_s=$decide_rate")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
fs=$(df -T "$IT_DIR" | awk 'NR == 2 {print $2}')
commit=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo "?")
stored=$(it_psql "SELECT count(*) FROM ticket")
report=$(
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — all.sh: N=$N per phase, clients $CLIENTS, store $STORE_SIZE tickets preloaded, durable=$DURABLE"
    echo
    echo "Machine: $(machine_line); load average $load_before before the run, $load_after after; the run took $((SECONDS - run_t0)) s."
    echo "PostgreSQL $pg_version on $fs; $pg_settings. Tree at $commit$(git -C "$source_dir" diff --quiet HEAD -- 2>/dev/null || echo ' (plus uncommitted work)'). Tickets in the store at the end: $stored."
    [[ -z $preload_note ]] || echo "$preload_note"
    [[ -z $NOTE ]] || echo "Note: $NOTE"
    echo
    echo "Rates (per second; in brackets the ratio to pgbench's one-row INSERT tps, for routed the ratio routed ÷ acked):"
    echo
    echo "| clients | pgbench one-row tps | pgbench 50-row rows/s | intake alone acked/s | with router acked / routed per s | whole chain tickets/s | approval decisions/s |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rate_rows[@]}"
    echo
    echo "Latency p50 / p99, ms (pgbench: average; the chain's hops from the store's timestamps):"
    echo
    echo "| clients | pgbench one-row | intake alone submit→ack | with router submit→ack | submit→routed | chain received→routed | chain approval requested→completed | chain notification created→sent | chain resolved→survey sent | approval decide |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${lat_rows[@]}"
    echo
    echo "Cost per item: CPU µs (utime + stime from /proc over the phase) of each daemon running, all of them, all PostgreSQL processes, the load generator and the whole machine (how busy); WAL bytes per item (the WAL insert position's advance); peak RSS (VmHWM, MiB, since the level's start) of bus / intake / router / approval / notifier / survey; the daemons together: the peak over the phase of the sum of their PSS (MiB, sampled every 200 ms; a page of a library they share counted once, not once per daemon as in a sum of RSS):"
    echo
    echo "| phase | clients | items | bus | intake | router | approval | notifier | survey | all daemons | all PostgreSQL | loader | whole machine (busy) | WAL bytes | peak RSS MiB | together, peak PSS MiB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${cost_rows[@]}"
    echo
    raw_details "${raw[@]}"
)
publish "$report"
