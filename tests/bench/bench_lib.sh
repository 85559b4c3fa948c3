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
