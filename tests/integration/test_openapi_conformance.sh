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
