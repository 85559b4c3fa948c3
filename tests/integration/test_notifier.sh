#!/usr/bin/env bash
# The notifier on real channels: SMS to an HTTP gateway (a local stand-in that
# records every POST), e-mail to a real SMTP server on loopback (aiosmtpd).
# Complaints go through the real daemons and client (submitted, routed,
# transferred, escalated, resolved; reopened and surveys written as kefu-survey
# writes them), and the owners and staff hear what they must, once each, in
# Chinese or English by the recipient's language. Along the way: retries with
# backoff, a permanent failure that becomes 'failed' with notification.failed
# and is re-sent by `kefu-admin notification resend`, an SMTP refusal, a recipient
# without an address, an imported ticket (silent), bad events (counted,
# recorded as failed, the daemon goes on), and templates reloaded on SIGHUP (a
# broken set keeps the old one). The actions are made together and checked
# together, so that the test stays quick on a busy machine.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/test_notifier_lib.sh"

it_init notifier
nt_init
it_pg_start
# The gateway refuses the first two SMS to 13600136000 (retried), and every SMS
# to 13700137000 until told otherwise (failed); the SMTP server refuses
# prop.huang for good.
nt_sms_start --fail-times 13600136000=2
nt_sms_control '{"fail_to": ["13700137000"]}'
nt_smtp_start --reject prop.huang@kefu.example
cp -r "$KEFU_SOURCE_DIR/deploy/templates" "$IT_DIR/templates"
it_psql "UPDATE staff SET email = NULL WHERE id = 'audit.guo';
         INSERT INTO homeowner (phone, name, lang) VALUES ('13900139000', 'Li Lei', 'en')" >/dev/null

it_start bus
it_start intake
it_start router KEFU_ROUTER_CATCHUP_MS=300
it_start notifier KEFU_SMS_URL="$NT_SMS_URL" KEFU_SMS_TOKEN=test-token \
    KEFU_SMTP_URL="$NT_SMTP_URL" KEFU_NOTIFY_TEMPLATES="$IT_DIR/templates" \
    KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_MAX_ATTEMPTS=3 KEFU_NOTIFY_BACKOFF_MS=100 \
    KEFU_NOTIFY_BACKOFF_FACTOR=2 KEFU_NOTIFY_CATCHUP_MS=300 KEFU_NOTIFY_POLL_MS=50
export KEFU_CERT=$(it_cert agent.li)
it_wait_for "intake to answer" 30 kefu tickets --limit 1

# submit PHONE NAME CATEGORY SUMMARY: prints the ticket number.
submit() {
    local out
    out=$(kefu submit --kind complaint --category "$3" --channel phone --project HZ-XH \
          --phone "$1" --name "$2" --summary "$4") || it_fail "kefu submit failed: $out"
    grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1
}
# expect WHAT TEXT PATTERN: TEXT must contain PATTERN (a fixed string).
expect() { grep -qF -- "$3" <<<"$2" || it_fail "$1: '$3' not in: $(head -c 3000 <<<"$2")"; }
# counts: "sent/failed/all" notifications.
counts() {
    it_psql "SELECT count(*) FILTER (WHERE status = 'sent') || '/' ||
                    count(*) FILTER (WHERE status = 'failed') || '/' || count(*) FROM notification"
}
emit() { echo "SELECT seq FROM kefu_emit('$1', '$2', 'test', '$3'::jsonb);"; }

# ---- the day's work ------------------------------------------------------
no1=$(submit 13800138000 张三 leak "卫生间漏水，楼下天花板渗水")      # routed to eng.zhao
no2=$(submit 13900139000 "Li Lei" sales-promise "The garden promised at sale is missing")
no3=$(submit 13500135000 王五 crack "外墙裂缝")                     # to be marked imported
no4=$(submit 13600136000 赵六 plumbing "厨房下水堵塞")               # two SMS refusals
no5=$(submit 13700137000 孙七 heating "暖气不热")                    # SMS refused for good
it_note "submitted $no1 $no2 $no3 $no4 $no5"
it_wait_for "the five tickets to be routed and announced" 30 it_psql_is \
    "SELECT count(*) FROM notification WHERE event_type = 'ticket.routed' AND channel = 'email'" 5

