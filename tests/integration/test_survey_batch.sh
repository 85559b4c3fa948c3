#!/usr/bin/env bash
# kefu-survey turns a burst of ticket.resolved into surveys set-based (issue
# 16, item 1: one statement for the burst, kefu_survey_resolved, migration
# 030), creating each due survey exactly once, skipping none, and one bad
# event in a burst does not cost the others their surveys. Catch-up runs
# only at the start (KEFU_SURVEY_CATCHUP_MS is an hour), and the
# resolutions are written by psql (no doorbell), so the test rings the
# doorbell itself (kefu-test-survey-burst), with kefu-survey stopped
# (SIGSTOP) while it rings so that the events come as one burst:
#  1. 20 tickets resolved once, 5 resolved, reopened and resolved again
#     (their resolutions 1 and 2 in the same burst), 3 imported, 3 whose
#     resolution is stale, 3 events rung twice, a forged id and the id of a
#     ticket.submitted event rung as ticket.resolved: exactly the 30 due
#     surveys, numbered 1..n per ticket, due a delay after their
#     resolution, several created in one transaction; the skips and the
#     forged ones logged as before;
#  2. 15 good events with a bad one (a ticket.resolved whose resolved_at
#     is no number, which fails the statement) and an id that is no UUID:
#     the 15 get their surveys (the burst is isolated event by event), the
#     two bad ones nothing;
#  3. kefu-survey restarts after 13 more resolutions: its catch-up applies
#     them, the bad event among them, which is marked failed alone.
# Finally every ticket.resolved event but the bad one has exactly one
# 'applied' mark and every survey is the one its resolution is due.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

it_init survey_batch
rc_init
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY_CATCHUP_MS=3600000 KEFU_SURVEY_DELAY_S=3600 KEFU_SURVEY_MAX_AGE_S=86400
export KEFU_SURVEY_BATCH=200
ring=$KEFU_BUILD_DIR/tests/integration/kefu-test-survey-burst
[[ -x $ring ]] || it_fail "$ring is not built"
q() { it_psql "$1"; }

