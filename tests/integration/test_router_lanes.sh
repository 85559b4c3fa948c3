#!/usr/bin/env bash
# The router routes fresh tickets on several store connections at once
# (KEFU_ROUTER_CONNECTIONS; issue 16, item 2: the next burst is routed
# while the store flushes the last one's commit). A gate holds one
# routing's transaction at its commit: a deferred trigger on ticket takes
# an advisory lock, shared, when a ticket whose summary starts "gated" is
# routed, and the test holds that lock in a session of its own.
#  (i)   while the gated routing waits at its commit, its ticket is not
#        routed in the store, and a ticket submitted meanwhile is routed on
#        another connection (with one connection this part fails: the
#        router would wait for the gate);
#  (ii)  once the gate opens, the gated ticket is routed, once;
#  (iii) the gated routing's connection is terminated while it waits: the
#        router goes on routing fresh tickets, says the burst was left for
#        catch-up, and catch-up routes the ticket, once;
#  (iv)  under kefu-load, the router's connections are terminated one at a
#        time, every 20 tickets stored: every ticket is routed exactly once.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"
source "$here/gate_lib.sh"

N=1500
GATE=4217
it_init router_lanes
rc_init
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
gate_install $GATE "AFTER UPDATE ON ticket" \
    "NEW.summary LIKE 'gated%' AND NEW.routed_at IS NOT NULL AND OLD.routed_at IS NULL"
it_start bus
it_start intake
# Catch-up only once, at the start: (i) to (iii) see the doorbell's work alone.
it_start router KEFU_ROUTER_CONNECTIONS=2 KEFU_ROUTER_CATCHUP_MS=3600000
it_wait_for "intake to answer" 30 kefu tickets --limit 1

q() { it_psql "$1"; }
# submit SUMMARY PHONE: prints the new ticket's number.
submit() {
    local out
    out=$(kefu --timeout 30000 submit --kind complaint --category leak --channel phone \
        --project HZ-XH --phone "139000030$2" --summary "$1" 2>&1) || it_fail "submit: $out"
    grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1
}
routed() { it_psql_is "SELECT count(*) FROM ticket WHERE no = '$1' AND routed_at IS NOT NULL" 1; }
routed_once() { # NO: one routing in the history, one ticket.routed event
    [[ $(q "SELECT (SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
                     WHERE t.no = '$1' AND h.action = 'routed') || ' ' ||
                   (SELECT count(*) FROM event WHERE type = 'ticket.routed' AND corr = '$1')") == "1 1" ]] ||
        it_fail "$1 is not routed exactly once"
}
# ---- (i) a routing waits at its commit; the other connection routes ---------
gate_close $GATE
a=$(submit "gated: the first report" 01)
gate_wait kefu-router-route "the gated routing to wait at its commit"
b=$(submit "an ordinary report" 02)
it_wait_for "$b to be routed while $a waits at its commit" 30 routed "$b"
[[ $(q "SELECT count(*) FROM ticket WHERE no = '$a' AND routed_at IS NULL") == 1 ]] ||
    it_fail "the gated routing of $a is visible before its commit"
[[ $(gate_waiting kefu-router-route) == 1 ]] || it_fail "the gated routing no longer waits at its commit"
it_note "(i) passed: $b routed while the routing of $a waited at its commit"

# ---- (ii) the gate opens ------------------------------------------------------
gate_open
it_wait_for "$a to be routed once the gate opened" 30 routed "$a"
routed_once "$a"
routed_once "$b"
it_note "(ii) passed: $a routed once after its commit"

# ---- (iii) the connection of a waiting routing fails ----------------------------
gate_close $GATE
c=$(submit "gated: the third report" 03)
gate_wait kefu-router-route "the third routing to wait at its commit"
gate_break kefu-router-route
gate_open
for k in 4 5 6; do # the router goes on; the failed connection reconnects
    d=$(submit "after the failure $k" "1$k")
    it_wait_for "$d to be routed after a failed connection" 30 routed "$d"
    routed_once "$d"
done
it_wait_for "the router to say the burst was left for catch-up" 30 \
    grep -q 'work.deferred.*the commit failed; left for catch-up' "$(it_log router)"
[[ $(q "SELECT count(*) FROM ticket WHERE no = '$c' AND routed_at IS NULL") == 1 ]] ||
    it_fail "$c was routed though its routing's connection failed before the commit"
it_kill router TERM
it_start router KEFU_ROUTER_CONNECTIONS=2 KEFU_ROUTER_CATCHUP_MS=200
it_wait_for "catch-up to route $c" 30 routed "$c"
routed_once "$c"
it_note "(iii) passed: the failed burst was left for catch-up, which routed $c once"

# ---- (iv) connections terminated under load -------------------------------------
base=$(rc_count)
rc_load_start load "$N" 8
kills=0
while rc__load_running; do # a router connection terminated every 20 tickets stored
    pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'kefu-router%'
               ORDER BY random() LIMIT 1")
    [[ -n $pid && $(q "SELECT pg_terminate_backend($pid)") == t ]] && kills=$((kills + 1))
    at=$(($(rc_count) + 20))
    while rc__load_running && (($(rc_count) < at)); do sleep 0.02; done
done
rc_load_wait 30
loadout=$(tr '\n' ' ' <"$IT_DIR/log/load.log" | cut -c1-400)
it_note "load: $loadout; $kills router connections terminated"
((kills >= 3)) || it_fail "only $kills connections were terminated during the load; the test proves nothing"
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $loadout"
rc_assert_load_stored load "$N" "$base"
rc_wait_all_routed 60
rc_assert_routed_once
it_running router || it_fail "the router died"
it_note "(iv) passed: $N tickets routed exactly once with $kills router connections terminated"
it_note "PASS"
