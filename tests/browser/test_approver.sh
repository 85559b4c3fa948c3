#!/usr/bin/env bash
# kefu — the approver's inbox at phone size in headless Chromium
# (approver.py): a step appears live, approve in one tap with a comment, a
# rejection without a comment refused before sending, a delegate set and
# cleared.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/gateway_lib.sh"
source "$HERE/browser_lib.sh"

br_init browser_approver
br_system
br_journey approver.py
