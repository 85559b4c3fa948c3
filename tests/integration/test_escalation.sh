#!/usr/bin/env bash
# Escalation with short SLAs from the store (complaint/normal: first response
# 2 s, resolution 4 s, 2 s at each level) and TWO router instances sharing
# the deadline scan (KEFU_ROUTER_SCAN_MS=200):
#  - an unanswered complaint (normal priority) routed to eng.zhao escalates for
#    first_response_overdue to level 1 (eng.liu, his manager), level 2
#    (eng.sun, the department head), level 3 (gm.hz, the project GM): each
#    step one 'escalated' history row and one ticket.escalated event, and then
#    no more;
#  - a responded complaint escalates for resolution_overdue instead, not
#    before its resolution deadline (high priority, set to first response
#    10 s, resolution 14 s, 2 s a level: time to respond on a loaded machine);
#  - a resolved complaint never escalates;
#  - under contention (40 more complaints) no escalation happens twice;
#  - finally, SIGHUP makes a router re-read its policies and keep running
#    (kefu-router --help: "SIGHUP reloads the policies").
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

it_init escalation
rc_init
export KEFU_ROUTER_SCAN_MS=200
export KEFU_ROUTER_CATCHUP_MS=200
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
# Issued now: the owner's answers below race short deadlines.
ZHAO=$(it_cert eng.zhao)
it_start bus
it_start intake
it_wait_for "intake to answer" 30 kefu tickets --limit 1

# Short SLAs in the store, read by the routers as they start. B and C are
# high priority, with room to respond (or resolve) before a deadline even on
# a loaded machine.
it_psql "UPDATE sla_policy SET first_response_secs = 2, resolve_secs = 4, escalate_secs = 2
          WHERE kind = 'complaint' AND priority = 'normal';
         UPDATE sla_policy SET first_response_secs = 10, resolve_secs = 14, escalate_secs = 2
          WHERE kind = 'complaint' AND priority = 'high'"
it_start router
it_start router@2
it_wait_for "router to load its policies" 10 grep -q 'event=policies.loaded' "$(it_log router)"
it_wait_for "router@2 to load its policies" 10 grep -q 'event=policies.loaded' "$(it_log router@2)"

submit() {
    kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --building 2 --unit "$1" --phone "1390000$1" --priority "$2" --summary "$3"
}
A=$(submit 1101 normal '楼顶渗水，无人回复（升级测试 A）')
B=$(submit 1102 high '窗台渗水，已回复未解决（升级测试 B）')
C=$(submit 1103 high '阳台渗水，当场解决（升级测试 C）')
it_note "A=$A (unanswered) B=$B (responded) C=$C (resolved)"
rc_load_start load 40 2
for no in "$A" "$B" "$C"; do
    it_wait_for "$no to be routed" 20 it_psql_is "SELECT routed_at IS NOT NULL FROM ticket WHERE no = '$no'" t
done
routed_to=$(it_psql "SELECT string_agg(h.to_owner || '/' || t.responsible_id, ' ' ORDER BY t.no)
                       FROM ticket t JOIN ticket_history h ON h.ticket_id = t.id AND h.action = 'routed'
                      WHERE t.no IN ('$A', '$B', '$C')")
[[ $routed_to == "eng.zhao/gm.hz eng.zhao/gm.hz eng.zhao/gm.hz" ]] ||
    it_fail "not routed to eng.zhao with gm.hz responsible: $routed_to"
[[ $(it_psql "SELECT bool_and(abs(extract(epoch FROM first_response_due - received_at)
                     - CASE priority WHEN 'normal' THEN 2 ELSE 10 END) < 0.01
                 AND abs(extract(epoch FROM resolve_due - received_at)
                     - CASE priority WHEN 'normal' THEN 4 ELSE 14 END) < 0.01)
              FROM ticket WHERE no IN ('$A', '$B', '$C')") == t ]] ||
    it_fail "the short SLAs were not applied: $(it_psql "SELECT no, first_response_due - received_at,
             resolve_due - received_at FROM ticket WHERE no IN ('$A', '$B', '$C')")"
kefu --cert "$ZHAO" respond "$B" --note '已派人查看' >/dev/null
kefu --cert "$ZHAO" respond "$C" >/dev/null
kefu --cert "$ZHAO" resolve "$C" --note '已修复' >/dev/null
[[ $(it_psql "SELECT responded_at < first_response_due FROM ticket WHERE no = '$B'") == t ]] ||
    it_fail "B was responded only after its first-response deadline; the test cannot tell the reasons apart"
rc_load_wait 30
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS"

it_wait_for "$A to reach level 3" 30 it_psql_is "SELECT escalation_level FROM ticket WHERE no = '$A'" 3
it_wait_for "$B to reach level 3" 40 it_psql_is "SELECT escalation_level FROM ticket WHERE no = '$B'" 3
it_wait_for "every complaint to stop escalating" 30 \
    it_psql_is "SELECT count(*) FROM ticket WHERE next_escalation_at IS NOT NULL AND status <> 'resolved'" 0
# Give a wrongful fourth step, or a second instance's duplicate, time to show.
sleep 3

it_running router || it_fail "router died"
it_running router@2 || it_fail "router@2 died"

# Escalation steps of ticket $1 as "level:from>to:reason" lines, from history and events.
steps() {
    it_psql "SELECT string_agg(h.level || ':' || h.from_owner || '>' || h.to_owner || ':' || h.reason, ' '
                               ORDER BY h.id)
               FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
              WHERE t.no = '$1' AND h.action = 'escalated'"
}
events() {
    it_psql "SELECT string_agg((body->>'level') || ':' || (body->>'from') || '>' || (body->>'to') || ':' ||
                               (body->>'reason'), ' ' ORDER BY seq)
               FROM event WHERE type = 'ticket.escalated' AND corr = '$1'"
}
want_a="1:eng.zhao>eng.liu:first_response_overdue 2:eng.liu>eng.sun:first_response_overdue 3:eng.sun>gm.hz:first_response_overdue"
want_b="1:eng.zhao>eng.liu:resolution_overdue 2:eng.liu>eng.sun:resolution_overdue 3:eng.sun>gm.hz:resolution_overdue"
[[ $(steps "$A") == "$want_a" ]] || it_fail "A's escalation history: '$(steps "$A")', expected '$want_a'"
[[ $(events "$A") == "$want_a" ]] || it_fail "A's ticket.escalated events: '$(events "$A")', expected '$want_a'"
[[ $(steps "$B") == "$want_b" ]] || it_fail "B's escalation history: '$(steps "$B")', expected '$want_b'"
[[ $(events "$B") == "$want_b" ]] || it_fail "B's ticket.escalated events: '$(events "$B")', expected '$want_b'"
[[ -z $(steps "$C") && -z $(events "$C") ]] || it_fail "the resolved C escalated: $(steps "$C")"
[[ $(it_psql "SELECT owner_id || ' ' || escalation_level FROM ticket WHERE no = '$A'") == "gm.hz 3" ]] ||
    it_fail "A does not end with gm.hz at level 3"

