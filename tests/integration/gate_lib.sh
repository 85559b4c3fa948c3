# A gate for the lanes tests (source after lib.sh): it holds a daemon's
# transaction at its COMMIT, so a test can see what the daemon does
# meanwhile on its other store connections. A deferred constraint trigger
# takes an advisory lock, shared, for the rows it is given, and the test
# holds that lock in a session of its own (it-gate) while the gate is
# closed.

GATE_PID=

# gate_install KEY "AFTER INSERT ON table" CONDITION: the trigger, for the
# rows CONDITION (SQL on NEW and OLD, subqueries allowed) holds for.
gate_install() {
    local key=${1:?} on=${2:?} when=${3:?}
    it_psql "CREATE FUNCTION it_gate_$key() RETURNS trigger LANGUAGE plpgsql AS \$\$
             BEGIN
                 IF ($when) THEN PERFORM pg_advisory_xact_lock_shared($key); END IF;
                 RETURN NULL;
             END \$\$;
             CREATE CONSTRAINT TRIGGER it_gate_$key $on DEFERRABLE INITIALLY DEFERRED
                 FOR EACH ROW EXECUTE FUNCTION it_gate_$key();" >/dev/null
}

gate_close() {
    local key=${1:?}
    PGAPPNAME=it-gate psql -X -q -At -d "$KEFU_DATABASE_URL" -c "SELECT pg_advisory_lock($key)" \
        -c "SELECT pg_sleep(110)" >/dev/null 2>&1 </dev/null &
    GATE_PID=$!
    it_wait_for "the gate to close" 30 it_psql_is \
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $key AND granted" 1
}

gate_open() {
    it_psql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name = 'it-gate'" >/dev/null
    wait "$GATE_PID" 2>/dev/null || true
    GATE_PID=
}

# gate_waiting APP [EVENT]: how many connections named APP wait for a lock
# (EVENT: advisory, the gate's, unless given).
gate_waiting() {
    it_psql "SELECT count(*) FROM pg_stat_activity WHERE application_name = '${1:?}'
               AND wait_event_type = 'Lock' AND wait_event = '${2:-advisory}'"
}

# gate_wait APP WHAT: waits until one connection named APP waits at the gate.
gate_wait() {
    it_wait_for "${2:?}" 30 it_psql_is \
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = '${1:?}'
           AND wait_event_type = 'Lock' AND wait_event = 'advisory'" 1
}

# gate_break APP: terminates the connections named APP waiting at the gate.
gate_break() {
    it_psql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name = '${1:?}' AND wait_event_type = 'Lock'
                 AND wait_event = 'advisory'" >/dev/null
}
