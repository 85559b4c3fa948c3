#!/usr/bin/env bash
# The OpenAPI document answers as the gateway does (issue 13, item 3): with
# real daemons, a real store and kefu-gateway, openapi_conformance.py signs
# in, submits, calls every documented GET (those for managers or
# administrators only also as an administrator) and three refusals, and checks
# each status is one the document lists for that operation and each body
# validates against the documented schema (strict: a key the document does
# not name fails). The document it reads is the one the gateway serves at
# /api/v1/openapi.json, which must also equal the build's openapi.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init openapi_conformance
gw_daemons
gw_start gateway
export KEFU_PW='conformance pass 2026'
# Seeds, so that the watchlist's lists have entries whose schema is checked:
# a complaint reopened, a low score and a promoter, an approval promised
# within 48 h.
psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" >/dev/null <<'SQL' || it_fail "the seeds failed"
BEGIN;
INSERT INTO homeowner (phone, name) VALUES ('13977770001', '一致性');
INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id, summary,
                    created_by, owner_id)
SELECT 'KF-2026-700001', 'complaint', 'other', 'phone', 'normal', 'submitted', 'HZ-XH', id,
       'conformance seed', 'agent.li', 'agent.li' FROM homeowner WHERE phone = '13977770001';
INSERT INTO ticket_history (ticket_id, action) SELECT id, 'reopened' FROM ticket WHERE no = 'KF-2026-700001';
INSERT INTO survey (ticket_id, homeowner_id, kind, due_at, sent_at, answered_at, score, nps)
SELECT t.id, t.homeowner_id, 'campaign', now(), now(), now(), s.score, s.nps
  FROM ticket t, (VALUES (1, 2), (5, 10)) s(score, nps) WHERE t.no = 'KF-2026-700001';
INSERT INTO approval_request (ticket_id, request_type, amount_fen, reason, promised_date, promised_at,
                              policy_id, requested_by)
SELECT id, 'refund', 1000, 'conformance seed', current_date, now() + interval '1 hour', 't-race',
       'agent.li' FROM ticket WHERE no = 'KF-2026-700001';
COMMIT;
SQL
gw_passwd agent.li "$KEFU_PW"
gw_passwd admin "$KEFU_PW"

http - GET /api/v1/openapi.json
expect 200 "the OpenAPI document"
jq -S . <<<"$OUT" >"$IT_DIR/served.json"
jq -S . "$KEFU_BUILD_DIR/common/generated/openapi.json" >"$IT_DIR/built.json"
cmp -s "$IT_DIR/served.json" "$IT_DIR/built.json" ||
    it_fail "the gateway serves another document than the build's openapi.json"
[[ $(jq -r .openapi <<<"$OUT") == 3.1.* ]] || it_fail "the document is not OpenAPI 3.1"

python3 "$KEFU_SOURCE_DIR/tests/integration/openapi_conformance.py" --base "$GW_URL" \
    --staff agent.li --admin admin --password-env KEFU_PW >"$IT_DIR/log/conformance.log" 2>&1 ||
    it_fail "the gateway does not answer as its OpenAPI document says:
$(tail -20 "$IT_DIR/log/conformance.log")"
tail -1 "$IT_DIR/log/conformance.log" | sed 's/^/  /' >&2
grep -q ' 0 failed' "$IT_DIR/log/conformance.log" || it_fail "no summary line in the conformance log"
it_note "passed"