kefu transfer "$no1" --to sales.xu --reason "属销售承诺范围" >/dev/null
it_psql "UPDATE ticket SET imported = true WHERE no = '$no3';
         SELECT count(*) FROM kefu_escalate((SELECT id FROM ticket WHERE no = '$no1'), 1,
                                            'eng.liu', 'first_response_overdue', NULL, 'test')" >/dev/null
hid=$(it_psql "SELECT homeowner_id FROM ticket WHERE no = '$no1'")
kefu resolve "$no1" --note "防水层已重做，闭水试验通过" >/dev/null
kefu resolve "$no3" >/dev/null
kefu transfer "$no4" --to prop.huang --reason "属物业维修范围" >/dev/null
kefu transfer "$no4" --to audit.guo --reason "涉及费用审核" >/dev/null
# kefu-survey's events, and three an event's rules cannot use.
it_psql "$(emit ticket.reopened "$no1" "{\"ticket\":\"$no1\",\"from\":\"eng.liu\",\"to\":\"eng.sun\",\"reason\":\"low satisfaction score 2\",\"actor\":\"agent.li\"}")
         $(emit survey.sent "$no1" "{\"survey\":901,\"kind\":\"resolution\",\"ticket\":\"$no1\",\"homeowner\":$hid}")
         $(emit survey.sent "" "{\"survey\":902,\"kind\":\"campaign\",\"homeowner\":$hid,\"milestone\":\"move-in\",\"project\":\"HZ-XH\"}")
         $(emit ticket.routed KF-0000-000001 '{"ticket":"KF-0000-000001"}')
         $(emit ticket.resolved KF-0000-000002 '{"ticket":"KF-0000-000002"}')
         $(emit survey.sent "" '{"survey":"x","kind":"resolution","homeowner":1}')" >/dev/null

# no1: submitted, routed x2, transferred, escalated x2, resolved, reopened,
# survey; the campaign survey; no2-no5: 3 each; no4 also 2 e-mails that fail
# (refused, no address); no5's 2 SMS fail after 3 attempts.
it_wait_for "24 notifications, 20 sent and 4 failed" 40 it_psql_is \
    "SELECT count(*) FILTER (WHERE status = 'sent') || '/' ||
            count(*) FILTER (WHERE status = 'failed') || '/' || count(*) FROM notification" 20/4/24
it_wait_for "the bad events to be recorded as failed" 20 it_psql_is \
    "SELECT count(*) FROM processed_event WHERE consumer = 'notifier' AND outcome = 'failed'" 3

