#!/usr/bin/env bash
# kefu gateway benchmark (issue 13, figures for the closing note): the same
# submits over the wire (kefu-load, DEALER + CurveZMQ straight to intake)
# and through kefu-gateway (kefu-http-load, POST /api/v1/tickets over
# HTTP/1.1 keep-alive) at the same concurrency, with pgbench's one-row
# INSERT on the same PostgreSQL as the baseline, the gateway's and intake's
# CPU per 1,000 submits and peak RSS. Run on demand, never from ctest; see
# README.md here.
#
#   tests/bench/gateway.sh [-n N] [-c "1 16 64"] [-T PGBENCH_SECONDS]
#                          [--durable on|off] [--no-results] [--note TEXT]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

N=${KEFU_BENCH_N:-3000}
CLIENTS=${KEFU_BENCH_CLIENTS:-"1 16 64"}
PGBENCH_SECONDS=${KEFU_BENCH_PGBENCH_SECONDS:-5}
DURABLE=on
WRITE_RESULTS=1
NOTE=
WARMUP=${KEFU_BENCH_WARMUP:-300}
SSE=0
SSE_SECONDS=20

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

  -n N            submits per run: each level sends N over the wire, then N over
                  HTTP (default 3000; \$KEFU_BENCH_N)
  -c LIST         concurrency levels: wire clients, HTTP connections (default
                  "1 16 64"; \$KEFU_BENCH_CLIENTS)
  -T SECONDS      pgbench duration per level (default 5)
  --durable on    PostgreSQL with fsync, synchronous_commit and full_page_writes on
                  (stock settings, the default); off keeps the integration
                  harness's fast-and-unsafe settings
  --no-results    print only; do not append to tests/bench/RESULTS.md
  --note TEXT     a line of context written with the results
  --sse STREAMS   after the levels, hold STREAMS event streams (GET /api/v1/events)
                  for --sse-seconds (default 20) while kefu-load submits at full
                  speed with 16 clients, and report the bus -> stream delay
                  (default 0: skipped; UNTESTED against the real route)

\$KEFU_BENCH_DEADLINE (default 900) bounds the whole run.
EOF
}

while [[ $# -gt 0 ]]; do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -c) CLIENTS=${2:?}; shift 2 ;;
        -T) PGBENCH_SECONDS=${2:?}; shift 2 ;;
        --durable) DURABLE=${2:?}; shift 2 ;;
        --no-results) WRITE_RESULTS=0; shift ;;
        --note) NOTE=${2:?}; shift 2 ;;
        --sse) SSE=${2:?}; shift 2 ;;
        --sse-seconds) SSE_SECONDS=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gateway.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ $SSE =~ ^[0-9]+$ && $SSE_SECONDS =~ ^[0-9]+$ && $SSE_SECONDS -ge 5 ]] ||
    { echo "gateway.sh: --sse takes a count, --sse-seconds 5 or more" >&2; exit 2; }
for v in "$N" "$PGBENCH_SECONDS"; do
    [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] || { echo "gateway.sh: -n and -T take positive integers" >&2; exit 2; }
done
[[ $DURABLE == on || $DURABLE == off ]] || { echo "gateway.sh: --durable is on or off" >&2; exit 2; }
for c in $CLIENTS; do
    [[ $c =~ ^[0-9]+$ && $c -gt 0 && $c -le 1024 ]] || { echo "gateway.sh: -c takes integers 1-1024" >&2; exit 2; }
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- build
build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)" --target kefu-bus kefu-intake kefu-router kefu-gateway \
      kefu-admin kefu-load kefu-http-load >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
LOAD=$build_dir/tests/bench/kefu-load
HTTP_LOAD=$build_dir/tests/bench/kefu-http-load
PGBENCH=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}/pgbench
[[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench) || { echo "gateway.sh: pgbench not found" >&2; exit 1; }

export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-900}
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
# shellcheck source=../integration/gateway_lib.sh
source "$source_dir/tests/integration/gateway_lib.sh"
it_init bench_gw
# kefu-approval and kefu-survey are not started (a submit needs neither);
# the gateway's DEALERs to them point at free ports of this run.
it__pick_port
export KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
it__pick_port
export KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
it_pg_start

pg_settings='' pg_version=''
bench_pg_settings "$DURABLE"
it_psql "CREATE TABLE bench_pgbench (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
                                     payload text NOT NULL)" >/dev/null
echo "INSERT INTO bench_pgbench (payload) VALUES ('卫生间漏水，楼下天花板有水渍');" >"$IT_DIR/insert.sql"
chmod 644 "$IT_DIR/insert.sql"

