#!/usr/bin/env bash
# Never twice, also across SIGKILL. While kefu-load streams submits (each
# ticket makes a ticket.submitted and a ticket.routed event: two SMS to the
# owner, one e-mail to the staff member), two notifier instances share the
# work and are killed with SIGKILL again and again, at moments when they hold
# claimed messages, and restarted. SMS go to a stand-in gateway over HTTP, the
# e-mail to the file channel. Afterwards:
#   - the store holds exactly one notification per (event, recipient,
#     channel) the rules call for, every one sent, with one
#     notification.sent event each, and one processed mark per event;
#   - the file channel holds exactly one line per e-mail: a message
#     interrupted by a kill after its line was written is recognised by its
#     id and not written again;
#   - the gateway accepted every SMS id; an id it accepted more than once
#     (the documented window between the gateway's answer and the commit)
#     belongs to a message marked interrupted, and is one the gateway can
#     drop as a duplicate by its id.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"
source "$here/test_notifier_lib.sh"

N=300
it_init notifier_kill
nt_init
# On exit: stop kefu-load, then the servers and the harness's own clean-up.
on_exit() {
    local st=$?
    set +e
    rc_load_stop
    (exit "$st")
    nt__on_exit
}
trap on_exit EXIT
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
nt_sms_start --delay-ms 10
FILE=$IT_DIR/notifications.jsonl
ENV=(KEFU_SMS_URL="$NT_SMS_URL" KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_QUIET_HOURS=off
     KEFU_NOTIFY_RECLAIM_GRACE_MS=300 KEFU_NOTIFY_CATCHUP_MS=200 KEFU_NOTIFY_POLL_MS=50
     KEFU_NOTIFY_SEND_BATCH=20)
it_start bus
it_start intake
it_start router KEFU_ROUTER_CATCHUP_MS=200
it_start notifier@a "${ENV[@]}"
it_start notifier@b "${ENV[@]}"
it_wait_for "intake to answer" 30 kefu tickets --limit 1

rc_load_start load "$N" 2 --retry-for-ms 20000

sent() { it_psql "SELECT count(*) FROM notification WHERE status = 'sent'"; }
# Waits (bounded) until at least $1 notifications are sent.
wait_sent_at_least() {
    local at=$1 n limit=$((${EPOCHREALTIME/./} + 60 * 1000000))
    while true; do
        n=$(sent 2>/dev/null || echo 0)
        (( n >= at )) && return 0
        (( ${EPOCHREALTIME/./} < limit )) || it_fail "timed out waiting for $at sent notifications (have $n)"
        sleep 0.02
    done
}