# ---- what the owners read (SMS) ------------------------------------------------
sms=$(nt_sms_dump)
due=$(it_psql "SELECT to_char(first_response_due AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
               FROM ticket WHERE no = '$no1'")
expect "submitted SMS" "$sms" "【客服中心】尊敬的张三，您反映的问题（卫生间漏水，楼下天花板渗水）已受理，工单号$no1。"
expect "routed SMS" "$sms" "【客服中心】您的工单${no1}已由工程部赵强负责处理，我们承诺在${due}前首次回复您。"
expect "resolved SMS" "$sms" "【客服中心】您的工单${no1}已处理完毕。"
expect "survey SMS" "$sms" "【客服中心】您的工单${no1}已处理完毕，请为本次服务打分：回复1-5分（5分为非常满意），或致电客服中心告诉我们您的意见。问卷编号901。"
expect "campaign SMS" "$sms" "【客服中心】尊敬的张三，值此西湖苑入住之际，诚邀您评价我们的服务：回复1-5分"
expect "English SMS" "$sms" "[kefu] Dear Li Lei, we have received your complaint (The garden promised at sale is missing). Your ticket number is $no2."
expect "English SMS" "$sms" "[kefu] Your ticket $no2 is handled by 徐丽 (Sales)."
nt_py 'import json, sys
rows = list(map(json.loads, open(sys.argv[1])))
assert all(r["auth"] == "Bearer test-token" for r in rows), "token"
sixes = [r["status"] for r in rows if r["to"] == "13600136000"]
assert sixes.count(503) == 2 and sixes.count(200) == 2, sixes' "$NT_SMS_LOG" ||
    it_fail "the gateway did not get the token, or not 2 refusals and 2 deliveries for $no4"
it_psql_is "SELECT sum(attempts) FROM notification WHERE ticket_no = '$no4' AND channel = 'sms'" 4 ||
    it_fail "two refused SMS should have taken 4 attempts in all"

# ---- what the staff read (e-mail) ------------------------------------------------
mail=$(nt_mail_dump)
nid=$(it_psql "SELECT id FROM notification WHERE ticket_no = '$no1' AND recipient_id = 'eng.zhao'")
line=$(grep -F "eng.zhao@kefu.example	<kefu.notification.$nid@kefu.example>	text/plain; charset=UTF-8	=?UTF-8?B?" <<<"$mail" | grep -F "$no1") ||
    it_fail "no e-mail to eng.zhao with Message-ID of notification $nid, UTF-8 text/plain and an RFC 2047 subject: $mail"
expect "routed e-mail" "$line" "	【新工单】$no1 投诉·渗漏：卫生间漏水，楼下天花板渗水	"
expect "routed e-mail" "$line" '赵强，您好：\n\n工单 '"$no1"' 已分派给您，由您负责处理。'
expect "routed e-mail" "$line" "首次响应期限：$due"
expect "transfer e-mail (en)" "$mail" "sales.xu@kefu.example"
expect "transfer e-mail (en)" "$mail" "[Ticket transferred] $no1 is now yours: 卫生间漏水，楼下天花板渗水"
expect "transfer e-mail (en)" "$mail" '赵强 has handed ticket '"$no1"' to you.\n\nReason: 属销售承诺范围'
expect "escalation e-mail" "$mail" "【工单升级】$no1 已升级由您负责（第1级，首次响应超时）"
expect "manager's e-mail" "$mail" "【升级通报】刘洋 负责的工单 $no1 已升级（首次响应超时）"
expect "reopen e-mail" "$mail" "【工单重开】$no1 已重新打开并交由您处理：卫生间漏水，楼下天花板渗水"

# ---- the record ---------------------------------------------------------------
it_psql_is "SELECT count(*) FROM event WHERE type = 'notification.sent'" 20 ||
    it_fail "not one notification.sent per sent notification"
it_psql_is "SELECT body->>'recipient_kind' || ':' || (body->>'recipient') || ':' || (body->>'via')
              FROM event WHERE type = 'notification.sent' AND (body->>'notification')::bigint = $nid" \
    "staff:eng.zhao:smtp" || it_fail "notification.sent does not name the recipient and channel"
it_psql_is "SELECT count(*) FROM notification WHERE ticket_no = '$no3'" 3 ||
    it_fail "an imported ticket was notified"
it_psql_is "SELECT count(*) FROM processed_event p JOIN event e ON e.id = p.event_id
             WHERE p.consumer = 'notifier' AND e.type = 'ticket.resolved' AND e.corr = '$no3'" 1 ||
    it_fail "the imported ticket's resolution was not consumed"
it_psql_is "SELECT string_agg(CASE channel WHEN 'sms' THEN 'sms' ELSE recipient_id END || ' ' || attempts || ' ' || split_part(last_error, ' ', 1)
                              || ' ' || split_part(last_error, ' ', 2), ', ' ORDER BY id)
              FROM notification WHERE status = 'failed'" \
    "sms 3 sms gateway:, sms 3 sms gateway:, prop.huang 1 smtp: 550, audit.guo 0 no_address " ||
    it_fail "the failures are not as expected: $(it_psql "SELECT id, recipient_id, attempts, last_error FROM notification WHERE status = 'failed'")"
it_psql_is "SELECT count(*) FROM event WHERE type = 'notification.failed'
               AND (body->>'channel' = 'sms' AND body->>'error' LIKE '%HTTP 503%'
                    OR body->>'recipient' IN ('prop.huang', 'audit.guo'))" 4 ||
    it_fail "not one notification.failed per failed notification"
log=$(it_log notifier)
grep -q "event=notify.failed .*ticket=$no5 .*resend=\"kefu-admin notification resend" "$log" ||
    it_fail "the notifier did not log how to resend"
! grep -qE '13[5-9]0013[5-9]000|张三|赵六|eng\.zhao@' "$log" || it_fail "the notifier logged an address or a name in clear"
grep -q "event=event.bad .*code=missing_field field=owner" "$log" || it_fail "no log of the missing owner"
grep -q "event=event.bad .*code=not_found field=ticket" "$log" || it_fail "no log of the unknown ticket"
grep -q "event=event.bad .*code=wrong_type field=survey .*count=3" "$log" || it_fail "bad events not counted"
it_running notifier || it_fail "the notifier died"

