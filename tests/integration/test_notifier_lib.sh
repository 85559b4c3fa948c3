# shellcheck shell=bash
# kefu — helpers for the notifier's integration tests: a stand-in SMS gateway
# (test_notifier_sms_gateway.py, HTTP) and a real SMTP server on loopback
# (test_notifier_smtp_sink.py, Debian's python3-aiosmtpd), both run by
# /usr/bin/python3 on ports of the harness. Source after lib.sh.
#
#   nt_init                 after it_init: make the exit trap stop the servers too
#   nt_sms_start [ARGS]     start the gateway (ARGS: --fail-first N, --delay-ms MS);
#                           sets NT_SMS_URL and NT_SMS_LOG (one JSON line per POST)
#   nt_smtp_start [ARGS]    start the SMTP server (ARGS: --reject ADDR ...); sets
#                           NT_SMTP_URL and NT_SMTP_LOG (one JSON line per message)
#   nt_sms_control JSON     change the gateway's behaviour (see its --help)
#   nt_py CODE [ARGS]       run Python code with /usr/bin/python3
#   nt_count_sent N [SQL-CONDITION]
#                           true when N notifications (matching the condition) are
#                           sent
#   nt_wait_sent WHAT N [SQL-CONDITION] [TIMEOUT]
#                           wait until then
#   nt_sms_texts TO         the texts the gateway accepted for TO, one a line
#   nt_sms_dump             every SMS the gateway accepted: TO, ID, TEXT
#   nt_mail_dump            every message the SMTP server accepted: RCPT,
#                           MESSAGE-ID, CONTENT-TYPE, RAW SUBJECT, SUBJECT, BODY

NT_PY=/usr/bin/python3
NT_PIDS=()
NT_SMS_URL=
NT_SMS_LOG=
NT_SMTP_URL=
NT_SMTP_LOG=
NT_SMS_PORT=

nt_py() { "$NT_PY" -c "$@"; }

# Stops the servers, then runs the harness's own exit handler.
nt__on_exit() {
    local status=$? pid
    set +e
    for pid in "${NT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${NT_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    (exit "$status")
    it__cleanup
}

nt_init() {
    [[ -x $NT_PY ]] || it_fail "$NT_PY not found"
    "$NT_PY" -c 'import aiosmtpd' 2>/dev/null ||
        it_fail "python3-aiosmtpd is not installed (apt-get install -y python3-aiosmtpd)"
    trap 'nt__on_exit' EXIT
}

# Starts server script NAME on a fresh port; sets NT__PORT.
nt__start() {
    local name=$1 script=$2
    shift 2
    it__pick_port
    NT__PORT=$IT__PORT
    rm -f "$IT_DIR/$name.ready"
    "$NT_PY" "$KEFU_SOURCE_DIR/tests/integration/$script" --port "$NT__PORT" \
        --log "$IT_DIR/$name.jsonl" --ready "$IT_DIR/$name.ready" "$@" \
        >>"$IT_DIR/log/$name.log" 2>&1 </dev/null &
    local pid=$!
    NT_PIDS+=("$pid")
    it_wait_for "$name to listen" 20 test -s "$IT_DIR/$name.ready"
    it_note "started $name on :$NT__PORT (pid $pid)"
}

nt_sms_start() {
    nt__start sms test_notifier_sms_gateway.py "$@"
    NT_SMS_PORT=$NT__PORT
    NT_SMS_URL=http://127.0.0.1:$NT__PORT/sms
    NT_SMS_LOG=$IT_DIR/sms.jsonl
    touch "$NT_SMS_LOG"
}

nt_smtp_start() {
    nt__start smtp test_notifier_smtp_sink.py "$@"
    NT_SMTP_URL=smtp://127.0.0.1:$NT__PORT
    NT_SMTP_LOG=$IT_DIR/smtp.jsonl
    touch "$NT_SMTP_LOG"
}

nt_sms_control() {
    nt_py 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()' "http://127.0.0.1:$NT_SMS_PORT/control" "$1" ||
        it_fail "the SMS gateway did not take $1"
}

nt_count_sent() {
    local want=$1 cond=${2:-true}
    [[ $(it_psql "SELECT count(*) FROM notification WHERE status = 'sent' AND ($cond)") == "$want" ]]
}

nt_wait_sent() {
    it_wait_for "$1" "${4:-20}" nt_count_sent "$2" "${3:-true}"
}

nt_sms_texts() {
    nt_py 'import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["status"] == 200 and r["to"] == sys.argv[2]:
        print(r["text"].replace("\n", " "))' "$NT_SMS_LOG" "$1"
}

# Every SMS the gateway accepted, one a line: TO<TAB>ID<TAB>TEXT (line breaks
# as spaces).
nt_sms_dump() {
    nt_py 'import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["status"] == 200:
        print("%s\t%s\t%s" % (r["to"], r["id"], r["text"].replace("\n", " ")))' "$NT_SMS_LOG"
}

# Every message the SMTP server accepted, one a line:
# RCPT<TAB>MESSAGE-ID<TAB>CONTENT-TYPE<TAB>RAW SUBJECT<TAB>SUBJECT<TAB>BODY,
# the subject decoded from RFC 2047, the body from base64 with its line
# breaks shown as "\n".
nt_mail_dump() {
    nt_py 'import email, email.header, email.policy, json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    msg = email.message_from_string(r["data"], policy=email.policy.compat32)
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    body = msg.get_payload(decode=True).decode(msg.get_content_charset())
    raw = " ".join(msg["Subject"].split())
    for rcpt in r["rcpt_tos"]:
        print("\t".join([rcpt, msg["Message-ID"], msg["Content-Type"], raw, subject,
                         body.replace("\r\n", "\\n").replace("\n", "\\n")]))' "$NT_SMTP_LOG"
}
