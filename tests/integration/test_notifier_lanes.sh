#!/usr/bin/env bash
# The notifier applies fresh events on several store connections at once
# (KEFU_NOTIFY_CONNECTIONS; issue 16, item 2: the next burst is applied
# while the store flushes the last one's commit). A gate (gate_lib.sh)
# (lanes_lib.sh) holds at its commit the transaction that inserts the
# messages of a gated ticket's ticket.submitted.
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
source "$here/lanes_lib.sh"

N=2500
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
# made NO TYPE: the messages of the ticket's event of that type in the store.
made() { q "SELECT count(*) FROM notification WHERE ticket_no = '$1' AND event_type = '$2'"; }
unmade() { [[ $(made "$1" ticket.submitted) == 0 ]]; }
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

# ---- (i), (ii) a burst waits at its commit; another connection applies ----
lanes_overlap $GATE kefu-notifier-apply all_sent sent_once unmade

# ---- (iii) the connection of a waiting burst fails ---------------------------------
lanes_failed_commit $GATE notifier kefu-notifier-apply all_sent sent_once unmade \
    "${NOTIFIER[@]}" KEFU_NOTIFY_CATCHUP_MS=200

# ---- (iv) connections terminated under load -----------------------------------------
per_ticket=$(q "SELECT count(*) FROM notification WHERE ticket_no = '$LANES_B'")
lanes_load_terminating "$N" kefu-notifier-apply
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
it_note "(iv) passed: $LANES_SENT tickets, $per_ticket messages each, each written once, with $LANES_KILLS connections terminated"
