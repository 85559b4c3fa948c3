-- kefu store, part 30: turning a burst of resolutions into surveys in one
-- statement.
--
-- kefu-survey applies a burst of ticket.resolved events with one call,
-- given their ids: for each it reads the resolution the store holds (the
-- ticket, whether it is imported, when it was resolved and which of the
-- ticket's resolutions it was: the 'resolved' history rows up to the
-- event's own transaction), and creates the surveys that are due, set-based,
-- as the daemon did one event at a time before. An id the store holds no
-- ticket.resolved event for (a forged doorbell) does nothing.
--
-- The outcome of each id, by its 1-based place in p_ids (an id given twice
-- counts once, at its first place):
--   unknown   no ticket.resolved event with that id (or its ticket is gone)
--   imported  the ticket is imported: imported tickets get no survey
--   stale     resolved more than p_max_age_s before now: no survey
--   created   the survey was created now (survey_id, due_ms)
--   exists    the resolution had its survey already
-- A survey is due p_delay_s after the resolution (plan_due, plan.c: a
-- delay of 0 or less is due at once; past the largest bigint it saturates).
-- PL/pgSQL rather than SQL so that the statement's plan is cached.
CREATE FUNCTION kefu_survey_due(p_ms bigint, p_delay_s bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_delay_s <= 0 THEN p_ms
                WHEN p_delay_s > 9223372036854775807 / 1000
                  OR p_ms > 9223372036854775807 - p_delay_s * 1000 THEN 9223372036854775807
                ELSE p_ms + p_delay_s * 1000 END
$$;

CREATE FUNCTION kefu_survey_resolved(p_ids uuid[], p_delay_s bigint, p_max_age_s bigint)
RETURNS TABLE (place int, outcome text, ticket_no text, survey_id bigint, nth int,
               resolved_ms bigint, due_ms bigint)
LANGUAGE plpgsql AS $$
BEGIN
RETURN QUERY
WITH ask AS (
    SELECT DISTINCT ON (a.id) a.id, a.i::int AS i
      FROM unnest(p_ids) WITH ORDINALITY AS a (id, i) ORDER BY a.id, a.i
), res AS (
    SELECT k.i, t.id AS ticket, t.no, t.homeowner_id, t.project_id, t.imported,
           coalesce((e.body->>'resolved_at')::bigint, kefu_ms(e.at)) AS resolved,
           (SELECT count(*) FROM ticket_history h WHERE h.ticket_id = t.id
               AND h.action = 'resolved' AND h.xid <= e.xid)::int AS n
      FROM ask k JOIN event e ON e.id = k.id AND e.type = 'ticket.resolved'
      JOIN ticket t ON t.no = e.corr
), plan AS (
    SELECT r.*, kefu_survey_due(r.resolved, p_delay_s) AS due,
           CASE WHEN r.imported THEN 'imported'
                WHEN kefu_survey_due(r.resolved, p_max_age_s) < kefu_ms(clock_timestamp())
                THEN 'stale' ELSE 'due' END AS what,
           row_number() OVER (PARTITION BY r.ticket, r.n ORDER BY r.i) AS first
      FROM res r
), made AS (
    INSERT INTO survey (ticket_id, homeowner_id, kind, project_id, resolution_no, due_at)
    SELECT p.ticket, p.homeowner_id, 'resolution', p.project_id, p.n, kefu_ts(p.due)
      FROM plan p WHERE p.what = 'due' AND p.first = 1 ORDER BY p.ticket, p.n
        ON CONFLICT (ticket_id, resolution_no) DO NOTHING
    RETURNING survey.id, survey.ticket_id, survey.resolution_no
)
SELECT k.i,
       CASE WHEN p.i IS NULL THEN 'unknown' WHEN p.what <> 'due' THEN p.what
            WHEN m.id IS NULL THEN 'exists' ELSE 'created' END,
       p.no, m.id, p.n, p.resolved, p.due
  FROM ask k LEFT JOIN plan p ON p.i = k.i
  LEFT JOIN made m ON m.ticket_id = p.ticket AND m.resolution_no = p.n AND p.first = 1
 ORDER BY k.i;
END $$;
