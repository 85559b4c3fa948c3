# shellcheck shell=bash
# kefu — checks shared by the reliable-flow integration tests (router_kill,
# router_down, store_restart). Source after lib.sh.
#
#   rc_init               after it_init: make the exit trap stop kefu-load too
#   rc_load_start NAME N C [kefu-load options...]
#                         start build/tests/bench/kefu-load in the background:
#                         N submits from C clients, tickets to $IT_DIR/NAME.tickets,
#                         idempotency keys NAME-INDEX; output in log/NAME.log
#   rc_load_wait TIMEOUT  wait (bounded) for it; its exit status in RC_LOAD_STATUS
#   rc_load_stop          kill it (by PID) if it still runs; called on exit
#   rc_load_value NAME KEY  a key=value figure from kefu-load NAME's output
#   rc_count              number of tickets in the store
#   rc_wait_count N [T]   wait (bounded, 20 ms polls) until N tickets are stored
#   rc_acked FILE         load the acknowledged ticket numbers into table it_acked
#   rc_assert_acked_exist every acknowledged ticket exists exactly once
#   rc_wait_all_routed T  wait (bounded) until no ticket is 'submitted'
#   rc_assert_routed_once every ticket: routed, exactly one 'routed' history row,
#                         one ticket.routed event, one processed_event row of
#                         ticket-router per ticket.submitted event
#   rc_assert_whole       every ticket has its 'submitted' history row and its
#                         ticket.submitted event (nothing half-written)
#   rc_assert_load_stored NAME N BASE
#                         kefu-load NAME acknowledged N distinct tickets, each
#                         exists once, the store holds exactly N of its keys
#                         and BASE + N in all, and nothing is half-written

RC_LOAD_PID=
RC_LOAD_BIN=
RC_LOAD_STATUS=  # exit status of the last kefu-load, set by rc_load_wait
export RC_LOAD_STATUS

# Stops the load generator, then runs the harness's own exit handler
# (it_init installed it__cleanup as the EXIT trap; rc_init chains it).
rc__on_exit() {
    local status=$?
    set +e
    rc_load_stop
    (exit "$status")
    it__cleanup
}

rc_init() { trap 'rc__on_exit' EXIT; }

rc_load_start() {
    local name=${1:?} n=${2:?} c=${3:?}
    shift 3
    RC_LOAD_BIN=$KEFU_BUILD_DIR/tests/bench/kefu-load
    [[ -x $RC_LOAD_BIN ]] || it_fail "$RC_LOAD_BIN is not built"
    "$RC_LOAD_BIN" -n "$n" -c "$c" --tickets "$IT_DIR/$name.tickets" \
        --idem-prefix "$name-$IT_PG_PORT" "$@" >"$IT_DIR/log/$name.log" 2>&1 </dev/null &
    RC_LOAD_PID=$!
    it_note "started kefu-load $name: -n $n -c $c $* (pid $RC_LOAD_PID)"
}

rc__load_running() { kill -0 "$RC_LOAD_PID" 2>/dev/null; }
rc__load_done() { ! rc__load_running; }

rc_load_wait() {
    local timeout=${1:?}
    [[ -n $RC_LOAD_PID ]] || it_fail "rc_load_wait: no load running"
    it_wait_for "kefu-load to finish" "$timeout" rc__load_done
    RC_LOAD_STATUS=0
    wait "$RC_LOAD_PID" || RC_LOAD_STATUS=$?
    RC_LOAD_PID=
}

rc_load_stop() {
    if [[ -n $RC_LOAD_PID ]] && kill -0 "$RC_LOAD_PID" 2>/dev/null; then
        kill -TERM "$RC_LOAD_PID" 2>/dev/null || true
        sleep 0.5
        kill -KILL "$RC_LOAD_PID" 2>/dev/null || true
        wait "$RC_LOAD_PID" 2>/dev/null || true
    fi
    RC_LOAD_PID=
}

# The value of key=value in kefu-load's output NAME.
rc_load_value() {
    sed -n "s/^$2=//p" "$IT_DIR/log/$1.log" | tail -n1
}

rc_acked() {
    local file=${1:?}
    [[ -f $file ]] || it_fail "no tickets file $file"
    it_psql "CREATE TABLE IF NOT EXISTS it_acked (no text NOT NULL, dup boolean); TRUNCATE it_acked"
    awk 'NF { printf "%s\t%s\n", $1, ($2 == "dup" ? "t" : "f") }' "$file" |
        psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" -c '\copy it_acked FROM STDIN' ||
        it_fail "cannot load $file into it_acked"
}

