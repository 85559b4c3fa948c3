#!/usr/bin/env bash
# Integration tokens and CTI call events (migration 020, proto/security.md),
# against a real store, intake and a wire client with a gateway's
# certificate (auth_session.c) in place of kefu-gateway:
#  - kefu-admin token create shows a token once; the store holds only its
#    SHA-256; list, uses, revoke; bad names, scopes, --as refused;
#  - a submit token as the envelope's session through a gateway key makes
#    the ticket its acts_as staff member's; revoked, or with scope calls
#    only, it is no one (unknown_actor, nothing written);
#  - kefu_call_event: ringing, answered, hangup -> ended, with the staff
#    member of the extension and the owner of the number; ringing, hangup
#    -> missed, listed for a callback until kefu_call_callback_done; the
#    same event twice writes one event; out of order (hangup, then the
#    answer) stays missed; an unknown extension has no staff; a token
#    without scope calls, or revoked, is refused and its use logged;
#  - every call event in the outbox with its body; kefu-admin calls;
#  - the org import's staff extensions (the demo agents', duplicates).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init tokens
client=$KEFU_BUILD_DIR/tests/integration/kefu-test-auth-session
[[ -x $client ]] || it_fail "$client is not built"
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"

it_pg_start
it_start bus
it_start intake
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
q() { it_psql "$1"; }
writes() { q "SELECT (SELECT count(*) FROM ticket) || '/' || (SELECT count(*) FROM event)"; }
expect_rc() { # expect_rc RC PATTERN WHAT command...
    local want=$1 pattern=$2 what=$3 rc=0 out
    shift 3
    out=$("$@" 2>&1) || rc=$?
    [[ $rc == "$want" && $out == $pattern ]] || it_fail "$what: exit $rc: $out"
}

# ---- the demo agents' extensions (org import) ------------------------------------
[[ $(q "SELECT string_agg(id || '=' || extension, ',' ORDER BY id) FROM staff WHERE extension IS NOT NULL") == \
    "agent.chen=8002,agent.li=8001" ]] || it_fail "the demo agents' extensions: $(q "SELECT id, extension FROM staff WHERE extension IS NOT NULL")"
jq '.approval_policies = [] | (.staff[] | select(.id == "agent.chen") | .extension) = "8001"' \
    "$KEFU_SOURCE_DIR/deploy/demo-org.json" >"$IT_DIR/org-dup.json"
expect_rc 1 "*extension 8001 is listed already at*" "an org file with an extension twice" \
    kefu-admin import "$IT_DIR/org-dup.json"
# Two agents swap extensions in one import (the uniqueness is checked at the
# statement's end).
jq '.approval_policies = [] | (.staff[] | select(.id == "agent.chen") | .extension) = "8001"
    | (.staff[] | select(.id == "agent.li") | .extension) = "8002"' \
    "$KEFU_SOURCE_DIR/deploy/demo-org.json" >"$IT_DIR/org-swap.json"
kefu-admin import "$IT_DIR/org-swap.json" >"$IT_DIR/import.txt" 2>&1 || it_fail "swapping extensions: $(cat "$IT_DIR/import.txt")"
[[ $(q "SELECT extension FROM staff WHERE id = 'agent.li'") == 8002 ]] || it_fail "the swap did not apply"
jq '.approval_policies = []' "$KEFU_SOURCE_DIR/deploy/demo-org.json" >"$IT_DIR/org.json"
kefu-admin import "$IT_DIR/org.json" >"$IT_DIR/import.txt" 2>&1 || it_fail "the demo org again: $(cat "$IT_DIR/import.txt")"
[[ $(q "SELECT extension FROM staff WHERE id = 'agent.li'") == 8001 ]] || it_fail "the swap back did not apply"
# A staff member the file does not list keeps theirs: the file cannot give it away.
q "INSERT INTO staff (id, name, department_id, role, extension) VALUES ('temp.gu', '顾', 'cs', 'agent', '8003')" >/dev/null
jq '.approval_policies = [] | (.staff[] | select(.id == "agent.chen") | .extension) = "8003"' \
    "$KEFU_SOURCE_DIR/deploy/demo-org.json" >"$IT_DIR/org-kept.json"
expect_rc 1 "*extension 8003 is temp.gu's in the store, who is not in this file*" \
    "an org file giving away a kept extension" kefu-admin import "$IT_DIR/org-kept.json"
