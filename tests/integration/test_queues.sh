#!/usr/bin/env bash
# The console's queues, ticket page and staff picker (issue 14), through the
# real daemons (bus, intake, router, approval), the `kefu` client and
# kefu-gateway:
# - ticket.list `department`: the tickets owned now by that department's
#   staff (a transfer moves a ticket to its new owner's department);
#   `state`: open (not resolved or closed), overdue (a first-response
#   deadline passed unanswered, by a short SLA policy and the router's own
#   escalation; or a resolution deadline passed unresolved; a late response
#   is not overdue), escalated (level 1 or more); with the other filters;
#   a page at a time, each ticket exactly once; the new per-ticket fields
#   (owner's name, department, escalation level, deadlines and how each
#   stands) as the store holds them; the plain view;
# - ticket.show: first_response and resolution, and the ticket's approval
#   requests, the latest first, at most 20 with approvals_more;
# - staff.list (`kefu staff` and GET /api/v1/staff): active staff only, by
#   id; q's words in the id or the name, `%` and `_` literal; department,
#   role; pages; refusals; an inactive caller is refused;
# - the gateway passes department and state to ticket.list and refuses a
#   state that is no queue.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init queues
export KEFU_APPROVAL_SCAN_MS=100 KEFU_ROUTER_SCAN_MS=200 KEFU_ROUTER_CATCHUP_MS=200
gw_daemons
export KEFU_CERT=$(it_cert agent.li)
ZHAO=$(it_cert eng.zhao)
HUANG=$(it_cert prop.huang)
q() { it_psql "$1"; }
listed() { json '[.tickets[].ticket] | join(" ")'; }

# A short SLA: an unanswered complaint of normal priority is overdue after
# 2 s, and then escalates once (an hour at each level).
loaded=$(grep -c 'event=policies.loaded' "$(it_log router)" || true)
q "UPDATE sla_policy SET first_response_secs = 2, resolve_secs = 3600, escalate_secs = 3600
    WHERE kind = 'complaint' AND priority = 'normal'" >/dev/null
it_kill router HUP
it_wait_for "the router to reload its policies" 10 \
    bash -c "(( \$(grep -c 'event=policies.loaded' '$(it_log router)') > $loaded ))"
answers() { # answers CMD...: the daemon answers (not_found: exit 1), not a timeout (3)
    local rc=0
    kefu --timeout 1000 "$@" >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}
it_wait_for "kefu-approval to answer" 30 answers approval show 999999

# submit KIND CATEGORY PRIORITY UNIT SUMMARY: prints the ticket number.
submit() {
    run submit --kind "$1" --category "$2" --priority "$3" --channel phone --project HZ-XH \
        --building 3 --unit "$4" --phone "1380000$4" --summary "$5"
    expect_rc 0 "kefu submit ($5)"
    echo "$OUT"
}
routed() { it_wait_for "$1 to be routed" 30 it_psql_is "SELECT status FROM ticket WHERE no = '$1'" routed; }
as() { # as CERT ARGS...: kefu as another staff member, must succeed
    local cert=$1
    shift
    KEFU_CERT=$cert kefu "$@" >/dev/null || it_fail "kefu $* as $cert failed"
}

E1=$(submit complaint leak normal 1001 '楼顶渗水，无人回复') # eng.zhao; overdue, escalates
routed "$E1"
E2=$(submit complaint leak high 1002 '窗台渗水，已回复')      # eng.zhao; responded in time
P1=$(submit repair property-service normal 1003 '电梯异响')  # prop.huang
P2=$(submit repair property-service normal 1004 '门禁坏了，已修好')
E3=$(submit repair leak normal 1101 '厨房漏水，解决超时')   # eng.zhao; resolution overdue
E4=$(submit repair leak normal 1102 '卫生间漏水，回复迟了')   # eng.zhao; responded late
X=$(submit repair leak normal 1103 '阳台漏水，转给客服')      # transferred to agent.chen (cs)
for no in "$E2" "$P1" "$P2" "$E3" "$E4" "$X"; do routed "$no"; done
it_note "E1 $E1 E2 $E2 P1 $P1 P2 $P2 E3 $E3 E4 $E4 X $X"
as "$ZHAO" respond "$E2" --note '已联系'
as "$HUANG" respond "$P2" --note '已派人'
as "$HUANG" resolve "$P2" --note '已修好'
as "$ZHAO" respond "$E3" --note '已联系'
q "UPDATE ticket SET resolve_due = now() - interval '1 minute', next_escalation_at = NULL
    WHERE no = '$E3'" >/dev/null
