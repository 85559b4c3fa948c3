#!/usr/bin/env bash
# Certificates (common/auth.h) against the real daemons and the real client:
#  - a key that is not registered is refused at the handshake: kefu exits 1
#    with unknown_actor and says the certificate is not registered or
#    revoked, at once (no timeout), and nothing is written; kefu-survey
#    refuses it too;
#  - the certificate of a staff member made inactive is refused, also on a
#    connection that was open before;
#  - a revoked certificate stops working at once, for new connections and
#    on a connection that is open and has been used (auth_session.c): its
#    next request is answered unknown_actor and writes nothing; the same
#    staff member's other certificate keeps working;
#  - the ticket's created_by and its history's actor are the certificate's
#    staff member even when the body names someone else as "actor";
#  - a certificate whose server-key is not the daemons' is not refused (the
#    daemon cannot read its hello and only closes the connection, as a
#    daemon dying mid-handshake does): exit 3 at the timeout, saying that
#    the handshake was cut and that the server-key may be another's, and
#    nothing written;
#  - a --cert (or KEFU_CERT) file that does not exist is a usage error
#    (exit 2) naming the file;
#  - kefu-admin cert refuses an unknown or inactive staff member (and leaves
#    no file) and refuses to overwrite a file without --force.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init auth
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY=$KEFU_SURVEY_BIND
session=$KEFU_BUILD_DIR/tests/integration/kefu-test-auth-session
[[ -x $session ]] || it_fail "$session is not built"
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"

it_pg_start
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_start survey
it_wait_for "intake to answer" 30 kefu tickets --limit 1
survey_answers() { # kefu-survey answers (not_found, exit 1), not a timeout (exit 3)
    local rc=0
    kefu --timeout 1000 survey show 999999 >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}
it_wait_for "kefu-survey to answer" 30 survey_answers

# Runs kefu, capturing stdout in OUT, stderr in ERR, the exit code in RC and
# the time it took in MS.
run() {
    local o=$IT_DIR/out e=$IT_DIR/err t0=${EPOCHREALTIME/./}
    RC=0
    kefu "$@" >"$o" 2>"$e" || RC=$?
    MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
    OUT=$(<"$o")
    ERR=$(<"$e")
}
expect_rc() {
    local want=$1 what=$2
    [[ $RC == "$want" ]] || it_fail "$what: exit $RC, expected $want; stdout: $OUT; stderr: $ERR"
}
# What the store holds that a request could have written.
writes() { it_psql "SELECT (SELECT count(*) FROM ticket) || '/' || (SELECT count(*) FROM ticket_history)
                        || '/' || (SELECT count(*) FROM event)"; }
submit_args=(submit --kind complaint --category leak --channel phone --project HZ-XH
             --phone 13900001111 --summary '证书测试')
REFUSED='refused your certificate: it is not registered, has been revoked'
CERTS=$IT_DIR/certs

# A refused certificate: exit 1, unknown_actor on the field cert, the
# client's wording, in well under the 20 s timeout, and nothing written.
expect_refused() {
    local what=$1 cert=$2 wording=$3 before
    shift 3
    before=$(writes)
    run --cert "$cert" --timeout 20000 --json "$@"
    expect_rc 1 "$what"
    [[ $(jq -r '.error.code + " " + .error.field' <<<"$OUT") == "unknown_actor cert" ]] ||
        it_fail "$what: the error is not unknown_actor on cert: $OUT"
    [[ $ERR == *"$wording"* ]] || it_fail "$what: stderr does not say '$wording': $ERR"
    ((MS < 5000)) || it_fail "$what: refused only after $MS ms (a timeout, not a refusal)"
    [[ $(writes) == "$before" ]] || it_fail "$what: the store changed: $before -> $(writes)"
    it_note "$what: exit 1 after $MS ms: $ERR"
}

# ---- a key nobody registered -------------------------------------------------------
# Issued, then taken out of the store: a well-formed certificate, with the
# daemons' key, that no staff member holds.
kefu-admin cert agent.li --out "$CERTS/unregistered.cert" --json >"$IT_DIR/unregistered.json"
key=$(jq -r .public_key "$IT_DIR/unregistered.json")
it_psql "DELETE FROM staff_cert WHERE public_key = '$key'" >/dev/null
expect_refused "intake, an unregistered key" "$CERTS/unregistered.cert" "$REFUSED" "${submit_args[@]}"
expect_refused "intake, an unregistered key (list)" "$CERTS/unregistered.cert" "$REFUSED" tickets
expect_refused "kefu-survey, an unregistered key" "$CERTS/unregistered.cert" "$REFUSED" \
    survey show 999999
grep -F "key=$key " "$(it_log intake)" | grep -q 'event=auth.refused status=400' ||
    it_fail "intake did not log the refused key"

# ---- one connection that stays open (auth_session.c) -------------------------------------
# Starts a session with the certificate $1.
session_start() {
    coproc SESSION { KEFU_CERT=$1 exec "$session" 2>>"$IT_DIR/log/session.log"; }
    echo "$SESSION_PID" >>"$IT_DIR/.daemons"
}
# Sends the line $1 (list, submit [ACTOR]) unless empty, and reads the answer
# into GOT (coproc descriptors are not open in subshells, so no $(...)).
session_say() {
    [[ -z $1 ]] || echo "$1" >&"${SESSION[1]}"
    read -r -t 15 GOT <&"${SESSION[0]}" ||
        it_fail "auth_session did not answer: $(cat "$IT_DIR/log/session.log")"
}
session_end() {
    local pid=$SESSION_PID
    eval "exec ${SESSION[1]}>&-"
    wait "$pid" || it_fail "auth_session exited $?: $(cat "$IT_DIR/log/session.log")"
}

# ---- a staff member who is no longer active ------------------------------------------
SUN=$(it_cert eng.sun)
session_start "$SUN"
session_say list
[[ $GOT == ok ]] || it_fail "eng.sun while active: $GOT"
it_psql "UPDATE staff SET active = false WHERE id = 'eng.sun'" >/dev/null
session_say list
[[ $GOT == "unknown_actor cert" ]] || it_fail "eng.sun made inactive, on the open connection: $GOT"
session_end
expect_refused "intake, an inactive staff member" "$SUN" "$REFUSED" tickets
expect_refused "kefu-survey, an inactive staff member" "$SUN" "$REFUSED" survey show 999999
# ... and kefu-admin cert issues nothing to them.
rc=0
out=$(kefu-admin cert eng.sun --out "$CERTS/sun-2.cert" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"no active staff member 'eng.sun'"* ]] ||
    it_fail "kefu-admin cert for an inactive staff member: exit $rc: $out"
