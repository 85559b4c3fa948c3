#!/usr/bin/env bash
# kefu-gateway's routes for the web console, against real daemons and a real
# store, through curl:
#  - GET /api/v1/labels without a session: every enumeration of the model
#    with every value, every error code, each with zh and en, and the KPI
#    targets, exactly as proto/model.json has them; an ETag with
#    Cache-Control: no-cache and the security headers; 304 for its ETag;
#  - GET /api/v1/status: 401 without a session, 403 forbidden for an agent
#    and a head, 200 for an administrator with every daemon running (as the
#    store's daemon_status has them), each up;
#  - POST /api/v1/session/lang: en and back to zh, kept in staff.lang and
#    answered by whoami and by the next sign-in; anything but zh or en,
#    another field, a wrong type or no body is 400; no CSRF token is 403 and
#    changes nothing;
#  - whoami and sign-in answer department and tz (the store's default zone);
#  - GET /api/v1/watchlist: a head gets the three lists, an agent 403.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init gateway_console
gw_daemons
gw_start gateway
q() { it_psql "$1"; }
PW='correct horse battery'
for s in agent.li cs.wang admin; do gw_passwd "$s" "$PW"; done
MODEL=$KEFU_SOURCE_DIR/proto/model.json

# ---- labels -----------------------------------------------------------------------------
http - GET /api/v1/labels
expect 200 "labels without a session"
python3 - "$MODEL" "$IT_DIR/http.out" <<'PY' || it_fail "the labels are not the model's"
import json, sys
model = json.load(open(sys.argv[1], encoding="utf-8"))
labels = json.load(open(sys.argv[2], encoding="utf-8"))
assert sorted(labels) == ["enums", "errors", "targets"], sorted(labels)
assert sorted(labels["enums"]) == sorted(model["enums"]), "enums differ"
for name, enum in model["enums"].items():
    got = labels["enums"][name]
    assert sorted(got) == sorted(v["name"] for v in enum["values"]), name
    for v in enum["values"]:
        assert got[v["name"]] == {"zh": v["zh"], "en": v["en"]}, (name, v["name"])
assert sorted(labels["errors"]) == sorted(e["code"] for e in model["errors"]), "codes differ"
for e in model["errors"]:
    assert labels["errors"][e["code"]] == {"zh": e["zh"], "en": e["en"]}, e["code"]
    assert e["zh"].strip() and e["en"].strip(), e["code"]
assert labels["targets"] == [{"kpi": t["kpi"], "baseline": t["baseline"], "target": t["target"]}
                             for t in model["targets"]["kpis"]], labels["targets"]
