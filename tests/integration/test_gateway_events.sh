#!/usr/bin/env bash
# kefu-gateway's live events (GET /api/v1/events, Server-Sent Events)
# against real daemons and a real store, read with curl -N:
#  - no cookie: 401; a bad Last-Event-ID: 400; one stream over
#    KEFU_SSE_MAX_STREAMS: 503 with Retry-After;
#  - the headers of a stream; a heartbeat (KEFU_SSE_HEARTBEAT_S=1);
#  - a ticket routed to customer service (cs) reaches agent.li (cs) and the
#    administrator, never eng.zhao (engineering); its transfer to
#    engineering reaches both departments;
#  - an approval step reaches its approver (eng.sun) and the requester,
#    not another agent or engineer;
#  - a CTI call at agent.li's extension (kefu_call_event with a calls
#    token) reaches agent.li alone: not her head, not the administrator;
#  - a reconnect with Last-Event-ID (header, and ?last_event_id=) after
#    events happened while disconnected delivers exactly the missed ones,
#    in seq order, no duplicate; an id the outbox does not hold gets the
#    event kefu.reset;
#  - a revoked session's stream ends (KEFU_SSE_RECHECK_S=1);
#  - the open-streams gauge kefu_sse_streams_open on /metrics.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init gateway_events
gw_daemons
gw_start gateway KEFU_SSE_HEARTBEAT_S=1 KEFU_SSE_RECHECK_S=1 KEFU_SSE_MAX_STREAMS=5
q() { it_psql "$1"; }

PW='correct horse battery'
for s in agent.li agent.chen eng.zhao eng.sun admin; do
    gw_passwd "$s" "$PW"
    gw_signin "$s" "$PW"
done

declare -A STREAM_PID=()
# open NAME WHO [curl options...]: WHO's event stream, read into
# $IT_DIR/sse-NAME (headers in sse-NAME.hdr) in the background.
open() {
    local name=$1 who=$2
    shift 2
    curl -s -N -D "$IT_DIR/sse-$name.hdr" -b "$IT_DIR/jar-$who" "$@" "$GW_URL/api/v1/events" \
        >"$IT_DIR/sse-$name" 2>"$IT_DIR/sse-$name.err" &
    STREAM_PID[$name]=$!
    it_wait_for "the stream $name to open" 10 grep -q '^: kefu events' "$IT_DIR/sse-$name"
}
# close NAME: stops reading stream NAME.
close() {
    kill "${STREAM_PID[$1]}" 2>/dev/null || true
    wait "${STREAM_PID[$1]}" 2>/dev/null || true
    unset "STREAM_PID[$1]"
}
# ended PID: process PID has exited (or is a zombie waiting for wait).
ended() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0; [[ $st == Z* ]]; }
# (A stream left open ends when the gateway stops at the cleanup.)
# events NAME: the events of stream NAME so far, one "ID TYPE DATA" a line.
events() {
    awk '/^id: /{id=$2} /^event: /{type=$2} /^data: /{sub(/^data: /, ""); print id, type, $0}' \
        "$IT_DIR/sse-$1"
}
# has NAME TYPE TICKET: stream NAME has an event TYPE of TICKET.
has() { events "$1" | awk -v t="$2" -v n="\"$3\"" '$2 == t && index($0, n) {f=1} END {exit !f}'; }
gauge() { curl -s "http://127.0.0.1:$GW_METRICS_PORT/metrics" | awk '$1 == "kefu_sse_streams_open" {print $2}'; }
# (it_wait_for runs a command again and again: these look afresh each time.)
gauge_is() { [[ $(gauge) == "$1" ]]; }
count_at_least() { [[ $(events "$1" | wc -l) -ge $2 ]]; }
routed() { [[ $(q "SELECT status FROM ticket WHERE no = '$1'") == routed ]]; }

# ---- refusals ---------------------------------------------------------------------------
http - GET /api/v1/events
expect 401 unknown_actor "a stream without a cookie"
http agent.li GET /api/v1/events '' -H 'Last-Event-ID: 12x' --max-time 10
expect 400 bad_value "a Last-Event-ID that is no number"

# ---- streams open -------------------------------------------------------------------------
open li agent.li
open zhao eng.zhao
open sun eng.sun
open chen agent.chen
open admin admin
hdrs=$(tr -d '\r' <"$IT_DIR/sse-li.hdr")
for h in 'HTTP/1.1 200' 'Content-Type: text/event-stream; charset=utf-8' 'Cache-Control: no-store' \
    'X-Accel-Buffering: no' 'X-Content-Type-Options: nosniff'; do
    grep -qiF "$h" <<<"$hdrs" || it_fail "the stream's headers lack '$h': $hdrs"
