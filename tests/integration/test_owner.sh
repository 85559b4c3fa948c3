#!/usr/bin/env bash
# Finding an owner's tickets by phone (issue 10, item 5), through the real
# `kefu` client and intake: two owners, one of whose phone is written two
# ways ('+86 138-0013-8000' and 13800138000); their tickets given receipt
# times that differ from ticket-number order, two of them at the same
# instant, one at a local midnight; one resolved. Then:
# - `kefu owner` shows the right owner (name, segment, units) and their
#   tickets, open first and then the latest first, and none of the other's;
# - an unknown phone is not_found on field phone;
# - `kefu tickets --phone … --limit 2` pages through every ticket of the
#   owner exactly once, in the order they came in (received_at, then id, both
#   descending), following the --cursor that each page prints;
# - --since/--until bound the list, half-open, as dates (local midnight in
#   Asia/Shanghai) and as ms;
# - a bad cursor is bad_value on field cursor.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"

it_init owner
it_start_routing

# submit PHONE PROJECT BUILDING UNIT SUMMARY: prints the ticket number.
submit() {
    run submit --kind repair --category plumbing --channel phone --project "$2" \
        --building "$3" --unit "$4" --phone "$1" --name '张伟' --summary "$5"
    expect_rc 0 "kefu submit ($5)"
    echo "$OUT"
}

A_TYPED='+86 138-0013-8000'
A=13800138000
B=13900139000
# Owner A's six tickets and owner B's two, interleaved.
A1=$(submit "$A_TYPED" HZ-XH 3 1201 '卫生间漏水 A1')
B1=$(submit "$B" SH-PD 1 101 '暖气不热 B1')
A2=$(submit "$A" HZ-XH 3 1201 '厨房下水堵塞 A2')
A3=$(submit "0086 138 0013 8000" SH-PD 2 1804 '窗户关不严 A3')
A4=$(submit "$A_TYPED" HZ-XH 3 1201 '墙面开裂 A4')
B2=$(submit "$B" SH-PD 1 101 '电梯异响 B2')
A5=$(submit "$A" HZ-XH 3 1201 '门锁损坏 A5')
A6=$(submit "$A" HZ-XH 3 1201 '水压不足 A6')
it_note "A: $A1 $A2 $A3 $A4 $A5 $A6; B: $B1 $B2"

# When they came in, as a previous system's import would have them: not in
# number order; A5 and A6 at the same instant (the id breaks the tie); A4 at
# a local midnight and A3 just before it; A2 at the midnight that opens
# 2026-11-15.
it_psql "UPDATE ticket SET received_at = CASE no
    WHEN '$A1' THEN timestamptz '2026-12-03 10:00:00+08'
    WHEN '$A2' THEN timestamptz '2026-11-15 00:00:00+08'
    WHEN '$A3' THEN timestamptz '2026-11-30 23:59:59.999+08'
    WHEN '$A4' THEN timestamptz '2026-12-01 00:00:00+08'
    WHEN '$A5' THEN timestamptz '2026-12-02 09:00:00.123456+08'
    WHEN '$A6' THEN timestamptz '2026-12-02 09:00:00.123456+08'
    WHEN '$B1' THEN timestamptz '2026-12-02 12:00:00+08'
    WHEN '$B2' THEN timestamptz '2026-11-20 12:00:00+08' END
  WHERE no IN ('$A1', '$A2', '$A3', '$A4', '$A5', '$A6', '$B1', '$B2')" >/dev/null
it_psql "UPDATE homeowner SET segment = 'upgrade' WHERE phone = '$A'" >/dev/null
# The list order: received_at, then id, both descending.
ORDER="$A1 $A6 $A5 $A4 $A3 $A2"

it_wait_for "every ticket to be routed" 30 \
    it_psql_is "SELECT count(*) FROM ticket WHERE status = 'submitted'" 0
run resolve "$A2" --note '已疏通'
expect_rc 0 "kefu resolve $A2"

# ---- kefu owner ------------------------------------------------------------------
run owner "$A_TYPED" --json
expect_rc 0 "kefu owner --json"
[[ $(json .phone) == "$A" ]] || it_fail "owner: phone is $(json .phone), expected $A"
[[ $(json .name) == 张伟 ]] || it_fail "owner: name is $(json .name)"
[[ $(json .segment) == upgrade && $(json .lang) == zh ]] || it_fail "owner: segment/lang: $OUT"
[[ $(json '[.units[] | "\(.project) \(.building)-\(.unit)"] | join(",")') == "HZ-XH 3-1201,SH-PD 2-1804" ]] ||
    it_fail "owner: units are $(json '.units'), expected HZ-XH 3-1201 and SH-PD 2-1804"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A1 $A6 $A5 $A4 $A3 $A2" ]] ||
    it_fail "owner: tickets are '$(json '[.tickets[].ticket] | join(" ")')', expected open first then latest first: $A1 $A6 $A5 $A4 $A3 $A2"
