#!/usr/bin/env bash
# No approval can stall (issue 11; migration 016), against real daemons:
#
# 1. The whole timeout chain: a step of gm.zheng (no delegate, no manager)
#    goes at its 2 s deadline to the policy's fallback (fin.lin), who is
#    silent too, then to the approval administrator (admin), silent as
#    well: the step is marked stalled, keeps its deadline (overdue),
#    approval.step_stalled names who can act, and /metrics shows it.
# 2. Who may move a stuck step: the requester's department head and the
#    approval administrator may (`kefu approval reassign`), an agent, the
#    head of another department and the stuck approver may not; unknown
#    step or staff, a decided step, the same move again. Each move is in
#    the trail with who and why, and published.
# 3. An operator's delegate for an absent person (`kefu-admin delegate`):
#    the delegate decides at once, on the absent person's behalf; the trail
#    says who arranged it; bad calls are refused.
# 4. A request keeps the policy it started with: an edit that turns stage 1
#    from all to any and drops stage 2 changes nothing for it.
# 5. The warnings' recipients: an at-risk request names the waiting
#    approver, the requester, the owner's manager and the service centre's
#    head, each once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init approval_chain
approval_bind
export KEFU_APPROVAL_SCAN_MS=100
it__pick_port
MPORT=$IT__PORT
it_pg_start
# The demo organisation names approval_admin "admin" and service_centre "cs".
[[ $(it_psql "SELECT admin_id || '/' || service_centre FROM approval_setting") == admin/cs ]] ||
    it_fail "the demo organisation did not set the approval administrator and service centre"
put() { it_psql "SELECT kefu_approval_policy_put('$1'::jsonb)" >/dev/null; }
put '{"id": "t-chain", "type": "settlement", "fallback": "fin.lin", "stages": [{"rule": "all", "steps": [
       {"label": "general manager", "approver": {"staff": "gm.zheng"}, "deadline_s": 2, "on_timeout": "delegate"}]}]}'
put '{"id": "t-wait", "type": "repair_cost", "fallback": "vp.zhou", "stages": [{"rule": "all", "steps": [
       {"label": "finance", "approver": {"staff": "fin.lin"}, "deadline_s": 600, "on_timeout": "delegate"}]}]}'
put '{"id": "t-copy", "type": "policy_exception", "fallback": "vp.zhou", "stages": [
       {"rule": "all", "steps": [
         {"label": "engineering head", "approver": {"staff": "eng.sun"}, "deadline_s": 600, "on_timeout": "escalate"},
         {"label": "engineering manager", "approver": {"staff": "eng.liu"}, "deadline_s": 600, "on_timeout": "escalate"}]},
       {"rule": "all", "steps": [
         {"label": "finance", "approver": {"staff": "fin.lin"}, "deadline_s": 600, "on_timeout": "delegate"}]}]}'
put '{"id": "t-risk", "type": "refund", "fallback": "vp.zhou", "stages": [{"rule": "all", "steps": [
       {"label": "engineering", "approver": {"staff": "eng.sun"}, "deadline_s": 600, "on_timeout": "escalate"}]}]}'
it_start bus
it_start intake
it_start approval KEFU_METRICS_PORT="$MPORT" KEFU_HEARTBEAT_MS=200
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
it_wait_for "kefu-approval to answer" 30 approval_answers

q() { it_psql "$1"; }
submit() {
    it_as agent.li kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --building 4 --unit "$1" --phone "1390000$1" --summary "$2"
}
later=$(date -d '+30 days' +%F)
yesterday=$(date -d '-1 day' +%F)

# ---- 1. the whole chain, to a stalled step -------------------------------------------
T1=$(submit 1201 '和解赔偿（总经理无人代批）')
run agent.li approval request "$T1" --type settlement --amount 5000 --reason '和解' --promised "$later"
expect 0 "" "request under t-chain"
R1=$OUT
S1=$(q "SELECT id FROM approval_step WHERE request_id = $R1")
it_wait_for "the step to stall at the administrator" 20 it_psql_is \
    "SELECT assigned_to || '/' || (stalled_at IS NOT NULL) FROM approval_step WHERE id = $S1" admin/true
