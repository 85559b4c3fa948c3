#!/usr/bin/env bash
# Integration tokens and CTI through kefu-gateway (issue 13, item 5), with
# real daemons, a real store and curl:
#  - kefu-admin token create pbx --scope calls, wechat --scope submit --as
#    agent.li; a submit with the submit token (Authorization: Bearer, no
#    cookie, no CSRF token) is agent.li's ticket, its use logged; an
#    Idempotency-Key retry is the same ticket;
#  - the calls token on submit: 401; the submit token on POST
#    /api/v1/calls: 403 forbidden, logged; a token on a session route:
#    401, never forwarded; a revoked token: 401 at once;
#  - POST /api/v1/calls: ringing -> answered -> hangup at agent.li's
#    extension with the owner found by phone, null for an unknown number;
#    repeats change nothing; each change once in the outbox and rung on
#    the bus; the Zammad/Znuny names newCall and answer;
#  - ringing + hangup -> missed, in GET /api/v1/calls?state=missed;
#    callback -> gone from it; a second callback and one of an answered
#    call: 409; of no call: 404; mine=true, limit and cursor;
#  - bad bodies (unknown event, missing call_id, an extension with
#    letters, a 60 kB call_id, an unknown field, a wrong type): 400 naming
#    the field, nothing written;
#  - a malformed bearer: 401 with the store stopped (no store access).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init gateway_calls
it_pg_start
it_start bus
it_start intake
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
gw_start gateway
q() { it_psql "$1"; }
PW='correct horse battery'
gw_passwd agent.li "$PW"
gw_passwd agent.chen "$PW"
gw_signin agent.li "$PW"

# A listener on the bus, for the doorbell the gateway rings (call.*).
sub=$KEFU_BUILD_DIR/tests/integration/kefu-test-survey-sub
[[ -x $sub ]] || it_fail "$sub is not built"
"$sub" --seconds 150 call. >"$IT_DIR/bus.jsonl" 2>"$IT_DIR/log/sub.log" &
LISTENER=$!
it_wait_for "the bus listener" 10 grep -q listening "$IT_DIR/log/sub.log"

# ---- tokens ------------------------------------------------------------------------
PBX=$(kefu-admin --json token create pbx --scope calls 2>/dev/null | jq -r .token)
WECHAT=$(kefu-admin --json token create wechat --scope submit --as agent.li 2>/dev/null | jq -r .token)
[[ $PBX =~ ^kit_[A-Za-z0-9_-]{43}$ && $WECHAT =~ ^kit_[A-Za-z0-9_-]{43}$ ]] ||
    it_fail "kefu-admin token create: '$PBX' '$WECHAT'"
