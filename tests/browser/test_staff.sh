#!/usr/bin/env bash
# kefu — the staff screens in headless Chromium (staff.py): the queues, the
# ticket page's actions against the store, search, the overdue queue, and a
# queue of 10,000 tickets paged by the server (timings reported).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/gateway_lib.sh"
source "$HERE/browser_lib.sh"

br_init browser_staff
br_system
br_journey staff.py