q "UPDATE ticket SET first_response_due = now() - interval '1 minute', next_escalation_at = NULL
    WHERE no = '$E4'" >/dev/null
as "$ZHAO" respond "$E4" --note '迟了'
as "$ZHAO" transfer "$X" --to agent.chen --reason '客服跟进'
it_wait_for "$E1 to escalate to level 1 (eng.liu)" 30 \
    it_psql_is "SELECT escalation_level || ' ' || owner_id FROM ticket WHERE no = '$E1'" '1 eng.liu'
[[ $(q "SELECT count(*) FROM ticket WHERE escalation_level > 0") == 1 ]] ||
    it_fail "more than $E1 escalated: $(q "SELECT no, escalation_level FROM ticket WHERE escalation_level > 0")"

# ---- the queues ----------------------------------------------------------------------
# tickets WANT WHAT ARGS...: kefu tickets ARGS lists WANT (ticket numbers, in order).
tickets() {
    local want=$1 what=$2
    shift 2
    run --json tickets "$@"
    expect_rc 0 "kefu tickets $*"
    [[ $(listed) == "$want" ]] || it_fail "$what (kefu tickets $*): '$(listed)', expected '$want'"
}
tickets "$X $E4 $E3 $P1 $E2 $E1" "every open ticket" --state open
tickets "$E4 $E3 $E2 $E1" "eng's open tickets (not $X, transferred to cs)" --department eng --state open
tickets "$E3 $E1" "eng's overdue tickets (not $E4, answered late)" --department eng --state overdue
tickets "$E3 $E1" "every overdue ticket" --state overdue
tickets "$E1" "the escalated tickets" --state escalated
tickets "$E1" "eng's escalated tickets" --department eng --state escalated
tickets "" "property's escalated tickets" --department property --state escalated
tickets "$P1" "property's open tickets" --department property --state open
tickets "$P2 $P1" "property's tickets of every status" --department property
tickets "$X" "cs's tickets" --department cs
tickets "" "an unknown department" --department nosuch
tickets "" "open and resolved at once" --state open --status resolved
tickets "$P2" "property's resolved tickets" --department property --status resolved
tickets "$E3" "eng's overdue repairs" --department eng --state overdue --kind repair
tickets "$E4 $E3" "eng's open tickets with 漏水" --department eng --state open --q 漏水
tickets "$E1" "eng's overdue tickets of owner eng.liu" --department eng --state overdue --owner eng.liu
tickets "$E4" "the number, in eng's open queue" --department eng --state open --no "$E4"
tickets "" "the number, not in eng's overdue queue" --department eng --state overdue --no "$E4"
tickets "$E1" "overdue, by the phone" --state overdue --phone 13800001001
tickets "" "eng, by property's phone" --department eng --phone 13800001003

