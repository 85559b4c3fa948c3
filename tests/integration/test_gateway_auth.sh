#!/usr/bin/env bash
# Web sessions at the daemons (common/auth.h, migration 018, proto/security.md),
# with a gateway's certificate and a wire client (auth_session.c) in place
# of kefu-gateway, against real daemons and a real store:
#  - a gateway's key alone is no one: unknown_actor, nothing written;
#  - with an open session the ticket is the session's staff member's,
#    whatever the body says;
#  - the same session over a staff member's own certificate is no one;
#  - an ended (sign-out, kefu-admin sessions --revoke), expired, inactive or
#    must-change session is no one at its next request, on the same
#    connection; making staff inactive (kefu-admin import, absent_staff
#    "deactivate") ends their sessions (reason inactive);
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
approval_bind
client=$KEFU_BUILD_DIR/tests/integration/kefu-test-auth-session
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

# Every character of Z85 is allowed in gateway_key.public_key.
z85_odd='.-:+=^!/*?&<>()[]{}@%$#0123456789abcdefg'
q "INSERT INTO gateway_key (public_key, name) VALUES ('$z85_odd', 'z85-check')" >/dev/null ||
    it_fail "gateway_key refuses a key of Z85's punctuation"
q "DELETE FROM gateway_key WHERE name = 'z85-check'" >/dev/null

# Sign-in throttling (kefu_signin_begin): the wait after failures, and none
# once it has passed (never a negative wait).
q "INSERT INTO signin_failure VALUES ('staff:gm.hz', 15, now()), ('staff:gm.sh', 6, now() - interval '10 minutes'),
                                     ('addr:192.0.2.9', 25, now())" >/dev/null
wait_s() { q "SELECT wait_s FROM kefu_signin_begin('$1', '$2')"; }
w=$(wait_s gm.hz 192.0.2.1) # 15 failures of an account: 2^10 s, at most 900
((w > 800 && w <= 900)) || it_fail "15 failures of an account: wait $w s, not 900"
w=$(wait_s gm.sh 192.0.2.1)
[[ $w == 0 ]] || it_fail "failures 10 minutes old: wait $w s, not 0"
w=$(wait_s gm.sh 192.0.2.9) # 25 failures of an address (20 free): 2^5 s
((w > 20 && w <= 32)) || it_fail "25 failures of an address: wait $w s, not 32"
q "DELETE FROM signin_failure" >/dev/null

