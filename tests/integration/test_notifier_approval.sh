#!/usr/bin/env bash
# Approvals are told: real intake, router, kefu-approval and kefu-notifier
# (file channel), the policies of approval_fixture.sql.
#  - a repair cost (t-move: audit.guo, reminded at 1 s, moved to the
#    manager at 2 s): audit.guo is e-mailed that a step waits (amount as
#    yuan, the deadline), then reminded; at the deadline vp.qian (his
#    manager, who reads English) is e-mailed that the step moved to him;
#    vp.qian approves and the ticket's owner is e-mailed the result;
#    vp.qian has registered vp.zhou as his delegate (kefu delegate set):
#    vp.zhou is told of the cover, and of the step when it moves to vp.qian;
#  - a refund promised for yesterday (t-race: eng.sun or eng.liu, then
#    fin.lin): everyone who can act is e-mailed once that the promise is at
#    risk: the waiting approvers, the requester, the ticket owner's manager
#    and the customer-service centre's head (deploy/demo-org.json);
#  - an operator registers prop.he for eng.sun (kefu-admin delegate, written
#    to the store directly: the notifier finds it in the outbox): prop.he is
#    e-mailed the step he now covers; fin.lin registers sales.ma himself,
#    and when the finance step opens sales.ma is e-mailed it too;
#  - the approval administrator reassigns the finance step to cs.wang:
#    she is told who moved it and why, not that fin.lin was silent;
#  - nobody is e-mailed twice for one event, and approval.requested and
#    approval.step_decided e-mail no one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init notifier_approval
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL_SCAN_MS=100 KEFU_METRICS_PORT=0
FILE=$IT_DIR/notifications.jsonl
it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
it_psql "UPDATE staff SET lang = 'en' WHERE id = 'vp.qian'"
it_start bus
it_start intake
it_start router
it_start approval
it_start notifier KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_POLL_MS=50 \
    KEFU_NOTIFY_CATCHUP_MS=200
export KEFU_CERT=$(it_cert agent.li)
it_wait_for "intake to answer" 30 kefu tickets --limit 1
it_wait_for "kefu-approval to answer" 30 kefu approvals

submit() {
    kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --building 3 --unit "$1" --phone "1390000$1" --summary "$2"
}
routed() { it_psql_is "SELECT status FROM ticket WHERE no = '$1'" routed; }
# The e-mails of type TYPE in the file channel, as "recipient|subject" lines.
mails() { touch "$FILE"; jq -r --arg t "$1" 'select(.type == $t) | .recipient + "|" + .subject' "$FILE"; }
mails_to() { mails "$1" | grep -c "^$2|" || true; }
# True once an e-mail of type TYPE to RECIPIENT is in the file (anywhere:
# jq -e only looks at the last line's result).
mailed() {
    touch "$FILE"
    [[ -n $(jq -c --arg t "$1" --arg r "$2" 'select(.type == $t and .recipient == $r) | .id' "$FILE") ]]
}
both_routed() { routed "$1" && routed "$2"; }

T1=$(submit 1201 '维修费用审批（通知测试）')
T2=$(submit 1202 '退款承诺（通知测试）')
it_wait_for "$T1 and $T2 to be routed" 30 both_routed "$T1" "$T2"
OWNER1=$(it_psql "SELECT owner_id FROM ticket WHERE no = '$T1'")
OWNER2=$(it_psql "SELECT owner_id FROM ticket WHERE no = '$T2'")
MANAGER2=$(it_psql "SELECT manager_id FROM staff WHERE id = '$OWNER2'")
[[ -n $MANAGER2 ]] || it_fail "$OWNER2, who owns $T2, has no manager to tell"

# ---- a repair cost: assigned, reminded, moved, approved, completed ---------
KEFU_CERT=$(it_cert vp.qian) kefu delegate set vp.zhou --to +1h >/dev/null
it_wait_for "vp.zhou to be told he covers for vp.qian" 20 mailed approval.delegate_set vp.zhou
subject=$(mails approval.delegate_set | sed -n 's/^vp.zhou|//p')
[[ $subject == *"您代钱军审批，当前待处理 0 项" ]] || it_fail "vp.zhou's cover subject is '$subject'"
R1=$(kefu approval request "$T1" --type repair_cost --amount 80000.50 --reason '卫生间返修' \
     --promised "$(date -d '+10 days' +%F)")
