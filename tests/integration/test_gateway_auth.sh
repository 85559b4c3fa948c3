#!/usr/bin/env bash
# Web sessions at the daemons (common/auth.h, migration 018, proto/security.md),
# with a gateway's certificate and a wire client (gateway_session.c) in place
# of kefu-gateway, against real daemons and a real store:
#  - a gateway's key alone is no one: unknown_actor, nothing written;
#  - with an open session the ticket is the session's staff member's,
#    whatever the body says;
#  - the same session over a staff member's own certificate is no one;
#  - an ended (sign-out, kefu-admin sessions --revoke), expired, inactive or
#    must-change session is no one at its next request, on the same
#    connection; making staff inactive ends their sessions (reason inactive);
#  - through kefu-approval: a session decides only its own staff member's step;
#  - a session of the wrong shape is refused with the field session, also
#    while the store is down (no store access);
#  - a revoked gateway key is refused at once, also on the open connection;
#  - kefu-admin cert --gateway, passwd (stdin, --temporary, refusals) and
#    sessions (list, --all, --revoke).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init gateway_auth
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL=$KEFU_APPROVAL_BIND
client=$KEFU_BUILD_DIR/tests/integration/kefu-test-gateway-session
[[ -x $client ]] || it_fail "$client is not built"
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"

it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
it_start bus
it_start intake
it_start approval
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
it_wait_for "kefu-approval to answer" 30 approval_answers
CERTS=$IT_DIR/certs
q() { it_psql "$1"; }
writes() { q "SELECT (SELECT count(*) FROM ticket) || '/' || (SELECT count(*) FROM event)"; }

# ---- kefu-admin cert --gateway -----------------------------------------------------
GW=$CERTS/gateway.cert
kefu-admin --json cert --gateway web-1 --out "$GW" >"$IT_DIR/gw.json" || it_fail "cert --gateway failed"
gw_key=$(jq -r .public_key "$IT_DIR/gw.json")
[[ $(jq -r .gateway "$IT_DIR/gw.json") == web-1 ]] || it_fail "cert --gateway: $(cat "$IT_DIR/gw.json")"
[[ $(stat -c %a "$GW") == 600 ]] || it_fail "the gateway certificate is not mode 0600"
[[ $(q "SELECT name FROM gateway_key WHERE public_key = '$gw_key' AND revoked_at IS NULL") == web-1 ]] ||
    it_fail "the gateway key is not registered"
grep -q 'gateway = "web-1"' "$GW" && grep -q 'server-key = ' "$GW" ||
    it_fail "the gateway certificate lacks its metadata: $(grep -v secret "$GW")"
sum=$(sha256sum <"$GW")
rc=0
out=$(kefu-admin cert --gateway web-1 --out "$GW" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"exists; give --force"* && $(sha256sum <"$GW") == "$sum" ]] ||
    it_fail "cert --gateway over an existing file: exit $rc: $out"
[[ $(q "SELECT count(*) FROM gateway_key") == 1 ]] || it_fail "a refused cert --gateway registered a key"
rc=0
out=$(kefu-admin cert --gateway Web_1 --out "$CERTS/bad.cert" 2>&1) || rc=$?
[[ $rc == 2 && ! -e $CERTS/bad.cert ]] || it_fail "cert --gateway with a bad name: exit $rc: $out"
rc=0
out=$(kefu-admin cert agent.li --gateway web-1 --out "$CERTS/both.cert" 2>&1) || rc=$?
[[ $rc == 2 ]] || it_fail "cert STAFF --gateway: exit $rc: $out"

