#!/usr/bin/env bash
# The field's case in short time units (a day becomes 5 s): a settlement
# needing the seven signatures — customer-service centre manager,
# engineering, cost audit, finance, VP customer service, VP finance,
# general manager — with a general manager who never answers and has
# neither a delegate nor a manager: the case that sat a month on his desk.
# Once as the old sequential chain, once as the parallel policy
# (engineering, cost audit and finance side by side, then both VPs side by
# side). Every other approver answers as soon as the step shows in their
# `kefu approvals` (polling every 0.2 s). Both requests must finish within
# the 10 'days' promised: at its deadline the general manager's step goes to
# the policy's fallback approver (vp.zhou, migration 016), who decides it on
# his behalf, and `kefu approval show` says where and why it moved. The
# cycle times (store timestamps) are printed; the parallel one must be the
# shorter.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init approval_field
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL=$KEFU_APPROVAL_BIND
export KEFU_APPROVAL_SCAN_MS=100
DAY=5 # seconds standing in for a working day
it_pg_start
step() { # step LABEL APPROVER-JSON
    printf '{"label": "%s", "approver": %s, "deadline_s": %d, "remind_s": %d, "on_timeout": "delegate"}' \
        "$1" "$2" "$DAY" $((DAY - 1))
}
CS=$(step "customer-service centre manager" '{"head": "cs"}')
ENG=$(step engineering '{"head": "eng"}')
AUDIT=$(step "cost audit" '{"head": "audit"}')
FIN=$(step finance '{"head": "finance"}')
VPCS=$(step "VP customer service" '{"staff": "vp.zhou"}')
VPFIN=$(step "VP finance" '{"staff": "vp.qian"}')
GM=$(step "general manager" '{"staff": "gm.zheng"}')
one() { printf '{"rule": "all", "steps": [%s]}' "$1"; }
it_psql "SELECT kefu_approval_policy_put('{\"id\": \"field-seq\", \"name\": \"seven sequential\",
  \"type\": \"settlement\", \"default\": false, \"fallback\": \"vp.zhou\",
  \"stages\": [$(one "$CS"), $(one "$ENG"), $(one "$AUDIT"),
  $(one "$FIN"), $(one "$VPCS"), $(one "$VPFIN"), $(one "$GM")]}'::jsonb)" >/dev/null
it_psql "SELECT kefu_approval_policy_put('{\"id\": \"field-par\", \"name\": \"parallel reviews\",
  \"type\": \"settlement\", \"fallback\": \"vp.zhou\", \"stages\": [$(one "$CS"), $(one "$ENG, $AUDIT, $FIN"),
  $(one "$VPCS, $VPFIN"), $(one "$GM")]}'::jsonb)" >/dev/null
it_start bus
it_start intake
it_start approval
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1

# The general manager is away, told no one, and answers to no one.
[[ $(it_psql "SELECT coalesce(manager_id, '-') FROM staff WHERE id = 'gm.zheng'") == - &&
   $(it_psql "SELECT count(*) FROM approval_delegate WHERE staff_id = 'gm.zheng'") == 0 ]] ||
    it_fail "the demo's general manager has a manager or a delegate: the test would prove nothing"

# Each approver but the general manager decides the steps on their own desk
# (assigned to them; a delegate does not pre-empt the one they cover for).
approver() {
    local staff=$1 cert ids id
    cert=$(it_cert "$staff")
    # Ends with the test, even one that failed before writing stop.
    while [[ ! -f $IT_DIR/stop ]] && kill -0 "$IT_MAIN_PID" 2>/dev/null; do
        ids=$(KEFU_CERT=$cert kefu --timeout 2000 approvals --json 2>/dev/null |
              jq -r --arg me "$staff" '.steps[] | select(.assigned_to == $me) | .request' 2>/dev/null) || true
        for id in $ids; do
            KEFU_CERT=$cert kefu approve "$id" --comment "同意（$staff）" >/dev/null 2>&1 || true
        done
        sleep 0.2
    done
}
for s in cs.wang eng.sun audit.guo fin.lin vp.zhou vp.qian; do
    it_cert "$s" >/dev/null
    approver "$s" &
    echo $! >>"$IT_DIR/.daemons"
done

promised=$(date -d '+10 days' +%F)
S=$(it_as agent.li kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 2 --unit 1401 --phone 13911111401 --summary '长期渗漏投诉和解（七签顺序）')
P=$(it_as agent.li kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 2 --unit 1402 --phone 13911111402 --summary '长期渗漏投诉和解（并行审批）')
RS=$(it_as agent.li kefu approval request "$S" --type settlement --policy field-seq --amount 80000 \
     --reason '和解赔偿' --promised "$promised")
RP=$(it_as agent.li kefu approval request "$P" --type settlement --amount 80000 \
     --reason '和解赔偿' --promised "$promised")
