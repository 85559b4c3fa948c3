#!/usr/bin/env bash
# Lifecycle (issue 5, item 4) of kefu-intake, kefu-router and kefu-bus:
#
# 1. A configuration that can never work is named on stderr at start-up and
#    the daemon exits non-zero at once (before serving anything): a batch
#    that is not a number, an unknown log level, an endpoint that cannot be
#    bound (taken), a bind or bus endpoint or database URL of the wrong
#    shape, a setting out of its range.
# 2. SIGTERM under load drains and exits 0: while kefu-load streams submits
#    from 4 clients (retrying what times out with the same idempotency key),
#    intake, then one of two routers, then the bus get SIGTERM and are
#    started again. Each must exit 0 and log its stop. Afterwards every
#    acknowledged ticket is stored once, whole, and routed exactly once, and
#    no submit needed a retry that found its ticket already written
#    (duplicate): intake answered every submit it had committed before it
#    exited.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../integration/lib.sh"
source "$here/../integration/routing_checks.sh"

N=4000
it_init lifecycle
rc_init
export KEFU_ROUTER_CATCHUP_MS=200
# Starts KEY with its metrics endpoint on a free port (the defaults may be
# taken by other tests).
start() { it__pick_port; it_start "$1" KEFU_METRICS_PORT="$IT__PORT"; }
it_pg_start
export KEFU_CERT=$(it_cert agent.li)

# ------------------------------------------------------------ configuration errors

# Runs daemon NAME with extra VAR=value settings; it must exit non-zero
# within 15 s and say on stderr each of the given fragments.
expect_refused() {
    local name=$1 setting=$2; shift 2
    local bin out st=0
    bin=$(it__binary "$name")
    out=$(env KEFU_METRICS_PORT=0 "$setting" timeout 15 "$bin" 2>&1 </dev/null) || st=$?
    [[ $st != 0 ]] || it_fail "kefu-$name with $setting exited 0; expected a configuration error"
    [[ $st != 124 ]] || it_fail "kefu-$name with $setting was still running after 15 s: $(tail -n 3 <<<"$out")"
    local fragment
    for fragment in "$@"; do
        grep -qF -- "$fragment" <<<"$out" ||
            it_fail "kefu-$name with $setting (exit $st) did not say '$fragment': $(tail -n 3 <<<"$out")"
    done
    it_note "kefu-$name $setting: exit $st: $(grep -m1 -F -- "$1" <<<"$out")"
}

taken=tcp://127.0.0.1:$IT_PG_PORT     # PostgreSQL listens there
expect_refused intake KEFU_INTAKE_BATCH=abc "KEFU_INTAKE_BATCH=abc" "not an integer"
expect_refused intake KEFU_INTAKE_BATCH=0 "KEFU_INTAKE_BATCH=0" "out of range"
expect_refused intake KEFU_LOG_LEVEL=loud "KEFU_LOG_LEVEL=loud" "debug, info, warn or error"
expect_refused intake "KEFU_INTAKE_BIND=$taken" "intake.bind_failed" "endpoint=$taken" "Address already in use"
expect_refused intake KEFU_INTAKE_BIND=tcp:/7700 "KEFU_INTAKE_BIND=tcp:/7700" "not a ZeroMQ endpoint"
expect_refused intake KEFU_BUS_PUSH=tcp://bus "KEFU_BUS_PUSH=tcp://bus" "not a ZeroMQ endpoint"
expect_refused intake "KEFU_DATABASE_URL=postgresql://kefu:s3cret@[::1/kefu" \
    "KEFU_DATABASE_URL is not a libpq URL"
# The password never appears in the message.
out=$(env KEFU_METRICS_PORT=0 "KEFU_DATABASE_URL=postgresql://kefu:s3cret@[::1/kefu" \
          timeout 15 "$(it__binary intake)" 2>&1 </dev/null) || true
! grep -q s3cret <<<"$out" || it_fail "the database URL's password was printed: $out"
expect_refused router KEFU_LOG_LEVEL=loud "KEFU_LOG_LEVEL=loud"
expect_refused router KEFU_ROUTER_BATCH=many "KEFU_ROUTER_BATCH=many" "not an integer"
expect_refused router KEFU_BUS_PULL=nonsense "KEFU_BUS_PULL=nonsense" "not a ZeroMQ endpoint"
expect_refused router KEFU_ROUTER_SCAN_MS=1 "KEFU_ROUTER_SCAN_MS=1" "out of range"
expect_refused bus KEFU_LOG_LEVEL=loud "KEFU_LOG_LEVEL=loud"
expect_refused bus "KEFU_BUS_SUB=$taken" "bus.bind_failed" "setting=KEFU_BUS_SUB" "Address already in use"

# ------------------------------------------------------------ SIGTERM, again and again

