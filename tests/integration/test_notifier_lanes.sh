#!/usr/bin/env bash
# The notifier applies fresh events on several store connections at once
# (KEFU_NOTIFY_CONNECTIONS; issue 16, item 2: the next burst is applied
# while the store flushes the last one's commit). A gate (gate_lib.sh)
# holds at its commit the transaction that inserts the messages of a
# gated ticket's ticket.submitted.
#  (i)   while it waits, those messages are not in the store and nothing of
#        them is sent, and the messages of a ticket submitted meanwhile are
#        made and sent (with one connection this part fails: the notifier
#        would wait for the gate);
#  (ii)  once the gate opens, the gated messages are sent, each once;
#  (iii) the connection of a waiting transaction is terminated: the
#        notifier goes on, says the burst was left for catch-up, and
#        catch-up makes and sends those messages, once;
#  (iv)  under kefu-load, the connections applying events are terminated
#        one at a time: every event gets its messages exactly once, and
#        each message is written to the file channel exactly once.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"
source "$here/gate_lib.sh"

N=1500
GATE=4218
FILE=
it_init notifier_lanes
rc_init
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
FILE=$IT_DIR/notifications.jsonl
gate_install $GATE "AFTER INSERT ON notification" \
    "NEW.event_type = 'ticket.submitted' AND EXISTS (SELECT 1 FROM ticket t
       WHERE t.no = NEW.ticket_no AND t.summary LIKE 'gated%')"
it_start bus
it_start intake
it_start router
NOTIFIER=(KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_POLL_MS=50
          KEFU_NOTIFY_CONNECTIONS=2)
# Catch-up only once, at the start: (i) to (iii) see the doorbell's work alone.
it_start notifier "${NOTIFIER[@]}" KEFU_NOTIFY_CATCHUP_MS=3600000
it_wait_for "intake to answer" 30 kefu tickets --limit 1