rc__zero() {
    local what=$1 sql=$2 got
    got=$(it_psql "$sql") || it_fail "query for '$what' failed"
    [[ $got == 0 ]] || it_fail "$what: $got (expected 0)"
}

rc_assert_acked_exist() {
    rc__zero "acknowledged ticket numbers that are not in the store exactly once" \
        "SELECT count(*) FROM (SELECT DISTINCT no FROM it_acked) a
          WHERE (SELECT count(*) FROM ticket t WHERE t.no = a.no) <> 1"
}

rc_wait_all_routed() {
    it_wait_for "every ticket to be routed" "${1:?}" \
        it_psql_is "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0
}

rc_assert_routed_once() {
    rc__zero "tickets still 'submitted'" "SELECT count(*) FROM ticket WHERE status = 'submitted'"
    rc__zero "tickets without exactly one 'routed' history row" \
        "SELECT count(*) FROM ticket t WHERE (SELECT count(*) FROM ticket_history h
          WHERE h.ticket_id = t.id AND h.action = 'routed') <> 1"
    rc__zero "tickets without exactly one ticket.routed event" \
        "SELECT count(*) FROM ticket t LEFT JOIN (SELECT corr, count(*) AS n FROM event
          WHERE type = 'ticket.routed' GROUP BY corr) e ON e.corr = t.no WHERE coalesce(e.n, 0) <> 1"
    rc__zero "ticket.routed events for no ticket" \
        "SELECT count(*) FROM event e WHERE e.type = 'ticket.routed'
          AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.no = e.corr)"
    rc__zero "ticket.submitted events without exactly one processed_event row of ticket-router" \
        "SELECT count(*) FROM event e WHERE e.type = 'ticket.submitted' AND (SELECT count(*)
          FROM processed_event p WHERE p.consumer = 'ticket-router' AND p.event_id = e.id) <> 1"
    rc__zero "processed_event rows of ticket-router that did not apply" \
        "SELECT count(*) FROM processed_event WHERE consumer = 'ticket-router' AND outcome <> 'applied'"
    rc__zero "tickets routed to no owner" \
        "SELECT count(*) FROM ticket WHERE routed_at IS NOT NULL AND (owner_id IS NULL
          OR first_response_due IS NULL OR resolve_due IS NULL)"
}

rc_assert_whole() {
    rc__zero "tickets without their 'submitted' history row" \
        "SELECT count(*) FROM ticket t WHERE (SELECT count(*) FROM ticket_history h
          WHERE h.ticket_id = t.id AND h.action = 'submitted') <> 1"
    rc__zero "tickets without exactly one ticket.submitted event" \
        "SELECT count(*) FROM ticket t LEFT JOIN (SELECT corr, count(*) AS n FROM event
          WHERE type = 'ticket.submitted' GROUP BY corr) e ON e.corr = t.no WHERE coalesce(e.n, 0) <> 1"
    rc__zero "ticket.submitted events for no ticket" \
        "SELECT count(*) FROM event e WHERE e.type = 'ticket.submitted'
          AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.no = e.corr)"
}

rc_assert_load_stored() {
    local name=${1:?} n=${2:?} base=${3:?} got
    rc_acked "$IT_DIR/$name.tickets"
    got=$(it_psql "SELECT count(DISTINCT no) FROM it_acked")
    [[ $got == "$n" ]] || it_fail "kefu-load acknowledged $got distinct tickets, expected $n"
    rc_assert_acked_exist
    got=$(it_psql "SELECT count(*) FROM ticket WHERE idem_key LIKE '$name-%'")
    [[ $got == "$n" ]] || it_fail "the store holds $got tickets of the load, expected exactly $n"
    got=$(rc_count)
    [[ $got == $((base + n)) ]] || it_fail "the store holds $got tickets, expected $((base + n))"
    rc_assert_whole
}

rc_count() { it_psql "SELECT count(*) FROM ticket"; }

# Waits (bounded, polling every 20 ms) until at least $1 tickets are stored.
rc_wait_count() {
    local at=${1:?} timeout=${2:-60} n
    local limit=$((${EPOCHREALTIME/./} + timeout * 1000000))
    while true; do
        n=$(rc_count 2>/dev/null || echo 0)
        (( n >= at )) && return 0
        (( ${EPOCHREALTIME/./} < limit )) || it_fail "timed out after ${timeout}s waiting for $at tickets (have $n)"
        sleep 0.02
    done
}
