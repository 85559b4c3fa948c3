#!/usr/bin/env bash
# The outbox feed never skips an event that committed late, and applies
# each committed event exactly once (issue item 8c). Real PostgreSQL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init feed_order
it_pg_start
"$KEFU_BUILD_DIR/tests/integration/kefu-test-feed-order"
