#!/usr/bin/env bash
# Reliable flow (issue 2, item 8b): 1000 tickets are accepted while the
# router is not running; none is routed meanwhile. Once the router starts it
# routes them all (within a bounded wait), each exactly once: one 'routed'
# history row, one ticket.routed event, one processed_event row per
# ticket.submitted event.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

N=1000
it_init router_down
rc_init
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_wait_for "intake to answer" 30 kefu tickets --limit 1

rc_load_start load "$N" 4
rc_load_wait 60
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $(tail -n 5 "$IT_DIR/log/load.log")"
rc_acked "$IT_DIR/load.tickets"
acked=$(it_psql "SELECT count(DISTINCT no) FROM it_acked")
[[ $acked == "$N" ]] || it_fail "kefu-load acknowledged $acked distinct tickets, expected $N"
rc_assert_acked_exist
rc_assert_whole

# Nobody routes while the router is down.
sleep 1
routed=$(it_psql "SELECT count(*) FROM ticket WHERE status <> 'submitted' OR routed_at IS NOT NULL")
[[ $routed == 0 ]] || it_fail "$routed tickets were routed with no router running"
[[ $(it_psql "SELECT count(*) FROM event WHERE type = 'ticket.routed'") == 0 ]] ||
    it_fail "ticket.routed events exist with no router running"

it_start router
t0=${EPOCHREALTIME/./}
rc_wait_all_routed 60
it_note "the router routed the backlog of $N in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
sleep 1.5
[[ $(rc_count) == "$N" ]] || it_fail "the store holds $(rc_count) tickets, expected $N"
rc_assert_whole
rc_assert_routed_once
it_running router || it_fail "the router died"