moves=$(q "SELECT string_agg(body->>'action' || ':' || (body->>'from') || '>' || (body->>'to'), ' ' ORDER BY seq)
             FROM event WHERE type = 'approval.step_escalated' AND body->>'step' = '$S1'")
[[ $moves == "fallback:gm.zheng>fin.lin admin:fin.lin>admin" ]] || it_fail "the chain moved $moves"
it_note "chain of step $S1: $moves, then stalled"
[[ $(q "SELECT deadline_at IS NOT NULL AND deadline_at < clock_timestamp() FROM approval_step WHERE id = $S1") == t ]] ||
    it_fail "the stalled step lost its deadline: it would not count as overdue"
stalled=$(q "SELECT body->>'assigned_to' || ' ' || (body->'recipients')::text FROM event
              WHERE type = 'approval.step_stalled' AND body->>'step' = '$S1'")
[[ $stalled == 'admin ["admin", "agent.li", "cs.wang"]' ]] || it_fail "approval.step_stalled is '$stalled'"
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.step_stalled' AND body->>'step' = '$S1'") == 1 ]] ||
    it_fail "the stalled step was announced more than once"
[[ $(q "SELECT count(*) FROM approval_request WHERE id = $R1 AND at_risk_at IS NOT NULL") == 1 ]] ||
    it_fail "a stalled request is not at risk"
metrics() { curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics"; }
stalled_gauge() { metrics | grep -qx 'kefu_approval_steps_stalled{policy="t-chain"} 1'; }
it_wait_for "/metrics to show the stalled step" 10 stalled_gauge
metrics | grep -x 'kefu_approval_steps_overdue{policy="t-chain"} 1' >/dev/null ||
    it_fail "the stalled step is not overdue in /metrics: $(metrics | grep kefu_approval_steps)"
metrics | grep -x 'kefu_approval_overdue_steps 1' >/dev/null ||
    it_fail "kefu_approval_overdue_steps does not count the stalled step: $(metrics | grep overdue)"
run admin approval show "$R1"
grep -q "fin.lin -> admin (deadline passed, passed to the approval administrator)" <<<"$OUT" ||
    it_fail "the trail does not show the move to the administrator: $OUT"

# ---- 2. who may move a stuck step ------------------------------------------------------
run agent.chen approval reassign "$S1" --to vp.zhou --reason '代批'
expect 1 forbidden "an agent reassigns"
grep -q "only the approval administrator (admin), staff of role admin and the requester's department head (cs.wang) may" <<<"$ERR" ||
    it_fail "the refusal does not say who may: $ERR"
run eng.sun approval reassign "$S1" --to vp.zhou --reason '代批'
expect 1 forbidden "the head of another department reassigns"
run gm.zheng approval reassign "$S1" --to vp.zhou --reason '我没空'
expect 1 forbidden "the stuck approver reassigns"
run cs.wang approval reassign 999999 --to vp.zhou --reason '代批'
expect 1 not_found "an unknown step"
run cs.wang approval reassign "$S1" --to nobody.here --reason '代批'
expect 1 not_found "to unknown staff"
run cs.wang approval reassign "$S1" --to admin --reason '代批'
expect 1 bad_value "to whoever has it now"
run cs.wang approval reassign "$S1" --to vp.zhou
expect 2 "" "without a reason"
run cs.wang approval reassign "$S1" --to vp.zhou --reason '总经理出差，由周总代批'
expect 0 "" "the requester's department head reassigns"
grep -q "moved from admin to vp.zhou by cs.wang" <<<"$OUT" || it_fail "the reassign output: $OUT"
[[ $(q "SELECT assigned_to || '/' || (stalled_at IS NULL) || '/' || (deadline_at > clock_timestamp())
          FROM approval_step WHERE id = $S1") == vp.zhou/true/true ]] ||
    it_fail "the reassigned step is not with vp.zhou on a fresh deadline"
run cs.wang approval reassign "$S1" --to vp.zhou --reason '总经理出差，由周总代批' --json
expect 0 "" "the same move again"
[[ $(jq -r .duplicate <<<"$OUT") == true ]] || it_fail "the same move again is not a duplicate: $OUT"
ev=$(q "SELECT body->>'by' || '/' || (body->>'reason') FROM event
         WHERE type = 'approval.step_escalated' AND body->>'step' = '$S1' AND body->>'action' = 'reassign'")
[[ $ev == "cs.wang/总经理出差，由周总代批" ]] || it_fail "the reassignment was published as '$ev'"
[[ $(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
         WHERE t.no = '$T1' AND h.actor = 'cs.wang' AND h.reason = '总经理出差，由周总代批'
           AND h.note LIKE '%reassigned from admin to vp.zhou by cs.wang'") == 1 ]] ||
    it_fail "the trail lacks the reassignment with who and why"
run vp.zhou approve "$R1" --comment '代总经理批准'
expect 0 "" "vp.zhou decides the moved step"
grep -q "on behalf of gm.zheng" <<<"$OUT" || it_fail "vp.zhou did not decide on gm.zheng's behalf: $OUT"
[[ $(q "SELECT status FROM approval_request WHERE id = $R1") == approved ]] || it_fail "$R1 did not complete"
run cs.wang approval reassign "$S1" --to fin.lin --reason '再转'
expect 1 conflict "a decided step"
# The approval administrator may too (on a waiting step of another request).
T2=$(submit 1202 '维修费用（操作员代理）')
run agent.li approval request "$T2" --type repair_cost --amount 800 --reason '维修' --promised "$later"
expect 0 "" "request under t-wait"
R2=$OUT
S2=$(q "SELECT id FROM approval_step WHERE request_id = $R2")
run admin approval reassign "$S2" --to vp.qian --reason '审批台调度'
expect 0 "" "the approval administrator reassigns"
run admin approval reassign "$S2" --to fin.lin --reason '林峰回来了'
expect 0 "" "and moves it back"

# ---- 3. an operator's delegate for an absent person ------------------------------------
adm() { RC=0; OUT=$(kefu-admin delegate "$@" 2>"$IT_DIR/err") || RC=$?; ERR=$(<"$IT_DIR/err"); }
adm nobody.here --to vp.qian --until +1h --reason '病假'
expect 1 "" "a delegate for unknown staff"
adm fin.lin --to fin.lin --until +1h --reason '病假'
expect 1 "" "fin.lin as their own delegate"
adm fin.lin --to vp.qian --until +1h
expect 2 "" "without a reason"
adm fin.lin --to vp.qian --until +1h --reason '林峰病假一周' --check
expect 0 "" "--check"
[[ $(q "SELECT count(*) FROM approval_delegate WHERE staff_id = 'fin.lin'") == 0 ]] || it_fail "--check registered a delegate"
USER=ops.zhang adm fin.lin --to vp.qian --until +1h --reason '林峰病假一周'
expect 0 "" "the operator registers vp.qian for fin.lin"
grep -q "vp.qian decides for fin.lin from .* until .*; 1 pending step covered" <<<"$OUT" ||
    it_fail "kefu-admin delegate says: $OUT"
[[ $(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
         WHERE t.no = '$T2' AND h.reason = '林峰病假一周'
           AND h.note LIKE '%fin.lin is absent; vp.qian decides for fin.lin%(set by operator ops.zhang)'") == 1 ]] ||
    it_fail "the trail does not say who arranged the cover"
[[ $(q "SELECT body->>'by' || '/' || jsonb_array_length(body->'steps') FROM event
         WHERE type = 'approval.delegate_set' AND body->>'staff' = 'fin.lin'") == "operator ops.zhang/1" ]] ||
    it_fail "approval.delegate_set does not tell vp.qian of the one step"
run vp.qian approve "$R2" --comment '代林峰批准'
expect 0 "" "the delegate decides at once"
[[ $(q "SELECT decided_by || '/' || on_behalf_of FROM approval_step WHERE id = $S2") == vp.qian/fin.lin ]] ||
    it_fail "the delegate's decision is not recorded on fin.lin's behalf"

# ---- 4. a request keeps the policy it started with -------------------------------------
T3=$(submit 1203 '政策例外（改政策）')
run agent.li approval request "$T3" --type policy_exception --amount 100 --reason '例外' --promised "$later"
expect 0 "" "request under t-copy"
R3=$OUT
put '{"id": "t-copy", "type": "policy_exception", "fallback": "vp.zhou", "stages": [
       {"rule": "any", "steps": [
         {"label": "engineering head", "approver": {"staff": "eng.sun"}, "deadline_s": 600, "on_timeout": "escalate"}]}]}'
run eng.sun approve "$R3"
expect 0 "" "eng.sun approves under the old stage rule"
[[ $(q "SELECT status || '/' || stage FROM approval_request WHERE id = $R3") == pending/1 ]] ||
    it_fail "the edited policy's 'any' decided stage 1 of a running request"
run eng.liu approve "$R3"
expect 0 "" "eng.liu approves"
[[ $(q "SELECT stage || '/' || (SELECT status FROM approval_step WHERE request_id = $R3 AND stage = 2)
          FROM approval_request WHERE id = $R3") == 2/pending ]] ||
    it_fail "the running request lost its stage 2 when the policy dropped it"

# ---- 5. an at-risk warning's recipients ---------------------------------------------------
T4=$(submit 1204 '退款（承诺已过）')
run agent.li approval request "$T4" --type refund --amount 50 --reason '退款' --promised "$yesterday" --allow-past
expect 0 "" "a request whose promise is already past"
R4=$OUT
it_wait_for "approval.at_risk for $R4" 10 it_psql_is \
    "SELECT count(*) FROM event WHERE type = 'approval.at_risk' AND body->>'request' = '$R4'" 1
recipients=$(q "SELECT (body->'recipients')::text FROM event WHERE type = 'approval.at_risk' AND body->>'request' = '$R4'")
# The waiting approver, the requester, the owner's manager (agent.li's: cs.wang), the centre's head (cs.wang).
[[ $recipients == '["eng.sun", "agent.li", "cs.wang"]' ]] || it_fail "at_risk recipients: $recipients"

# ---- 6. the stage rule and the at-risk check, as the store decides them ----------------
# The store alone decides (migrations 035, 037): a decision's call, and the
# facts every other call hands kefu-approval. Rule, quorum, total, approved,
# rejected: a stage is rejected as soon as it can no longer reach its
# approvals; a quorum over the total counts as all; an unknown rule or an
# empty stage stays open.
wrong=$(q "SELECT string_agg(format('%s/%s/%s/%s/%s: %s, not %s', c.rule, c.quorum, c.total, c.approved,
                                    c.rejected, coalesce(o, 'open'), coalesce(c.expect, 'open')), '; ')
             FROM (VALUES ('all', NULL, 3, 3, 0, 'approved'), ('all', NULL, 3, 2, 0, NULL),
                          ('all', NULL, 3, 0, 0, NULL), ('all', NULL, 3, 0, 1, 'rejected'),
                          ('all', NULL, 3, 2, 1, 'rejected'), ('all', NULL, 1, 1, 0, 'approved'),
                          ('any', NULL, 3, 1, 0, 'approved'), ('any', NULL, 3, 0, 0, NULL),
                          ('any', NULL, 3, 0, 2, NULL), ('any', NULL, 3, 0, 3, 'rejected'),
                          ('any', NULL, 3, 1, 2, 'approved'),
                          ('quorum', 2, 3, 2, 0, 'approved'), ('quorum', 2, 3, 1, 0, NULL),
                          ('quorum', 2, 3, 1, 1, NULL), ('quorum', 2, 3, 1, 2, 'rejected'),
                          ('quorum', 2, 3, 0, 2, 'rejected'), ('quorum', 5, 2, 1, 0, NULL),
                          ('quorum', 5, 2, 2, 0, 'approved'), ('quorum', 0, 2, 1, 0, 'approved'),
                          ('most', NULL, 3, 3, 0, NULL), ('all', NULL, 0, 0, 0, NULL))
                  AS c (rule, quorum, total, approved, rejected, expect),
                  LATERAL kefu_approval_stage_outcome(c.rule, c.quorum, c.total, c.approved, c.rejected) o
            WHERE o IS DISTINCT FROM c.expect")
[[ -z $wrong ]] || it_fail "kefu_approval_stage_outcome: $wrong"
# The projected end: the stage's end (now, when that passed or is unknown)
# plus the later stages; at risk past the promise, once. Now, promised,
# stage end, later stages (s): projected end or 'open' (or 'flagged').
day=86400000
risk=$(q "SELECT string_agg(coalesce(kefu_approval_risk_projected(jsonb_build_object(
                 'at_risk', c.flagged, 'now_ms', c.now, 'promised_ms', c.promised,
                 'stage_end_ms', c.stage_end, 'later_s', c.later))::text,
                 CASE WHEN c.flagged THEN 'flagged' ELSE 'open' END), ' ' ORDER BY c.i)
            FROM (VALUES (1, false, 1000000, 1030000, 1010000, 20), (2, false, 1000000, 1029999, 1010000, 20),
                         (3, false, 1000000, 1019999, 900000, 20), (4, false, 1000000, 1020000, NULL, 20),
                         (5, false, 1000000, 1010000, 1010000, 0), (6, false, 1000000, 999999, NULL, 0),
                         (7, true, 1000000, 1029999, 1010000, 20),
                         (8, false, 0, 10 * $day::bigint, 3 * $day::bigint, 6 * 3 * 86400),
                         (9, false, 0, 10 * $day::bigint, $day::bigint, 3 * 86400))
                 AS c (i, flagged, now, promised, stage_end, later)")
[[ $risk == "open 1030000 1020000 open open 1000000 flagged $((21 * day)) open" ]] ||
    it_fail "kefu_approval_risk_projected: $risk"
reason=$(q "SELECT kefu_approval_risk_reason(1795507200000, 1795363200000) || ' / ' ||
               kefu_approval_risk_reason(1795363260000, 1795363200000)")
[[ $reason == 'the remaining stages may finish 1d 16h 0m after the end of the promised day / the remaining stages may finish 0d 0h 1m after the end of the promised day' ]] ||
    it_fail "kefu_approval_risk_reason: $reason"
it_note "ok"
