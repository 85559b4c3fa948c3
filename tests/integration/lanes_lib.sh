# What the lanes tests share (source after lib.sh and routing_checks.sh):
# lanes are a daemon's extra store connections, each writing while the
# store flushes another's commit (KEFU_*_CONNECTIONS).
#
# A gate holds a daemon's transaction at its COMMIT, so a test can see what
# the daemon does meanwhile on its other connections. A deferred
# constraint trigger takes an advisory lock, shared, for the rows it is
# given, and the test holds that lock in a session of its own (it-gate)
# while the gate is closed.

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

# lanes_submit SUMMARY PHONE: submits a complaint as the client (KEFU_CERT);
# prints the new ticket's number. What lanes_overlap and lanes_failed_commit
# make their tickets with, unless LANES_MAKE names another such function
# (one that takes the ticket further, to the event the daemon works on).
lanes_submit() {
    local out
    out=$(kefu --timeout 30000 submit --kind complaint --category leak --channel phone \
        --project HZ-XH --phone "${2:?}" --summary "${1:?}" 2>&1) || it_fail "submit: $out"
    grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1
}

# lanes_load_terminating N APP [kefu-load options]: kefu-load submits N
# tickets from 8 clients while the store connections named like APP (a
# LIKE pattern) are terminated one at a time, the next once 20 more
# tickets are stored and a connection is there again. How many fit into N
# depends on the machine's speed, not the code's: while fewer than 3 were
# terminated (fewer prove nothing), another N follow, up to 10 rounds
# (named load, load-2, ...; idempotency keys load-%). Fails unless each
# round's kefu-load succeeded and its N are stored once each. Sets
# LANES_KILLS and LANES_SENT (N times the rounds).
lanes_load_terminating() {
    local n=${1:?} app=${2:?} pid at round=0 name loadout base
    shift 2
    base=$(rc_count)
    LANES_KILLS=0
    while ((LANES_KILLS < 3 && round < 10)); do
        round=$((round + 1))
        name=load
        ((round == 1)) || name=load-$round
        rc_load_start "$name" "$n" 8 "$@"
        while rc__load_running; do
            pid=$(it_psql "SELECT pid FROM pg_stat_activity WHERE application_name LIKE '$app'
                            ORDER BY random() LIMIT 1")
            # None while the daemon reconnects: look again soon.
            if [[ -z $pid || $(it_psql "SELECT pg_terminate_backend($pid)") != t ]]; then
                sleep 0.02
                continue
            fi
            LANES_KILLS=$((LANES_KILLS + 1))
            at=$(($(rc_count) + 20))
            while rc__load_running && (($(rc_count) < at)); do sleep 0.02; done
        done
        rc_load_wait 30
        loadout=$(tr '\n' ' ' <"$IT_DIR/log/$name.log" | cut -c1-400)
        it_note "$name: $loadout; $LANES_KILLS connections terminated so far"
        [[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $loadout"
        rc_assert_load_stored "$name" "$n" "$((base + (round - 1) * n))"
    done
    ((LANES_KILLS >= 3)) ||
        it_fail "only $LANES_KILLS connections were terminated in $round loads; the test proves nothing"
    LANES_SENT=$((round * n))
}

# lanes_overlap GATE APP DONE ONCE UNDONE: a gated ticket's work waits at
# its commit on a lane (connections named APP); (i) meanwhile another
# ticket's work is done (DONE NO: done) on another connection, while the
# gated ticket's is not visible (UNDONE NO: true while not done) and still
# waits; (ii) once the gate opens the gated ticket's work is done, and
# both tickets' exactly once (ONCE NO). Sets LANES_A (the gated ticket) and
# LANES_B (the other).
lanes_overlap() {
    local gate=${1:?} app=${2:?} done=${3:?} once=${4:?} undone=${5:?} a b
    gate_close "$gate"
    a=$(${LANES_MAKE:-lanes_submit} "gated: the first report" 13900009001)
    gate_wait "$app" "$a's work to wait at its commit"
    b=$(${LANES_MAKE:-lanes_submit} "an ordinary report" 13900009002)
    it_wait_for "$b's work to be done while $a's waits at its commit" 30 "$done" "$b"
    "$undone" "$a" || it_fail "$a's work is visible before its commit"
    [[ $(gate_waiting "$app") == 1 ]] || it_fail "$a's work no longer waits at its commit"
    it_note "(i) passed: $b's work done while $a's waited at its commit"
    gate_open
    it_wait_for "$a's work to be done once the gate opened" 30 "$done" "$a"
    "$once" "$a"
    "$once" "$b"
    it_note "(ii) passed: $a's work done once after its commit"
    LANES_A=$a LANES_B=$b
}

# lanes_failed_commit GATE DAEMON APP DONE ONCE UNDONE [restart settings...]:
# a gated ticket's work waits at its commit on a lane (connections named
# APP) and that connection is terminated; DAEMON goes on doing the work of
# three more tickets (DONE NO: done; ONCE NO: done exactly once) and says
# the burst was left for catch-up, and the gated ticket's work is not done
# (UNDONE NO: true while not done). DAEMON is then restarted with the
# settings given (catch-up soon) and catch-up does that work, once.
lanes_failed_commit() {
    local gate=${1:?} daemon=${2:?} app=${3:?} done=${4:?} once=${5:?} undone=${6:?} c d k
    shift 6
    gate_close "$gate"
    c=$(${LANES_MAKE:-lanes_submit} "gated: a report whose commit fails" 13900009003)
    gate_wait "$app" "$c's work to wait at its commit"
    gate_break "$app"
    gate_open
    for k in 4 5 6; do # the daemon goes on; the failed connection reconnects
        d=$(${LANES_MAKE:-lanes_submit} "after the failure $k" "1390000901$k")
        it_wait_for "$d's work to be done after a failed connection" 30 "$done" "$d"
        "$once" "$d"
    done
    it_wait_for "$daemon to say the burst was left for catch-up" 30 \
        grep -q 'work.deferred.*the commit failed; left for catch-up' "$(it_log "$daemon")"
    "$undone" "$c" || it_fail "$c's work was done though its connection failed before the commit"
    it_kill "$daemon" TERM
    it_start "$daemon" "$@"
    it_wait_for "catch-up to do $c's work" 30 "$done" "$c"
    "$once" "$c"
    it_note "(iii) passed: the failed burst was left for catch-up, which did $c's work once"
}
