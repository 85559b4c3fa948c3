#!/usr/bin/env bash
# Bad input: tests/integration/bad_input.c throws malformed frames, broken
# msgpack, wrong and missing fields, oversized and non-UTF-8 strings and
# requests the store refuses at intake's ROUTER socket; each must get its
# named reply.error and intake must keep serving good submits. Peers without
# a usable certificate must be refused at the handshake. This script starts
# the servers and afterwards checks that intake is still up, that nothing
# refused reached the store, and that every ticket is agent.li's, whose
# certificate bad_input presents, whatever "actor" a body named.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init bad_input
prog=$KEFU_BUILD_DIR/tests/integration/bad_input
[[ -x $prog ]] || it_fail "$prog is not built"

it_start_routing

status=0
"$prog" || status=$?

it_running intake || it_fail "intake is no longer running after the bad input"
# Intake still answers an ordinary client.
kefu tickets --limit 1 >/dev/null || it_fail "intake does not answer kefu tickets after the bad input"
refused=$(it_psql "SELECT count(*) FROM ticket WHERE summary NOT IN ('good submit after bad input')")
[[ $refused == 0 ]] || it_fail "$refused refused submits were stored anyway"
good=$(it_psql "SELECT count(*) FROM ticket")
it_note "$good good submits stored"
[[ $good -gt 50 ]] || it_fail "only $good good submits reached the store"
# Every stored ticket is whole: its history row and its event.
half=$(it_psql "SELECT count(*) FROM ticket t WHERE NOT EXISTS (SELECT 1 FROM ticket_history h
                WHERE h.ticket_id = t.id AND h.action = 'submitted') OR NOT EXISTS (SELECT 1
                FROM event e WHERE e.type = 'ticket.submitted' AND e.corr = t.no)")
[[ $half == 0 ]] || it_fail "$half tickets lack their history row or event"
others=$(it_psql "SELECT count(*) FROM ticket t WHERE created_by <> 'agent.li' OR EXISTS (SELECT 1
                  FROM ticket_history h WHERE h.ticket_id = t.id AND h.action = 'submitted'
                  AND h.actor IS DISTINCT FROM 'agent.li')")
[[ $others == 0 ]] || it_fail "$others tickets were made in another name than the certificate's"
[[ $status == 0 ]] || it_fail "bad_input reported failures (status $status)"