# ---- one open connection (gateway_session.c) ----------------------------------------
# session_start ENDPOINT CERT; session_say LINE... (answer of the last in GOT).
session_start() {
    coproc CLIENT { KEFU_CERT=$2 exec "$client" "$1" 2>>"$IT_DIR/log/client.log"; }
    echo "$CLIENT_PID" >>"$IT_DIR/.daemons"
}
session_say() {
    local line
    for line in "$@"; do
        echo "$line" >&"${CLIENT[1]}"
        [[ $line == session\ * || $line == bad\ * ]] && continue
        read -r -t 15 GOT <&"${CLIENT[0]}" ||
            it_fail "gateway_session did not answer '$line': $(cat "$IT_DIR/log/client.log")"
    done
}
session_end() {
    local pid=$CLIENT_PID
    eval "exec ${CLIENT[1]}>&-"
    wait "$pid" || it_fail "gateway_session exited $?: $(cat "$IT_DIR/log/client.log")"
}
expect_got() { [[ $GOT == $1 ]] || it_fail "$2: got '$GOT', expected '$1'"; } # $1: a pattern
# open STAFF TOKEN [IDLE_S]: a session as the gateway opens it after a sign-in.
open() {
    q "SELECT session_id FROM kefu_session_open('$1', '$2', ${3:-3600}, 86400, '192.0.2.7', 'test agent')"
}
TOK_LI=li_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
TOK_END=end_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB
TOK_REV=rev_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC
TOK_IDLE=idle_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD
TOK_ZHAO=zhao_EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE
TOK_CHEN=chen_FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
li_session=$(open agent.li "$TOK_LI")
[[ $li_session =~ ^[0-9]+$ ]] || it_fail "kefu_session_open: '$li_session'"
[[ $(q "SELECT encode(token_hash, 'hex') = encode(sha256('$TOK_LI'::bytea), 'hex') FROM web_session
        WHERE id = $li_session") == t ]] || it_fail "the store does not keep the token's SHA-256"

session_start "$KEFU_INTAKE" "$GW"
# A stolen gateway key alone cannot act as anyone.
before=$(writes)
session_say list
expect_got "unknown_actor cert" "ticket.list over the gateway key without a session"
session_say "submit agent.li"
expect_got "unknown_actor cert" "a submit over the gateway key without a session"
[[ $(writes) == "$before" ]] || it_fail "the gateway key alone wrote: $before -> $(writes)"
it_note "the gateway key without a session: unknown_actor, nothing written"

# With agent.li's session, the ticket is agent.li's whatever the body says.
session_say "session $TOK_LI" "submit gm.hz"
[[ $GOT =~ ^ok\ (KF-[0-9]{4}-[0-9]{6})$ ]] || it_fail "a submit in agent.li's session: $GOT"
no=${BASH_REMATCH[1]}
[[ $(q "SELECT created_by FROM ticket WHERE no = '$no'") == agent.li ]] ||
    it_fail "$no was created by $(q "SELECT created_by FROM ticket WHERE no = '$no'"), not agent.li"
session_say list
expect_got ok "ticket.list in agent.li's session"
it_note "agent.li's session made $no in agent.li's name (the body said gm.hz)"

# Sessions of the wrong shape: refused with field session.
session_say "bad long" list
[[ $GOT == *" session" && $GOT != unknown_actor* ]] || it_fail "a 65-character session: $GOT"
it_note "a 65-character session: $GOT"
session_say "bad chars" list
expect_got "bad_value session" "a session with '+/='"
session_say "bad int" list
expect_got "wrong_type session" "a session that is not a string"
session_say "session short_token" list
expect_got "bad_value session" "a 11-character session"
session_say "session $TOK_LI" list
expect_got ok "agent.li's session after the bad ones"

# Sign-out (kefu_session_end) and kefu-admin sessions --revoke: at once.
open agent.li "$TOK_END" >/dev/null
rev_session=$(open agent.li "$TOK_REV")
session_say "session $TOK_END" list
expect_got ok "a second session of agent.li"
[[ $(q "SELECT kefu_session_end('$TOK_END')") == 1 ]] || it_fail "kefu_session_end ended nothing"
session_say list
expect_got "unknown_actor cert" "a session after its sign-out"
session_say "session $TOK_REV" list
expect_got ok "a third session of agent.li"
kefu-admin sessions agent.li >"$IT_DIR/sessions.txt" || it_fail "kefu-admin sessions failed"
grep -q "^$rev_session .*192.0.2.7 .*open" "$IT_DIR/sessions.txt" ||
    it_fail "kefu-admin sessions does not list session $rev_session: $(cat "$IT_DIR/sessions.txt")"
grep -q "signout" "$IT_DIR/sessions.txt" && it_fail "kefu-admin sessions lists an ended session without --all"
[[ $(kefu-admin sessions agent.li --revoke "$rev_session") == "1 web session(s) of agent.li ended" ]] ||
    it_fail "kefu-admin sessions --revoke ID"
session_say list
expect_got "unknown_actor cert" "a session after kefu-admin sessions --revoke"
kefu-admin sessions agent.li --all >"$IT_DIR/sessions.txt"
grep -q "^$rev_session .*ended: revoked by " "$IT_DIR/sessions.txt" && grep -q "ended: signout by self" "$IT_DIR/sessions.txt" ||
    it_fail "kefu-admin sessions --all: $(cat "$IT_DIR/sessions.txt")"
[[ $(kefu-admin --json sessions agent.li | jq -r 'map(.id) | join(",")') == "$li_session" ]] ||
    it_fail "kefu-admin --json sessions: $(kefu-admin --json sessions agent.li)"
rc=0
kefu-admin sessions agent.li --revoke "$rev_session" >/dev/null 2>&1 || rc=$?
[[ $rc == 1 ]] || it_fail "revoking an ended session again: exit $rc"
rc=0
out=$(kefu-admin sessions nobody.here 2>&1) || rc=$?
[[ $rc == 1 && $out == *"no staff member 'nobody.here'"* ]] || it_fail "sessions of nobody: exit $rc: $out"
it_note "sign-out and kefu-admin sessions --revoke end a session at its next request"

# An idle session expires (1 s idle, 2 s later).
open agent.li "$TOK_IDLE" 1 >/dev/null
sleep 2
session_say "session $TOK_IDLE" list
expect_got "unknown_actor cert" "a session idle past its timeout"

# A staff member made inactive (as the org import does): no one, sessions ended.
zhao_session=$(open eng.zhao "$TOK_ZHAO")
session_say "session $TOK_ZHAO" list
expect_got ok "eng.zhao's session"
q "UPDATE staff SET active = false WHERE id = 'eng.zhao'" >/dev/null
session_say list
expect_got "unknown_actor cert" "the session of a staff member made inactive"
[[ $(q "SELECT end_reason FROM web_session WHERE id = $zhao_session") == inactive ]] ||
    it_fail "making eng.zhao inactive did not end the session with reason inactive"

# A password that must be changed: no one until the gateway changes it.
kefu-admin --json passwd agent.chen --temporary >"$IT_DIR/temp.json" || it_fail "passwd --temporary failed"
temp=$(jq -r .password "$IT_DIR/temp.json")
[[ $temp =~ ^[A-HJ-NP-Za-km-z2-9]{12}$ && $(jq -r .must_change "$IT_DIR/temp.json") == true ]] ||
    it_fail "passwd --temporary: $(cat "$IT_DIR/temp.json")"
[[ $(q "SELECT password_must_change FROM staff WHERE id = 'agent.chen'") == t ]] ||
    it_fail "passwd --temporary did not set must_change"
chen_session=$(open agent.chen "$TOK_CHEN")
session_say "session $TOK_CHEN" list
expect_got "unknown_actor cert" "a session whose password must change"
# The gateway's change of password keeps the session that changed it.
q "SELECT kefu_password_set('agent.chen', 'not-a-real-hash', false, $chen_session, 'self')" >/dev/null
session_say list
expect_got ok "the session once its password was changed"
it_note "expired, inactive and must-change sessions are no one"

# The same session over a staff member's own certificate key is no one.
session_end
session_start "$KEFU_INTAKE" "$(it_cert agent.li)"
session_say "session $TOK_LI" list
expect_got "unknown_actor cert" "agent.li's session over agent.li's own certificate"
session_say "session -" list
expect_got ok "agent.li's own certificate without a session"
session_end
it_note "a session over a staff certificate: unknown_actor"

# ---- through kefu-approval ----------------------------------------------------------
T=$(it_as agent.li kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone 13900001201 --summary '网关审批测试')
R=$(it_as agent.li kefu approval request "$T" --type refund --amount 10 --reason gateway \
    --promised "$(date -d '+2 days' +%F)")
[[ $R =~ ^[0-9]+$ ]] || it_fail "approval request: '$R'"
TOK_SUN=sun_GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG
open eng.sun "$TOK_SUN" >/dev/null
session_start "$KEFU_APPROVAL" "$GW"
session_say "session $TOK_LI" "decide $R"
[[ $GOT == forbidden* ]] || it_fail "agent.li's session deciding eng.sun's step: $GOT"
[[ $(q "SELECT count(*) FROM approval_step WHERE request_id = $R AND decided_by IS NOT NULL") == 0 ]] ||
    it_fail "agent.li's session decided a step"
session_say "session -" "decide $R"
expect_got "unknown_actor*" "approval.decide over the gateway key without a session"
session_say "session $TOK_SUN" "decide $R"
expect_got ok "eng.sun's session deciding eng.sun's step"
[[ $(q "SELECT decided_by FROM approval_step WHERE request_id = $R AND decided_by IS NOT NULL") == eng.sun ]] ||
    it_fail "the step was not decided by eng.sun"
it_note "kefu-approval: only the session's own step can be decided"

# ---- a revoked gateway key: at once, also on the open connection ----------------------
session_say "session $TOK_SUN" "decide 999999"
[[ $GOT != unknown_actor* ]] || it_fail "eng.sun's session before the revocation: $GOT"
kefu-admin revoke --gateway web-1 >"$IT_DIR/revoke.txt" || it_fail "revoke --gateway failed"
grep -qF "revoked $gw_key (gateway web-1)" "$IT_DIR/revoke.txt" || it_fail "revoke --gateway: $(cat "$IT_DIR/revoke.txt")"
session_say "decide 999999"
expect_got "unknown_actor*" "a session over a revoked gateway key, on the open connection"
session_end
rc=0
kefu --cert "$GW" --timeout 20000 --json tickets >"$IT_DIR/out" 2>"$IT_DIR/err" || rc=$?
[[ $rc == 1 && $(jq -r .error.code "$IT_DIR/out") == unknown_actor ]] ||
    it_fail "a new connection with the revoked gateway key: exit $rc: $(cat "$IT_DIR/out" "$IT_DIR/err")"
rc=0
out=$(kefu-admin revoke --gateway web-1 2>&1) || rc=$?
[[ $rc == 1 && $out == *"no unrevoked key of gateway web-1"* ]] || it_fail "revoke --gateway twice: exit $rc: $out"
# ... and by file, a second gateway's key.
kefu-admin cert --gateway web-2 --out "$CERTS/gw2.cert" >/dev/null
kefu-admin revoke "$CERTS/gw2.cert" | grep -q "(gateway web-2)" || it_fail "revoke FILE of a gateway"
[[ $(q "SELECT count(*) FROM gateway_key WHERE revoked_at IS NULL") == 0 ]] || it_fail "a gateway key is left unrevoked"
it_note "a revoked gateway key is refused at once"

# ---- kefu-admin passwd ----------------------------------------------------------------
pass() { q "SELECT coalesce(password_hash, '-') || ' ' || password_must_change FROM staff WHERE id = '$1'"; }
open cs.wang wang_HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH >/dev/null
out=$(printf '%s\n' 'correct horse 电池' | kefu-admin passwd cs.wang --stdin) || it_fail "passwd --stdin failed"
[[ $out == "password set for cs.wang; 1 web session(s) ended" ]] || it_fail "passwd --stdin said: $out"
[[ $(pass cs.wang) == '$argon2id$v=19$m=65536,t=2,p=1$'*' false' ]] || it_fail "cs.wang's hash: $(pass cs.wang)"
[[ $(q "SELECT end_reason FROM web_session WHERE staff_id = 'cs.wang'") == password ]] ||
    it_fail "setting the password did not end cs.wang's session"
# Not a terminal: the first line of stdin without --stdin too.
printf '%s\n' 'another good one' | kefu-admin passwd cs.wang >/dev/null || it_fail "passwd from a pipe failed"
before=$(pass cs.wang)
refused() { # refused WHAT STAFF PASSWORD WORDING
    local rc=0 out
    out=$(printf '%s\n' "$3" | kefu-admin passwd "$2" --stdin 2>&1) || rc=$?
    [[ $rc == 1 && $out == *"$4"* ]] || it_fail "passwd, $1: exit $rc: $out"
}
refused "too short" cs.wang '短密码123456' "shorter than 10 characters" # 9 characters, 15 bytes
refused "over 128 bytes" cs.wang "$(printf 'x%.0s' {1..129})" "longer than 128 bytes"
refused "not UTF-8" cs.wang $'0123456789\xff' "not valid UTF-8"
refused "no password" cs.wang '' "shorter than 10"
[[ $(pass cs.wang) == "$before" ]] || it_fail "a refused password changed the hash"
refused "equal to the staff id" prop.huang 'prop.huang' "must not be the staff id"
refused "unknown staff" nobody.here 'a fine password' "no staff member 'nobody.here'"
refused "inactive staff" eng.zhao 'a fine password' "eng.zhao is not active staff"
rc=0
out=$(printf '%s\n' 'correct horse' | kefu-admin passwd cs.wang --stdin --temporary 2>&1) || rc=$?
[[ $rc == 2 ]] || it_fail "passwd --stdin --temporary: exit $rc: $out"
it_note "kefu-admin passwd: stdin, --temporary, and its refusals"

# ---- a session of the wrong shape needs no store ----------------------------------------
session_start "$KEFU_INTAKE" "$(it_cert agent.li)"
session_say list
expect_got ok "agent.li's certificate before the store stops"
it_pg_stop
session_say "bad chars" list
expect_got "bad_value session" "a bad session while the store is down"
it_pg_start
session_end

it_running intake || it_fail "intake died"
it_running approval || it_fail "kefu-approval died"
it_note "every gateway session check passed"
