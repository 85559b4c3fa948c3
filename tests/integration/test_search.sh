#!/usr/bin/env bash
# What an agent on the phone reads (issue 13, item 2), through the real
# daemons (bus, intake, router, approval, survey) and the `kefu` client:
# - `kefu owner` for an owner with open and resolved tickets, an open
#   approval request and a survey answer: each ticket's department, owner's
#   name and standing against its deadlines (overdue, met), the approval
#   (type, amount, status, promised date), the answer (score, nps); the
#   card's lists stop at the model's limits and say so (*_more, more);
#   an unknown phone is not_found with a message an agent understands;
# - `kefu tickets --no`: exactly that ticket; with other filters only when
#   they match too;
# - `kefu tickets --q`: one Chinese word, two words in either order, ASCII
#   case ignored, a word holding % or _ matched literally (a summary that
#   would match them as wildcards is not listed);
# - --q across pages: every matching ticket exactly once, in list order,
#   the same set the store holds, also with ties in received_at.
# (Refusals of a bad q or no at intake's socket: bad_input.c.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"

it_init search
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY_DELAY_S=1 KEFU_SURVEY_SCAN_MS=100 KEFU_APPROVAL_SCAN_MS=100
it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_start router
it_start approval
it_start survey
it_wait_for "intake to answer" 30 kefu tickets --limit 1
answers() { # answers CMD...: the daemon answers (not_found: exit 1), not a timeout (3)
    local rc=0
    kefu --timeout 1000 "$@" >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}
it_wait_for "kefu-approval to answer" 30 answers approval show 999999
it_wait_for "kefu-survey to answer" 30 answers survey show 999999

q() { it_psql "$1"; }
# submit PHONE KIND UNIT SUMMARY: prints the ticket number.
submit() {
    run submit --kind "$2" --category leak --channel phone --project HZ-XH --building 3 \
        --unit "$3" --phone "$1" --name '王芳' --summary "$4"
    expect_rc 0 "kefu submit ($4)"
    echo "$OUT"
}
listed() { json '[.tickets[].ticket] | join(" ")'; }

A=13800138000
B=13900139000
A1=$(submit $A complaint 1201 '卫生间漏水，赔偿100%费用')
A2=$(submit $A repair 1201 '厨房漏水')
A3=$(submit $A repair 1201 '窗户_关不严')
A4=$(submit $A repair 1201 'Window SEAL broken')
A5=$(submit $A repair 1201 '窗户不关，赔偿1000元') # what 100% and 窗户_关 would match as wildcards
B1=$(submit $B repair 101 '漏水 卫生间 楼上')
it_note "A: $A1 $A2 $A3 $A4 $A5; B: $B1"
it_wait_for "every ticket to be routed" 30 \
    it_psql_is "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0

# A2: responded and resolved in time; its survey answered 4, nps 9.
run respond "$A2" --note '已联系业主'
expect_rc 0 "kefu respond $A2"
run resolve "$A2" --note '已修复'
expect_rc 0 "kefu resolve $A2"
it_wait_for "$A2's survey to be sent" 20 \
    it_psql_is "SELECT sent_at IS NOT NULL FROM survey s JOIN ticket t ON t.id = s.ticket_id WHERE t.no = '$A2'" t
run survey answer "$A2" --score 4 --nps 9 --comment '满意'
expect_rc 0 "kefu survey answer $A2"
# A1: an open approval request, and a first response now overdue.
promised=$(date -d '+3 days' +%F)
run approval request "$A1" --type refund --amount 1200.50 --reason '渗漏赔偿' --promised "$promised"
expect_rc 0 "kefu approval request $A1"
R1=$OUT
q "UPDATE ticket SET first_response_due = now() - interval '1 minute' WHERE no = '$A1'" >/dev/null

# ---- kefu owner -------------------------------------------------------------------
run --json owner '+86 138 0013 8000'
expect_rc 0 "kefu owner A --json"
[[ $(json .name) == 王芳 && $(json .phone) == "$A" ]] || it_fail "owner A: $OUT"
[[ $(listed) == "$A5 $A4 $A3 $A1 $A2" ]] ||
    it_fail "owner A's tickets: '$(listed)', expected open first, latest first: $A5 $A4 $A3 $A1 $A2"
[[ $(json '[.count, .total, .open, .more] | join(" ")') == "5 5 4 false" ]] ||
    it_fail "owner A's counts: $(json '[.count, .total, .open, .more]')"
t1=".tickets[] | select(.ticket == \"$A1\")"
t2=".tickets[] | select(.ticket == \"$A2\")"
[[ $(json "$t1 | [.first_response, .resolution, .status] | join(\" \")") == "overdue due routed" ]] ||
    it_fail "$A1 against its deadlines: $(json "$t1")"
[[ $(json "$t2 | [.first_response, .resolution, .status] | join(\" \")") == "met met resolved" ]] ||
    it_fail "$A2 against its deadlines: $(json "$t2")"