[[ $(q "SELECT extension FROM staff WHERE id = 'agent.chen'") == 8002 ]] || it_fail "a refused import changed an extension"
it_note "staff extensions: loaded, duplicates refused with their place, a swap applied"

# ---- kefu-admin token ----------------------------------------------------------
kefu-admin --json token create pbx --scope calls >"$IT_DIR/pbx.json" 2>"$IT_DIR/pbx.err" ||
    it_fail "token create pbx: $(cat "$IT_DIR/pbx.json" "$IT_DIR/pbx.err")"
PBX=$(jq -r .token "$IT_DIR/pbx.json")
[[ $PBX =~ ^kit_[A-Za-z0-9_-]{43}$ ]] || it_fail "a token of the wrong shape: $PBX"
[[ $(jq -c .scopes "$IT_DIR/pbx.json") == '["calls"]' && $(jq -r .acts_as "$IT_DIR/pbx.json") == null ]] ||
    it_fail "token create --json: $(cat "$IT_DIR/pbx.json")"
kefu-admin token create wechat --scope submit --as agent.chen >"$IT_DIR/wechat.txt" 2>"$IT_DIR/wechat.err" ||
    it_fail "token create wechat: $(cat "$IT_DIR/wechat.txt" "$IT_DIR/wechat.err")"
WECHAT=$(sed -n 2p "$IT_DIR/wechat.txt")
[[ $WECHAT =~ ^kit_[A-Za-z0-9_-]{43}$ && $(head -1 "$IT_DIR/wechat.txt") == "token wechat (scopes submit; acts as agent.chen):" ]] ||
    it_fail "token create wechat printed: $(cat "$IT_DIR/wechat.txt")"
grep -q "cannot be shown again" "$IT_DIR/wechat.err" || it_fail "token create gives no warning: $(cat "$IT_DIR/wechat.err")"
BOTH=$(kefu-admin --json token create both --scope calls,submit --as agent.li 2>/dev/null | jq -r .token)
OTHER=$(kefu-admin --json token create other --scope calls --scope submit --as agent.li 2>/dev/null | jq -r .scopes[])
[[ $OTHER == $'calls\nsubmit' ]] || it_fail "--scope twice: $OTHER"
for t in "$PBX" "$WECHAT" "$BOTH"; do
    [[ $(q "SELECT count(*) FROM integration_token t WHERE strpos(t::text, '$t') > 0") == 0 ]] ||
        it_fail "the store holds a token in clear"
    [[ $(q "SELECT count(*) FROM integration_token WHERE token_hash = sha256('$t'::bytea)") == 1 ]] ||
        it_fail "the store does not hold the token's SHA-256"
done
expect_rc 1 "*a token named 'pbx' exists already*" "a second token pbx" kefu-admin token create pbx --scope calls
expect_rc 2 "*is not a token name*" "a bad token name" kefu-admin token create Pbx --scope calls
expect_rc 2 "*'admin' is not a scope*" "a bad scope" kefu-admin token create x --scope admin
expect_rc 2 "*needs --as STAFF*" "submit without --as" kefu-admin token create x --scope submit
expect_rc 2 "*--as is for a token with scope submit*" "calls with --as" kefu-admin token create x --scope calls --as agent.li
expect_rc 2 "*give --scope*" "no scope" kefu-admin token create x
expect_rc 1 "*no staff member 'nobody'*" "--as nobody" kefu-admin token create x --scope submit --as nobody
[[ $(q "SELECT count(*) FROM integration_token") == 4 ]] || it_fail "a refused token create stored a token"
it_note "kefu-admin token create: shown once, stored as its SHA-256 only, bad input refused"

# ---- a submit token through a gateway key ---------------------------------------------
GW=$IT_DIR/certs/gateway.cert
kefu-admin cert --gateway web-1 --out "$GW" >/dev/null || it_fail "cert --gateway failed"
coproc CLIENT { KEFU_CERT=$GW exec "$client" "$KEFU_INTAKE" 2>>"$IT_DIR/log/client.log"; }
echo "$CLIENT_PID" >>"$IT_DIR/.daemons"
say() {
    local line
    for line in "$@"; do
        echo "$line" >&"${CLIENT[1]}"
        [[ $line == session\ * ]] && continue
        read -r -t 15 GOT <&"${CLIENT[0]}" || it_fail "auth_session did not answer '$line': $(cat "$IT_DIR/log/client.log")"
    done
}
say "session $WECHAT" "submit gm.hz"
[[ $GOT =~ ^ok\ (KF-[0-9]{4}-[0-9]{6})$ ]] || it_fail "a submit with the wechat token: $GOT"
no=${BASH_REMATCH[1]}
[[ $(q "SELECT created_by FROM ticket WHERE no = '$no'") == agent.chen ]] ||
    it_fail "$no was created by $(q "SELECT created_by FROM ticket WHERE no = '$no'"), not agent.chen (acts_as)"
