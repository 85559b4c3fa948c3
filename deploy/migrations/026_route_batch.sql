-- kefu store, part 26: routing a burst of tickets in one statement.
--
-- The router decides each ticket's department, owner and deadlines itself
-- (its rules are in memory) and writes all the routings of a burst with
-- one call: the ticket updates, their 'routed' history rows and their
-- ticket.routed events, set-based, as kefu_route does for one ticket.
-- p_items is a JSON array of objects {ticket (id), department, owner,
-- responsible (may be absent), rule, first_due, resolve_due (ms)}. A
-- ticket routed already (by another instance) is left alone. Returns the
-- events written, in seq order.
-- PL/pgSQL rather than SQL so that the statement's plan is cached.
CREATE FUNCTION kefu_route_batch(p_items jsonb, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
BEGIN
RETURN QUERY
WITH item AS (
    SELECT (x->>'ticket')::bigint AS ticket, x->>'department' AS department,
           x->>'owner' AS owner, x->>'responsible' AS responsible, (x->>'rule')::int AS rule,
           (x->>'first_due')::bigint AS first_due, (x->>'resolve_due')::bigint AS resolve_due
      FROM jsonb_array_elements(p_items) AS a (x)
), old AS (
    SELECT t.id, t.owner_id FROM ticket t JOIN item i ON i.ticket = t.id
     WHERE t.routed_at IS NULL ORDER BY t.id FOR UPDATE OF t
), routed AS (
    UPDATE ticket t SET status = 'routed', routed_at = clock_timestamp(),
                        department_id = i.department, owner_id = i.owner,
                        responsible_id = i.responsible, routing_rule_id = i.rule,
                        first_response_due = kefu_ts(i.first_due),
                        resolve_due = kefu_ts(i.resolve_due),
                        next_escalation_at = kefu_ts(i.first_due)
      FROM item i JOIN old o ON o.id = i.ticket
     WHERE t.id = i.ticket AND t.routed_at IS NULL
    RETURNING t.id, t.no, t.owner_id, t.department_id, t.responsible_id, o.owner_id AS from_owner,
              i.rule, i.first_due, i.resolve_due
), history AS (
    INSERT INTO ticket_history (ticket_id, action, from_owner, to_owner, reason)
    SELECT id, 'routed', from_owner, owner_id, format('routing rule %s', rule) FROM routed
), ev AS (
    INSERT INTO event (type, corr, src, body)
    SELECT 'ticket.routed', r.no, p_src, jsonb_strip_nulls(jsonb_build_object(
               'ticket', r.no, 'owner', r.owner_id, 'department', r.department_id,
               'responsible', r.responsible_id, 'rule', r.rule,
               'first_response_due', r.first_due, 'resolve_due', r.resolve_due))
      FROM routed r ORDER BY r.id
    RETURNING *
)
SELECT * FROM ev ORDER BY seq;
END $$;
