#!/usr/bin/env bash
# kefu benchmark companion: where does a ticket's time go? Run on demand.
#
#   tests/bench/profile.sh [-n N] [-c C]
#
# Against a private PostgreSQL (stock durable settings, pg_stat_statements
# loaded with track = all, track_functions = pl) it runs:
#   1. the full path (intake + router), kefu-load -n N -c C --wait-routed, then
#      the statements that took the store's time, per ticket;
#   2. intake alone (router stopped), to see what the router's competition costs;
#   3. pgbench calling kefu_submit() directly (one submit per transaction), the
#      store's own cost of a ticket without any daemon;
#   4. pgbench's one-row INSERT, the baseline of run.sh.
# Nothing is written to the tree; the report goes to stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
N=5000
C=4
while [[ $# -gt 0 ]]; do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -c) C=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "profile.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[0-9]+$ && $C =~ ^[0-9]+$ && $N -gt 0 && $C -gt 0 ]] ||
    { echo "profile.sh: -n and -c take positive integers" >&2; exit 2; }

build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
[[ -f $build_dir/CMakeCache.txt ]] ||
    cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target kefu-bus kefu-intake kefu-router kefu-load >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-1200}
LOAD=$build_dir/tests/bench/kefu-load
PGBENCH=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}/pgbench
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
it_init profile
it_pg_start
# kefu-load submits with agent.li's certificate (common/auth.h).
export KEFU_CERT=$(it_cert agent.li)
it_psql "ALTER SYSTEM SET fsync = on" >/dev/null
it_psql "ALTER SYSTEM SET synchronous_commit = on" >/dev/null
it_psql "ALTER SYSTEM SET full_page_writes = on" >/dev/null
# An extension's settings are refused by ALTER SYSTEM before it is loaded.
cat >>"$IT_DIR/pg/data/postgresql.conf" <<EOF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
track_functions = pl
EOF
it_pg_restart
it_psql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

pgb() { # pgbench args... -> prints "tps"
    it__as_pg "$PGBENCH" -n -M prepared -h 127.0.0.1 -p "$IT_PG_PORT" -U postgres "$@" kefu 2>&1 |
        sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p'
}

it_start bus
it_start intake
it_start router
it_wait_for "intake to answer" 30 "$LOAD" -n 1 --timeout-ms 1000
"$LOAD" -n 500 -c "$C" --wait-routed 20000 >/dev/null
it_psql "SELECT pg_stat_statements_reset(), pg_stat_reset()" >/dev/null

echo "== 1. intake + router: kefu-load -n $N -c $C --mix --wait-routed"
timeout 600 "$LOAD" -n "$N" -c "$C" --mix --wait-routed 60000 |
    grep -E '^(acked|ack_per_s|ack_p50_ms|ack_p99_ms|routed|routed_per_s|routed_p99_ms)='
echo
echo "Store time per ticket by statement (ms of execution summed over the run ÷ $N;"
echo "nested statements of kefu_submit and kefu_route_batch counted inside their callers too):"
it_psql "SELECT round((total_exec_time / $N * 1000)::numeric, 1) || ' us/ticket  ' ||
                round((calls::numeric / $N), 2) || ' calls/ticket  ' ||
                regexp_replace(left(query, 90), '\\s+', ' ', 'g')
           FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'kefu')
          ORDER BY total_exec_time DESC LIMIT 18"
echo
echo "PL/pgSQL functions (self = without the statements they call that are functions):"
it_psql "SELECT funcname || ': calls ' || calls || ', total ' || round(total_time::numeric, 0) ||
                ' ms, self ' || round(self_time::numeric, 0) || ' ms'
           FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 8"
echo
echo "Transactions and WAL:"
it_psql "SELECT 'commits ' || xact_commit || ', rollbacks ' || xact_rollback
           FROM pg_stat_database WHERE datname = 'kefu'"
it_psql "SELECT 'wal records ' || wal_records || ', wal bytes ' || wal_bytes ||
                ', wal syncs ' || wal_sync FROM pg_stat_wal"

echo
echo "== 2. intake alone (router stopped): kefu-load -n $N -c $C --mix"
it_kill router TERM
timeout 600 "$LOAD" -n "$N" -c "$C" --mix | grep -E '^(acked|ack_per_s|ack_p50_ms|ack_p99_ms)='
it_kill intake TERM
it_kill bus KILL  # kefu-bus may hang on TERM after heavy load (see RESULTS.md)

echo
echo "== 3. pgbench calling kefu_submit() directly, one per transaction, -c $C"
cat >"$IT_DIR/submit.sql" <<'EOF'
\set phone random(10000000, 99999999)
SELECT * FROM kefu_submit('pgb-' || :client_id || '-' || :phone || '-' || random(), 'agent.li',
    'complaint', 'leak', 'phone', 'normal', 'HZ-XH', NULL, NULL, '139' || :phone, NULL,
    '卫生间漏水 (pgbench)', NULL, 'pgbench');
EOF
cat >"$IT_DIR/submit50.sql" <<'EOF'
\set phone random(10000000, 99999999)
SELECT count(*) FROM generate_series(1, 50) g,
    LATERAL kefu_submit('pgb50-' || :client_id || '-' || :phone || '-' || g || '-' || random(),
        'agent.li', 'complaint', 'leak', 'phone', 'normal', 'HZ-XH', NULL, NULL,
        '138' || lpad(((:phone + g) % 100000000)::text, 8, '0'), NULL, '卫生间漏水 (pgbench)', NULL,
        'pgbench') s;
EOF
echo "INSERT INTO bench_pgbench (payload) VALUES ('卫生间漏水，楼下天花板有水渍');" >"$IT_DIR/insert.sql"
chmod 644 "$IT_DIR"/*.sql
it_psql "CREATE TABLE IF NOT EXISTS bench_pgbench (id bigserial PRIMARY KEY,
           at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)" >/dev/null
echo "kefu_submit per transaction: $(pgb -f "$IT_DIR/submit.sql" -c "$C" -j 2 -T 10) tps"
echo "50 kefu_submit in one statement: $(pgb -f "$IT_DIR/submit50.sql" -c "$C" -j 2 -T 10) tps (x50 tickets)"
echo
echo "== 4. pgbench one-row INSERT, -c $C"
echo "one-row INSERT: $(pgb -f "$IT_DIR/insert.sql" -c "$C" -j 2 -T 10) tps"
