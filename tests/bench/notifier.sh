#!/usr/bin/env bash
# kefu notifier benchmark: notifications per second delivered to the file
# channel, to a real SMTP server on loopback (Debian's python3-aiosmtpd) and to
# an HTTP SMS gateway (the integration tests' stand-in), and events per second
# turned into notifications and delivered end to end. Run on demand, never
# from ctest (speed is measured, never asserted in tests).
#
#   tests/bench/notifier.sh [-n N] [-m M] [-e E] [-i INSTANCES]
#                           [--durable on|off] [--no-results]
#
# Each phase starts kefu-notifier afresh against a private PostgreSQL (the
# integration harness), with the store prepared so that exactly one thing is
# measured:
#   file   N pending e-mails (a rendered Chinese routing e-mail each) are sent
#          to the file channel (default send batch, 20);
#   file-batch200  the same with KEFU_NOTIFY_SEND_BATCH=200;
#   smtp   M pending e-mails are sent to the SMTP server;
#   sms    M pending SMS are sent to the HTTP gateway;
#   events E tickets (kefu-load through intake and the router, while the
#          notifier is stopped) leave 3E notifications to make from their
#          ticket.submitted and ticket.routed events: the notifier catches up
#          from the outbox, renders, inserts and sends them to the file channel.
# A phase's time runs from the notifier's start to the last row marked sent
# (its first connection included); the notifier's CPU time is read from /proc.
# INSTANCES notifiers share each phase (default 1). Results are printed and
# appended to tests/bench/RESULTS-notifier.md (--no-results: printed only).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

N=${KEFU_BENCH_N:-20000}
M=${KEFU_BENCH_M:-5000}
E=${KEFU_BENCH_E:-2000}
INSTANCES=1
DURABLE=on
WRITE_RESULTS=1

usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
        -n) N=${2:?}; shift 2 ;;
        -m) M=${2:?}; shift 2 ;;
        -e) E=${2:?}; shift 2 ;;
        -i) INSTANCES=${2:?}; shift 2 ;;
        --durable) DURABLE=${2:?}; shift 2 ;;
        --no-results) WRITE_RESULTS=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "notifier.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for v in "$N" "$M" "$E" "$INSTANCES"; do
    [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] || { echo "notifier.sh: counts must be positive integers" >&2; exit 2; }
done
[[ $DURABLE == on || $DURABLE == off ]] || { echo "notifier.sh: --durable is on or off" >&2; exit 2; }

build_dir=${KEFU_BUILD_DIR:-$source_dir/build}
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)" \
      --target kefu-bus kefu-intake kefu-router kefu-notifier kefu-load kefu >/dev/null
export KEFU_BUILD_DIR=$build_dir KEFU_SOURCE_DIR=$source_dir
export KEFU_IT_DEADLINE=${KEFU_BENCH_DEADLINE:-3000}
source "$source_dir/tests/integration/lib.sh"
source "$source_dir/tests/integration/test_notifier_lib.sh"
it_init notifier_bench
nt_init
it_pg_start
if [[ $DURABLE == on ]]; then
    for s in fsync synchronous_commit full_page_writes; do
        it_psql "ALTER SYSTEM SET $s = on" >/dev/null
    done
    it_psql "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
fi
nt_smtp_start
nt_sms_start
FILE=$IT_DIR/notifications.jsonl
BASE=(KEFU_NOTIFY_QUIET_HOURS=off KEFU_NOTIFY_POLL_MS=20 KEFU_LOG_LEVEL=warn)

# Queues COUNT pending messages on CHANNEL (sms or email), rendered as the
# notifier renders a routing message.
queue() {
    local count=$1 channel=$2
    it_psql "INSERT INTO notification (event_id, event_type, ticket_no, recipient_kind,
                                       recipient_id, channel, address, lang, subject, body)
             SELECT kefu_uuid7(), 'ticket.routed', format('KF-2026-%s', lpad(g::text, 6, '0')),
                    CASE WHEN '$channel' = 'sms' THEN 'homeowner' ELSE 'staff' END,
                    CASE WHEN '$channel' = 'sms' THEN g::text ELSE 'eng.zhao' END, '$channel',
                    CASE WHEN '$channel' = 'sms' THEN '1380013' || lpad((g % 10000)::text, 4, '0')
                         ELSE 'eng.zhao@kefu.example' END, 'zh',
                    CASE WHEN '$channel' = 'email' THEN
                         format('【新工单】KF-2026-%s 投诉·渗漏：卫生间漏水，楼下天花板渗水', lpad(g::text, 6, '0')) END,
                    CASE WHEN '$channel' = 'sms' THEN
                         format('【客服中心】您的工单KF-2026-%s已由工程部赵强负责处理，我们承诺在2026-11-24 16:13前首次回复您。', lpad(g::text, 6, '0'))
                    ELSE format(E'赵强，您好：\n\n工单 KF-2026-%s 已分派给您，由您负责处理。\n\n项目：西湖苑\n类型：投诉 / 渗漏，优先级：普通\n业主：张三\n内容：卫生间漏水，楼下天花板渗水\n首次响应期限：2026-11-24 16:13\n解决期限：2026-12-03 16:13\n\n请在首次响应期限前联系业主，并在系统中记录响应：kefu respond KF-2026-%s\n\n—— kefu 客服中心', lpad(g::text, 6, '0'), lpad(g::text, 6, '0')) END
               FROM generate_series(1, $count) g" >/dev/null
}

