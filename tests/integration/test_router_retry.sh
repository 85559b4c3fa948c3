#!/usr/bin/env bash
# A ticket whose routing failed is routed once rules that match it come
# (deploy/README.md §9, "Tickets stay unrouted"). Two router instances, which
# re-read their rules only on SIGHUP here:
#  1. the store has no routing rules at all: complaint A (leak) is marked
#     failed by the router's catch-up and stays unrouted;
#  2. an import brings rules, but none for leaks and no default; after
#     SIGHUP the routers try A again (it stays failed, with the new reason),
#     complaint B (leak) fails too, complaint C (heating) is routed;
#  3. SIGHUP with the same rules tries nothing again;
#  4. the whole organisation (leak rule, default rule) is imported; after
#     SIGHUP A and B are routed, each exactly once: one 'routed' history
#     row, one ticket.routed event, one processed_event row (now applied).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"

it_init router_retry
export KEFU_ROUTER_CATCHUP_MS=200 KEFU_ROUTER_RELOAD_MS=86400000
it_pg_start
q() { it_psql "$1"; }
q "DELETE FROM routing_rule" >/dev/null
it_start bus
it_start intake
it_start router
it_start router@2
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1

submit() { # CATEGORY UNIT: prints the ticket number
    it_as agent.li kefu submit --kind complaint --category "$1" --channel phone --project HZ-XH \
        --building 3 --unit "$2" --phone "1390000$2" --summary "路由重试测试 $1"
}
mark() { # TICKET: the router's processed_event outcome of its ticket.submitted event
    q "SELECT coalesce(string_agg(p.outcome, ','), 'none') FROM event e
         LEFT JOIN processed_event p ON p.event_id = e.id AND p.consumer = 'ticket-router'
        WHERE e.type = 'ticket.submitted' AND e.corr = '$1'"
}
status() { q "SELECT status FROM ticket WHERE no = '$1'"; }
log_count() { # PATTERN: matching lines in both routers' logs
    cat "$(it_log router)" "$(it_log router@2)" | grep -c -- "$1" || true
}
loads() { log_count 'event=policies.loaded'; }
# For it_wait_for, which runs its command again and again:
is_mark() { [[ $(mark "$1") == "$2" ]]; }
is_status() { [[ $(status "$1") == "$2" ]]; }
logged() { (($(log_count "$2") >= $1)); } # N PATTERN: at least N lines
hup_both() { # waits until both have re-read their rules
    local before
    before=$(loads)
    it_kill router HUP
    it_kill router@2 HUP
    it_wait_for "both routers to re-read their rules" 20 logged $((before + 2)) 'event=policies.loaded'
}

# 1. No rules at all.
it_wait_for "both routers to load their (no) rules" 20 logged 2 'event=policies.loaded'
A=$(submit leak 1201)
it_wait_for "A's routing to be marked failed" 20 is_mark "$A" failed
[[ $(status "$A") == submitted ]] || it_fail "A is $(status "$A") with no rules"

# 2. Rules, but none for leaks and no default one.
jq '.routing_rules |= map(select(.category != "leak" and (.kind // .category // .project) != null))' \
    "$IT_DIR/demo-org.json" >"$IT_DIR/org-no-leak.json"
kefu-admin import "$IT_DIR/org-no-leak.json" >"$IT_DIR/log/import1.log" 2>&1 ||
    it_fail "import without the leak rules: $(tail -n 3 "$IT_DIR/log/import1.log")"
hup_both
it_wait_for "A to be tried again" 20 logged 1 "event=feed.retried .*ticket=$A outcome=failed"
B=$(submit leak 1202)
C=$(submit heating 1203)
it_wait_for "B's routing to be marked failed" 20 is_mark "$B" failed
it_wait_for "C to be routed" 20 is_status "$C" routed
[[ $(mark "$A") == failed && $(status "$A") == submitted ]] ||
    it_fail "A without a matching rule: mark $(mark "$A"), status $(status "$A")"
[[ $(q "SELECT error FROM processed_event p JOIN event e ON e.id = p.event_id
         WHERE e.corr = '$A' AND e.type = 'ticket.submitted'") == *"no routing rule matches"* ]] ||
    it_fail "A's failed mark does not say why"

# 3. The same rules again: nothing is tried again.
retried=$(log_count 'event=feed.retried')
hup_both
sleep 1
[[ $(log_count 'event=feed.retried') == "$retried" ]] ||
    it_fail "unchanged rules made the routers try failed events again"
[[ $(log_count 'changed=no') -ge 2 ]] || it_fail "the reloads of unchanged rules do not say changed=no"

# 4. The whole organisation: A and B are routed, once.
kefu-admin import "$IT_DIR/demo-org.json" >"$IT_DIR/log/import2.log" 2>&1 ||
    it_fail "import of the organisation: $(tail -n 3 "$IT_DIR/log/import2.log")"
hup_both
for t in "$A" "$B"; do
    it_wait_for "$t to be routed after the rules came" 20 is_status "$t" routed
done
sleep 1.5 # let a second routing show itself, if there were one
for t in "$A" "$B" "$C"; do
    got=$(q "SELECT t.owner_id,
                    (SELECT count(*) FROM ticket_history h WHERE h.ticket_id = t.id AND h.action = 'routed'),
                    (SELECT count(*) FROM event e WHERE e.type = 'ticket.routed' AND e.corr = t.no)
               FROM ticket t WHERE t.no = '$t'")
    [[ $got == "eng.zhao|1|1" || ($t == "$C" && $got == "eng.liu|1|1") ]] ||
        it_fail "$t: owner|routed history rows|ticket.routed events = $got"
    [[ $(mark "$t") == applied ]] || it_fail "$t's processed_event marks: $(mark "$t")"
done
[[ $(q "SELECT count(*) FROM processed_event WHERE outcome = 'failed'") == 0 ]] ||
    it_fail "failed marks are left"
[[ $(log_count 'event=feed.retried .*outcome=applied') == 2 ]] ||
    it_fail "the routers logged $(log_count 'event=feed.retried .*outcome=applied') applied retries, expected 2"
it_running router && it_running router@2 || it_fail "a router died"
it_note "A=$A B=$B routed once after the rules came"