[[ $(json '[.tickets[].status] | join(" ")') == "routed routed routed routed routed resolved" ]] ||
    it_fail "owner: statuses are $(json '[.tickets[].status] | join(" ")')"
[[ $(json '.count') == 6 && $(json '.total') == 6 && $(json '.open') == 5 && $(json '.more') == false ]] ||
    it_fail "owner: count/total/open/more: $(json '[.count, .total, .open, .more]')"
[[ $(json '[.tickets[] | select(.status == "routed") | (.first_response_due != null and .resolve_due != null)] | all') == true ]] ||
    it_fail "owner: an open ticket without its deadlines: $OUT"
[[ $(json ".tickets[] | select(.ticket == \"$A2\") | .resolved_at != null") == true ]] ||
    it_fail "owner: the resolved ticket has no resolved_at"
[[ $(json ".tickets[] | select(.ticket == \"$A5\") | .received_at") == 1796173200123 ]] ||
    it_fail "owner: $A5's received_at is $(json ".tickets[] | select(.ticket == \"$A5\") | .received_at")"
[[ $(json ".tickets[0] | [.kind, .category, .priority, .project, .summary] | join(\" \")") == "repair plumbing normal HZ-XH 卫生间漏水 A1" && -n $(json '.tickets[0].owner // empty') ]] ||
    it_fail "owner: the first ticket's fields: $(json '.tickets[0]')"

# The same owner, whichever way the phone is written.
run owner "$A" --json
expect_rc 0 "kefu owner $A --json"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A1 $A6 $A5 $A4 $A3 $A2" ]] ||
    it_fail "kefu owner $A differs from kefu owner '$A_TYPED'"
run owner "$B" --json
expect_rc 0 "kefu owner $B --json"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$B1 $B2" ]] ||
    it_fail "owner B: tickets are $(json '[.tickets[].ticket] | join(" ")'), expected $B1 $B2"

# The plain view: the card, then the table in the same order.
run owner "$A_TYPED"
expect_rc 0 "kefu owner"
grep -q '张伟' <<<"$OUT" || it_fail "kefu owner does not show the name: $OUT"
grep -q 'upgrade 改善' <<<"$OUT" || it_fail "kefu owner does not show the segment: $OUT"
grep -q 'SH-PD 2-1804' <<<"$OUT" || it_fail "kefu owner does not show the units: $OUT"
grep -q '6, 5 open' <<<"$OUT" || it_fail "kefu owner does not count the tickets: $OUT"
shown=$(grep -oE 'KF-[0-9]{4}-[0-9]{6}' <<<"$OUT" | tr '\n' ' ')
[[ $shown == "$A1 $A6 $A5 $A4 $A3 $A2 " ]] || it_fail "kefu owner's table order: '$shown'"
grep -q "respond by 20" <<<"$OUT" || it_fail "kefu owner shows no deadline: $OUT"
grep -q "resolved 20" <<<"$OUT" || it_fail "kefu owner does not show when $A2 was resolved: $OUT"
it_note "kefu owner:"$'\n'"$OUT"

# An unknown phone, and one that is no phone at all.
run owner 13700137000
expect_rc 1 "kefu owner for an unknown phone"
grep -q 'not_found' <<<"$ERR" || it_fail "unknown phone: $ERR"
run --json owner 13700137000
[[ $(json .error.code) == not_found && $(json .error.field) == phone ]] ||
    it_fail "unknown phone: --json error is $OUT"
run --json owner 'call me'
expect_rc 1 "kefu owner 'call me'"
[[ $(json .error.code) == bad_value && $(json .error.field) == phone ]] ||
    it_fail "a phone that does not normalise: $OUT"

# ---- kefu tickets --phone, a page at a time -----------------------------------------
# Follows the "--cursor X" line of each plain page and collects the tickets.
pages=0 seen="" cursor=()
while :; do
    run tickets --phone "$A_TYPED" --limit 2 "${cursor[@]}"
    expect_rc 0 "kefu tickets --phone --limit 2 (page $((pages + 1)))"
    pages=$((pages + 1))
    ((pages <= 5)) || it_fail "paging does not end: $OUT"
    seen+=$(grep -oE 'KF-[0-9]{4}-[0-9]{6}' <<<"$OUT" | tr '\n' ' ')
    next=$(sed -n 's/.*--cursor \([^ ]*\)$/\1/p' <<<"$OUT")
    [[ -n $next ]] || break
    cursor=(--cursor "$next")
