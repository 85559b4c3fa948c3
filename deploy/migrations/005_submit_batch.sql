-- kefu store, part 5: group commit of submits as one set-based statement.
-- intake gathers the submits that arrive together; one call writes all of
-- their owners, tickets, history rows and events, so a batch costs one
-- round trip instead of one per ticket. p_items is a JSON array of submit
-- objects (the fields of proto/catalog.md's submit, phone normalised).
-- One row comes back per item, in order (ord counts from 1):
--   a new ticket: ticket_no, duplicate false and its event;
--   a known idempotency key (before or earlier in this batch): the ticket
--     it made, duplicate true, no event;
--   an unknown actor, project or unit: err_code and err_field;
--   a key that another transaction committed while this one ran: all NULL,
--     and the caller asks again with kefu_submit, which then sees it.
-- PL/pgSQL rather than SQL so that the statement's plan is cached.
CREATE FUNCTION kefu_submit_batch(p_items jsonb, p_src text)
RETURNS TABLE (ord int, ticket_no text, duplicate boolean, status text, received_ms bigint,
               owner text, err_code text, err_field text, ev_seq bigint, ev_id uuid,
               ev_at bigint, ev_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH item AS (
    SELECT a.ord::int AS ord, x->>'idem' AS idem, x->>'actor' AS actor, x->>'kind' AS kind,
           x->>'category' AS category, x->>'channel' AS channel, x->>'priority' AS priority,
           x->>'project' AS project, x->>'building' AS building, x->>'unit' AS unit_no,
           x->>'phone' AS phone, x->>'name' AS name, x->>'summary' AS summary,
           x->>'detail' AS detail
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS a (x, ord)
), checked AS (
    -- Per-item lookups as LATERAL index probes: a batch is a handful of
    -- items, and hash joins over whole tables would cost more than they do.
    SELECT i.*, u.id AS unit_id, t.no AS known_no, t.status AS known_status,
           t.received_at AS known_received, t.owner_id AS known_owner,
           CASE WHEN s.id IS NULL THEN 'unknown_actor'
                WHEN p.id IS NULL THEN 'not_found'
                WHEN (i.building IS NOT NULL OR i.unit_no IS NOT NULL) AND u.id IS NULL THEN 'not_found'
           END AS err_code,
           CASE WHEN s.id IS NULL THEN 'actor'
                WHEN p.id IS NULL THEN 'project'
                WHEN (i.building IS NOT NULL OR i.unit_no IS NOT NULL) AND u.id IS NULL THEN 'unit'
           END AS err_field,
           CASE WHEN i.idem IS NULL THEN 1
                ELSE row_number() OVER (PARTITION BY i.idem ORDER BY i.ord) END AS idem_rank
      FROM item i
      LEFT JOIN LATERAL (SELECT id FROM staff WHERE id = i.actor AND active) s ON true
      LEFT JOIN LATERAL (SELECT id FROM project WHERE id = i.project) p ON true
      LEFT JOIN LATERAL (SELECT id FROM unit WHERE project_id = i.project
                            AND building = i.building AND unit_no = i.unit_no) u ON true
      LEFT JOIN LATERAL (SELECT no, status, received_at, owner_id FROM ticket
                          WHERE idem_key = i.idem) t ON true
), fresh AS (
    SELECT * FROM checked WHERE err_code IS NULL AND known_no IS NULL AND idem_rank = 1
), owners AS (
    INSERT INTO homeowner AS h (phone, name)
    SELECT DISTINCT ON (phone) phone, name FROM fresh ORDER BY phone, ord
    ON CONFLICT (phone) DO UPDATE SET name = coalesce(h.name, EXCLUDED.name)
    RETURNING h.id, h.phone
), numbered AS (
    SELECT f.*, o.id AS homeowner_id, nextval(pg_get_serial_sequence('ticket', 'id')) AS tid
      FROM fresh f JOIN owners o ON o.phone = f.phone
), tickets AS (
    INSERT INTO ticket (id, no, idem_key, kind, category, channel, priority, project_id, unit_id,
                        homeowner_id, summary, detail, created_by, owner_id)
    SELECT tid, format('KF-%s-%s', to_char(clock_timestamp() AT TIME ZONE kefu_tz(), 'YYYY'),
                       lpad(tid::text, 6, '0')),
           idem, kind, category, channel, priority, project, unit_id, homeowner_id, summary,
           detail, actor, actor
      FROM numbered
    ON CONFLICT (idem_key) DO NOTHING
    RETURNING *
), units AS (
    INSERT INTO homeowner_unit (homeowner_id, unit_id)
    SELECT DISTINCT homeowner_id, unit_id FROM tickets WHERE unit_id IS NOT NULL
    ON CONFLICT DO NOTHING
), history AS (
    INSERT INTO ticket_history (ticket_id, at, action, actor, to_owner)
    SELECT id, received_at, 'submitted', created_by, owner_id FROM tickets
), events AS (
    INSERT INTO event (type, corr, src, body)
    SELECT 'ticket.submitted', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
               'ticket', t.no, 'kind', t.kind, 'category', t.category, 'channel', t.channel,
               'priority', t.priority, 'project', t.project_id, 'building', n.building,
               'unit', n.unit_no, 'summary', t.summary, 'received_at', kefu_ms(t.received_at),
               'actor', t.created_by))
      FROM tickets t JOIN numbered n ON n.tid = t.id
    RETURNING seq, id, corr, at, body
)
SELECT c.ord,
       coalesce(c.known_no, t.no, first.no),
       CASE WHEN c.err_code IS NOT NULL THEN false
            WHEN t.id IS NOT NULL THEN false
            WHEN c.known_no IS NOT NULL OR first.no IS NOT NULL THEN true END,
       coalesce(c.known_status, t.status, first.status),
       kefu_ms(coalesce(c.known_received, t.received_at, first.received_at)),
       coalesce(c.known_owner, t.owner_id, first.owner_id),
       c.err_code, c.err_field, e.seq, e.id, kefu_ms(e.at), e.body::text
  FROM checked c
  LEFT JOIN numbered n ON n.ord = c.ord
  LEFT JOIN tickets t ON t.id = n.tid
  LEFT JOIN events e ON e.corr = t.no
  LEFT JOIN tickets first ON c.idem_rank > 1 AND first.idem_key = c.idem
 ORDER BY c.ord;
END $$;
