-- kefu store, part 13: an idempotency key belongs to the person who sent it
-- and to what they sent (design.md, proto/catalog.md "submit" and
-- "approval.request").
--
-- Before this migration ticket.idem_key and approval_request.idem were
-- unique across everyone, so agent.chen's `--idem call-0007` (no heating,
-- SH-PD) was answered with agent.li's ticket for `--idem call-0007` (a
-- leak, HZ-XH), marked duplicate, and the second complaint was lost. Now:
--   * a key is unique per sender: (created_by, idem_key) for tickets,
--     (requested_by, idem) for approval requests;
--   * each row keeps a fingerprint of what was sent with its key (idem_fp,
--     sha256 of a canonical form of the normalised fields);
--   * the same key and the same content from the same sender is a retry:
--     the row it made, duplicate = true;
--   * the same key with other content from the same sender is `conflict`
--     on field `idem`, naming the ticket or request the key made (as
--     payment APIs answer), also between two items of one batch;
--   * the same key from someone else is that person's own key.
--
-- Rows stored before this migration have no fingerprint (NULL). They keep
-- their key, now scoped to their creator. A same-key submit or request
-- from that creator is compared with what the row itself keeps: it is a
-- retry when every field kept matches, else conflict. The owner's name of a
-- submit is not kept per ticket (homeowner.name keeps the first one given),
-- and the policy an approval request named is kept only as resolved, so a
-- legacy row is compared without the name, and with a named policy only
-- when one was given. Recomputing fingerprints for old rows would have to
-- guess those fields and could turn a genuine retry into a conflict.

-- ---- tickets ----------------------------------------------------------------

-- The fingerprint of a submit's content: sha256 of the JSON array of its
-- normalised fields in catalog order (absent fields as null; priority
-- defaults to normal; the phone as normalised by intake). jsonb's text form
-- of an array of strings is canonical (order kept, one escaping).
CREATE FUNCTION kefu_submit_fp(p_kind text, p_category text, p_channel text, p_priority text,
                               p_project text, p_building text, p_unit text, p_phone text,
                               p_name text, p_summary text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(jsonb_build_array(p_kind, p_category, p_channel,
                                               coalesce(p_priority, 'normal'), p_project,
                                               p_building, p_unit, p_phone, p_name, p_summary,
                                               p_detail)::text, 'UTF8'))
$$;

-- For a ticket stored before fingerprints: true when it keeps what a
-- submit with these fields would store (the owner's name is not kept per
-- ticket and not compared).
CREATE FUNCTION kefu_submit_legacy_same(p_ticket bigint, p_kind text, p_category text,
                                        p_channel text, p_priority text, p_project text,
                                        p_building text, p_unit text, p_phone text,
                                        p_summary text, p_detail text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM ticket t JOIN homeowner h ON h.id = t.homeowner_id
          LEFT JOIN unit u ON u.id = t.unit_id
         WHERE t.id = p_ticket AND t.kind = p_kind AND t.category = p_category
           AND t.channel = p_channel AND t.priority = coalesce(p_priority, 'normal')
           AND t.project_id = p_project AND u.building IS NOT DISTINCT FROM p_building
           AND u.unit_no IS NOT DISTINCT FROM p_unit AND h.phone = p_phone
           AND t.summary = p_summary AND t.detail IS NOT DISTINCT FROM p_detail)
$$;

ALTER TABLE ticket ADD COLUMN idem_fp bytea;  -- kefu_submit_fp of what came with idem_key
ALTER TABLE ticket DROP CONSTRAINT ticket_idem_key_key;
ALTER TABLE ticket ADD CONSTRAINT ticket_created_by_idem_key_key UNIQUE (created_by, idem_key);

-- Stores a submitted report as a ticket. A key p_actor used before returns
-- the ticket it made: duplicate = true when the content is the same,
-- err_code 'conflict' (err_field 'idem', ticket_no that ticket) when it
-- is not. Unknown actor, project or unit come back as err_code/err_field
-- rather than an exception, so one bad submit cannot abort the others
-- committed with it. (Replaces 004's version: keys were global.)
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
        VALUES (v_id, format('KF-%s-%s', to_char(clock_timestamp() AT TIME ZONE kefu_tz(), 'YYYY'),
                             lpad(v_id::text, 6, '0')),
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
    SELECT tid, format('KF-%s-%s', to_char(clock_timestamp() AT TIME ZONE kefu_tz(), 'YYYY'),
                       lpad(tid::text, 6, '0')),
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

-- ---- approval requests ------------------------------------------------------

-- The fingerprint of an approval.request's content: sha256 of the JSON
-- array of ticket, type, amount in fen, reason, promised date and the
-- policy named (null when none was).
CREATE FUNCTION kefu_approval_fp(p_ticket text, p_type text, p_amount_fen bigint,
                                 p_reason text, p_promised date, p_policy text)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(jsonb_build_array(p_ticket, p_type, p_amount_fen::text, p_reason,
                                               p_promised::text, p_policy)::text, 'UTF8'))
$$;

-- For a request stored before fingerprints: true when it keeps what a
-- request with these fields would store (a policy is compared only when
-- one was named: the row keeps the policy resolved, not the one asked for).
CREATE FUNCTION kefu_approval_legacy_same(r approval_request, p_ticket text, p_type text,
                                          p_amount_fen bigint, p_reason text, p_promised date,
                                          p_policy text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM ticket t WHERE t.id = r.ticket_id AND t.no = p_ticket)
       AND r.request_type = p_type AND r.amount_fen = p_amount_fen AND r.reason = p_reason
       AND r.promised_date = p_promised AND (p_policy IS NULL OR r.policy_id = p_policy)
$$;

ALTER TABLE approval_request ADD COLUMN idem_fp bytea;  -- kefu_approval_fp of what came with idem
ALTER TABLE approval_request DROP CONSTRAINT approval_request_idem_key;
ALTER TABLE approval_request
    ADD CONSTRAINT approval_request_requested_by_idem_key UNIQUE (requested_by, idem);

-- kefu_approval_open takes these keys in migration 016, which rewrites it
-- for the approval chain as well: one copy of that function, not two.
