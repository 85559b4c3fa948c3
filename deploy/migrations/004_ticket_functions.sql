-- kefu store, part 4: the writes that change a ticket. Each writes the
-- ticket, its history row and its event in the caller's transaction, so a
-- change and the news of it commit together (the transactional outbox).
-- Decisions (who owns, which deadline, who may act) are made by the daemons;
-- these functions only record them, in one round trip.

-- The time zone of ticket numbers and reports (set kefu.tz to change it).
CREATE FUNCTION kefu_tz() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('kefu.tz', true), ''), 'Asia/Shanghai')
$$;

CREATE FUNCTION kefu_ts(ms bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN ms IS NULL THEN NULL ELSE to_timestamp(ms / 1000.0) END
$$;

-- Stores a submitted report as a ticket. A known idempotency key returns
-- the ticket it made before, with duplicate = true. Unknown actor, project
-- or unit come back as err_code/err_field rather than an exception, so one
-- bad submit cannot abort the others committed with it.
CREATE FUNCTION kefu_submit(p_idem text, p_actor text, p_kind text, p_category text,
                            p_channel text, p_priority text, p_project text, p_building text,
                            p_unit text, p_phone text, p_name text, p_summary text,
                            p_detail text, p_src text)
RETURNS TABLE (ticket_no text, duplicate boolean, status text, received_ms bigint, owner text,
               err_code text, err_field text, ev_seq bigint, ev_id uuid, ev_at bigint, ev_body text)
LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    e event;
    v_unit bigint;
    v_homeowner bigint;
    v_id bigint;
BEGIN
    IF p_idem IS NOT NULL THEN
        SELECT * INTO t FROM ticket WHERE idem_key = p_idem;
        IF FOUND THEN
            RETURN QUERY SELECT t.no, true, t.status, kefu_ms(t.received_at), t.owner_id,
                                NULL::text, NULL::text, NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
            RETURN;
        END IF;
    END IF;
    PERFORM 1 FROM staff WHERE id = p_actor AND active;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::text, false, NULL::text, NULL::bigint, NULL::text,
                            'unknown_actor', 'actor', NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
        RETURN;
    END IF;
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
    INSERT INTO ticket (id, no, idem_key, kind, category, channel, priority, project_id, unit_id,
                        homeowner_id, summary, detail, created_by, owner_id)
    VALUES (v_id, format('KF-%s-%s', to_char(clock_timestamp() AT TIME ZONE kefu_tz(), 'YYYY'),
                         lpad(v_id::text, 6, '0')),
            p_idem, p_kind, p_category, p_channel, p_priority, p_project, v_unit, v_homeowner,
            p_summary, p_detail, p_actor, p_actor)
    ON CONFLICT (idem_key) DO NOTHING
    RETURNING * INTO t;
    IF NOT FOUND THEN  -- a concurrent submit with the same key committed first
        SELECT * INTO t FROM ticket WHERE idem_key = p_idem;
        RETURN QUERY SELECT t.no, true, t.status, kefu_ms(t.received_at), t.owner_id,
                            NULL::text, NULL::text, NULL::bigint, NULL::uuid, NULL::bigint, NULL::text;
        RETURN;
    END IF;

    INSERT INTO ticket_history (ticket_id, at, action, actor, to_owner)
    VALUES (t.id, t.received_at, 'submitted', p_actor, p_actor);
    e := kefu_emit('ticket.submitted', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
            'ticket', t.no, 'kind', t.kind, 'category', t.category, 'channel', t.channel,
            'priority', t.priority, 'project', t.project_id, 'building', p_building,
            'unit', p_unit, 'summary', t.summary, 'received_at', kefu_ms(t.received_at),
            'actor', p_actor)));
    RETURN QUERY SELECT t.no, false, t.status, kefu_ms(t.received_at), t.owner_id,
                        NULL::text, NULL::text, e.seq, e.id, kefu_ms(e.at), e.body::text;
END $$;