say "session $BOTH" "submit"
[[ $GOT == ok\ KF-* ]] || it_fail "a submit with a calls+submit token: $GOT"
before=$(writes)
say "session $PBX" "submit"
[[ $GOT == "unknown_actor "* ]] || it_fail "a submit with a calls-only token: $GOT"
say "session kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "submit"
[[ $GOT == "unknown_actor "* ]] || it_fail "a submit with an unknown token: $GOT"
[[ $(writes) == "$before" ]] || it_fail "a refused token wrote: $before -> $(writes)"
# The gateway logs a submit's use (kefu_token_use): true for a token, false otherwise.
[[ $(q "SELECT kefu_token_use('$WECHAT', 'submit', '198.51.100.4', 'ok')") == t ]] || it_fail "kefu_token_use"
[[ $(q "SELECT kefu_token_use('kit_nothing', 'submit', '198.51.100.4', 'ok')") == f ]] ||
    it_fail "kefu_token_use of no token logged"
it_note "a submit token makes $no as agent.chen; a calls-only or unknown token is no one"

# ---- CTI call events ----------------------------------------------------------------
q "INSERT INTO homeowner (phone, name) VALUES ('13900139000', '王先生') ON CONFLICT DO NOTHING" >/dev/null
owner=$(q "SELECT id FROM homeowner WHERE phone = '13900139000'")
ev0=$(q "SELECT coalesce(max(seq), 0) FROM event")
# call TOKEN CALL EVENT [EXTENSION] [CALLER]: the answer as "status|changed|state|staff|owner".
call() {
    local ext=${4:+"'$4'"}
    q "SELECT status || '|' || changed || '|' || coalesce(state, '') || '|' || coalesce(staff_id, '')
              || '|' || coalesce(owner_id::text, '') || '|' || coalesce(owner_name, '')
         FROM kefu_call_event('$1', '$2', '$3', '${5:-+86 139 0013 9000}', '${5:-13900139000}',
                              ${ext:-NULL}, now(), '203.0.113.5')"
}
expect_call() { local got; got=$(call "${@:3}") || it_fail "$2: kefu_call_event failed"; [[ $got == $1 ]] || it_fail "$2: got '$got', expected '$1'"; }
expect_call "ok|true|ringing|agent.li|$owner|王先生" "ringing at 8001" "$PBX" c-1 ringing 8001
expect_call "ok|false|ringing|agent.li|$owner|王先生" "ringing again" "$PBX" c-1 ringing 8001
expect_call "ok|true|answered|agent.li|$owner|王先生" "answered" "$PBX" c-1 answered 8001
expect_call "ok|false|answered|agent.li|$owner|王先生" "answered again" "$PBX" c-1 answered 8001
expect_call "ok|true|ended|agent.li|$owner|王先生" "hangup" "$PBX" c-1 hangup 8001
expect_call "ok|false|ended|agent.li|$owner|王先生" "hangup again" "$PBX" c-1 hangup 8001
[[ $(q "SELECT answered_at >= ringing_at AND ended_at >= answered_at FROM call_log WHERE call_id = 'c-1'") == t ]] ||
    it_fail "the times of call c-1"
