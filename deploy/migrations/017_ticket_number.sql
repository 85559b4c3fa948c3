-- kefu store, part 17: the ticket number is made in one place (issue 12).
--
-- A ticket's number is KF-YYYY-NNNNNN: the year it was received in the
-- store's time zone (kefu_tz()) and its id, zero-padded to six digits. It was
-- written out in kefu_submit, kefu_submit_batch (013) and kefu-admin
-- import-tickets (services/admin/admin_tickets.c); kefu_ticket_no makes it
-- now, and those three call it. The numbers are the same as before.

-- The number of ticket p_id received at p_at: KF-YYYY-NNNNNN, the id on six
-- digits at least. lpad alone would cut a longer id (1234567 to 123456, the
-- number of ticket 123456 that year): from the millionth ticket on, the id
-- is written whole.
CREATE FUNCTION kefu_ticket_no(p_id bigint, p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('KF-%s-%s', to_char(p_at AT TIME ZONE kefu_tz(), 'YYYY'),
                  lpad(p_id::text, greatest(6, length(p_id::text)), '0'))
$$;

-- kefu_submit and kefu_submit_batch as 013 left them, but for the number,
-- which kefu_ticket_no now makes (013 documents what they do).
CREATE OR REPLACE FUNCTION kefu_submit(p_idem text, p_actor text, p_kind text, p_category text,
                                       p_channel text, p_priority text, p_project text,
                                       p_building text, p_unit text, p_phone text, p_name text,
                                       p_summary text, p_detail text, p_src text)
RETURNS TABLE (ticket_no text, duplicate boolean, status text, received_ms bigint, owner text,
               err_code text, err_field text, ev_seq bigint, ev_id uuid, ev_at bigint, ev_body text)
LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    e event;
    v_unit bigint;
    v_homeowner bigint;
    v_id bigint;
    v_fp bytea := kefu_submit_fp(p_kind, p_category, p_channel, p_priority, p_project,
                                 p_building, p_unit, p_phone, p_name, p_summary, p_detail);
    v_same boolean;
BEGIN
    -- Who sent it comes first: the key is theirs.
    PERFORM 1 FROM staff WHERE id = p_actor AND active;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::text, false, NULL::text, NULL::bigint, NULL::text,
                            'unknown_actor', 'actor', NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    IF p_idem IS NOT NULL THEN
        SELECT * INTO t FROM ticket WHERE created_by = p_actor AND idem_key = p_idem;
    END IF;
    IF t.id IS NULL THEN
        PERFORM 1 FROM project WHERE id = p_project;
        IF NOT FOUND THEN
            RETURN QUERY SELECT NULL::text, false, NULL::text, NULL::bigint, NULL::text,
                                'not_found', 'project', NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
            RETURN;
        END IF;
        IF p_building IS NOT NULL OR p_unit IS NOT NULL THEN
            SELECT u.id INTO v_unit FROM unit u
             WHERE u.project_id = p_project AND u.building = p_building AND u.unit_no = p_unit;
            IF NOT FOUND THEN
                RETURN QUERY SELECT NULL::text, false, NULL::text, NULL::bigint, NULL::text,
                                    'not_found', 'unit', NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
                RETURN;
            END IF;
        END IF;

        INSERT INTO homeowner AS h (phone, name) VALUES (p_phone, p_name)
            ON CONFLICT (phone) DO UPDATE SET name = coalesce(h.name, EXCLUDED.name)
            RETURNING h.id INTO v_homeowner;
        IF v_unit IS NOT NULL THEN
            INSERT INTO homeowner_unit VALUES (v_homeowner, v_unit) ON CONFLICT DO NOTHING;
        END IF;

        v_id := nextval(pg_get_serial_sequence('ticket', 'id'));
        INSERT INTO ticket (id, no, idem_key, idem_fp, kind, category, channel, priority,
                            project_id, unit_id, homeowner_id, summary, detail, created_by,
                            owner_id)
        VALUES (v_id, kefu_ticket_no(v_id, clock_timestamp()),
                p_idem, CASE WHEN p_idem IS NOT NULL THEN v_fp END, p_kind, p_category,
                p_channel, p_priority, p_project, v_unit, v_homeowner, p_summary, p_detail,
                p_actor, p_actor)
        ON CONFLICT (created_by, idem_key) DO NOTHING
        RETURNING * INTO t;
        IF FOUND THEN
            INSERT INTO ticket_history (ticket_id, at, action, actor, to_owner)
            VALUES (t.id, t.received_at, 'submitted', p_actor, p_actor);
            e := kefu_emit('ticket.submitted', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
                    'ticket', t.no, 'kind', t.kind, 'category', t.category, 'channel', t.channel,
                    'priority', t.priority, 'project', t.project_id, 'building', p_building,
                    'unit', p_unit, 'summary', t.summary, 'received_at', kefu_ms(t.received_at),
                    'actor', p_actor)));
            RETURN QUERY SELECT t.no, false, t.status, kefu_ms(t.received_at), t.owner_id,
                                NULL::text, NULL::text, e.seq, e.id, kefu_ms(e.at), e.body::text;
            RETURN;
        END IF;
        -- A concurrent submit of p_actor with the same key committed first.
        SELECT * INTO t FROM ticket WHERE created_by = p_actor AND idem_key = p_idem;
    END IF;
    v_same := coalesce(t.idem_fp = v_fp,
                       kefu_submit_legacy_same(t.id, p_kind, p_category, p_channel, p_priority,
                                               p_project, p_building, p_unit, p_phone, p_summary,
                                               p_detail));
    RETURN QUERY SELECT t.no, v_same, t.status, kefu_ms(t.received_at), t.owner_id,
                        CASE WHEN NOT v_same THEN 'conflict' END,
                        CASE WHEN NOT v_same THEN 'idem' END,
                        NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
