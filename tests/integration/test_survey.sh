#!/usr/bin/env bash
# The survey loop through the real daemons and the real `kefu` client, with a
# survey delay of 2 s (KEFU_SURVEY_DELAY_S):
#  - A: a complaint routed to eng.zhao is resolved; its survey (resolution 1)
#    is created due 2 s after the resolution, not sent before, then sent:
#    survey.sent in the outbox and on the bus; answered 5 (nps 9) through
#    `kefu survey answer`: survey.answered, the ticket stays resolved; the same
#    answer again is a duplicate and a different one a conflict, both leaving
#    one answer and one survey.answered event;
#  - B: answered 2: the ticket is reopened in the same transaction to
#    eng.liu (eng.zhao's manager), status routed, escalation level 0 and the
#    resolution clock restarted from the SLA, a 'reopened' history row
#    "low satisfaction score 2", ticket.reopened; first_resolved_at kept.
#    eng.liu resolves it again through intake: a second survey (resolution 2)
#    is sent and answered 4; `kefu survey show` lists both;
#  - D: 24 answers to D's survey from 8 concurrent clients (kefu-survey-load;
#    scores 3, 4, 5 in turn, so they arrive together in group commits):
#    exactly one is recorded and announced, the same values again are
#    duplicates, the others conflicts;
#  - C: an imported ticket that is resolved gets no survey;
#  - a move-in campaign for HZ-XH surveys each owner of its units once (an
#    owner of two units once), all sent; re-run: duplicate, nobody twice;
#    an agent may not start one; a campaign survey is answered by its id.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init survey
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY=$KEFU_SURVEY_BIND
export KEFU_SURVEY_DELAY_S=2
export KEFU_SURVEY_SCAN_MS=100
export KEFU_SURVEY_CATCHUP_MS=300
sub=$KEFU_BUILD_DIR/tests/integration/kefu-test-survey-sub
[[ -x $sub ]] || it_fail "$sub is not built"

it_pg_start
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_start router
it_start survey
it_wait_for "intake to answer" 30 kefu tickets --limit 1
survey_answers() { # kefu-survey answers (here: not_found, exit 1), not a timeout (exit 3)
    local rc=0
    kefu --timeout 1000 survey show 999999 >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}
it_wait_for "kefu-survey to answer" 30 survey_answers

"$sub" --seconds 140 survey. ticket.reopened >"$IT_DIR/bus.jsonl" 2>"$IT_DIR/log/sub.log" &
SUB_PID=$!
echo "$SUB_PID" >>"$IT_DIR/.daemons"
it_wait_for "the bus listener" 10 grep -q listening "$IT_DIR/log/sub.log"
sleep 0.3 # the subscription travels to the bus

run() {
    local o=$IT_DIR/out e=$IT_DIR/err
    RC=0
    kefu "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(<"$o")
    ERR=$(<"$e")
}
expect_rc() {
    [[ $RC == "$1" ]] || it_fail "$2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
}
json() { jq -r "$1" <<<"$OUT"; }
q() { it_psql "$1"; }
submit() {
    kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --building 5 --unit "$1" --phone "1370000$1" --summary "$2"
}
routed() {
    it_wait_for "$1 to be routed" 20 it_psql_is "SELECT status FROM ticket WHERE no = '$1'" routed
}
on_bus() { # on_bus TYPE TICKET: the listener saw that event
    jq -s -e --arg t "$1" --arg c "$2" 'any(.[]; .type == $t and .corr == $c)' "$IT_DIR/bus.jsonl" >/dev/null
}

A=$(submit 1501 '卫生间漏水（回访测试 A）')
B=$(submit 1502 '阳台漏水（回访测试 B）')
C=$(submit 1503 '外墙渗水（回访测试 C，导入的工单）')
D=$(submit 1504 '窗框渗水（回访测试 D，并发回访）')
routed "$A"; routed "$B"; routed "$C"; routed "$D"
it_note "A=$A B=$B C=$C"
q "UPDATE ticket SET imported = true WHERE no = '$C'" >/dev/null
for no in "$A" "$B" "$C" "$D"; do
    kefu --cert "$(it_cert eng.zhao)" respond "$no" --note '已联系业主' >/dev/null
    kefu --cert "$(it_cert eng.zhao)" resolve "$no" --note '已修复' >/dev/null
done

# ---- A: due after the delay, sent once, answered 5 -------------------------
it_wait_for "A's survey to be created" 20 \
    it_psql_is "SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A'" 1