it_note "approval request $R1 on $T1 (owner $OWNER1)"
it_wait_for "audit.guo to be e-mailed the step" 20 mailed approval.step_assigned audit.guo
subject=$(mails approval.step_assigned | sed -n 's/^audit.guo|//p')
[[ $subject == *"80,000.50 元"* && $subject == *"$T1"* ]] ||
    it_fail "audit.guo's e-mail subject does not give the amount and ticket: $subject"
text=$(jq -r 'select(.type == "approval.step_assigned") | .text' "$FILE")
grep -q "kefu approve $R1" <<<"$text" || it_fail "the e-mail does not say how to approve: $text"
grep -q "维修费用" <<<"$text" || it_fail "the e-mail does not name the request type in Chinese: $text"
[[ $(jq -r 'select(.type == "approval.step_assigned") | .to' "$FILE") == audit.guo@kefu.example ]] ||
    it_fail "the step's e-mail went to the wrong address"

it_wait_for "audit.guo to be reminded" 20 mailed approval.step_reminded audit.guo
it_wait_for "vp.qian to be told the step moved to him" 20 mailed approval.step_escalated vp.qian
subject=$(mails approval.step_escalated | sed -n 's/^vp.qian|//p')
[[ $subject == "[Approval moved to you] request #$R1 (ticket $T1) was escalated to the manager" ]] ||
    it_fail "vp.qian's English subject is '$subject'"
KEFU_CERT=$(it_cert vp.qian) kefu approve "$R1" --comment '同意返修' >/dev/null
# vp.qian's delegate heard of the step that moved to vp.qian.
it_wait_for "vp.zhou to be told the step he covers" 20 mailed approval.step_escalated vp.zhou
subject=$(mails approval.step_escalated | sed -n 's/^vp.zhou|//p')
[[ $subject == "【代理审批】审批 #$R1（工单 $T1）已上报上级，您可代钱军处理" ]] ||
    it_fail "vp.zhou's subject is '$subject'"
it_wait_for "$OWNER1 to be e-mailed the result" 20 mailed approval.completed "$OWNER1"
subject=$(mails approval.completed | sed -n "s/^$OWNER1|//p")
[[ $subject == *"#$R1"* && $subject == *"已批准"* ]] || it_fail "the result's subject is '$subject'"

# ---- a promise already past: everyone who can act hears of the risk -------
R2=$(kefu approval request "$T2" --type refund --amount 300 --reason '退款' \
     --promised "$(date -d '-1 day' +%F)" --allow-past)
it_note "approval request $R2 on $T2 (owner $OWNER2, manager $MANAGER2)"
# The waiting approvers, the requester, the owner's manager, the centre's head.
WARNED=$(printf '%s\n' eng.sun eng.liu agent.li "$MANAGER2" cs.wang | sort -u)
all_warned() {
    local who
    for who in $WARNED; do mailed approval.at_risk "$who" || return 1; done
}
it_wait_for "everyone who can act to be told $R2 is at risk" 20 all_warned
subject=$(mails approval.at_risk | sed -n "s/^$MANAGER2|//p")
[[ $subject == *"#$R2"* && $subject == *"$T2"* ]] || it_fail "the risk e-mail's subject is '$subject'"
sleep 0.5 # a second e-mail to someone would be written by now
warned=$(jq -r --arg t "$T2" 'select(.type == "approval.at_risk" and .ticket == $t) | .recipient' "$FILE" | sort)
[[ $warned == "$WARNED" ]] ||
    it_fail "the risk e-mails went to $(tr '\n' ' ' <<<"$warned"), not once each to $(tr '\n' ' ' <<<"$WARNED")"
# One row a person in the store too, each sent.
risk_rows() {
    it_psql "SELECT string_agg(recipient_id || ':' || status, ' ' ORDER BY recipient_id)
               FROM notification WHERE event_type = 'approval.at_risk' AND ticket_no = '$T2'"
}
RISK_ROWS=$(sed 's/$/:sent/' <<<"$WARNED" | tr '\n' ' ' | sed 's/ $//')
risk_recorded() { [[ $(risk_rows) == "$RISK_ROWS" ]]; }
it_wait_for "the risk e-mails of $R2 to be recorded as sent" 20 risk_recorded

