#!/usr/bin/env bash
# Quiet hours, with the clock faked only through configuration: the notifier
# is told that the quiet window (Asia/Shanghai) runs from a minute ago to two
# minutes ahead. A normal complaint's SMS to the owner is then held until the
# window's end (pending, next_attempt_at at that minute), while the staff's
# e-mail goes at once and an urgent complaint's SMS too. A held SMS made due
# again inside the window is held again at sending. When the window is
# elsewhere ("morning came"), the held SMS go, once each. Bad settings (a
# malformed window, an unknown time zone) stop the notifier at start with a
# message naming them.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/test_notifier_lib.sh"

it_init notifier_quiet
nt_init
it_pg_start
it_start bus
it_start intake
it_start router KEFU_ROUTER_CATCHUP_MS=300
export KEFU_CERT=$(it_cert agent.li)
FILE=$IT_DIR/notifications.jsonl
COMMON=(KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_POLL_MS=50 KEFU_NOTIFY_CATCHUP_MS=300)

# Bad settings are refused at start, by name (it_wait_exit in this shell, so
# that the harness knows the status was taken).
it_start notifier@bad "${COMMON[@]}" KEFU_NOTIFY_QUIET_HOURS=25:00-08:00
it_wait_exit notifier@bad 10 >/dev/null
[[ ${IT_STATUS[notifier@bad]} == 1 ]] || it_fail "a bad KEFU_NOTIFY_QUIET_HOURS did not stop the notifier"
grep -q "KEFU_NOTIFY_QUIET_HOURS=25:00-08:00: expected HH:MM-HH:MM" "$(it_log notifier@bad)" ||
    it_fail "the refusal does not name KEFU_NOTIFY_QUIET_HOURS"
it_start notifier@badtz "${COMMON[@]}" KEFU_NOTIFY_TZ=Mars/Olympus_Mons
it_wait_exit notifier@badtz 10 >/dev/null
[[ ${IT_STATUS[notifier@badtz]} == 2 ]] || it_fail "an unknown KEFU_NOTIFY_TZ did not stop the notifier" # 2: the check of the settings at start
grep -q "KEFU_NOTIFY_TZ=Mars/Olympus_Mons: no such time zone" "$(it_log notifier@badtz)" ||
    it_fail "the refusal does not name KEFU_NOTIFY_TZ"

# A window around now, in the notifier's zone; its end as seconds since the epoch.
sh_date() { TZ=Asia/Shanghai date "$@"; }
start=$(sh_date -d '-1 min' +%H:%M)
end_minute=$(sh_date -d '+2 min' '+%Y-%m-%d %H:%M')
end=${end_minute#* }
release=$(sh_date -d "$end_minute:00" +%s)
it_note "quiet hours $start-$end (Asia/Shanghai); release at $release"
it_start notifier "${COMMON[@]}" KEFU_NOTIFY_QUIET_HOURS="$start-$end"
it_wait_for "intake to answer" 30 kefu tickets --limit 1

submit() {
    local out
    out=$(kefu submit --kind complaint --category leak --channel phone --priority "$2" \
          --project HZ-XH --phone "$1" --summary "卫生间漏水") || it_fail "kefu submit failed: $out"
    grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1
}
no1=$(submit 13800138001 normal)
no2=$(submit 13800138002 urgent)
nt_wait_sent "the urgent ticket's messages and the staff's e-mails" 4 \
    "ticket_no = '$no2' OR (ticket_no = '$no1' AND channel = 'email')"
held="ticket_no = '$no1' AND channel = 'sms' AND status = 'pending' AND held
      AND extract(epoch FROM next_attempt_at) = $release"
it_wait_for "the normal ticket's two SMS to be held till $end" 10 it_psql_is \
    "SELECT count(*) FROM notification WHERE $held" 2
grep -q "\"to\":\"13800138002\"" "$FILE" || it_fail "the urgent ticket's SMS was not sent"
! grep -q "\"to\":\"13800138001\"" "$FILE" || it_fail "an SMS went out in quiet hours"
grep -q "event=notify.held .*ticket=$no1 channel=sms until=\"$end_minute\"" "$(it_log notifier)" ||
    it_fail "the hold is not logged with its time"

# Made due inside the window, they are held again when the sender takes them.
it_psql "UPDATE notification SET next_attempt_at = clock_timestamp()
          WHERE ticket_no = '$no1' AND channel = 'sms'" >/dev/null
it_wait_for "the SMS to be held again at sending" 10 it_psql_is \
    "SELECT count(*) FROM notification WHERE $held AND claimed_at IS NOT NULL AND attempts = 0" 2
! grep -q "\"to\":\"13800138001\"" "$FILE" || it_fail "an SMS went out in quiet hours"

# Morning: the window is elsewhere, and the held SMS go once each.
later=$(sh_date -d '+3 hours' +%H:%M)-$(sh_date -d '+4 hours' +%H:%M)
it_kill notifier TERM
it_start notifier "${COMMON[@]}" KEFU_NOTIFY_QUIET_HOURS="$later"
it_psql "UPDATE notification SET next_attempt_at = clock_timestamp()
          WHERE ticket_no = '$no1' AND channel = 'sms'" >/dev/null
nt_wait_sent "the held SMS in the morning" 2 "ticket_no = '$no1' AND channel = 'sms'"
[[ $(grep -c "\"to\":\"13800138001\"" "$FILE") == 2 ]] ||
    it_fail "expected exactly the 2 held SMS in the file channel"
it_note "ok: held till $end, then sent"
