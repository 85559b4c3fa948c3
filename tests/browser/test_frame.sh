#!/usr/bin/env bash
# kefu — the web console's frame in headless Chromium (frame.py): sign-in,
# language per staff member, navigation by role, an agent refused the
# administrators' page, security headers, sign-in again after a revocation.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/gateway_lib.sh"
source "$HERE/browser_lib.sh"

br_init browser_frame
br_system
br_journey frame.py