# Each step waited for its deadline: level 1 of A after its first-response
# deadline, of B after its resolution deadline; each later level >= 2 s on.
late=$(it_psql "SELECT count(*) FROM ticket t JOIN ticket_history h ON h.ticket_id = t.id
                 WHERE t.no IN ('$A', '$B') AND h.action = 'escalated' AND h.level = 1
                   AND h.at < CASE WHEN t.no = '$A' THEN t.first_response_due ELSE t.resolve_due END")
[[ $late == 0 ]] || it_fail "$late level-1 escalations came before their deadline"
early=$(it_psql "SELECT count(*) FROM (SELECT h.at - lag(h.at) OVER (PARTITION BY h.ticket_id ORDER BY h.id) AS gap
                   FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
                  WHERE t.no IN ('$A', '$B') AND h.action = 'escalated') s
                 WHERE gap < interval '1.9 s'")
[[ $early == 0 ]] || it_fail "$early escalation steps came less than escalate_secs after the previous one"

# No escalation happened twice, for any ticket, in history or in events.
dup=$(it_psql "SELECT count(*) FROM (SELECT ticket_id, level FROM ticket_history WHERE action = 'escalated'
                GROUP BY 1, 2 HAVING count(*) > 1) d")
[[ $dup == 0 ]] || it_fail "$dup (ticket, level) escalations recorded twice"
dup=$(it_psql "SELECT count(*) FROM (SELECT corr, body->>'level' FROM event WHERE type = 'ticket.escalated'
                GROUP BY 1, 2 HAVING count(*) > 1) d")
[[ $dup == 0 ]] || it_fail "$dup (ticket, level) ticket.escalated events twice"
mismatch=$(it_psql "SELECT count(*) FROM ticket t WHERE t.escalation_level <> (SELECT count(*) FROM ticket_history h
                     WHERE h.ticket_id = t.id AND h.action = 'escalated')
                     OR (SELECT count(*) FROM ticket_history h WHERE h.ticket_id = t.id AND h.action = 'escalated')
                     <> (SELECT count(*) FROM event e WHERE e.type = 'ticket.escalated' AND e.corr = t.no)")
[[ $mismatch == 0 ]] || it_fail "$mismatch tickets whose level, escalated rows and events disagree"
total=$(it_psql "SELECT count(*) FROM ticket_history WHERE action = 'escalated'")
by1=$(grep -c 'event=ticket.escalated' "$(it_log router)" || true)
by2=$(grep -c 'event=ticket.escalated' "$(it_log router@2)" || true)
it_note "$total escalations over $(rc_count) tickets: $by1 by router, $by2 by router@2"
(( by1 + by2 == total )) || it_fail "the routers logged $((by1 + by2)) escalations, the store holds $total"

# SIGHUP reloads the policies; the router keeps running.
loaded=$(grep -c 'event=policies.loaded' "$(it_log router@2)" || true)
it_kill router@2 HUP
sleep 1
it_running router@2 || it_fail "router@2 stopped on SIGHUP instead of reloading its policies: $(tail -n 2 "$(it_log router@2)")"
it_wait_for "router@2 to reload its policies after SIGHUP" 10 \
    bash -c "(( \$(grep -c 'event=policies.loaded' '$(it_log router@2)') > $loaded ))"