# A page at a time: each ticket once, in order, under every queue.
# pages WANT LIMIT ARGS...: pages of LIMIT give WANT exactly.
pages() {
    local want=$1 limit=$2 seen="" n=0 next
    shift 2
    local cursor=()
    while :; do
        run --json tickets "$@" --limit "$limit" "${cursor[@]}"
        expect_rc 0 "kefu tickets $* page $((n + 1))"
        n=$((n + 1))
        ((n <= 20)) || it_fail "paging $* does not end"
        [[ $(json .count) == $(json '.tickets | length') ]] || it_fail "count is not the page's size: $OUT"
        seen+="$(listed) "
        next=$(json '.next // empty')
        [[ -n $next ]] || break
        cursor=(--cursor "$next")
    done
    seen=$(xargs <<<"$seen")
    [[ $seen == "$want" ]] || it_fail "pages of $limit of $*: '$seen', expected '$want'"
}
pages "$E4 $E3 $E2 $E1" 1 --department eng --state open
pages "$E4 $E3 $E2 $E1" 3 --department eng --state open
pages "$E3 $E1" 1 --state overdue
pages "$P2 $P1" 1 --department property
pages "$X $E4 $E3 $P1 $E2 $E1" 4 --state open

# ---- the fields of each ticket -------------------------------------------------------
run --json tickets --limit 100
expect_rc 0 "kefu tickets --limit 100"
row() { json ".tickets[] | select(.ticket == \"$1\") | $2"; }
[[ $(row "$E1" '[.owner, .owner_name, .department, .escalation_level, .first_response, .resolution] | join(" ")') == \
    "eng.liu 刘洋 eng 1 overdue due" ]] || it_fail "$E1's fields: $(row "$E1" .)"
[[ $(row "$E1" '(.first_response_due != null and .resolve_due != null and .responded_at == null and .resolved_at == null)') == true ]] ||
    it_fail "$E1's deadlines: $(row "$E1" .)"
[[ $(row "$E2" '[.owner_name, .department, .escalation_level, .first_response, .resolution] | join(" ")') == \
    "赵强 eng 0 met due" ]] || it_fail "$E2's fields: $(row "$E2" .)"
[[ $(row "$E3" '[.first_response, .resolution] | join(" ")') == "met overdue" ]] || it_fail "$E3: $(row "$E3" .)"
[[ $(row "$E4" '[.first_response, .resolution, (.responded_at > .first_response_due)] | join(" ")') == "late due true" ]] ||
    it_fail "$E4: $(row "$E4" .)"
[[ $(row "$P2" '[.department, .first_response, .resolution, .status, (.resolved_at > 0)] | join(" ")') == \
    "property met met resolved true" ]] || it_fail "$P2: $(row "$P2" .)"
[[ $(row "$X" '[.owner, .owner_name, .department] | join(" ")') == "agent.chen 陈静 cs" ]] || it_fail "$X: $(row "$X" .)"
# Each time is the store's, to the millisecond.
for no in "$E1" "$E4" "$P2"; do
    want=$(q "SELECT concat_ws(' ', kefu_ms(received_at), kefu_ms(first_response_due), kefu_ms(resolve_due),
                                    kefu_ms(responded_at), kefu_ms(resolved_at)) FROM ticket WHERE no = '$no'")
    got=$(row "$no" '[.received_at, .first_response_due, .resolve_due, .responded_at, .resolved_at] | map(select(. != null)) | join(" ")')
    [[ $got == "$want" ]] || it_fail "$no's times: $got, the store's $want"
done

# The plain view: the queue with its standing and level.
run tickets --department eng --state overdue
expect_rc 0 "kefu tickets --department eng --state overdue"
for want in "$E1" "$E3" 'overdue 已超时' 'routed L1' '刘洋' 'DEPT' 'DEADLINE'; do
    grep -qF -- "$want" <<<"$OUT" || it_fail "kefu tickets --state overdue does not show '$want': $OUT"
done
it_note "kefu tickets --department eng --state overdue:"$'\n'"$OUT"
run tickets --state late
expect_rc 2 "kefu tickets --state late (no queue)"

# A full page of 100 tickets (of 101) with the longest summaries and every field
# still fits the 64 KiB frame.
q "INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id, summary,
       created_by, owner_id, department_id, escalation_level, received_at, routed_at, first_response_due,
       resolve_due, responded_at, resolved_at, first_resolved_at)
   SELECT 'KF-2025-' || lpad(g::text, 6, '0'), 'complaint', 'leak', 'phone', 'urgent', 'resolved', 'HZ-XH',
          (SELECT homeowner_id FROM ticket WHERE no = '$E1'), repeat('长', 66) || 'xx', 'agent.li',
          'eng.zhao', 'eng', 3, now() - interval '30 days' + g * interval '1 second', now() - interval '30 days',
          now() - interval '29 days', now() - interval '20 days', now() - interval '25 days',
          now() - interval '21 days', now() - interval '21 days'
     FROM generate_series(1, 101) g" >/dev/null
