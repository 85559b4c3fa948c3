#!/usr/bin/env bash
# Reliable flow (issue 2, item 8a): while kefu-load streams 6000 submits from
# 4 clients, the router is killed with SIGKILL three times at different
# moments (early in the stream, mid-stream, and during the catch-up right
# after a restart) and restarted. Afterwards every acknowledged ticket exists
# once and every ticket is routed exactly once: one 'routed' history row, one
# ticket.routed event, one processed_event row per ticket.submitted event.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

N=6000
it_init router_kill
rc_init
export KEFU_ROUTER_CATCHUP_MS=200
it_start_routing

rc_load_start load "$N" 4 --retry-for-ms 20000

# Kills the router once at least $1 tickets are stored and restarts it
# after $2 s; notes whether kefu-load was still streaming.
KILLS_MID_STREAM=0
kill_at() {
    local at=$1 pause=$2 routed
    rc_wait_count "$at" 60
    it_kill router KILL
    [[ ${IT_STATUS[router]} == 137 ]] || it_fail "router exited with ${IT_STATUS[router]}, not by SIGKILL"
    if rc__load_running; then KILLS_MID_STREAM=$((KILLS_MID_STREAM + 1)); fi
    routed=$(it_psql "SELECT count(*) FROM ticket WHERE status <> 'submitted'")
    it_note "killed the router at $(rc_count) tickets ($routed routed)"
    sleep "$pause"
    it_start router
}

kill_at 200 0.3
kill_at 1500 0.05
# The third kill lands during the restarted router's catch-up of the backlog.
kill_at 3000 0.2
sleep 0.15
it_kill router KILL
it_note "killed the router 0.15 s after a restart, at $(rc_count) tickets"
it_start router
(( KILLS_MID_STREAM >= 2 )) ||
    it_fail "only $KILLS_MID_STREAM kills happened while kefu-load was streaming; the test proves nothing"

rc_load_wait 90
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $(tail -n 5 "$IT_DIR/log/load.log")"
rc_wait_all_routed 60
# Let a late duplicate show itself, if there were one.
sleep 1.5

rc_acked "$IT_DIR/load.tickets"
acked=$(it_psql "SELECT count(DISTINCT no) FROM it_acked")
tickets=$(rc_count)
it_note "acknowledged $acked, stored $tickets, load: $(tr '\n' ' ' <"$IT_DIR/log/load.log" | cut -c1-300)"
[[ $acked == "$N" ]] || it_fail "kefu-load acknowledged $acked distinct tickets, expected $N"
rc_assert_acked_exist
[[ $tickets == "$acked" ]] || it_fail "the store holds $tickets tickets, $acked were acknowledged"
rc_assert_whole
rc_assert_routed_once
it_running router || it_fail "the last router died"