# Missed: ringing, hangup; then a late answer changes nothing.
expect_call "ok|true|ringing|agent.chen||" "ringing at 8002 from an unknown number" "$PBX" c-2 ringing 8002 13700137000
expect_call "ok|true|missed|agent.chen||" "hangup unanswered" "$PBX" c-2 hangup 8002 13700137000
expect_call "ok|false|missed|agent.chen||" "answered after the hangup" "$PBX" c-2 answered 8002 13700137000
# Out of order: the hangup arrives first (missed), the ringing later changes nothing.
expect_call "ok|true|missed|||" "a hangup first, unknown extension" "$BOTH" c-3 hangup 8999 13700137001
expect_call "ok|false|missed|||" "its ringing after" "$BOTH" c-3 ringing 8999 13700137001
# An answer without a ringing: answered at once; a ring group's other phone takes it.
expect_call "ok|true|ringing|agent.li||" "c-4 rings at 8001" "$PBX" c-4 ringing 8001 13700137002
expect_call "ok|true|answered|agent.chen||" "c-4 taken at 8002" "$PBX" c-4 answered 8002 13700137002
# Refused tokens: nothing applied, the use logged.
expect_call "forbidden|false||||" "a submit-only token" "$WECHAT" c-5 ringing 8001
expect_call "unknown_actor|false||||" "no token" "kit_nothing" c-5 ringing 8001
[[ $(q "SELECT count(*) FROM call_log WHERE call_id = 'c-5'") == 0 ]] || it_fail "a refused token made a call"
rc=0
q "SELECT * FROM kefu_call_event('$PBX', 'c-6', 'transfer', '1', NULL, NULL, now(), '')" >/dev/null 2>"$IT_DIR/bad.err" || rc=$?
[[ $rc != 0 ]] && grep -q "event must be ringing, answered or hangup" "$IT_DIR/bad.err" || it_fail "an unknown event: $(cat "$IT_DIR/bad.err")"
psql -X -q -At -v VERBOSITY=verbose -d "$KEFU_DATABASE_URL" \
    -c "SELECT * FROM kefu_call_event('$PBX', 'c-6', 'ringing', '1', NULL, '8a', now(), '')" >/dev/null 2>"$IT_DIR/bad.err" &&
    it_fail "a bad extension was taken"
grep -q "22023: an extension is 2 to 16 digits" "$IT_DIR/bad.err" || it_fail "a bad extension: $(cat "$IT_DIR/bad.err")"
it_note "call events: ended, missed, repeats and late events change nothing, refused tokens apply nothing"

# Every change once in the outbox, with its body.
events=$(q "SELECT string_agg(type || ' ' || (body->>'call'), ',' ORDER BY seq) FROM event WHERE seq > $ev0")
[[ $events == "call.ringing c-1,call.answered c-1,call.ended c-1,call.ringing c-2,call.missed c-2,call.missed c-3,call.ringing c-4,call.answered c-4" ]] ||
    it_fail "the call events: $events"
body=$(q "SELECT body FROM event WHERE seq > $ev0 AND type = 'call.answered' AND body->>'call' = 'c-1'")
[[ $(jq -c 'del(.at)' <<<"$body") == "{\"call\":\"c-1\",\"owner\":$owner,\"staff\":\"agent.li\",\"caller\":\"13900139000\",\"extension\":\"8001\"}" ]] ||
    it_fail "the body of call.answered: $body"
[[ $(jq '.at | type' <<<"$body") == '"number"' ]] || it_fail "call.answered has no time: $body"
body=$(q "SELECT body FROM event WHERE seq > $ev0 AND type = 'call.missed' AND body->>'call' = 'c-3'")
[[ $(jq -c 'del(.at)' <<<"$body") == '{"call":"c-3","owner":null,"staff":null,"caller":"13700137001","extension":"8999"}' ]] ||
    it_fail "the body of call.missed: $body"
[[ $(q "SELECT count(*) FROM event WHERE seq > $ev0 AND (corr <> '' OR src <> 'kefu-gateway')") == 0 ]] ||
    it_fail "a call event with a corr or another src"
it_note "the outbox has each call event once, with its body"