END $$;

-- Group commit of submits (see 005 for the shape of p_items and of the
-- rows returned). Keys are looked up per (actor, key); per item:
--   a new ticket: ticket_no, duplicate false and its event;
--   a key the actor used before (or earlier in this batch) with the same
--     content: the ticket it made, duplicate true, no event;
--   the same with other content: err_code 'conflict', err_field 'idem' and
--     ticket_no the ticket the key made;
--   an unknown actor, project or unit: err_code and err_field;
--   a key of the same actor that another transaction committed while this
--     one ran (or whose first item in this batch was not stored): all
--     NULL, and the caller asks again with kefu_submit, which then sees it.
-- (Replaces 005's version: keys were global and content was not compared.)
CREATE OR REPLACE FUNCTION kefu_submit_batch(p_items jsonb, p_src text)
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
           x->>'detail' AS detail,
           kefu_submit_fp(x->>'kind', x->>'category', x->>'channel', x->>'priority',
                          x->>'project', x->>'building', x->>'unit', x->>'phone', x->>'name',
                          x->>'summary', x->>'detail') AS fp
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS a (x, ord)
), checked AS (
    -- Per-item lookups as LATERAL index probes: a batch is a handful of
    -- items, and hash joins over whole tables would cost more than they do.
    -- A known key is answered before the project and unit are checked.
    SELECT i.*, u.id AS unit_id, k.no AS known_no, k.status AS known_status,
           k.received_at AS known_received, k.owner_id AS known_owner,
           CASE WHEN s.id IS NULL THEN 'unknown_actor'
                WHEN k.no IS NOT NULL THEN CASE WHEN NOT k.same THEN 'conflict' END
                WHEN p.id IS NULL THEN 'not_found'
                WHEN (i.building IS NOT NULL OR i.unit_no IS NOT NULL) AND u.id IS NULL THEN 'not_found'
           END AS err_code,
           CASE WHEN s.id IS NULL THEN 'actor'
                WHEN k.no IS NOT NULL THEN CASE WHEN NOT k.same THEN 'idem' END
                WHEN p.id IS NULL THEN 'project'
                WHEN (i.building IS NOT NULL OR i.unit_no IS NOT NULL) AND u.id IS NULL THEN 'unit'
           END AS err_field,
           CASE WHEN i.idem IS NULL THEN 1
                ELSE row_number() OVER (PARTITION BY i.actor, i.idem ORDER BY i.ord) END AS idem_rank
      FROM item i
      LEFT JOIN LATERAL (SELECT id FROM staff WHERE id = i.actor AND active) s ON true
      LEFT JOIN LATERAL (SELECT id FROM project WHERE id = i.project) p ON true
      LEFT JOIN LATERAL (SELECT id FROM unit WHERE project_id = i.project
                            AND building = i.building AND unit_no = i.unit_no) u ON true
      LEFT JOIN LATERAL (SELECT t.no, t.status, t.received_at, t.owner_id,
                                coalesce(t.idem_fp = i.fp, kefu_submit_legacy_same(
                                    t.id, i.kind, i.category, i.channel, i.priority, i.project,
                                    i.building, i.unit_no, i.phone, i.summary, i.detail)) AS same
                           FROM ticket t
                          WHERE t.created_by = i.actor AND t.idem_key = i.idem) k ON true
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
    INSERT INTO ticket (id, no, idem_key, idem_fp, kind, category, channel, priority, project_id,
                        unit_id, homeowner_id, summary, detail, created_by, owner_id)
    SELECT tid, kefu_ticket_no(tid, clock_timestamp()),
           idem, CASE WHEN idem IS NOT NULL THEN fp END, kind, category, channel, priority,
           project, unit_id, homeowner_id, summary, detail, actor, actor
      FROM numbered
    ON CONFLICT (created_by, idem_key) DO NOTHING
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
), answered AS (
    -- A later item with the key of a ticket made earlier in this batch is
    -- a duplicate of it when its content is the same, else conflict.
    SELECT c.ord, c.known_no, c.known_status, c.known_received, c.known_owner,
           t.id AS new_id, t.no AS new_no, t.status AS new_status,
           t.received_at AS new_received, t.owner_id AS new_owner,
           f.no AS first_no, f.status AS first_status, f.received_at AS first_received,
           f.owner_id AS first_owner,
           CASE WHEN f.no IS NULL THEN c.err_code
                WHEN f.idem_fp IS DISTINCT FROM c.fp THEN 'conflict' END AS err_code,
           CASE WHEN f.no IS NULL THEN c.err_field
                WHEN f.idem_fp IS DISTINCT FROM c.fp THEN 'idem' END AS err_field,
           e.seq AS ev_seq, e.id AS ev_id, e.at AS ev_at, e.body AS ev_body
      FROM checked c
      LEFT JOIN numbered n ON n.ord = c.ord
      LEFT JOIN tickets t ON t.id = n.tid
      LEFT JOIN events e ON e.corr = t.no
      LEFT JOIN tickets f ON c.idem_rank > 1 AND f.created_by = c.actor AND f.idem_key = c.idem
)
SELECT a.ord,
       coalesce(a.known_no, a.new_no, a.first_no),
       CASE WHEN a.err_code IS NOT NULL OR a.new_id IS NOT NULL THEN false
            WHEN a.known_no IS NOT NULL OR a.first_no IS NOT NULL THEN true END,
       coalesce(a.known_status, a.new_status, a.first_status),
       kefu_ms(coalesce(a.known_received, a.new_received, a.first_received)),
       coalesce(a.known_owner, a.new_owner, a.first_owner),
       a.err_code, a.err_field, a.ev_seq, a.ev_id, kefu_ms(a.ev_at), a.ev_body::text
  FROM answered a
 ORDER BY a.ord;
END $$;
