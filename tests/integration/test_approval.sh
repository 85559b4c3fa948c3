#!/usr/bin/env bash
# Approvals through the real daemons and the real `kefu` client, each
# approver acting with their own certificate (policies:
# approval_fixture.sql):
#  - a refund (any of eng.sun / eng.liu, then finance): requested, listed in
#    the approver's `kefu approvals`, approved by eng.sun; eng.liu is then
#    told the stage was decided (conflict); the same approval again is a
#    duplicate, not a second decision; fin.lin's delegate (vp.qian) sees and
#    approves fin.lin's step on fin.lin's behalf; the request completes and
#    the ticket's history shows the trail; every event is in the outbox;
#  - the named errors: bad amounts (bad_value), unknown ticket, request or
#    step (not_found), someone else's step (forbidden), a rejection without
#    a reason (usage), a second pending request of a type (conflict), an
#    unregistered key (refused at the handshake or unknown_actor);
#  - a 2-second step is reminded at 1 s, escalated to the approver's manager
#    at 2 s; its first approver is then told the deadline moved it
#    (conflict); the manager decides it on their behalf; `kefu approval show`
#    gives the reminder, the move with its reason, the deadline, the
#    reminder time and the decision on whose behalf;
#  - a promised date already past: approval.at_risk to the ticket owner's
#    manager at once;
#  - a two-of-three stage: one rejection leaves it pending, the second
#    rejects the request;
#  - races: 6 times, eng.sun and eng.liu approve the same any-of stage at
#    the same moment: exactly one decision counts, the other is conflict.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init approval
approval_bind
export KEFU_APPROVAL_SCAN_MS=100
it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
it_start bus
it_start intake
it_start approval
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
it_wait_for "kefu-approval to answer" 30 approval_answers

q() { it_psql "$1"; }
submit() {
    it_as agent.li kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --building 3 --unit "$1" --phone "1390000$1" --summary "$2"
}
tomorrow=$(date -d '+2 days' +%F)
yesterday=$(date -d '-1 day' +%F)

T1=$(submit 1101 '卫生间渗漏赔偿（审批测试）')
T2=$(submit 1102 '维修费用（审批测试）')
T3=$(submit 1103 '政策例外（审批测试）')

# ---- a refund through both stages -------------------------------------------
run agent.li approval request "$T1" --type refund --amount 1200.50 --reason '渗漏赔偿' \
    --promised "$tomorrow"
expect 0 "" "request a refund"
R1=$OUT
[[ $R1 =~ ^[0-9]+$ ]] || it_fail "approval request printed '$OUT'"
[[ $(q "SELECT policy_id, amount_fen, status, stage, requested_by FROM approval_request WHERE id = $R1") == \
   "t-race|120050|pending|1|agent.li" ]] || it_fail "request $R1 is not stored as asked"
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.requested' AND body->>'request' = '$R1'") == 1 ]] ||
    it_fail "no approval.requested for $R1"
