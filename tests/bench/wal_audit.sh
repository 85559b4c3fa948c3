#!/usr/bin/env bash
# kefu write audit (issue 16, item 3): what one ticket writes across its
# whole life (submit -> routed -> approval requested / decided -> notified ->
# resolved -> surveyed). Run on demand, never from ctest; see README.md here.
#
#   tests/bench/wal_audit.sh [-n N] [-c C] [-k APPROVERS] [--routed] [--statements] [--note TEXT]
#
# --statements loads pg_stat_statements (track = all) and adds the statements
# that took the store's time, per ticket (it costs some CPU of its own).
#
# --routed measures submit -> routed alone (only kefu-bus, kefu-intake and
# kefu-router run), the segment of the issue's aim of WAL per routed ticket.
#
# Against a private PostgreSQL with durable stock settings (fsync,
# synchronous_commit, full_page_writes on, as run.sh and e2e.sh), it drives
# N tickets through the chain with kefu-load and kefu-e2e-flow (as e2e.sh),
# after a CHECKPOINT so full-page images (FPIs) start from the same state,
# and prints per ticket:
#   - WAL records, FPIs and bytes (pg_stat_wal delta), and the FPI share of
#     the bytes (pg_waldump --stats over the same LSN range);
#   - WAL records, bytes and FPIs per relation (table or index), from
#     pg_waldump, the index rows being the index entries written;
#   - rows inserted / updated (HOT) / deleted per table (pg_stat_user_tables)
#     and table + index bytes growth (pg_total_relation_size);
#   - PostgreSQL CPU ms (all its processes, /proc);
#   - the indexes never scanned during the run (idx_scan = 0).
# Nothing is written to the tree; the report goes to stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

N=2000
C=4
APPROVERS=4
NOTE=
ROUTED=0
STATEMENTS=0
while [[ $# -gt 0 ]]; do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -c) C=${2:?}; shift 2 ;;
        -k) APPROVERS=${2:?}; shift 2 ;;
        --note) NOTE=${2:?}; shift 2 ;;
        --routed) ROUTED=1; shift ;;
        --statements) STATEMENTS=1; shift ;;
        -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "wal_audit.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[0-9]+$ && $C =~ ^[0-9]+$ && $N -gt 0 && $C -gt 0 ]] ||
    { echo "wal_audit.sh: -n and -c take positive integers" >&2; exit 2; }
[[ $APPROVERS =~ ^[0-9]+$ && $APPROVERS -ge 1 && $APPROVERS -le 99 ]] ||
    { echo "wal_audit.sh: -k takes 1 to 99" >&2; exit 2; }

build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
[[ -f $build_dir/CMakeCache.txt ]] ||
    cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j 2 --target kefu-bus kefu-intake kefu-router kefu-approval \
      kefu-notifier kefu-survey kefu kefu-admin kefu-load kefu-e2e-flow >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-1800}
LOAD=$build_dir/tests/bench/kefu-load
FLOW=$build_dir/tests/bench/kefu-e2e-flow
WALDUMP=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}/pg_waldump
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
# shellcheck source=../integration/approval_lib.sh
source "$source_dir/tests/integration/approval_lib.sh"
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
it_init wal_audit
bench_chain_env
it_pg_start
# No timed checkpoint inside the measured run: its FPIs would depend on
# when it fell (the run starts with a CHECKPOINT of its own).
it_psql "ALTER SYSTEM SET checkpoint_timeout = '1h'" >/dev/null
it_psql "ALTER SYSTEM SET max_wal_size = '4GB'" >/dev/null
pg_settings='' pg_version=''
bench_pg_settings on
if [[ $STATEMENTS == 1 ]]; then
    # An extension's settings are refused by ALTER SYSTEM before it is loaded.
    printf '%s\n' "shared_preload_libraries = 'pg_stat_statements'" \
        "pg_stat_statements.track = all" >>"$IT_DIR/pg/data/postgresql.conf"
    it_pg_restart
    it_psql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
fi

bench_chain_approvers "$APPROVERS" audit
KEFU_CERT=$(it_cert agent.li)
export KEFU_CERT