it_start_routing
rc_load_start load 60 4
rc_load_wait 60
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS"
rc_wait_all_routed 60
mapfile -t T < <(q "SELECT no FROM ticket ORDER BY id")
[[ ${#T[@]} == 60 ]] || it_fail "expected 60 tickets, found ${#T[@]}"
it_start survey
it_wait_for "kefu-survey's first catch-up" 30 grep -q 'survey.started' "$(it_log survey)"
sleep 1

# Resolutions written by one psql session, each statement its own
# transaction: no doorbell rings for them.
resolve() { printf "SELECT count(*) FROM kefu_resolve((SELECT id FROM ticket WHERE no = '%s'), 'agent.li', NULL, 'test');\n" "$@"; }
reopen() { printf "SELECT count(*) FROM kefu_reopen((SELECT id FROM ticket WHERE no = '%s'), 'eng.liu', 'test: reopened', kefu_ms(now()) + 3600000, 'agent.li', 'test');\n" "$@"; }
store() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" >/dev/null; }
nos() { # FROM TO: the ticket numbers T[FROM..TO] as an SQL list
    local i list=""
    for ((i = $1; i <= $2; i++)); do list+="${list:+,}'${T[i]}'"; done
    echo "$list"
}
# Rings the doorbell with the lines on stdin while kefu-survey is stopped.
ring_burst() {
    it_kill survey STOP
    local sent
    sent=$("$ring") || it_fail "kefu-test-survey-burst failed"
    sleep 0.5
    it_kill survey CONT
    it_note "rang $sent events in one burst"
}
resolved_lines() { # FROM TO: the ticket.resolved events of T[FROM..TO]
    q "SELECT id || E'\t' || type || E'\t' || corr FROM event WHERE type = 'ticket.resolved'
         AND corr IN ($(nos "$1" "$2")) ORDER BY seq"
}
marks() { q "SELECT count(*) FROM processed_event WHERE consumer = 'survey'"; }
logged() { grep -c -- "$1" "$(it_log survey)" || true; }

# 1. One burst: good, twice-resolved, imported, stale, repeated, forged.
q "UPDATE ticket SET imported = true WHERE no IN ($(nos 25 27))" >/dev/null
{
    for ((i = 0; i <= 24; i++)); do resolve "${T[i]}"; done
    for ((i = 20; i <= 24; i++)); do reopen "${T[i]}"; resolve "${T[i]}"; done
    for ((i = 25; i <= 30; i++)); do resolve "${T[i]}"; done
} | store
q "UPDATE event SET body = body || jsonb_build_object('resolved_at', kefu_ms(now()) - 2 * 86400000)
    WHERE type = 'ticket.resolved' AND corr IN ($(nos 28 30))" >/dev/null
submitted=$(q "SELECT id FROM event WHERE type = 'ticket.submitted' ORDER BY seq LIMIT 1")
{
    resolved_lines 0 30
    resolved_lines 0 2 # rung twice
    printf '%s\tticket.resolved\t%s\n' "$(q "SELECT gen_random_uuid()")" "${T[0]}"
    printf '%s\tticket.resolved\t%s\n' "$submitted" "${T[31]}"
} | ring_burst
events1=$(q "SELECT count(*) FROM event WHERE type = 'ticket.resolved'")
[[ $events1 == 36 ]] || it_fail "$events1 resolutions written, expected 36"
it_wait_for "the burst's events to be marked" 60 it_psql_is \
    "SELECT count(*) FROM processed_event WHERE consumer = 'survey'" $((events1 + 2))
[[ $(q "SELECT count(*) FROM survey") == 30 ]] ||
    it_fail "$(q "SELECT count(*) FROM survey") surveys after the first burst, expected 30"
rc__zero "tickets 0-19 without exactly survey 1, tickets 20-24 without exactly surveys 1 and 2" \
    "SELECT count(*) FROM ticket t WHERE t.no IN ($(nos 0 24)) AND
       (SELECT string_agg(s.resolution_no::text, ',' ORDER BY s.resolution_no) FROM survey s
         WHERE s.ticket_id = t.id) IS DISTINCT FROM
       CASE WHEN t.no IN ($(nos 20 24)) THEN '1,2' ELSE '1' END"
rc__zero "imported or stale tickets with a survey" \
    "SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no IN ($(nos 25 30))"
most=$(q "SELECT max(n) FROM (SELECT count(*) n FROM survey GROUP BY xmin::text) b")
((most > 1)) || it_fail "the burst's surveys were created one per transaction (most: $most)"
it_note "up to $most surveys created in one transaction"
[[ $(logged 'survey.created') == 30 ]] || it_fail "$(logged 'survey.created') survey.created lines, expected 30"
[[ $(logged 'reason=imported') == 3 ]] || it_fail "$(logged 'reason=imported') imported skips logged, expected 3"
[[ $(logged 'reason=stale') == 3 ]] || it_fail "$(logged 'reason=stale') stale skips logged, expected 3"
[[ $(logged 'resolution.unknown') == 2 ]] ||
    it_fail "$(logged 'resolution.unknown') unknown resolutions logged, expected 2 (the forged ones)"
grep -q "resolution.unknown.*event_id=$submitted ticket=${T[31]}" "$(it_log survey)" ||
    it_fail "the ticket.submitted id rung as a resolution was not logged as unknown"
grep -q "survey.skipped.*ticket=${T[25]} reason=imported" "$(it_log survey)" ||
    it_fail "the imported skip's log line changed"

# 2. A bad event and an id that is no UUID among 15 good ones.
{
    for ((i = 31; i <= 46; i++)); do resolve "${T[i]}"; done
} | store
bad=$(q "SELECT id FROM event WHERE type = 'ticket.resolved' AND corr = '${T[46]}'")
q "UPDATE event SET body = body || '{\"resolved_at\": \"soon\"}' WHERE id = '$bad'" >/dev/null
before=$(marks)
{
    resolved_lines 31 38
    printf 'not-a-uuid\tticket.resolved\t%s\n' "${T[40]}"
    resolved_lines 46 46
    resolved_lines 39 45
} | ring_burst
it_wait_for "the 15 good events to be marked" 60 it_psql_is \
    "SELECT count(*) FROM processed_event WHERE consumer = 'survey'" $((before + 15))
sleep 0.5
[[ $(marks) == $((before + 15)) ]] || it_fail "$(($(marks) - before)) events marked, expected 15"
rc__zero "tickets 31-45 without exactly survey 1" \
    "SELECT count(*) FROM ticket t WHERE t.no IN ($(nos 31 45)) AND
       (SELECT string_agg(s.resolution_no::text, ',') FROM survey s WHERE s.ticket_id = t.id)
       IS DISTINCT FROM '1'"
rc__zero "the bad event's survey or mark" \
    "SELECT (SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id
              WHERE t.no = '${T[46]}')
          + (SELECT count(*) FROM processed_event WHERE event_id = '$bad')"
grep -q "work.deferred event_id=not-a-uuid" "$(it_log survey)" ||
    it_fail "the id that is no UUID was not left for catch-up"
grep -q "work.deferred event_id=$bad" "$(it_log survey)" ||
    it_fail "the bad event was not left for catch-up"

# 3. Catch-up after a restart: 13 more resolutions and the bad event.
it_kill survey TERM
{
    for ((i = 47; i <= 59; i++)); do resolve "${T[i]}"; done
} | store
before=$(marks)
it_start survey
it_wait_for "catch-up to mark the 14 events" 60 it_psql_is \
    "SELECT count(*) FROM processed_event WHERE consumer = 'survey'" $((before + 14))
[[ $(q "SELECT outcome FROM processed_event WHERE consumer = 'survey' AND event_id = '$bad'") == failed ]] ||
    it_fail "catch-up did not mark the bad event failed"
sleep 0.5

# Every event: one mark; every survey: the one its resolution is due.
total=$(q "SELECT count(*) FROM event WHERE type = 'ticket.resolved'")
rc__zero "ticket.resolved events (but the bad one) without exactly one 'applied' mark of survey" \
    "SELECT count(*) FROM event e WHERE e.type = 'ticket.resolved' AND e.id <> '$bad' AND
       (SELECT string_agg(p.outcome, ',') FROM processed_event p
         WHERE p.consumer = 'survey' AND p.event_id = e.id) IS DISTINCT FROM 'applied'"
rc__zero "due resolutions without exactly one survey numbered by the resolution" \
    "SELECT count(*) FROM event e JOIN ticket t ON t.no = e.corr
      WHERE e.type = 'ticket.resolved' AND e.id <> '$bad' AND NOT t.imported
        AND (e.body->>'resolved_at')::bigint > kefu_ms(now()) - 86400000
        AND (SELECT count(*) FROM survey s WHERE s.ticket_id = t.id AND s.resolution_no =
              (SELECT count(*) FROM ticket_history h WHERE h.ticket_id = t.id
                AND h.action = 'resolved' AND h.xid <= e.xid)
              AND s.due_at = kefu_ts((e.body->>'resolved_at')::bigint + 3600000)) <> 1"
[[ $(q "SELECT count(*) FROM survey") == 58 ]] ||
    it_fail "$(q "SELECT count(*) FROM survey") surveys in all, expected 58 (30 + 15 + 13)"
[[ $(logged 'survey.created') == 58 ]] || it_fail "$(logged 'survey.created') survey.created lines, expected 58"
it_running survey || it_fail "kefu-survey died"
it_note "$total resolutions, $(q "SELECT count(*) FROM survey") surveys"