# Both loaders submit as agent.li: the wire with the certificate, HTTP with
# a password (each connection signs in, so C connections hold C sessions).
KEFU_CERT=$(it_cert agent.li)
export KEFU_CERT KEFU_STAFF=agent.li KEFU_PASSWORD='bench horse battery staple'
gw_passwd agent.li "$KEFU_PASSWORD"

# ---------------------------------------------------------------- helpers
# CPU seconds per 1,000 submits from a ms difference and a count.
per_k() { awk -v d="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", d / n; else print "-" }'; }

# The last ticket_history row so far, and the intake transactions (group
# commits) that wrote the 'submitted' rows after it: rows written in one
# transaction share their xmin.
history_mark() { it_psql "SELECT coalesce(max(id), 0) FROM ticket_history"; }
intake_commits() {
    it_psql "SELECT count(DISTINCT xmin::text) FROM ticket_history WHERE id > $1 AND action = 'submitted'"
}
per_commit() { awk -v n="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", n / b; else print "-" }'; }
# Machine CPU seconds per 1,000 items between two machine_jiffies readings.
machine_per_k() {
    awk -v a="$1" -v b="$2" -v n="$3" -v t="$TCK" 'BEGIN { split(a, x, " "); split(b, y, " ");
        if (n > 0) printf "%.2f", (y[1] - x[1]) * 1000 / t / n; else print "-" }'
}

# Waits until the router has routed every ticket (so its catching up
# does not fall into the next run's figures).
routed_all() { [[ $(it_psql "SELECT count(*) FROM ticket WHERE status = 'submitted'") == 0 ]]; }

# True once kefu-http-load ($2) has signed in (go file $1) or has exited.
signed_in_or_gone() { [[ -e $1.ready ]] || ! kill -0 "$2" 2>/dev/null; }

start_daemons() {
    it_start bus
    it_start intake
    it_start router
    it_wait_for "intake to answer" 30 "$LOAD" -n 1 --timeout-ms 1000
    gw_start gateway
    timeout 120 "$LOAD" -n "$WARMUP" -c 4 >"$IT_DIR/warmup.out" ||
        it_fail "wire warm-up failed: $(cat "$IT_DIR/warmup.out")"
    timeout 120 "$HTTP_LOAD" --url "$GW_URL" -n "$WARMUP" -c 4 >"$IT_DIR/warmup-http.out" ||
        it_fail "HTTP warm-up failed: $(cat "$IT_DIR/warmup-http.out")"
    it_wait_for "the router to catch up" 120 routed_all
}

stop_daemons() {
    it_kill gateway TERM
    it_kill router TERM
    it_kill intake TERM
    it_kill bus KILL
}

