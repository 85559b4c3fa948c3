#!/usr/bin/env bash
# kefu benchmark of the KPI report: how long `kefu report` takes over a store
# of 1,000,000 generated tickets, and the query plans it runs on. Run on
# demand (never from ctest): speed is measured, never asserted.
#
#   tests/bench/report.sh [-n TICKETS] [-r REPEATS] [--no-results]
#
# Steps: a private PostgreSQL (tests/integration/lib.sh) with the migrations
# and the demo organisation; N tickets (default 1,000,000) generated in SQL
# with generate_series over 12 months (2025-05 .. 2026-04, Asia/Shanghai), 20
# projects, every kind (40 % complaints), responses from 0 to 50 h (8 % never),
# 85 % resolved within 40 days, a history like intake's and the router's
# (submitted, routed, resolved; escalations at level 1 for 10 %, 2 for 4 %, 3
# for 1 %) and a survey for each resolution, 60 % answered; VACUUM ANALYZE.
# Then kefu-survey and `kefu report` for: one month, one month by project and
# by department, a year as a range, and the 12-month series of --chart; each
# once to warm up and REPEATS times (default 3), the median reported. Last,
# the plans of the report's statements as kefu-survey runs them, from
# auto_explain (EXPLAIN ANALYZE, BUFFERS) in the server's log.
#
# Prints a Markdown section; writes it, dated, with the plans to
# tests/bench/report-results.md unless --no-results.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
N=${KEFU_BENCH_N:-1000000}
REPEATS=${KEFU_BENCH_REPEATS:-3}
WRITE_RESULTS=1

while [[ $# -gt 0 ]]; do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -r) REPEATS=${2:?}; shift 2 ;;
        --no-results) WRITE_RESULTS=0; shift ;;
        -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "report.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[0-9]+$ && $N -ge 1000 ]] || { echo "report.sh: -n must be at least 1000" >&2; exit 2; }
[[ $REPEATS =~ ^[0-9]+$ && $REPEATS -ge 1 ]] || { echo "report.sh: -r must be >= 1" >&2; exit 2; }

build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
[[ -f $build_dir/CMakeCache.txt ]] || cmake -S "$source_dir" -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j 2 --target kefu-survey kefu >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-3000}
# shellcheck source=../integration/lib.sh
source "$source_dir/tests/integration/lib.sh"
it_init bench_report
export KEFU_LOG_LEVEL=warn KEFU_TIMEOUT_MS=600000
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
it_pg_start
export KEFU_CERT=$(it_cert cs.wang)
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
psql_run() { psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" "$@"; }

it_note "generating $N tickets"
t0=$(now_ms)
psql_run -v n="$N" <<'SQL' || it_fail "generating the data failed"
-- Consistent by construction: skip the per-row foreign-key triggers.
SET session_replication_role = replica;
INSERT INTO project (id, name, city)
SELECT format('BP-%s', lpad(p::text, 2, '0')), format('bench project %s', p), 'bench'
  FROM generate_series(1, 20) p ON CONFLICT DO NOTHING;
INSERT INTO homeowner (phone, name)
SELECT '137' || lpad(h::text, 8, '0'), NULL FROM generate_series(1, 50000) h
ON CONFLICT DO NOTHING;
CREATE TEMP TABLE bench_owner AS SELECT min(id) AS first FROM homeowner WHERE phone LIKE '137%';

-- One row per ticket; h(k) is a fixed pseudo-random number 0-999 per ticket.
INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id,
                    summary, created_by, owner_id, department_id, received_at, routed_at,
                    responded_at, first_resolved_at, resolved_at)
SELECT format('KF-B-%s', i), x.kind, 'other', 'phone', 'normal',
       CASE WHEN x.resolved IS NOT NULL THEN 'resolved'
            WHEN x.responded IS NOT NULL THEN 'responded' ELSE 'routed' END,
       format('BP-%s', lpad((abs(hashint4(i + 1)) % 20 + 1)::text, 2, '0')),
       (SELECT first FROM bench_owner) + i % 50000, 'bench ticket', 'agent.li', 'agent.li',
       (ARRAY['cs', 'eng', 'eng', 'property', 'property', 'sales', 'audit'])[abs(hashint4(i + 2)) % 7 + 1],
       x.received, x.received + interval '1 second', x.responded, x.resolved, x.resolved
  FROM generate_series(1, :n) i,
       LATERAL (SELECT '2025-04-30 16:00:00+00'::timestamptz
                       + make_interval(secs => (i - 1)::float8 / :n * 365 * 86400) AS received) r,
       LATERAL (SELECT CASE WHEN abs(hashint4(i)) % 100 < 40 THEN 'complaint'
                            WHEN abs(hashint4(i)) % 100 < 70 THEN 'repair'
                            WHEN abs(hashint4(i)) % 100 < 90 THEN 'inquiry'
                            WHEN abs(hashint4(i)) % 100 < 95 THEN 'suggestion'
                            ELSE 'praise' END AS kind,
                       r.received,
                       CASE WHEN abs(hashint4(i + 3)) % 100 < 8 THEN NULL
                            ELSE r.received + make_interval(mins => abs(hashint4(i + 4)) % 3000) END
                           AS responded,
                       CASE WHEN abs(hashint4(i + 5)) % 100 < 85
                            THEN r.received + make_interval(mins => 60 + abs(hashint4(i + 6)) % 57600)
                       END AS resolved) x;

