#!/usr/bin/env bash
# kefu fault run: every daemon killed, stopped and restarted, and the store
# restarted, under a steady load of submits with approvals, resolutions,
# surveys and notifications in flight; then the store is asked whether
# anything was lost or done twice.
#
#   tests/fault/run.sh                 the short form (one round of faults,
#                                      about 2 minutes; ctest fault_short)
#   tests/fault/run.sh --seconds 900   the long form: rounds of faults until
#                                      900 s have passed, then the checks
#   tests/fault/run.sh --help
#
# What runs (real daemons, real PostgreSQL, the integration harness): bus,
# intake, two ticket-routers, two approval daemons, the notifier (file
# channel), kefu-survey (surveys due at once). Short time units come from
# fault_fixture.sql: repair tickets escalate every 4 s unless answered; a
# repair-cost approval is any of eng.sun / eng.liu (escalated after 4 s),
# then a silent finance step approved by policy after 3 s, then the general
# manager, silent too and with neither delegate nor manager: at his 10 s
# deadline the step goes to the policy's fallback, vp.zhou (migration 016).
#
# The load, all through the real client or kefu-load, with certificates:
#   submits      kefu-load in rounds of 40 (2 clients, a mix of kinds), each
#                submit retried with its idempotency key while intake or the
#                store is away (--retry-for-ms)
#   agent.li     asks approval for one complaint in ten, responds to and
#                resolves one ticket in ten, records survey answers (a score
#                of 1-2 reopens the ticket)
#   approvers    eng.sun, eng.liu (racing on the any-of stage), and the
#                managers a step may be escalated to, approve what waits;
#                gm.zheng never does; admin (the approval administrator)
#                does what reaches the end of a chain. They keep at it until the work has
#                drained, as approvers do while the load has stopped
# The faults, in each round: SIGKILL and restart intake, router, approval,
# notifier, survey and the bus in turn; restart PostgreSQL (immediate
# shutdown); SIGSTOP both routers for 10 s (escalations fall due) and one
# approval daemon for 8 s, then SIGCONT.
#
# The checks, from the store once the load has stopped and the work drained:
#  - every acknowledged submit is exactly one ticket; every submitted ticket
#    was acknowledged; retried submits were answered with the same ticket
#  - every ticket routed once (history, event, processed_event)
#  - every due escalation happened, and none twice
#  - every approval request completed; every decided step has exactly one
#    approval.step_decided event, every completed request one
#    approval.completed
#  - one survey per resolution, each sent once; each answer recorded once
#  - one notification per event, recipient and channel; each sent one
#    written to the file channel exactly once
# and the counts are printed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../integration/lib.sh"
source "$here/../integration/routing_checks.sh"

