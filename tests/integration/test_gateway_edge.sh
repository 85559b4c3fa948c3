#!/usr/bin/env bash
# kefu-gateway at its edges, against a real store and intake:
#  - a client sending its request a byte a second is cut (long before its
#    head is complete) while other requests are answered;
#  - 10,000 connections opened at once and left idle (fewer only when the
#    open-files limit forbids, said on stderr): requests keep being answered
#    meanwhile, the open-connections gauge counts them, and every one of
#    them is cut once it has not sent a request within 10 s;
#  - intake stopped: a submit is 503 unavailable with Retry-After; the same
#    submit (same Idempotency-Key) after intake is back makes one ticket;
#  - intake restarted while the store is down refuses the gateway's
#    handshake (temporary); once the store is back the gateway reaches intake
#    again by itself;
#  - a session idle past KEFU_SESSION_IDLE_S is 401 at its next request
#    (a second gateway instance, side by side with the first);
#  - a temporary password: the session may only change it (403 elsewhere);
#  - TLS with a self-signed certificate: the same API, the cookie Secure,
#    Strict-Transport-Security set;
#  - /metrics counts requests by route and status, with a latency histogram;
#  - SIGTERM while a request waits for a daemon: it is answered 503, and
#    the gateway stops cleanly (status 0).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init gateway_edge
it__pick_port
export KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
it__pick_port
export KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
clients=$KEFU_SOURCE_DIR/tests/integration/gateway_clients.py
it_pg_start
it_start bus
it_start intake
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
gw_start gateway KEFU_GATEWAY_TIMEOUT_MS=2000 KEFU_HTTP_MAX_CONNS=10100
q() { it_psql "$1"; }
PW='correct horse battery'
gw_passwd agent.li "$PW"
gw_signin agent.li "$PW"

# ---- a byte a second ---------------------------------------------------------------------
python3 "$clients" slow 127.0.0.1 "$GW_PORT" >"$IT_DIR/slow.out" 2>&1 &
slow=$!
echo "$slow" >>"$IT_DIR/.daemons"
for i in 1 2 3 4 5; do
    sleep 1
    http agent.li GET /api/v1/session
    expect 200 "whoami $i beside a slow client"
done
wait "$slow" || it_fail "the slow client failed: $(cat "$IT_DIR/slow.out")"
[[ $(<"$IT_DIR/slow.out") =~ ^cut\ after\ ([0-9]+)\ bytes$ ]] ||
    it_fail "the slow client was not cut: $(cat "$IT_DIR/slow.out")"
((BASH_REMATCH[1] < 60)) || it_fail "the slow client was cut only after ${BASH_REMATCH[1]} bytes"

# ---- 10,000 idle connections ---------------------------------------------------------------
# Each side holds one descriptor per connection: as many as the hard
# open-files limit allows both, 10,000 at most.
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=1048576
many=$((hard - 400 < 10000 ? hard - 400 : 10000))
((many >= 1000)) || it_fail "the open-files hard limit ($hard) is too low for this test"
((many == 10000)) || it_note "the open-files hard limit $hard allows $many idle connections, not 10,000"
python3 "$clients" idle 127.0.0.1 "$GW_PORT" "$many" 13 >"$IT_DIR/idle.out" 2>&1 &
idle=$!
echo "$idle" >>"$IT_DIR/.daemons"
it_wait_for "$many connections to open" 60 grep -q "^open $many\$" "$IT_DIR/idle.out"
for i in 1 2 3 4 5 6 7 8 9 10; do
    http agent.li GET /api/v1/tickets
    expect 200 "ticket list $i beside $many idle connections"
done
open=$(curl -s "http://127.0.0.1:$GW_METRICS_PORT/metrics" | awk '$1 == "kefu_http_connections_open" {print $2}')
[[ ${open%.*} -ge $many ]] || it_fail "kefu_http_connections_open is '$open' with $many open"
wait "$idle" || it_fail "the idle clients failed: $(cat "$IT_DIR/idle.out")"
grep -q "^closed $many\$" "$IT_DIR/idle.out" ||
    it_fail "not every idle connection was cut after 13 s: $(tail -n 1 "$IT_DIR/idle.out")"
http agent.li GET /api/v1/session
expect 200 "whoami after the idle connections were cut"

# ---- intake stopped -----------------------------------------------------------------------
BODY='{"kind":"repair","category":"leak","channel":"phone","project":"HZ-XH","phone":"13900139000","summary":"门锁坏了"}'
it_kill intake TERM
http agent.li POST /api/v1/tickets "$BODY" -H 'Idempotency-Key: edge-1'
expect 503 unavailable "a submit while intake is stopped"
[[ $(hdr Retry-After) == 1 ]] || it_fail "503 without Retry-After: 1"
it_start intake
it_wait_for "intake to answer again" 30 it_as agent.li kefu tickets --limit 1
http agent.li POST /api/v1/tickets "$BODY" -H 'Idempotency-Key: edge-1'
expect 200 "the same submit after intake is back"
[[ $(q "SELECT count(*) FROM ticket WHERE idem_key IS NOT NULL") == 1 ]] ||
    it_fail "the retried submit made $(q "SELECT count(*) FROM ticket") tickets"