-- Records the routing decision for a ticket not yet routed. Returns its
-- ticket.routed event, or no row when the ticket was routed already.
CREATE FUNCTION kefu_route(p_ticket bigint, p_department text, p_owner text, p_responsible text,
                           p_rule integer, p_first_due_ms bigint, p_resolve_due_ms bigint,
                           p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    v_from text;
BEGIN
    SELECT owner_id INTO v_from FROM ticket WHERE id = p_ticket AND routed_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO ticket_history (ticket_id, action, from_owner, to_owner, reason)
    VALUES (p_ticket, 'routed', v_from, p_owner, format('routing rule %s', p_rule));
    UPDATE ticket SET status = 'routed', routed_at = clock_timestamp(),
                      department_id = p_department, owner_id = p_owner,
                      responsible_id = p_responsible, routing_rule_id = p_rule,
                      first_response_due = kefu_ts(p_first_due_ms),
                      resolve_due = kefu_ts(p_resolve_due_ms),
                      next_escalation_at = kefu_ts(p_first_due_ms)
     WHERE id = p_ticket RETURNING * INTO t;
    RETURN NEXT kefu_emit('ticket.routed', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
        'ticket', t.no, 'owner', t.owner_id, 'department', t.department_id,
        'responsible', t.responsible_id, 'rule', p_rule,
        'first_response_due', p_first_due_ms, 'resolve_due', p_resolve_due_ms)));
END $$;

-- Moves an overdue ticket up one escalation level to p_to. p_next_ms is
-- the next escalation deadline (NULL at the top level).
CREATE FUNCTION kefu_escalate(p_ticket bigint, p_level integer, p_to text, p_reason text,
                              p_next_ms bigint, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    v_from text;
BEGIN
    SELECT owner_id INTO v_from FROM ticket WHERE id = p_ticket;
    INSERT INTO ticket_history (ticket_id, action, from_owner, to_owner, reason, level)
    VALUES (p_ticket, 'escalated', v_from, p_to, p_reason, p_level);
    UPDATE ticket SET escalation_level = p_level, owner_id = p_to,
                      next_escalation_at = kefu_ts(p_next_ms)
     WHERE id = p_ticket RETURNING * INTO t;
    RETURN NEXT kefu_emit('ticket.escalated', t.no, p_src, jsonb_build_object(
        'ticket', t.no, 'level', p_level, 'from', v_from, 'to', p_to, 'reason', p_reason));
END $$;

-- Records a response. The first one stops the first-response clock: the
-- next deadline becomes the resolution deadline (or stays, if that passed).
CREATE FUNCTION kefu_respond(p_ticket bigint, p_actor text, p_note text, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    v_first boolean;
BEGIN
    SELECT responded_at IS NULL INTO v_first FROM ticket WHERE id = p_ticket;
    INSERT INTO ticket_history (ticket_id, action, actor, note)
    VALUES (p_ticket, 'responded', p_actor, p_note);
    UPDATE ticket SET responded_at = coalesce(responded_at, clock_timestamp()),
                      status = CASE WHEN status = 'routed' THEN 'responded' ELSE status END,
                      next_escalation_at = CASE
                          WHEN v_first AND resolve_due > clock_timestamp() THEN resolve_due
                          ELSE next_escalation_at END
     WHERE id = p_ticket RETURNING * INTO t;
    RETURN NEXT kefu_emit('ticket.responded', t.no, p_src, jsonb_build_object(
        'ticket', t.no, 'actor', p_actor, 'responded_at', kefu_ms(t.responded_at),
        'first', v_first));
END $$;

-- Hands a ticket to p_to, whose department takes it over.
CREATE FUNCTION kefu_transfer(p_ticket bigint, p_actor text, p_to text, p_reason text, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    v_from text;
BEGIN
    SELECT owner_id INTO v_from FROM ticket WHERE id = p_ticket;
    INSERT INTO ticket_history (ticket_id, action, actor, from_owner, to_owner, reason)
    VALUES (p_ticket, 'transferred', p_actor, v_from, p_to, p_reason);
    UPDATE ticket SET owner_id = p_to,
                      department_id = (SELECT department_id FROM staff WHERE id = p_to)
     WHERE id = p_ticket RETURNING * INTO t;
    RETURN NEXT kefu_emit('ticket.transferred', t.no, p_src, jsonb_build_object(
        'ticket', t.no, 'from', v_from, 'to', p_to, 'department', t.department_id,
        'reason', p_reason, 'actor', p_actor));
END $$;

-- Marks a ticket resolved; its escalation clock stops.
CREATE FUNCTION kefu_resolve(p_ticket bigint, p_actor text, p_note text, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
BEGIN
    INSERT INTO ticket_history (ticket_id, action, actor, note)
    VALUES (p_ticket, 'resolved', p_actor, p_note);
    UPDATE ticket SET status = 'resolved', resolved_at = clock_timestamp(),
                      first_resolved_at = coalesce(first_resolved_at, clock_timestamp()),
                      next_escalation_at = NULL
     WHERE id = p_ticket RETURNING * INTO t;
    RETURN NEXT kefu_emit('ticket.resolved', t.no, p_src, jsonb_build_object(
        'ticket', t.no, 'actor', p_actor, 'resolved_at', kefu_ms(t.resolved_at)));
END $$;