DAEMONS=(bus intake router approval notifier survey)
[[ $ROUTED == 0 ]] || DAEMONS=(bus intake router)
for d in "${DAEMONS[@]}"; do it_start "$d"; done
it_wait_for "intake to answer" 30 "$LOAD" -n 1 --timeout-ms 1000 --idem-prefix probe
[[ $ROUTED == 1 ]] || it_wait_for "kefu-approval to answer" 30 kefu --endpoint "$KEFU_APPROVAL" approvals
it_wait_for "the probe routed" 60 it_psql_is "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0
t_base=$(it_psql "SELECT coalesce(max(id), 0) FROM ticket")
n_base=$(it_psql "SELECT coalesce(max(id), 0) FROM notification")

# True when the run's tickets are all surveyed, and every notification since
# the start is sent or failed, the survey.sent ones included.
run_done() {
    it_psql_is "SELECT count(*) FROM survey s WHERE s.ticket_id > $t_base AND s.kind = 'resolution'
                   AND s.sent_at IS NOT NULL" "$N" &&
    it_psql_is "SELECT count(*) FROM notification WHERE id > $n_base AND status IN ('pending', 'sending')" 0 &&
    it_psql_is "SELECT count(*) FROM notification n JOIN ticket t ON t.no = n.ticket_no
                 WHERE t.id > $t_base AND n.event_type = 'survey.sent'" "$N"
}

# A snapshot of the statistics the report subtracts, into table audit.s_$1
# (schema audit, left out of the statistics read).
snapshot() {
    it_psql "CREATE TABLE audit.s_$1 AS
             SELECT 't' AS kind, relname AS name, relid,
                    n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del,
                    0::bigint AS scans, pg_total_relation_size(relid) AS bytes
               FROM pg_stat_user_tables WHERE schemaname = 'public'
             UNION ALL
             SELECT 'i', indexrelname, indexrelid, 0, 0, 0, 0, idx_scan, pg_relation_size(indexrelid)
               FROM pg_stat_user_indexes WHERE schemaname = 'public'" >/dev/null
}
it_psql "CREATE SCHEMA audit" >/dev/null

# CPU ms of PostgreSQL so far: its live processes, and the backends that
# have ended (the postmaster's reaped children, cutime + cstime).
pg_cpu_total() {
    local pm stat rest pids
    mapfile -t pids < <(pg_all_pids)
    pm=$(head -n1 "$IT_DIR/pg/data/postmaster.pid")
    stat=$(cat "/proc/$pm/stat")
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo $(( $(cpu_ms "${pids[@]}") + (${14} + ${15}) * 1000 / TCK ))
}

it_psql "CHECKPOINT" >/dev/null
sleep 1.5 # let the backends flush their statistics (PostgreSQL 15: at most once a second)
snapshot 0
read -r rec0 fpi0 bytes0 <<<"$(it_psql "SELECT wal_records || ' ' || wal_fpi || ' ' || wal_bytes FROM pg_stat_wal")"
lsn0=$(it_psql "SELECT pg_current_wal_insert_lsn()")
[[ $STATEMENTS == 0 ]] || it_psql "SELECT pg_stat_statements_reset()" >/dev/null
pg0=$(pg_cpu_total)
t0=${EPOCHREALTIME/./}

it_note "kefu-load -n $N -c $C (submit, routed)"
timeout 1200 "$LOAD" -n "$N" -c "$C" --mix --wait-routed 120000 --timeout-ms 10000 \
    --idem-prefix audit --tickets "$IT_DIR/tickets.txt" >"$IT_DIR/load.out" 2>"$IT_DIR/load.err" ||
    it_fail "kefu-load failed: $(tr '\n' ' ' <"$IT_DIR/load.out") $(cat "$IT_DIR/load.err")"
