-- kefu — tickets, escalations and survey answers with known KPIs, for
-- tests/integration/test_report.sh (which holds the hand computation of every
-- figure). Loaded on top of deploy/demo-org.sql. Times are written with
-- their offset: +08 is Asia/Shanghai, the report's zone.
--
-- 2025-02  one inquiry, no complaint, no answer: the complaint rates and
--          satisfaction are absent there, not 0 %.
-- 2025-03  five complaints with the edges (C1-C4, C6), a repair and an
--          inquiry; escalations at levels 1 and 2; seven survey answers.
-- 2025-04  one complaint received at 00:30 local on the 1st (still March
--          in UTC), one answer at 00:00:00 local on the 1st.
-- now      complaints received relative to now(): younger than 24 h and
--          unanswered (left out), older and unanswered (a miss), answered.
-- approvals  requests of known durations completed in March (one at its
--          first instant), one completed at the first instant of April
--          (April's: the range is half-open), one still pending; their
--          steps, including a moved step, an auto-approved one and skipped
--          ones.
BEGIN;

INSERT INTO homeowner (phone, name) VALUES ('13900000001', '测试业主甲'), ('13900000002', '测试业主乙')
ON CONFLICT (phone) DO NOTHING;

-- The columns every fixture ticket shares; each row below sets the rest.
CREATE TEMP TABLE fx (
    no text, kind text, project text, department text, owner text,
    received timestamptz, responded timestamptz, first_resolved timestamptz,
    resolved timestamptz
) ON COMMIT DROP;

INSERT INTO fx VALUES
-- 2025-02: no complaint at all.
('KF-2025-900001', 'inquiry',   'HZ-XH', 'cs',       'agent.chen', '2025-02-14 10:00:00+08', '2025-02-14 11:00:00+08', '2025-02-14 12:00:00+08', '2025-02-14 12:00:00+08'),
-- 2025-03.
-- C1: responded exactly 24 h after receipt (within); resolved 2025-03-31
--     23:59:59 local = 15:59:59 UTC (within March).
('KF-2025-900011', 'complaint', 'HZ-XH', 'eng',      'eng.zhao',   '2025-03-05 10:00:00+08', '2025-03-06 10:00:00+08', '2025-03-31 23:59:59+08', '2025-03-31 23:59:59+08'),
-- C2: responded 24 h + 1 s after receipt (a miss); resolved 2025-04-01
--     00:00:00 local, the first instant of April (not within March).
('KF-2025-900012', 'complaint', 'HZ-XH', 'eng',      'eng.liu',    '2025-03-10 09:00:00+08', '2025-03-11 09:00:01+08', '2025-04-01 00:00:00+08', '2025-04-01 00:00:00+08'),
-- C3: reopened: first resolved 2025-03-20 (within March), resolved again
--     2025-04-10; it counts by its first resolution.
('KF-2025-900013', 'complaint', 'SH-PD', 'property', 'prop.huang', '2025-03-12 08:00:00+08', '2025-03-12 09:00:00+08', '2025-03-20 12:00:00+08', '2025-04-10 12:00:00+08'),
-- C4: never answered, never resolved (a miss for both).
('KF-2025-900014', 'complaint', 'SH-PD', 'cs',       'cs.wang',    '2025-03-15 20:00:00+08', NULL,                     NULL,                     NULL),
-- C6: received 23:00 local on the last day, answered 2 h later (in April),
--     resolved 2025-04-02 (not within March).
('KF-2025-900016', 'complaint', 'HZ-XH', 'cs',       'agent.li',   '2025-03-31 23:00:00+08', '2025-04-01 01:00:00+08', '2025-04-02 10:00:00+08', '2025-04-02 10:00:00+08'),
-- R1, I1: not complaints; in the ticket counts and escalations only.
('KF-2025-900017', 'repair',    'HZ-XH', 'eng',      'eng.zhao',   '2025-03-03 09:00:00+08', '2025-03-07 09:00:00+08', '2025-03-09 09:00:00+08', '2025-03-09 09:00:00+08'),
('KF-2025-900018', 'inquiry',   'SH-PD', 'cs',       'agent.chen', '2025-03-20 15:00:00+08', NULL,                     NULL,                     NULL),
-- 2025-04.
-- C5: received 2025-04-01 00:30 local = 2025-03-31 16:30 UTC: April's.
('KF-2025-900015', 'complaint', 'SH-PD', 'eng',      'eng.liu',    '2025-04-01 00:30:00+08', '2025-04-01 02:30:00+08', '2025-04-30 23:59:59+08', '2025-04-30 23:59:59+08'),
-- Relative to now (the range test): N1 unanswered, 23 h old (left out);
-- N2 unanswered, 25 h old (a miss); N3 answered 2 h after receipt, 30 h
-- ago (a hit); N4 answered exactly 24 h after receipt (a hit); N5 answered
-- within its first hour (a hit, though younger than 24 h).
('KF-2026-900021', 'complaint', 'HZ-XH', 'eng',      'eng.zhao',   now() - interval '23 hours', NULL, NULL, NULL),
('KF-2026-900022', 'complaint', 'HZ-XH', 'eng',      'eng.zhao',   now() - interval '25 hours', NULL, NULL, NULL),
('KF-2026-900023', 'complaint', 'SH-PD', 'cs',       'agent.li',   now() - interval '30 hours', now() - interval '28 hours', NULL, NULL),
('KF-2026-900024', 'complaint', 'SH-PD', 'cs',       'agent.li',   now() - interval '50 hours', now() - interval '26 hours', NULL, NULL),
('KF-2026-900025', 'complaint', 'SH-PD', 'cs',       'agent.li',   now() - interval '1 hour',   now() - interval '30 minutes', NULL, NULL);

INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id,
                    summary, created_by, owner_id, department_id, received_at, routed_at,
                    responded_at, first_resolved_at, resolved_at)