run --json tickets --department eng --status resolved --limit 100
expect_rc 0 "a page of 100 long tickets"
[[ $(json .count) == 100 && -n $(json '.next // empty') ]] || it_fail "a page of 100: count $(json .count)"

# ---- ticket.show ---------------------------------------------------------------------
run --json ticket show "$E1"
expect_rc 0 "kefu ticket show $E1"
[[ $(json '[.first_response, .resolution, (.approvals | length), .approvals_more] | join(" ")') == \
    "overdue due 0 false" ]] || it_fail "$E1 shown: $OUT"
run --json ticket show "$P2"
[[ $(json '[.first_response, .resolution] | join(" ")') == "met met" ]] || it_fail "$P2 shown: $OUT"
# E2: twenty decided requests, then one pending, the latest.
q "INSERT INTO approval_request (ticket_id, request_type, amount_fen, reason, promised_date, promised_at,
       policy_id, status, stage, requested_by, requested_at, completed_at)
   SELECT t.id, 'refund', 10000 + g, '旧的', current_date + 3, now() + interval '3 days', 't-race',
          'rejected', 2, 'agent.li', now() - interval '1 hour' + g * interval '1 minute',
          now() - interval '1 hour' + g * interval '1 minute' + interval '10 seconds'
     FROM ticket t, generate_series(1, 20) g WHERE t.no = '$E2'" >/dev/null
promised=$(date -d '+3 days' +%F)
run approval request "$E2" --type refund --amount 1200.50 --reason '渗漏赔偿' --promised "$promised"
expect_rc 0 "kefu approval request $E2"
R=$OUT
run --json ticket show "$E2"
expect_rc 0 "kefu ticket show $E2"
[[ $(json '.approvals | length') == 20 && $(json .approvals_more) == true ]] ||
    it_fail "$E2's approvals: $(json '.approvals | length') more $(json .approvals_more)"
[[ $(json '.approvals[0] | [.request, .type, .amount, .amount_fen, .status, .stage, .promised, (.completed_at == null)] | join(" ")') == \
    "$R refund 1200.50 120050 pending 1 $promised true" ]] || it_fail "$E2's latest approval: $(json '.approvals[0]')"
want=$(q "SELECT string_agg(id::text, ' ' ORDER BY requested_at DESC, id DESC) FROM (SELECT id, requested_at
            FROM approval_request WHERE ticket_id = (SELECT id FROM ticket WHERE no = '$E2')
           ORDER BY requested_at DESC, id DESC LIMIT 20) r")
[[ $(json '[.approvals[].request] | join(" ")') == "$want" ]] ||
    it_fail "$E2's approvals are not the latest first: $(json '[.approvals[].request]'), the store's $want"
[[ $(json '.approvals[1] | [.status, .amount, (.completed_at > .requested_at), (.ticket == null)] | join(" ")') == \
    "rejected 100.20 true true" ]] || it_fail "$E2's second approval: $(json '.approvals[1]')"

# ---- staff.list ------------------------------------------------------------------------
q "INSERT INTO staff (id, name, department_id, role) VALUES
     ('qa.pct', '百分之100%', 'cs', 'agent'), ('qa.ten', '一千 1000', 'cs', 'agent'),
     ('qa.under', 'a_b', 'cs', 'staff'), ('qa.x', 'aXb', 'cs', 'staff');
   UPDATE staff SET active = false WHERE id = 'sales.xu'" >/dev/null
