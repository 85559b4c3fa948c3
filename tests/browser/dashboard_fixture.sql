-- kefu — a month of activity for the dashboard's browser test
-- (test_dashboard.sh): tickets, responses, resolutions, escalations and
-- survey answers received moments ago (this month, whatever the day), the
-- eleven months before (two of them empty: gaps in the chart), an owner at
-- risk, a promoter and an approval request at risk of missing its promised
-- date. Loaded on top of the demo organisation and approval_fixture.sql;
-- the test compares what the dashboard shows with `kefu report`, so the
-- figures need no hand computation here.
BEGIN;
INSERT INTO homeowner (phone, name) VALUES
    ('13922220001', '风险业主'), ('13922220002', '推荐业主'), ('13922220003', '审批业主')
ON CONFLICT (phone) DO NOTHING;

CREATE TEMP TABLE fx (
    no text, kind text, project text, department text, owner text, phone text,
    received timestamptz, responded timestamptz, resolved timestamptz
) ON COMMIT DROP;

-- This month: minutes ago, so they are this month's on any day but the
-- first hour of the first.
INSERT INTO fx VALUES
('KF-2026-700001', 'complaint', 'HZ-XH', 'eng',      'eng.zhao',   '13922220001',
 now() - interval '40 minutes', now() - interval '30 minutes', now() - interval '20 minutes'),
('KF-2026-700002', 'complaint', 'HZ-XH', 'eng',      'eng.zhao',   '13922220001',
 now() - interval '35 minutes', NULL, NULL),
('KF-2026-700003', 'complaint', 'SH-PD', 'cs',       'agent.li',   '13922220003',
 now() - interval '30 minutes', now() - interval '25 minutes', NULL),
('KF-2026-700004', 'repair',    'SH-PD', 'property', 'prop.huang', '13922220002',
 now() - interval '25 minutes', now() - interval '20 minutes', now() - interval '10 minutes'),
('KF-2026-700005', 'inquiry',   'HZ-XH', 'cs',       'agent.chen', '13922220002',
 now() - interval '20 minutes', NULL, NULL);

-- The eleven months before, in the report's zone: four complaints a month,
-- answered within 2 h, some resolved within their month; none in the 4th
-- and 7th months back (the chart's gaps).
INSERT INTO fx
SELECT format('KF-2026-71%s%s', lpad(m::text, 2, '0'), lpad(k::text, 2, '0')), 'complaint',
       CASE WHEN k % 2 = 0 THEN 'HZ-XH' ELSE 'SH-PD' END, 'eng', 'eng.zhao', '13922220003',
       s.start + make_interval(days => k, hours => 10),
       s.start + make_interval(days => k, hours => 12),
       CASE WHEN (k + m) % 3 <> 0 THEN s.start + make_interval(days => k + 3) END
  FROM generate_series(1, 11) m
 CROSS JOIN generate_series(1, 4) k
 CROSS JOIN LATERAL (SELECT (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')
                             - make_interval(months => m)) AT TIME ZONE 'Asia/Shanghai' AS start) s
 WHERE m NOT IN (4, 7);

INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id,
                    summary, created_by, owner_id, department_id, received_at, routed_at,
                    responded_at, first_resolved_at, resolved_at)
SELECT fx.no, fx.kind, 'other', 'phone', 'normal',
       CASE WHEN fx.resolved IS NOT NULL THEN 'resolved'
            WHEN fx.responded IS NOT NULL THEN 'responded' ELSE 'routed' END,
       fx.project, (SELECT id FROM homeowner WHERE phone = fx.phone),
       '看板测试 ' || fx.no, 'agent.li', fx.owner, fx.department, fx.received,
       fx.received + interval '1 second', fx.responded, fx.resolved, fx.resolved
  FROM fx;

-- An escalation this month.
INSERT INTO ticket_history (ticket_id, at, action, from_owner, to_owner, reason, level)
SELECT id, now() - interval '5 minutes', 'escalated', owner_id, 'eng.sun', 'first_response_overdue', 1
  FROM ticket WHERE no = 'KF-2026-700002';

