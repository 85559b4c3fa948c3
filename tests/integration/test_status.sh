#!/usr/bin/env bash
# Health and metrics (issue 5, item 2): the daemons' HTTP endpoint and
# heartbeat rows, and `kefu-admin status`.
#  (a) counters move by exactly what happened: intake's
#      kefu_events_total{type="ticket.submitted",direction="out"} by the new
#      tickets (not the duplicate), its submit requests and latency count by
#      every submit, not_found by the one refused; the router's ticket.routed
#      out and its latency count by the tickets routed; the histograms are
#      cumulative with +Inf = _count; the heartbeat rows carry the counts.
#  (b) GET /health is 200 with store "up"; 404, 405, 400 for what is not a
#      route; with PostgreSQL stopped intake and router answer 503 with store
#      "down" (the bus, which has no store, stays 200) and `kefu-admin status` exits
#      3; once it is back they are 200 again.
#  (c) `kefu-admin status` lists intake and ticket-router up (exit 0); a router
#      killed with SIGKILL is shown down after three heartbeats (exit 1); a
#      stopped intake is shown stopped; --prune forgets both.
#  (d) a router that gets no work reports the outbox backlog (the tickets
#      submitted while no router took work) and the deadline-scan lag of an
#      overdue ticket; the bus counts the work it could not hand to anyone.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"

it_init status
command -v curl >/dev/null || it_fail "curl is needed (apt-get install curl)"
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"
it__pick_port; BUS_M=$IT__PORT
it__pick_port; INTAKE_M=$IT__PORT
it__pick_port; ROUTER_M=$IT__PORT
it__pick_port; LAG_M=$IT__PORT
it__pick_port; NOWHERE=$IT__PORT # nobody binds it: the second router gets no work
export KEFU_HEARTBEAT_MS=300
HOST=$(hostname)

it_pg_start
export KEFU_CERT=$(it_cert agent.li)
it_start bus KEFU_METRICS_PORT="$BUS_M"
it_start intake KEFU_METRICS_PORT="$INTAKE_M"
it_start router KEFU_METRICS_PORT="$ROUTER_M"
it_wait_for "intake to answer" 30 kefu tickets --limit 1

# The body of GET http://127.0.0.1:PORT/PATH (fails on a connection error).
get() { curl -sS --max-time 5 "http://127.0.0.1:$1$2"; }
# The HTTP status of METHOD PATH on PORT.
status_of() { curl -s -o /dev/null --max-time 5 -X "$3" -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }
# The value of one sample (name with its labels, exactly) on PORT, 0 when absent.
metric() {
    get "$1" /metrics | awk -v k="$2" '$1 == k { v = $2; found = 1 } END { print found ? v : 0 }'
}
metric_is() { [[ $(metric "$1" "$2") == "$3" ]]; }
health_is() {
    local body code
    code=$(curl -s -o "$IT_DIR/health.json" --max-time 5 -w '%{http_code}' "http://127.0.0.1:$1/health") || true
    body=$(cat "$IT_DIR/health.json" 2>/dev/null || true)
    [[ $code == "$2" ]] && jq -e "$3" <<<"$body" >/dev/null
}
submit() {
    kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --phone 13900002222 --summary "阳台漏水 (status test)" "$@"
}
OUT_SUBMITTED='kefu_events_total{type="ticket.submitted",direction="out"}'
IN_SUBMIT='kefu_events_total{type="submit",direction="in"}'
OUT_ROUTED='kefu_events_total{type="ticket.routed",direction="out"}'

it_wait_for "every endpoint to answer" 20 \
    bash -c "curl -sf -o /dev/null http://127.0.0.1:$BUS_M/metrics &&
             curl -sf -o /dev/null http://127.0.0.1:$INTAKE_M/metrics &&
             curl -sf -o /dev/null http://127.0.0.1:$ROUTER_M/metrics"
it_wait_for "the router to report its backlog" 20 \
    metric_is "$ROUTER_M" kefu_outbox_backlog 0

# ---- (a) counters ------------------------------------------------------------
out0=$(metric "$INTAKE_M" "$OUT_SUBMITTED")
in0=$(metric "$INTAKE_M" "$IN_SUBMIT")
lat0=$(metric "$INTAKE_M" kefu_intake_submit_seconds_count)
nf0=$(metric "$INTAKE_M" 'kefu_errors_total{code="not_found"}')
routed0=$(metric "$ROUTER_M" "$OUT_ROUTED")
N=4
for i in $(seq 1 $N); do submit --idem "status-$i" >/dev/null; done
submit --idem status-1 | grep -q duplicate || it_fail "the repeated key was not a duplicate"
st=0
kefu submit --kind complaint --category leak --channel phone --project NO-SUCH \
    --phone 13900002222 --summary "no such project" >/dev/null 2>&1 || st=$?
[[ $st == 1 ]] || it_fail "a submit to an unknown project exited $st, expected 1"

out1=$(metric "$INTAKE_M" "$OUT_SUBMITTED")
[[ $((out1 - out0)) == "$N" ]] ||
    it_fail "intake's $OUT_SUBMITTED moved by $((out1 - out0)), expected $N (the new tickets)"
