#!/usr/bin/env bash
# kefu benchmark: N submits from C concurrent clients through intake -> router,
# against a private PostgreSQL, with pgbench's one-row INSERT as the baseline.
# Run on demand (never from ctest); see tests/bench/README.md.
#
#   tests/bench/run.sh [-n N] [-c "1 4 16"] [-T PGBENCH_SECONDS]
#                      [--durable on|off] [--no-results] [--note TEXT]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

N=${KEFU_BENCH_N:-20000}
CLIENTS=${KEFU_BENCH_CLIENTS:-"1 4 16"}
PGBENCH_SECONDS=${KEFU_BENCH_PGBENCH_SECONDS:-10}
DURABLE=${KEFU_BENCH_DURABLE:-on}
WRITE_RESULTS=1
NOTE=
WARMUP=${KEFU_BENCH_WARMUP:-500}

usage() {
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

  -n N            submits per concurrency level (default 20000; \$KEFU_BENCH_N)
  -c LIST         concurrency levels (default "1 4 16"; \$KEFU_BENCH_CLIENTS)
  -T SECONDS      pgbench duration per level (default 10)
  --durable on    PostgreSQL with fsync, synchronous_commit and full_page_writes on
                  (stock settings; the default). off keeps the integration harness's
                  fast-and-unsafe settings.
  --no-results    print the table only; do not append to tests/bench/RESULTS.md
  --note TEXT     a line of context written with the results
EOF
}

# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
while [[ $# -gt 0 ]]; do
    bench_option "$@"
    if ((SHIFT)); then shift "$SHIFT"; continue; fi
    case $1 in
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
bench_check_options run.sh

# ---------------------------------------------------------------- build
bench_build kefu-bus kefu-intake kefu-router kefu-load
bench_find_pgbench
LOAD=$build_dir/tests/bench/kefu-load

# The harness fails and cleans up by itself after this many seconds.
export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-3000}
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
it_init bench
it_pg_start
# kefu-load submits with agent.li's certificate (common/auth.h).
export KEFU_CERT=$(it_cert agent.li)

pg_settings='' pg_version=''
bench_pg_settings "$DURABLE"
bench_pgbench_scripts

# ---------------------------------------------------------------- helpers

# The PostgreSQL backends of a daemon: every connection whose application
# name starts with $1 (intake's submit connections, the router's lanes).
backend_pids() {
    it_psql "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name LIKE '$1%'"
}


start_daemons() {
    it_start bus
    it_start intake
    it_start router
    it_wait_for "intake to answer" 30 "$LOAD" -n 1 --timeout-ms 1000
    # Warm-up: the whole path once, plans cached, pages in memory.
    timeout 120 "$LOAD" -n "$WARMUP" -c 4 --wait-routed 20000 >"$IT_DIR/warmup.out" ||
        it_fail "warm-up failed: $(cat "$IT_DIR/warmup.out")"
}

# The bus is stopped with TERM, and KILL when it has not gone after 10 s
# (noted in the report: a daemon should always stop on TERM).
BUS_STUCK=0
stop_daemons() {
    local i
    it_kill router TERM
    it_kill intake TERM
    kill -TERM "$(it_pid bus)" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        it_running bus || break
        sleep 0.1
    done
    if it_running bus; then
        it_note "bus ignored SIGTERM for 10 s; sending SIGKILL"
        BUS_STUCK=$((BUS_STUCK + 1))
    fi
    it_kill bus KILL
}

# ---------------------------------------------------------------- runs
rows=()
cpu_rows=()
raw=()
for c in $CLIENTS; do
    start_daemons
    p_intake=$(it_pid intake) p_router=$(it_pid router) p_bus=$(it_pid bus)
    read -ra b_intake <<<"$(backend_pids kefu-intake)"
    read -ra b_router <<<"$(backend_pids kefu-router)"
    mapfile -t pg_pids < <(pg_all_pids)
    tickets_before=$(it_psql "SELECT count(*) FROM ticket")
    c0_intake=$(cpu_ms "$p_intake") c0_router=$(cpu_ms "$p_router") c0_bus=$(cpu_ms "$p_bus")
    c0_bi=$(cpu_ms "${b_intake[@]}") c0_br=$(cpu_ms "${b_router[@]}") c0_pg=$(cpu_ms "${pg_pids[@]}")
    m0=$(machine_jiffies)
    it_note "kefu-load -n $N -c $c"
    out=$IT_DIR/load-$c.out
    st=0
    timeout 1200 "$LOAD" -n "$N" -c "$c" --wait-routed 60000 --timeout-ms 10000 \
            --mix --tickets "$IT_DIR/tickets-$c.txt" >"$out" 2>"$IT_DIR/load-$c.err" || st=$?
    c1_intake=$(cpu_ms "$p_intake") c1_router=$(cpu_ms "$p_router") c1_bus=$(cpu_ms "$p_bus")
    c1_bi=$(cpu_ms "${b_intake[@]}") c1_br=$(cpu_ms "${b_router[@]}") c1_pg=$(cpu_ms "${pg_pids[@]}")
    m1=$(machine_jiffies)
    rss_intake=$(vm_hwm "$p_intake") rss_router=$(vm_hwm "$p_router") rss_bus=$(vm_hwm "$p_bus")
    tickets_after=$(it_psql "SELECT count(*) FROM ticket")
    [[ $st == 0 ]] || it_note "kefu-load exited with status $st: $(tr '\n' ' ' <"$out") $(cat "$IT_DIR/load-$c.err")"
    raw+=("c=$c exit=$st $(tr '\n' ' ' <"$out")rss_intake_kib=$rss_intake rss_router_kib=$rss_router rss_bus_kib=$rss_bus tickets_stored=$((tickets_after - tickets_before))")
    stop_daemons

    it_note "pgbench -c $c -j $(( c < 2 ? c : 2 )) -T $PGBENCH_SECONDS"
    pgb=$IT_DIR/pgbench-$c.out
    pm0=$(machine_jiffies)
    tps=$(pgbench_run "$IT_DIR/one.sql" "$c" "$pgb")
    pm1=$(machine_jiffies)
    pgb_lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$pgb")

    ack=$(val ack_per_s "$out")
    acked=$(val acked "$out")
    ratio=$(awk -v a="$ack" -v t="$tps" 'BEGIN { if (t > 0) printf "%.2f", a / t; else print "-" }')
    rows+=("| $c | $acked/$N | $ack | $ratio | $(val ack_p50_ms "$out") / $(val ack_p99_ms "$out") | $(val routed_per_s "$out") | $(val routed_p50_ms "$out") / $(val routed_p99_ms "$out") | $(val routed_bus "$out")+$(val routed_store "$out") | $rss_intake / $rss_router / $rss_bus | $tps ($pgb_lat ms) |")
    elapsed=$(val elapsed_ms "$out")
    per() { awk -v d="$1" -v n="$acked" 'BEGIN { if (n > 0) printf "%.0f", d * 1000 / n; else print "-" }'; }
    cpu_rows+=("| $c | $(per "$elapsed") | $(per $((c1_intake - c0_intake))) | $(per $((c1_bi - c0_bi))) | $(per $((c1_router - c0_router))) | $(per $((c1_br - c0_br))) | $(per $((c1_pg - c0_pg))) | $(per $((c1_bus - c0_bus))) | $(per "$(val load_cpu_ms "$out")") | $(busy_us_per "$m0" "$m1" "$acked") ($(busy_pct "$m0" "$m1") %) | $(busy_us_per "$pm0" "$pm1" "$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$pgb")") ($(busy_pct "$pm0" "$pm1") %) |")
done

# ---------------------------------------------------------------- report
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
fs=$(df -T "$IT_DIR" | awk 'NR == 2 {print $2}')
commit=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo "?")
report=$(
    echo "## $(date '+%Y-%m-%d %H:%M %Z') — N=$N, clients $CLIENTS, durable=$DURABLE"
    echo
    echo "Machine: $(nproc) vCPU ($model), $mem RAM, load average before the run $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')."
    echo "PostgreSQL $pg_version on $fs; $pg_settings. Tree at $commit (plus uncommitted work)."
    [[ -z $NOTE ]] || echo "Note: $NOTE"
    [[ $BUS_STUCK == 0 ]] || echo "kefu-bus did not stop within 10 s of SIGTERM $BUS_STUCK time(s) and was killed."
    echo
    echo "| clients | acked | tickets acked/s | ÷ pgbench tps | submit→ack p50 / p99 ms | routed/s | submit→routed p50 / p99 ms | routed bus+store | peak RSS intake / router / bus KiB | pgbench one-row INSERT tps (avg latency) |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "CPU per acknowledged ticket, µs (wall = elapsed ÷ tickets):"
    echo
    echo "| clients | wall | intake | intake's PG backends | router | router's PG backends | all PostgreSQL | bus | kefu-load | whole machine (busy) | whole machine per pgbench tx (busy) |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${cpu_rows[@]}"
    echo
    echo "<details><summary>raw kefu-load output</summary>"
    echo
    printf '    %s\n' "${raw[@]}"
    echo
    echo "</details>"
)
printf '\n%s\n\n' "$report"
if [[ $WRITE_RESULTS == 1 ]]; then
    results=$here/RESULTS.md
    [[ -f $results ]] || printf '# kefu benchmark results\n\nAppended by tests/bench/run.sh; see README.md for what each figure means.\n' >"$results"
    printf '\n%s\n' "$report" >>"$results"
    it_note "appended to $results"
fi
