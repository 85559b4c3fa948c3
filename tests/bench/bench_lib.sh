# shellcheck shell=bash
# Helpers the benchmark scripts share (source after tests/integration/lib.sh):
# CPU time and peak memory from /proc, PostgreSQL's processes, key=value
# output. Measured, never asserted (README.md here).

TCK=$(getconf CLK_TCK)

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
    pg_settings=$(it_psql "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
                            WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
                                           'shared_buffers', 'wal_level', 'max_wal_size')")
    pg_version=$(it_psql "SHOW server_version")
}

# The environment of a whole-chain run (e2e.sh, wal_audit.sh), after it_init:
# kefu-approval's and kefu-survey's endpoints on free ports; surveys due at
# once after a resolution; messages to the file channel at any hour; no
# metrics ports (they would clash between runs).
bench_chain_env() {
    it__pick_port
    export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
    it__pick_port
    export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
    export KEFU_SURVEY_DELAY_S=0 KEFU_SURVEY_SCAN_MS=100 KEFU_SURVEY_CATCHUP_MS=500
    export KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_FILE=$IT_DIR/notifications.jsonl
    export KEFU_METRICS_PORT=0 KEFU_LOG_LEVEL=warn
}

# bench_chain_approvers K PREFIX: K approvers ap01..apK, each the single step
# of the refund policy PREFIX-k of one amount band [100(k-1), 100k) yuan
# (kefu-e2e-flow asks 100(k-1) + 50), with their certificates.
bench_chain_approvers() {
    local n=$1 prefix=$2 k
    it_psql "INSERT INTO staff (id, name, department_id, role, manager_id, email)
             SELECT format('ap%s', lpad(g::text, 2, '0')), format('审批人 %s', g), 'cs', 'manager',
                    'cs.wang', format('ap%s@kefu.example', lpad(g::text, 2, '0'))
               FROM generate_series(1, $n) g" >/dev/null
    it_psql "SELECT kefu_approval_policy_put(jsonb_build_object('id', format('$prefix-%s', k),
               'type', 'refund', 'min_yuan', 100 * (k - 1), 'max_yuan', 100 * k, 'stages', jsonb_build_array(
               jsonb_build_object('rule', 'all', 'steps', jsonb_build_array(jsonb_build_object(
                 'label', 'refund check', 'approver', jsonb_build_object('staff', format('ap%s', lpad(k::text, 2, '0'))),
                 'deadline_s', 86400, 'on_timeout', 'delegate'))))))
               FROM generate_series(1, $n) k" >/dev/null
    for ((k = 1; k <= n; k++)); do it_cert "$(printf 'ap%02d' "$k")" >/dev/null; done
}
