# shellcheck shell=bash
# Helpers the benchmark scripts share (source after tests/integration/lib.sh):
# CPU time and peak memory from /proc, PostgreSQL's processes, key=value
# output. Measured, never asserted (README.md here).

TCK=$(getconf CLK_TCK)

# bench_option ARGS...: takes the option at the head of ARGS when it is one
# every benchmark script has (-n N, -c LIST, -T SECONDS, --durable on|off,
# --no-results, --note TEXT), setting N, CLIENTS, PGBENCH_SECONDS, DURABLE,
# WRITE_RESULTS or NOTE; sets SHIFT to the words it took (0: not one of them).
# shellcheck disable=SC2034 # the settings are the caller's
bench_option() {
    SHIFT=2
    case $1 in
        -n) N=${2:?} ;;
        -c) CLIENTS=${2:?} ;;
        -T) PGBENCH_SECONDS=${2:?} ;;
        --durable) DURABLE=${2:?} ;;
        --no-results) WRITE_RESULTS=0; SHIFT=1 ;;
        --note) NOTE=${2:?} ;;
        *) SHIFT=0 ;;
    esac
}

# bench_check_options NAME: exits 2 with a message naming NAME when N,
# PGBENCH_SECONDS, DURABLE or CLIENTS is not valid.
bench_check_options() {
    local v c
    for v in "$N" "$PGBENCH_SECONDS"; do
        [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] || { echo "$1: -n and -T take positive integers" >&2; exit 2; }
    done
    [[ $DURABLE == on || $DURABLE == off ]] || { echo "$1: --durable is on or off" >&2; exit 2; }
    [[ -n ${CLIENTS// /} ]] || { echo "$1: -c needs at least one level" >&2; exit 2; }
    for c in $CLIENTS; do
        [[ $c =~ ^[0-9]+$ && $c -gt 0 ]] || { echo "$1: -c takes positive integers" >&2; exit 2; }
    done
}

# CPU time (ms) used so far by the given PIDs: "user system".
cpu_split() {
    local pid u=0 s=0 stat rest
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        rest=${stat##*) }
        # shellcheck disable=SC2086
        set -- $rest
        u=$((u + ${12})) s=$((s + ${13}))
    done
    echo "$((u * 1000 / TCK)) $((s * 1000 / TCK))"
}

# CPU time (ms) used so far by the given PIDs (utime + stime).
cpu_ms() { local a; a=$(cpu_split "$@"); echo $(( ${a% *} + ${a#* } )); }

# Machine-wide CPU: "busy total" jiffies so far (all CPUs).
machine_jiffies() {
    awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat
}

# Busy share of the machine between two machine_jiffies readings, percent.
busy_pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
        if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "-" }'
}

# Machine CPU µs per item between two machine_jiffies readings: busy_us_per A B ITEMS.
busy_us_per() {
    awk -v a="$1" -v b="$2" -v n="$3" -v t="$TCK" 'BEGIN { split(a, x, " "); split(b, y, " ");
        if (n > 0) printf "%.0f", (y[1] - x[1]) * 1e6 / t / n; else print "-" }'
}

# The postmaster of the harness's PostgreSQL and all its children.
pg_all_pids() {
    local pm stat rest pid
    pm=$(head -n1 "$IT_DIR/pg/data/postmaster.pid")
    echo "$pm"
    for stat in /proc/[0-9]*/stat; do
        pid=${stat#/proc/}; pid=${pid%/stat}
        rest=$(cat "$stat" 2>/dev/null) || continue
        rest=${rest##*) }
        # shellcheck disable=SC2086
        set -- $rest
        [[ $2 == "$pm" ]] && echo "$pid"
    done
}

# Peak RSS (VmHWM) of a process, KiB.
vm_hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# Peak RSS (VmHWM) of a process, MiB.
vm_hwm_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# What the daemons occupy together: summing their VmHWM counts the pages
# of the libraries they share (libzmq, libpq, libcrypto, libc: about 10 of
# an idle daemon's 12-13 MiB) once per daemon. A process's PSS counts its
# own pages whole and a shared page divided among the processes that map
# it, so the sum of the daemons' PSS is their memory with each shared page
# counted once (a little less: the share of a library page held by a
# process that is no daemon, say libcrypto in a PostgreSQL backend, is left
# out). The kernel keeps no peak of it: pss_sampler_start PID... samples the
# sum every 200 ms in the background (reading with bash builtins, so as to
# cost the measured machine next to nothing) until pss_sampler_stop, which
# sets pss_peak_mib, or until the run's shell is gone.
pss_sampler_start() {
    pss_sampler_out=$IT_DIR/pss.peak
    echo 0 >"$pss_sampler_out"
    (
        peak=0
        # Ends with the run even when the run ends without pss_sampler_stop.
        while [[ -e /proc/$IT_MAIN_PID ]]; do
            sum=0
            for pid in "$@"; do
                while read -r key value _; do
                    if [[ $key == Pss: ]]; then sum=$((sum + value)); break; fi
                done 2>/dev/null <"/proc/$pid/smaps_rollup" || true
            done
            if ((sum > peak)); then peak=$sum; echo "$peak" >"$pss_sampler_out"; fi
            sleep 0.2
        done
    ) &
    pss_sampler_pid=$!
}

# Sets pss_peak_mib ("-" when no sampler ran); not for $(...), whose
# subshell would keep the sampler's pid.
pss_sampler_stop() {
    pss_peak_mib=-
    [[ -n ${pss_sampler_pid:-} ]] || return 0
    kill "$pss_sampler_pid" 2>/dev/null || true
    wait "$pss_sampler_pid" 2>/dev/null || true
    pss_sampler_pid=
    pss_peak_mib=$(awk '{ printf "%.1f", $1 / 1024 }' "$pss_sampler_out")
}

# The value of key $1 in key=value file $2.
val() { sed -n "s/^$1=//p" "$2" | head -n1; }

# With $1 = on, switches the harness's PostgreSQL back to durable stock
# settings (fsync, synchronous_commit, full_page_writes on); then sets
# pg_settings (the settings that matter, for the report) and pg_version.
# shellcheck disable=SC2034 # pg_settings and pg_version are the caller's
bench_pg_settings() {
    local setting
    if [[ $1 == on ]]; then
        for setting in fsync synchronous_commit full_page_writes; do
            it_psql "ALTER SYSTEM SET $setting = on" >/dev/null
        done
        it_psql "SELECT pg_reload_conf()" >/dev/null
        sleep 0.5
    fi
    # KEFU_BENCH_COMMIT_DELAY_US: every commit waits this long before its
    # WAL flush (commit_delay, with commit_siblings 0), as a commit that
    # waits for a synchronous replica or a networked disk does.
    if [[ -n ${KEFU_BENCH_COMMIT_DELAY_US:-} ]]; then
        it_psql "ALTER SYSTEM SET commit_delay = ${KEFU_BENCH_COMMIT_DELAY_US}" >/dev/null
        it_psql "ALTER SYSTEM SET commit_siblings = 0" >/dev/null
        it_psql "SELECT pg_reload_conf()" >/dev/null
        sleep 0.5
    fi
    pg_settings=$(it_psql "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
                            WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
                                           'shared_buffers', 'wal_level', 'max_wal_size')
                               OR (name = 'commit_delay' AND setting <> '0')")
    pg_version=$(it_psql "SHOW server_version")
}

# Configures build dir $KEFU_BUILD_DIR (default SOURCE/build) when needed and
# builds the given targets; sets build_dir and exports KEFU_BUILD_DIR and
# KEFU_SOURCE_DIR for the harness. Needs source_dir.
bench_build() {
    build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
    if [[ ! -f $build_dir/CMakeCache.txt ]]; then
        cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    cmake --build "$build_dir" -j "$(nproc)" --target "$@" >/dev/null
    export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
}

# pgbench of the harness's PostgreSQL (KEFU_PGBIN, else the PATH's): sets PGBENCH.
bench_find_pgbench() {
    PGBENCH=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}/pgbench
    [[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench) || { echo "pgbench not found" >&2; exit 1; }
}

# The baselines' scratch table and scripts in $IT_DIR: one.sql, one
# single-row INSERT per transaction; batch.sql, one 50-row multi-VALUES
# INSERT per transaction.
bench_pgbench_scripts() {
    local i
    it_psql "CREATE TABLE bench_pgbench (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
                                         payload text NOT NULL)" >/dev/null
    echo "INSERT INTO bench_pgbench (payload) VALUES ('卫生间漏水，楼下天花板有水渍');" >"$IT_DIR/one.sql"
    {
        printf "INSERT INTO bench_pgbench (payload) VALUES "
        for ((i = 1; i <= 50; i++)); do
            printf "('卫生间漏水，楼下天花板有水渍 %d')%s" "$i" "$([[ $i -lt 50 ]] && echo , || echo ';')"
        done
        echo
    } >"$IT_DIR/batch.sql"
    chmod 644 "$IT_DIR/one.sql" "$IT_DIR/batch.sql"
}

# pgbench_run SCRIPT CLIENTS OUT: runs SCRIPT for $PGBENCH_SECONDS against
# the harness's PostgreSQL and prints its tps.
pgbench_run() {
    local script=$1 c=$2 out=$3
    it__as_pg "$PGBENCH" -n -M prepared -f "$script" -c "$c" -j $(( c < 2 ? c : 2 )) \
              -T "$PGBENCH_SECONDS" -h 127.0.0.1 -p "$IT_PG_PORT" -U postgres kefu >"$out" 2>&1 ||
        it_fail "pgbench failed: $(tail -n 5 "$out")"
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$out"
}

# CPU ms of the whole PostgreSQL: the postmaster, its children that ended
# (counted in its cutime/cstime) and those still running.
pg_cpu_ms() {
    local pm
    pm=$(head -n1 "$IT_DIR/pg/data/postmaster.pid")
    { cat "/proc/$pm/stat"; for c in $(pgrep -P "$pm"); do cat "/proc/$c/stat" 2>/dev/null || true; done; } |
        awk -v t="$TCK" -v pm="$pm" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
            ms += f[12] + f[13]; if ($1 == pm) ms += f[14] + f[15] } END { print int(ms * 1000 / t) }'
}

# WAL bytes written so far: the insert position as a byte count. Exact at
# once, where pg_stat_wal's counters reach the view only when each backend
# flushes its statistics (at most once a second, idle).
wal_bytes() { it_psql "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint"; }

# p50 / p99 in ms of a set of intervals: hop SQL-SELECT-OF-MILLISECONDS.
hop() {
    it_psql "SELECT coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)::text, '-')
                    || ' / ' ||
                    coalesce(round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)::text, '-')
               FROM ($1) h"
}

# chain_done N TICKET-ID NOTIFICATION-ID: true when the N tickets after
# ticket id TICKET-ID are all surveyed and sent, and every notification after
# NOTIFICATION-ID is sent or failed.
chain_done() {
    it_psql_is "SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id
                 WHERE t.id > $2 AND s.kind = 'resolution' AND s.sent_at IS NOT NULL" "$1" &&
    it_psql_is "SELECT count(*) FROM notification n
                 WHERE n.id > $3 AND n.status IN ('pending', 'sending')" 0 &&
    it_psql_is "SELECT count(*) FROM notification n JOIN ticket t ON t.no = n.ticket_no
                 WHERE t.id > $2 AND n.event_type = 'survey.sent'" "$1"
}

# chain_figures N TICKET-ID NOTIFICATION-ID: the figures of the chain for
# the N tickets after TICKET-ID, from the store's timestamps: span_ms (first
# received to the last survey or notification sent) and chain_rate (tickets
# per second over it); notified and failed (notifications after
# NOTIFICATION-ID, and of those not sent); p50 / p99 ms of each hop:
# h_route (received -> routed), h_approve (requested -> completed), h_notify
# (created -> sent), h_survey (resolved -> survey sent).
# shellcheck disable=SC2034 # the figures are the caller's
chain_figures() {
    local n=$1 t_base=$2 n_base=$3
    span_ms=$(it_psql "SELECT round(extract(epoch FROM greatest(
                  (SELECT max(s.sent_at) FROM survey s WHERE s.ticket_id > $t_base),
                  (SELECT max(sent_at) FROM notification WHERE id > $n_base))
                - (SELECT min(received_at) FROM ticket WHERE id > $t_base)) * 1000)")
    chain_rate=$(awk -v n="$n" -v ms="$span_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
    notified=$(it_psql "SELECT count(*) FROM notification WHERE id > $n_base")
    failed=$(it_psql "SELECT count(*) FROM notification WHERE id > $n_base AND status <> 'sent'")
    h_route=$(hop "SELECT extract(epoch FROM routed_at - received_at) * 1000 AS ms FROM ticket WHERE id > $t_base")
    h_approve=$(hop "SELECT extract(epoch FROM completed_at - requested_at) * 1000 AS ms
                       FROM approval_request WHERE ticket_id > $t_base")
    h_notify=$(hop "SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms
                      FROM notification WHERE id > $n_base AND sent_at IS NOT NULL")
    h_survey=$(hop "SELECT extract(epoch FROM s.sent_at - t.resolved_at) * 1000 AS ms
                      FROM survey s JOIN ticket t ON t.id = s.ticket_id
                     WHERE t.id > $t_base AND s.kind = 'resolution'")
}

# The environment of the whole chain (after it_init): free ports for
# kefu-approval and kefu-survey; surveys due at once after a resolution;
# messages to the file channel at any hour; no metrics ports (they would
# clash between daemons); log level warn.
bench_chain_env() {
    it__pick_port
    export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
    it__pick_port
    export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
    export KEFU_SURVEY_DELAY_S=0 KEFU_SURVEY_SCAN_MS=100 KEFU_SURVEY_CATCHUP_MS=500
    export KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_FILE=$IT_DIR/notifications.jsonl
    export KEFU_METRICS_PORT=0 KEFU_LOG_LEVEL=warn
}

# bench_chain_approvers K PREFIX: K approvers ap01..apK with their
# certificates, each the single step of the refund policy PREFIX-k of one
# amount band [100(k-1), 100k) yuan (approval_bands; kefu-e2e-flow asks
# 100(k-1) + 50), each with an e-mail address so that their notifications
# are sent. Needs tests/integration/approval_lib.sh.
bench_chain_approvers() {
    approval_bands "$2" 86400 "$1"
    it_psql "UPDATE staff SET email = id || '@kefu.example' WHERE id LIKE 'ap__' AND email IS NULL" >/dev/null
}

# bench_fg COMMAND...: runs COMMAND and returns its status, as in the
# foreground, but waited for with `wait`, so that a signal ends the wait at
# once: bash runs a trap only when its foreground command has ended, and
# ignores a SIGINT its child did not die of (a command under timeout(1),
# in a process group of its own, never gets the terminal's Ctrl-C).
bench_fg() {
    local st=0
    "$@" &
    BENCH_FG=$!
    wait "$BENCH_FG" || st=$?
    BENCH_FG=
    return "$st"
}

# The trap of a benchmark script on TERM, INT and HUP (after it_init): stops
# the command bench_fg runs, then exits, and the harness's exit trap stops
# the rest.
bench_trap_signals() {
    trap '[[ -z ${BENCH_FG:-} ]] || kill -TERM "$BENCH_FG" 2>/dev/null; exit 1' TERM INT HUP
}

# The raw output lines given, folded in a <details> block of the report.
raw_details() {
    echo "<details><summary>raw output</summary>"
    echo
    printf '    %s\n' "$@"
    echo
    echo "</details>"
}

# Prints the report given and, unless WRITE_RESULTS is 0, appends it to
# tests/bench/RESULTS.md.
publish() {
    printf '\n%s\n\n' "$1"
    if [[ ${WRITE_RESULTS:-1} == 1 ]]; then
        printf '\n%s\n' "$1" >>"$KEFU_SOURCE_DIR/tests/bench/RESULTS.md"
        it_note "appended to $KEFU_SOURCE_DIR/tests/bench/RESULTS.md"
    fi
}

# The machine, for a report: "N vCPU (model), M GiB RAM".
machine_line() {
    echo "$(nproc) vCPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
}

# Marks every event written so far as seen by the consumers named
# (consumer_cursor.horizon moved past them, common/feed.c), as if they had
# run all along: a daemon started now does not catch up on them.
skip_events_for() {
    it_psql "INSERT INTO consumer_cursor (consumer, horizon)
             SELECT c, pg_snapshot_xmin(pg_current_snapshot()) FROM unnest(string_to_array('$*', ' ')) c
             ON CONFLICT (consumer) DO UPDATE SET horizon = greatest(consumer_cursor.horizon, excluded.horizon),
                                                  updated_at = now()" >/dev/null
}

# bench_preload N: writes N finished tickets straight into the store, set-based
# (generate_series), as kefu would have left them: received over the past
# year, routed, resolved and closed, numbered by kefu_ticket_no, each with its
# history (submitted, routed, resolved, closed), its outbox events
# (ticket.submitted, .routed, .resolved) and those events marked processed by
# the consumers that take them; then VACUUM ANALYZE and CHECKPOINT, and the
# consumers' horizons moved past the events, so that no daemon routes, notifies or
# surveys them. Surveys and notifications of these tickets are not written.
bench_preload() {
    psql -X -q -v ON_ERROR_STOP=1 -v n="$1" -d "$KEFU_DATABASE_URL" <<'SQL' >&2 || it_fail "preloading the store failed"
\timing on
SET session_replication_role = replica; -- consistent by construction: no per-row FK triggers
INSERT INTO homeowner (phone) SELECT '137' || lpad(h::text, 8, '0') FROM generate_series(1, 50000) h
ON CONFLICT DO NOTHING;
-- Scalars and short arrays only: a long array here would be read whole for
-- every row.
CREATE TEMP TABLE pre_ref AS
SELECT (SELECT min(id) FROM homeowner WHERE phone LIKE '137%') AS owner0,
       (SELECT count(*) FROM homeowner WHERE phone LIKE '137%') AS owners,
       (SELECT array_agg(id ORDER BY id) FROM project) AS projects,
       ARRAY['complaint', 'repair', 'inquiry', 'suggestion', 'praise'] AS kinds;
CREATE TEMP TABLE pre AS
SELECT nextval(pg_get_serial_sequence('ticket', 'id')) AS id, i,
       now() - interval '1 day' - make_interval(secs => (:n - i)::float8 / :n * 365 * 86400) AS received
  FROM generate_series(1, :n) i;
INSERT INTO ticket (id, no, idem_key, kind, category, channel, priority, status, project_id,
                    homeowner_id, summary, created_by, owner_id, department_id, received_at,
                    routed_at, responded_at, resolved_at, first_resolved_at, closed_at)
SELECT p.id, kefu_ticket_no(p.id, p.received), 'pre-' || p.i, r.kinds[p.i % 5 + 1], 'other', 'phone',
       'normal', 'closed', r.projects[p.i % array_length(r.projects, 1) + 1],
       r.owner0 + p.i % r.owners, '卫生间漏水，楼下天花板有水渍', 'agent.li',
       'agent.li', 'cs', p.received, p.received + interval '1 second', p.received + interval '1 hour',
       p.received + interval '1 day', p.received + interval '1 day', p.received + interval '8 days'
  FROM pre p, pre_ref r;
INSERT INTO ticket_history (ticket_id, at, action, actor, to_owner)
SELECT p.id, p.received + a.after, a.action, a.actor, a.to_owner
  FROM pre p, (VALUES (interval '0', 'submitted', 'agent.li', 'agent.li'),
                      (interval '1 second', 'routed', NULL, 'agent.li'),
                      (interval '1 day', 'resolved', 'agent.li', NULL),
                      (interval '8 days', 'closed', NULL, NULL)) a (after, action, actor, to_owner)
 ORDER BY p.id, a.after;
INSERT INTO event (type, corr, src, at, body)
SELECT e.type, t.no, 'bench-preload', t.received_at + e.after,
       CASE e.type
       WHEN 'ticket.submitted' THEN jsonb_build_object('ticket', t.no, 'kind', t.kind, 'category', t.category,
            'channel', t.channel, 'priority', t.priority, 'project', t.project_id, 'summary', t.summary,
            'received_at', kefu_ms(t.received_at), 'actor', t.created_by)
       WHEN 'ticket.routed' THEN jsonb_build_object('ticket', t.no, 'owner', t.owner_id,
            'department', t.department_id)
       ELSE jsonb_build_object('ticket', t.no, 'actor', t.owner_id) END
  FROM ticket t JOIN pre p ON p.id = t.id,
       (VALUES ('ticket.submitted', interval '0'), ('ticket.routed', interval '1 second'),
               ('ticket.resolved', interval '1 day')) e (type, after)
 ORDER BY t.id, e.after;
INSERT INTO processed_event (consumer, event_id, at)
SELECT c.consumer, e.id, e.at
  FROM event e JOIN (VALUES ('ticket-router', 'ticket.submitted'), ('notifier', 'ticket.submitted'),
                            ('notifier', 'ticket.routed'), ('notifier', 'ticket.resolved'),
                            ('survey', 'ticket.resolved')) c (consumer, type) ON c.type = e.type
 WHERE e.src = 'bench-preload'
 ORDER BY e.id;
RESET session_replication_role;
SQL
    # A checkpoint now, so that writing the preload's pages out does not
    # fall inside the first measure.
    psql -X -q -d "$KEFU_DATABASE_URL" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null ||
        it_fail "VACUUM ANALYZE or CHECKPOINT failed"
    skip_events_for ticket-router notifier survey
}
