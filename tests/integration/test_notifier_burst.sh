#!/usr/bin/env bash
# The notifier applies a burst of events together (its apply_batch: one
# transaction, a few statements for the whole burst). Each usable event of
# a burst gets its messages exactly once, none is skipped, and an event it
# cannot use (an unknown ticket, staff member or homeowner, a body of the
# wrong shape) is recorded as failed with its reason, leaves no message and
# takes nothing from the events around it.
#   1. Catch-up: a burst written in one transaction while no notifier runs,
#      good and bad events interleaved (each body says how many messages it
#      must make: "expect", -1 for a bad one), is applied in one pass
#      without falling back to one by one.
#   2. The doorbell: tickets submitted while the notifier runs (catch-up an
#      hour away) are applied by the bursts the bus brings.
# Throughout, the notifier's own count of messages made equals the rows in
# the store: a message made twice (hidden by the store's unique
# constraint) would show there. Every message here is due at once, so it
# is inserted claimed (migration 036) and written once more, when settled:
# the table's updates are exactly its sent messages (a claim of its own
# would make two).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"

it_init notifier_burst
it_pg_start
it_start bus
it_start intake
it_start router KEFU_ROUTER_CATCHUP_MS=300
export KEFU_CERT=$(it_cert agent.li)
it_wait_for "intake to answer" 30 kefu tickets --limit 1

# ---- 1. a burst with bad events in its middle, by catch-up -------------------
T=()
for i in 1 2 3 4 5 6; do
    out=$(kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
          --phone "1380013800$i" --name "业主$i" --summary "卫生间漏水$i") || it_fail "kefu submit: $out"
    T+=("$(grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1)")
done
it_wait_for "the six tickets to be routed" 30 it_psql_is \
    "SELECT count(*) FROM ticket WHERE routed_at IS NOT NULL" 6
h1=$(it_psql "SELECT homeowner_id FROM ticket WHERE no = '${T[0]}'")
h5=$(it_psql "SELECT homeowner_id FROM ticket WHERE no = '${T[4]}'")
owner2=$(it_psql "SELECT owner_id FROM ticket WHERE no = '${T[1]}'")
emit() { echo "SELECT kefu_emit('$1', '$2', 'burst-test', '$3'::jsonb);"; }
it_psql "BEGIN;
$(emit ticket.resolved "${T[0]}" "{\"ticket\":\"${T[0]}\",\"expect\":1}")
$(emit ticket.resolved KF-0000-000404 '{"ticket":"KF-0000-000404","expect":-1}')
$(emit ticket.transferred "${T[1]}" "{\"ticket\":\"${T[1]}\",\"to\":\"sales.xu\",\"from\":\"$owner2\",\"reason\":\"属销售承诺\",\"expect\":1}")
$(emit ticket.transferred "${T[2]}" "{\"ticket\":\"${T[2]}\",\"to\":\"nobody.here\",\"expect\":-1}")
$(emit ticket.escalated "${T[3]}" "{\"ticket\":\"${T[3]}\",\"to\":\"eng.liu\",\"level\":1,\"reason\":\"first_response_overdue\",\"expect\":2}")
$(emit survey.sent "${T[4]}" "{\"survey\":901,\"kind\":\"resolution\",\"ticket\":\"${T[4]}\",\"homeowner\":$h5,\"expect\":1}")
$(emit survey.sent "" '{"survey":"x","kind":"resolution","homeowner":1,"expect":-1}')
$(emit survey.sent "" "{\"survey\":902,\"kind\":\"campaign\",\"homeowner\":$h1,\"milestone\":\"move-in\",\"project\":\"HZ-XH\",\"expect\":1}")
$(emit survey.sent "" '{"survey":903,"kind":"campaign","homeowner":999999,"project":"HZ-XH","expect":-1}')
$(emit ticket.resolved "${T[5]}" "{\"ticket\":\"${T[5]}\",\"expect\":1}")
$(emit ticket.routed "${T[0]}" "{\"ticket\":\"${T[0]}\",\"expect\":-1}")
$(emit ticket.reopened "${T[0]}" "{\"ticket\":\"${T[0]}\",\"to\":\"eng.sun\",\"from\":\"eng.liu\",\"reason\":\"low score\",\"expect\":1}")
$(emit ticket.resolved "${T[1]}" "{\"ticket\":\"${T[1]}\",\"expect\":1}")
COMMIT" >/dev/null
burst=$(it_psql "SELECT count(*) FROM event WHERE src = 'burst-test'")

FILE=$IT_DIR/notifications.jsonl
it_start notifier KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_POLL_MS=50 \
    KEFU_NOTIFY_BATCH=100 KEFU_NOTIFY_CATCHUP_MS=3600000
it_wait_for "the burst to be consumed" 30 it_psql_is \
    "SELECT count(*) FROM processed_event p JOIN event e ON e.id = p.event_id
      WHERE p.consumer = 'notifier' AND e.src = 'burst-test'" "$burst"
# Every event of the burst: its messages as many as it says, applied or
# failed as it says, marked once.
wrong=$(it_psql "SELECT string_agg(e.seq || ' ' || e.type || ' ' || e.corr || ': ' || n.made || ' made, '
                                   || coalesce(p.outcome, 'unmarked') || ' ' || coalesce(p.error, ''), '; ')
                   FROM event e
                   LEFT JOIN processed_event p ON p.event_id = e.id AND p.consumer = 'notifier'
                   CROSS JOIN LATERAL (SELECT count(*) AS made FROM notification x
                                        WHERE x.event_id = e.id) n
                  WHERE e.src = 'burst-test'
                    AND NOT (CASE WHEN (e.body->>'expect')::int < 0
                                  THEN n.made = 0 AND p.outcome = 'failed'
                                  ELSE n.made = (e.body->>'expect')::int AND p.outcome = 'applied' END)")