# ---------------------------------------------------------------- runs
rows=()
cpu_rows=()
raw=()
for c in $CLIENTS; do
    start_daemons
    p_gw=$(it_pid gateway) p_intake=$(it_pid intake) p_router=$(it_pid router) p_bus=$(it_pid bus)
    mapfile -t pg_pids < <(pg_all_pids)

    # Over the wire.
    it_note "kefu-load -n $N -c $c"
    w_out=$IT_DIR/wire-$c.out
    w_mark=$(history_mark)
    w0_intake=$(cpu_ms "$p_intake") w0_rb=$(cpu_ms "$p_router" "$p_bus") w0_pg=$(cpu_ms "${pg_pids[@]}")
    wm0=$(machine_jiffies)
    st=0
    timeout 600 "$LOAD" -n "$N" -c "$c" --mix --timeout-ms 10000 >"$w_out" 2>"$IT_DIR/wire-$c.err" || st=$?
    w1_intake=$(cpu_ms "$p_intake") w1_rb=$(cpu_ms "$p_router" "$p_bus") w1_pg=$(cpu_ms "${pg_pids[@]}")
    wm1=$(machine_jiffies)
    [[ $st == 0 ]] || it_note "kefu-load exited with status $st: $(tr '\n' ' ' <"$w_out") $(cat "$IT_DIR/wire-$c.err")"
    it_wait_for "the router to catch up" 120 routed_all

    # Through the gateway: the sessions are signed in before the CPU is read.
    it_note "kefu-http-load -n $N -c $c"
    h_out=$IT_DIR/http-$c.out go=$IT_DIR/go-$c
    h_mark=$(history_mark)
    st=0
    timeout 600 "$HTTP_LOAD" --url "$GW_URL" -n "$N" -c "$c" --mix --timeout-ms 10000 \
        --go-file "$go" >"$h_out" 2>"$IT_DIR/http-$c.err" &
    h_pid=$!
    it_wait_for "kefu-http-load to sign in" 300 signed_in_or_gone "$go" "$h_pid"
    [[ -e $go.ready ]] || it_fail "kefu-http-load did not sign in: $(cat "$IT_DIR/http-$c.err")"
    h0_intake=$(cpu_ms "$p_intake") h0_gw=$(cpu_split "$p_gw") h0_pg=$(cpu_ms "${pg_pids[@]}")
    h0_rb=$(cpu_ms "$p_router" "$p_bus")
    hm0=$(machine_jiffies)
    : >"$go"
    wait "$h_pid" || st=$?
    h1_intake=$(cpu_ms "$p_intake") h1_gw=$(cpu_split "$p_gw") h1_pg=$(cpu_ms "${pg_pids[@]}")
    h1_rb=$(cpu_ms "$p_router" "$p_bus")
    hm1=$(machine_jiffies)
    [[ $st == 0 ]] || it_note "kefu-http-load exited with status $st: $(tr '\n' ' ' <"$h_out") $(cat "$IT_DIR/http-$c.err")"
    it_wait_for "the router to catch up" 120 routed_all
    rss_gw=$(vm_hwm "$p_gw") rss_intake=$(vm_hwm "$p_intake")
    w_commits=$(intake_commits "$w_mark") h_commits=$(intake_commits "$h_mark")
    w_commits=$((w_commits - $(intake_commits "$h_mark")))
    rss_gw_now=$(awk '/^VmRSS:/ {print $2}' "/proc/$p_gw/status")
    gw_threads=$(awk '/^Threads:/ {print $2}' "/proc/$p_gw/status")
    gw_fds=$(find "/proc/$p_gw/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    stop_daemons

    it_note "pgbench -c $c -j $(( c < 2 ? c : 2 )) -T $PGBENCH_SECONDS"
    pgb=$IT_DIR/pgbench-$c.out
    it__as_pg "$PGBENCH" -n -M prepared -f "$IT_DIR/insert.sql" -c "$c" -j $(( c < 2 ? c : 2 )) \
              -T "$PGBENCH_SECONDS" -h 127.0.0.1 -p "$IT_PG_PORT" -U postgres kefu >"$pgb" 2>&1 ||
        it_fail "pgbench failed: $(tail -n 5 "$pgb")"
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$pgb")
    tps=$(printf '%.0f' "$tps")

    w_ack=$(val ack_per_s "$w_out") h_ack=$(val ack_per_s "$h_out")
    w_n=$(val acked "$w_out") h_n=$(val acked "$h_out")
    ratio=$(awk -v h="$h_ack" -v w="$w_ack" 'BEGIN { if (w > 0) printf "%.2f", h / w; else print "-" }')
    dp50=$(awk -v h="$(val ack_p50_ms "$h_out")" -v w="$(val ack_p50_ms "$w_out")" 'BEGIN { printf "%+.2f", h - w }')
    gw_u=$(( ${h1_gw% *} - ${h0_gw% *} )) gw_s=$(( ${h1_gw#* } - ${h0_gw#* } ))
    rows+=("| $c | $w_n / $h_n | $w_ack | $h_ack | $ratio | $(val ack_p50_ms "$w_out") / $(val ack_p99_ms "$w_out") | $(val ack_p50_ms "$h_out") / $(val ack_p99_ms "$h_out") | $dp50 | $(per_k $((gw_u + gw_s)) "$h_n") | $rss_gw ($rss_gw_now) | $tps | $(awk -v h="$h_ack" -v t="$tps" 'BEGIN { printf "%.2f", h / t }') |")
    cpu_rows+=("| $c | $(per_k $((w1_intake - w0_intake)) "$w_n") / $(per_k $((h1_intake - h0_intake)) "$h_n") | $(per_k "$gw_u" "$h_n") + $(per_k "$gw_s" "$h_n") | $(per_k $((w1_rb - w0_rb)) "$w_n") / $(per_k $((h1_rb - h0_rb)) "$h_n") | $(per_k $((w1_pg - w0_pg)) "$w_n") / $(per_k $((h1_pg - h0_pg)) "$h_n") | $(per_k "$(val load_cpu_ms "$w_out")" "$w_n") / $(per_k "$(val load_cpu_ms "$h_out")" "$h_n") | $(machine_per_k "$wm0" "$wm1" "$w_n") / $(machine_per_k "$hm0" "$hm1" "$h_n") ($(busy_pct "$wm0" "$wm1") / $(busy_pct "$hm0" "$hm1") %) | $(per_commit "$w_n" "$w_commits") / $(per_commit "$h_n" "$h_commits") | $rss_intake | $gw_threads / $gw_fds |")
    raw+=("c=$c wire: $(tr '\n' ' ' <"$w_out")")
    raw+=("c=$c http: $(tr '\n' ' ' <"$h_out")gw_cpu_user_ms=$gw_u gw_cpu_sys_ms=$gw_s rss_gw_kib=$rss_gw rss_gw_after_kib=$rss_gw_now rss_intake_kib=$rss_intake intake_commits_wire=$w_commits intake_commits_http=$h_commits pgbench_tps=$tps")
done

# ---------------------------------------------------------------- event streams
# UNTESTED against the real route (written before GET /api/v1/events was on
# main): STREAMS streams held while kefu-load submits as fast as it can.
sse_section=
if [[ $SSE -gt 0 ]]; then
    start_daemons
    p_gw=$(it_pid gateway)
    s_out=$IT_DIR/sse.out go=$IT_DIR/go-sse
    timeout $((SSE_SECONDS + 600)) "$HTTP_LOAD" --url "$GW_URL" --events -c "$SSE" -d "$SSE_SECONDS" \
        --go-file "$go" >"$s_out" 2>"$IT_DIR/sse.err" &
    s_pid=$!
    it_wait_for "kefu-http-load to sign in" 300 signed_in_or_gone "$go" "$s_pid"
    s0_gw=$(cpu_ms "$p_gw")
    : >"$go"
    sleep 2 # the streams open
    l_out=$IT_DIR/sse-load.out
    timeout $((SSE_SECONDS + 60)) "$LOAD" -n $((1000 * (SSE_SECONDS - 4))) -c 16 --mix \
        --timeout-ms 10000 >"$l_out" 2>&1 || true
    st=0
    wait "$s_pid" || st=$?
    s1_gw=$(cpu_ms "$p_gw")
    [[ $st == 0 ]] || it_note "kefu-http-load --events exited with status $st: $(tr '\n' ' ' <"$s_out") $(cat "$IT_DIR/sse.err")"
    sse_section=$(
        echo "Event streams (UNTESTED tool, tests/bench/README.md): $SSE streams of GET /api/v1/events held ${SSE_SECONDS} s while kefu-load -c 16 submitted; the delay is from the tool's own bus subscriber to the stream."
        echo
        echo "| streams open at end | submits/s | bus events | stream events/s | events per stream min / max | bus→stream p50 / p99 / max ms | gateway CPU s | gateway peak RSS (RSS after) KiB |"
        echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        echo "| $(val streams_open_at_end "$s_out")/$SSE | $(val ack_per_s "$l_out") | $(val bus_events "$s_out") | $(val sse_events_per_s "$s_out") | $(val events_per_stream_min "$s_out") / $(val events_per_stream_max "$s_out") | $(val deliver_p50_ms "$s_out") / $(val deliver_p99_ms "$s_out") / $(val deliver_max_ms "$s_out") | $(awk -v d=$((s1_gw - s0_gw)) 'BEGIN { printf "%.1f", d / 1000 }') | $(vm_hwm "$p_gw") ($(awk '/^VmRSS:/ {print $2}' "/proc/$p_gw/status")) |"
        echo
        echo "    sse: $(tr '\n' ' ' <"$s_out")"
    )
    stop_daemons
fi

# ---------------------------------------------------------------- report
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
commit=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo "?")
report=$(
    echo "## Gateway: HTTP against the wire, $(date -u '+%Y-%m-%d %H:%M UTC') — N=$N per run, clients $CLIENTS, durable=$DURABLE (tests/bench/gateway.sh)"
    echo
    echo "Machine: $(nproc) vCPU ($model), $mem RAM, load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "PostgreSQL $pg_version; $pg_settings. Tree at $commit. Daemons: bus, intake, router, gateway (log level ${KEFU_LOG_LEVEL:-info}); the loaders run on the same 2 vCPU."
    [[ -z $NOTE ]] || echo "Note: $NOTE"
    echo
    echo "| clients | acked wire / HTTP | wire submits/s | HTTP submits/s | HTTP ÷ wire | wire p50 / p99 ms | HTTP p50 / p99 ms | p50 HTTP − wire ms | gateway CPU s per 1,000 submits | gateway peak RSS (RSS after) KiB | pgbench one-row tps | HTTP ÷ pgbench |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "CPU seconds per 1,000 submits (wire run / HTTP run), from /proc over each run:"
    echo
    echo "| clients | intake | gateway user + system | router + bus | all PostgreSQL | the loader (kefu-load / kefu-http-load) | whole machine (busy) | submits per intake commit | intake peak RSS KiB | gateway threads / open fds |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${cpu_rows[@]}"
    echo
    echo "<details><summary>raw output</summary>"
    echo
    printf '    %s\n' "${raw[@]}"
    echo
    echo "</details>"
    [[ -z $sse_section ]] || printf '\n%s\n' "$sse_section"
)
printf '\n%s\n\n' "$report"
if [[ $WRITE_RESULTS == 1 ]]; then
    printf '\n%s\n' "$report" >>"$here/RESULTS.md"
    it_note "appended to $here/RESULTS.md"
fi