staff() { # staff WANT WHAT ARGS...: kefu staff ARGS lists WANT (staff ids, in order)
    local want=$1 what=$2
    shift 2
    run --json staff "$@"
    expect_rc 0 "kefu staff $*"
    [[ $(json '[.staff[].staff] | join(" ")') == "$want" ]] ||
        it_fail "$what (kefu staff $*): '$(json '[.staff[].staff] | join(" ")')', expected '$want'"
}
all=$(q "SELECT string_agg(id, ' ' ORDER BY id) FROM staff WHERE active")
staff "$all" "every active staff member" --limit 100
[[ $all != *sales.xu* && $all == *qa.x* ]] || it_fail "sales.xu was not made inactive: $all"
[[ $(json .count) == $(wc -w <<<"$all") && $(json .next) == null ]] || it_fail "count or next: $OUT"
[[ $(json '.staff[] | select(.staff == "eng.liu") | [.name, .department, .role] | join(" ")') == "刘洋 eng manager" ]] ||
    it_fail "eng.liu's row: $OUT"
staff "eng.liu eng.sun eng.zhao" "engineering" --department eng
staff "eng.liu" "engineering's managers" --department eng --role manager
staff "eng.sun" "engineering's head" --department eng --role head
staff "" "an unknown department" --department nosuch
staff "gm.hz gm.sh gm.zheng" "the general managers" --role gm
staff "eng.liu" "a word of the id and one of the name" --q 'eng 刘'
staff "eng.liu" "ASCII case ignored" --q 'ENG.LIU'
staff "qa.pct" "% matches itself" --q '100%'
staff "qa.under" "_ matches itself (not qa.x's aXb)" --q 'a_b'
staff "" "a word neither in the id nor in the name" --q '刘 sun'
staff "" "sales.xu is inactive" --q sales.xu
staff "$all" "a blank q" --q '   ' --limit 100
# A page at a time.
seen="" n=0 cursor=()
while :; do
    run --json staff --limit 5 "${cursor[@]}"
    expect_rc 0 "kefu staff page $((n + 1))"
    n=$((n + 1))
    ((n <= 20)) || it_fail "staff paging does not end"
    seen+="$(json '[.staff[].staff] | join(" ")') "
    next=$(json '.next // empty')
    [[ -n $next ]] || break
    cursor=(--cursor "$next")
done
[[ $(xargs <<<"$seen") == "$all" ]] || it_fail "staff pages of 5: '$seen', expected '$all'"
((n == ($(wc -w <<<"$all") + 4) / 5)) || it_fail "$(wc -w <<<"$all") staff 5 a page took $n pages"
staff "eng.sun eng.zhao" "engineering after eng.liu" --department eng --cursor eng.liu
run --json staff --cursor 'Eng Liu'
expect_rc 1 "a cursor that is no staff id"
[[ $(json .error.code) == bad_value && $(json .error.field) == cursor ]] || it_fail "bad cursor: $OUT"
run --json staff --q '1 2 3 4 5 6 7 8 9'
expect_rc 1 "nine words"
[[ $(json .error.code) == bad_value && $(json .error.field) == q ]] || it_fail "nine words: $OUT"
run staff --department eng
expect_rc 0 "kefu staff --department eng"
for want in STAFF NAME DEPT ROLE eng.liu 刘洋 manager; do
    grep -qF -- "$want" <<<"$OUT" || it_fail "kefu staff does not show '$want': $OUT"
done
# An inactive staff member may not ask, and is no longer listed.
QX=$(it_cert qa.x)
KEFU_CERT=$QX kefu staff >/dev/null || it_fail "qa.x, active, cannot list staff"
q "UPDATE staff SET active = false WHERE id = 'qa.x'" >/dev/null
staff "qa.pct qa.ten qa.under" "the qa staff, qa.x inactive now" --q qa.
RC=0
KEFU_CERT=$QX kefu --json staff >"$IT_DIR/out" 2>/dev/null || RC=$?
OUT=$(<"$IT_DIR/out")
[[ $RC == 1 && $(json .error.code) == unknown_actor ]] || it_fail "inactive qa.x lists staff: rc $RC $OUT"
RC=0
KEFU_CERT=$QX kefu --json departments >"$IT_DIR/out" 2>/dev/null || RC=$?
OUT=$(<"$IT_DIR/out")
[[ $RC == 1 && $(json .error.code) == unknown_actor ]] || it_fail "inactive qa.x lists departments: rc $RC $OUT"