SELECT fx.no, fx.kind, 'other', 'phone', 'normal',
       CASE WHEN fx.resolved IS NOT NULL THEN 'resolved'
            WHEN fx.responded IS NOT NULL THEN 'responded' ELSE 'routed' END,
       fx.project, (SELECT id FROM homeowner WHERE phone = '13900000001'),
       'report fixture ' || fx.no, 'agent.li', fx.owner, fx.department, fx.received,
       fx.received + interval '1 second', fx.responded, fx.first_resolved, fx.resolved
  FROM fx;

-- Escalations: C2 at levels 1 and 2, C4 and R1 at level 1 (March); C5 at
-- level 1 (April: not March's).
INSERT INTO ticket_history (ticket_id, at, action, from_owner, to_owner, reason, level)
SELECT t.id, t.received_at + e.after, 'escalated', t.owner_id, e.to_owner, 'first_response_overdue', e.level
  FROM (VALUES ('KF-2025-900012', 1, 'eng.sun', interval '25 hours'),
               ('KF-2025-900012', 2, 'vp.zhou', interval '49 hours'),
               ('KF-2025-900014', 1, 'cs.wang', interval '25 hours'),
               ('KF-2025-900017', 1, 'eng.liu', interval '25 hours'),
               ('KF-2025-900015', 1, 'eng.sun', interval '25 hours')) AS e (no, level, to_owner, after)
  JOIN ticket t ON t.no = e.no;
-- C3's reopening, for the record (the report reads first_resolved_at).
INSERT INTO ticket_history (ticket_id, at, action, actor, reason)
SELECT id, '2025-03-28 10:00:00+08', 'reopened', 'agent.li', 'low satisfaction score 2'
  FROM ticket WHERE no = 'KF-2025-900013';

-- Survey answers. March: scores 5, 4, 3, 4, 1, 5, 5 (S1-S5, S8, S9) and
-- 0-10 scores 10, 9, 7, 6, 0, -, 10. April: S6 at 00:00:00 local on the 1st.
-- S7 was sent and never answered.
INSERT INTO survey (ticket_id, homeowner_id, kind, milestone, project_id, resolution_no, due_at,
                    sent_at, answered_at, score, nps, answered_by)
SELECT (SELECT id FROM ticket WHERE no = a.no), (SELECT id FROM homeowner WHERE phone = '13900000002'),
       a.kind, a.milestone, a.project, CASE WHEN a.no IS NULL THEN NULL ELSE 1 END,
       a.answered - interval '2 days', a.answered - interval '1 day', a.answered, a.score, a.nps,
       CASE WHEN a.answered IS NULL THEN NULL ELSE 'agent.li' END
  FROM (VALUES
    ('KF-2025-900011', 'resolution', NULL,      'HZ-XH', '2025-03-20 10:00:00+08'::timestamptz, 5, 10),   -- S1
    ('KF-2025-900013', 'resolution', NULL,      'SH-PD', '2025-03-21 10:00:00+08', 4, 9),                  -- S2
    ('KF-2025-900017', 'resolution', NULL,      'HZ-XH', '2025-03-22 10:00:00+08', 3, 7),                  -- S3
    (NULL,             'campaign',   'move-in', 'HZ-XH', '2025-03-25 10:00:00+08', 4, 6),                  -- S4
    (NULL,             'campaign',   'move-in', 'SH-PD', '2025-03-31 23:59:59+08', 1, 0),                  -- S5
    ('KF-2025-900012', 'resolution', NULL,      'HZ-XH', '2025-03-26 10:00:00+08', 5, NULL),               -- S8
    ('KF-2025-900016', 'resolution', NULL,      'HZ-XH', '2025-03-27 10:00:00+08', 5, 10),                 -- S9
    ('KF-2025-900015', 'resolution', NULL,      'SH-PD', '2025-04-01 00:00:00+08', 5, 10)                  -- S6
  ) AS a (no, kind, milestone, project, answered, score, nps);
INSERT INTO survey (ticket_id, homeowner_id, kind, project_id, resolution_no, due_at, sent_at)
SELECT id, homeowner_id, 'resolution', project_id, 1, '2025-03-10 10:00:00+08', '2025-03-10 10:00:00+08'
  FROM ticket WHERE no = 'KF-2025-900014';                                                               -- S7

-- Approval requests: a policy of two stages (engineering, then finance or
-- cost audit, either one), rows written as kefu-approval would have left
-- them. Durations (request -> completion), all +08:
--   A1 C1 (HZ-XH eng complaint)    03-02 09:00 -> 03-02 11:00      7200 s approved
--   A2 C3 (SH-PD property compl.)  03-05 10:00 -> 03-06 10:00     86400 s approved
--   A3 R1 (HZ-XH eng repair)       03-10 08:00 -> 03-10 12:00     14400 s rejected
--   A4 I1 (SH-PD cs inquiry)       03-20 16:00 -> 03-23 16:00    259200 s approved
--   A5 Feb inquiry (HZ-XH cs)      02-27 10:00 -> 03-01 00:00:00 136800 s (March's first instant: in)
--   A6 C2 (HZ-XH eng complaint)    03-15 09:00 -> 03-15 11:00      7200 s (a tie with A1)
--   X1 C4 (SH-PD cs complaint)     03-31 20:00 -> 04-01 00:00:00  14400 s (April's first instant: out)
--   X2 C6 (HZ-XH cs complaint)     03-25 10:00 -> pending (out, though a step is decided)
SELECT kefu_approval_policy_put($$
{"id": "fx-report", "name": "report fixture", "type": "settlement", "default": false, "stages": [
  {"rule": "all", "steps": [{"label": "engineering", "approver": {"head": "eng"}, "deadline_s": 14400, "on_timeout": "delegate"}]},
  {"rule": "any", "steps": [
    {"label": "finance", "approver": {"head": "finance"}, "deadline_s": 172800, "on_timeout": "approve"},
    {"label": "cost audit", "approver": {"head": "audit"}, "deadline_s": 172800, "on_timeout": "delegate"}]}
 ]}
$$::jsonb);

CREATE TEMP TABLE fx_ap (idem text, no text, status text, requested timestamptz, completed timestamptz)
ON COMMIT DROP;
INSERT INTO fx_ap VALUES
('A1', 'KF-2025-900011', 'approved', '2025-03-02 09:00:00+08', '2025-03-02 11:00:00+08'),
('A2', 'KF-2025-900013', 'approved', '2025-03-05 10:00:00+08', '2025-03-06 10:00:00+08'),
('A3', 'KF-2025-900017', 'rejected', '2025-03-10 08:00:00+08', '2025-03-10 12:00:00+08'),
('A4', 'KF-2025-900018', 'approved', '2025-03-20 16:00:00+08', '2025-03-23 16:00:00+08'),
('A5', 'KF-2025-900001', 'approved', '2025-02-27 10:00:00+08', '2025-03-01 00:00:00+08'),
('A6', 'KF-2025-900012', 'approved', '2025-03-15 09:00:00+08', '2025-03-15 11:00:00+08'),
('X1', 'KF-2025-900014', 'approved', '2025-03-31 20:00:00+08', '2025-04-01 00:00:00+08'),
('X2', 'KF-2025-900016', 'pending',  '2025-03-25 10:00:00+08', NULL);

INSERT INTO approval_request (idem, ticket_id, request_type, amount_fen, reason, promised_date,
                              promised_at, policy_id, status, stage, requested_by, requested_at,
                              completed_at)
SELECT 'report-fixture-' || a.idem, t.id, 'settlement', 100000, 'report fixture', '2025-06-30',
       '2025-07-01 00:00:00+08', 'fx-report', a.status,
       CASE WHEN a.idem IN ('A3') THEN 1 ELSE 2 END, 'agent.li', a.requested, a.completed
  FROM fx_ap a JOIN ticket t ON t.no = a.no;

-- Steps (stage, step: 1.1 engineering, 2.1 finance, 2.2 cost audit), with
-- when each came to its last assignee and when it was decided. Per step
-- (from reaching the stage: the request's start, or stage 1's decision):
--   engineering  A1 3600 A2 36000 A3 14400 A4 86400 A5 86400 A6 1800
--   finance      A1 3600 A4 172800 (auto-approved) A5 50400
--   cost audit   A2 50400 A6 5400
-- Per approver (from the assignment to them):
--   eng.sun      A1 3600 A3 14400 A4 86400 A5 86400 A6 1800
--   eng.liu      A2 7200 (moved to him at 18:00 from eng.sun, decided 20:00)
--   fin.lin      A1 3600 A4 172800 (auto_approve: his, decided by no one) A5 50400
--   audit.guo    A2 50400 A6 5400
-- X1: engineering and finance 7200 each (April's). X2: engineering decided
-- (out: the request is pending), finance pending.
CREATE TEMP TABLE fx_st (idem text, stage int, step int, status text, assigned_to text,
                         moved_from text[], assigned timestamptz, outcome text, decided_by text,
                         on_behalf_of text, decided timestamptz) ON COMMIT DROP;
INSERT INTO fx_st VALUES
('A1', 1, 1, 'approved', 'eng.sun',   '{}',        '2025-03-02 09:00:00+08', 'approve', 'eng.sun', NULL, '2025-03-02 10:00:00+08'),
('A1', 2, 1, 'approved', 'fin.lin',   '{}',        '2025-03-02 10:00:00+08', 'approve', 'fin.lin', NULL, '2025-03-02 11:00:00+08'),
('A1', 2, 2, 'skipped',  'audit.guo', '{}',        '2025-03-02 10:00:00+08', NULL, NULL, NULL, NULL),
('A2', 1, 1, 'approved', 'eng.liu',   '{eng.sun}', '2025-03-05 18:00:00+08', 'approve', 'eng.liu', 'eng.sun', '2025-03-05 20:00:00+08'),
('A2', 2, 1, 'skipped',  'fin.lin',   '{}',        '2025-03-05 20:00:00+08', NULL, NULL, NULL, NULL),
('A2', 2, 2, 'approved', 'audit.guo', '{}',        '2025-03-05 20:00:00+08', 'approve', 'audit.guo', NULL, '2025-03-06 10:00:00+08'),
('A3', 1, 1, 'rejected', 'eng.sun',   '{}',        '2025-03-10 08:00:00+08', 'reject', 'eng.sun', NULL, '2025-03-10 12:00:00+08'),
('A3', 2, 1, 'skipped',  NULL,        '{}',        NULL, NULL, NULL, NULL, NULL),
('A3', 2, 2, 'skipped',  NULL,        '{}',        NULL, NULL, NULL, NULL, NULL),
('A4', 1, 1, 'approved', 'eng.sun',   '{}',        '2025-03-20 16:00:00+08', 'approve', 'eng.sun', NULL, '2025-03-21 16:00:00+08'),
('A4', 2, 1, 'approved', 'fin.lin',   '{}',        '2025-03-21 16:00:00+08', 'auto_approve', NULL, 'fin.lin', '2025-03-23 16:00:00+08'),
('A4', 2, 2, 'skipped',  'audit.guo', '{}',        '2025-03-21 16:00:00+08', NULL, NULL, NULL, NULL),
('A5', 1, 1, 'approved', 'eng.sun',   '{}',        '2025-02-27 10:00:00+08', 'approve', 'eng.sun', NULL, '2025-02-28 10:00:00+08'),
('A5', 2, 1, 'approved', 'fin.lin',   '{}',        '2025-02-28 10:00:00+08', 'approve', 'fin.lin', NULL, '2025-03-01 00:00:00+08'),
('A5', 2, 2, 'skipped',  'audit.guo', '{}',        '2025-02-28 10:00:00+08', NULL, NULL, NULL, NULL),
('A6', 1, 1, 'approved', 'eng.sun',   '{}',        '2025-03-15 09:00:00+08', 'approve', 'eng.sun', NULL, '2025-03-15 09:30:00+08'),
('A6', 2, 1, 'skipped',  'fin.lin',   '{}',        '2025-03-15 09:30:00+08', NULL, NULL, NULL, NULL),
('A6', 2, 2, 'approved', 'audit.guo', '{}',        '2025-03-15 09:30:00+08', 'approve', 'audit.guo', NULL, '2025-03-15 11:00:00+08'),
('X1', 1, 1, 'approved', 'eng.sun',   '{}',        '2025-03-31 20:00:00+08', 'approve', 'eng.sun', NULL, '2025-03-31 22:00:00+08'),
('X1', 2, 1, 'approved', 'fin.lin',   '{}',        '2025-03-31 22:00:00+08', 'approve', 'fin.lin', NULL, '2025-04-01 00:00:00+08'),
('X1', 2, 2, 'skipped',  'audit.guo', '{}',        '2025-03-31 22:00:00+08', NULL, NULL, NULL, NULL),
('X2', 1, 1, 'approved', 'eng.sun',   '{}',        '2025-03-25 10:00:00+08', 'approve', 'eng.sun', NULL, '2025-03-25 12:00:00+08'),
('X2', 2, 1, 'pending',  'fin.lin',   '{}',        '2025-03-25 12:00:00+08', NULL, NULL, NULL, NULL),
('X2', 2, 2, 'pending',  'audit.guo', '{}',        '2025-03-25 12:00:00+08', NULL, NULL, NULL, NULL);

INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, on_timeout, status,
                           assigned_to, acting_for, moved_from, moves, assigned_at, outcome,
                           decided_by, on_behalf_of, decided_at)
SELECT r.id, s.stage, s.step, ps.label, kefu_approval_approver(ps.approver_kind, ps.approver, r.ticket_id),
       ps.deadline_s, ps.on_timeout, s.status, s.assigned_to, s.moved_from[1], s.moved_from,
       cardinality(s.moved_from), s.assigned, s.outcome, s.decided_by, s.on_behalf_of, s.decided
  FROM fx_st s
  JOIN approval_request r ON r.idem = 'report-fixture-' || s.idem
  JOIN approval_policy_step ps ON ps.policy_id = 'fx-report' AND ps.stage = s.stage AND ps.step = s.step;

COMMIT;
