#!/usr/bin/env bash
# kefu — the manager's dashboard and the operator's status page in headless
# Chromium (dashboard.py): a month of activity (dashboard_fixture.sql, and a
# complaint submitted, answered and resolved through the real daemons), the
# figures on the page against `kefu report`, the 12-month chart against the
# targets, the watchlist against `kefu watchlist`, every daemon on the status
# page against the store's daemon_status, and an agent refused it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/gateway_lib.sh"
source "$HERE/browser_lib.sh"

br_init browser_dashboard
br_system
psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" -f "$HERE/dashboard_fixture.sql" >/dev/null ||
    it_fail "loading dashboard_fixture.sql failed"

# One complaint through the daemons: submitted, routed, answered, resolved.
NO=$(it_as agent.li kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone 13922220009 --name 看板业主 --summary '看板测试：厨房漏水' \
    --detail '业主来电：厨房天花板渗水' --idem "dash-$$") || it_fail "kefu submit failed"
it_wait_for "$NO to be routed" 30 it_psql_is "SELECT status FROM ticket WHERE no = '$NO'" routed
OWNER=$(it_psql "SELECT owner_id FROM ticket WHERE no = '$NO'")
it_as "$OWNER" kefu respond "$NO" --note '已联系业主，明早上门' >/dev/null || it_fail "kefu respond failed"
it_as "$OWNER" kefu resolve "$NO" --note '已修复' >/dev/null || it_fail "kefu resolve failed"
it_note "submitted, answered and resolved $NO as $OWNER"

br_journey dashboard.py