done
it_wait_for "the gauge to count 5 streams" 10 gauge_is 5
http agent.li GET /api/v1/events "" --max-time 10
expect 503 unavailable "a sixth stream over KEFU_SSE_MAX_STREAMS=5"
[[ -n $(hdr Retry-After) ]] || it_fail "the 503 of a stream over the limit has no Retry-After"
it_wait_for "a heartbeat" 10 grep -q '^: hb$' "$IT_DIR/sse-zhao"

# ---- a ticket of customer service, then transferred to engineering ---------------------------
INQ='{"kind":"inquiry","category":"other","channel":"phone","project":"HZ-XH","building":"3",
      "unit":"1201","phone":"13800138000","name":"业主","summary":"咨询交房时间"}'
http agent.chen POST /api/v1/tickets "$INQ" -H 'Idempotency-Key: ev-1'
expect 200 "submit an inquiry"
T1=$(json .ticket)
it_wait_for "$T1 routed on agent.li's stream" 20 has li ticket.routed "$T1"
# (ticket.submitted was read before the routing: no department yet, so
# only its creator agent.chen and the administrator saw it.)
has admin ticket.routed "$T1" || it_wait_for "$T1 on the admin's stream" 10 has admin ticket.routed "$T1"
[[ $(q "SELECT department_id FROM ticket WHERE no = '$T1'") == cs ]] || it_fail "$T1 is not cs's"

http agent.chen POST "/api/v1/tickets/$T1/transfers" '{"to":"eng.liu","reason":"工程问题"}'
expect 200 "transfer $T1 to engineering"
it_wait_for "the transfer on eng.zhao's stream" 20 has zhao ticket.transferred "$T1"
it_wait_for "the transfer on agent.li's stream" 20 has li ticket.transferred "$T1"
# Every stream passes the events in one order: eng.zhao is past the
# submit and the routing, which never reached him.
! has zhao ticket.submitted "$T1" && ! has zhao ticket.routed "$T1" ||
    it_fail "eng.zhao (engineering) saw customer service's ticket before its transfer: $(events zhao)"

# ---- an approval step -------------------------------------------------------------------------
tomorrow=$(TZ=Asia/Shanghai date -d tomorrow +%F)
http agent.chen POST /api/v1/approvals "$(jq -nc --arg t "$T1" --arg p "$tomorrow" \
    '{ticket: $t, type: "refund", amount: "300.00", reason: "补偿", promised: $p}')" -H 'Idempotency-Key: ev-ap-1'
expect 200 "approval request"
R=$(json .request)
it_wait_for "the step on eng.sun's stream" 20 has sun approval.step_assigned "$T1"
events sun | awk '$2 == "approval.step_assigned"' | grep -q '"to":"eng.sun"' ||
    it_fail "eng.sun's step_assigned is not his: $(events sun)"
it_wait_for "the step on the requester's stream" 20 has chen approval.step_assigned "$T1"
# A later event everyone passes: a call (below). Then no approval on the others.

# ---- a screen-pop ---------------------------------------------------------------------------
kefu-admin --json token create pbx --scope calls >"$IT_DIR/pbx.json" 2>"$IT_DIR/pbx.err" ||
    it_fail "token create: $(cat "$IT_DIR/pbx.json" "$IT_DIR/pbx.err")"