# Kills instance $1 with SIGKILL and restarts it after $2 s. Counts the kills
# that caught it holding claimed messages (its claims name its pid), looked
# up just before the kill: afterwards the other instance may have put them
# back already.
IN_FLIGHT_KILLS=0
kill_one() {
    local key=$1 pause=$2 pid held
    pid=$(it_pid "$key")
    held=$(it_psql "SELECT count(*) FROM notification WHERE status = 'sending'
                     AND claimed_by LIKE '%:$pid:%'")
    it_kill "$key" KILL
    [[ ${IT_STATUS[$key]} == 137 ]] || it_fail "$key exited with ${IT_STATUS[$key]}, not by SIGKILL"
    (( held > 0 )) && IN_FLIGHT_KILLS=$((IN_FLIGHT_KILLS + 1))
    it_note "killed $key (pid $pid) holding $held claimed messages; $(sent) sent"
    sleep "$pause"
    it_start "$key" "${ENV[@]}"
}

# Kill points as shares of the 3N messages to come.
wait_sent_at_least $((N / 5))
kill_one notifier@a 0.2
wait_sent_at_least $((N * 3 / 4))
kill_one notifier@b 0.05
wait_sent_at_least $((N * 5 / 4))
kill_one notifier@a 0.3
kill_one notifier@b 0.1
wait_sent_at_least $((N * 7 / 4))
kill_one notifier@a 0.05
sleep 0.3
kill_one notifier@a 0.2   # soon after a restart: during its first catch-up or claim
wait_sent_at_least $((N * 9 / 4))
kill_one notifier@b 0.1

rc_load_wait 90
[[ $RC_LOAD_STATUS == 0 ]] || it_fail "kefu-load exited with $RC_LOAD_STATUS: $(tail -n 5 "$IT_DIR/log/load.log")"
rc_wait_all_routed 60
expected=$(it_psql "SELECT (SELECT count(*) FROM event WHERE type = 'ticket.submitted')
                         + 2 * (SELECT count(*) FROM event WHERE type = 'ticket.routed')")
(( expected >= 3 * N )) || it_fail "expected at least $((3 * N)) notifications, the events call for $expected"
it_wait_for "all $expected notifications to be sent" 60 it_psql_is \
    "SELECT count(*) FROM notification WHERE status = 'sent'" "$expected"
sleep 1 # a late duplicate would show itself now
(( IN_FLIGHT_KILLS >= 2 )) ||
    it_fail "only $IN_FLIGHT_KILLS kills caught a notifier holding claimed messages; the test proves nothing"

# The store: one notification per (event, recipient, channel) of the rules.
it_psql_is "SELECT count(*) FROM notification" "$expected" || it_fail "more notifications than the rules call for"
it_psql_is "SELECT count(*) FROM event e WHERE e.type IN ('ticket.submitted', 'ticket.routed')
              AND (SELECT count(*) FROM notification n WHERE n.event_id = e.id)
                  <> CASE e.type WHEN 'ticket.submitted' THEN 1 ELSE 2 END" 0 ||
    it_fail "an event has the wrong number of notifications"
it_psql_is "SELECT count(*) FROM event e WHERE e.type IN ('ticket.submitted', 'ticket.routed')
              AND NOT EXISTS (SELECT 1 FROM processed_event p
                               WHERE p.consumer = 'notifier' AND p.event_id = e.id
                                 AND p.outcome = 'applied')" 0 ||
    it_fail "an event is not marked processed by the notifier"
it_psql_is "SELECT count(*) = count(DISTINCT (body->>'notification')) AND count(*) = $expected
              FROM event WHERE type = 'notification.sent'" t ||
    it_fail "not exactly one notification.sent per notification"

# The file channel: one line per e-mail, none twice.
emails=$(it_psql "SELECT count(*) FROM notification WHERE channel = 'email'")
it_psql "CREATE TABLE it_file (id bigint)"
nt_py 'import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    print(json.loads(line)["id"])' "$FILE" |
    psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" -c "\\copy it_file FROM pstdin"
it_psql_is "SELECT count(*) = count(DISTINCT id) FROM it_file" t ||
    it_fail "the file channel holds a message twice: $(it_psql "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM it_file GROUP BY id HAVING count(*) > 1) d")"
it_psql_is "SELECT count(*) FROM it_file f JOIN notification n ON n.id = f.id AND n.channel = 'email'" "$emails" ||
    it_fail "the file channel does not hold exactly the $emails e-mails"

# The gateway: every SMS accepted; repeats only of interrupted messages.
it_psql "CREATE TABLE it_sms (id bigint, status int)"
nt_py 'import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    print("%s\t%d" % (r["id"].split("-")[1], r["status"]))' "$NT_SMS_LOG" |
    psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" -c "\\copy it_sms FROM pstdin"
it_psql_is "SELECT count(*) FROM notification n WHERE n.channel = 'sms'
              AND NOT EXISTS (SELECT 1 FROM it_sms s WHERE s.id = n.id AND s.status = 200)" 0 ||
    it_fail "an SMS never reached the gateway"
it_psql_is "SELECT count(*) FROM (SELECT id FROM it_sms WHERE status = 200 GROUP BY id
                                   HAVING count(*) > 1) d
              JOIN notification n ON n.id = d.id WHERE NOT n.interrupted" 0 ||
    it_fail "an SMS reached the gateway twice without having been interrupted"
repeats=$(it_psql "SELECT count(*) - count(DISTINCT id) FROM it_sms WHERE status = 200")
interrupted=$(it_psql "SELECT count(*) FILTER (WHERE channel = 'sms') || ' SMS, '
                              || count(*) FILTER (WHERE channel = 'email') || ' e-mails'
                         FROM notification WHERE interrupted")
it_note "ok: $expected notifications once each across $IN_FLIGHT_KILLS in-flight kills;" \
        "interrupted and resumed: $interrupted; SMS the gateway saw twice (same id): $repeats"