[[ $(it_psql "SELECT policy_id FROM approval_request WHERE id = $RP") == field-par ]] ||
    it_fail "the settlement did not get the default (parallel) policy"

it_wait_for "both requests to finish" 60 it_psql_is \
    "SELECT string_agg(status, ',' ORDER BY id) FROM approval_request WHERE id IN ($RS, $RP)" \
    "approved,approved"
: >"$IT_DIR/stop"

for r in $RS $RP; do
    gm=$(it_psql "SELECT assigned_to || '/' || decided_by || '/' || on_behalf_of || '/' || moves
                    FROM approval_step WHERE request_id = $r AND label = 'general manager'")
    [[ $gm == "vp.zhou/vp.zhou/gm.zheng/1" ]] ||
        it_fail "request $r: the silent GM's step did not pass to the fallback approver: $gm"
    ev=$(it_psql "SELECT body->>'action' || '/' || (body->>'to') FROM event
                   WHERE type = 'approval.step_escalated' AND body->>'request' = '$r'
                     AND body->>'label' = 'general manager'")
    [[ $ev == "fallback/vp.zhou" ]] || it_fail "request $r: step_escalated is '$ev'"
    # The trail says where and why it moved.
    it_as cs.wang kefu approval show "$r" >"$IT_DIR/show-$r.txt"
    grep -qE "moved .*gm\.zheng -> vp\.zhou \(deadline passed, passed to the policy's fallback approver\)" \
        "$IT_DIR/show-$r.txt" || it_fail "request $r: the trail does not show the move to the fallback: $(cat "$IT_DIR/show-$r.txt")"
    # Within the promise: 10 days, here 10 'days' of ${DAY} s.
    within=$(it_psql "SELECT completed_at - requested_at <= make_interval(secs => 10 * $DAY)
                        FROM approval_request WHERE id = $r")
    [[ $within == t ]] || it_fail "request $r did not finish within the 10 'days' promised"
    [[ $(it_psql "SELECT count(*) FROM approval_step WHERE request_id = $r AND stalled_at IS NOT NULL") == 0 ]] ||
        it_fail "request $r has a stalled step"
    others=$(it_psql "SELECT count(*) FROM approval_step WHERE request_id = $r AND moves > 0
                        AND label <> 'general manager'")
    [[ $others == 0 ]] || it_note "request $r: $others other steps passed their deadline (a slow machine)"
    signed=$(it_psql "SELECT count(*) FROM approval_step WHERE request_id = $r AND status = 'approved'")
    [[ $signed == 7 ]] || it_fail "request $r has $signed signatures, not 7"
done
cycle() {
    it_psql "SELECT round(extract(epoch FROM completed_at - requested_at)::numeric, 2)
               FROM approval_request WHERE id = $1"
}
CS_=$(cycle "$RS")
CP_=$(cycle "$RP")
it_note "cycle time, seven sequential signatures, silent GM: ${CS_} s (= $(awk -v c="$CS_" -v d=$DAY 'BEGIN{printf "%.1f", c/d}') 'days' of ${DAY} s)"
it_note "cycle time, parallel policy, silent GM:            ${CP_} s (= $(awk -v c="$CP_" -v d=$DAY 'BEGIN{printf "%.1f", c/d}') 'days' of ${DAY} s)"
it_psql "SELECT format('  request %s stage %s %-32s %-9s waited %s s', s.request_id, s.stage, s.label,
                       s.decided_by, round(extract(epoch FROM s.decided_at - coalesce(
                           (SELECT max(p.decided_at) FROM approval_step p
                             WHERE p.request_id = s.request_id AND p.stage = s.stage - 1),
                           r.requested_at))::numeric, 2))
           FROM approval_step s JOIN approval_request r ON r.id = s.request_id
          WHERE s.request_id IN ($RS, $RP) ORDER BY s.request_id, s.stage, s.step" >&2
awk -v s="$CS_" -v p="$CP_" 'BEGIN { exit !(p < s) }' ||
    it_fail "the parallel policy (${CP_} s) was not faster than the sequential chain (${CS_} s)"
# The general manager's deadline is one 'day': neither waited much longer for him.
gm_wait=$(it_psql "SELECT max(extract(epoch FROM e.at - a.at - make_interval(secs => $DAY)))
                     FROM event e JOIN event a ON a.type = 'approval.step_assigned'
                      AND a.body->>'step' = e.body->>'step'
                    WHERE e.type = 'approval.step_escalated' AND e.body->>'label' = 'general manager'")
it_note "the silent GM's steps moved at most ${gm_wait} s after their deadline"
awk -v w="$gm_wait" 'BEGIN { exit !(w >= 0 && w < 1) }' ||
    it_fail "the silent GM's step moved ${gm_wait} s after its deadline (more than 1 s)"
it_note "ok"
