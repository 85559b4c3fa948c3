#!/usr/bin/env bash
# kefu approval benchmark: decisions per second one kefu-approval daemon
# sustains against a durable private PostgreSQL, and in the same run
# pgbench's one-row INSERT at the same concurrency as the baseline. Run on
# demand, never from ctest (speed is measured, never asserted in tests).
#
#   tests/bench/approval.sh [-n N] [-c "1 4"] [-T SECONDS] [-s] [--store-size S]
#
# N requests (default 2000) are opened in the store at once, over 20
# approvers (one step each, policy by amount band); then C clients
# (kefu-test-approval-decide, one connection per approver certificate)
# decide them all through the one daemon. The decisions are dealt to the
# clients by approver (each client takes a run of one or two approvers'
# queues, in random order within), so that a client opens one or two
# CURVE connections, not one per approver: the handshakes (each a
# certificate lookup in the store) would otherwise outnumber the
# decisions at 64 clients. Decisions per second come from
# the store's timestamps (first to last decided_at); each decision's time
# from send to reply (p50 / p99) from the clients; the daemon's and the
# whole PostgreSQL's CPU time per decision and the daemon's peak RSS from
# /proc; WAL fsyncs and bytes per decision from pg_stat_wal (those of the
# decisions and of the deadline scan meanwhile). Prints a Markdown table.
# KEFU_BUILD_DIR=DIR with KEFU_NO_BUILD=1 runs the binaries of another
# build as they are (e.g. a build of an older commit, for a before/after).
# -s loads pg_stat_statements (nested statements too) and prints, after
# each level, the statements ranked by execution time, with calls and
# milliseconds per decision: where the store's time goes. --store-size S
# first writes S finished tickets into the store (bench_preload, as all.sh
# does), to see what of a decision grows with the store's size.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
N=2000 CLIENTS="1 4" PGBENCH_SECONDS=10 STATEMENTS=0 STORE_SIZE=0
while (($#)); do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -c) CLIENTS=${2:?}; shift 2 ;;
        -T) PGBENCH_SECONDS=${2:?}; shift 2 ;;
        -s) STATEMENTS=1; shift ;;
        --store-size) STORE_SIZE=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "approval.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ $STORE_SIZE =~ ^[0-9]+$ ]] || { echo "approval.sh: --store-size takes a number of tickets" >&2; exit 2; }
build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
[[ ${KEFU_NO_BUILD:-0} == 1 ]] ||
    cmake --build "$build_dir" -j "$(nproc)" --target kefu-approval kefu kefu-test-approval-decide >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-1800}
PGBENCH=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}/pgbench
DECIDE=$build_dir/tests/integration/kefu-test-approval-decide
source "$source_dir/tests/integration/lib.sh"
source "$source_dir/tests/integration/approval_lib.sh"
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
it_init bench_approval
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_METRICS_PORT=0 KEFU_LOG_LEVEL=warn
it_pg_start
for setting in fsync synchronous_commit full_page_writes; do
    it_psql "ALTER SYSTEM SET $setting = on" >/dev/null
done
it_psql "SELECT pg_reload_conf()" >/dev/null
if ((STATEMENTS)); then
    it_psql "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
    it_pg_restart
    it_psql "ALTER SYSTEM SET pg_stat_statements.track = 'all'" >/dev/null
    it_psql "SELECT pg_reload_conf()" >/dev/null
    it_psql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
fi
# The statements since the last reset, ranked by time: calls and ms per
# decision (of $1 decisions), then the reset.
statements() {
    ((STATEMENTS)) || return 0
    echo "statements of $1 decisions, ranked by time (calls and ms per decision):"
    it_psql "SELECT round(calls::numeric / $1, 2) || ' | ' || round((total_exec_time / $1)::numeric, 3) || ' | ' ||
                    toplevel || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 150)
               FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'kefu')
              ORDER BY total_exec_time DESC LIMIT 60"
    it_psql "SELECT pg_stat_statements_reset()" >/dev/null
}
approval_bands b 86400
((STORE_SIZE == 0)) || bench_preload "$STORE_SIZE"
it_cert agent.li >/dev/null
key=$(it_psql "SELECT public_key FROM staff_cert WHERE staff_id = 'agent.li' AND revoked_at IS NULL LIMIT 1")
it_psql "CREATE TABLE bench_pgbench (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
                                     payload text NOT NULL)" >/dev/null
echo "INSERT INTO bench_pgbench (payload) VALUES ('退款审批');" >"$IT_DIR/insert.sql"
chmod 644 "$IT_DIR/insert.sql"
it_start approval
it_wait_for "kefu-approval to answer" 30 env KEFU_CERT="$(it_cert ap01)" kefu --endpoint "$KEFU_APPROVAL_BIND" approvals

