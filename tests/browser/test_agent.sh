#!/usr/bin/env bash
# kefu — the agent's call screen in headless Chromium (agent.py): time to
# interactive, the CTI screen-pop for the agent whose extension took the
# call (not another), a complaint logged from the owner card (one ticket for
# a double click, user text shown as text), its routing live, the lookup by
# phone and the new-owner form, the field checks before sending, and a
# session that ends mid-form.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/gateway_lib.sh"
source "$HERE/browser_lib.sh"

br_init browser_agent
br_system

# A known owner from the sales system's list, with two units and one
# earlier ticket; and the phone system's integration token.
cat >"$IT_DIR/owners.csv" <<'CSV'
name,phone,project,building,unit,segment,lang
王建国,138 0013 8000,HZ-XH,3,1201,改善,zh
王建国,138 0013 8000,SH-PD,1,502,改善,zh
CSV
kefu-admin import-owners "$IT_DIR/owners.csv" >"$IT_DIR/log/import-owners.log" 2>&1 ||
    it_fail "kefu-admin import-owners: $(cat "$IT_DIR/log/import-owners.log")"
it_as agent.chen kefu submit --kind repair --category plumbing --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone 13800138000 --summary '厨房下水道堵塞' >"$IT_DIR/log/first.log" 2>&1 ||
    it_fail "kefu submit: $(cat "$IT_DIR/log/first.log")"
export KEFU_PBX_TOKEN
KEFU_PBX_TOKEN=$(kefu-admin --json token create pbx --scope calls 2>/dev/null | jq -r .token)
[[ $KEFU_PBX_TOKEN == kit_* ]] || it_fail "kefu-admin token create pbx: '$KEFU_PBX_TOKEN'"
export KEFU_OWNER_PHONE=13800138000 KEFU_OWNER_NAME=王建国

br_journey agent.py
