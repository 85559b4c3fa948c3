#!/usr/bin/env bash
# Exactly one survey per resolution across SIGKILL: 120 tickets are resolved
# by two streams, 60 through intake with the real client (the bus rings
# the doorbell) and 60 by a psql session calling the store's functions (no
# doorbell: catch-up alone finds them), which also reopens each of its
# tickets and resolves it again, so resolutions 1 and 2 interleave: 180
# resolutions in all, while two kefu-survey instances consume them and send
# the surveys (delay 1 s) and are killed with SIGKILL five times: early and
# late in the stream, both at once, and one 0.15 s after a restart (during
# its catch-up). Afterwards: one survey per ticket.resolved event, numbered
# 1..n per ticket with no gap, one processed_event row of 'survey' per event
# (none failed), every survey sent exactly once (one survey.sent event each).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"

N_A=60 # resolved once, through intake
N_B=60  # resolved, reopened, resolved again, in the store
N=$((N_A + N_B))
RESOLUTIONS=$((N_A + 2 * N_B))
it_init survey_kill
rc_init
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY=$KEFU_SURVEY_BIND
it__pick_port
BIND2=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY_DELAY_S=1
export KEFU_SURVEY_SCAN_MS=100
export KEFU_SURVEY_CATCHUP_MS=200
export KEFU_SURVEY_BATCH=20
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_start router
it_start survey
it_start survey@2 KEFU_SURVEY_BIND="$BIND2"
it_wait_for "intake to answer" 30 kefu tickets --limit 1

