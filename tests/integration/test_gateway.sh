#!/usr/bin/env bash
# kefu-gateway against real daemons and a real store, through curl:
#  - sign-in: a wrong password and an unknown staff id get the same 401;
#    the sixth failure in a row is 429 throttled with Retry-After; the
#    cookie is HttpOnly, SameSite=Strict, Path=/; whoami; every answer
#    carries the security headers;
#  - the agent's work over HTTP: submit with Idempotency-Key (a retry is the
#    same ticket, duplicate; other content under the key is 409), ticket
#    show and list, respond, transfer, resolve, owner, approval request,
#    list, show, decide (A cannot decide B's step: 403; B can), survey
#    show, report;
#  - no cookie, a signed-out, revoked or expired session: 401 at once;
#    a missing or wrong X-CSRF-Token: 403 and nothing written;
#  - SQL and script text in every text field of a submit is stored and
#    answered byte for byte, the tables intact;
#  - bad input: malformed JSON, an array, a wrong type, an unknown field,
#    non-UTF-8, a 1 MiB body, a 100 kB header, another content type, an
#    unknown path (404) and method (405 with Allow);
#  - a password change ends the other sessions.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init gateway
gw_daemons
gw_start gateway
q() { it_psql "$1"; }
writes() { q "SELECT (SELECT count(*) FROM ticket) || '/' || (SELECT count(*) FROM event)"; }

PW='correct horse battery'
for s in agent.li agent.chen eng.sun eng.liu eng.zhao fin.lin cs.wang; do gw_passwd "$s" "$PW"; done

# ---- sign-in ------------------------------------------------------------------------
http - GET /api/v1/session
expect 401 unknown_actor "whoami without a cookie"
for h in 'Content-Type: application/json; charset=utf-8' 'Cache-Control: no-store' \
    'X-Content-Type-Options: nosniff' 'Referrer-Policy: no-referrer' 'X-Frame-Options: DENY' \
    'Cross-Origin-Opener-Policy: same-origin' 'Cross-Origin-Resource-Policy: same-origin' \
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"; do
    [[ "$(hdr "${h%%:*}")" == "${h#*: }" ]] || it_fail "header ${h%%:*} is '$(hdr "${h%%:*}")'"
done
[[ -z $(hdr Strict-Transport-Security) ]] || it_fail "HSTS over plain HTTP"

http agent.li POST /api/v1/session '{"staff":"agent.li","password":"wrong password"}'
expect 401 unknown_actor "a wrong password"
wrong=$(json .message)
http - POST /api/v1/session '{"staff":"nobody.here","password":"wrong password"}'
expect 401 unknown_actor "an unknown staff id"
[[ $(json .message) == "$wrong" ]] || it_fail "unknown staff answered '$(json .message)', wrong password '$wrong'"
[[ -z $(hdr Set-Cookie) ]] || it_fail "a failed sign-in set a cookie"

gw_signin agent.li "$PW"
cookie=$(hdr Set-Cookie)
[[ $cookie =~ ^kefu_session=[A-Za-z0-9_-]{43}\; ]] || it_fail "cookie: $cookie"
for a in 'Path=/' HttpOnly 'SameSite=Strict' 'Max-Age=43200'; do
    [[ $cookie == *"; $a"* ]] || it_fail "the cookie lacks $a: $cookie"
done
[[ $cookie != *Secure* ]] || it_fail "Secure over plain HTTP: $cookie"
[[ $(json .staff) == agent.li && $(json .name) == 李娜 && $(json .role) == agent &&
    $(json .must_change) == false && $(json .csrf) =~ ^[A-Za-z0-9_-]{43}$ ]] || it_fail "sign-in answer: $OUT"
http agent.li GET /api/v1/session
expect 200 "whoami"
[[ $(json .staff) == agent.li && $(json .csrf) == "$(<"$IT_DIR/csrf-agent.li")" ]] || it_fail "whoami: $OUT"
[[ $(json .expires_at) -gt $(($(date +%s) * 1000)) ]] || it_fail "whoami expires_at: $OUT"

# ---- submit, idempotency, injection ----------------------------------------------------
SQLI="'; DROP TABLE ticket; --"
XSS='<script>alert(1)</script>'
BODY=$(jq -nc --arg s "$SQLI $XSS" --arg d "$XSS
$SQLI \"引号\" \\ 反斜杠" --arg n "$XSS" --arg b "$SQLI" '{kind: "complaint", category: "leak",
    channel: "phone", project: "HZ-XH", building: "3", unit: "1201", phone: "13800138000",
    name: $n, summary: $s, detail: $d}')
