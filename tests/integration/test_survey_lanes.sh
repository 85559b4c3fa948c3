#!/usr/bin/env bash
# kefu-survey turns fresh resolutions into surveys on several store
# connections at once (KEFU_SURVEY_RESOLVED_CONNECTIONS=2; issue 16, item 2:
# the next burst is applied while the store flushes the last one's commit).
# A gate (lanes_lib.sh) holds at its commit the transaction that creates the
# survey of a ticket whose summary starts "gated". Each ticket is submitted,
# routed, responded to and resolved by its owner, as in the field.
#  (i)   while it waits, that survey is not in the store, and the survey of
#        a ticket resolved meanwhile is created on another connection (with
#        one connection this part fails: kefu-survey would wait for the gate);
#  (ii)  once the gate opens, the gated survey is created, once;
#  (iii) the gated transaction's connection is terminated while it waits:
#        kefu-survey goes on with fresh resolutions, says the burst was left
#        for catch-up, and catch-up creates that survey, once.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"
source "$here/lanes_lib.sh"

GATE=4219
it_init survey_lanes
rc_init
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
gate_install $GATE "AFTER INSERT ON survey" \
    "EXISTS (SELECT 1 FROM ticket t WHERE t.id = NEW.ticket_id AND t.summary LIKE 'gated%')"
it_start bus
it_start intake
it_start router
SURVEY=(KEFU_SURVEY_RESOLVED_CONNECTIONS=2 KEFU_SURVEY_DELAY_S=3600)
# Catch-up only once, at the start: (i) to (iii) see the doorbell's work alone.
it_start survey "${SURVEY[@]}" KEFU_SURVEY_CATCHUP_MS=3600000
it_wait_for "intake to answer" 30 kefu tickets --limit 1
it_wait_for "kefu-survey to start" 30 grep -q 'event=survey.started.*resolved_connections=2' \
    "$(it_log survey)"

q() { it_psql "$1"; }
# resolved SUMMARY PHONE: a complaint submitted, routed, responded to and
# resolved by its owner; prints its number (LANES_MAKE).
resolved() {
    local no owner
    no=$(lanes_submit "$1" "$2")
    it_wait_for "$no to be routed" 30 it_psql_is "SELECT status FROM ticket WHERE no = '$no'" routed
    owner=$(q "SELECT owner_id FROM ticket WHERE no = '$no'")
    kefu --cert "$(it_cert "$owner")" respond "$no" --note '已联系业主' >/dev/null ||
        it_fail "$owner could not respond to $no"
    kefu --cert "$(it_cert "$owner")" resolve "$no" --note '已修复' >/dev/null ||
        it_fail "$owner could not resolve $no"
    echo "$no"
}
LANES_MAKE=resolved
surveys() { q "SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$1'"; }
made() { [[ $(surveys "$1") -ge 1 ]]; }
unmade() { [[ $(surveys "$1") == 0 ]]; }
# once NO: one survey, and the ticket's ticket.resolved applied once.
once() {
    [[ $(surveys "$1") == 1 ]] || it_fail "$1 has $(surveys "$1") surveys, expected 1"
    [[ $(q "SELECT count(*) FROM processed_event p JOIN event e ON e.id = p.event_id
             WHERE p.consumer = 'survey' AND e.corr = '$1' AND e.type = 'ticket.resolved'
               AND p.outcome = 'applied'") == 1 ]] ||
        it_fail "$1's ticket.resolved is not applied once by kefu-survey"
}

# ---- (i), (ii) a burst waits at its commit; another connection applies ----
lanes_overlap $GATE kefu-survey-resolved made once unmade

# ---- (iii) the connection of a waiting burst fails ---------------------------------
lanes_failed_commit $GATE survey kefu-survey-resolved made once unmade \
    "${SURVEY[@]}" KEFU_SURVEY_CATCHUP_MS=200
it_running survey || it_fail "kefu-survey died"