-- Survey answers: this month a low score (the owner at risk), a promoter
-- and a campaign answer; earlier months one or two answers each.
INSERT INTO survey (ticket_id, homeowner_id, kind, milestone, project_id, resolution_no, due_at,
                    sent_at, answered_at, score, nps, answered_by)
SELECT (SELECT id FROM ticket WHERE no = a.no), (SELECT id FROM homeowner WHERE phone = a.phone),
       a.kind, a.milestone, a.project, CASE WHEN a.no IS NULL THEN NULL ELSE 1 END,
       a.answered, a.answered, a.answered, a.score, a.nps, 'agent.li'
  FROM (VALUES
    ('KF-2026-700001', '13922220001', 'resolution', NULL, 'HZ-XH', now() - interval '15 minutes', 2, 3),
    ('KF-2026-700004', '13922220002', 'resolution', NULL, 'SH-PD', now() - interval '8 minutes', 5, 10),
    (NULL, '13922220003', 'campaign', 'move-in', 'HZ-XH', now() - interval '6 minutes', 4, 8)
  ) AS a (no, phone, kind, milestone, project, answered, score, nps);
INSERT INTO survey (ticket_id, homeowner_id, kind, project_id, resolution_no, due_at, sent_at,
                    answered_at, score, nps, answered_by)
SELECT t.id, t.homeowner_id, 'resolution', t.project_id, 1, t.resolved_at, t.resolved_at,
       t.resolved_at + interval '1 day', 3 + (substr(t.no, 11, 2)::int + substr(t.no, 13, 2)::int) % 3,
       6 + substr(t.no, 13, 2)::int, 'agent.li'
  FROM ticket t
 WHERE t.no LIKE 'KF-2026-71%' AND t.resolved_at IS NOT NULL AND substr(t.no, 13, 2) IN ('01', '02');

-- An approval request promised for tomorrow: at risk, waiting on fin.lin.
INSERT INTO approval_request (ticket_id, request_type, amount_fen, reason, promised_date,
                              promised_at, policy_id, requested_by, status)
SELECT t.id, 'refund', 1280000, '看板测试：退还维修费', (now() + interval '20 hours')::date,
       now() + interval '20 hours', 't-race', 'agent.li', 'pending'
  FROM ticket t WHERE t.no = 'KF-2026-700003';
INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, on_timeout,
                           status, assigned_to, assigned_at, deadline_at)
SELECT r.id, 1, 1, 'finance', 'fin.lin', 14400, 'escalate', 'pending', 'fin.lin', now(),
       now() + interval '4 hours'
  FROM approval_request r JOIN ticket t ON t.id = r.ticket_id
 WHERE t.no = 'KF-2026-700003';

-- An approval request completed this month: 40 minutes from request to
-- fin.lin's approval (the cycle time, per step and per approver).
INSERT INTO approval_request (ticket_id, request_type, amount_fen, reason, promised_date,
                              promised_at, policy_id, requested_by, status, requested_at,
                              completed_at)
SELECT t.id, 'refund', 50000, '看板测试：补偿', (now() + interval '5 days')::date,
       now() + interval '5 days', 't-race', 'agent.li', 'approved', now() - interval '50 minutes',
       now() - interval '10 minutes'
  FROM ticket t WHERE t.no = 'KF-2026-700004';
INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, on_timeout,
                           status, assigned_to, assigned_at, deadline_at, outcome, decided_by,
                           decided_at)
SELECT r.id, 1, 1, 'finance', 'fin.lin', 14400, 'escalate', 'approved', 'fin.lin',
       now() - interval '50 minutes', now() + interval '3 hours', 'approve', 'fin.lin',
       now() - interval '10 minutes'
  FROM approval_request r JOIN ticket t ON t.id = r.ticket_id
 WHERE t.no = 'KF-2026-700004';
COMMIT;