[[ $(($(metric "$INTAKE_M" "$IN_SUBMIT") - in0)) == $((N + 2)) ]] ||
    it_fail "intake's $IN_SUBMIT did not move by $((N + 2))"
# Every submit that reached a commit (the duplicate too), not the refused one.
[[ $(($(metric "$INTAKE_M" kefu_intake_submit_seconds_count) - lat0)) == $((N + 1)) ]] ||
    it_fail "kefu_intake_submit_seconds_count did not move by $((N + 1))"
[[ $(($(metric "$INTAKE_M" 'kefu_errors_total{code="not_found"}') - nf0)) == 1 ]] ||
    it_fail "kefu_errors_total{code=\"not_found\"} did not move by 1"

it_wait_for "the $N tickets to be routed" 30 \
    it_psql_is "SELECT count(*) FROM ticket WHERE idem_key LIKE 'status-%' AND status = 'routed'" "$N"
it_wait_for "the router to count $N routed events" 10 \
    metric_is "$ROUTER_M" "$OUT_ROUTED" $((routed0 + N))
sleep 0.5 # nothing more may come
[[ $(metric "$ROUTER_M" "$OUT_ROUTED") == $((routed0 + N)) ]] ||
    it_fail "the router counted more ticket.routed events than tickets it routed"
[[ $(metric "$ROUTER_M" kefu_router_route_seconds_count) == "$N" ]] ||
    it_fail "kefu_router_route_seconds_count is not $N"
in_router=$(metric "$ROUTER_M" 'kefu_events_total{type="ticket.submitted",direction="in"}')
((in_router >= N)) || it_fail "the router took in $in_router ticket.submitted, fewer than $N"

# Histograms: cumulative buckets ending in +Inf equal to _count, HELP/TYPE once.
scrape=$(get "$INTAKE_M" /metrics)
awk '/^kefu_intake_submit_seconds_bucket/ {
        v = $2 + 0; if (v < last) bad = 1; last = v; n++
        if ($1 ~ /le="\+Inf"/) inf = v }
     /^kefu_intake_submit_seconds_count / { count = $2 + 0 }
     END { exit !(n == 14 && !bad && inf == count && count > 0) }' <<<"$scrape" ||
    it_fail "intake's latency histogram is malformed: $(grep submit_seconds <<<"$scrape" | tr '\n' ' ')"
[[ $(grep -c '^# TYPE kefu_intake_submit_seconds histogram$' <<<"$scrape") == 1 ]] ||
    it_fail "no single TYPE line for the histogram"
grep -q '^kefu_store_up 1$' <<<"$scrape" || it_fail "intake's kefu_store_up is not 1"
curl -sS -D - -o /dev/null "http://127.0.0.1:$INTAKE_M/metrics" |
    grep -qi '^Content-Type: text/plain; version=0.0.4' || it_fail "wrong Content-Type for /metrics"

# The heartbeat rows carry the counts.
it_wait_for "intake's heartbeat to carry events_out $((out1))" 10 \
    it_psql_is "SELECT events_out FROM daemon_instance WHERE name = 'intake'" "$out1"
it_note "(a) passed: +$N ticket.submitted out, +$N ticket.routed out"

# ---- (b) health ----------------------------------------------------------------
health_is "$INTAKE_M" 200 '.status == "ok" and .store == "up" and .daemon == "intake"' ||
    it_fail "intake's /health is not 200 ok: $(cat "$IT_DIR/health.json")"
health_is "$ROUTER_M" 200 '.store == "up" and .daemon == "ticket-router" and .uptime_s >= 0' ||
    it_fail "the router's /health is not 200 ok: $(cat "$IT_DIR/health.json")"
health_is "$BUS_M" 200 '.status == "ok" and .daemon == "bus" and (has("store") | not)' ||
    it_fail "the bus's /health is not 200 without a store: $(cat "$IT_DIR/health.json")"
[[ $(status_of "$INTAKE_M" /nothing GET) == 404 ]] || it_fail "GET /nothing is not 404"
[[ $(status_of "$INTAKE_M" /metrics POST) == 405 ]] || it_fail "POST /metrics is not 405"
[[ $(status_of "$INTAKE_M" /health HEAD) == 200 ]] || it_fail "HEAD /health is not 200"
bad=$(exec 3<>"/dev/tcp/127.0.0.1/$INTAKE_M"; printf 'hello there\r\n\r\n' >&3; head -n1 <&3 | tr -d '\r')
[[ $bad == "HTTP/1.1 400 Bad Request" ]] || it_fail "a malformed request got '$bad', not 400"