# A supervisor may send SIGTERM more than once (the harness's own clean-up
# did, for a daemon started twice): a daemon must stop with 0 whenever the
# signals land, also during its exit, when czmq used to put the default
# handler back (common/stop.h). Each daemon gets a SIGTERM every 2 ms from
# the moment it has logged its start until it is gone, five times over
# (in the first round after a burst of SIGHUPs, hup_check).
# SIGHUP asks a daemon to reload what it can (common/stop.h) and never
# stops it: 20 of them 2 ms apart leave it running, and the router, the
# approval daemon and the notifier say in their log that they reloaded.
hup_check() {
    local name=$1 pid=$2 log=$3 event n before
    case $name in
        router) event='event=policies.loaded' ;;
        approval) event='event=policies ' ;;
        notifier) event='event=templates.loaded' ;;
        *) event= ;;
    esac
    before=$(grep -c -- "${event:-^$}" "$log" || true)
    for ((n = 0; n < 20; n++)); do kill -HUP "$pid"; sleep 0.002; done
    sleep 0.3
    kill -0 "$pid" 2>/dev/null || it_fail "kefu-$name died of SIGHUP: $(tail -n 3 "$log")"
    [[ -n $event ]] || return 0
    for ((n = 0; n < 500; n++)); do
        (( $(grep -c -- "$event" "$log" || true) > before )) && return 0
        sleep 0.01
    done
    it_fail "kefu-$name logged no reload ($event) after SIGHUP: $(tail -n 3 "$log")"
}
term_storm() {
    local name=$1 bin pid st round n log=$IT_DIR/log/storm-$1.log
    bin=$(it__binary "$name")
    for ((round = 1; round <= 5; round++)); do
        : >"$log"
        KEFU_METRICS_PORT=0 "$bin" >>"$log" 2>&1 </dev/null &
        pid=$!
        for ((n = 0; n < 500; n++)); do
            grep -q 'event=[a-z-]*\.started\|event=health.started' "$log" && break
            sleep 0.01
        done
        ((round == 1)) && hup_check "$name" "$pid" "$log"
        while kill -TERM "$pid" 2>/dev/null; do sleep 0.002; done
        st=0
        wait "$pid" || st=$?
        [[ $st == 0 ]] || it_fail "kefu-$name exited with $st under repeated SIGTERMs (round $round): $(tail -n 3 "$log")"
    done
    it_note "kefu-$name: 5 rounds of repeated SIGTERMs, exit 0 each time"
}
it__pick_port; export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
it__pick_port; export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_NOTIFY_FILE=$IT_DIR/notifications.jsonl
for name in bus intake router approval notifier survey; do term_storm "$name"; done

# ------------------------------------------------------------ SIGTERM under load

start bus
start intake
start router
start router@2
it_wait_for "intake to answer" 30 kefu tickets --limit 1

rc_load_start load "$N" 4 --retry-for-ms 60000

# SIGTERMs $1 once at least $2 tickets are stored, requires exit 0 and the
# daemon's stop line in its log, notes whether the load was still running,
# and starts it again after $3 s.
STOPS_MID_STREAM=0
term_at() {
    local key=$1 at=$2 pause=$3 name=${1%%@*} event
    rc_wait_count "$at" 90
    it_kill "$key" TERM
    [[ ${IT_STATUS[$key]} == 0 ]] || it_fail "$key exited with ${IT_STATUS[$key]} after SIGTERM, not 0"
    case $name in
        router) event=router.stopped ;;
        *) event=$name.stopped ;;
    esac
    grep -q "event=$event" "$(it_log "$key")" || it_fail "$key logged no $event"
    if rc__load_running; then STOPS_MID_STREAM=$((STOPS_MID_STREAM + 1)); fi
    it_note "SIGTERM $key at $(rc_count) tickets: exit 0"
    sleep "$pause"
    start "$key"
}

term_at intake 400 0.3
term_at router 1200 0.2
term_at bus 2000 0.3
term_at intake 2800 0.1
(( STOPS_MID_STREAM >= 3 )) ||
    it_fail "only $STOPS_MID_STREAM of 4 stops happened while kefu-load was streaming; the test proves nothing"

rc_load_wait 150
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $(tail -n 5 "$IT_DIR/log/load.log")"
rc_wait_all_routed 90
sleep 1

rc_acked "$IT_DIR/load.tickets"
acked=$(it_psql "SELECT count(DISTINCT no) FROM it_acked")
dups=$(it_psql "SELECT count(*) FROM it_acked WHERE dup")
tickets=$(rc_count)
it_note "acknowledged $acked ($dups as duplicates), stored $tickets; load: $(tr '\n' ' ' <"$IT_DIR/log/load.log" | cut -c1-300)"
[[ $acked == "$N" ]] || it_fail "kefu-load acknowledged $acked distinct tickets, expected $N"
rc_assert_acked_exist
[[ $tickets == "$acked" ]] || it_fail "the store holds $tickets tickets, $acked were acknowledged"
[[ $dups == 0 ]] ||
    it_fail "$dups submits were committed but not answered before intake exited (their retry found the ticket)"
rc_assert_whole
rc_assert_routed_once

# The last instances stop cleanly too (the harness's exit also checks 0).
for key in intake router router@2 bus; do
    it_kill "$key" TERM
    [[ ${IT_STATUS[$key]} == 0 ]] || it_fail "$key exited with ${IT_STATUS[$key]} after SIGTERM, not 0"
done