if [[ $ROUTED == 0 ]]; then
    it_note "kefu-e2e-flow -c $C (approval requested, decided; resolved)"
    timeout 1200 "$FLOW" --tickets "$IT_DIR/tickets.txt" --cert "$KEFU_CERT" --cert-dir "$IT_DIR/certs" \
        -k "$APPROVERS" -c "$C" >"$IT_DIR/flow.out" 2>"$IT_DIR/flow.err" ||
        it_fail "kefu-e2e-flow failed: $(tr '\n' ' ' <"$IT_DIR/flow.out") $(head -c 2000 "$IT_DIR/flow.err")"
    it_note "waiting for every survey and notification"
    it_wait_for "every ticket surveyed and notified" 900 run_done
fi
t1=${EPOCHREALTIME/./}
# The daemons stop before the second snapshot: their backends end and
# flush their statistics; what they write on the way out is counted too.
for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do it_kill "${DAEMONS[$i]}" TERM; done
sleep 1.5
pg1=$(pg_cpu_total)
lsn1=$(it_psql "SELECT pg_current_wal_insert_lsn()")
read -r rec1 fpi1 bytes1 <<<"$(it_psql "SELECT wal_records || ' ' || wal_fpi || ' ' || wal_bytes FROM pg_stat_wal")"
snapshot 1

# ---------------------------------------------------------------- report
# $KEFU_AUDIT_SAVE: a directory to keep the WAL dump and the logs in.
save() { [[ -z ${KEFU_AUDIT_SAVE:-} ]] || { mkdir -p "$KEFU_AUDIT_SAVE" && cp -r "$@" "$KEFU_AUDIT_SAVE/"; }; }
trap 'save "$IT_DIR"/*.txt "$IT_DIR"/*.out "$IT_DIR/log"; it__cleanup' EXIT
per() { awk -v d="$1" -v n="$N" 'BEGIN { printf "%.1f", d / n }'; }
it__as_pg "$WALDUMP" -p "$IT_DIR/pg/data/pg_wal" -s "$lsn0" -e "$lsn1" >"$IT_DIR/wal.txt" 2>"$IT_DIR/waldump.err" || true
it__as_pg "$WALDUMP" -p "$IT_DIR/pg/data/pg_wal" -s "$lsn0" -e "$lsn1" --stats >"$IT_DIR/walstats.txt" 2>&1 || true
fpi_bytes=$(awk '$1 == "Total" { gsub(/\[[^]]*\]/, ""); print $4; exit }' "$IT_DIR/walstats.txt")

echo "== wal_audit.sh $(date -u '+%Y-%m-%d %H:%M UTC'): N=$N tickets, $C clients, $([[ $ROUTED == 1 ]] && echo 'submit -> routed only (bus, intake, router)' || echo "whole chain, $APPROVERS approvers")"
echo "Tree at $(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$source_dir" diff --quiet HEAD -- 2>/dev/null || echo ' (plus uncommitted work)'); PostgreSQL $pg_version; $pg_settings"
[[ -z $NOTE ]] || echo "Note: $NOTE"
echo "Load average $(cut -d' ' -f1-3 /proc/loadavg); wall $(( (t1 - t0) / 1000 )) ms; the run began after a CHECKPOINT, so"
echo "each page's first change in the run carries a full-page image (counted in the bytes, FPI bytes shown apart)."
echo
echo "Per ticket (daemons' start-up excluded, autovacuum included):"
echo "  wal_records=$(per $((rec1 - rec0)))"
echo "  wal_fpi=$(per $((fpi1 - fpi0)))"
echo "  wal_bytes=$(per $((bytes1 - bytes0)))"
echo "  wal_fpi_bytes=$(per "${fpi_bytes:-0}")"
echo "  wal_bytes_without_fpi=$(per $((bytes1 - bytes0 - ${fpi_bytes:-0})))"
echo "  pg_cpu_ms=$(awk -v d=$((pg1 - pg0)) -v n="$N" 'BEGIN { printf "%.2f", d / n }')"
echo
echo "Rows per ticket by table (inserted, updated, of them HOT, deleted) and bytes growth (table + indexes):"
it_psql "SELECT format('  %-26s ins %5s  upd %5s  hot %5s  del %5s  bytes %7s', b.name,
                round((b.ins - a.ins)::numeric / $N, 2), round((b.upd - a.upd)::numeric / $N, 2),
                round((b.hot - a.hot)::numeric / $N, 2), round((b.del - a.del)::numeric / $N, 2),
                round((b.bytes - a.bytes)::numeric / $N, 0))
           FROM audit.s_1 b JOIN audit.s_0 a USING (kind, relid)
          WHERE b.kind = 't' AND (b.ins, b.upd, b.del, b.bytes) <> (a.ins, a.upd, a.del, a.bytes)
          ORDER BY b.ins - a.ins + b.upd - a.upd DESC, 1"
