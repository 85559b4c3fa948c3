#!/usr/bin/env bash
# `kefu report` end to end: report_fixture.sql (tickets, escalations, survey
# answers and approval requests with known answers, including the edges) in a real PostgreSQL, the
# real kefu-survey serving `report`, the real `kefu` client. Every figure,
# numerator and denominator is checked against the hand computation written
# beside it. Also: the table view, a breakdown by project, department and
# kind, another zone, half-open ranges (dates and ms), a range relative to
# now (unanswered complaints younger and older than 24 h), the per-month
# series and its SVG chart (absent months are gaps), and bad input.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init report
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY=$KEFU_SURVEY_BIND
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"

it_pg_start
export KEFU_CERT=$(it_cert cs.wang)
psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" \
     -f "$KEFU_SOURCE_DIR/tests/integration/report_fixture.sql" >/dev/null ||
    it_fail "loading report_fixture.sql failed"
it_start survey
it_wait_for "kefu-survey to answer a report" 30 kefu report --month 2025-03

# Runs kefu, capturing stdout in OUT, stderr in ERR and the exit code in RC.
run() {
    local o=$IT_DIR/out e=$IT_DIR/err
    RC=0
    kefu "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(<"$o")
    ERR=$(<"$e")
}
expect_rc() {
    [[ $RC == "$1" ]] || it_fail "$2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
}
# expect: each line of stdin is "JQ-PATH = EXPECTED", EXPECTED compact JSON
# as jq writes it (60.0 as 60); all are read from OUT by one jq run (jq is
# slow to start on a loaded machine). Blank lines and # comments are skipped.
expect() {
    local line prog='' got
    local -a checks=() values=()
    while IFS= read -r line; do
        [[ -z ${line//[[:space:]]/} || $line =~ ^[[:space:]]*# ]] && continue
        [[ $line == *' = '* ]] || it_fail "expect: no ' = ' in '$line'"
        checks+=("$line")
        prog+="((${line%% = *}) | tojson), "
    done
    got=$(jq -r "${prog%, }" <<<"$OUT") || it_fail "$WHAT: jq failed on: $OUT"
    mapfile -t values <<<"$got"
    local i
    for i in "${!checks[@]}"; do
        [[ ${values[i]:-} == "${checks[i]#* = }" ]] ||
            it_fail "$WHAT: ${checks[i]%% = } is ${values[i]:-nothing}, expected ${checks[i]#* = }"
    done
}

# ---- March 2025 in Asia/Shanghai ---------------------------------------------
WHAT="report --month 2025-03"
run report --month 2025-03 --json
expect_rc 0 "$WHAT"
# [2025-03-01 00:00 +08, 2025-04-01 00:00 +08) = [2025-02-28 16:00Z, 2025-03-31 16:00Z):
# 1740787200000 (2025-03-01T00:00Z) - 8 h (28800000) = 1740758400000, and
# 1743465600000 (2025-04-01T00:00Z) - 28800000 = 1743436800000.
# Tickets received: C1 C2 C3 C4 C6 (complaints), R1 (repair), I1 (inquiry) = 7;
# C5 (00:30 local on 04-01, still 03-31 in UTC) is April's.
# First response: C1 at exactly 24 h (hit), C2 at 24 h + 1 s (miss), C3 after
# 1 h (hit), C4 never and long past 24 h (miss), C6 after 2 h (hit): 3 of 5.
# Resolved within March: C1 at 03-31 23:59:59 local = 15:59:59Z (hit), C2 at
# 04-01 00:00:00 local (miss), C3 first resolved 03-20 though re-resolved
# 04-10 (hit), C4 never (miss), C6 on 04-02 (miss): 2 of 5 = 40.0.
# Satisfaction: answers recorded in March with scores 5 4 3 4 1 5 5 (S1 S2 S3
# S4 S5 S8 S9; S5 at 03-31 23:59:59 local counts, S6 at 04-01 00:00 does not,
# S7 unanswered): scoring 4-5 are 5 of 7 = 71.428... -> 71.4.
# NPS: 0-10 answers 10 9 7 6 0 10 (S8 gave none): promoters 3 (10 9 10),
# passive 1 (7), detractors 2 (6 0) of 6: 50 % - 33.33 % = 16.666... -> 16.7.
# Escalations of March's 7 tickets: C2 at levels 1 and 2, C4 and R1 at 1 (C5's
# is April's): level 1 = 3/7 = 42.857 -> 42.9, level 2 = 1/7 = 14.285 -> 14.3,
# level 3 = 0/7 = 0.0 (a figure: there are tickets), all = 4/7 = 57.142 -> 57.1.
# Approval cycle time (report_fixture.sql): completed in March A1 7200, A2
# 86400, A3 14400 (rejected), A4 259200, A5 136800 (completed at March's first
# instant), A6 7200; X1 (at April's first instant) and X2 (pending) are out.
# Sorted 7200 7200 14400 86400 136800 259200, n = 6: the median is rank
# ceil(6 / 2) = 3 = 14400 (nearest rank: no average of the middle two), the
# 90th percentile rank ceil(5.4) = 6 = 259200.
# Per step (from reaching the stage): engineering 1800 3600 14400 36000 86400
# 86400 -> rank 3 = 14400, rank 6 = 86400; finance 3600 50400 172800 -> 50400,
# 172800; cost audit 5400 50400 -> rank 1 = 5400, rank 2 = 50400.
# Per approver (from the step coming to them): eng.sun 1800 3600 14400 86400
# 86400 -> rank 3 = 14400, rank ceil(4.5) = 5 = 86400; eng.liu (the moved
# step) 7200 alone; fin.lin 3600 50400 172800 (A4's auto-approval is his) ->
# 50400, 172800; audit.guo 5400 50400 -> 5400, 50400. X2's decided step is
# not counted (its request is pending): eng.sun has 5, not 6.
expect <<'END'
.period | [.from, .to, .month, .tz, .complete] = [1740758400000,1743436800000,"2025-03","Asia/Shanghai",true]
.by = null
.total.tickets = 7
.total.first_response_24h = {"num":3,"den":5,"percent":60,"pending":0}
.total.resolved_in_month = {"num":2,"den":5,"percent":40}
.total.satisfaction = {"num":5,"den":7,"percent":71.4}
.total.nps = {"score":16.7,"den":6,"promoters":3,"passives":1,"detractors":2}
.total.approval_cycle | [.den, .median_s, .p90_s, .absent] = [6,14400,259200,null]
# Steps in the order a request meets them (stage 1.1, 2.1, 2.2), not by name.
.total.approval_cycle.steps = [{"label":"engineering","den":6,"median_s":14400,"p90_s":86400},{"label":"finance","den":3,"median_s":50400,"p90_s":172800},{"label":"cost audit","den":2,"median_s":5400,"p90_s":50400}]
.total.approval_cycle.approvers = [{"staff":"audit.guo","den":2,"median_s":5400,"p90_s":50400},{"staff":"eng.liu","den":1,"median_s":7200,"p90_s":7200},{"staff":"eng.sun","den":5,"median_s":14400,"p90_s":86400},{"staff":"fin.lin","den":3,"median_s":50400,"p90_s":172800}]
.total.approval_cycle | [.steps_omitted, .approvers_omitted] = [0,0]
.total.escalations.all = {"num":4,"den":7,"per_100":57.1}
.total.escalations.level_1 = {"num":3,"den":7,"per_100":42.9}
.total.escalations.level_2 = {"num":1,"den":7,"per_100":14.3}
.total.escalations.level_3 = {"num":0,"den":7,"per_100":0}
END
# One decimal on the wire, not 17 digits.
grep -qF '"satisfaction":{"num":5,"den":7,"percent":71.4}' <<<"$OUT" ||
    it_fail "$WHAT: the JSON does not carry 71.4 as is: $OUT"
grep -qF '"percent":60.0' <<<"$OUT" || it_fail "$WHAT: 60 % is not written 60.0: $OUT"

# The same period as a range of dates, and as a range of ms: the same figures.
for range in "--from 2025-03-01 --to 2025-04-01" "--from 1740758400000 --to 1743436800000"; do
    WHAT="report $range"
    # shellcheck disable=SC2086
    run report $range --json
    expect_rc 0 "$WHAT"
    expect <<'END'
[.period.from, .period.to, .period.month] = [1740758400000,1743436800000,null]
.total | [.tickets, .first_response_24h.num, .first_response_24h.den] = [7,3,5]
.total.resolved_in_month | [.num, .den, .percent] = [2,5,40]
.total.satisfaction | [.num, .den, .percent] = [5,7,71.4]
.total.nps.score = 16.7
END
done

# The table a person reads: every KPI with its counts.
WHAT="report --month 2025-03 (table)"
run report --month 2025-03
expect_rc 0 "$WHAT"
for want in '首次响应率 first response ≤ 24 h +60.0 % +3 / 5' \
            '当月解决率 resolved within the month +40.0 % +2 / 5' \
            'satisfaction \(4-5 of 5\) +71.4 % +5 / 7' \
            'NPS +16.7 +6 answers +3 promoters' \
            'approval cycle time +4.0 h +6 requests +median; 90th percentile 3.0 d' \
            'engineering +6 +4.0 h +24.0 h' 'finance +3 +14.0 h +2.0 d' \
            'cost audit +2 +1.5 h +14.0 h' 'eng.liu +1 +2.0 h +2.0 h' \
            'fin.lin +3 +14.0 h +2.0 d' \
            'escalations per 100 tickets +57.1 +4 / 7' \
            'level 1 .* +42.9 +3 / 7' 'level 2 .* +14.3 +1 / 7' 'level 3 .* +0.0 +0 / 7'; do
    grep -Eq "$want" <<<"$OUT" || it_fail "$WHAT: no line matching '$want' in:
$OUT"
done
# The steps by stage: engineering (1.1), finance (2.1), cost audit (2.2).
[[ $(grep -Eo '^(engineering|finance|cost audit) ' <<<"$OUT" | tr -d ' ' | tr '\n' ,) == engineering,finance,costaudit, ]] ||
    it_fail "$WHAT: the steps are not in stage order: $OUT"

# Short durations in a unit that fits: June 2025 has one request (X3, not in
# the fixture) of 12 min 6 s whose engineering step took 6 s and finance 12 min.
it_psql "INSERT INTO approval_request (idem, ticket_id, request_type, amount_fen, reason, promised_date,
                                       promised_at, policy_id, status, stage, requested_by, requested_at, completed_at)
         SELECT 'report-fixture-X3', id, 'settlement', 100000, 'report fixture', '2025-06-30', '2025-07-01 00:00:00+08',
                'fx-report', 'approved', 2, 'agent.li', '2025-06-02 09:00:00+08', '2025-06-02 09:12:06+08'
           FROM ticket WHERE no = 'KF-2025-900011';
         INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, on_timeout, status,
                                    assigned_to, moves, assigned_at, outcome, decided_by, decided_at)
         SELECT r.id, s.stage, s.step, ps.label, kefu_approval_approver(ps.approver_kind, ps.approver, r.ticket_id),
                ps.deadline_s, ps.on_timeout, s.status, s.who, 0, s.assigned, s.outcome, s.by, s.decided
           FROM (VALUES (1, 1, 'approved', 'eng.sun', '2025-06-02 09:00:00+08'::timestamptz, 'approve', 'eng.sun', '2025-06-02 09:00:06+08'::timestamptz),
                        (2, 1, 'approved', 'fin.lin', '2025-06-02 09:00:06+08', 'approve', 'fin.lin', '2025-06-02 09:12:06+08'),
                        (2, 2, 'skipped', 'audit.guo', '2025-06-02 09:00:06+08', NULL, NULL, NULL))
                AS s (stage, step, status, who, assigned, outcome, by, decided)
           JOIN approval_request r ON r.idem = 'report-fixture-X3'
           JOIN approval_policy_step ps ON ps.policy_id = 'fx-report' AND ps.stage = s.stage AND ps.step = s.step" >/dev/null
WHAT="report --month 2025-06 (table)"
run report --month 2025-06
expect_rc 0 "$WHAT"
for want in 'approval cycle time +12 min +1 requests +median; 90th percentile 12 min' \
            'engineering +1 +6 s +6 s' 'finance +1 +12 min +12 min' 'eng.sun +1 +6 s +6 s'; do
    grep -Eq "$want" <<<"$OUT" || it_fail "$WHAT: no line matching '$want' in:
$OUT"
done

# ---- Breakdowns ----------------------------------------------------------------
WHAT="report --month 2025-03 --by project"
run report --month 2025-03 --by project --json
expect_rc 0 "$WHAT"
# HZ-XH: C1 C2 C6 R1 = 4 tickets; complaints C1 (hit) C2 (miss) C6 (hit) = 2/3;
# resolved in March only C1 = 1/3 = 33.3; answers S1 5, S3 3, S4 4 (campaign,
# its own project), S8 5, S9 5 = 4/5; NPS 10 7 6 10: P 2, D 1 of 4 = 25.0;
# escalations C2 (1, 2) and R1 (1) = 3 of 4 tickets = 75.0.
# SH-PD: C3 C4 I1 = 3 tickets; C3 hit, C4 miss = 1/2 for both rates; answers
# S2 4 and S5 1 (campaign) = 1/2; NPS 9 and 0 = 50 - 50 = 0.0; C4's one
# escalation over 3 tickets = 33.3. Together they make the total (4+3 = 7).
expect <<'END'
[.by, [.groups[].key], .groups_omitted] = ["project",["HZ-XH","SH-PD"],0]
.groups[0] | [.tickets, .first_response_24h.num, .first_response_24h.den, .first_response_24h.percent] = [4,2,3,66.7]
.groups[0].resolved_in_month | [.num, .den, .percent] = [1,3,33.3]
.groups[0].satisfaction | [.num, .den, .percent] = [4,5,80]
.groups[0].nps = {"score":25,"den":4,"promoters":2,"passives":1,"detractors":1}
.groups[0].escalations | [.all.num, .all.den, .all.per_100, .level_2.per_100] = [3,4,75,25]
.groups[1] | [.tickets, .first_response_24h.num, .first_response_24h.den, .first_response_24h.percent] = [3,1,2,50]
.groups[1].resolved_in_month | [.num, .den, .percent] = [1,2,50]
.groups[1].satisfaction | [.num, .den, .percent] = [1,2,50]
.groups[1].nps = {"score":0,"den":2,"promoters":1,"passives":0,"detractors":1}
.groups[1].escalations.all = {"num":1,"den":3,"per_100":33.3}
.total.tickets = 7
.groups[0].approval_cycle | [.den, .median_s, .p90_s, .absent] = [4,7200,136800,null]
.groups[1].approval_cycle | [.den, .median_s, .p90_s, .absent] = [2,86400,259200,null]
.groups[0].approval_cycle | has("steps") = false
END
# Approvals by the request's ticket: HZ-XH A1 7200, A3 14400, A5 136800 (its
# ticket is February's: a request counts by its completion), A6 7200 -> sorted
# 7200 7200 14400 136800: median rank 2 = 7200 (a tie), p90 rank ceil(3.6) = 4
# = 136800. SH-PD A2 86400, A4 259200: median rank 1 = 86400 (the shorter of
# two), p90 rank 2 = 259200. Per step and approver only in the total.

WHAT="report --month 2025-03 --by department"
run report --month 2025-03 --by department --json
expect_rc 0 "$WHAT"
# Ordered by key, the NULL key (campaign surveys: no ticket, no department) last.
# cs: C4 C6 I1; C4 miss, C6 hit = 1/2; neither resolved in March = 0/2, a real
# 0.0 (there are complaints); S9 5 (nps 10); C4's escalation = 1/3.
# eng: C1 C2 R1; C1 hit, C2 miss for both rates = 1/2; S1 5, S3 3, S8 5 = 2/3 =
# 66.7; NPS 10 and 7 (S8 none) = 1 promoter of 2 = 50.0; escalations C2 1+2,
# R1 1 = 3 of 3 tickets = 100.0, level 1 2/3 = 66.7.
# property: C3, a hit for both; S2 4 (nps 9).
# No department: the campaign answers S4 (4, nps 6) and S5 (1, nps 0): 1/2 and
# NPS 0 - 100 % = -100.0; no tickets, so every ticket rate is absent (null).
expect <<'END'
[.groups[].key] = ["cs","eng","property",null]
.groups[0] | [.tickets, .first_response_24h.num, .first_response_24h.den, .first_response_24h.percent] = [3,1,2,50]
.groups[0].resolved_in_month | [.num, .den, .percent] = [0,2,0]
.groups[0] | [.satisfaction.num, .satisfaction.den, .satisfaction.percent, .nps.score] = [1,1,100,100]
.groups[0].escalations.all = {"num":1,"den":3,"per_100":33.3}
.groups[1] | [.tickets, .first_response_24h.num, .first_response_24h.den, .first_response_24h.percent] = [3,1,2,50]
.groups[1].resolved_in_month | [.num, .den, .percent] = [1,2,50]
.groups[1] | [.satisfaction.num, .satisfaction.den, .satisfaction.percent, .nps.score, .nps.den] = [2,3,66.7,50,2]
.groups[1].escalations | [.all.per_100, .level_1.num, .level_1.per_100] = [100,2,66.7]
.groups[2] | [.tickets, .first_response_24h.percent, .resolved_in_month.percent, .satisfaction.percent, .nps.score] = [1,100,100,100,100]
.groups[3] | [.tickets, .first_response_24h.den, .first_response_24h.percent, .resolved_in_month.percent] = [0,0,null,null]
.groups[3].satisfaction | [.num, .den, .percent] = [1,2,50]
.groups[3].nps = {"score":-100,"den":2,"promoters":0,"passives":0,"detractors":2}
.groups[3].escalations.all = {"num":0,"den":0,"per_100":null}
.groups[0].approval_cycle | [.den, .median_s, .p90_s] = [2,136800,259200]
.groups[1].approval_cycle | [.den, .median_s, .p90_s] = [3,7200,14400]
.groups[2].approval_cycle | [.den, .median_s, .p90_s] = [1,86400,86400]
.groups[3].approval_cycle = {"den":0,"median_s":null,"p90_s":null,"absent":"no request completed in the period"}
END
# Approvals: cs A4 259200 and A5 136800 -> 136800, 259200; eng A1 7200, A3
# 14400, A6 7200 -> rank 2 = 7200, rank 3 = 14400; property A2 alone: 86400
# is both; no department (campaign answers only): absent, not 0.

run report --month 2025-03 --by project
grep -Eq '^HZ-XH .* 2\.0 h / 38\.0 h \(4\)' <<<"$OUT" ||
    it_fail "report --month 2025-03 --by project (table): no approval cell 2.0 h / 38.0 h (4) for HZ-XH: $OUT"

WHAT="report --month 2025-03 --by kind"
run report --month 2025-03 --by kind --json
expect_rc 0 "$WHAT"
# complaint: the five; answers S1 5, S2 4, S8 5, S9 5 = 4/4. The repair R1: no
# complaint, so both complaint rates are absent, not 0 %; its answer S3 scored
# 3 = 0/1 = 0.0 (an answer that is not satisfied). The inquiry I1 likewise.
expect <<'END'
[.groups[].key] = ["complaint","inquiry","repair",null]
.groups[0] | [.tickets, .first_response_24h.num, .first_response_24h.den, .satisfaction.num, .satisfaction.den] = [5,3,5,4,4]
.groups[1] | [.tickets, .first_response_24h.percent, .resolved_in_month.den, .resolved_in_month.percent] = [1,null,0,null]
.groups[2] | [.tickets, .first_response_24h.den, .first_response_24h.percent, .resolved_in_month.percent] = [1,0,null,null]
.groups[2].satisfaction | [.num, .den, .percent] = [0,1,0]
.groups[0].approval_cycle | [.den, .median_s, .p90_s] = [3,7200,86400]
.groups[1].approval_cycle | [.den, .median_s, .p90_s] = [2,136800,259200]
.groups[2].approval_cycle | [.den, .median_s, .p90_s] = [1,14400,14400]
END
# Approvals: complaints A1 7200, A2 86400, A6 7200 -> 7200, 86400; inquiries
# A4 259200 and A5 136800 -> 136800, 259200; the repair A3 alone: 14400.

# ---- A month with tickets but no complaint, and April ----------------------------
WHAT="report --month 2025-02"
run report --month 2025-02 --json
expect_rc 0 "$WHAT"
# One inquiry, no complaint, no answer: rates absent (null), not 0 % or 100 %;
# escalations 0 of 1 ticket = 0.0.
expect <<'END'
.total.tickets = 1
.total.first_response_24h = {"num":0,"den":0,"percent":null,"pending":0}
.total.resolved_in_month = {"num":0,"den":0,"percent":null}
.total.satisfaction = {"num":0,"den":0,"percent":null}
.total.nps = {"score":null,"den":0,"promoters":0,"passives":0,"detractors":0}
.total.escalations.all = {"num":0,"den":1,"per_100":0}
.total.approval_cycle = {"den":0,"median_s":null,"p90_s":null,"absent":"no request completed in the period","steps":[],"steps_omitted":0,"approvers":[],"approvers_omitted":0}
END
# No approval request completed in February (A5 completed at March's first
# instant): absent, never 0 s.
run report --month 2025-02
grep -Eq 'resolved within the month +absent +0 / 0' <<<"$OUT" ||
    it_fail "report --month 2025-02 (table) does not show an absent rate: $OUT"
grep -Eq 'approval cycle time +absent +0 requests +no request completed in the period' <<<"$OUT" ||
    it_fail "report --month 2025-02 (table) does not show an absent approval cycle time: $OUT"

WHAT="report --month 2025-04"
run report --month 2025-04 --json
expect_rc 0 "$WHAT"
# C5 (received 04-01 00:30 local, answered 2 h later, resolved 04-30 23:59:59
# local) and S6 (answered 04-01 00:00:00 local, 5, nps 10); C5's escalation.
expect <<'END'
.total.tickets = 1
.total.first_response_24h = {"num":1,"den":1,"percent":100,"pending":0}
.total.resolved_in_month = {"num":1,"den":1,"percent":100}
.total.satisfaction = {"num":1,"den":1,"percent":100}
.total.escalations.level_1 = {"num":1,"den":1,"per_100":100}
.total.approval_cycle | [.den, .median_s, .p90_s] = [1,14400,14400]
[.total.approval_cycle.steps[] | [.label, .den, .median_s]] = [["engineering",1,7200],["finance",1,7200]]
[.total.approval_cycle.approvers[] | [.staff, .den, .p90_s]] = [["eng.sun",1,7200],["fin.lin",1,7200]]
END
# X1, completed at April's first instant, is April's: one request of 4 h;
# its steps 2 h each.

# ---- Another zone: the same month in UTC ----------------------------------------
WHAT="report --month 2025-03 --tz UTC"
run report --month 2025-03 --tz UTC --json
expect_rc 0 "$WHAT"
# [2025-03-01T00:00Z, 2025-04-01T00:00Z): C5 (03-31 16:30Z) joins: 8 tickets,
# 6 complaints. Resolved before 04-01T00:00Z: C1 (15:59:59Z), C2 (16:00:00Z on
# 03-31, now within), C3 (first 03-20) = 3; C4 never, C5 on 04-30, C6 on 04-02
# miss: 3 of 6 = 50.0.
expect <<'END'
[.period.from, .period.to, .period.tz] = [1740787200000,1743465600000,"UTC"]
.total.tickets = 8
.total.resolved_in_month = {"num":3,"den":6,"percent":50}
.total.approval_cycle | [.den, .median_s, .p90_s] = [6,14400,259200]
END
# Approvals in UTC: A5 (completed 02-28 16:00Z) leaves, X1 (03-31 16:00Z)
# joins: 7200 7200 14400 14400 86400 259200 -> rank 3 = 14400, rank 6 = 259200.

# ---- Half-open: the last day of March (local) -----------------------------------
WHAT="report --from 2025-03-31 --to 2025-04-01"
run report --from 2025-03-31 --to 2025-04-01 --json
expect_rc 0 "$WHAT"
# [03-31 00:00 +08, 04-01 00:00 +08): C6 (23:00) is in, C5 (04-01 00:30) out.
# C6 answered in 2 h (1/1), not resolved before April (0/1). Answers: S5 at
# 23:59:59 (score 1, nps 0) in, S6 at 04-01 00:00:00 out: 0/1, NPS -100.0.
expect <<'END'
.total.tickets = 1
.total.first_response_24h | [.num, .den] = [1,1]
.total.resolved_in_month = {"num":0,"den":1,"percent":0}
.total.satisfaction = {"num":0,"den":1,"percent":0}
.total.nps.score = -100
.total.approval_cycle | [.den, .median_s, .absent] = [0,null,"no request completed in the period"]
END
# X1 completed at 04-01 00:00:00 local, the range's end: out.

# ---- Relative to now: unanswered complaints younger and older than 24 h -----------
WHAT="report over the last 3 days"
now=$(date +%s%3N)
run report --from $((now - 3 * 86400000)) --to $((now + 3600000)) --json
expect_rc 0 "$WHAT"
# N1 unanswered, 23 h old: left out (pending 1). N2 unanswered, 25 h old: a
# miss. N3 answered after 2 h, N4 at exactly 24 h, N5 within its first hour:
# hits. 3 of 4 = 75.0. None resolved: 0 of 5. The range is not over.
expect <<'END'
.total.tickets = 5
.total.first_response_24h = {"num":3,"den":4,"percent":75,"pending":1}
.total.resolved_in_month = {"num":0,"den":5,"percent":0}
.period.complete = false
END

# ---- The series and the chart ----------------------------------------------------
WHAT="report --month 2025-04 --chart"
svg=$IT_DIR/kpi.svg
run report --month 2025-04 --chart "$svg" --json
expect_rc 0 "$WHAT"
# The 12 months ending with April 2025, each with its figures; months without
# items are there with absent rates (10 of them for satisfaction).
expect <<'END'
[.series[].month] | length = 12
[.series[0].month, .series[11].month] = ["2024-05","2025-04"]
.series[10] | [.month, .from, .satisfaction.percent, .resolved_in_month.num, .resolved_in_month.den, .resolved_in_month.percent] = ["2025-03",1740758400000,71.4,2,5,40]
.series[9] | [.month, .tickets, .satisfaction.percent, .resolved_in_month.percent] = ["2025-02",1,null,null]
.series[11] | [.satisfaction.percent, .resolved_in_month.percent] = [100,100]
[.series[] | select(.satisfaction.den == 0)] | length = 10
END
[[ -s $svg ]] || it_fail "$WHAT: no chart written to $svg"
grep -q '</svg>' "$svg" || it_fail "$WHAT: the chart is not a whole SVG"
# A point only where there is a value: March and April for each series; the
# other 10 months are gaps (shown as 无数据 in the table under the axis).
[[ $(grep -o 'class="point satisfaction"' "$svg" | wc -l) == 2 ]] ||
    it_fail "$WHAT: satisfaction has not exactly 2 points"
[[ $(grep -o 'class="point resolved"' "$svg" | wc -l) == 2 ]] ||
    it_fail "$WHAT: resolved-in-month has not exactly 2 points"
grep -q 'class="point satisfaction" data-month="2025-03"' "$svg" ||
    it_fail "$WHAT: no satisfaction point for 2025-03"
[[ $(grep -o 'class="absent"' "$svg" | wc -l) == 20 ]] ||
    it_fail "$WHAT: not 20 absent cells (10 months x 2 series)"
[[ $(grep -o 'class="target"' "$svg" | wc -l) == 2 && $(grep -o 'class="baseline"' "$svg" | wc -l) == 2 ]] ||
    it_fail "$WHAT: not 2 target and 2 baseline lines"
grep -q '满意度' "$svg" && grep -q 'Satisfaction' "$svg" || it_fail "$WHAT: titles not in both languages"
if command -v xmllint >/dev/null; then
    xmllint --noout "$svg" || it_fail "$WHAT: the SVG is not well-formed XML"
fi
# Chinese is drawn in the first CJK font the viewer has, named in order; the package is documented.
grep -q "font-family=\"'Noto Sans CJK SC',.*'Source Han Sans SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif\"" "$svg" ||
    it_fail "$WHAT: the SVG names no CJK font fallback list: $(grep -o 'font-family="[^"]*"' "$svg" | head -1)"
kefu report --help | grep -q 'apt-get install fonts-noto-cjk' || it_fail "kefu report --help does not name the font package"
# Every month of April 2025's chart is over: nothing is provisional.
! grep -q 'provisional' "$svg" || it_fail "$WHAT: a month that is over is marked provisional"

# This month is not over: its column, its points and the note say so.
it_psql "INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id, summary,
                             created_by, owner_id, department_id, received_at, routed_at)
         SELECT 'KF-2026-900099', 'complaint', 'other', 'phone', 'normal', 'routed', project_id, homeowner_id,
                'received now', created_by, owner_id, department_id, now(), now()
           FROM ticket WHERE no = 'KF-2026-900021'" >/dev/null
WHAT="report --chart (this month)"
svg=$IT_DIR/now.svg
run report --chart "$svg" --json
expect_rc 0 "$WHAT"
current=$(jq -r .period.month <<<"$OUT")
[[ $(grep -o '<g class="provisional"' "$svg" | wc -l) == 1 ]] &&
grep -q "<g class=\"provisional\" data-month=\"$current\"" "$svg" ||
    it_fail "$WHAT: $current is not the one provisional month"
grep -q "class=\"point resolved provisional\" data-month=\"$current\"" "$svg" ||
    it_fail "$WHAT: $current's resolved-in-month point (0 of 1) is not drawn provisional"
grep -q '（未完）' "$svg" && grep -q 'Provisional: the month is not over yet' "$svg" ||
    it_fail "$WHAT: no （未完）/ provisional label"
if command -v xmllint >/dev/null; then
    xmllint --noout "$svg" || it_fail "$WHAT: the SVG is not well-formed XML"
fi

# ---- Bad input: named errors -----------------------------------------------------
bad() { # EXIT CODE FIELD ARGS...: kefu report ARGS --json fails so
    local want_rc=$1 code=$2 field=$3
    shift 3
    WHAT="report $*"
    run report "$@" --json
    expect_rc "$want_rc" "$WHAT"
    expect <<<"[.error.code, .error.field] = [\"$code\",$field]"
}
bad 1 bad_value '"month"' --month 2026-13
bad 1 bad_value '"month"' --month 2026-3
bad 1 bad_value '"to"' --from 2025-03-10 --to 2025-03-01
bad 1 bad_value '"to"' --from 2025-03-10 --to 2025-03-10
# The same instant written two ways: only kefu-survey can tell the range is empty.
bad 1 bad_value '"to"' --from 1743436800000 --to 2025-04-01
bad 1 missing_field '"to"' --from 2025-03-10
bad 1 bad_value '"from"' --from 2025-02-29 --to 2025-03-10
bad 1 bad_value '"month"' --month 2025-03 --from 2025-03-01 --to 2025-04-01
bad 1 bad_value '"tz"' --tz Mars/Olympus
bad 1 bad_value '"series"' --from 2020-01-01 --to 2025-04-01 --chart "$IT_DIR/long.svg"
bad 2 usage '"by"' --by floor
# Who asks is the certificate's holder: a revoked certificate is refused.
kefu-admin cert cs.wang --out "$IT_DIR/certs/revoked.cert" >/dev/null &&
    kefu-admin revoke "$IT_DIR/certs/revoked.cert" >/dev/null || it_fail "cannot make a revoked certificate"
bad 1 unknown_actor '"cert"' --cert "$IT_DIR/certs/revoked.cert" --month 2025-03
[[ ! -e $IT_DIR/long.svg ]] || it_fail "a refused report left a chart file behind"

it_note "every figure matches the hand computation"
