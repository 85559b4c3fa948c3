#!/usr/bin/env bash
# A request server hands back the memory of client connections once they
# close (kf_server_idle), also when none of them sent a request: 1,000 idle
# CURVE connections to kefu-intake (libzmq keeps some 36 KiB for each) must
# raise its resident size by 15 MiB or more, and closing them must bring it
# back within 8 MiB of where it was, with no request in between.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init server_trim
it_pg_start
AGENT=$(it_cert agent.li)
it_start bus
it_start intake
it_wait_for "intake to answer" 30 env KEFU_CERT="$AGENT" kefu tickets --limit 1
conns=$KEFU_BUILD_DIR/tests/integration/kefu-test-connections
[[ -x $conns ]] || it_fail "$conns is not built"
pid=$(it_pid intake)
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
rss_below() { (($(rss) < $1)); }
rss_above() { (($(rss) > $1)); }
sleep 1.5 # the request above may still be trimmed: start from where that leaves it
before=$(rss)

exec 3> >(exec "$conns" "$AGENT" "$KEFU_INTAKE" 1000 >"$IT_DIR/conns.out" 2>"$IT_DIR/conns.err")
it_wait_for "1,000 connections to raise intake's resident size by 15 MiB" 30 \
    rss_above $((before + 15 * 1024))
open=$(rss)
exec 3>&- # the helper closes every connection and exits
it_wait_for "intake's resident size back within 8 MiB of $before kB" 15 \
    rss_below $((before + 8 * 1024))
it_note "resident kB: $before before, $open with 1,000 connections, $(rss) after they closed"
it_note "ok"
