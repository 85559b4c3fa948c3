-- kefu store, part 32: an approval decision without planning (issue 16).
--
-- An approval decision cost PostgreSQL about 3 ms of CPU, ten times one
-- small write (tests/bench/RESULTS.md, 2026-12-07). pg_stat_statements
-- (tests/bench/approval.sh -s) showed kefu_approval_decide at 1.9 ms and
-- kefu_approval_advance at 1.0 ms per decision while the statements they
-- run add up to under half of that: the rest was planning. The small
-- helpers they call (the history row, the event, the stage facts, the
-- delegate lookup) were SQL functions that cannot be inlined (an INSERT, an
-- aggregate, a FROM with LIMIT), so PostgreSQL parsed and planned their
-- bodies again in every transaction, 0.1-0.15 ms each. The same helpers in
-- PL/pgSQL, whose plans a connection keeps (as 027 did for the key
-- lookup): the same statements, the same results.

-- Writes one event and returns its row as the publishers need it.
CREATE OR REPLACE FUNCTION kefu_emit(p_type text, p_corr text, p_src text, p_body jsonb)
RETURNS event LANGUAGE plpgsql AS $$
DECLARE
    e event;
BEGIN
    INSERT INTO event (type, corr, src, body) VALUES (p_type, p_corr, p_src, p_body) RETURNING * INTO e;
    RETURN e;
END $$;

-- One history row of the approval trail on the request's ticket.
CREATE OR REPLACE FUNCTION kefu_approval_history(p_request bigint, p_actor text, p_note text, p_reason text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_history (ticket_id, action, actor, note, reason)
    SELECT r.ticket_id, 'approval', p_actor, p_note, p_reason FROM approval_request r WHERE r.id = p_request;
END $$;

-- The staff member whose delegate p_staff names at this instant, or NULL.
CREATE OR REPLACE FUNCTION kefu_delegate_of(p_staff text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT d.delegate_id FROM approval_delegate d JOIN staff s ON s.id = d.delegate_id AND s.active
             WHERE d.staff_id = p_staff AND d.cleared_at IS NULL AND d.valid @> clock_timestamp()
             ORDER BY lower(d.valid) DESC LIMIT 1);
END $$;

-- The stage decision reads the rule the request started with (016).
CREATE OR REPLACE FUNCTION kefu_approval_stage_facts(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object('stage', jsonb_build_object(
                'request', r.id, 'stage', r.stage, 'rule', rs.rule, 'quorum', rs.quorum,
                'total', count(*), 'approved', count(*) FILTER (WHERE s.status = 'approved'),
                'rejected', count(*) FILTER (WHERE s.status = 'rejected')))
              FROM approval_request r
              JOIN approval_request_stage rs ON rs.request_id = r.id AND rs.stage = r.stage
              JOIN approval_step s ON s.request_id = r.id AND s.stage = r.stage
             WHERE r.id = p_request AND r.status = 'pending'
             GROUP BY r.id, r.stage, rs.rule, rs.quorum);
END $$;

-- Facts for the at-risk decision: when the current stage ends at the
-- latest (its pending steps' deadlines) and how long the later stages take
-- at most (the longest step of each).
CREATE OR REPLACE FUNCTION kefu_approval_risk_facts(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object('risk', jsonb_build_object(
                'request', r.id, 'ticket', t.no, 'at_risk', r.at_risk_at IS NOT NULL,
                'promised_ms', kefu_ms(r.promised_at), 'now_ms', kefu_ms(clock_timestamp()),
                'stage_end_ms', (SELECT max(kefu_ms(s.deadline_at)) FROM approval_step s
                                  WHERE s.request_id = r.id AND s.stage = r.stage AND s.status = 'pending'),
                'later_s', coalesce((SELECT sum(m) FROM (SELECT max(s.deadline_s) AS m FROM approval_step s
                                      WHERE s.request_id = r.id AND s.stage > r.stage GROUP BY s.stage) x), 0)))
              FROM approval_request r JOIN ticket t ON t.id = r.ticket_id
             WHERE r.id = p_request AND r.status = 'pending');
END $$;

-- Milliseconds since the epoch, the wire's time unit: the same value, from
-- operators PostgreSQL marks immutable (extract from a timestamptz is only
-- stable), so the planner inlines it. Until now every call was a SQL
-- function of its own, parsed and planned again in each subtransaction
-- (each request of a group commit runs in one): eight per decision.
CREATE OR REPLACE FUNCTION kefu_ms(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t - to_timestamp(0)) * 1000)::bigint
$$;

-- The approver a policy step names for a ticket, or NULL (012), planned
-- once per connection: opening a request calls it twice per policy step.
CREATE OR REPLACE FUNCTION kefu_approval_approver(p_kind text, p_ref text, p_ticket bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT s.id FROM staff s
             WHERE s.active AND s.id = CASE p_kind
                WHEN 'staff' THEN p_ref
                WHEN 'head' THEN (SELECT head_id FROM department WHERE id = p_ref)
                WHEN 'owner_manager' THEN (SELECT o.manager_id FROM ticket t JOIN staff o ON o.id = t.owner_id
                                            WHERE t.id = p_ticket)
                WHEN 'project_gm' THEN (SELECT p.gm_id FROM ticket t JOIN project p ON p.id = t.project_id
                                         WHERE t.id = p_ticket)
                END);
END $$;

-- Opens the steps of the request's current stage (016), planned once per
-- connection: assigned to their approvers, deadlines running. Returns
-- their approval.step_assigned events, in step order.
CREATE OR REPLACE FUNCTION kefu_approval_assign(p_request bigint, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH opened AS (
        UPDATE approval_step s
           SET status = 'pending', assigned_to = s.approver, assigned_at = clock_timestamp(),
               deadline_at = clock_timestamp() + make_interval(secs => s.deadline_s),
               remind_at = clock_timestamp() + make_interval(secs => s.remind_s)
          FROM approval_request r
         WHERE r.id = p_request AND s.request_id = r.id AND s.stage = r.stage AND s.status = 'waiting'
        RETURNING s.*
    )
    SELECT e.* FROM opened o JOIN approval_request r ON r.id = o.request_id
      JOIN ticket t ON t.id = r.ticket_id,
      LATERAL kefu_emit('approval.step_assigned', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
          'request', r.id, 'ticket', t.no, 'step', o.id, 'stage', o.stage, 'label', o.label,
          'to', o.assigned_to, 'delegate', kefu_delegate_of(o.assigned_to),
          'type', r.request_type, 'amount_fen', r.amount_fen,
          'deadline_at', kefu_ms(o.deadline_at), 'remind_at', kefu_ms(o.remind_at)))) e
     ORDER BY o.step;
END $$;