uses() { q "SELECT coalesce(string_agg(u.scope || ':' || u.outcome, ',' ORDER BY u.id), '')
              FROM integration_token_use u JOIN integration_token t ON t.id = u.token_id
             WHERE t.name = '$1'"; }
writes() { q "SELECT (SELECT count(*) FROM ticket) || '/' || (SELECT count(*) FROM event) || '/' ||
                     (SELECT count(*) FROM call_log)"; }

BODY=$(jq -nc '{kind: "complaint", category: "leak", channel: "wechat", project: "HZ-XH",
    building: "3", unit: "1201", phone: "13800138000", name: "王先生", summary: "微信报修：渗漏"}')
http - POST /api/v1/tickets "$BODY" -H "Authorization: Bearer $WECHAT" -H 'Idempotency-Key: wx-1'
expect 200 "a submit with the submit token, no cookie, no CSRF token"
NO=$(json .ticket)
[[ $(q "SELECT created_by FROM ticket WHERE no = '$NO'") == agent.li ]] ||
    it_fail "the token's ticket is not agent.li's: $(q "SELECT created_by FROM ticket WHERE no = '$NO'")"
http - POST /api/v1/tickets "$BODY" -H "Authorization: bearer $WECHAT" -H 'Idempotency-Key: wx-1'
expect 200 "the same submit again (the scheme's case does not matter)"
[[ $(json .ticket) == "$NO" && $(json .duplicate) == true ]] || it_fail "a retried token submit: $OUT"
[[ $(uses wechat) == "submit:ok,submit:ok" ]] || it_fail "the submit token's uses: $(uses wechat)"
[[ -n $(q "SELECT last_used_at FROM integration_token WHERE name = 'wechat'") ]] || it_fail "last_used_at not set"

before=$(writes)
http - POST /api/v1/tickets "$BODY" -H "Authorization: Bearer $PBX" -H 'Idempotency-Key: wx-2'
expect 401 unknown_actor "the calls token on submit"
[[ $(uses pbx) == "submit:unknown_actor" ]] || it_fail "the calls token's refused submit is not logged: $(uses pbx)"
http - POST /api/v1/calls '{"event":"ringing","call_id":"x-1","caller":"13800138000","extension":"8001"}' \
    -H "Authorization: Bearer $WECHAT"
expect 403 forbidden "the submit token on /api/v1/calls"
[[ $(uses wechat) == "submit:ok,submit:ok,calls:forbidden" ]] || it_fail "the forbidden call is not logged: $(uses wechat)"
for route in "GET /api/v1/tickets" "GET /api/v1/tickets/$NO" "GET /api/v1/calls" "GET /api/v1/owners?phone=13800138000" \
    "POST /api/v1/tickets/$NO/responses" "DELETE /api/v1/session"; do
    http - ${route% *} "${route#* }" '' -H "Authorization: Bearer $WECHAT"
    expect 401 unknown_actor "the submit token on $route"
    # Also next to a valid session: the token is refused, not ignored.
    http agent.li ${route% *} "${route#* }" '' -H "Authorization: Bearer $WECHAT"
    expect 401 unknown_actor "the submit token with a session on $route"
done
[[ $(uses wechat) == "submit:ok,submit:ok,calls:forbidden" ]] || it_fail "a refused route logged a use: $(uses wechat)"
http - POST /api/v1/calls '{"event":"ringing","call_id":"x-1"}'
expect 401 unknown_actor "/api/v1/calls without a token"
http agent.li POST /api/v1/calls '{"event":"ringing","call_id":"x-1"}'
expect 401 unknown_actor "/api/v1/calls with a session only"
http - POST /api/v1/calls '{"event":"ringing","call_id":"x-1"}' -H "Authorization: Bearer kit_${PBX:5}A"
expect 401 unknown_actor "an unknown token of the right shape"
[[ $(writes) == "$before" ]] || it_fail "refused tokens wrote something: $before -> $(writes)"
it_note "tokens: submit as acts_as, every use logged, refused off their scope"

# ---- call events ----------------------------------------------------------------------
owner=$(q "SELECT id FROM homeowner WHERE phone = '13800138000'")
ev0=$(q "SELECT coalesce(max(seq), 0) FROM event")
# call EVENT CALL_ID [EXTENSION] [CALLER]: POST /api/v1/calls with the pbx token.
call() {
    http - POST /api/v1/calls "$(jq -nc --arg e "$1" --arg c "$2" --arg x "${3:-}" --arg n "${4:-+86 138-0013-8000}" \
        '{event: $e, call_id: $c, caller: $n} + (if $x == "" then {} else {extension: $x} end)')" \
        -H "Authorization: Bearer $PBX"
}
# expect_call "state changed staff owner" WHAT
expect_call() {
    expect 200 "$2"
    local got
    got=$(jq -r '[.state, .changed, (.staff // "-"), (.owner.id // "-"), (.owner.name // "-")] | join(" ")' <<<"$OUT")
    [[ $got == "$1" ]] || it_fail "$2: got '$got', expected '$1': $OUT"
}
call ringing c-1 8001
expect_call "ringing true agent.li $owner 王先生" "ringing at agent.li's extension from a known owner"
[[ $(json .call_id) == c-1 ]] || it_fail "the answer names no call: $OUT"
call ringing c-1 8001
expect_call "ringing false agent.li $owner 王先生" "ringing again"
call answered c-1 8001
expect_call "answered true agent.li $owner 王先生" "answered"
call answered c-1 8001
expect_call "answered false agent.li $owner 王先生" "answered again"
call hangup c-1 8001
expect_call "ended true agent.li $owner 王先生" "hangup"
call hangup c-1 8001
expect_call "ended false agent.li $owner 王先生" "hangup again"
call newCall c-2 8002 13700137000
expect_call "ringing true agent.chen - -" "newCall (Zammad's ringing) from an unknown number"
[[ $(json .owner) == null ]] || it_fail "an unknown number's owner is not null: $OUT"
call answer c-2 8002 13700137000
expect_call "answered true agent.chen - -" "answer (Zammad's answered)"
call ringing c-3 8001 anonymous
expect_call "ringing true agent.li - -" "an anonymous caller"
[[ $(q "SELECT caller || '|' || coalesce(caller_norm, 'NULL') FROM call_log WHERE call_id = 'c-3'") == "anonymous|NULL" ]] ||
    it_fail "an anonymous caller is not kept as received with no number"
call hangup c-3 8001 anonymous
expect_call "missed true agent.li - -" "hung up unanswered: missed"
call answered c-3 8001 anonymous
expect_call "missed false agent.li - -" "an answer after the hangup changes nothing"
[[ $(q "SELECT count(*) FROM integration_token_use u JOIN integration_token t ON t.id = u.token_id
         WHERE t.name = 'pbx' AND u.scope = 'calls' AND u.outcome = 'ok'") == 11 ]] ||
    it_fail "the call events' uses: $(uses pbx)"
events=$(q "SELECT string_agg(type || ' ' || (body->>'call'), ',' ORDER BY seq) FROM event WHERE seq > $ev0")
want="call.ringing c-1,call.answered c-1,call.ended c-1,call.ringing c-2,call.answered c-2,call.ringing c-3,call.missed c-3"
[[ $events == "$want" ]] || it_fail "the outbox: $events"
[[ $(q "SELECT body->>'staff' || ' ' || (body->>'owner') || ' ' || (body->>'caller') FROM event
         WHERE type = 'call.answered' AND body->>'call' = 'c-1'") == "agent.li $owner 13800138000" ]] ||
    it_fail "call.answered's body: $(q "SELECT body FROM event WHERE type = 'call.answered'")"
it_wait_for "the call events on the bus" 10 bash -c "[[ \$(jq -s length '$IT_DIR/bus.jsonl') -ge 7 ]]"
[[ $(jq -r '.type + " " + .body.call' "$IT_DIR/bus.jsonl" | paste -sd,) == "$want" ]] ||
    it_fail "the bus carried: $(cat "$IT_DIR/bus.jsonl")"
it_note "call events: ended, missed, repeats and late events change nothing, each change once in the outbox and on the bus"

# ---- bad bodies ----------------------------------------------------------------------------
before=$(writes)
uses_before=$(uses pbx)
bad() { # bad BODY FIELD WHAT
    http - POST /api/v1/calls "$1" -H "Authorization: Bearer $PBX"
    expect 400 "" "$3"
    [[ $(json .field) == "$2" ]] || it_fail "$3: field '$(json .field)', expected '$2': $OUT"
}
bad '{"event":"transfer","call_id":"b-1"}' event "an unknown event"
bad '{"event":"ringing"}' call_id "no call_id"
bad '{"call_id":"b-1"}' event "no event"
bad '{"event":"ringing","call_id":"b-1","extension":"80a1"}' extension "an extension with letters"
bad '{"event":"ringing","call_id":"b 1"}' call_id "a call id with a space"
bad "$(jq -nc --arg c "$(head -c 60000 /dev/zero | tr '\0' x)" '{event: "ringing", call_id: $c}')" call_id "a 60 kB call id"
http - POST /api/v1/calls "$(jq -nc --arg c "$(head -c 65536 /dev/zero | tr '\0' x)" '{event: "ringing", call_id: $c}')" \
    -H "Authorization: Bearer $PBX"
expect 413 too_long "a 64 KiB call id (the body is over 64 KiB)"
bad '{"event":"ringing","call_id":"b-1","caller":12345}' caller "a number as the caller"
bad '{"event":"ringing","call_id":"b-1","at":"yesterday"}' at "at as text"
bad '{"event":"ringing","call_id":"b-1","at":99999999999999999}' at "at past the year 3000"
bad '{"event":"ringing","call_id":"b-1","direction":"in"}' direction "an unknown field"
http - POST /api/v1/calls '[1,2]' -H "Authorization: Bearer $PBX"
expect 400 "" "an array"
http - POST /api/v1/calls '{"event":' -H "Authorization: Bearer $PBX"
expect 400 "" "malformed JSON"
[[ $(writes) == "$before" ]] || it_fail "bad bodies wrote something: $before -> $(writes)"
[[ $(uses pbx) == "$uses_before"* && $(uses pbx) == *"calls:bad_value"* ]] || it_fail "bad bodies' uses: $(uses pbx)"
it_note "bad bodies: 400 naming the field, nothing written"

# ---- the caller log ---------------------------------------------------------------------------
call ringing c-4 8002 13700137001
call hangup c-4 8002 13700137001
expect_call "missed true agent.chen - -" "c-4 missed at agent.chen's"
http agent.li GET '/api/v1/calls?state=missed'
expect 200 "the missed calls"
[[ $(jq -r '[.calls[].call_id] | join(",")' <<<"$OUT") == "c-4,c-3" ]] || it_fail "missed calls: $OUT"
[[ $(jq -r '.calls[1] | [.caller, (.caller_norm // "-"), .extension, .staff, .state, (.callback_at // "-")] | join(" ")' <<<"$OUT") == \
    "anonymous - 8001 agent.li missed -" ]] || it_fail "a missed call's fields: $OUT"
http agent.li GET '/api/v1/calls?mine=true'
expect 200 "my calls"
[[ $(jq -r '[.calls[].call_id] | join(",")' <<<"$OUT") == "c-3,c-1" ]] || it_fail "agent.li's calls: $OUT"
http agent.li GET '/api/v1/calls?limit=2'
expect 200 "a page of 2"
[[ $(jq -r '[.calls[].call_id] | join(",")' <<<"$OUT") == "c-4,c-3" && $(json .next) != null ]] || it_fail "the first page: $OUT"
http agent.li GET "/api/v1/calls?limit=2&cursor=$(json .next)"
expect 200 "the next page"
[[ $(jq -r '[.calls[].call_id] | join(",")' <<<"$OUT") == "c-2,c-1" ]] || it_fail "the second page: $OUT"
for query in state=gone mine=yes limit=0 limit=501 cursor=abc cursor=1.x; do
    http agent.li GET "/api/v1/calls?$query"
    expect 400 bad_value "GET /api/v1/calls?$query"
    [[ $(json .field) == "${query%%=*}" ]] || it_fail "$query: field $(json .field)"
done
http agent.li GET '/api/v1/calls?color=red'
expect 400 bad_value "an unknown query parameter"
http - GET /api/v1/calls
expect 401 unknown_actor "the caller log without a session"

http agent.li POST /api/v1/calls/c-3/callback
expect 200 "agent.li calls c-3 back"
[[ $(json .callback_by) == agent.li ]] || it_fail "callback: $OUT"
http agent.li GET '/api/v1/calls?state=missed'
[[ $(jq -r '[.calls[].call_id] | join(",")' <<<"$OUT") == "c-4" ]] || it_fail "c-3 still missed: $OUT"
http agent.li POST /api/v1/calls/c-3/callback
expect 409 conflict "a second callback"
http agent.li POST /api/v1/calls/c-1/callback
expect 409 conflict "a callback of an answered call"
http agent.li POST /api/v1/calls/c-99/callback
expect 404 not_found "a callback of no call"
mv "$IT_DIR/csrf-agent.li" "$IT_DIR/csrf-agent.li.kept" # the cookie without the CSRF token
http agent.li POST /api/v1/calls/c-4/callback
expect 403 forbidden "a callback without the CSRF token"
mv "$IT_DIR/csrf-agent.li.kept" "$IT_DIR/csrf-agent.li"
http - POST /api/v1/calls/c-4/callback '' -H "Authorization: Bearer $PBX"
expect 401 unknown_actor "a callback with a token"
[[ $(q "SELECT callback_by FROM call_log WHERE call_id = 'c-4'") == "" ]] || it_fail "a refused callback was recorded"
http - POST /api/v1/calls '{"event":"ringing","call_id":"c-6","extension":"8001","at":1733490000000}' \
    -H "Authorization: Bearer $PBX"
expect 200 "an event with its time"
[[ $(q "SELECT kefu_ms(ringing_at) FROM call_log WHERE call_id = 'c-6'") == 1733490000000 ]] ||
    it_fail "at was not taken: $(q "SELECT ringing_at FROM call_log WHERE call_id = 'c-6'")"
it_note "the caller log: missed calls, mine, pages, callbacks"

# ---- revoking, and a malformed bearer with the store down -----------------------------------
kefu-admin token revoke pbx >"$IT_DIR/revoke.txt" 2>&1 || it_fail "token revoke: $(cat "$IT_DIR/revoke.txt")"
call ringing c-5 8001
expect 401 unknown_actor "a revoked token at once"
[[ $(uses pbx) == *"calls:unknown_actor" ]] || it_fail "the revoked token's use is not logged: $(uses pbx)"
kefu-admin token revoke wechat >"$IT_DIR/revoke.txt" 2>&1 || it_fail "token revoke: $(cat "$IT_DIR/revoke.txt")"
http - POST /api/v1/tickets "$BODY" -H "Authorization: Bearer $WECHAT" -H 'Idempotency-Key: wx-3'
expect 401 unknown_actor "a revoked submit token at once"
[[ $(q "SELECT count(*) FROM call_log WHERE call_id = 'c-5'") == 0 ]] || it_fail "a revoked token made a call"

it_pg_stop
for token in "kit_short" "${PBX}x" "kit_${PBX:4:42}!" "Basic" "$PBX $PBX"; do
    http - POST /api/v1/calls '{"event":"ringing","call_id":"s-1"}' -H "Authorization: Bearer $token"
    expect 401 unknown_actor "a malformed bearer '$token' with the store down"
    http - POST /api/v1/tickets "$BODY" -H "Authorization: Bearer $token"
    expect 401 unknown_actor "a malformed bearer on submit with the store down"
done
http - POST /api/v1/calls '{"event":"ringing","call_id":"s-1"}' -H "Authorization: Bearer $PBX"
expect 503 unavailable "a well-formed token with the store down"
kill "$LISTENER" 2>/dev/null || true
it_note "revoked tokens refused at once; malformed bearers refused without the store"
it_note "passed"