-- History: submitted and routed for every ticket, resolved where resolved,
-- escalations at levels 1 (10 %), 2 (4 %) and 3 (1 %).
INSERT INTO ticket_history (ticket_id, at, action, actor, to_owner, level)
SELECT t.id, t.received_at, 'submitted', 'agent.li', 'agent.li', NULL::smallint FROM ticket t WHERE t.no LIKE 'KF-B-%'
UNION ALL
SELECT t.id, t.routed_at, 'routed', NULL, t.owner_id, NULL FROM ticket t WHERE t.no LIKE 'KF-B-%'
UNION ALL
SELECT t.id, t.resolved_at, 'resolved', t.owner_id, NULL, NULL FROM ticket t
 WHERE t.no LIKE 'KF-B-%' AND t.resolved_at IS NOT NULL
UNION ALL
SELECT t.id, t.received_at + make_interval(hours => 24 * l.level + 1), 'escalated', NULL, 'cs.wang', l.level
  FROM ticket t, generate_series(1, 3) l (level)
 WHERE t.no LIKE 'KF-B-%'
   AND abs(hashint4(t.id::int + 7)) % 100 < CASE l.level WHEN 1 THEN 10 WHEN 2 THEN 4 ELSE 1 END;

-- A survey after each resolution, a day later; 60 % answered within 3 days,
-- scores mostly 4-5, a 0-10 score for 80 % of the answers.
INSERT INTO survey (ticket_id, homeowner_id, kind, project_id, resolution_no, due_at, sent_at,
                    answered_at, score, nps, answered_by)
SELECT t.id, t.homeowner_id, 'resolution', t.project_id, 1, t.resolved_at + interval '1 day',
       t.resolved_at + interval '1 day',
       CASE WHEN a.answered THEN t.resolved_at + interval '1 day' + make_interval(mins => a.h % 4320) END,
       CASE WHEN a.answered THEN (ARRAY[1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5])[a.h % 12 + 1] END,
       CASE WHEN a.answered AND a.h % 5 <> 0 THEN (ARRAY[0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10])[a.h % 11 + 1] END,
       CASE WHEN a.answered THEN 'agent.li' END
  FROM ticket t,
       LATERAL (SELECT abs(hashint4(t.id::int + 8)) AS h,
                       abs(hashint4(t.id::int + 9)) % 100 < 60 AS answered) a
 WHERE t.no LIKE 'KF-B-%' AND t.resolved_at IS NOT NULL;