[[ -z $wrong ]] || it_fail "events of the burst not applied as they should be: $wrong"
# Each message is about its own event: its ticket, named in its text, and
# its customer's phone (an event given another's context would show here).
wrong=$(it_psql "SELECT string_agg(x.id || ' ' || e.type || ' ' || e.corr, '; ')
                   FROM notification x JOIN event e ON e.id = x.event_id
                   LEFT JOIN ticket t ON t.no = e.body->>'ticket'
                   LEFT JOIN homeowner h ON h.id = coalesce((e.body->>'homeowner')::bigint, t.homeowner_id)
                  WHERE e.src = 'burst-test'
                    AND (x.ticket_no IS DISTINCT FROM e.body->>'ticket'
                         OR (t.no IS NOT NULL AND position(t.no IN x.body || coalesce(x.subject, '')) = 0)
                         OR (x.recipient_kind = 'homeowner'
                             AND (x.recipient_id <> h.id::text OR x.address <> h.phone))
                         OR (x.recipient_kind = 'staff' AND x.recipient_id NOT IN
                             (e.body->>'to', (SELECT manager_id FROM staff WHERE id = e.body->>'to'))))")
[[ -z $wrong ]] || it_fail "messages not about their own event: $wrong"
it_psql_is "SELECT string_agg(split_part(p.error, ' ', 1) || ' ' || split_part(p.error, ' ', 2), ', ' ORDER BY e.seq)
              FROM processed_event p JOIN event e ON e.id = p.event_id
             WHERE p.consumer = 'notifier' AND p.outcome = 'failed'" \
    "no ticket, no staff, survey is, no homeowner, ticket.routed needs" ||
    it_fail "the failed events do not say why: $(it_psql "SELECT error FROM processed_event WHERE outcome = 'failed'")"
it_psql_is "SELECT count(*) FROM notification WHERE event_type IN ('ticket.submitted', 'ticket.routed')" 18 ||
    it_fail "the six tickets' own events did not make 18 messages"
log=$(it_log notifier)
grep -q "event=catchup.applied consumer=notifier" "$log" || it_fail "the burst was not applied by catch-up"
! grep -qE "event=(feed.batch_failed|work.deferred)" "$log" ||
    it_fail "the burst fell back to one by one: $(grep -E 'batch_failed|deferred' "$log" | head -n 3)"
it_wait_for "every message to be written" 20 it_psql_is \
    "SELECT count(*) FROM notification WHERE status NOT IN ('sent', 'failed')" 0

# ---- 2. bursts by the doorbell --------------------------------------------------
N=40
"$KEFU_BUILD_DIR/tests/bench/kefu-load" -n "$N" -c 4 --wait-routed 60000 >"$IT_DIR/log/load.log" 2>&1 ||
    it_fail "kefu-load failed: $(tail -n 3 "$IT_DIR/log/load.log")"
it_wait_for "the doorbell's events to be consumed" 30 it_psql_is \
    "SELECT count(*) FROM processed_event WHERE consumer = 'notifier'" \
    "$(it_psql "SELECT count(*) FROM event WHERE type IN ('ticket.submitted', 'ticket.routed') OR src = 'burst-test'")"
it_psql_is "SELECT count(*) FROM notification WHERE event_type IN ('ticket.submitted', 'ticket.routed')" \
    $((18 + 3 * N)) || it_fail "the doorbell's events did not make 3 messages per ticket"
it_psql_is "SELECT count(*) FROM (SELECT event_id FROM notification GROUP BY event_id, recipient_kind, recipient_id, channel
                                  HAVING count(*) > 1) d" 0 || it_fail "a message was made twice"
! grep -qE "event=(feed.batch_failed|work.deferred)" "$log" || it_fail "a doorbell burst fell back to one by one"
it_wait_for "every message to be sent" 20 it_psql_is \
    "SELECT count(*) FROM notification WHERE status NOT IN ('sent', 'failed')" 0
sent=$(it_psql "SELECT count(*) FROM notification WHERE status = 'sent'")
(( sent > 3 * N )) || it_fail "only $sent messages were sent"
# The notifier's server process reports its counts within about a second.
it_wait_for "the notification table's updates to be one per sent message ($sent)" 20 it_psql_is \
    "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'notification'" "$sent"

# The notifier's own count of what it made is what the store holds.
applied=$(it_psql "SELECT count(*) FROM processed_event WHERE consumer = 'notifier' AND outcome = 'applied'")
made=$(it_psql "SELECT count(*) FROM notification")
it_kill notifier TERM
[[ ${IT_STATUS[notifier]} == 0 ]] || it_fail "the notifier exited with ${IT_STATUS[notifier]}"
grep -q "event=notifier.stats events=$applied created=$made .* bad_events=5 " "$log" ||
    it_fail "the notifier counted other than $applied events, $made messages, 5 bad events: $(grep notifier.stats "$log" | tail -n 1)"
it_note "ok: a burst of $burst events (5 bad) and $N tickets by the doorbell; $made messages, each once"