http agent.li POST /api/v1/tickets "$BODY" -H 'Idempotency-Key: gw-1'
expect 200 "submit"
NO=$(json .ticket)
[[ $NO =~ ^KF-[0-9]{4}-[0-9]{6}$ && $(json .duplicate) == false ]] || it_fail "submit: $OUT"
http agent.li POST /api/v1/tickets "$BODY" -H 'Idempotency-Key: gw-1'
expect 200 "the same submit again"
[[ $(json .ticket) == "$NO" && $(json .duplicate) == true ]] || it_fail "retried submit: $OUT"
http agent.li POST /api/v1/tickets "$(jq -c '.summary = "other"' <<<"$BODY")" -H 'Idempotency-Key: gw-1'
expect 409 conflict "the same key with other content"
http agent.li GET "/api/v1/tickets/$NO"
expect 200 "ticket show"
for f in summary detail customer; do
    want=$(jq -r ".${f/customer/name}" <<<"$BODY")
    [[ $(json ".$f") == "$want" ]] || it_fail "show: $f is not byte-identical: $(json ".$f")"
done
[[ $(q "SELECT summary FROM ticket WHERE no = '$NO'") == "$SQLI $XSS" ]] ||
    it_fail "the store holds another summary"
[[ $(q "SELECT count(*) FROM ticket") == 1 ]] || it_fail "the ticket table is not intact"
[[ $(hdr Content-Type) == 'application/json; charset=utf-8' ]] || it_fail "show's Content-Type"

# Injection text in the fields the store checks against its own rows: a
# refusal naming the field, nothing written, the tables intact.
for f in project building unit phone idem; do
    before=$(writes)
    http agent.li POST /api/v1/tickets "$(jq -c --arg f "$f" --arg v "$SQLI" '.[$f] = $v' <<<"$BODY")" \
        -H "Idempotency-Key: inject-$f"
    [[ $CODE == 200 || $CODE == 400 || $CODE == 404 ]] || it_fail "injection in $f: HTTP $CODE: $OUT"
    [[ $CODE == 200 || $(json .field) == "$f" || ($f == idem && $(json .field) == idem) ]] ||
        it_fail "injection in $f: the refusal names $(json .field): $OUT"
    [[ $CODE != 200 ]] || [[ $(q "SELECT count(*) FROM ticket") == 2 ]] || it_fail "injection in $f"
    [[ $CODE == 200 ]] || [[ $(writes) == "$before" ]] || it_fail "a refused injection in $f wrote"
done
[[ $(q "SELECT count(*) FROM ticket") -le 2 && $(q "SELECT count(*) FROM staff") -gt 0 ]] ||
    it_fail "the tables are not intact after injections"

http agent.li GET "/api/v1/tickets?limit=5&project=HZ-XH"
expect 200 "ticket list"
[[ $(json '.tickets[0].ticket') == "$NO" ]] || it_fail "list: $OUT"
http agent.li GET "/api/v1/tickets?limit=500"
expect 400 bad_value "a limit over 100"
http agent.li GET "/api/v1/tickets?limit=5x"
expect 400 wrong_type "a limit that is no integer"
http agent.li GET "/api/v1/tickets?colour=red"
expect 400 bad_value "an unknown query parameter"
[[ $(json .field) == colour ]] || it_fail "unknown parameter's field: $OUT"
http agent.li GET "/api/v1/owners?phone=13800138000"
expect 200 "owner by phone"

routed() { [[ $(q "SELECT status FROM ticket WHERE no = '$1'") == routed ]]; }
it_wait_for "$NO to be routed" 30 routed "$NO"
[[ $(q "SELECT owner_id FROM ticket WHERE no = '$NO'") == eng.zhao ]] || it_fail "$NO is not eng.zhao's"

# ---- CSRF ---------------------------------------------------------------------------------
gw_signin eng.zhao "$PW"
before=$(writes)
csrf=$(<"$IT_DIR/csrf-eng.zhao")
mv "$IT_DIR/csrf-eng.zhao" "$IT_DIR/csrf-eng.zhao.kept"
http eng.zhao POST "/api/v1/tickets/$NO/responses" '{"note":"no token"}'
expect 403 forbidden "a response without X-CSRF-Token"
[[ $(json .field) == X-CSRF-Token ]] || it_fail "the CSRF refusal names $(json .field)"
# The token with its last character changed (always another token).
[[ ${csrf: -1} == A ]] && wrong=${csrf:0:-1}B || wrong=${csrf:0:-1}A
http eng.zhao POST "/api/v1/tickets/$NO/responses" '{"note":"wrong token"}' -H "X-CSRF-Token: $wrong"
expect 403 forbidden "a response with a wrong X-CSRF-Token"
mv "$IT_DIR/csrf-agent.li" "$IT_DIR/csrf-agent.li.kept"
http agent.li POST "/api/v1/tickets/$NO/responses" '{"note":"the token of another session"}' -H "X-CSRF-Token: $csrf"
expect 403 forbidden "a response with another session's X-CSRF-Token"
mv "$IT_DIR/csrf-agent.li.kept" "$IT_DIR/csrf-agent.li"
[[ $(writes) == "$before" ]] || it_fail "a refused request wrote something: $before -> $(writes)"
mv "$IT_DIR/csrf-eng.zhao.kept" "$IT_DIR/csrf-eng.zhao"

