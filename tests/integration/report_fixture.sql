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

COMMIT;
