#!/usr/bin/env bash
# The replies of proto/model.json are those the daemons send: every request
# the `kefu` client makes (intake, kefu-approval, kefu-survey) is answered
# with --json, and reply_check.py validates each body strictly against the
# request's "reply" (through the OpenAPI schema gen_openapi.py makes of it):
# a field of the wrong type, a required one missing, or a key the model does
# not describe fails. The gateway answers these bodies as JSON, so this keeps
# the 200 schemas of the OpenAPI document true.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init model_replies
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY_DELAY_S=1 KEFU_SURVEY_SCAN_MS=100 KEFU_APPROVAL_SCAN_MS=100
it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
it_start bus
it_start intake
it_start router
it_start approval
it_start survey
it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
it_wait_for "kefu-approval to answer" 30 approval_answers

CHECK=$KEFU_SOURCE_DIR/tests/integration/reply_check.py
q() { it_psql "$1"; }
# reply TYPE STAFF ARGS...: kefu --json as STAFF must succeed and answer TYPE's reply.
reply() {
    local type=$1
    shift
    run "$@" --json
    expect 0 "" "$type"
    python3 "$CHECK" "$type" <<<"$OUT" || it_fail "$type: the reply is not the model's: $OUT"
    it_note "$type: as the model says"
}

reply submit agent.li submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone 13900001201 --name '王芳' --summary '卫生间漏水（模型）'
T=$(jq -r .ticket <<<"$OUT")
it_wait_for "$T to be routed" 20 it_psql_is "SELECT status FROM ticket WHERE no = '$T'" routed
OWNER=$(q "SELECT owner_id FROM ticket WHERE no = '$T'")
reply ticket.show agent.li ticket show "$T"
reply ticket.list agent.li tickets --limit 1
reply ticket.list agent.li tickets --department eng --state open
reply staff.list agent.li staff --limit 3
reply staff.list agent.li staff --department eng --role manager
reply department.list agent.li departments
# Every department, by id, with its names and head, as the store has them.
DEPTS=$(q "SELECT json_agg(json_strip_nulls(json_build_object('department', id, 'name', name,
          'name_zh', name_zh, 'head', head_id)) ORDER BY id) FROM department")
[[ $(jq -S -c '[.more, .departments]' <<<"$OUT") == "$(jq -S -c '[false, .]' <<<"$DEPTS")" ]] ||
    it_fail "department.list: not the store's departments ($DEPTS): $OUT"
reply owner.show agent.li owner 13900001201
reply ticket.respond "$OWNER" respond "$T" --note '已联系'
reply ticket.transfer agent.li transfer "$T" --to eng.liu --reason '换人'
reply ticket.show agent.li ticket show "$T"
# The transfer's row names the staff by name as well as id; a daemon's row has no name.
[[ $(jq -c '.history[] | select(.action == "transferred") | [.actor_name, .to_name]' <<<"$OUT") == \
   "$(jq -cn --arg a "$(q "SELECT name FROM staff WHERE id = 'agent.li'")" \
        --arg t "$(q "SELECT name FROM staff WHERE id = 'eng.liu'")" '[$a, $t]')" ]] ||
    it_fail "ticket.show: the transfer names no staff: $OUT"
[[ $(jq -c '[.history[] | select(.action == "routed") | has("actor_name")]' <<<"$OUT") == '[false]' ]] ||
    it_fail "ticket.show: the router's row has a staff name: $OUT"

later=$(date -d '+20 days' +%F)
reply approval.request agent.li approval request "$T" --type refund --amount 1200.50 \
    --reason '赔偿' --promised "$later"
R=$(jq -r .request <<<"$OUT")
reply ticket.show agent.li ticket show "$T"
[[ $(jq -r '.approvals | length' <<<"$OUT") == 1 ]] || it_fail "ticket.show lists no approval: $OUT"
reply approval.list eng.sun approvals
reply approval.decide eng.sun approve "$R" --comment '同意'
reply approval.decide eng.sun approve "$R" --comment '同意'
S=$(q "SELECT id FROM approval_step WHERE request_id = $R AND status = 'pending' LIMIT 1")
[[ -n $S ]] || it_fail "no pending step left in request $R"
reply approval.reassign admin approval reassign "$S" --to vp.qian --reason '代批'
reply approval.show agent.li approval show "$R"
reply delegate.set fin.lin delegate set vp.qian --from now --to +1h
reply delegate.clear fin.lin delegate clear

reply ticket.resolve eng.liu resolve "$T" --note '已修好'
reply ticket.show agent.li ticket show "$T"
reply ticket.list agent.li tickets --department eng
it_wait_for "the survey of $T to be sent" 20 it_psql_is \
    "SELECT sent_at IS NOT NULL FROM survey s JOIN ticket t ON t.id = s.ticket_id
      WHERE t.no = '$T'" t
reply survey.answer agent.li survey answer "$T" --score 2 --nps 3 --comment '不满意'
reply survey.show agent.li survey show "$T"
reply survey.campaign admin survey campaign --project HZ-XH --milestone move-in
reply report agent.li report
reply report agent.li report --by project
# An approval promised within 48 h, the low score above and a promoter: each
# list of the watchlist has an entry to check.
T2=$(q "SELECT t.no FROM ticket t WHERE t.no <> '$T' LIMIT 1")
if [[ -z $T2 ]]; then
    reply submit agent.li submit --kind repair --category leak --channel phone --project HZ-XH \
        --building 3 --unit 1201 --phone 13900001202 --name '李雷' --summary '水管（模型）'
    T2=$(jq -r .ticket <<<"$OUT")
fi
reply approval.request agent.li approval request "$T2" --type refund --amount 10.00 \
    --reason '补偿' --promised "$(date -d '+1 day' +%F)"
q "INSERT INTO survey (homeowner_id, kind, project_id, due_at, sent_at, answered_at, score, nps)
   SELECT id, 'campaign', 'HZ-XH', now(), now(), now(), 5, 10 FROM homeowner
    WHERE phone = '13900001201'" >/dev/null
reply watchlist cs.wang watchlist --limit 5
[[ $(jq -c '[(.approvals_at_risk | length > 0), (.owners_at_risk | length > 0), (.promoters | length > 0)]' \
     <<<"$OUT") == '[true,true,true]' ]] || it_fail "the watchlist checked has an empty list: $OUT"
it_note "every reply is as the model says"