# Uses: each call event's, the refused ones too; kefu-admin token list and uses.
[[ $(q "SELECT string_agg(outcome, ',' ORDER BY u.id) FROM integration_token_use u JOIN integration_token t
        ON t.id = u.token_id WHERE t.name = 'wechat'") == "ok,forbidden" ]] ||
    it_fail "the wechat token's uses: $(q "SELECT * FROM integration_token_use")"
[[ $(q "SELECT count(*) FROM integration_token_use u JOIN integration_token t ON t.id = u.token_id
        WHERE t.name = 'pbx' AND u.scope = 'calls' AND u.outcome = 'ok' AND u.address = '203.0.113.5'") == 11 ]] ||
    it_fail "the pbx token's uses: $(q "SELECT count(*) FROM integration_token_use")"
kefu-admin token list >"$IT_DIR/list.txt"
grep -Eq "^pbx +calls +- .* 11 +-" "$IT_DIR/list.txt" && grep -Eq "^wechat +submit +agent.chen .* 2 " "$IT_DIR/list.txt" ||
    it_fail "kefu-admin token list: $(cat "$IT_DIR/list.txt")"
[[ $(kefu-admin --json token list | jq -c '[.[] | select(.name == "pbx") | .uses_24h, .scopes]') == '[11,["calls"]]' ]] ||
    it_fail "kefu-admin --json token list: $(kefu-admin --json token list)"
[[ $(kefu-admin --json token uses pbx --limit 3 | jq -r 'map(.outcome + "@" + .address) | join(",")') == \
    "ok@203.0.113.5,ok@203.0.113.5,ok@203.0.113.5" ]] || it_fail "kefu-admin token uses: $(kefu-admin --json token uses pbx --limit 3)"
expect_rc 1 "*no token named 'nope'*" "token uses of nothing" kefu-admin token uses nope
it_note "every use is logged; kefu-admin token list counts them, uses lists them"

# ---- revoke ----------------------------------------------------------------------
[[ $(kefu-admin token revoke wechat) == "token wechat revoked" ]] || it_fail "token revoke"
expect_rc 1 "*no unrevoked token named 'wechat'*" "revoking twice" kefu-admin token revoke wechat
before=$(writes)
say "session $WECHAT" "submit"
[[ $GOT == "unknown_actor "* ]] || it_fail "a submit with a revoked token, on the open connection: $GOT"
[[ $(writes) == "$before" ]] || it_fail "a revoked token wrote"
kefu-admin token revoke pbx >/dev/null
expect_call "unknown_actor|false||||" "a revoked calls token" "$PBX" c-7 ringing 8001
[[ $(q "SELECT outcome FROM integration_token_use u JOIN integration_token t ON t.id = u.token_id
        WHERE t.name = 'pbx' ORDER BY u.id DESC LIMIT 1") == unknown_actor ]] || it_fail "a revoked token's use is not logged"
kefu-admin token list | grep -q "^pbx" && it_fail "token list shows a revoked token without --all"
kefu-admin token list --all | grep -Eq "^pbx .* by " || it_fail "token list --all: $(kefu-admin token list --all)"
it_note "a revoked token is refused at its next use"

# ---- the caller log ------------------------------------------------------------------
[[ $(q "SELECT string_agg(call_id, ',') FROM kefu_calls_list(NULL, 'missed', 10, NULL, NULL)") == "c-3,c-2" ]] ||
    it_fail "missed calls needing a callback: $(q "SELECT call_id FROM kefu_calls_list(NULL, 'missed', 10, NULL, NULL)")"
[[ $(q "SELECT string_agg(call_id, ',') FROM kefu_calls_list('agent.li', NULL, 10, NULL, NULL)") == "c-1" ]] ||
    it_fail "agent.li's calls"
page=$(q "SELECT ringing_us || ' ' || id FROM kefu_calls_list(NULL, NULL, 2, NULL, NULL) OFFSET 1")
[[ $(q "SELECT string_agg(call_id, ',') FROM kefu_calls_list(NULL, NULL, 10, ${page% *}, ${page#* })") == "c-2,c-1" ]] ||
    it_fail "the second page of the caller log"
kefu-admin calls --missed >"$IT_DIR/calls.txt"
grep -q "c-2 .*13700137000 .*8002 .*agent.chen" "$IT_DIR/calls.txt" && ! grep -q "c-1" "$IT_DIR/calls.txt" ||
    it_fail "kefu-admin calls --missed: $(cat "$IT_DIR/calls.txt")"
[[ $(q "SELECT kefu_call_callback_done('c-2', 'agent.chen')") == ok ]] || it_fail "callback done"
[[ $(q "SELECT kefu_call_callback_done('c-2', 'agent.li')") == already ]] || it_fail "callback done twice"
[[ $(q "SELECT kefu_call_callback_done('c-1', 'agent.li')") == not_missed ]] || it_fail "callback of an answered call"
[[ $(q "SELECT kefu_call_callback_done('c-99', 'agent.li')") == unknown ]] || it_fail "callback of no call"
[[ $(kefu-admin --json calls --missed | jq -r 'map(.call_id) | join(",")') == c-3 ]] ||
    it_fail "kefu-admin --json calls --missed after the callback: $(kefu-admin --json calls --missed)"
kefu-admin calls --limit 10 | grep -q "c-2 .*missed, called back .* by agent.chen" ||
    it_fail "kefu-admin calls: $(kefu-admin calls --limit 10)"
it_note "the caller log: missed calls listed until called back"

eval "exec ${CLIENT[1]}>&-"
it_note "OK"