[[ $(json "$t2 | (.responded_at != null and .resolved_at != null)") == true ]] ||
    it_fail "$A2 lacks responded_at or resolved_at: $(json "$t2")"
want_dept=$(q "SELECT t.department_id || ' ' || s.name FROM ticket t JOIN staff s ON s.id = t.owner_id WHERE t.no = '$A1'")
[[ $(json "$t1 | \"\(.department) \(.owner_name)\"") == "$want_dept" ]] ||
    it_fail "$A1's department and owner's name: $(json "$t1"), expected $want_dept"
[[ $(json '.approvals | length') == 1 && $(json .approvals_more) == false ]] ||
    it_fail "owner A's approvals: $(json .approvals)"
[[ $(json '.approvals[0] | [.request, .ticket, .type, .amount, .amount_fen, .status, .promised] | join(" ")') == \
    "$R1 $A1 refund 1200.50 120050 pending $promised" ]] ||
    it_fail "owner A's approval: $(json '.approvals[0]')"
[[ $(json '.approvals[0] | (.promised_at > .requested_at)') == true ]] || it_fail "approval times: $OUT"
[[ $(json '.surveys | length') == 1 && $(json .surveys_more) == false ]] ||
    it_fail "owner A's surveys: $(json .surveys)"
[[ $(json '.surveys[0] | [.ticket, .kind, .score, .nps] | join(" ")') == "$A2 resolution 4 9" &&
    $(json '.surveys[0].answered_at > 0') == true ]] || it_fail "owner A's survey: $(json '.surveys[0]')"
# Owner B has none of A's.
run --json owner $B
[[ $(listed) == "$B1" && $(json '.approvals | length') == 0 && $(json '.surveys | length') == 0 ]] ||
    it_fail "owner B: $OUT"

# The plain view shows the same, with the model's labels.
run owner $A
expect_rc 0 "kefu owner A"
for want in '王芳' 'overdue 已超时' 'met 按时完成' 'refund 退款' '1200.50' "$promised" \
    'Open approvals' 'Survey answers' 'resolution 解决回访'; do
    grep -qF -- "$want" <<<"$OUT" || it_fail "kefu owner does not show '$want': $OUT"
done
it_note "kefu owner:"$'\n'"$OUT"

# An unknown phone.
run --json owner 13700137000
expect_rc 1 "kefu owner for an unknown phone"
[[ $(json .error.code) == not_found && $(json .error.field) == phone ]] || it_fail "unknown phone: $OUT"
grep -q 'no owner has the phone number 13700137000' <<<"$(json .error.message)" ||
    it_fail "unknown phone's message: $(json .error.message)"

# ---- the card's limits ------------------------------------------------------------
# Owner C: 55 tickets (the limit is 50), 25 survey answers (20), 55 units (50),
# written straight into the store; summaries near their 200 bytes, so that a
# full reply must fit the 64 KiB frame.
C=13600136000
C1=$(submit $C repair 1501 '批量 1')
q "INSERT INTO ticket (no, kind, category, channel, priority, project_id, homeowner_id, summary,
       created_by, owner_id, received_at)
   SELECT 'KF-2025-' || lpad(g::text, 6, '0'), 'inquiry', 'other', 'phone', 'normal', 'HZ-XH',
          (SELECT id FROM homeowner WHERE phone = '$C'),
          '批量 ' || (g + 1) || ' ' || repeat('长', 60), 'agent.li',
          'cs.wang', timestamptz '2026-06-01 00:00+08' + (g / 3) * interval '1 second'
     FROM generate_series(1, 54) g" >/dev/null
q "INSERT INTO survey (ticket_id, homeowner_id, kind, due_at, sent_at, answered_at, score, nps)
   SELECT t.id, t.homeowner_id, 'resolution', now(), now(), now() - g * interval '1 minute', 1 + g % 5, g % 11
     FROM ticket t, generate_series(1, 25) g WHERE t.no = '$C1'" >/dev/null
q "INSERT INTO building (project_id, code) VALUES ('HZ-XH', 'T9') ON CONFLICT DO NOTHING" >/dev/null
q "INSERT INTO unit (project_id, building, unit_no) SELECT 'HZ-XH', 'T9', g::text FROM generate_series(1, 55) g" >/dev/null
q "INSERT INTO homeowner_unit SELECT (SELECT id FROM homeowner WHERE phone = '$C'), id FROM unit WHERE building = 'T9'" >/dev/null
run --json owner $C
expect_rc 0 "kefu owner C"
[[ $(json '[.count, .total, .open, .more] | join(" ")') == "50 55 55 true" ]] ||
    it_fail "owner C's tickets: $(json '[.count, .total, .open, .more]')"