# ---- intake restarted while the store is down ----------------------------------------------
# Intake refuses every handshake while it cannot reach the store (ZAP 500, a
# temporary refusal). libzmq never connects a refused DEALER again by itself:
# the gateway must, or it would not reach intake again until it restarts.
it_pg_stop
it_kill intake TERM
it_start intake
http agent.li GET /api/v1/tickets
expect 503 unavailable "a request while intake cannot reach the store"
it_wait_for "intake to refuse the gateway's handshake" 10 \
    grep -q 'auth.refused.*status=500' "$(it_log intake)"
it_pg_start
it_wait_for "intake to answer after the store is back" 30 it_as agent.li kefu tickets --limit 1
back() { http agent.li GET /api/v1/tickets && [[ $CODE == 200 ]]; }
it_wait_for "the gateway to reach intake again" 10 back
it_note "the gateway reached intake again after a refused handshake"

# ---- an idle session expires (a second gateway beside the first) --------------------------
it__pick_port
short=$IT__PORT
it_start gateway@short KEFU_HTTP_PORT="$short" KEFU_METRICS_PORT=0 KEFU_SESSION_IDLE_S=2
first_url=$GW_URL
GW_URL=http://127.0.0.1:$short
it_wait_for "the second gateway to listen" 30 curl -s -o /dev/null "$GW_URL/api/v1/session"
gw_signin agent.li "$PW"
http agent.li GET /api/v1/tickets
expect 200 "a request on a fresh 2-second session"
sleep 3
http agent.li GET /api/v1/tickets
expect 401 unknown_actor "a request after 3 s idle on a 2-second session"
GW_URL=$first_url

# ---- a temporary password -----------------------------------------------------------------
temp=$(kefu-admin --json passwd agent.chen --temporary | jq -r .password)
gw_signin agent.chen "$temp"
[[ $(json .must_change) == true ]] || it_fail "a temporary password's session: $OUT"
http agent.chen GET /api/v1/tickets
expect 403 forbidden "a request before the required password change"
http agent.chen POST /api/v1/session/password '{"old":"'"$temp"'","new":"my own password 1"}'
expect 200 "the required password change"
http agent.chen GET /api/v1/tickets
expect 200 "a request after the password change"

# ---- TLS ------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IT_DIR/tls.key" -out "$IT_DIR/tls.crt" \
    -days 2 -subj /CN=127.0.0.1 >"$IT_DIR/log/openssl.log" 2>&1 || it_fail "openssl failed"
it__pick_port
tls=$IT__PORT
it_start gateway@tls KEFU_HTTP_PORT="$tls" KEFU_METRICS_PORT=0 KEFU_TLS_CERT="$IT_DIR/tls.crt" \
    KEFU_TLS_KEY="$IT_DIR/tls.key"
GW_URL=https://127.0.0.1:$tls
GW_CURL_OPTS=--cacert\ $IT_DIR/tls.crt
it_wait_for "the TLS gateway to listen" 30 curl -s --cacert "$IT_DIR/tls.crt" -o /dev/null "$GW_URL/api/v1/session"
gw_signin agent.li "$PW"
[[ $(hdr Set-Cookie) == *'; Secure'* ]] || it_fail "no Secure cookie under TLS: $(hdr Set-Cookie)"
[[ $(hdr Strict-Transport-Security) == max-age=* ]] || it_fail "no HSTS under TLS"
http agent.li POST /api/v1/tickets "$BODY" -H 'Idempotency-Key: edge-tls'
expect 200 "a submit over TLS"
http agent.li GET "/api/v1/tickets/$(json .ticket)"
expect 200 "a ticket shown over TLS"
GW_CURL_OPTS=
GW_URL=$first_url

# ---- metrics ------------------------------------------------------------------------------
metrics=$(curl -s "http://127.0.0.1:$GW_METRICS_PORT/metrics")
grep -q '^kefu_http_requests_total{route="/api/v1/tickets",code="200"} [1-9]' <<<"$metrics" ||
    it_fail "no request count of GET /api/v1/tickets: $(grep kefu_http_requests_total <<<"$metrics")"
grep -q '^kefu_http_request_seconds_count{route="/api/v1/session"} [1-9]' <<<"$metrics" ||
    it_fail "no latency histogram of /api/v1/session"

# ---- a stop while a request waits for a daemon ----------------------------------------------
it_kill intake TERM
(http agent.li POST /api/v1/tickets "$BODY" -H 'Idempotency-Key: edge-stop'
 echo "$CODE $(json .code)" >"$IT_DIR/stop.out") &
waiting=$!
sleep 0.5
it_kill gateway TERM
[[ ${IT_STATUS[gateway]} == 0 ]] || it_fail "kefu-gateway stopped with status ${IT_STATUS[gateway]}"
wait "$waiting" || true
[[ $(<"$IT_DIR/stop.out") == '503 unavailable' ]] ||
    it_fail "the request waiting at the stop got: $(cat "$IT_DIR/stop.out")"
it_note "all checks passed"