SECONDS_WANTED=0
while (($#)); do
    case $1 in
        --seconds) SECONDS_WANTED=${2:?--seconds N}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

it_init fault
rc_init
# Two approval daemons, each with its own client port; the client knows both.
it__pick_port; export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
it__pick_port; APPROVAL2_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL=$KEFU_APPROVAL_BIND,$APPROVAL2_BIND
it__pick_port; export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL_SCAN_MS=200 KEFU_ROUTER_SCAN_MS=200 KEFU_ROUTER_CATCHUP_MS=500
export KEFU_SURVEY_DELAY_S=0 KEFU_SURVEY_SCAN_MS=200 KEFU_SURVEY_CATCHUP_MS=500
export KEFU_NOTIFY_FILE=$IT_DIR/notifications.jsonl KEFU_NOTIFY_QUIET_HOURS=off
export KEFU_NOTIFY_CATCHUP_MS=500 KEFU_NOTIFY_POLL_MS=100 KEFU_NOTIFY_RECLAIM_GRACE_MS=500
export KEFU_METRICS_PORT=0 KEFU_TIMEOUT_MS=3000
STOP=$IT_DIR/stop
STOP_APPROVERS=$IT_DIR/stop-approvers
LOOPS=()
APPROVER_LOOPS=()
DAEMONS=(bus intake router router@2 approval approval@2 notifier survey)

# Touches FLAG, then gives each PID (a loop that ends its turn when FLAG
# exists) SECONDS to finish, else kills it and what it runs. Returns 1 when
# some had to be killed.
stop_pids() { # stop_pids FLAG SECONDS PID...
    local flag=$1 polls=$(($2 * 5)) pid killed=0
    shift 2
    touch "$flag"
    for pid in "$@"; do
        while kill -0 "$pid" 2>/dev/null && ((polls-- > 0)); do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            pkill -KILL -P "$pid" 2>/dev/null
            kill -KILL "$pid" 2>/dev/null
            killed=1
        fi
        wait "$pid" 2>/dev/null
    done
    return "$killed"
}
# The load loops; the approvers' loops outlive them (what was asked for
# before the stop still needs deciding while the work drains).
stop_loops() { local rc=0; stop_pids "$STOP" "$1" "${LOOPS[@]}" || rc=1; LOOPS=(); return "$rc"; }
stop_approvers() {
    local rc=0
    stop_pids "$STOP_APPROVERS" "$1" "${APPROVER_LOOPS[@]}" || rc=1
    APPROVER_LOOPS=()
    return "$rc"
}

# On exit: resume anything stopped, end the load loops, then the harness.
on_exit() {
    local status=$?
    set +e
    for key in "${DAEMONS[@]}"; do it_running "$key" && kill -CONT "$(it_pid "$key")"; done
    stop_loops 0
    stop_approvers 0
    (exit "$status")
    rc__on_exit
}
trap on_exit EXIT

it_pg_start
# The harness's server trades durability for speed (synchronous_commit off);
# an immediate shutdown would then lose commits already acknowledged, which
# a production store (kefu's default settings) never does.
it_psql "ALTER SYSTEM SET synchronous_commit = on" >/dev/null
it_psql "SELECT pg_reload_conf()" >/dev/null
it_psql "$(cat "$here/fault_fixture.sql")" >/dev/null
start() { # start KEY: a daemon of DAEMONS, with its own settings
    if [[ $1 == approval@2 ]]; then it_start "$1" KEFU_APPROVAL_BIND="$APPROVAL2_BIND"; else it_start "$1"; fi
}
for key in "${DAEMONS[@]}"; do start "$key"; done
AGENT=$(it_cert agent.li)
# gm.zheng is the silent one; admin, the approval administrator, takes a
# step the fallback could not decide in time (faults can keep an approver
# away that long).
APPROVERS=(eng.sun eng.liu vp.zhou admin)
for staff in "${APPROVERS[@]}"; do it_cert "$staff" >/dev/null; done
it_wait_for "intake to answer" 30 env KEFU_CERT="$AGENT" kefu tickets --limit 1
it_wait_for "kefu-approval to answer" 30 env KEFU_CERT="$AGENT" kefu approvals

# ---------------------------------------------------------------- the load

# kefu-load in rounds until $STOP exists; tickets to load-ROUND.tickets.
submitter() {
    set +e
    local round=0
    while [[ ! -f $STOP ]]; do
        round=$((round + 1))
        timeout -s KILL 90 "$KEFU_BUILD_DIR/tests/bench/kefu-load" -n 40 -c 2 --mix --cert "$AGENT" \
            --idem-prefix "f$round" --retry-for-ms 60000 --timeout-ms 2000 \
            --tickets "$IT_DIR/load-$round.tickets" >>"$IT_DIR/log/load.log" 2>&1
        sleep 0.3
    done
}

# Runs kefu as agent.li; output to the agent's log.
agent() { KEFU_CERT=$AGENT kefu "$@" >>"$IT_DIR/log/agent.log" 2>&1; }

# agent.li's work: approvals asked, tickets answered and resolved, answers.
agent_loop() {
    set +e
    local promised no score
    promised=$(date -d '+3 days' +%F)
    while [[ ! -f $STOP ]]; do
        for no in $(it_psql "SELECT no FROM ticket t WHERE kind = 'complaint' AND id % 10 = 0
                              AND status IN ('routed', 'responded') AND NOT EXISTS
                              (SELECT 1 FROM approval_request r WHERE r.ticket_id = t.id) LIMIT 3"); do
            agent approval request "$no" --type repair_cost --amount 800 --reason '故障演练' \
                --promised "$promised"
        done
        for no in $(it_psql "SELECT no FROM ticket WHERE id % 10 = 5 AND status IN ('routed', 'responded')
                              LIMIT 3"); do
            agent respond "$no" --note '已联系业主' && agent resolve "$no" --note '已处理'
        done
        for no in $(it_psql "SELECT t.no FROM survey s JOIN ticket t ON t.id = s.ticket_id
                              WHERE s.sent_at IS NOT NULL AND s.answered_at IS NULL
                                AND t.status = 'resolved' LIMIT 3"); do
            score=$((RANDOM % 5 + 1))
            agent survey answer "$no" --score "$score"
        done
        sleep 0.3
    done
}

# An approver approving whatever waits for them.
approver_loop() {
    set +e
    local staff=$1 cert id
    cert=$IT_DIR/certs/$staff.cert
    while [[ ! -f $STOP_APPROVERS ]]; do
        for id in $(KEFU_CERT=$cert kefu approvals --json 2>/dev/null | jq -r '.steps[].request' |
                    sort -u); do
            KEFU_CERT=$cert kefu approve "$id" --comment '同意' >>"$IT_DIR/log/approver-$staff.log" 2>&1
        done
        sleep 0.4
    done
}

submitter & LOOPS+=($!)
agent_loop & LOOPS+=($!)
for staff in "${APPROVERS[@]}"; do approver_loop "$staff" & APPROVER_LOOPS+=($!); done
it_note "load started: kefu-load rounds, agent.li, approvers ${APPROVERS[*]}"

# ---------------------------------------------------------------- the faults

KILLS=0 PG_RESTARTS=0 STOPS=0
kill_restart() {
    it_kill "$1" KILL
    start "$1"
    KILLS=$((KILLS + 1))
    sleep 3
}
pause() { # pause SECONDS KEY...: SIGSTOP the daemons for SECONDS, then SIGCONT
    local seconds=$1 key
    shift
    for key in "$@"; do kill -STOP "$(it_pid "$key")"; done
    it_note "stopped $* for ${seconds}s"
    sleep "$seconds"
    for key in "$@"; do kill -CONT "$(it_pid "$key")"; done
    STOPS=$((STOPS + $#))
    sleep 2
}
round() {
    local key
    for key in intake router approval notifier survey bus router@2 approval@2; do
        kill_restart "$key"
    done
    it_note "restarting PostgreSQL (immediate shutdown)"
    it_pg_stop immediate
    sleep 1
    it_pg_start
    PG_RESTARTS=$((PG_RESTARTS + 1))
    sleep 3
    pause 10 router router@2
    pause 8 approval@2
}

sleep 5
started=$SECONDS rounds=0
while true; do
    round
    rounds=$((rounds + 1))
    (( SECONDS - started < SECONDS_WANTED )) || break
done
it_note "faults done: $rounds round(s), $KILLS SIGKILLs, $PG_RESTARTS store restarts, $STOPS SIGSTOPs"

# ---------------------------------------------------------------- drain

stop_loops 100 || it_fail "a load loop did not finish its turn within 100 s of the stop"
it_note "load stopped; waiting for the work to drain"
drained() {
    it_psql_is "SELECT (SELECT count(*) FROM ticket WHERE status = 'submitted')
                     + (SELECT count(*) FROM approval_request WHERE status = 'pending')
                     + (SELECT count(*) FROM ticket WHERE next_escalation_at < now() + interval '30 s'
                          AND status NOT IN ('resolved', 'closed'))
                     + (SELECT count(*) FROM survey WHERE sent_at IS NULL AND due_at < now())
                     + (SELECT count(*) FROM notification WHERE status IN ('pending', 'sending'))
                     + (SELECT count(*) FROM ticket_history h WHERE h.action = 'resolved' AND NOT EXISTS
                          (SELECT 1 FROM survey s WHERE s.ticket_id = h.ticket_id))" 0
}
# (Repair tickets escalate to their last level within about 16 s of being
# received and are not due again for an hour: the store then stands still
# while it is checked.)
it_wait_for "every ticket routed, approval completed, escalation, survey and notification done" 120 drained
stop_approvers 30 || it_fail "an approver's loop did not finish its turn within 30 s"

# ---------------------------------------------------------------- checks

q() { it_psql "$1"; }
zero() { # zero WHAT SQL: fails unless SQL counts 0
    local got
    got=$(q "$2")
    [[ $got == 0 ]] || it_fail "$1: $got (expected 0)"
}

# Submits: acknowledged = stored, once each.
cat "$IT_DIR"/load-*.tickets >"$IT_DIR/acked.tickets" 2>/dev/null || true
rc_acked "$IT_DIR/acked.tickets"
rc_assert_acked_exist
zero "stored tickets nobody was told of" \
    "SELECT count(*) FROM ticket t WHERE t.idem_key LIKE 'f%' AND NOT EXISTS (SELECT 1 FROM it_acked a WHERE a.no = t.no)"
zero "idempotency keys with more than one ticket" \
    "SELECT count(*) FROM (SELECT created_by, idem_key FROM ticket GROUP BY 1, 2 HAVING count(*) > 1) d"
rc_assert_whole
rc_assert_routed_once

# A submit whose reply was lost is sent again with its key and what it said
# (kefu-load sends no unit, name or detail): the same ticket, marked
# duplicate. The same key with other content is a conflict naming the ticket
# (a key belongs to its sender and content). Twenty acknowledged keys,
# through the real client.
resent=0
while IFS='|' read -r key no kind category channel priority project phone summary; do
    out=$(KEFU_CERT=$AGENT kefu submit --idem "$key" --kind "$kind" --category "$category" \
          --channel "$channel" --priority "$priority" --project "$project" --phone "$phone" \
          --summary "$summary") || it_fail "resending $key failed: $out"
    [[ $out == "$no (duplicate)" ]] || it_fail "resending $key answered '$out', expected '$no (duplicate)'"
    rc=0
    out=$(KEFU_CERT=$AGENT kefu submit --idem "$key" --kind "$kind" --category "$category" \
          --channel "$channel" --priority "$priority" --project "$project" --phone "$phone" \
          --summary '重发（故障演练）' 2>&1) || rc=$?
    [[ $rc == 1 && $out == *"conflict"*"$no"* ]] ||
        it_fail "resending $key with other content: exit $rc, '$out', expected a conflict naming $no"
    resent=$((resent + 1))
done < <(q "SELECT t.idem_key, t.no, t.kind, t.category, t.channel, t.priority, t.project_id, h.phone,
                   t.summary FROM ticket t JOIN homeowner h ON h.id = t.homeowner_id
             WHERE t.idem_key LIKE 'f%' ORDER BY random() LIMIT 20")
[[ $resent == 20 ]] || it_fail "only $resent keys were resent"
zero "tickets made by resending known keys" "SELECT count(*) FROM ticket WHERE summary = '重发（故障演练）'"

# Escalations: each level once, and the level the ticket's last. A reopened
# ticket (a low survey score) starts again at level 0: count per reopening.
epochs="SELECT ticket_id, action, level, count(*) FILTER (WHERE action = 'reopened')
          OVER (PARTITION BY ticket_id ORDER BY id) AS epoch FROM ticket_history"
zero "(ticket, reopening, level) escalations recorded twice" \
    "SELECT count(*) FROM (SELECT ticket_id, epoch, level FROM ($epochs) h WHERE action = 'escalated'
      GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
# (A level whose person already owns the ticket is passed over: 1 then 3.)
zero "tickets whose escalation level is not the last level of their escalation history" \
    "WITH h AS ($epochs), last AS (SELECT ticket_id, max(epoch) AS epoch FROM h GROUP BY ticket_id),
          lvl AS (SELECT h.ticket_id, coalesce(max(h.level) FILTER (WHERE h.action = 'escalated'), 0) AS level
                    FROM h JOIN last ON last.ticket_id = h.ticket_id AND last.epoch = h.epoch GROUP BY h.ticket_id)
     SELECT count(*) FROM ticket t JOIN lvl ON lvl.ticket_id = t.id WHERE t.escalation_level <> lvl.level"
zero "escalations in history without their ticket.escalated event, or the other way round" \
    "SELECT abs((SELECT count(*) FROM ticket_history WHERE action = 'escalated')
              - (SELECT count(*) FROM event WHERE type = 'ticket.escalated'))"

# Approvals: decided once, completed once.
zero "approval requests still pending" "SELECT count(*) FROM approval_request WHERE status = 'pending'"
zero "steps of the silent general manager not decided on his behalf by the fallback or the administrator" \
    "SELECT count(*) FROM approval_step WHERE label = 'general manager'
      AND (decided_by IS NULL OR decided_by NOT IN ('vp.zhou', 'admin')
           OR on_behalf_of IS DISTINCT FROM 'gm.zheng')"
zero "decided steps without exactly one approval.step_decided event" \
    "SELECT count(*) FROM approval_step s WHERE s.decided_at IS NOT NULL AND (SELECT count(*) FROM event e
      WHERE e.type = 'approval.step_decided' AND (e.body->>'step')::bigint = s.id) <> 1"
zero "approval.step_decided events of steps not decided" \
    "SELECT count(*) FROM event e JOIN approval_step s ON s.id = (e.body->>'step')::bigint
      WHERE e.type = 'approval.step_decided' AND s.decided_at IS NULL"
zero "completed requests without exactly one approval.completed event" \
    "SELECT count(*) FROM approval_request r WHERE r.status <> 'pending' AND (SELECT count(*) FROM event e
      WHERE e.type = 'approval.completed' AND (e.body->>'request')::bigint = r.id) <> 1"
zero "any-of stages decided by more than one approval" \
    "SELECT count(*) FROM (SELECT request_id FROM approval_step WHERE stage = 1 AND status = 'approved'
      GROUP BY request_id HAVING count(*) > 1) d"

# Surveys: one per resolution, sent once, answered once.
zero "resolutions without exactly one survey" \
    "SELECT count(*) FROM (SELECT h.ticket_id, row_number() OVER (PARTITION BY h.ticket_id ORDER BY h.id) AS n
      FROM ticket_history h WHERE h.action = 'resolved') r WHERE (SELECT count(*) FROM survey s
      WHERE s.ticket_id = r.ticket_id AND s.resolution_no = r.n) <> 1"
zero "sent surveys without exactly one survey.sent event" \
    "SELECT count(*) FROM survey s WHERE s.sent_at IS NOT NULL AND (SELECT count(*) FROM event e
      WHERE e.type = 'survey.sent' AND (e.body->>'survey')::bigint = s.id) <> 1"
zero "answered surveys without exactly one survey.answered event" \
    "SELECT count(*) FROM survey s WHERE s.answered_at IS NOT NULL AND (SELECT count(*) FROM event e
      WHERE e.type = 'survey.answered' AND (e.body->>'survey')::bigint = s.id) <> 1"