# ---- one open connection (auth_session.c) ----------------------------------------
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
            it_fail "auth_session did not answer '$line': $(cat "$IT_DIR/log/client.log")"
    done
}
session_end() {
    local pid=$CLIENT_PID
    eval "exec ${CLIENT[1]}>&-"
    wait "$pid" || it_fail "auth_session exited $?: $(cat "$IT_DIR/log/client.log")"
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
TOK_XU=xu_EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE
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
expect_got "unknown_actor session" "a session after its sign-out"
session_say "session $TOK_REV" list
expect_got ok "a third session of agent.li"
kefu-admin sessions agent.li >"$IT_DIR/sessions.txt" || it_fail "kefu-admin sessions failed"
grep -q "^$rev_session .*192.0.2.7 .*open" "$IT_DIR/sessions.txt" ||
    it_fail "kefu-admin sessions does not list session $rev_session: $(cat "$IT_DIR/sessions.txt")"
grep -q "signout" "$IT_DIR/sessions.txt" && it_fail "kefu-admin sessions lists an ended session without --all"
[[ $(kefu-admin sessions agent.li --revoke "$rev_session") == "1 web session(s) of agent.li ended" ]] ||
    it_fail "kefu-admin sessions --revoke ID"
session_say list
expect_got "unknown_actor session" "a session after kefu-admin sessions --revoke"
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
expect_got "unknown_actor session" "a session idle past its timeout"

# A staff member left out of the organisation file (absent_staff "deactivate"):
# kefu-admin import makes them inactive, which ends their sessions at once.
xu_session=$(open sales.xu "$TOK_XU")
session_say "session $TOK_XU" list
expect_got ok "sales.xu's session"
jq '.approval_policies = [] | .absent_staff = "deactivate" | .staff |= map(select(.id != "sales.xu"))
    | .routing_rules |= map(if .owner == "sales.xu" then .owner = "sales.ma" else . end)' \
    "$KEFU_SOURCE_DIR/deploy/demo-org.json" >"$IT_DIR/org-without-xu.json"
kefu-admin --json import "$IT_DIR/org-without-xu.json" >"$IT_DIR/import.json" ||
    it_fail "kefu-admin import without sales.xu: $(cat "$IT_DIR/import.json")"
[[ $(q "SELECT active FROM staff WHERE id = 'sales.xu'") == f ]] || it_fail "the import left sales.xu active"
session_say list
expect_got "unknown_actor session" "the session of a staff member made inactive"
[[ $(q "SELECT end_reason FROM web_session WHERE id = $xu_session") == inactive ]] ||
    it_fail "making sales.xu inactive did not end the session with reason inactive"

# A password that must be changed: no one until the gateway changes it.
kefu-admin --json passwd agent.chen --temporary >"$IT_DIR/temp.json" || it_fail "passwd --temporary failed"
temp=$(jq -r .password "$IT_DIR/temp.json")
[[ $temp =~ ^[A-HJ-NP-Za-km-z2-9]{12}$ && $(jq -r .must_change "$IT_DIR/temp.json") == true ]] ||
    it_fail "passwd --temporary: $(cat "$IT_DIR/temp.json")"
[[ $(q "SELECT password_must_change FROM staff WHERE id = 'agent.chen'") == t ]] ||
    it_fail "passwd --temporary did not set must_change"
chen_session=$(open agent.chen "$TOK_CHEN")
session_say "session $TOK_CHEN" list
expect_got "unknown_actor session" "a session whose password must change"
# The gateway's change of password keeps the session that changed it.
q "SELECT kefu_password_set('agent.chen', 'not-a-real-hash', false, $chen_session, 'self')" >/dev/null
session_say list
expect_got ok "the session once its password was changed"
it_note "expired, inactive and must-change sessions are no one"

# The same session over a staff member's own certificate key is no one.
session_end
session_start "$KEFU_INTAKE" "$(it_cert agent.li)"
session_say "session $TOK_LI" list
expect_got "unknown_actor session" "agent.li's session over agent.li's own certificate"
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
# kefu-admin sessions --revoke without an ID: every open session of agent.li.
[[ $(kefu-admin --json sessions agent.li --revoke | jq -r .ended) -ge 1 ]] ||
    it_fail "kefu-admin sessions agent.li --revoke ended nothing"
session_say "session $TOK_LI" "decide $R"
expect_got "unknown_actor*" "agent.li's session after kefu-admin sessions --revoke"
[[ $(kefu-admin sessions agent.li) == "agent.li has no open web sessions" ]] ||
    it_fail "agent.li still has open sessions: $(kefu-admin sessions agent.li)"
[[ $(q "SELECT count(*) FROM web_session WHERE staff_id = 'agent.li' AND ended_at IS NULL") == 0 ]] ||
    it_fail "kefu-admin sessions --revoke left a session of agent.li unended"
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
refused "inactive staff" sales.xu 'a fine password' "sales.xu is not active staff"
rc=0
out=$(printf '%s\n' 'correct horse' | kefu-admin passwd cs.wang --stdin --temporary 2>&1) || rc=$?
[[ $rc == 2 ]] || it_fail "passwd --stdin --temporary: exit $rc: $out"
# On a terminal: asked twice, never echoed; two that differ change nothing.
on_tty() { # on_tty STAFF FIRST SECOND: kefu-admin passwd STAFF on a pty; prints what it showed
    python3 - "$(command -v kefu-admin)" "$@" <<'PY'
import os, pty, select, sys
prog, staff, first, second = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(prog, [prog, "passwd", staff])
seen = b""
def until(text):
    global seen
    while text not in seen:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            sys.exit("no prompt %r; seen %r" % (text, seen))
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            sys.exit("ended before %r; seen %r" % (text, seen))
        seen += chunk
until(b"New password: ")
os.write(fd, first.encode() + b"\n")
until(b"Again: ")
os.write(fd, second.encode() + b"\n")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
print(seen.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}
before=$(pass gm.hz)
out=$(on_tty gm.hz 'typed on a tty' 'typed on a tty') || it_fail "passwd on a terminal: $out"
[[ $out == *"password set for gm.hz"* && $out != *"typed on a tty"* ]] ||
    it_fail "passwd on a terminal echoed the password or did not set it: $out"
[[ $(pass gm.hz) == '$argon2id$'* ]] || it_fail "passwd on a terminal stored no hash"
before=$(pass gm.hz)
rc=0
out=$(on_tty gm.hz 'typed on a tty' 'typed on a ttY') || rc=$?
[[ $rc == 1 && $out == *"the two passwords differ"* && $(pass gm.hz) == "$before" ]] ||
    it_fail "passwd on a terminal, two that differ: exit $rc: $out"
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