[[ ! -e $CERTS/sun-2.cert ]] || it_fail "kefu-admin cert left a file for an inactive staff member"

# ---- the body's "actor" is no one's word -------------------------------------------
# One connection, kept open: it is used, then its certificate is revoked.
session_key=$(kefu-admin cert agent.li --out "$CERTS/session.cert" --json | jq -r .public_key)
session_start "$CERTS/session.cert"
session_say list
[[ $GOT == ok ]] || it_fail "the session's first ticket.list was answered: $GOT"
session_say "submit gm.hz"
got=$GOT
[[ $got =~ ^ok\ (KF-[0-9]{4}-[0-9]{6})$ ]] || it_fail "a submit naming gm.hz as actor: $got"
no=${BASH_REMATCH[1]}
[[ $(it_psql "SELECT created_by FROM ticket WHERE no = '$no'") == agent.li ]] ||
    it_fail "$no was created by $(it_psql "SELECT created_by FROM ticket WHERE no = '$no'"), not agent.li (the certificate's)"
[[ $(it_psql "SELECT string_agg(h.actor, ' ') FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
               WHERE t.no = '$no'") == agent.li ]] || it_fail "$no's history is not in agent.li's name"
[[ $(it_psql "SELECT body->>'actor' FROM event WHERE type = 'ticket.submitted' AND corr = '$no'") == agent.li ]] ||
    it_fail "$no's ticket.submitted event does not name agent.li"
run ticket show "$no" --json
[[ $(jq -r '.history[0].actor' <<<"$OUT") == agent.li ]] || it_fail "kefu ticket show $no: $OUT"
it_note "a body naming gm.hz made $no in agent.li's name"

# ---- revoked: at once, also on the open connection --------------------------------
before=$(writes)
kefu-admin revoke "$CERTS/session.cert" >/dev/null
session_say list
[[ $GOT == "unknown_actor cert" ]] || it_fail "ticket.list on the open connection after the revocation: $GOT"
session_say submit
[[ $GOT == "unknown_actor cert" ]] || it_fail "a submit on the open connection after the revocation: $GOT"
[[ $(writes) == "$before" ]] || it_fail "a revoked certificate's requests changed the store"
session_end
expect_refused "intake, a revoked certificate" "$CERTS/session.cert" "$REFUSED" "${submit_args[@]}"
expect_refused "kefu-survey, a revoked certificate" "$CERTS/session.cert" "$REFUSED" survey show 999999
# Revoking it again keeps the record of the first revocation.
revocation() { it_psql "SELECT revoked_at || ' ' || revoked_by FROM staff_cert WHERE public_key = '$session_key'"; }
first=$(revocation)
[[ $first == *" "?* ]] || it_fail "the revocation of $session_key is not recorded: '$first'"
# A Z85 key may start with '-': after --, it is never read as an option.
USER=someone.else kefu-admin revoke -- "$session_key" >/dev/null || it_fail "revoking again failed"
err=$(kefu-admin revoke -- "-$session_key" 2>&1) && it_fail "revoking an unknown key starting with '-' succeeded"
grep -q "no certificate with key -" <<<"$err" || it_fail "a key starting with '-' after -- was not read as a key: $err"
[[ $(revocation) == "$first" ]] || it_fail "revoking again rewrote the first revocation: $first -> $(revocation)"
# agent.li's other certificate was not revoked.
run tickets --limit 1
expect_rc 0 "agent.li's own certificate after the other was revoked"
it_note "revoked: the open connection's next requests were refused"

# ---- another server's key ---------------------------------------------------------------
kefu-admin server-cert --out "$CERTS/other-server.cert" >/dev/null
kefu-admin cert agent.li --server-cert "$CERTS/other-server.cert" --out "$CERTS/misaddressed.cert" >/dev/null
# From the client's side this looks like a daemon that dies mid-handshake,
# which is temporary: exit 3 with unavailable once the timeout passes.
expect_cut() {
    local what=$1 cert=$2 before
    shift 2
    before=$(writes)
    run --cert "$cert" --timeout 1500 --json "$@"
    expect_rc 3 "$what"
    [[ $(jq -r .error.code <<<"$OUT") == unavailable ]] || it_fail "$what: the error is not unavailable: $OUT"
    [[ $ERR == *"closed during the secure handshake"*"server-key may not be this daemon's"* ]] ||
        it_fail "$what: stderr does not say the handshake was cut: $ERR"
    [[ $(writes) == "$before" ]] || it_fail "$what: the store changed: $before -> $(writes)"
    it_note "$what: exit 3 after $MS ms: $ERR"
}
expect_cut "intake, a certificate for another server" "$CERTS/misaddressed.cert" tickets
expect_cut "kefu-survey, a certificate for another server" "$CERTS/misaddressed.cert" \
    survey show 999999

# ---- no such file: a usage error naming it ------------------------------------------------
missing=$CERTS/no-such-dir/agent.cert
run --cert "$missing" "${submit_args[@]}"
expect_rc 2 "--cert naming a missing file"
[[ $ERR == *"$missing"* ]] || it_fail "--cert naming a missing file does not name it: $ERR"
RC=0
KEFU_CERT=$missing kefu tickets >/dev/null 2>"$IT_DIR/err" || RC=$?
[[ $RC == 2 && $(<"$IT_DIR/err") == *"$missing"* ]] ||
    it_fail "KEFU_CERT naming a missing file: exit $RC: $(<"$IT_DIR/err")"

# ---- kefu-admin cert: unknown staff, and no overwriting without --force ---------------
certs() { it_psql "SELECT count(*) FROM staff_cert"; }
n=$(certs)
rc=0
out=$(kefu-admin cert nobody.here --out "$CERTS/nobody.cert" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"no active staff member 'nobody.here'"* ]] ||
    it_fail "kefu-admin cert for an unknown staff member: exit $rc: $out"
[[ ! -e $CERTS/nobody.cert ]] || it_fail "kefu-admin cert left a file for an unknown staff member"
[[ $(certs) == "$n" ]] || it_fail "kefu-admin cert registered a key for an unknown staff member"
sum=$(sha256sum <"$KEFU_CERT")
rc=0
out=$(kefu-admin cert agent.li --out "$KEFU_CERT" 2>&1) || rc=$?
[[ $rc != 0 && $out == *"exists; give --force"* ]] ||
    it_fail "kefu-admin cert over an existing file: exit $rc: $out"
[[ $(sha256sum <"$KEFU_CERT") == "$sum" && $(certs) == "$n" ]] ||
    it_fail "kefu-admin cert without --force replaced the file or registered a key"
kefu-admin cert agent.li --out "$KEFU_CERT" --force >/dev/null ||
    it_fail "kefu-admin cert --force did not replace the file"
[[ $(sha256sum <"$KEFU_CERT") != "$sum" && $(certs) == $((n + 1)) ]] ||
    it_fail "kefu-admin cert --force: the file or the store did not change"
[[ $(stat -c %a "$KEFU_CERT") == 600 ]] || it_fail "the certificate is not mode 0600"
run tickets --limit 1
expect_rc 0 "the replaced certificate"

it_running intake || it_fail "intake died"
it_running survey || it_fail "kefu-survey died"
it_note "every certificate check passed"