# Notifications: once per event, recipient and channel; each sent one written once.
zero "notifications made twice for one event, recipient and channel" \
    "SELECT count(*) FROM (SELECT 1 FROM notification GROUP BY event_id, recipient_kind, recipient_id,
      channel HAVING count(*) > 1) d"
# The store first: a message is written to the file before it is marked sent.
q "SELECT id FROM notification WHERE status = 'sent' AND via = 'file'" | sort >"$IT_DIR/sent.ids"
touch "$KEFU_NOTIFY_FILE"
jq -r .id "$KEFU_NOTIFY_FILE" | sort >"$IT_DIR/file.ids"
twice=$(uniq -d "$IT_DIR/file.ids" | wc -l)
[[ $twice == 0 ]] || it_fail "$twice notifications written to the file channel more than once"
missing=$(comm -23 "$IT_DIR/sent.ids" "$IT_DIR/file.ids" | wc -l)
[[ $missing == 0 ]] || it_fail "$missing notifications marked sent are not in the file channel, e.g. $(comm -23 "$IT_DIR/sent.ids" "$IT_DIR/file.ids" | head -3 | tr '\n' ' ')"
unmarked=$(comm -13 "$IT_DIR/sent.ids" "$IT_DIR/file.ids" | wc -l)
[[ $unmarked == 0 ]] || it_fail "$unmarked messages in the file channel are not marked sent, e.g. $(comm -13 "$IT_DIR/sent.ids" "$IT_DIR/file.ids" | head -3 | tr '\n' ' ')"
zero "processed events that failed" "SELECT count(*) FROM processed_event WHERE outcome <> 'applied'"

