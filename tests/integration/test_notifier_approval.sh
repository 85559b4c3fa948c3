#!/usr/bin/env bash
# Approvals are told: real intake, router, kefu-approval and kefu-notifier
# (file channel), the policies of approval_fixture.sql.
#  - a repair cost (t-move: audit.guo, reminded at 1 s, moved to the
#    manager at 2 s): audit.guo is e-mailed that a step waits (amount as
#    yuan, the deadline), then reminded; at the deadline vp.qian (his
#    manager, who reads English) is e-mailed that the step moved to him;
#    vp.qian approves and the ticket's owner is e-mailed the result;
#  - a refund promised for yesterday: the ticket owner's manager is
#    e-mailed that the promise is at risk;
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
# True once an e-mail of type TYPE to RECIPIENT is in the file.
mailed() { touch "$FILE"; jq -e --arg t "$1" --arg r "$2" 'select(.type == $t and .recipient == $r)' "$FILE" >/dev/null; }
both_routed() { routed "$1" && routed "$2"; }

T1=$(submit 1201 '维修费用审批（通知测试）')
T2=$(submit 1202 '退款承诺（通知测试）')
it_wait_for "$T1 and $T2 to be routed" 30 both_routed "$T1" "$T2"
OWNER1=$(it_psql "SELECT owner_id FROM ticket WHERE no = '$T1'")
OWNER2=$(it_psql "SELECT owner_id FROM ticket WHERE no = '$T2'")
MANAGER2=$(it_psql "SELECT manager_id FROM staff WHERE id = '$OWNER2'")
[[ -n $MANAGER2 ]] || it_fail "$OWNER2, who owns $T2, has no manager to tell"

# ---- a repair cost: assigned, reminded, moved, approved, completed ---------
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
it_wait_for "$OWNER1 to be e-mailed the result" 20 mailed approval.completed "$OWNER1"
subject=$(mails approval.completed | sed -n "s/^$OWNER1|//p")
[[ $subject == *"#$R1"* && $subject == *"已批准"* ]] || it_fail "the result's subject is '$subject'"

# ---- a promise already past: the owner's manager hears of the risk ---------
R2=$(kefu approval request "$T2" --type refund --amount 300 --reason '退款' \
     --promised "$(date -d '-1 day' +%F)" --allow-past)
it_wait_for "$MANAGER2 to be told $R2 is at risk" 20 mailed approval.at_risk "$MANAGER2"
subject=$(mails approval.at_risk | sed -n "s/^$MANAGER2|//p")
[[ $subject == *"#$R2"* && $subject == *"$T2"* ]] || it_fail "the risk e-mail's subject is '$subject'"

# ---- once each; the quiet events tell no one -------------------------------
sleep 1
for type in approval.step_assigned approval.step_reminded approval.step_escalated \
            approval.completed approval.at_risk; do
    twice=$(jq -r --arg t "$type" 'select(.type == $t) | .event + .recipient' "$FILE" | sort | uniq -d | wc -l)
    [[ $twice == 0 ]] || it_fail "$type: $twice (event, recipient) pairs e-mailed twice"
done
[[ $(mails_to approval.step_assigned audit.guo) == 1 ]] || it_fail "audit.guo was told of his step more than once"
quiet=$(jq -r 'select(.type == "approval.requested" or .type == "approval.step_decided") | .id' "$FILE" | wc -l)
[[ $quiet == 0 ]] || it_fail "$quiet e-mails for approval.requested or approval.step_decided"
[[ $(it_psql "SELECT count(*) FROM notification WHERE event_type LIKE 'approval.%' AND status <> 'sent'") == 0 ]] ||
    it_fail "approval notifications not sent: $(it_psql "SELECT event_type, status, last_error FROM notification WHERE event_type LIKE 'approval.%' AND status <> 'sent'")"
it_note "approval e-mails: $(jq -r 'select(.type | startswith("approval.")) | .type' "$FILE" | sort | uniq -c | tr -s ' \n' ' ')"