assert "risk_reason" in labels["enums"] and "queue_state" in labels["enums"]
PY
etag=$(hdr ETag)
[[ $etag =~ ^\"[0-9a-f]{32}\"$ ]] || it_fail "labels ETag: '$etag'"
[[ $(hdr Cache-Control) == no-cache ]] || it_fail "labels Cache-Control: '$(hdr Cache-Control)'"
for h in 'Content-Type: application/json; charset=utf-8' 'X-Content-Type-Options: nosniff' \
    'X-Frame-Options: DENY' "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"; do
    [[ "$(hdr "${h%%:*}")" == "${h#*: }" ]] || it_fail "labels: header ${h%%:*} is '$(hdr "${h%%:*}")'"
done
: >"$IT_DIR/http.out" # curl writes nothing for a 304
http - GET /api/v1/labels "" -H "If-None-Match: $etag"
expect 304 "labels for a client that holds them"
[[ -z $OUT && $(hdr ETag) == "$etag" ]] || it_fail "304 with a body or without the ETag: $OUT"
http - GET /api/v1/labels "" -H 'If-None-Match: "0000"'
expect 200 "labels for another ETag"
it_note "labels: every enumeration and error code of the model, cached by ETag"

# ---- whoami: department and tz -------------------------------------------------------------
gw_signin agent.li "$PW"
[[ $(json '"\(.department)/\(.tz)/\(.lang)"') == cs/Asia/Shanghai/zh ]] || it_fail "sign-in answer: $OUT"
http agent.li GET /api/v1/session
expect 200 "whoami"
[[ $(json '"\(.department)/\(.tz)"') == cs/Asia/Shanghai ]] || it_fail "whoami: $OUT"

# ---- lang -----------------------------------------------------------------------------------
http agent.li POST /api/v1/session/lang '{"lang":"en"}'
expect 200 "lang en"
[[ $(json .ok) == true ]] || it_fail "lang answer: $OUT"
[[ $(q "SELECT lang FROM staff WHERE id = 'agent.li'") == en ]] || it_fail "lang not kept"
http agent.li GET /api/v1/session
[[ $(json .lang) == en ]] || it_fail "whoami after lang en: $OUT"
http agent.li DELETE /api/v1/session
expect 204 "sign-out"
gw_signin agent.li "$PW"
[[ $(json .lang) == en ]] || it_fail "the next sign-in forgot the language: $OUT"
for body in '{"lang":"fr"}' '{"lang":"EN"}' '{"lang":""}' '{"lang":1}' '{"lang":"en","x":1}' '{}' '[]' 'not json'; do
    http agent.li POST /api/v1/session/lang "$body"
    [[ $CODE == 400 ]] || it_fail "lang $body: HTTP $CODE: $OUT"
done
http agent.li POST /api/v1/session/lang '{"lang":"fr"}'
expect 400 bad_value "lang fr"
[[ $(json .field) == lang ]] || it_fail "lang fr: the field is not named: $OUT"
http agent.li POST /api/v1/session/lang '{"lang":1}'
expect 400 wrong_type "lang 1"
http agent.li POST /api/v1/session/lang ''
expect 400 missing_field "lang without a body"
mv "$IT_DIR/csrf-agent.li" "$IT_DIR/csrf-agent.li.keep"
http agent.li POST /api/v1/session/lang '{"lang":"zh"}'
expect 403 forbidden "lang without a CSRF token"
mv "$IT_DIR/csrf-agent.li.keep" "$IT_DIR/csrf-agent.li"
[[ $(q "SELECT lang FROM staff WHERE id = 'agent.li'") == en ]] || it_fail "a refused lang changed it"
http - POST /api/v1/session/lang '{"lang":"zh"}'
expect 401 unknown_actor "lang without a session"
http agent.li POST /api/v1/session/lang '{"lang":"zh"}'
expect 200 "lang zh"
http agent.li GET /api/v1/session
[[ $(json .lang) == zh && $(q "SELECT lang FROM staff WHERE id = 'agent.li'") == zh ]] ||
    it_fail "lang zh not kept: $OUT"
it_note "lang: kept for the staff member, across sign-ins; bad input refused"

# ---- status ---------------------------------------------------------------------------------
http - GET /api/v1/status
expect 401 unknown_actor "status without a session"
http agent.li GET /api/v1/status
expect 403 forbidden "status for an agent"
gw_signin cs.wang "$PW"
http cs.wang GET /api/v1/status
expect 403 forbidden "status for a head"
gw_signin admin "$PW"
it_wait_for "every daemon's heartbeat" 30 it_psql_is \
    "SELECT count(DISTINCT name) FROM daemon_status WHERE state = 'up'" 5
http admin GET /api/v1/status
expect 200 "status for an administrator"
got=$(json '[.daemons[] | select(.state == "up") | .name] | unique | join(",")')
want=$(q "SELECT string_agg(DISTINCT name, ',' ORDER BY name) FROM daemon_status WHERE state = 'up'")
[[ $got == "$want" && $got == approval,gateway,intake,survey,ticket-router ]] ||
    it_fail "status lists '$got', the store has '$want' up: $OUT"
[[ $(json '[.daemons[] | (.pid > 0) and (.started_at <= .last_seen) and (.instance | length > 0)] | all') == true &&
    $(json '.now > 0') == true ]] || it_fail "status fields: $OUT"
[[ $(hdr Cache-Control) == no-store ]] || it_fail "status may be cached: $(hdr Cache-Control)"
it_note "status: administrators only (decided by the store), every running daemon"

# ---- watchlist through the gateway ----------------------------------------------------------
http cs.wang GET '/api/v1/watchlist?limit=5'
expect 200 "watchlist for a head"
[[ $(json '[has("approvals_at_risk"), has("owners_at_risk"), has("promoters"), .approvals_more] | map(tostring) | join(",")') == true,true,true,false ]] ||
    it_fail "watchlist answer: $OUT"
http agent.li GET /api/v1/watchlist
expect 403 forbidden "watchlist for an agent"
http cs.wang GET '/api/v1/watchlist?limit=0'
expect 400 bad_value "watchlist limit 0"
it_note "the console's gateway routes are as the model says"