# ---- respond, transfer, resolve -------------------------------------------------------------
http eng.zhao POST "/api/v1/tickets/$NO/responses" '{"note":"已联系业主 <b>明早</b> 上门"}'
expect 200 "respond"
http agent.chen POST "/api/v1/tickets/$NO/transfers" '{"to":"eng.liu","reason":"not mine"}'
expect 401 unknown_actor "a transfer before signing in"
gw_signin agent.chen "$PW"
http eng.zhao POST "/api/v1/tickets/$NO/transfers" '{"to":"eng.liu"}'
expect 400 missing_field "a transfer without a reason"
http eng.zhao POST "/api/v1/tickets/$NO/transfers" '{"to":"eng.liu","reason":"需要经理处理"}'
expect 200 "transfer"
[[ $(q "SELECT owner_id FROM ticket WHERE no = '$NO'") == eng.liu ]] || it_fail "the transfer did not move $NO"
gw_signin eng.liu "$PW"
http eng.liu POST "/api/v1/tickets/$NO/resolution" '{"note":"已修复"}'
expect 200 "resolve"
[[ $(q "SELECT status FROM ticket WHERE no = '$NO'") == resolved ]] || it_fail "$NO is not resolved"
http eng.liu POST "/api/v1/tickets/$NO/resolution" ''
expect 409 conflict "resolving a resolved ticket"

# ---- approvals ------------------------------------------------------------------------------
tomorrow=$(TZ=Asia/Shanghai date -d tomorrow +%F)
http agent.li POST /api/v1/tickets "$(jq -c '.unit = "1102" | .summary = "渗漏赔偿（审批）"' <<<"$BODY")"     -H 'Idempotency-Key: gw-2'
expect 200 "submit T2"
T2=$(json .ticket)
http agent.li POST /api/v1/approvals "$(jq -nc --arg t "$T2" --arg p "$tomorrow"     '{ticket: $t, type: "refund", amount: "1200.50", reason: "渗漏赔偿", promised: $p}')"     -H 'Idempotency-Key: gw-ap-1'
expect 200 "approval request"
R=$(json .request)
[[ $R =~ ^[0-9]+$ ]] || it_fail "approval request answered $OUT"
gw_signin eng.sun "$PW"
http eng.sun GET /api/v1/approvals
expect 200 "eng.sun's approvals"
[[ $(jq -r --argjson r "$R" '.steps[] | select(.request == $r) | .ticket' <<<"$OUT") == "$T2" ]] ||
    it_fail "eng.sun's approvals lack $R: $OUT"
http agent.li GET "/api/v1/approvals/$R"
expect 200 "approval show"
http agent.li GET "/api/v1/approvals/nope"
expect 400 wrong_type "approval show of a request that is no number"
before=$(writes)
http agent.chen POST "/api/v1/approvals/$R/decisions" '{"decision":"approve","comment":"not mine"}'
expect 403 forbidden "agent.chen decides eng.sun's step"
[[ $(writes) == "$before" ]] || it_fail "a refused decision wrote something"
http eng.sun POST "/api/v1/approvals/$R/decisions" '{"decision":"approve","comment":"同意"}'
expect 200 "eng.sun approves"
[[ $(q "SELECT count(*) FROM approval_step WHERE request_id = $R AND decided_by = 'eng.sun'") == 1 ]] ||
    it_fail "eng.sun's decision is not stored"

# ---- survey, report -------------------------------------------------------------------------
http agent.li GET "/api/v1/surveys?ticket=$NO"
[[ $CODE == 200 || $(json .code) == not_found ]] || it_fail "survey show: HTTP $CODE: $OUT"
gw_signin cs.wang "$PW"
http cs.wang GET "/api/v1/report?month=$(TZ=Asia/Shanghai date +%Y-%m)"
expect 200 "report"