# ---------------------------------------------------------------- the figures

acked=$(wc -l <"$IT_DIR/acked.tickets")
dups=$(grep -c ' dup$' "$IT_DIR/acked.tickets" || true)
retries=$(sed -n 's/^retries=//p' "$IT_DIR/log/load.log" | awk '{s += $1} END {print s + 0}')
it_note "figures: $rounds round(s) of faults: $KILLS SIGKILLs, $PG_RESTARTS store restarts, $STOPS SIGSTOPs"
it_note "figures: submits acknowledged $acked (answered as duplicates of a lost reply: $dups; resends by kefu-load: $retries; keys resent after the run: $resent, each its own ticket again)"
it_note "figures: $(q "SELECT count(*) || ' tickets, ' || count(*) FILTER (WHERE routed_at IS NOT NULL) || ' routed once, '
                       || (SELECT count(*) FROM ticket_history WHERE action = 'escalated')
                       || ' escalations' FROM ticket")"
it_note "figures: $(q "SELECT count(*) || ' approval requests (' || count(*) FILTER (WHERE status = 'approved')
                       || ' approved), ' || (SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL)
                       || ' steps decided once (' || (SELECT count(*) FROM approval_step WHERE outcome = 'auto_approve')
                       || ' by policy, ' || (SELECT count(*) FROM approval_step WHERE on_behalf_of IS NOT NULL)
                       || ' on behalf of another)' FROM approval_request")"
it_note "figures: $(q "SELECT count(*) || ' surveys, ' || count(*) FILTER (WHERE sent_at IS NOT NULL) || ' sent once, '
                       || count(*) FILTER (WHERE answered_at IS NOT NULL) || ' answered, '
                       || (SELECT count(*) FROM event WHERE type = 'ticket.reopened') || ' reopened' FROM survey")"
it_note "figures: $(q "SELECT count(*) || ' notifications: ' || count(*) FILTER (WHERE status = 'sent') || ' sent once, '
                       || count(*) FILTER (WHERE status = 'failed') || ' failed (' ||
                       coalesce(string_agg(DISTINCT last_error, ', ') FILTER (WHERE status = 'failed'), 'none') || ')'
                       FROM notification")"
it_note "fault run passed"