RESET session_replication_role;
SQL
t1=$(now_ms)
it_note "generated in $(((t1 - t0) / 1000)) s; VACUUM ANALYZE"
psql_run -c "VACUUM ANALYZE" >/dev/null
t2=$(now_ms)
counts=$(it_psql "SELECT (SELECT count(*) FROM ticket) || ' tickets, ' ||
                         (SELECT count(*) FROM ticket WHERE kind = 'complaint') || ' complaints, ' ||
                         (SELECT count(*) FROM ticket_history) || ' history rows (' ||
                         (SELECT count(*) FROM ticket_history WHERE action = 'escalated') || ' escalations), ' ||
                         (SELECT count(*) FROM survey) || ' surveys (' ||
                         (SELECT count(*) FROM survey WHERE answered_at IS NOT NULL) || ' answered)'")
sizes=$(it_psql "SELECT 'ticket ' || pg_size_pretty(pg_total_relation_size('ticket')) ||
                        ', ticket_history ' || pg_size_pretty(pg_total_relation_size('ticket_history')) ||
                        ', survey ' || pg_size_pretty(pg_total_relation_size('survey'))")
it_note "$counts"

it_start survey
it_wait_for "kefu-survey to answer" 60 kefu report --month 2025-05

# The reports timed: label and arguments.
labels=("one month (2026-03)" "one month by project" "one month by department"
        "a year as a range" "the 12-month series (--chart)")
args=("--month 2026-03" "--month 2026-03 --by project" "--month 2026-03 --by department"
      "--from 2025-05-01 --to 2026-05-01" "--month 2026-04 --chart $IT_DIR/kpi.svg")
rows=()
for i in "${!labels[@]}"; do
    # shellcheck disable=SC2086
    kefu report ${args[i]} >"$IT_DIR/report$i.txt" || it_fail "kefu report ${args[i]} failed"
    times=()
    for ((r = 0; r < REPEATS; r++)); do
        s=$(now_ms)
        # shellcheck disable=SC2086
        kefu report ${args[i]} --json >"$IT_DIR/report$i.json" || it_fail "kefu report ${args[i]} failed"
        times+=($(($(now_ms) - s)))
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((REPEATS + 1) / 2))p")
    tickets=$(jq .total.tickets "$IT_DIR/report$i.json")
    rows+=("| ${labels[i]} | \`kefu report ${args[i]//$IT_DIR\//}\` | $tickets | **$median** | ${times[*]} |")
    it_note "${labels[i]}: median $median ms (${times[*]})"
done
# KEFU_BENCH_CHART=FILE keeps the chart of the 12 months for a look.
[[ -z ${KEFU_BENCH_CHART:-} ]] || cp "$IT_DIR/kpi.svg" "$KEFU_BENCH_CHART"

# The plans: auto_explain in kefu-survey's next session logs every statement
# with EXPLAIN ANALYZE and BUFFERS.
it_note "collecting the plans with auto_explain"
psql_run -c "LOAD 'auto_explain'" \
         -c "ALTER SYSTEM SET session_preload_libraries = 'auto_explain'" \
         -c "ALTER SYSTEM SET auto_explain.log_min_duration = 0" \
         -c "ALTER SYSTEM SET auto_explain.log_analyze = on" \
         -c "ALTER SYSTEM SET auto_explain.log_buffers = on" \
         -c "SELECT pg_reload_conf()" >/dev/null
it_kill survey TERM
pglog=$IT_DIR/log/postgres.log
mark=$(wc -l <"$pglog")
it_start survey@explain
it_wait_for "kefu-survey to answer" 60 kefu report --month 2025-05
mark=$(wc -l <"$pglog")
kefu report --month 2026-03 --by project >/dev/null
kefu report --from 2025-05-01 --to 2026-05-01 >/dev/null
kefu report --month 2026-04 --chart "$IT_DIR/explain.svg" >/dev/null
sleep 0.5
plans=$(tail -n +"$((mark + 1))" "$pglog" | awk '
    / LOG:  duration: .* plan:/ { keep = 0; held = $0; next }
    / (LOG|ERROR|WARNING|STATEMENT|DETAIL|HINT):  / { keep = 0; held = ""; next }
    /Query Text: SELECT (grouping|0, b.label|z.tz|kefu_ms|1 FROM staff)/ { keep = 1 }
    keep && held != "" { print held; held = "" }
    keep { print }' | sed -E 's/^[0-9-]+ [0-9:.]+ UTC \[[0-9]+\] //')
it_psql "ALTER SYSTEM RESET ALL" >/dev/null
it_psql "SELECT pg_reload_conf()" >/dev/null

section=$(cat <<EOF

## kefu report over $N tickets, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL 15 (stock memory settings)

Store: $counts; $sizes. Generated in $(((t1 - t0) / 1000)) s, VACUUM ANALYZE $(((t2 - t1) / 1000)) s.
Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared).

| report | command | tickets in period | median ms | runs (ms) |
| --- | --- | --- | --- | --- |
$(printf '%s\n' "${rows[@]}")

Times are wall-clock for the whole \`kefu report --json\` (client start, request, kefu-survey's
statements, reply), after one warm-up run.
EOF
)
printf '%s\n' "$section"
if [[ $WRITE_RESULTS == 1 ]]; then
    {
        printf '%s\n\n### Plans (auto_explain: EXPLAIN ANALYZE, BUFFERS): one month by project, a year as a range, the 12-month series\n\n```\n%s\n```\n' \
            "$section" "$plans"
    } >>"$here/report-results.md"
    it_note "appended to tests/bench/report-results.md"
else
    printf '\n```\n%s\n```\n' "$plans"
fi