# ---- an operator re-sends what failed --------------------------------------------
nt_sms_control '{"fail_to": []}'
# An operator's tool on the store: it records the operator's login ($USER),
# not a staff certificate.
export USER=ops.zhou
for id in $(it_psql "SELECT id FROM notification WHERE ticket_no = '$no5' AND channel = 'sms'"); do
    out=$(kefu-admin notification resend "$id") || it_fail "kefu-admin notification resend $id: $out"
done
out=$(kefu-admin notification resend "$id" 2>&1) && it_fail "a second resend of $id was accepted: $out"
nid=$(it_psql "SELECT id FROM notification WHERE recipient_id = 'audit.guo'")
out=$(kefu-admin notification resend "$nid" 2>&1) && it_fail "resend without an address was accepted: $out"
expect "resend without address" "$out" "no_address"
it_psql "UPDATE staff SET email = 'audit.guo@kefu.example' WHERE id = 'audit.guo'" >/dev/null
kefu-admin notification resend "$nid" >/dev/null
it_wait_for "the re-sent messages" 20 it_psql_is \
    "SELECT count(*) FROM notification WHERE status = 'sent' AND resends = 1 AND attempts = 1
        AND resent_by = 'ops.zhou'" 3
expect "re-sent SMS" "$(nt_sms_texts 13700137000)" "已受理，工单号$no5。"

# ---- templates reloaded on SIGHUP; a broken set keeps the old one ----------------------
printf '【客服中心】工单{ticket}已办结（新模板）。\n' >"$IT_DIR/templates/ticket.resolved.sms.zh.txt"
it_kill notifier HUP
it_wait_for "the templates to reload" 10 grep -q "event=templates.loaded" "$log"
kefu resolve "$no4" >/dev/null
printf '工单{bogus}\n' >"$IT_DIR/templates/ticket.resolved.sms.zh.txt"
it_wait_for "$no4's resolution SMS" 20 it_psql_is \
    "SELECT status FROM notification WHERE ticket_no = '$no4' AND event_type = 'ticket.resolved'" sent
it_kill notifier HUP
it_wait_for "the broken set to be refused" 10 grep -q \
    "event=templates.reload_failed error=\"ticket.resolved.sms.zh.txt: unknown placeholder {bogus}\"" "$log"
kefu resolve "$no5" >/dev/null
it_wait_for "$no5's resolution SMS" 20 it_psql_is \
    "SELECT status FROM notification WHERE ticket_no = '$no5' AND event_type = 'ticket.resolved'" sent
expect "reloaded template" "$(nt_sms_texts 13600136000)" "工单${no4}已办结（新模板）。"
expect "kept template" "$(nt_sms_texts 13700137000)" "工单${no5}已办结（新模板）。"

# ---- never twice ------------------------------------------------------------
sent_sms=$(it_psql "SELECT count(*) FROM notification WHERE status = 'sent' AND channel = 'sms'")
sent_mail=$(it_psql "SELECT count(*) FROM notification WHERE status = 'sent' AND channel = 'email'")
nt_py 'import collections, email, json, sys
sms = collections.Counter(r["id"] for r in map(json.loads, open(sys.argv[1])) if r["status"] == 200)
assert all(n == 1 for n in sms.values()), [i for i, n in sms.items() if n > 1]
assert len(sms) == int(sys.argv[3]), ("sms", len(sms), sys.argv[3])
mids = collections.Counter(email.message_from_string(json.loads(l)["data"])["Message-ID"]
                           for l in open(sys.argv[2]))
assert all(n == 1 for n in mids.values()), mids
assert len(mids) == int(sys.argv[4]), ("mail", len(mids), sys.argv[4])' \
    "$NT_SMS_LOG" "$NT_SMTP_LOG" "$sent_sms" "$sent_mail" ||
    it_fail "the gateway or the SMTP server did not get each sent message exactly once"
it_kill notifier TERM
[[ ${IT_STATUS[notifier]} == 0 ]] || it_fail "the notifier exited with ${IT_STATUS[notifier]} on SIGTERM"
it_note "ok: $(counts) notifications (sent/failed/all), $sent_mail e-mails, $sent_sms SMS, each once"