done
[[ $seen == "$ORDER " ]] || it_fail "pages gave '$seen', expected each ticket once in received order: $ORDER"
((pages == 3)) || it_fail "6 tickets 2 a page took $pages pages"
it_note "kefu tickets --phone --limit 2: $pages pages: $seen"

# The same through --json: next is there exactly while more rows follow.
run --json tickets --phone "$A" --limit 5
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A1 $A6 $A5 $A4 $A3" && $(json '.next != null') == true ]] ||
    it_fail "--limit 5: $OUT"
run --json tickets --phone "$A" --limit 5 --cursor "$(json .next)"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A2" && $(json '.next') == null ]] ||
    it_fail "--limit 5, page 2: $OUT"
run --json tickets --phone "$A" --limit 6
[[ $(json '.count') == 6 && $(json '.next') == null ]] || it_fail "--limit 6 (all): $OUT"
# Without a phone, the newest first across owners, filters still applying.
run --json tickets --project SH-PD
[[ $(json '[.tickets[].ticket] | join(" ")') == "$B1 $A3 $B2" ]] ||
    it_fail "--project SH-PD: $(json '[.tickets[].ticket] | join(" ")'), expected $B1 $A3 $B2"
run --json tickets --phone "$A" --status resolved
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A2" ]] || it_fail "--phone --status resolved: $OUT"
run --json tickets --phone 13700137000
expect_rc 0 "kefu tickets for an unknown phone"
[[ $(json '.count') == 0 ]] || it_fail "an unknown phone lists tickets: $OUT"

# ---- --since / --until --------------------------------------------------------------
run --json tickets --phone "$A" --since 2026-11-15 --until 2026-12-01
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A3 $A2" ]] ||
    it_fail "[2026-11-15, 2026-12-01): $(json '[.tickets[].ticket] | join(" ")'), expected $A3 $A2"
run --json tickets --phone "$A" --since 2026-12-01
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A1 $A6 $A5 $A4" ]] ||
    it_fail "since 2026-12-01: $(json '[.tickets[].ticket] | join(" ")')"
run --json tickets --phone "$A" --until 2026-11-15
[[ $(json '.count') == 0 ]] || it_fail "until 2026-11-15 (excluded) lists $(json '[.tickets[].ticket]')"
a4_ms=$(it_psql "SELECT kefu_ms(received_at) FROM ticket WHERE no = '$A4'")
a1_ms=$(it_psql "SELECT kefu_ms(received_at) FROM ticket WHERE no = '$A1'")
run --json tickets --phone "$A" --since "$a4_ms" --until "$a1_ms"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A6 $A5 $A4" ]] ||
    it_fail "[A4, A1) in ms: $(json '[.tickets[].ticket] | join(" ")'), expected $A6 $A5 $A4"
# Paging inside a range.
run tickets --phone "$A" --since 2026-11-15 --until 2026-12-03 --limit 2
expect_rc 0 "a range, page 1"
next=$(sed -n 's/.*--cursor \([^ ]*\)$/\1/p' <<<"$OUT")
[[ -n $next ]] || it_fail "a range of 5 tickets 2 a page prints no --cursor: $OUT"
run --json tickets --phone "$A" --since 2026-11-15 --until 2026-12-03 --limit 2 --cursor "$next"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$A4 $A3" ]] || it_fail "a range, page 2: $OUT"
run --json tickets --since 2026-12-03 --until 2026-12-01
expect_rc 1 "an empty range"
[[ $(json .error.code) == bad_value && $(json .error.field) == until ]] || it_fail "an empty range: $OUT"
run --json tickets --since 2026-02-30
[[ $(json .error.code) == bad_value && $(json .error.field) == since ]] || it_fail "2026-02-30: $OUT"

# ---- a cursor intake did not give -----------------------------------------------------
run --json tickets --cursor not-a-cursor
expect_rc 1 "a bad cursor"
[[ $(json .error.code) == bad_value && $(json .error.field) == cursor ]] || it_fail "a bad cursor: $OUT"

# Phone numbers and names stay out of intake's info log (style.md, habit 10).
! grep -qE "$A|$B|张伟" "$(it_log intake)" || it_fail "intake's log holds a phone or a name"
it_note "ok"