row=$(q "SELECT s.kind, s.resolution_no, s.project_id, s.homeowner_id = t.homeowner_id,
                round(extract(epoch FROM s.due_at - t.resolved_at))
           FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A'")
[[ $row == "resolution|1|HZ-XH|t|2" ]] || it_fail "A's survey is not due 2 s after its resolution: $row"
# Not sent before it is due: sent_at is never before due_at.
it_wait_for "A's survey to be sent" 20 \
    it_psql_is "SELECT sent_at IS NOT NULL FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A'" t
early=$(q "SELECT count(*) FROM survey WHERE sent_at < due_at")
[[ $early == 0 ]] || it_fail "$early surveys were sent before they were due"
ev=$(q "SELECT body->>'ticket', body->>'kind', body->>'project', (body->>'survey')::bigint = s.id,
               body->>'resolution'
          FROM event e JOIN survey s ON s.id = (e.body->>'survey')::bigint
         WHERE e.type = 'survey.sent' AND e.corr = '$A'")
[[ $ev == "$A|resolution|HZ-XH|t|1" ]] || it_fail "A's survey.sent event is wrong: '$ev'"
it_wait_for "survey.sent of A on the bus" 10 on_bus survey.sent "$A"

run survey answer "$A" --score 5 --nps 9 --comment '师傅很专业，谢谢' --json
expect_rc 0 "answer A 5"
[[ $(json '.score, .nps, .duplicate, .reopened, .ticket' | tr '\n' ' ') == "5 9 false false $A " ]] ||
    it_fail "answer A reply: $OUT"
[[ $(q "SELECT status FROM ticket WHERE no = '$A'") == resolved ]] || it_fail "a score of 5 changed A's status"
[[ $(q "SELECT score || '/' || nps || '/' || comment || '/' || answered_by FROM survey s
         JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A'") == "5/9/师傅很专业，谢谢/agent.li" ]] ||
    it_fail "A's answer is not recorded as given"
# The same answer again: the same answer (duplicate), recorded once.
run survey answer "$A" --score 5 --nps 9 --comment '师傅很专业，谢谢' --json
expect_rc 0 "the same answer again"
[[ $(json .duplicate) == true ]] || it_fail "a repeated answer is not marked duplicate: $OUT"
run survey answer "$A" --score 5 --nps 9 --comment '师傅很专业，谢谢'
expect_rc 0 "the same answer again (plain)"
grep -q duplicate <<<"$OUT" || it_fail "the plain output does not say duplicate: $OUT"
# A different answer: conflict, nothing changes.
run survey answer "$A" --score 1
expect_rc 1 "a different second answer"
grep -q "conflict" <<<"$ERR" || it_fail "a different second answer is not a conflict: $ERR"
# The message gives the first answer's time as everything else does: local
# time in the store's zone (Asia/Shanghai), not UTC.
local_at=$(q "SELECT to_char(answered_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')
                FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A'")
grep -qF "at $local_at" <<<"$ERR" || it_fail "the conflict does not say when, in local time ($local_at): $ERR"
[[ $(q "SELECT count(*) FROM event WHERE type = 'survey.answered' AND corr = '$A'") == 1 ]] ||
    it_fail "A's answer was announced more than once"
[[ $(q "SELECT score FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A'") == 5 ]] ||
    it_fail "the conflicting answer overwrote A's score"
[[ $(q "SELECT status FROM ticket WHERE no = '$A'") == resolved ]] || it_fail "the refused answer reopened A"
it_wait_for "survey.answered of A on the bus" 10 on_bus survey.answered "$A"

# ---- B: a low score reopens the ticket to the owner's manager ---------------
it_wait_for "B's survey to be sent" 20 \
    it_psql_is "SELECT sent_at IS NOT NULL FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$B'" t
resolved_first=$(q "SELECT first_resolved_at FROM ticket WHERE no = '$B'")
run survey answer "$B" --score 2 --comment '还是漏水' --json
expect_rc 0 "answer B 2"
[[ $(json '.reopened, .owner' | tr '\n' ' ') == "true eng.liu " ]] || it_fail "B not reopened to eng.liu: $OUT"
row=$(q "SELECT status, owner_id, department_id, escalation_level, resolved_at IS NULL,
                first_resolved_at = '$resolved_first',
                resolve_due = next_escalation_at,
                abs(extract(epoch FROM resolve_due - clock_timestamp()) - 864000) < 60
           FROM ticket WHERE no = '$B'")
[[ $row == "routed|eng.liu|eng|0|t|t|t|t" ]] ||
    it_fail "B after a score of 2 (status|owner|dept|level|unresolved|first resolution kept|clock|10 days): $row"
hist=$(q "SELECT h.action || '|' || h.actor || '|' || h.from_owner || '|' || h.to_owner || '|' || h.reason
            FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
           WHERE t.no = '$B' ORDER BY h.id DESC LIMIT 1")
[[ $hist == "reopened|agent.li|eng.zhao|eng.liu|low satisfaction score 2" ]] || it_fail "B's last history row: $hist"
# The answer, the reopening and both events are one transaction.
same=$(q "SELECT count(DISTINCT xid) FROM (SELECT xid FROM event WHERE corr = '$B'
            AND type IN ('survey.answered', 'ticket.reopened')
          UNION ALL SELECT h.xid FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
           WHERE t.no = '$B' AND h.action = 'reopened') x")
[[ $same == 1 ]] || it_fail "B's answer and reopening span $same transactions"
[[ $(q "SELECT body->>'to' || '|' || (body->>'score') FROM event WHERE type = 'ticket.reopened' AND corr = '$B'") == "eng.liu|2" ]] ||
    it_fail "B's ticket.reopened event is wrong"
it_wait_for "ticket.reopened of B on the bus" 10 on_bus ticket.reopened "$B"
run ticket show "$B" --json
expect_rc 0 "ticket show B"
[[ $(json '.history[-1].action + " " + .history[-1].reason') == "reopened low satisfaction score 2" ]] ||
    it_fail "kefu ticket show does not show the reopening: $OUT"

# The loop closes: resolved again by the new owner, a second survey.
run --cert "$(it_cert eng.liu)" resolve "$B" --note '重新做了防水'
expect_rc 0 "resolve the reopened B"
it_wait_for "B's second survey to be sent" 20 \
    it_psql_is "SELECT resolution_no FROM survey s JOIN ticket t ON t.id = s.ticket_id
                 WHERE t.no = '$B' AND s.sent_at IS NOT NULL ORDER BY resolution_no DESC LIMIT 1" 2
run survey answer "$B" --score 4 --nps 8 --json
expect_rc 0 "answer B's second survey"
[[ $(json '.resolution, .reopened' | tr '\n' ' ') == "2 false " ]] || it_fail "B's second answer: $OUT"
[[ $(q "SELECT first_resolved_at = '$resolved_first' AND status = 'resolved' FROM ticket WHERE no = '$B'") == t ]] ||
    it_fail "B's first resolution time changed, or B is not resolved"
run survey show "$B" --json
expect_rc 0 "survey show B"
[[ $(json '[.surveys[] | "\(.resolution):\(.score):\(.status)"] | join(" ")') == "1:2:answered 2:4:answered" ]] ||
    it_fail "kefu survey show B: $OUT"
run survey show "$B"
expect_rc 0 "survey show B (table)"
[[ $(grep -c answered <<<"$OUT") == 2 ]] || it_fail "the survey table lacks B's two answers: $OUT"

# ---- D: concurrent answers to one survey are counted once --------------------
it_wait_for "D's survey to be sent" 20 \
    it_psql_is "SELECT sent_at IS NOT NULL FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$D'" t
for i in $(seq 24); do echo "$D"; done >"$IT_DIR/d.tickets"
"$KEFU_BUILD_DIR/tests/bench/kefu-survey-load" --tickets "$IT_DIR/d.tickets" -c 8 >"$IT_DIR/d.out" 2>&1 || true
value() { sed -n "s/^$1=//p" "$IT_DIR/d.out"; }
ok=$(value answered) conflicts=$(value errors.conflict) dups=$(value duplicates)
[[ ${ok:-0} -ge 1 && $((${ok:-0} + ${conflicts:-0})) == 24 && $(value errors) == "${conflicts:-0}" &&
   ${dups:-x} == $((${ok:-0} - 1)) ]] ||
    it_fail "24 concurrent answers to D: $(tr '\n' ' ' <"$IT_DIR/d.out")"
[[ $(q "SELECT count(*) FROM event WHERE type = 'survey.answered' AND corr = '$D'") == 1 ]] ||
    it_fail "D's survey was announced as answered more than once"
[[ $(q "SELECT count(*) FILTER (WHERE answered_at IS NOT NULL) FROM survey s JOIN ticket t ON t.id = s.ticket_id
         WHERE t.no = '$D'") == 1 ]] || it_fail "D's survey is not answered exactly once"

# ---- C: imported tickets are never surveyed --------------------------------
C_EVENT=$(q "SELECT id FROM event WHERE type = 'ticket.resolved' AND corr = '$C'")
it_wait_for "C's resolution to be consumed" 20 \
    it_psql_is "SELECT count(*) FROM processed_event WHERE consumer = 'survey' AND event_id = '$C_EVENT'" 1
[[ $(q "SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$C'") == 0 ]] ||
    it_fail "imported ticket C got a survey"
run survey answer "$C" --score 3
expect_rc 1 "answer imported C"
grep -q "imported" <<<"$ERR" || it_fail "the refusal does not say C is imported: $ERR"

# ---- campaigns ---------------------------------------------------------------
# Owners of HZ-XH units: the four above plus five more, one with two units,
# and one owner of an SH-PD unit only (not surveyed).
q "INSERT INTO homeowner (phone, name) SELECT '1360000000' || g, 'campaign owner ' || g
     FROM generate_series(1, 6) g;
   INSERT INTO homeowner_unit (homeowner_id, unit_id)
   SELECT h.id, u.id FROM homeowner h JOIN unit u ON u.project_id = 'HZ-XH' AND u.building = '6'
      AND u.unit_no = (100 * right(h.phone, 1)::int + 1)::text
    WHERE h.phone LIKE '1360000000%' AND h.phone <> '13600000006';
   INSERT INTO homeowner_unit (homeowner_id, unit_id)
   SELECT h.id, u.id FROM homeowner h JOIN unit u ON u.project_id = 'HZ-XH' AND u.building = '6'
      AND u.unit_no = '102' WHERE h.phone = '13600000001';
   INSERT INTO homeowner_unit (homeowner_id, unit_id)
   SELECT h.id, u.id FROM homeowner h JOIN unit u ON u.project_id = 'SH-PD' AND u.building = '1'
      AND u.unit_no = '101' WHERE h.phone = '13600000006'" >/dev/null
owners=$(q "SELECT count(DISTINCT hu.homeowner_id) FROM homeowner_unit hu JOIN unit u ON u.id = hu.unit_id
             WHERE u.project_id = 'HZ-XH'")
[[ $owners == 9 ]] || it_fail "expected 9 owners of HZ-XH units in the fixture, found $owners"

run --cert "$(it_cert agent.li)" survey campaign --project HZ-XH --milestone move-in
expect_rc 1 "a campaign by an agent"
grep -q forbidden <<<"$ERR" || it_fail "an agent's campaign is not forbidden: $ERR"
run --cert "$(it_cert admin)" survey campaign --project HZ-XH --milestone move-in --json
expect_rc 0 "campaign"
[[ $(json '.surveys, .duplicate' | tr '\n' ' ') == "9 false " ]] || it_fail "campaign reply: $OUT"
CAMPAIGN=$(json .campaign)
# The reply names the surveys it made (all 9: fewer than the 256 it lists at most).
ids=$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM survey WHERE campaign_id = $CAMPAIGN")
[[ $(json '(.survey_ids | map(tostring) | join(",")), .survey_ids_omitted' | tr '\n' ' ') == "$ids 0 " ]] ||
    it_fail "the campaign's reply does not list its surveys $ids: $OUT"
it_wait_for "the campaign's surveys to be sent" 20 \
    it_psql_is "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) || '/' || count(*) FROM survey
                 WHERE campaign_id = $CAMPAIGN" "9/9"
row=$(q "SELECT count(DISTINCT homeowner_id), count(*) FILTER (WHERE kind = 'campaign' AND milestone = 'move-in'
                AND project_id = 'HZ-XH' AND ticket_id IS NULL) FROM survey WHERE campaign_id = $CAMPAIGN")
[[ $row == "9|9" ]] || it_fail "the campaign's surveys are not one per owner: $row"
sent=$(q "SELECT count(*), count(DISTINCT (body->>'survey')) FROM event e JOIN survey s
           ON s.id = (e.body->>'survey')::bigint WHERE e.type = 'survey.sent' AND s.campaign_id = $CAMPAIGN")
[[ $sent == "9|9" ]] || it_fail "survey.sent events of the campaign (events|surveys): $sent"
[[ $(q "SELECT count(*) FROM event WHERE type = 'survey.sent' AND body->>'milestone' = 'move-in'
          AND body->>'kind' = 'campaign'") == 9 ]] || it_fail "survey.sent lacks kind/milestone"
run --cert "$(it_cert cs.wang)" survey campaign --project HZ-XH --milestone move-in --json
expect_rc 0 "the same campaign again"
[[ $(json '.campaign, .duplicate' | tr '\n' ' ') == "$CAMPAIGN true " ]] || it_fail "re-run is not the same campaign: $OUT"
[[ $(json '.survey_ids | map(tostring) | join(",")') == "$ids" ]] || it_fail "the re-run does not list the earlier run's surveys: $OUT"
run --cert "$(it_cert cs.wang)" survey campaign --project HZ-XH --milestone move-in
expect_rc 0 "the same campaign again (text)"
grep -qxF "  surveys ${ids//,/ }" <<<"$OUT" || it_fail "the text reply does not list surveys $ids: $OUT"
[[ $(q "SELECT count(*) FROM survey WHERE kind = 'campaign'") == 9 ]] || it_fail "the re-run surveyed owners twice"
# Another milestone is another campaign.
run --cert "$(it_cert admin)" survey campaign --project HZ-XH --milestone revisit-4y --json
expect_rc 0 "revisit-4y campaign"
[[ $(json '.surveys, .duplicate' | tr '\n' ' ') == "9 false " ]] || it_fail "revisit-4y: $OUT"
# A project with more owners than a reply lists: the lowest 256 ids (a body's longest array), and a count of the rest.
q "INSERT INTO homeowner (phone, name) SELECT '1350000' || lpad(g::text, 4, '0'), 'big campaign owner ' || g
     FROM generate_series(1, 1003) g;
   INSERT INTO homeowner_unit (homeowner_id, unit_id)
   SELECT h.id, (SELECT min(id) FROM unit WHERE project_id = 'SH-PD') FROM homeowner h WHERE h.phone LIKE '1350000%'" >/dev/null
run --cert "$(it_cert admin)" survey campaign --project SH-PD --milestone sales --json
expect_rc 0 "a campaign of 1003 owners"
big=$(json .campaign)
n=$(q "SELECT count(*) FROM survey WHERE campaign_id = $big")
last=$(q "SELECT max(id) FROM (SELECT id FROM survey WHERE campaign_id = $big ORDER BY id LIMIT 256) s")
(( n >= 1003 )) || it_fail "the campaign of SH-PD surveyed $n owners"
[[ $(json '.surveys, (.survey_ids | length), .survey_ids_omitted, .survey_ids[0] < .survey_ids[1], .survey_ids[-1]' | tr '\n' ' ') == "$n 256 $((n - 256)) true $last " ]] ||
    it_fail "a campaign of $n owners lists $(json '.survey_ids | length') ids ($(json .survey_ids_omitted) omitted); expected the lowest 256, to $last"
# A campaign survey is answered by its id.
SID=$(q "SELECT min(id) FROM survey WHERE campaign_id = $CAMPAIGN")
it_wait_for "campaign survey $SID to be sent" 10 it_psql_is "SELECT sent_at IS NOT NULL FROM survey WHERE id = $SID" t
run survey answer "$SID" --score 3 --nps 10 --json
expect_rc 0 "answer campaign survey $SID"
[[ $(json '.kind, .score, .reopened' | tr '\n' ' ') == "campaign 3 false " ]] || it_fail "campaign answer: $OUT"

# ---- the books balance ------------------------------------------------------
dups=$(q "SELECT count(*) FROM (SELECT body->>'survey' FROM event WHERE type = 'survey.sent'
           GROUP BY 1 HAVING count(*) > 1) d")
[[ $dups == 0 ]] || it_fail "$dups surveys were sent twice"
unsent=$(q "SELECT count(*) FROM survey s WHERE s.sent_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM event e
             WHERE e.type = 'survey.sent' AND (e.body->>'survey')::bigint = s.id)")
[[ $unsent == 0 ]] || it_fail "$unsent surveys are marked sent without their event"
answered=$(q "SELECT count(*) FROM survey WHERE answered_at IS NOT NULL")
events=$(q "SELECT count(*) FROM event WHERE type = 'survey.answered'")
[[ $answered == 5 && $events == 5 ]] || it_fail "answers $answered, survey.answered events $events (expected 5 and 5)"
it_running survey || it_fail "kefu-survey died"
kill -TERM "$SUB_PID" 2>/dev/null || true
wait "$SUB_PID" 2>/dev/null || true
