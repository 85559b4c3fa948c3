#!/usr/bin/env bash
# SIGKILL of a kefu-approval daemon mid-stream: nothing lost, no step
# decided twice. 300 open requests: 150 whose step (ap01) approves itself
# at a 2 s deadline (the policy says so: the scan's work), 150 decided by
# ap02 through daemon A (kefu-test-approval-decide, which asks again once
# when a reply is lost). While both streams run, A is killed with SIGKILL
# and restarted; daemon B goes on. Every request must complete, with
# exactly one decision and one approval.step_decided and approval.completed
# event each, and ap02's client must see each of its 150 decisions
# answered (ok, or duplicate when the lost reply's decision had committed).
# kefu-approval runs with two lanes (KEFU_APPROVAL_CONNECTIONS), so the
# kill can land while a group's COMMIT is in flight on one lane.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init approval_kill
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
A1=$KEFU_APPROVAL_BIND
it__pick_port
A2=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL_SCAN_MS=100
export KEFU_APPROVAL_BATCH=10
export KEFU_APPROVAL_CONNECTIONS=2
it_pg_start
it_psql "INSERT INTO staff (id, name, department_id, role, manager_id)
         VALUES ('ap01', '审批人 1', 'cs', 'manager', 'cs.wang'), ('ap02', '审批人 2', 'cs', 'manager', 'cs.wang')" >/dev/null
it_psql "SELECT kefu_approval_policy_put(jsonb_build_object('id', format('t-kill-%s', k), 'type', 'refund',
           'min_yuan', 100 * (k - 1), 'max_yuan', 100 * k, 'stages', jsonb_build_array(jsonb_build_object(
           'rule', 'all', 'steps', jsonb_build_array(jsonb_build_object('label', 'check',
           'approver', jsonb_build_object('staff', format('ap0%s', k)),
           'deadline_s', CASE k WHEN 1 THEN 2 ELSE 600 END,
           'on_timeout', CASE k WHEN 1 THEN 'approve' ELSE 'escalate' END))))))
           FROM generate_series(1, 2) k" >/dev/null
it_cert ap02 >/dev/null
it_cert agent.li >/dev/null
key=$(it_psql "SELECT public_key FROM staff_cert WHERE staff_id = 'agent.li' AND revoked_at IS NULL LIMIT 1")
it_start bus
it_start approval
it_start approval@2 KEFU_APPROVAL_BIND="$A2"
ready() {
    local rc=0
    KEFU_CERT=$(it_cert ap02) kefu --endpoint "$A1" --timeout 1000 approval show 999999 >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}
it_wait_for "kefu-approval to answer" 30 ready

it_psql "SELECT count(*) FROM generate_series(1, 300) g,
           LATERAL kefu_submit(NULL, 'agent.li', 'complaint', 'other', 'phone', 'normal', 'HZ-XH',
                               NULL, NULL, '13800000000', NULL, format('退款 %s', g), NULL, 'test')" >/dev/null
it_psql "SELECT count(*) FROM (SELECT t.no, row_number() OVER (ORDER BY t.id) AS g FROM ticket t) t,
           LATERAL kefu_approval_open('$key', NULL, t.no, 'refund', CASE WHEN t.g % 2 = 0 THEN 5000 ELSE 15000 END,
                                      'kill', current_date + 30, NULL, 'test', false) o" >/dev/null
it_psql "SELECT r.id, '$IT_DIR/certs/ap02.cert', '$A1' FROM approval_request r
           JOIN approval_step s ON s.request_id = r.id WHERE s.approver = 'ap02' ORDER BY r.id" |
    tr '|' ' ' >"$IT_DIR/decisions"
# Slowed down a little so that the kill lands in the middle of the stream.
( while read -r line; do echo "$line"; sleep 0.01; done <"$IT_DIR/decisions" ) |
    "$KEFU_BUILD_DIR/tests/integration/kefu-test-approval-decide" >"$IT_DIR/decide.out" 2>"$IT_DIR/decide.err" &
decider=$!
it_wait_for "the first decisions" 20 it_psql_is \
    "SELECT count(*) > 20 FROM approval_step WHERE approver = 'ap02' AND decided_at IS NOT NULL" t
sleep 1.2 # the auto-approvals' deadline (2 s) comes while A is dead
it_kill approval KILL
it_note "killed approval with $(it_psql "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL") of 300 steps decided"
sleep 1
it_start approval
wait "$decider" || it_fail "the decider failed: $(cat "$IT_DIR/decide.out" "$IT_DIR/decide.err")"
it_note "ap02's client: $(cat "$IT_DIR/decide.out")"
it_wait_for "every request to complete" 40 it_psql_is \
    "SELECT count(*) FROM approval_request WHERE status = 'approved'" 300
[[ $(it_psql "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL") == 300 ]] ||
    it_fail "not exactly one decided step per request"
twice=$(it_psql "SELECT count(*) FROM (SELECT body->>'step' FROM event WHERE type = 'approval.step_decided'
                   GROUP BY 1 HAVING count(*) > 1) d")
[[ $twice == 0 ]] || it_fail "$twice steps were decided twice"
[[ $(it_psql "SELECT count(*) FROM event WHERE type = 'approval.step_decided'") == 300 ]] ||
    it_fail "not one approval.step_decided per step"
[[ $(it_psql "SELECT count(DISTINCT body->>'request') || '/' || count(*) FROM event
               WHERE type = 'approval.completed'") == "300/300" ]] || it_fail "not one approval.completed per request"
[[ $(it_psql "SELECT count(*) FROM approval_step WHERE approver = 'ap01' AND outcome = 'auto_approve'") == 150 ]] ||
    it_fail "the 150 auto-approvals did not all happen"
read -r ok dup <<<"$(sed -E 's/ok=([0-9]+) duplicate=([0-9]+).*/\1 \2/' "$IT_DIR/decide.out")"
[[ $((ok + dup)) == 150 ]] || it_fail "ap02's client saw $ok decisions and $dup duplicates, not 150"
it_note "ok"
