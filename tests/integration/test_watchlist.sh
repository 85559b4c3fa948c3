#!/usr/bin/env bash
# `kefu watchlist` end to end: a history written relative to now() in a real
# PostgreSQL, the real kefu-survey serving `watchlist`, the real `kefu`
# client. Each list's rules at their edges:
#  - approvals_at_risk: pending and marked at risk, or promised within 48 h
#    (47 h in, 49 h out unless marked, a past promise in, a completed one
#    out even when marked); the nearest promised first; the earliest-due
#    pending step's assignee and deadline;
#  - owners_at_risk: exactly two complaints in 90 days (89 days in, 91 out),
#    a score of 2 (in) against 3 (out), 179 days in and 181 out, a ticket
#    reopened in 180 days; the most reasons first, then the latest;
#  - promoters: nps 9 and 10 in 90 days (8 out, 91 days out), the latest
#    first, with phone, name, project and ticket;
#  - limit bounds each list and sets its *_more flag; only managers, heads,
#    general managers, vice presidents and administrators may ask (an agent
#    and plain staff are refused: forbidden); the reply is the model's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init watchlist
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY=$KEFU_SURVEY_BIND
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"

it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" >/dev/null <<'SQL' || it_fail "the fixture failed"
BEGIN;
INSERT INTO homeowner (phone, name) VALUES
    ('13911110001', '两次投诉'), ('13911110002', '一次投诉'), ('13911110003', '低分'),
    ('13911110004', '三分'), ('13911110005', '三个原因'), ('13911110006', '早已重开'),
    ('13911110007', '推荐者'), ('13911110008', '审批');
CREATE TEMP TABLE fx (no text, phone text, kind text, project text, age interval) ON COMMIT DROP;
INSERT INTO fx VALUES
    -- exactly two complaints in 90 days: 10 and 89 days ago
    ('KF-2026-800001', '13911110001', 'complaint', 'HZ-XH', '10 days'),
    ('KF-2026-800002', '13911110001', 'complaint', 'SH-PD', '89 days'),
    -- one in 90 days, one 91 days ago: not repeated
    ('KF-2026-800003', '13911110002', 'complaint', 'HZ-XH', '5 days'),
    ('KF-2026-800004', '13911110002', 'complaint', 'HZ-XH', '91 days'),
    -- three reasons: two complaints, a score of 1, a reopened ticket
    ('KF-2026-800005', '13911110005', 'complaint', 'SH-PD', '3 days'),
    ('KF-2026-800006', '13911110005', 'complaint', 'SH-PD', '4 days'),
    -- reopened 181 days ago only
    ('KF-2026-800007', '13911110006', 'repair', 'HZ-XH', '200 days'),
    -- the promoter's surveyed ticket
    ('KF-2026-800008', '13911110007', 'repair', 'SH-PD', '30 days'),
    -- the approval requests' tickets
    ('KF-2026-800011', '13911110008', 'repair', 'HZ-XH', '1 day'),
    ('KF-2026-800012', '13911110008', 'repair', 'HZ-XH', '1 day'),
    ('KF-2026-800013', '13911110008', 'repair', 'HZ-XH', '1 day'),
    ('KF-2026-800014', '13911110008', 'repair', 'HZ-XH', '1 day'),
    ('KF-2026-800015', '13911110008', 'repair', 'HZ-XH', '1 day');
INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id,
                    summary, created_by, owner_id, received_at)
SELECT fx.no, fx.kind, 'other', 'phone', 'normal', 'submitted', fx.project,
       (SELECT id FROM homeowner WHERE phone = fx.phone), 'watchlist ' || fx.no, 'agent.li',
       'agent.li', now() - fx.age
  FROM fx;
INSERT INTO ticket_history (ticket_id, at, action)
SELECT t.id, now() - r.age, 'reopened'
  FROM (VALUES ('KF-2026-800005', interval '20 days'), ('KF-2026-800007', interval '181 days')) r(no, age)
  JOIN ticket t ON t.no = r.no;
-- Answers: 2 at 179 days (low), 1 at 181 days and 3 yesterday (not low);
-- the three-reason owner's 1; promoters 10 (2 days), 9 (89 days), not 8
-- nor 10 at 91 days.
INSERT INTO survey (ticket_id, homeowner_id, kind, project_id, due_at, sent_at, answered_at, score, nps)
SELECT (SELECT id FROM ticket WHERE no = a.no), (SELECT id FROM homeowner WHERE phone = a.phone),
       'campaign', a.project, now() - a.age, now() - a.age, now() - a.age, a.score, a.nps
  FROM (VALUES (NULL, '13911110003', 'HZ-XH', interval '179 days', 2, NULL),
               (NULL, '13911110004', 'HZ-XH', interval '181 days', 1, NULL),
               (NULL, '13911110004', 'HZ-XH', interval '1 day', 3, NULL),
               (NULL, '13911110005', 'SH-PD', interval '2 days', 1, 0),
               ('KF-2026-800008', '13911110007', NULL, interval '2 days', 5, 10),
               (NULL, '13911110007', 'HZ-XH', interval '89 days', 4, 9),
               (NULL, '13911110001', 'HZ-XH', interval '12 hours', 4, 8),
               (NULL, '13911110002', 'HZ-XH', interval '91 days', 5, 10))
       a(no, phone, project, age, score, nps);
-- Approval requests: A past promise; B promised in 47 h; C in 49 h but
-- marked at risk; D in 49 h, unmarked (out); E marked but approved (out).
INSERT INTO approval_request (ticket_id, request_type, amount_fen, reason, promised_date,
                              promised_at, policy_id, requested_by, status, completed_at, at_risk_at)
