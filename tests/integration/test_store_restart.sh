#!/usr/bin/env bash
# Reliable flow (issue 2, item 8d): PostgreSQL stopped and restarted under
# running daemons.
#  (i)  with the store down, `kefu submit` fails within its timeout with exit
#       code 3 and intake's temporary error `unavailable` (no hang); once the
#       store is back, the daemons reconnect by themselves: a submit succeeds
#       and is routed.
#  (ii) while kefu-load (--retry-for-ms 20000) streams submits, PostgreSQL is
#       restarted (pg_ctl restart -m fast). Afterwards every acknowledged
#       ticket exists once; no ticket is half-written (each has its
#       'submitted' history row and its ticket.submitted event); all are
#       routed exactly once; and the load acknowledged all N with
#       count(ticket) = N (retries with the same key returned the same ticket).
#  (iii) PostgreSQL stopped for ~10 s while an agent keeps trying (each
#       submit exit 3, never 1): once it accepts connections again, a submit
#       succeeds within 2.5 s of that moment (issue 10, item 3: the
#       certificate check and intake's group commit used to sit out the rest
#       of a reconnect back-off grown to 5 s).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

N=1500
it_init store_restart
rc_init
export KEFU_ROUTER_CATCHUP_MS=200
it_start_routing

submit() {
    kefu --timeout 4000 submit --kind complaint --category leak --channel phone --project HZ-XH \
        --phone 13900001111 --summary "店面漏水 (store restart)" "$@"
}

# ---- (i) the store is down -------------------------------------------------
it_pg_stop fast
it_note "PostgreSQL stopped"
t0=${EPOCHREALTIME/./}
st=0
out=$(submit --idem sr-down-1 2>&1) || st=$?
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
it_note "kefu submit with the store down: exit $st after $ms ms: $out"
[[ $st == 3 ]] || it_fail "kefu submit with the store down exited $st, expected 3: $out"
grep -q 'unavailable' <<<"$out" ||
    it_fail "kefu submit with the store down did not report intake's 'unavailable': $out"
# Intake answered: a timeout (4 s, plus the client's one retry) would take longer.
((ms < 4000)) || it_fail "kefu submit took $ms ms with the store down: intake did not answer promptly"
it_running intake || it_fail "intake died while the store was down"
it_running router || it_fail "the router died while the store was down"
# Other requests get the same clear answer.
st=0
out=$(kefu --timeout 4000 tickets --limit 1 2>&1) || st=$?
[[ $st == 3 ]] && grep -q 'unavailable' <<<"$out" ||
    it_fail "kefu tickets with the store down: exit $st: $out"

it_pg_start
it_note "PostgreSQL started again"
it_wait_for "a submit to succeed after the store came back" 30 submit --idem sr-back-1
no=$(submit --idem sr-back-1 | grep -oE 'KF-[0-9]{4}-[0-9]+' | head -n1)
[[ -n $no ]] || it_fail "no ticket number for the submit after the restart"
it_wait_for "$no to be routed" 30 it_psql_is "SELECT status FROM ticket WHERE no = '$no'" routed
[[ $(it_psql "SELECT count(*) FROM ticket WHERE idem_key IN ('sr-down-1', 'sr-back-1')") == 1 ]] ||
    it_fail "the refused submit was stored, or the retried one twice"
it_note "(i) passed: $no routed after the store came back"

# ---- (ii) restart under load ------------------------------------------------
base=$(rc_count)
rc_load_start load "$N" 4 --retry-for-ms 20000
rc_wait_count $((base + 400)) 60
rc__load_running || it_fail "kefu-load finished before the restart; the test proves nothing"
it_note "restarting PostgreSQL at $(rc_count) tickets"
it_pg_restart fast
it_note "PostgreSQL restarted"
rc_load_wait 90
loadout=$(tr '\n' ' ' <"$IT_DIR/log/load.log" | cut -c1-400)
it_note "load: $loadout"
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $loadout"
retries=$(rc_load_value load retries)
[[ ${retries:-0} -gt 0 ]] || it_note "warning: kefu-load needed no retries"
rc_wait_all_routed 60
sleep 1.5

rc_assert_load_stored load "$N" "$base"
rc_assert_routed_once

# ---- (iii) served within a second of the store's return -----------------------
# Each submit while the store is down is answered at once (exit 3); the
# certificate check of each tries to reach the store. Before the fix its
# reconnect back-off grew to 5 s, and intake's own connection, closed by the
# restart, was found broken only by the next submit's statement; so the
# first submits after the store's return were refused for up to ~5 s more.
# PostgreSQL is started right after a failed attempt (a store.connect_failed
# line in intake's log), where the old back-off had its full 5 s to run. The
# bound, 2.5 s from the moment psql answers to a submit's success, fails
# that deterministically and leaves a loaded 2-core machine ample room: the
# fix answers the first submit at once, or one retried 0.2 s later.
down_ms() { echo $(((${EPOCHREALTIME/./} - t_down) / 1000)); }
failed_tries() { grep -c 'event=store.connect_failed' "$(it_log intake)" || true; }
tries_down=0
submit_down() {
    local st=0 out
    tries_down=$((tries_down + 1))
    out=$(submit --idem "sr-down-3-$tries_down" 2>&1) || st=$?
    [[ $st == 3 ]] || it_fail "a submit with the store down exited $st, expected 3: $out"
}
it_pg_stop fast
t_down=${EPOCHREALTIME/./}
it_note "PostgreSQL stopped for (iii)"
while (($(down_ms) < 10000)); do
    submit_down
    sleep 0.2
done
before=$(failed_tries)
while (($(failed_tries) == before && $(down_ms) < 17000)); do
    submit_down
    sleep 0.05
done
it_pg_start
it_wait_for "psql to answer" 30 it_psql "SELECT 1"
t_up=${EPOCHREALTIME/./}
it_note "PostgreSQL answers again after $(down_ms) ms down ($tries_down submits refused meanwhile)"
tries_up=0
while true; do
    tries_up=$((tries_up + 1))
    st=0
    out=$(submit --idem sr-up-3 2>&1) || st=$?
    ms=$(((${EPOCHREALTIME/./} - t_up) / 1000))
    [[ $st == 0 ]] && break
    [[ $st == 3 ]] || it_fail "a submit after the store's return exited $st: $out"
    ((ms < 15000)) || it_fail "no submit succeeded within 15 s of the store's return: $out"
    sleep 0.05
done
it_note "(iii): the first submit succeeded ${ms} ms after psql answered (try $tries_up)"
((ms <= 2500)) ||
    it_fail "a submit succeeded only ${ms} ms after the store answered again (bound 2500 ms)"
[[ $(it_psql "SELECT count(*) FROM ticket WHERE idem_key LIKE 'sr-down-3-%'") == 0 ]] ||
    it_fail "a submit refused while the store was down was stored"
[[ $(it_psql "SELECT count(*) FROM ticket WHERE idem_key = 'sr-up-3'") == 1 ]] ||
    it_fail "the submit after the store's return is not stored once"

it_running intake || it_fail "intake died"
it_running router || it_fail "the router died"
