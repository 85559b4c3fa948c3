#!/usr/bin/env bash
# The router routes bursts of tickets set-based (issue 16, item 1), keeping
# exactly-once and never-skip. The store has no leak rule and no default
# rule, so bursts mix routable and unroutable tickets. Two
# router instances, catch-up every 100 ms (so it often wins the race with
# the doorbell, whose events are then dropped as applied already):
#  1. 300 tickets come while no router runs: catch-up routes them in
#     bursts (several routings in one transaction), the doorbell events the
#     bus held back arrive after that;
#  2. 300 more from 8 clients while both routers run (doorbell bursts);
#  3. after both: every routable ticket is routed exactly once (one history
#     row, one event, one applied mark); every unroutable one is still
#     'submitted', marked failed once with the reason, with no event;
#  4. the missing rules come back (SIGHUP): the failed ones are routed, once.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

it_init router_batch
rc_init
export KEFU_ROUTER_CATCHUP_MS=100 KEFU_ROUTER_RELOAD_MS=86400000
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
q() { it_psql "$1"; }
# Unroutable: a leak or 'other' that is not an inquiry (the 'inquiry' rule
# takes those; only the default rule took 'other').
UNROUTABLE="t.category IN ('leak', 'other') AND t.kind <> 'inquiry'"
q "CREATE TABLE it_rules AS SELECT * FROM routing_rule
    WHERE category = 'leak' OR (kind IS NULL AND category IS NULL AND project_id IS NULL);
   DELETE FROM routing_rule WHERE id IN (SELECT id FROM it_rules)" >/dev/null
it_start bus
it_start intake
it_wait_for "intake to answer" 30 kefu tickets --limit 1

submitted() { q "SELECT count(*) FROM event WHERE type = 'ticket.submitted'"; }
# Every ticket.submitted event has its one mark of ticket-router.
all_marked() {
    it_psql_is "SELECT count(*) FROM event e WHERE e.type = 'ticket.submitted' AND NOT EXISTS
                  (SELECT 1 FROM processed_event p WHERE p.consumer = 'ticket-router'
                      AND p.event_id = e.id)" 0
}
load() { # NAME N C
    rc_load_start "$1" "$2" "$3" --mix
    rc_load_wait 90
    [[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load $1 exited with $RC_LOAD_STATUS"
}

# 1. A backlog, then the routers.
load backlog 300 4
it_start router
it_start router@2
it_wait_for "the backlog to be routed or marked" 60 all_marked
most=$(q "SELECT max(n) FROM (SELECT count(*) n FROM event WHERE type = 'ticket.routed'
                               GROUP BY xid) b")
((most > 1)) || it_fail "catch-up routed the backlog one ticket per transaction (most: $most)"
it_note "catch-up routed up to $most tickets in one transaction"

# 2. Live bursts through the doorbell.
load live 300 8
it_wait_for "the live tickets to be routed or marked" 60 all_marked
it_note "$(submitted) tickets; most routed in one transaction: $(q "SELECT max(n) FROM
    (SELECT count(*) n FROM event WHERE type = 'ticket.routed' GROUP BY xid) b")"
sleep 0.5 # let a second routing or mark show itself, if there were one

# 3. Routed once, or marked failed once.
failed=$(q "SELECT count(*) FROM ticket t WHERE $UNROUTABLE")
((failed > 0)) || it_fail "the load brought no unroutable ticket"
check() { # WHAT SQL: SQL counts the tickets that break WHAT
    local got
    got=$(q "$2")
    [[ $got == 0 ]] || it_fail "$1: $got tickets"
}
check "routable tickets not routed exactly once" \
    "SELECT count(*) FROM ticket t WHERE NOT ($UNROUTABLE) AND (t.status <> 'routed'
       OR (SELECT count(*) FROM ticket_history h WHERE h.ticket_id = t.id AND h.action = 'routed') <> 1
       OR (SELECT count(*) FROM event e WHERE e.type = 'ticket.routed' AND e.corr = t.no) <> 1
       OR (SELECT string_agg(p.outcome, ',') FROM event e JOIN processed_event p ON p.event_id = e.id
            AND p.consumer = 'ticket-router' WHERE e.type = 'ticket.submitted' AND e.corr = t.no)
          IS DISTINCT FROM 'applied')"
check "unroutable tickets not left as they were, marked failed once with the reason" \
    "SELECT count(*) FROM ticket t WHERE $UNROUTABLE AND (t.status <> 'submitted'
       OR EXISTS (SELECT 1 FROM ticket_history h WHERE h.ticket_id = t.id AND h.action = 'routed')
       OR EXISTS (SELECT 1 FROM event e WHERE e.type = 'ticket.routed' AND e.corr = t.no)
       OR (SELECT string_agg(p.outcome || ':' || (p.error LIKE 'no routing rule matches%'), ',')
             FROM event e JOIN processed_event p ON p.event_id = e.id
              AND p.consumer = 'ticket-router' WHERE e.type = 'ticket.submitted' AND e.corr = t.no)
          IS DISTINCT FROM 'failed:true')"
rc_assert_whole

# 4. The rules come back: the failed ones are routed, once.
q "INSERT INTO routing_rule SELECT * FROM it_rules" >/dev/null
it_kill router HUP
it_kill router@2 HUP
it_wait_for "the failed tickets to be routed" 60 \
    it_psql_is "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0
sleep 0.5
rc_assert_routed_once
it_running router && it_running router@2 || it_fail "a router died"
it_note "$(submitted) tickets, $failed routed only once their rules came"