SELECT t.id, 'refund', r.fen, 'watchlist', (now() + r.promised)::date, now() + r.promised,
       't-race', 'agent.li', r.status, CASE WHEN r.status <> 'pending' THEN now() END,
       CASE WHEN r.risk THEN now() - interval '1 hour' END
  FROM (VALUES ('KF-2026-800011', 100001, interval '-1 day', 'pending', false),
               ('KF-2026-800012', 100002, interval '47 hours', 'pending', false),
               ('KF-2026-800013', 100003, interval '49 hours', 'pending', true),
               ('KF-2026-800014', 100004, interval '49 hours', 'pending', false),
               ('KF-2026-800015', 100005, interval '1 hour', 'approved', true))
       r(no, fen, promised, status, risk)
  JOIN ticket t ON t.no = r.no;
-- B has two pending steps: eng.sun's is due first.
INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, on_timeout,
                           status, assigned_to, assigned_at, deadline_at)
SELECT r.id, 1, s.step, s.who, s.who, 600, 'escalate', 'pending', s.who, now(), now() + s.due
  FROM approval_request r JOIN ticket t ON t.id = r.ticket_id,
       (VALUES (1, 'eng.liu', interval '2 hours'), (2, 'eng.sun', interval '1 hour')) s(step, who, due)
 WHERE t.no = 'KF-2026-800012';
COMMIT;
SQL
it_start survey
it_wait_for "kefu-survey to answer" 30 it_as admin kefu watchlist

CHECK=$KEFU_SOURCE_DIR/tests/integration/reply_check.py
# watch STAFF ARGS...: kefu watchlist --json as STAFF succeeds with the model's reply.
watch() {
    local staff=$1
    shift
    run "$staff" watchlist --json "$@"
    expect 0 "" "watchlist as $staff"
    python3 "$CHECK" watchlist <<<"$OUT" || it_fail "the watchlist reply is not the model's: $OUT"
}

watch eng.liu
got=$(jq -c '[.approvals_at_risk[].ticket]' <<<"$OUT")
[[ $got == '["KF-2026-800011","KF-2026-800012","KF-2026-800013"]' ]] ||
    it_fail "approvals at risk: $got (expected the past promise, 47 h, then 49 h marked)"
got=$(jq -r '.approvals_at_risk[1] | "\(.assigned_to)/\(.deadline_at > 0)/\(has("at_risk_at"))/\(.amount)/\(.amount_fen)/\(.type)"' <<<"$OUT")
[[ $got == eng.sun/true/false/1000.02/100002/refund ]] || it_fail "request B: $got: $OUT"
got=$(jq -r '.approvals_at_risk[2] | "\(has("at_risk_at"))/\(has("assigned_to"))/\(.promised | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))"' <<<"$OUT")
[[ $got == true/false/true ]] || it_fail "request C: $got: $OUT"

got=$(jq -c '[.owners_at_risk[] | [.phone, (.reasons | join("+")), .complaints, .low_scores, .reopened]]' <<<"$OUT")
expected='[["13911110005","repeat_complaints+low_score+reopened",2,1,1],'
expected+='["13911110001","repeat_complaints",2,0,0],["13911110003","low_score",0,1,0]]'
[[ $got == "$expected" ]] || it_fail "owners at risk: $got, expected $expected"
got=$(jq -r '.owners_at_risk[1] | "\(.name)/\(.project)/\(.last_at < now * 1000)"' <<<"$OUT")
[[ $got == 两次投诉/HZ-XH/true ]] || it_fail "owner 13911110001: $got (the project of the latest ticket)"
last=$(it_psql "SELECT kefu_ms(max(received_at)) FROM ticket t JOIN homeowner h ON h.id = t.homeowner_id
                 WHERE h.phone = '13911110001'")
[[ $(jq -r '.owners_at_risk[1].last_at' <<<"$OUT") == "$last" ]] || it_fail "last_at is not the latest complaint"

got=$(jq -c '[.promoters[] | [.phone, .nps, .project, (.ticket // "-")]]' <<<"$OUT")
[[ $got == '[["13911110007",10,"SH-PD","KF-2026-800008"],["13911110007",9,"HZ-XH","-"]]' ]] ||
    it_fail "promoters: $got"
[[ $(jq -r '.promoters[0].name' <<<"$OUT") == 推荐者 ]] || it_fail "a promoter without their name"
[[ $(jq -c '[.approvals_more, .owners_more, .promoters_more]' <<<"$OUT") == '[false,false,false]' ]] ||
    it_fail "more flags with everything listed: $OUT"
it_note "each list by its rules, at the edges"

watch vp.qian --limit 1
got=$(jq -c '[(.approvals_at_risk | length), .approvals_more, (.owners_at_risk | length), .owners_more,
              (.promoters | length), .promoters_more, .owners_at_risk[0].phone]' <<<"$OUT")
[[ $got == '[1,true,1,true,1,true,"13911110005"]' ]] || it_fail "--limit 1: $got"
watch vp.qian --limit 2
[[ $(jq -c '[.approvals_more, .owners_more, .promoters_more]' <<<"$OUT") == '[true,true,false]' ]] ||
    it_fail "--limit 2: $OUT"
it_note "limit bounds each list and says when more exist"

for who in eng.liu cs.wang gm.zheng vp.zhou admin; do
    run "$who" watchlist --limit 1
    expect 0 "" "watchlist as $who"
    grep -q "approvals at risk: 1 (more)" <<<"$OUT" || it_fail "the table as $who: $OUT"
done
for who in agent.li eng.zhao; do
    run "$who" watchlist
    expect 1 forbidden "watchlist as $who"
done
run admin watchlist --limit 0
expect 2 "" "--limit 0"
it_note "managers, heads, GMs, VPs and admins read it; agents and staff are refused"
it_note "the watchlist is as the model says"