[[ $(json '.surveys | length') == 20 && $(json .surveys_more) == true ]] ||
    it_fail "owner C's surveys: $(json '.surveys | length') more $(json .surveys_more)"
[[ $(json '.units | length') == 50 && $(json .units_more) == true ]] ||
    it_fail "owner C's units: $(json '.units | length') more $(json .units_more)"
[[ $(json '[.surveys[].answered_at] | . == (sort | reverse)') == true ]] ||
    it_fail "owner C's surveys are not the latest first"

# ---- kefu tickets --no --------------------------------------------------------------
run --json tickets --no "$A3"
expect_rc 0 "kefu tickets --no"
[[ $(listed) == "$A3" && $(json .next) == null ]] || it_fail "--no $A3: $OUT"
run --json tickets --no "$A3" --phone $A --status routed
[[ $(listed) == "$A3" ]] || it_fail "--no $A3 with its phone and status: $OUT"
run --json tickets --no "$A3" --phone $B
[[ $(json .count) == 0 ]] || it_fail "--no $A3 with B's phone lists $(listed)"
run --json tickets --no "$A2" --status routed
[[ $(json .count) == 0 ]] || it_fail "--no $A2 (resolved) --status routed lists $(listed)"
run --json tickets --no KF-2099-999999
expect_rc 0 "--no of no ticket"
[[ $(json .count) == 0 ]] || it_fail "--no KF-2099-999999 lists $(listed)"

# ---- kefu tickets --q ---------------------------------------------------------------
run --json tickets --q 漏水
expect_rc 0 "--q 漏水"
[[ $(listed) == "$B1 $A2 $A1" ]] || it_fail "--q 漏水: '$(listed)', expected $B1 $A2 $A1"
run --json tickets --q '漏水 卫生间'
[[ $(listed) == "$B1 $A1" ]] || it_fail "--q '漏水 卫生间': '$(listed)', expected $B1 $A1"
run --json tickets --q '卫生间　漏水' # the ideographic space, the other order
[[ $(listed) == "$B1 $A1" ]] || it_fail "--q '卫生间　漏水': '$(listed)'"
run --json tickets --q '漏水 卫生间' --phone $A
[[ $(listed) == "$A1" ]] || it_fail "--q '漏水 卫生间' --phone A: '$(listed)'"
run --json tickets --q 'window seal'
[[ $(listed) == "$A4" ]] || it_fail "--q 'window seal' (ASCII case ignored): '$(listed)'"
run --json tickets --q '100%'
[[ $(listed) == "$A1" ]] || it_fail "--q '100%' must match % literally: '$(listed)', expected $A1"
run --json tickets --q '窗户_关'
[[ $(listed) == "$A3" ]] || it_fail "--q '窗户_关' must match _ literally: '$(listed)', expected $A3"
run --json tickets --q '%'
[[ $(listed) == "$A1" ]] || it_fail "--q '%': '$(listed)', expected $A1"
run --json tickets --q '漏水 没有这个词'
[[ $(json .count) == 0 ]] || it_fail "--q with a word no summary holds lists $(listed)"
run --json tickets --q '   '
[[ $(json .count) -ge 6 ]] || it_fail "a blank --q filters: $OUT"
run --json tickets --q '1 2 3 4 5 6 7 8 9'
expect_rc 1 "--q of nine words"
[[ $(json .error.code) == bad_value && $(json .error.field) == q ]] || it_fail "nine words: $OUT"

# ---- --q a page at a time -----------------------------------------------------------
# C's 55 tickets hold 批量, three at each instant: pages of 7 give each once.
want=$(q "SELECT string_agg(no, ' ' ORDER BY received_at DESC, id DESC) FROM ticket WHERE summary LIKE '%批量%'")
pages=0 seen="" cursor=()
while :; do
    run --json tickets --q 批量 --limit 7 "${cursor[@]}"
    expect_rc 0 "--q 批量 page $((pages + 1))"
    pages=$((pages + 1))
    ((pages <= 10)) || it_fail "paging does not end"
    seen+="$(listed) "
    next=$(json '.next // empty')
    [[ -n $next ]] || break
    cursor=(--cursor "$next")
done
[[ "$seen" == "$want " ]] || it_fail "--q 批量 pages gave '$seen', expected '$want'"
((pages == 8)) || it_fail "55 tickets 7 a page took $pages pages"
[[ $(tr ' ' '\n' <<<"$seen" | grep -c .) == 55 ]] || it_fail "--q 批量 pages: not 55 tickets"
# The plain view prints the cursor line too.
run tickets --q 批量 --limit 50
grep -q -- '--cursor ' <<<"$OUT" || it_fail "kefu tickets --q prints no --cursor line: $OUT"
it_note "--q 批量: $pages pages of 7"

# Words and phones stay out of intake's info log.
! grep -qE "$A|$B|王芳|漏水" "$(it_log intake)" || it_fail "intake's log holds a phone, a name or words"
it_note "ok"