[[ $(q "SELECT string_agg(body->>'to', ',' ORDER BY body->>'to') FROM event
         WHERE type = 'approval.step_assigned' AND body->>'request' = '$R1'") == "eng.liu,eng.sun" ]] ||
    it_fail "stage 1 of $R1 was not assigned to eng.sun and eng.liu"

run eng.sun approvals --json
expect 0 "" "eng.sun's approvals"
[[ $(jq -r --argjson r "$R1" '.steps[] | select(.request == $r) | "\(.ticket) \(.amount) \(.type)"' <<<"$OUT") == \
   "$T1 1200.50 refund" ]] || it_fail "eng.sun's approvals lack $R1: $OUT"
run eng.sun approvals
expect 0 "" "eng.sun's approvals (table)"
grep -q "卫生间渗漏赔偿" <<<"$OUT" || it_fail "the table lacks the ticket summary: $OUT"
run fin.lin approvals --json
[[ $(jq '[.steps[] | select(.request == '"$R1"')] | length' <<<"$OUT") == 0 ]] ||
    it_fail "fin.lin sees a step of stage 2 before stage 1 is done"

run eng.sun approve "$R1" --comment '同意' --json
expect 0 "" "eng.sun approves"
[[ $(jq -r '"\(.outcome) \(.decided_by) \(.duplicate)"' <<<"$OUT") == "approve eng.sun false" ]] ||
    it_fail "eng.sun's decision reply: $OUT"
run eng.sun approve "$R1" --comment '同意'
expect 0 "" "eng.sun approves again"
grep -q duplicate <<<"$OUT" || it_fail "a repeated approval is not a duplicate: $OUT"
run eng.liu approve "$R1"
expect 1 conflict "eng.liu approves a decided any-of stage"
grep -q "already decided" <<<"$ERR" || it_fail "the conflict does not say why: $ERR"
run eng.sun reject "$R1" --reason '改主意了'
expect 1 conflict "eng.sun changes his mind"
[[ $(q "SELECT count(*) FROM approval_step WHERE request_id = $R1 AND decided_at IS NOT NULL") == 1 ]] ||
    it_fail "stage 1 of $R1 holds more than one decision"
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.step_decided' AND body->>'request' = '$R1'") == 1 ]] ||
    it_fail "more than one approval.step_decided for stage 1 of $R1"

# fin.lin goes on holiday: vp.qian decides on fin.lin's behalf.
run agent.li approve "$R1"
expect 1 forbidden "agent.li approves fin.lin's step"
run fin.lin approvals --json
[[ $(jq -r 'has("delegate")' <<<"$OUT") == false ]] || it_fail "approval.list names a delegate before one is set: $OUT"
# A delegation still to come is the caller's too; a cleared one is not.
run agent.li delegate set vp.qian --from +2h --to +3h
expect 0 "" "agent.li names vp.qian delegate for later"
run agent.li approvals --json
[[ $(jq -r '.delegate | "\(.delegate)/\(.name != "")/\(.to - .from)"' <<<"$OUT") == vp.qian/true/3600000 ]] ||
    it_fail "approval.list does not give the delegation to come: $OUT"
run agent.li approvals
[[ $OUT == "your delegate: "*" (vp.qian) from "*" until "* ]] ||
    it_fail "kefu approvals does not say the delegation to come: $OUT"
run agent.li delegate clear
expect 0 "" "agent.li cancels the later delegation"
run agent.li approvals --json
[[ $(jq -r 'has("delegate")' <<<"$OUT") == false ]] || it_fail "approval.list names a cleared delegate: $OUT"
run agent.li approvals
[[ $OUT != *"your delegate"* ]] || it_fail "kefu approvals says a cleared delegation: $OUT"
run fin.lin delegate set vp.qian --from now --to +1h
expect 0 "" "fin.lin names vp.qian delegate"
run fin.lin approvals --json
[[ $(jq -r --argjson now "$(date +%s%3N)" '.delegate | "\(.delegate)/\(.from <= $now and .to > $now)"' \
     <<<"$OUT") == vp.qian/true ]] || it_fail "approval.list does not give the delegation in force: $OUT"
run vp.qian approvals --json
[[ $(jq -r 'has("delegate")' <<<"$OUT") == false ]] || it_fail "the delegate is shown a delegation of their own: $OUT"
run vp.qian approvals --json
[[ $(jq -r --argjson r "$R1" '.steps[] | select(.request == $r) | .on_behalf_of' <<<"$OUT") == fin.lin ]] ||
    it_fail "vp.qian does not see fin.lin's step: $OUT"
run vp.qian approve "$R1" --comment '代林峰审批'
expect 0 "" "vp.qian approves for fin.lin"
grep -q "on behalf of fin.lin" <<<"$OUT" || it_fail "the decision does not say on whose behalf: $OUT"
[[ $(q "SELECT status FROM approval_request WHERE id = $R1") == approved ]] || it_fail "$R1 did not complete"
[[ $(q "SELECT decided_by || '/' || on_behalf_of FROM approval_step WHERE request_id = $R1 AND stage = 2") == \
   "vp.qian/fin.lin" ]] || it_fail "stage 2 does not record who acted for whom"
[[ $(q "SELECT body->>'outcome' FROM event WHERE type = 'approval.completed' AND body->>'request' = '$R1'") == \
   approved ]] || it_fail "no approval.completed for $R1"
run fin.lin delegate clear
expect 0 "" "fin.lin is back"
grep -q "1 delegation ended" <<<"$OUT" || it_fail "delegate clear: $OUT"
run eng.sun approval show "$R1"
expect 0 "" "show $R1"
grep -q "vp.qian" <<<"$OUT" && grep -q "fin.lin" <<<"$OUT" || it_fail "the trail lacks the delegate: $OUT"
hist=$(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
           WHERE t.no = '$T1' AND h.action = 'approval'")
[[ $hist == 5 ]] ||
    it_fail "the ticket's history holds $hist approval rows, expected 5 (requested, fin.lin's cover, 2 decisions, completed)"
[[ $(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
         WHERE t.no = '$T1' AND h.note LIKE '%fin.lin is absent; vp.qian decides for fin.lin%(set by fin.lin)'") == 1 ]] ||
    it_fail "the trail does not say who covers fin.lin and who arranged it"
[[ $(q "SELECT body->>'delegate' || ':' || jsonb_array_length(body->'steps') FROM event
         WHERE type = 'approval.delegate_set' AND body->>'staff' = 'fin.lin'") == vp.qian:1 ]] ||
    it_fail "vp.qian was not told of the one step of fin.lin's they cover"
run agent.li ticket show "$T1"
grep -q "approval" <<<"$OUT" || it_fail "kefu ticket show does not show the approval trail: $OUT"

# ---- named errors --------------------------------------------------------------
for amount in 80,000 '¥80000' '80000 CNY' 80000.123 0 -5 1e5 100000000.01; do
    run agent.li approval request "$T2" --type repair_cost --amount "$amount" --reason x --promised "$tomorrow"
    expect 1 bad_value "amount '$amount'"
done
run agent.li approval request KF-2099-999999 --type refund --amount 1 --reason x --promised "$tomorrow"
expect 1 not_found "unknown ticket"
run agent.li approval request "$T2" --type refund --amount 1 --reason x --promised 2026-02-30
expect 1 bad_value "a date that does not exist"
run agent.li approval request "$T2" --type bonus --amount 1 --reason x --promised "$tomorrow"
expect 2 "" "an unknown type"
run agent.li approval request "$T2" --type settlement --amount 1 --reason x --promised "$tomorrow"
expect 1 not_found "a type without a policy"
run eng.sun approve 999999
expect 1 not_found "unknown request"
run eng.sun approve "$R1" --step 999999
expect 1 not_found "unknown step"
run eng.sun reject "$R1"
expect 2 "" "a rejection without a reason"
run eng.sun approve "$R1"
expect 0 "" "a replay after completion"
grep -q duplicate <<<"$OUT" || it_fail "a replay after completion is not a duplicate: $OUT"
run eng.zhao approval request "$T2" --type repair_cost --amount 1 --reason x --promised "$tomorrow"
expect 1 forbidden "staff who do not own the ticket"
# An unregistered key: refused at the handshake (a timeout) or unknown_actor.
stranger=$(it_cert sales.xu)
q "DELETE FROM staff_cert WHERE staff_id = 'sales.xu'" >/dev/null
RC=0
KEFU_CERT=$stranger kefu --timeout 1500 approvals >"$IT_DIR/out" 2>"$IT_DIR/err" || RC=$?
[[ $RC != 0 ]] || it_fail "an unregistered key was served: $(<"$IT_DIR/out")"

# ---- a 2-second step: reminder, escalation, a late decision --------------------
run agent.li approval request "$T2" --type repair_cost --amount 3000 --reason '水管更换' --promised "$tomorrow"
expect 0 "" "request a repair cost"
R2=$OUT
run agent.li approval request "$T2" --type repair_cost --amount 3000 --reason again --promised "$tomorrow"
expect 1 conflict "a second pending request of the same type"
it_wait_for "the step of $R2 to move" 15 \
    it_psql_is "SELECT assigned_to FROM approval_step WHERE request_id = $R2" vp.qian
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.step_reminded' AND body->>'request' = '$R2'
          AND body->>'to' = 'audit.guo'") == 1 ]] || it_fail "audit.guo was not reminded once"
late=$(q "SELECT round(extract(epoch FROM e.at - r.requested_at)::numeric, 1) FROM event e
            JOIN approval_request r ON r.id = $R2
           WHERE e.type = 'approval.step_escalated' AND e.body->>'request' = '$R2'")
it_note "escalated after ${late}s (deadline 2 s)"
awk -v l="$late" 'BEGIN { exit !(l >= 2 && l < 3) }' || it_fail "escalated after ${late}s, not within 1 s of 2 s"
run audit.guo approve "$R2"
expect 1 conflict "audit.guo decides after the deadline moved the step"
grep -q "moved to vp.qian" <<<"$ERR" || it_fail "the late decision is not told where the step went: $ERR"
run vp.qian approve "$R2" --comment '逾期升级审批'
expect 0 "" "vp.qian decides the escalated step"
[[ $(q "SELECT decided_by || '/' || on_behalf_of || '/' || moves FROM approval_step WHERE request_id = $R2") == \
   "vp.qian/audit.guo/1" ]] || it_fail "the escalated decision does not record on whose behalf"
# The trail tells the whole story: `kefu approval show` gives the reminder
# (when, to whom), the move (when, from whom to whom, why), the current
# deadline and reminder time, and the decision on whose behalf.
run audit.guo approval show "$R2" --json
expect 0 "" "show $R2 (json)"
step=$(jq -c '.steps[0]' <<<"$OUT")
[[ $(jq -r '[.trail[].what] | join(",")' <<<"$step") == "reminded,moved" ]] ||
    it_fail "the trail of $R2 is not a reminder then a move: $step"
reminded_ms=$(q "SELECT body->>'reminded_at' FROM event WHERE type = 'approval.step_reminded'
                   AND body->>'request' = '$R2' AND body->>'to' = 'audit.guo'")
moved_ms=$(q "SELECT kefu_ms(at) FROM event WHERE type = 'approval.step_escalated' AND body->>'request' = '$R2'")
[[ $(jq -r '.trail[0] | "\(.to) \(.at) \(.deadline_at > 0)"' <<<"$step") == "audit.guo $reminded_ms true" ]] ||
    it_fail "the reminder in the trail of $R2: $step"
[[ $(jq -r '.trail[1] | "\(.from) \(.to) \(.action) \(.reason) \(.at) \(.deadline_at > .at)"' <<<"$step") == \
   "audit.guo vp.qian escalate deadline $moved_ms true" ]] || it_fail "the move in the trail of $R2: $step"
[[ $(jq -r '"\(.decided_by) \(.on_behalf_of) \(.outcome) \(.moves) \(.remind_at > 0) \(.deadline_at > 0)"' <<<"$step") == \
   "vp.qian audit.guo approve 1 true true" ]] || it_fail "the decision or the times of $R2's step: $step"
run audit.guo approval show "$R2"
expect 0 "" "show $R2"
shanghai() { TZ=Asia/Shanghai date -d "@$(($1 / 1000))" '+%F %T'; }
remind_ms=$(q "SELECT kefu_ms(remind_at) FROM approval_step WHERE request_id = $R2")
grep -qE "^  reminded +$(shanghai "$reminded_ms")  audit\.guo \(due " <<<"$OUT" ||
    it_fail "kefu approval show $R2 does not say when audit.guo was reminded: $OUT"
grep -qE "^  moved +$(shanghai "$moved_ms")  audit\.guo -> vp\.qian \(deadline passed, escalated to the manager\); new deadline " <<<"$OUT" ||
    it_fail "kefu approval show $R2 does not show the move and why: $OUT"
grep -qE "^  reminder +$(shanghai "$remind_ms")" <<<"$OUT" ||
    it_fail "kefu approval show $R2 does not show the reminder time: $OUT"
grep -qE "^  deadline +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \((met|missed by .*)\)$" <<<"$OUT" ||
    it_fail "kefu approval show $R2 does not show the deadline: $OUT"
grep -qE "^  decided +[0-9-]{10} [0-9:]{8}  approve by vp\.qian on behalf of audit\.guo$" <<<"$OUT" ||
    it_fail "kefu approval show $R2 does not show who decided on whose behalf: $OUT"
grep -qE "^  comment +逾期升级审批$" <<<"$OUT" || it_fail "kefu approval show $R2 lacks the comment: $OUT"
run eng.sun approval show "$R1"
grep -qE "^  decided +[0-9-]{10} [0-9:]{8}  approve by vp\.qian on behalf of fin\.lin$" <<<"$OUT" ||
    it_fail "kefu approval show $R1 does not show the delegate's decision on fin.lin's behalf: $OUT"

# ---- at risk from the first minute -----------------------------------------------
# A date already past is refused unless the requester says it is meant.
run agent.li approval request "$T3" --type refund --amount 10 --reason '承诺日期已过' --promised "$yesterday"
expect 1 bad_value "request with a promised date already past, without --allow-past"
grep -qF "the promised date $yesterday is already past" <<<"$ERR" || it_fail "the refusal does not say why: $ERR"
[[ $(q "SELECT count(*) FROM approval_request r JOIN ticket t ON t.id = r.ticket_id WHERE t.no = '$T3'") == 0 ]] ||
    it_fail "a refused request was stored"
run agent.li approval request "$T3" --type refund --amount 10 --reason '承诺日期已过' --promised "$yesterday" \
    --allow-past
expect 0 "" "request with a promised date already past"
R3=$OUT
it_wait_for "approval.at_risk for $R3" 5 it_psql_is \
    "SELECT body->>'to' FROM event WHERE type = 'approval.at_risk' AND body->>'request' = '$R3'" cs.wang

# ---- two of three -----------------------------------------------------------------
run agent.li approval request "$T3" --type policy_exception --amount 5 --reason '例外' --promised "$tomorrow"
expect 0 "" "request a policy exception"
R4=$OUT
run vp.zhou reject "$R4" --reason '不符合政策'
expect 0 "" "the first rejection"
[[ $(q "SELECT status FROM approval_request WHERE id = $R4") == pending ]] || it_fail "one rejection of two-of-three ended $R4"
run gm.zheng reject "$R4" --reason '不同意'
expect 0 "" "the second rejection"
[[ $(q "SELECT status FROM approval_request WHERE id = $R4") == rejected ]] || it_fail "two rejections of two-of-three left $R4 open"
run vp.qian approve "$R4"
expect 1 conflict "approving a rejected request"

# ---- races on an any-of stage -----------------------------------------------------
sun=$(it_cert eng.sun)
liu=$(it_cert eng.liu)
i=0
for unit in 1201 1202 1203 1204 1301 1302; do
    i=$((i + 1))
    T=$(submit "$unit" "并发审批 $i")
    R=$(it_as agent.li kefu approval request "$T" --type refund --amount 99 --reason race --promised "$tomorrow")
    rc_sun=0 rc_liu=0
    KEFU_CERT=$sun kefu approve "$R" >"$IT_DIR/sun.out" 2>&1 & p1=$!
    KEFU_CERT=$liu kefu approve "$R" >"$IT_DIR/liu.out" 2>&1 & p2=$!
    wait $p1 || rc_sun=$?
    wait $p2 || rc_liu=$?
    [[ "$rc_sun$rc_liu" == 01 || "$rc_sun$rc_liu" == 10 ]] ||
        it_fail "race $i: exits $rc_sun and $rc_liu: $(cat "$IT_DIR/sun.out" "$IT_DIR/liu.out")"
    grep -q "conflict" "$IT_DIR/sun.out" "$IT_DIR/liu.out" || it_fail "race $i: the loser is not told conflict"
    [[ $(q "SELECT count(*) FROM approval_step WHERE request_id = $R AND stage = 1 AND decided_at IS NOT NULL") == 1 ]] ||
        it_fail "race $i: stage 1 of $R holds more than one decision"
    [[ $(q "SELECT count(*) FROM event WHERE type = 'approval.step_decided' AND body->>'request' = '$R'") == 1 ]] ||
        it_fail "race $i: more than one step_decided"
    [[ $(q "SELECT stage FROM approval_request WHERE id = $R") == 2 ]] || it_fail "race $i: $R did not move to stage 2"
done

# Every event kefu-approval wrote is a catalog type and reached the log once.
bad=$(q "SELECT count(*) FROM event WHERE src = 'approval' AND type NOT IN ('approval.requested',
          'approval.step_assigned', 'approval.step_reminded', 'approval.step_decided',
          'approval.step_escalated', 'approval.at_risk', 'approval.completed')")
[[ $bad == 0 ]] || it_fail "$bad events of types outside the catalog"
it_kill approval TERM
[[ ${IT_STATUS[approval]} == 0 ]] || it_fail "kefu-approval exited ${IT_STATUS[approval]} on SIGTERM"
it_note "ok"