PBX=$(jq -r .token "$IT_DIR/pbx.json")
[[ $(q "SELECT extension FROM staff WHERE id = 'agent.li'") == 8001 ]] || it_fail "agent.li's extension"
[[ $(q "SELECT status || '|' || staff_id FROM kefu_call_event('$PBX', 'call-ev-1', 'ringing',
        '138 0013 8000', '13800138000', '8001', now(), '203.0.113.5')") == 'ok|agent.li' ]] ||
    it_fail "kefu_call_event ringing at 8001"
it_wait_for "the call on agent.li's stream" 20 has li call.ringing call-ev-1
CALL=$(q "SELECT max(seq) FROM event WHERE type = 'call.ringing'")
BEFORE_CALL=$(q "SELECT max(seq) FROM event WHERE seq < $CALL")
# Every stream is past the call once the reader read it; look after the
# next event that every stream sees: a ticket the administrator sees too.
http agent.chen POST /api/v1/tickets "$(jq -c '.summary = "marker"' <<<"$INQ")" -H 'Idempotency-Key: ev-2'
expect 200 "submit a marker"
MARK=$(json .ticket)
it_wait_for "the marker on the admin's stream" 20 has admin ticket.routed "$MARK"
for s in zhao sun chen admin; do
    ! has "$s" call.ringing call-ev-1 || it_fail "the screen-pop of agent.li reached stream $s"
done
for s in li zhao; do
    events "$s" | awk '{print $2}' | grep -q '^approval\.' && it_fail "stream $s saw an approval: $(events "$s")"
done
! has zhao ticket.routed "$MARK" || it_fail "eng.zhao saw customer service's marker ticket"
ids=$(events li | awk '{print $1}')
[[ $(sort -n <<<"$ids" | uniq) == "$ids" ]] || it_fail "agent.li's stream is out of order or repeats: $ids"

# ---- reconnect with Last-Event-ID -------------------------------------------------------------
it_wait_for "the marker on agent.li's stream" 20 has li ticket.routed "$MARK"
LAST=$(events li | tail -n 1 | awk '{print $1}')
close li
it_wait_for "the gauge to count 4 streams" 10 gauge_is 4
for k in 3 4 5; do
    http agent.chen POST /api/v1/tickets "$(jq -c --arg s "missed $k" '.summary = $s' <<<"$INQ")" \
        -H "Idempotency-Key: ev-$k"
    expect 200 "submit while agent.li is away"
    eval "T$k=$(json .ticket)"
done
it_wait_for "$T5 routed" 20 routed "$T5"
want=$(q "SELECT string_agg(seq::text, ' ' ORDER BY seq) FROM event WHERE seq > $LAST
          AND (corr IN ('$T3', '$T4', '$T5', '$MARK') AND type LIKE 'ticket.%')")
open li2 agent.li -H "Last-Event-ID: $LAST"
n=$(wc -w <<<"$want")
it_wait_for "the $n missed events" 20 count_at_least li2 "$n"
got=$(events li2 | awk '{print $1}' | paste -sd ' ')
[[ $got == "$want" ]] || it_fail "after Last-Event-ID $LAST: got '$got', expected '$want'"
for t in "$T3" "$T4" "$T5"; do has li2 ticket.routed "$t" || it_fail "the reconnect lacks $t"; done
! grep -q '^event: kefu.reset' "$IT_DIR/sse-li2" || it_fail "a reconnect that missed nothing was told to reset"
# The same through the query string, from an earlier id: the call again.
close li2
it_wait_for "li2 to be gone (at its next heartbeat)" 10 gauge_is 4
open li3 agent.li -G --data-urlencode "last_event_id=$BEFORE_CALL"
it_wait_for "the call again from ?last_event_id=" 20 has li3 call.ringing call-ev-1
got=$(events li3 | awk '{print $1}')
[[ $(sort -n <<<"$got" | uniq) == "$got" && $(head -n 1 <<<"$got") == "$CALL" ]] ||
    it_fail "from ?last_event_id=$BEFORE_CALL: $got"

# An id the outbox does not hold: the stream starts now and says so.
close li3
it_wait_for "li3 to be gone (at its next heartbeat)" 10 gauge_is 4
open li4 agent.li -H 'Last-Event-ID: 999999999'
it_wait_for "a reset for an unknown id" 10 grep -q '^data: {"reason":"unknown_id"}' "$IT_DIR/sse-li4"

# ---- a revoked session's stream ends ----------------------------------------------------------
kefu-admin sessions eng.zhao --revoke >/dev/null || it_fail "kefu-admin sessions --revoke"
pid=${STREAM_PID[zhao]}
it_wait_for "eng.zhao's stream to end" 10 ended "$pid"
wait "$pid" || it_fail "eng.zhao's stream did not end cleanly (curl $?)"
unset "STREAM_PID[zhao]"
it_wait_for "the gauge to count 4 streams" 10 gauge_is 4
grep -q 'gateway.stream_closed.*staff=eng.zhao reason=session_ended' "$(it_log gateway)" ||
    it_fail "no log line of the ended stream"

for n in "${!STREAM_PID[@]}"; do close "$n"; done
it_wait_for "the gauge to count 0 streams" 10 gauge_is 0
it_note "all checks passed"