# ---- bad input ------------------------------------------------------------------------------
before=$(writes)
http agent.li POST /api/v1/tickets '{"kind":'
expect 400 bad_value "malformed JSON"
http agent.li POST /api/v1/tickets '[1,2,3]'
expect 400 bad_value "a JSON array"
http agent.li POST /api/v1/tickets '{"kind":5}'
expect 400 wrong_type "kind: 5"
[[ $(json .field) == kind ]] || it_fail "wrong type names $(json .field)"
http agent.li POST /api/v1/tickets '{"colour":"red"}'
expect 400 bad_value "an unknown field"
[[ $(json .field) == colour ]] || it_fail "unknown field names $(json .field)"
http agent.li POST /api/v1/tickets "$(printf '{"summary":"\xff\xfe"}')"
expect 400 bad_utf8 "non-UTF-8 bytes"
head -c 1048576 /dev/zero | tr '\0' 'a' >"$IT_DIR/big.json"
http agent.li POST /api/v1/tickets "@$IT_DIR/big.json"
expect 413 too_long "a 1 MiB body"
http agent.li POST /api/v1/tickets "@$IT_DIR/big.json" -H 'Transfer-Encoding: chunked'
expect 413 too_long "a 1 MiB chunked body"
http agent.li POST /api/v1/tickets '' --data-binary '{}' -H 'Content-Type: text/plain'
expect 415 bad_value "a text/plain body"
printf -v long '%*s' 100000 ''
http agent.li GET /api/v1/session '' -H "X-Long: ${long// /x}"
[[ $CODE == 431 || $CODE == 414 || $CODE == 400 ]] || it_fail "a 100 kB header: HTTP $CODE"
http agent.li GET /api/v1/nothing
expect 404 not_found "an unknown path"
http agent.li PUT /api/v1/session
expect 405 bad_value "PUT on the session"
[[ $(hdr Allow) == 'POST, GET, DELETE' ]] || it_fail "Allow is '$(hdr Allow)'"
[[ $(writes) == "$before" ]] || it_fail "bad input wrote something"
http agent.li GET /api/v1/session
expect 200 "whoami after bad input"

# ---- sessions end ----------------------------------------------------------------------------
http agent.chen DELETE /api/v1/session
expect 204 "sign-out"
[[ $(hdr Set-Cookie) == *Max-Age=0* ]] || it_fail "sign-out does not clear the cookie: $(hdr Set-Cookie)"
http agent.chen GET /api/v1/tickets
expect 401 unknown_actor "a request after sign-out"
gw_signin agent.chen "$PW"
http agent.chen GET /api/v1/tickets
expect 200 "agent.chen signed in again"
kefu-admin sessions agent.chen --revoke >/dev/null || it_fail "kefu-admin sessions --revoke"
http agent.chen GET /api/v1/tickets
expect 401 unknown_actor "a request on a revoked session"
http - GET /api/v1/tickets
expect 401 unknown_actor "a request without a cookie"
http - GET /api/v1/tickets '' -b 'kefu_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
expect 401 unknown_actor "a request with an unknown session"

# ---- password change -------------------------------------------------------------------------
gw_signin agent.chen "$PW"
cp "$IT_DIR/jar-agent.chen" "$IT_DIR/jar-other"
cp "$IT_DIR/csrf-agent.chen" "$IT_DIR/csrf-other"
gw_signin agent.chen "$PW"
http agent.chen POST /api/v1/session/password '{"old":"wrong password","new":"a new long password"}'
expect 403 forbidden "a password change with a wrong old password"
http agent.chen POST /api/v1/session/password '{"old":"'"$PW"'","new":"short"}'
expect 400 bad_value "a short new password"
http agent.chen POST /api/v1/session/password '{"old":"'"$PW"'","new":"a new long password"}'
expect 200 "password change"
http other GET /api/v1/session
expect 401 unknown_actor "the other session after a password change"
http agent.chen GET /api/v1/session
expect 200 "the changing session after the change"
http - POST /api/v1/session '{"staff":"agent.chen","password":"'"$PW"'"}'
expect 401 unknown_actor "the old password"
gw_signin agent.chen "a new long password"

# ---- throttling (last: the address is counted too) ------------------------------------------
for i in 1 2 3 4 5; do
    http - POST /api/v1/session '{"staff":"fin.lin","password":"guess '"$i"'"}'
    expect 401 unknown_actor "failure $i"
done
http - POST /api/v1/session '{"staff":"fin.lin","password":"'"$PW"'"}'
expect 429 throttled "the sixth attempt"
[[ $(hdr Retry-After) =~ ^[1-9][0-9]*$ ]] || it_fail "429 without Retry-After: $HDR"

grep -q 'route=/api/v1/tickets/{ticket} status=200' "$(it_log gateway)" || it_fail "no request log line"
! grep -q '13800138000\|DROP TABLE' "$(it_log gateway)" || it_fail "the log holds request content"
it_note "all checks passed"