it_pg_stop fast
it_note "PostgreSQL stopped"
it_wait_for "intake's /health to say 503" 15 health_is "$INTAKE_M" 503 '.store == "down"'
it_wait_for "the router's /health to say 503" 15 health_is "$ROUTER_M" 503 '.store == "down"'
health_is "$BUS_M" 200 '.status == "ok"' || it_fail "the bus's /health failed without PostgreSQL"
st=0
kefu-admin status >/dev/null 2>&1 || st=$?
[[ $st == 3 ]] || it_fail "kefu-admin status with the store down exited $st, expected 3"
it_pg_start
it_note "PostgreSQL started again"
it_wait_for "intake's /health to say 200 again" 30 health_is "$INTAKE_M" 200 '.store == "up"'
it_wait_for "the router's /health to say 200 again" 30 health_is "$ROUTER_M" 200 '.store == "up"'
it_note "(b) passed"

# ---- (c) kefu-admin status -------------------------------------------------------------
state_of() { # instance -> state, from kefu-admin status --json
    kefu-admin status --json 2>/dev/null | jq -r --arg i "$1" '.instances[] | select(.instance == $i) | .state' || true
}
state_is() { [[ $(state_of "$1") == "$2" ]]; }
intake_id=$HOST:$(it_pid intake)
router_id=$HOST:$(it_pid router)
it_wait_for "kefu-admin status to exit 0" 10 kefu-admin status
out=$(kefu-admin status)
it_note "kefu-admin status:"$'\n'"$out"
grep -E "^intake +$intake_id +up " <<<"$out" >/dev/null || it_fail "kefu-admin status does not show intake up"
grep -E "^ticket-router +$router_id +up " <<<"$out" >/dev/null ||
    it_fail "kefu-admin status does not show the router up"

# (d) first: a second router that gets no work (its PULL endpoint is nobody's)
# and scans and catches up only once, at its start.
it_start router@lag KEFU_METRICS_PORT="$LAG_M" KEFU_BUS_PULL="tcp://127.0.0.1:$NOWHERE" \
    KEFU_ROUTER_CATCHUP_MS=3600000 KEFU_ROUTER_SCAN_MS=3600000
lag_id=$HOST:$(it_pid router@lag)
it_wait_for "the second router to be up" 20 state_is "$lag_id" up
it_wait_for "the second router to see no backlog" 20 metric_is "$LAG_M" kefu_outbox_backlog 0

it_kill router KILL
it_wait_for "kefu-admin status to show the killed router down" 10 state_is "$router_id" down
st=0
out=$(kefu-admin status) || st=$?
[[ $st == 1 ]] || it_fail "kefu-admin status exited $st with a router down, expected 1"
grep -E "^ticket-router +$router_id +down " <<<"$out" >/dev/null ||
    it_fail "the table does not show the killed router down: $out"

# ---- (d) backlog, lag, dropped work ----------------------------------------------
drop0=$(metric "$BUS_M" 'kefu_bus_dropped_total{flow="work"}')
M=3
for i in $(seq 1 $M); do submit --idem "status-late-$i" >/dev/null; done
it_wait_for "the second router to report a backlog of $M" 10 metric_is "$LAG_M" kefu_outbox_backlog $M
it_wait_for "its heartbeat to carry the backlog" 10 \
    it_psql_is "SELECT backlog FROM daemon_instance WHERE instance = '$lag_id'" $M
[[ $(($(metric "$BUS_M" 'kefu_bus_dropped_total{flow="work"}') - drop0)) == "$M" ]] ||
    it_fail "the bus did not count $M work messages dropped with no worker"
[[ $(metric "$LAG_M" kefu_deadline_scan_lag_seconds) == 0 ]] ||
    it_fail "the deadline-scan lag is not 0 with nothing overdue"
it_psql "UPDATE ticket SET next_escalation_at = now() - interval '100 seconds'
          WHERE idem_key = 'status-1'" >/dev/null
lag_ge_100() { awk -v v="$(metric "$LAG_M" kefu_deadline_scan_lag_seconds)" 'BEGIN { exit !(v >= 100) }'; }
it_wait_for "the deadline-scan lag to show the overdue ticket" 10 lag_ge_100
it_note "(d) passed: backlog $M, lag $(metric "$LAG_M" kefu_deadline_scan_lag_seconds) s"

# ---- (c) continued: a clean stop, then --prune ------------------------------------
it_kill intake TERM
it_wait_for "kefu-admin status to show intake stopped" 10 state_is "$intake_id" stopped
st=0
kefu-admin status --prune >/dev/null 2>"$IT_DIR/prune.err" || st=$?
[[ $st == 1 ]] || it_fail "kefu-admin status --prune exited $st before pruning a down router, expected 1"
grep -q 'forgot 2 instance' "$IT_DIR/prune.err" || it_fail "--prune said: $(cat "$IT_DIR/prune.err")"
out=$(kefu-admin status --json)
[[ $(jq -c '[.instances[].instance]' <<<"$out") == "[\"$lag_id\"]" ]] ||
    it_fail "after --prune kefu-admin status lists $(jq -c '[.instances[].instance]' <<<"$out")"
jq -e '.up == 1 and .down == 0 and .instances[0].backlog == 3 and
       (.instances[0].metrics | endswith("/metrics"))' <<<"$out" >/dev/null ||
    it_fail "kefu-admin status --json: $out"
it_note "(c) passed"