echo
echo "WAL per ticket by relation (pg_waldump, a record counted on its first block's relation;"
echo "for an index, records ~ entries written): records, bytes, FPIs:"
awk '/blkref #0: rel/ {
        for (i = 1; i <= NF; i++) if ($i == "rel") { split($(i + 1), r, "/"); node = r[3] + 0; break }
        tot = $0; sub(/.*len \(rec\/tot\): *[0-9]+\/ */, "", tot); sub(/,.*/, "", tot)
        n[node]++; b[node] += tot; if ($0 ~ /FPW/) f[node]++
     }
     END { for (k in n) printf "%s %d %d %d\n", k, n[k], b[k], f[k] }' "$IT_DIR/wal.txt" >"$IT_DIR/byrel.txt"
it_psql "CREATE TABLE audit.byrel (node oid, recs bigint, bytes bigint, fpis bigint)" >/dev/null
it__as_pg psql -X -q -h 127.0.0.1 -p "$IT_PG_PORT" -U postgres -d kefu \
    -c "\\copy audit.byrel FROM '$IT_DIR/byrel.txt' WITH (DELIMITER ' ')" >/dev/null
it_psql "SELECT format('  %-44s %6s %8s %6s', coalesce(c.relname, 'filenode ' || w.node),
                round(w.recs::numeric / $N, 2), round(w.bytes::numeric / $N, 0), round(w.fpis::numeric / $N, 2))
           FROM audit.byrel w
           LEFT JOIN pg_class c ON c.oid = pg_filenode_relation(0, w.node)
          ORDER BY w.bytes DESC LIMIT 60"
echo
echo "By record kind (pg_waldump --stats=record, top 25): count, record bytes, FPI bytes, combined:"
it__as_pg "$WALDUMP" -p "$IT_DIR/pg/data/pg_wal" -s "$lsn0" -e "$lsn1" --stats=record 2>/dev/null |
    awk -v n="$N" '{ gsub(/\([^)]*\)/, "") } NF == 5 && $2 ~ /^[0-9]+$/ && $2 > 0 && $1 != "Total" {
        printf "  %-34s %7.2f %8.0f %8.0f %8.0f\n", $1, $2 / n, $3 / n, $4 / n, $5 / n }' |
    sort -k5,5 -n -r | head -n 25 || true
echo
echo "Indexes never scanned during the run (idx_scan unchanged), with their size:"
it_psql "SELECT format('  %-44s on %-22s %s', b.name, i.relname, pg_size_pretty(b.bytes))
           FROM audit.s_1 b JOIN audit.s_0 a USING (kind, relid)
           JOIN pg_stat_user_indexes i ON i.indexrelid = b.relid
          WHERE b.kind = 'i' AND b.scans = a.scans ORDER BY i.relname, b.name"
if [[ $STATEMENTS == 1 ]]; then
    echo
    echo "Statements by store time (pg_stat_statements, track = all: a function's inner statements are"
    echo "counted in their caller too): us per ticket, calls per ticket, rows per call, query:"
    it_psql "SELECT format('  %8s us %7s calls %7s rows/call  %s',
                    round((total_exec_time / $N * 1000)::numeric, 0), round(calls::numeric / $N, 2),
                    round(rows::numeric / greatest(calls, 1), 1),
                    regexp_replace(left(query, 110), '\\s+', ' ', 'g'))
               FROM pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'kefu')
              ORDER BY total_exec_time DESC LIMIT 40"
fi