q() { it_psql "$1"; }
# submit SUMMARY PHONE: prints the new ticket's number.
submit() {
    local out
    out=$(kefu --timeout 30000 submit --kind complaint --category leak --channel phone \
        --project HZ-XH --phone "139000040$2" --summary "$1" 2>&1) || it_fail "submit: $out"
    grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1
}
# made NO TYPE: the messages of the ticket's event of that type in the store.
made() { q "SELECT count(*) FROM notification WHERE ticket_no = '$1' AND event_type = '$2'"; }
# all_sent NO: the ticket has messages of both its events, all sent.
all_sent() {
    it_psql_is "SELECT count(DISTINCT event_type) = 2 AND bool_and(status = 'sent')
                  FROM notification WHERE ticket_no = '$1'" t
}
# sent_once NO: each of the ticket's messages once in the store and once in
# the file, for each of its two events.
sent_once() {
    local ids n lines
    ids=$(q "SELECT string_agg(id::text, ' ') FROM notification WHERE ticket_no = '$1'")
    n=$(wc -w <<<"$ids")
    ((n > 0)) || it_fail "$1 has no messages"
    for id in $ids; do
        lines=$(grep -c "^{\"id\":$id," "$FILE" || true)
        [[ $lines == 1 ]] || it_fail "message $id of $1 is written $lines times to the file"
    done
    [[ $(q "SELECT count(*) FROM (SELECT 1 FROM processed_event p JOIN event e ON e.id = p.event_id
                                   WHERE p.consumer = 'notifier' AND e.corr = '$1'
                                     AND e.type IN ('ticket.submitted', 'ticket.routed')
                                     AND p.outcome = 'applied') x") == 2 ]] ||
        it_fail "$1's two events are not each applied once by the notifier"
}

# ---- (i) a burst waits at its commit; another connection applies ------------
gate_close $GATE
a=$(submit "gated: the first report" 01)
gate_wait kefu-notifier-apply "the gated messages to wait at their commit"
b=$(submit "an ordinary report" 02)
it_wait_for "$b's messages to be sent while $a's wait at their commit" 30 all_sent "$b"
[[ $(made "$a" ticket.submitted) == 0 ]] || it_fail "the gated messages of $a are visible before their commit"
[[ $(gate_waiting kefu-notifier-apply) == 1 ]] || it_fail "the gated messages no longer wait at their commit"
it_note "(i) passed: $b's messages sent while $a's waited at their commit"

# ---- (ii) the gate opens ---------------------------------------------------------
gate_open
it_wait_for "$a's messages to be sent once the gate opened" 30 all_sent "$a"
sent_once "$a"
sent_once "$b"
it_note "(ii) passed: $a's messages sent once after their commit"

# ---- (iii) the connection of a waiting burst fails ---------------------------------
gate_close $GATE
c=$(submit "gated: the third report" 03)
gate_wait kefu-notifier-apply "the third ticket's messages to wait at their commit"
gate_break kefu-notifier-apply
gate_open
for k in 4 5 6; do # the notifier goes on; the failed connection reconnects
    d=$(submit "after the failure $k" "1$k")
    it_wait_for "$d's messages to be sent after a failed connection" 30 all_sent "$d"
    sent_once "$d"
done
it_wait_for "the notifier to say the burst was left for catch-up" 30 \
    grep -q 'work.deferred.*the commit failed; left for catch-up' "$(it_log notifier)"
[[ $(made "$c" ticket.submitted) == 0 ]] ||
    it_fail "$c's messages were made though their connection failed before the commit"
it_kill notifier TERM
it_start notifier "${NOTIFIER[@]}" KEFU_NOTIFY_CATCHUP_MS=200
it_wait_for "catch-up to make and send $c's messages" 30 all_sent "$c"
sent_once "$c"
it_note "(iii) passed: the failed burst was left for catch-up, which sent $c's messages once"

# ---- (iv) connections terminated under load -----------------------------------------
per_ticket=$(q "SELECT count(*) FROM notification WHERE ticket_no = '$b'")
rc_load_start load "$N" 8
kills=0
while rc__load_running; do # an applying connection terminated every 20 tickets stored
    pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'kefu-notifier-apply'
               ORDER BY random() LIMIT 1")
    [[ -n $pid && $(q "SELECT pg_terminate_backend($pid)") == t ]] && kills=$((kills + 1))
    at=$(($(rc_count) + 20))
    while rc__load_running && (($(rc_count) < at)); do sleep 0.02; done
done
rc_load_wait 30
((kills >= 3)) || it_fail "only $kills connections were terminated during the load; the test proves nothing"
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS"
it_wait_for "every message of the load to be sent" 60 it_psql_is \
    "SELECT count(*) FROM ticket t WHERE t.idem_key LIKE 'load-%' AND $per_ticket <>
       (SELECT count(*) FILTER (WHERE n.status = 'sent') FROM notification n WHERE n.ticket_no = t.no)" 0
[[ $(q "SELECT count(*) FROM ticket t WHERE t.idem_key LIKE 'load-%' AND $per_ticket <>
          (SELECT count(*) FROM notification n WHERE n.ticket_no = t.no)") == 0 ]] ||
    it_fail "a ticket of the load has more or fewer messages than $per_ticket"
dups=$(grep -oE '^\{"id":[0-9]+' "$FILE" | sort | uniq -d | wc -l)
[[ $dups == 0 ]] || it_fail "$dups messages are written to the file more than once"
lines=$(grep -c '^{"id":' "$FILE") sent=$(q "SELECT count(*) FROM notification WHERE status = 'sent'")
[[ $lines == "$sent" ]] || it_fail "the file holds $lines messages, the store $sent sent (every channel is the file here)"
it_running notifier || it_fail "the notifier died"
it_note "(iv) passed: $N tickets, $per_ticket messages each, each written once, with $kills connections terminated"
it_note "PASS"