cpu_ms() { # utime + stime of a pid, in ms
    awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat" 2>/dev/null || echo 0
}

RESULTS=()
# run NAME COUNT [VAR=value...]: starts the instances, waits until COUNT rows are
# sent, and records the rate.
run() {
    local name=$1 count=$2 i t0 t1 sent cpu=0 key
    shift 2
    t0=${EPOCHREALTIME/./}
    for ((i = 1; i <= INSTANCES; i++)); do it_start "notifier@$name$i" "${BASE[@]}" "$@"; done
    while true; do
        sent=$(it_psql "SELECT count(*) FROM notification WHERE status = 'sent'")
        (( sent >= count )) && break
        for ((i = 1; i <= INSTANCES; i++)); do
            it_running "notifier@$name$i" || it_fail "notifier@$name$i stopped: $(tail -n 2 "$(it_log "notifier@$name$i")")"
        done
        it_psql_is "SELECT count(*) FROM notification WHERE status = 'failed'" 0 ||
            it_fail "$name: notifications failed: $(it_psql "SELECT last_error FROM notification WHERE status = 'failed' LIMIT 1")"
        sleep 0.05
    done
    t1=$(it_psql "SELECT (extract(epoch FROM max(sent_at)) * 1000000)::bigint FROM notification")
    for ((i = 1; i <= INSTANCES; i++)); do
        key=notifier@$name$i
        cpu=$((cpu + $(cpu_ms "$(it_pid "$key")")))
        it_kill "$key" TERM
    done
    local secs rate
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e6}')
    rate=$(awk -v n="$count" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
    RESULTS+=("| $name | $count | $secs | $rate | $((cpu * 1000 / count)) |")
    it_note "$name: $count in ${secs}s = $rate/s, notifier CPU $((cpu * 1000 / count)) µs each"
    it_psql "TRUNCATE notification" >/dev/null
}

queue "$N" email
run file "$N" KEFU_NOTIFY_FILE="$FILE"
[[ $(wc -l <"$FILE") == "$N" ]] || it_fail "the file holds $(wc -l <"$FILE") lines, not $N"
queue "$N" email
: >"$FILE"
run file-batch200 "$N" KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_SEND_BATCH=200
queue "$M" email
run smtp "$M" KEFU_SMTP_URL="$NT_SMTP_URL" KEFU_NOTIFY_FILE="$FILE"
[[ $(wc -l <"$NT_SMTP_LOG") == "$M" ]] || it_fail "the SMTP server got $(wc -l <"$NT_SMTP_LOG") messages, not $M"
queue "$M" sms
run sms "$M" KEFU_SMS_URL="$NT_SMS_URL" KEFU_NOTIFY_FILE="$FILE"

# Events to notifications, end to end (catch-up, render, insert, send).
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_start router
it_wait_for "intake to answer" 30 kefu tickets --limit 1
"$build_dir/tests/bench/kefu-load" -n "$E" -c 4 --wait-routed 120000 >"$IT_DIR/log/load.log" 2>&1 ||
    it_fail "kefu-load failed: $(tail -n 3 "$IT_DIR/log/load.log")"
: >"$FILE"
run events "$((E * 3))" KEFU_NOTIFY_FILE="$FILE" KEFU_NOTIFY_BATCH=200 KEFU_NOTIFY_SEND_BATCH=200

load=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — notifier, $INSTANCES instance(s), durable=$DURABLE"
    echo
    echo "$(nproc) CPUs, load average before the last phase: $load (other work shares the machine)."
    echo
    echo "| phase | notifications | seconds | per second | notifier CPU µs each |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${RESULTS[@]}"
} | tee "$IT_DIR/results.md"
if [[ $WRITE_RESULTS == 1 ]]; then
    cat "$IT_DIR/results.md" >>"$here/RESULTS-notifier.md"
fi
