#!/usr/bin/env bash
# The router can route fresh tickets on several store connections at once
# (KEFU_ROUTER_CONNECTIONS=2; issue 16, item 2: the next burst is routed
# while the store flushes the last one's commit). A gate (lanes_lib.sh)
# holds at its commit the routing of a ticket whose summary starts "gated".
#  (i)   while the gated routing waits, its ticket is not routed in the
#        store, and a ticket submitted meanwhile is routed on another
#        connection (with one connection this part fails: the router would
#        wait for the gate);
#  (ii)  once the gate opens, the gated ticket is routed, once;
#  (iii) the gated routing's connection is terminated while it waits: the
#        router goes on routing fresh tickets, says the burst was left for
#        catch-up, and catch-up routes the ticket, once;
#  (iv)  under kefu-load, the router's connections are terminated one at a
#        time: every ticket is routed exactly once.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"
source "$here/lanes_lib.sh"

N=2500
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
routed() { it_psql_is "SELECT count(*) FROM ticket WHERE no = '$1' AND routed_at IS NOT NULL" 1; }
unrouted() { [[ $(q "SELECT count(*) FROM ticket WHERE no = '$1' AND routed_at IS NULL") == 1 ]]; }
routed_once() { # NO: one routing in the history, one ticket.routed event
    [[ $(q "SELECT (SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
                     WHERE t.no = '$1' AND h.action = 'routed') || ' ' ||
                   (SELECT count(*) FROM event WHERE type = 'ticket.routed' AND corr = '$1')") == "1 1" ]] ||
        it_fail "$1 is not routed exactly once"
}

# ---- (i), (ii) a routing waits at its commit; another connection routes ---
lanes_overlap $GATE kefu-router-route routed routed_once unrouted

# ---- (iii) the connection of a waiting routing fails ----------------------------
lanes_failed_commit $GATE router kefu-router-route routed routed_once unrouted \
    KEFU_ROUTER_CONNECTIONS=2 KEFU_ROUTER_CATCHUP_MS=200

# ---- (iv) connections terminated under load -------------------------------------
lanes_load_terminating "$N" 'kefu-router%'
rc_wait_all_routed 60
rc_assert_routed_once
it_running router || it_fail "the router died"
it_note "(iv) passed: $LANES_SENT tickets routed exactly once with $LANES_KILLS router connections terminated"