wal() { it_psql "SELECT wal_sync || ' ' || wal_bytes FROM pg_stat_wal"; }
rows=()
for c in $CLIENTS; do
    it_psql "TRUNCATE approval_step, approval_request RESTART IDENTITY CASCADE" >/dev/null
    it_psql "SELECT count(*) FROM generate_series(1, $N) g,
               LATERAL kefu_submit(NULL, 'agent.li', 'complaint', 'other', 'phone', 'normal', 'HZ-XH',
                                   NULL, NULL, '13800000000', NULL, format('退款 %s', g), NULL, 'bench')" >/dev/null
    opened=$(it_psql "SELECT count(DISTINCT t.no) FROM (SELECT t.no, row_number() OVER (ORDER BY t.id) AS g FROM ticket t
                        WHERE NOT EXISTS (SELECT 1 FROM approval_request r WHERE r.ticket_id = t.id)
                        ORDER BY t.id DESC LIMIT $N) t,
               LATERAL kefu_approval_open('$key', NULL, t.no, 'refund', ((t.g - 1) % 20) * 10000 + 5000,
                                          'bench', current_date + 30, NULL, 'bench', false) o
              WHERE o.err_code IS NULL")
    it_psql "SELECT r.id, '$IT_DIR/certs/' || s.approver || '.cert', '$KEFU_APPROVAL_BIND'
               FROM approval_request r JOIN approval_step s ON s.request_id = r.id ORDER BY s.approver, random()" |
        tr '|' ' ' >"$IT_DIR/decisions"
    rm -f "$IT_DIR"/part.*
    split -n "l/$c" "$IT_DIR/decisions" "$IT_DIR/part."
    pid=$(it_pid approval)
    ((STATEMENTS)) && it_psql "SELECT pg_stat_statements_reset()" >/dev/null
    cpu0=$(cpu_ms "$pid") pg0=$(pg_cpu_ms)
    read -r sync0 bytes0 <<<"$(wal)"
    pids=()
    for part in "$IT_DIR"/part.??; do
        KEFU_DECIDE_LATENCIES=$part.lat "$DECIDE" <"$part" >"$part.out" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || it_fail "a decider failed: $(cat "$IT_DIR"/part.*.out)"; done
    cpu1=$(cpu_ms "$pid") pg1=$(pg_cpu_ms)
    read -r sync1 bytes1 <<<"$(wal)"
    decided=$(it_psql "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL")
    statements "$decided" >&2
    rate=$(it_psql "SELECT round(count(*) / extract(epoch FROM max(decided_at) - min(decided_at))::numeric, 0)
                      FROM approval_step WHERE decided_at IS NOT NULL")
    it__as_pg "$PGBENCH" -n -M prepared -f "$IT_DIR/insert.sql" -c "$c" -j "$(( c < 2 ? c : 2 ))" \
        -T "$PGBENCH_SECONDS" -h 127.0.0.1 -p "$IT_PG_PORT" -U postgres kefu >"$IT_DIR/pgbench.out" 2>&1 ||
        it_fail "pgbench failed: $(tail -n 3 "$IT_DIR/pgbench.out")"
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$IT_DIR/pgbench.out")
    ratio=$(awk -v a="$rate" -v t="$tps" 'BEGIN { printf "%.2f", a / t }')
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    lat=$(cat "$IT_DIR"/part.*.lat 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
        printf "%.1f / %.1f", p50 / 1000, p99 / 1000 }')
    per=$(( decided > 0 ? decided : 1 ))
    store=$(awk -v s0="$sync0" -v s1="$sync1" -v b0="$bytes0" -v b1="$bytes1" -v n="$per" \
        'BEGIN { printf "%.2f | %d", (s1 - s0) / n, (b1 - b0) / n }')
    rows+=("| $c | $opened / $decided | $rate | $lat | $(( (cpu1 - cpu0) * 1000 / per )) | $(( (pg1 - pg0) * 1000 / per )) | $store | $rss | ${tps%.*} | $ratio |")
done
machine="$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), PostgreSQL $(it_psql "SHOW server_version") durable (fsync, synchronous_commit, full_page_writes on)"
echo
echo "## Approval decisions, one kefu-approval, $(date -u +%FT%RZ) — N=$N$( ((STORE_SIZE == 0)) || echo ", $STORE_SIZE tickets preloaded")"
echo
echo "Machine: $machine. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| clients | opened / decided | decisions/s (store) | decide p50 / p99 ms (client) | daemon CPU µs per decision | PostgreSQL CPU µs per decision | WAL fsyncs per decision | WAL bytes per decision | daemon peak RSS KiB | pgbench one-row tps | ÷ pgbench |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