# ---- department.list ---------------------------------------------------------------------
run departments
expect_rc 0 "kefu departments"
for want in DEPT 名称 NAME HEAD eng 工程部 Engineering eng.sun; do
    grep -qF -- "$want" <<<"$OUT" || it_fail "kefu departments does not show '$want': $OUT"
done
[[ $(grep -c . <<<"$OUT") == $(($(q "SELECT count(*) FROM department") + 1)) ]] ||
    it_fail "kefu departments: not a line a department: $OUT"

# ---- over HTTP -------------------------------------------------------------------------
gw_start gateway
PW='correct horse battery'
gw_passwd agent.li "$PW"
http - GET /api/v1/staff
expect 401 unknown_actor "staff without a session"
http - GET /api/v1/departments
expect 401 unknown_actor "departments without a session"
gw_signin agent.li "$PW"
http agent.li GET '/api/v1/staff?department=eng&limit=2'
expect 200 "GET /api/v1/staff?department=eng&limit=2"
[[ $(json '[.staff[].staff] | join(" ")') == "eng.liu eng.sun" && $(json .count) == 2 && $(json .next) == eng.sun ]] ||
    it_fail "GET /api/v1/staff page 1: $OUT"
http agent.li GET '/api/v1/staff?department=eng&limit=2&cursor=eng.sun'
expect 200 "GET /api/v1/staff page 2"
[[ $(json '[.staff[].staff] | join(" ")') == "eng.zhao" && $(json .next) == null ]] || it_fail "GET /api/v1/staff page 2: $OUT"
http agent.li GET "/api/v1/staff?q=$(jq -rn --arg q '100%' '$q | @uri')"
expect 200 "GET /api/v1/staff?q=100%25"
[[ $(json '[.staff[].staff] | join(" ")') == qa.pct ]] || it_fail "GET /api/v1/staff?q=100%: $OUT"
http agent.li GET /api/v1/departments
expect 200 "GET /api/v1/departments"
[[ $(json '[.departments[].department] | join(" ")') == "$(q "SELECT string_agg(id, ' ' ORDER BY id) FROM department")" &&
   $(json '.departments[] | select(.department == "eng") | [.name_zh, .name, .head] | join(" ")') == "工程部 Engineering eng.sun" &&
   $(json .more) == false ]] || it_fail "GET /api/v1/departments: $OUT"
http agent.li GET '/api/v1/staff?role=boss'
expect 400 bad_value "GET /api/v1/staff?role=boss"
http agent.li GET '/api/v1/staff?cursor=Eng'
expect 400 bad_value "GET /api/v1/staff?cursor=Eng"
http agent.li GET '/api/v1/tickets?department=eng&state=overdue'
expect 200 "GET /api/v1/tickets?department=eng&state=overdue"
[[ $(json '[.tickets[].ticket] | join(" ")') == "$E3 $E1" ]] || it_fail "the overdue queue over HTTP: $OUT"
[[ $(json '.tickets[1] | [.escalation_level, .first_response] | join(" ")') == "1 overdue" ]] ||
    it_fail "the overdue queue's fields over HTTP: $OUT"
http agent.li GET '/api/v1/tickets?state=late'
expect 400 bad_value "GET /api/v1/tickets?state=late"
http agent.li GET "/api/v1/tickets/$E2"
expect 200 "GET /api/v1/tickets/$E2"
[[ $(json '.approvals | length') == 20 && $(json .approvals_more) == true && $(json .first_response) == met ]] ||
    it_fail "the ticket page over HTTP: $(json '{first_response, resolution, approvals_more}')"
it_note "ok"