rc_load_start load "$N" 4
rc_load_wait 60
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS"
rc_wait_all_routed 60
mapfile -t TICKETS < <(it_psql "SELECT no FROM ticket ORDER BY id")
[[ ${#TICKETS[@]} == "$N" ]] || it_fail "expected $N tickets, found ${#TICKETS[@]}"

# Stream A: the real client, one resolution at a time. On a loaded machine
# a reply may come late: a failed call is checked against the store and
# retried, so that each ticket is resolved exactly once.
stream_a() {
    local no try
    for no in "${TICKETS[@]:0:N_A}"; do
        for try in 1 2 3 4; do
            kefu --timeout 10000 resolve "$no" >/dev/null 2>>"$IT_DIR/log/stream.log" &&
                break
            [[ $(it_psql "SELECT status FROM ticket WHERE no = '$no'") == resolved ]] && break
            [[ $try == 4 ]] && echo "resolve $no failed" >>"$IT_DIR/stream.errors"
        done
    done
}
# Stream B: one psql session, each statement its own transaction.
stream_b() {
    local no
    for no in "${TICKETS[@]:N_A:N_B}"; do
        printf "SELECT count(*) FROM kefu_resolve((SELECT id FROM ticket WHERE no = '%s'), 'agent.li', NULL, 'test');\n" "$no"
        printf "SELECT pg_sleep(0.05);\n"
        printf "SELECT count(*) FROM kefu_reopen((SELECT id FROM ticket WHERE no = '%s'), 'eng.liu', 'test: reopened', kefu_ms(now()) + 3600000, 'agent.li', 'test');\n" "$no"
        printf "SELECT count(*) FROM kefu_resolve((SELECT id FROM ticket WHERE no = '%s'), 'agent.li', NULL, 'test');\n" "$no"
        printf "SELECT pg_sleep(0.1);\n"
    done | psql -X -q -At -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" >/dev/null 2>>"$IT_DIR/log/stream.log" ||
        echo "the psql stream failed" >>"$IT_DIR/stream.errors"
}
stream_a &
PID_A=$!
stream_b &
PID_B=$!
streaming() { kill -0 "$PID_A" 2>/dev/null || kill -0 "$PID_B" 2>/dev/null; }
resolved() { it_psql "SELECT count(*) FROM event WHERE type = 'ticket.resolved'"; }
at_least() { (($(resolved) >= $1)); }

KILLS_MID_STREAM=0
kill9() { # kill9 KEY...: SIGKILL each, checking it died of it
    local key
    for key in "$@"; do
        it_kill "$key" KILL
        [[ ${IT_STATUS[$key]} == 137 ]] || it_fail "$key exited with ${IT_STATUS[$key]}, not by SIGKILL"
    done
    if streaming; then KILLS_MID_STREAM=$((KILLS_MID_STREAM + 1)); fi
    it_note "killed $* at $(resolved) resolutions ($(it_psql "SELECT count(*) FROM survey") surveys)"
}
it_wait_for "20 resolutions" 60 at_least 20
kill9 survey
sleep 0.3
it_start survey
it_wait_for "50 resolutions" 60 at_least 50
kill9 survey@2
sleep 0.1
it_start survey@2 KEFU_SURVEY_BIND="$BIND2"
it_wait_for "90 resolutions" 60 at_least 90
kill9 survey
it_start survey
sleep 0.15 # the restarted instance is catching up now
kill9 survey
it_start survey
it_wait_for "130 resolutions" 60 at_least 130
kill9 survey survey@2
sleep 0.5
it_start survey
it_start survey@2 KEFU_SURVEY_BIND="$BIND2"
wait "$PID_A" "$PID_B" || true
[[ ! -s $IT_DIR/stream.errors ]] || it_fail "the resolution streams failed: $(head -n 5 "$IT_DIR/stream.errors")"
((KILLS_MID_STREAM >= 4)) ||
    it_fail "only $KILLS_MID_STREAM of 5 kills happened while resolutions streamed; the test proves nothing"
[[ $(resolved) == "$RESOLUTIONS" ]] || it_fail "$(resolved) resolutions acknowledged, expected $RESOLUTIONS"

events=$(it_psql "SELECT count(*) FROM event WHERE type = 'ticket.resolved'")
[[ $events == "$RESOLUTIONS" ]] || it_fail "$events ticket.resolved events, expected $RESOLUTIONS"
it_wait_for "a survey for every resolution" 60 \
    it_psql_is "SELECT count(*) FROM survey WHERE kind = 'resolution'" "$RESOLUTIONS"
it_wait_for "every survey to be sent" 60 \
    it_psql_is "SELECT count(*) FROM survey WHERE sent_at IS NULL" 0
sleep 1 # room for a late duplicate to show itself, were there one

rc__zero "ticket.resolved events without exactly one processed_event row of survey" \
    "SELECT count(*) FROM event e WHERE e.type = 'ticket.resolved' AND (SELECT count(*)
      FROM processed_event p WHERE p.consumer = 'survey' AND p.event_id = e.id) <> 1"
rc__zero "processed_event rows of survey that did not apply" \
    "SELECT count(*) FROM processed_event WHERE consumer = 'survey' AND outcome <> 'applied'"
rc__zero "tickets whose surveys are not numbered 1..resolutions" \
    "SELECT count(*) FROM ticket t WHERE (SELECT count(*) FROM event e
      WHERE e.type = 'ticket.resolved' AND e.corr = t.no) IS DISTINCT FROM
     (SELECT count(*) FROM survey s WHERE s.ticket_id = t.id)
     OR (SELECT coalesce(max(resolution_no), 0) FROM survey s WHERE s.ticket_id = t.id)
        <> (SELECT count(*) FROM survey s WHERE s.ticket_id = t.id)
     OR (SELECT coalesce(min(resolution_no), 1) FROM survey s WHERE s.ticket_id = t.id) <> 1"
rc__zero "second resolutions without a survey numbered 2" \
    "SELECT count(*) FROM ticket t WHERE (SELECT count(*) FROM ticket_history h
      WHERE h.ticket_id = t.id AND h.action = 'resolved') = 2 AND NOT EXISTS
     (SELECT 1 FROM survey s WHERE s.ticket_id = t.id AND s.resolution_no = 2)"
rc__zero "surveys due before their resolution plus the delay" \
    "SELECT count(*) FROM survey s JOIN LATERAL (SELECT h.at FROM ticket_history h
      WHERE h.ticket_id = s.ticket_id AND h.action = 'resolved' ORDER BY h.id
      OFFSET s.resolution_no - 1 LIMIT 1) r ON true
     WHERE s.due_at < r.at + interval '1 second' - interval '50 ms'
        OR s.due_at > r.at + interval '1 second' + interval '1 second'"
rc__zero "surveys without exactly one survey.sent event" \
    "SELECT count(*) FROM survey s WHERE (SELECT count(*) FROM event e
      WHERE e.type = 'survey.sent' AND (e.body->>'survey')::bigint = s.id) <> 1"
rc__zero "survey.sent events for no survey" \
    "SELECT count(*) FROM event e WHERE e.type = 'survey.sent'
      AND NOT EXISTS (SELECT 1 FROM survey s WHERE s.id = (e.body->>'survey')::bigint)"
twice=$(it_psql "SELECT count(*) FROM survey WHERE sent_at < due_at")
[[ $twice == 0 ]] || it_fail "$twice surveys were sent before they were due"
it_note "$RESOLUTIONS resolutions, $(it_psql "SELECT count(*) FROM survey") surveys, $KILLS_MID_STREAM kills mid-stream"
it_running survey || it_fail "the last survey instance died"
it_running survey@2 || it_fail "the last survey@2 instance died"
