#!/usr/bin/env bash
# Smoke test: an agent submits a complaint through intake; the router gives it
# an owner; the ticket is 'routed' with exactly one 'routed' history row.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init smoke
it_pg_start
it_start bus
it_start intake
it_start router

export KEFU_CERT=$(it_cert agent.li)
it_wait_for "intake to answer" 30 kefu tickets --limit 1

out=$(kefu submit --kind complaint --category leak --channel phone \
      --project HZ-XH --building 3 --unit 1201 --phone 13800138000 \
      --summary "卫生间漏水 (smoke test)") || it_fail "kefu submit failed: $out"
no=$(grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1 || true)
[[ -n $no ]] || it_fail "kefu submit printed no ticket number: $out"
it_note "submitted $no"

[[ $(it_psql "SELECT count(*) FROM ticket WHERE no = '$no'") == 1 ]] ||
    it_fail "$no is not in the store after intake answered"

it_wait_for "$no to be routed" 30 it_psql_is "SELECT status FROM ticket WHERE no = '$no'" routed

owner=$(it_psql "SELECT owner_id FROM ticket WHERE no = '$no'")
[[ -n $owner ]] || it_fail "$no is routed but has no owner"

routed=$(it_psql "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
                  WHERE t.no = '$no' AND h.action = 'routed'")
[[ $routed == 1 ]] || it_fail "$no has $routed 'routed' history rows, expected exactly 1"

show=$(kefu ticket show "$no") || it_fail "kefu ticket show $no failed: $show"
grep -q "$no" <<<"$show" || it_fail "kefu ticket show does not name $no: $show"
it_note "$no routed to $owner"