# ---- an operator's delegate is told which steps they cover -----------------
"$KEFU_BUILD_DIR/services/admin/kefu-admin" delegate eng.sun --to prop.he --until +1h \
    --reason '孙总出差，期间由何敏代批' --database "$KEFU_DATABASE_URL" >/dev/null
it_wait_for "prop.he to be told he covers eng.sun's step" 20 mailed approval.delegate_set prop.he
subject=$(mails approval.delegate_set | sed -n 's/^prop.he|//p')
[[ $subject == *"您代孙伟审批，当前待处理 1 项" ]] || it_fail "prop.he's cover subject is '$subject'"
text=$(jq -r 'select(.type == "approval.delegate_set" and .recipient == "prop.he") | .text' "$FILE")
grep -q "工单 $T2，审批请求 #$R2，步骤“engineering head”" <<<"$text" ||
    it_fail "prop.he's e-mail does not list the step he covers: $text"
grep -q "原因：孙总出差，期间由何敏代批" <<<"$text" || it_fail "prop.he's e-mail does not say why: $text"

# ---- a step that opens for someone with a delegate tells the delegate ------
KEFU_CERT=$(it_cert fin.lin) kefu delegate set sales.ma --to +1h >/dev/null
it_wait_for "sales.ma to be told he covers for fin.lin" 20 mailed approval.delegate_set sales.ma
KEFU_CERT=$(it_cert eng.liu) kefu approve "$R2" --comment '同意退款' >/dev/null
it_wait_for "fin.lin to be e-mailed the finance step" 20 mailed approval.step_assigned fin.lin
it_wait_for "sales.ma to be e-mailed the step he covers" 20 mailed approval.step_assigned sales.ma
subject=$(mails approval.step_assigned | sed -n 's/^sales.ma|//p')
[[ $subject == "【代理审批】代林峰审批："*"（工单 $T2）"* ]] || it_fail "sales.ma's subject is '$subject'"

# ---- a person moves the step: who and why, not silence -------------------
STEP=$(it_psql "SELECT id FROM approval_step WHERE request_id = $R2 AND status = 'pending'")
KEFU_CERT=$(it_cert admin) kefu approval reassign "$STEP" --to cs.wang --reason '林总休假，改由王芳审批' >/dev/null
it_wait_for "cs.wang to be told the step was reassigned to her" 20 mailed approval.step_escalated cs.wang
subject=$(mails approval.step_escalated | sed -n 's/^cs.wang|//p')
[[ $subject == "【审批改派】审批 #$R2（工单 $T2）已由kefu operator改派给您" ]] ||
    it_fail "cs.wang's subject is '$subject'"
text=$(jq -r 'select(.type == "approval.step_escalated" and .recipient == "cs.wang") | .text' "$FILE")
grep -q "改派原因：林总休假，改由王芳审批" <<<"$text" || it_fail "cs.wang's e-mail does not say why: $text"
if grep -q "未在期限内" <<<"$text"; then it_fail "cs.wang's e-mail says fin.lin was silent: $text"; fi

# ---- once each; the quiet events tell no one -------------------------------
sleep 1
for type in approval.step_assigned approval.step_reminded approval.step_escalated \
            approval.completed approval.at_risk approval.delegate_set; do
    twice=$(jq -r --arg t "$type" 'select(.type == $t) | .event + .recipient' "$FILE" | sort | uniq -d | wc -l)
    [[ $twice == 0 ]] || it_fail "$type: $twice (event, recipient) pairs e-mailed twice"
done
[[ $(mails_to approval.step_assigned audit.guo) == 1 ]] || it_fail "audit.guo was told of his step more than once"
quiet=$(jq -r 'select(.type == "approval.requested" or .type == "approval.step_decided") | .id' "$FILE" | wc -l)
[[ $quiet == 0 ]] || it_fail "$quiet e-mails for approval.requested or approval.step_decided"
[[ $(it_psql "SELECT count(*) FROM notification WHERE event_type LIKE 'approval.%' AND status <> 'sent'") == 0 ]] ||
    it_fail "approval notifications not sent: $(it_psql "SELECT event_type, status, last_error FROM notification WHERE event_type LIKE 'approval.%' AND status <> 'sent'")"
it_note "approval e-mails: $(jq -r 'select(.type | startswith("approval.")) | .type' "$FILE" | sort | uniq -c | tr -s ' \n' ' ')"
