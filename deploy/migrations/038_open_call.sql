-- kefu store, part 38: opening an approval request in fewer statements
-- (issue 16).
--
-- pg_stat_statements over the whole chain (tests/bench/wal_audit.sh
-- --statements) showed kefu_approval_open as the costliest statement per
-- ticket, about 3.6 ms of store time per call: every policy step's approver
-- looked up twice (once to find steps nobody can approve, once to insert
-- them), the steps inserted 'waiting' and then updated again to open the
-- first stage (kefu_approval_assign, a second row version of each), the
-- history row, the event and each step's event written by helper functions
-- of their own, the stages counted back from the table just written, and
-- the at-risk facts read back from the steps and handed to kefu-approval,
-- which called kefu_approval_flag_risk when they said so.
--
-- kefu_approval_open below keeps every rule and every reply, event and
-- error of 016's version and does the work in three statements after the
-- checks: the policy steps read once (their approvers, the steps nobody
-- can approve, the first stage's longest deadline and the later stages'
-- time); one statement writes the request, its stages, all its steps (the
-- first stage's already open: assigned, deadlines running), its history
-- row, approval.requested and each first-stage step's
-- approval.step_assigned, in that order; and the at-risk check is done here
-- from the same figures (kefu_approval_risk_projected, 035), flagging the
-- request in the same call as kefu_approval_decide_call does
-- ({"flagged": ...} for the daemon's log). The key lookup and the
-- idempotency key (kept on the request, 013/016) were already in the call.

-- Opens an approval request on a ticket (approval.request). The actor is
-- the holder of p_key. A key the actor used before returns that request:
-- duplicate with the same content, `conflict` on field idem naming it with
-- other content; requests with one actor and key are serialised by an
-- advisory lock, so a concurrent retry finds the first one's row. The
-- request keeps a copy of its policy, and a promised date already past is
-- refused unless p_allow_past. The first stage's steps are assigned, and a
-- request that cannot finish by its promised date is flagged at once.
-- Returns kefu_approval_out rows: an error, or the events, the reply and
-- facts the daemon only logs ({"flagged": ...}).
CREATE OR REPLACE FUNCTION kefu_approval_open(p_key text, p_idem text, p_ticket text, p_type text,
                                              p_amount_fen bigint, p_reason text, p_promised date,
                                              p_policy text, p_src text, p_allow_past boolean)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    v_role text;
    v_fp bytea := kefu_approval_fp(p_ticket, p_type, p_amount_fen, p_reason, p_promised, p_policy);
    v_now timestamptz := clock_timestamp();
    v_today date := (v_now AT TIME ZONE kefu_tz())::date;
    v_promised_at timestamptz := (p_promised + 1)::timestamp AT TIME ZONE kefu_tz();
    t ticket;
    r approval_request;
    p approval_policy;
    v_missing text;
    v_stages smallint[];
    v_steps smallint[];
    v_approvers text[];
    v_first_end bigint;
    v_later_s bigint;
    v_request bigint;
    v_projected bigint;
    o kefu_approval_out;
BEGIN
    SELECT a.staff_id, a.role INTO v_actor, v_role FROM kefu_key_actor(p_key) a;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
        RETURN;
    END IF;
    IF p_idem IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('kefu.approval_idem'), hashtext(v_actor || ' ' || p_idem));
        SELECT * INTO r FROM approval_request WHERE requested_by = v_actor AND idem = p_idem;
        IF FOUND THEN
            IF NOT coalesce(r.idem_fp = v_fp, kefu_approval_legacy_same(r, p_ticket, p_type,
                            p_amount_fen, p_reason, p_promised, p_policy)) THEN
                RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'idem',
                    format('idempotency key %s was already used for approval request %s with different content',
                           p_idem, r.id));
                RETURN;
            END IF;
            RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
                'request', r.id, 'duplicate', true, 'status', r.status, 'policy', r.policy_id,
                'ticket', (SELECT no FROM ticket WHERE id = r.ticket_id), 'stage', r.stage,
                'promised_at', kefu_ms(r.promised_at))));
            RETURN;
        END IF;
    END IF;
    IF p_promised < v_today AND NOT coalesce(p_allow_past, false) THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('bad_value', 'promised', format(
            'the promised date %s is already past (today is %s in %s); to record a promise already broken, say so (allow_past, kefu approval request --allow-past)',
            p_promised, v_today, kefu_tz()));
        RETURN;
    END IF;
    SELECT * INTO t FROM ticket WHERE no = p_ticket FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'ticket', format('no ticket %s', p_ticket));
        RETURN;
    END IF;
    IF t.owner_id <> v_actor AND v_role NOT IN ('agent', 'manager', 'head', 'gm', 'vp', 'admin') THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('forbidden', 'ticket',
            format('%s neither owns %s nor has a role that may request approvals', v_actor, t.no));
        RETURN;
    END IF;
    IF t.status IN ('resolved', 'closed') THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'ticket', format('%s is %s', t.no, t.status));
        RETURN;
    END IF;
    -- A statement of its own after the ticket's lock: it sees a pending
    -- request another transaction committed while this one waited.
    PERFORM 1 FROM approval_request WHERE ticket_id = t.id AND request_type = p_type AND status = 'pending';
    IF FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'ticket',
            format('%s already has a pending %s request', t.no, p_type));
        RETURN;
    END IF;
    SELECT * INTO p FROM approval_policy ap
     WHERE ap.active AND ap.request_type = p_type AND p_amount_fen >= ap.min_fen
       AND (ap.max_fen IS NULL OR p_amount_fen < ap.max_fen)
       AND (ap.id = p_policy OR (p_policy IS NULL AND ap.is_default))
     ORDER BY ap.min_fen DESC, ap.id LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', CASE WHEN p_policy IS NULL THEN 'type' ELSE 'policy' END,
            format('no active %s policy %scovers %s.%s yuan', p_type,
                   coalesce(p_policy || ' ', ''), p_amount_fen / 100, lpad((p_amount_fen % 100)::text, 2, '0')));
        RETURN;
    END IF;
    -- The policy's steps once: each one's approver, those nobody can
    -- approve, when the first stage ends at the latest and how long the
    -- later stages take at most (the longest step of each).
    SELECT string_agg(format('stage %s step %s (%s)', x.stage, x.step, x.label), ', ' ORDER BY x.stage, x.step)
               FILTER (WHERE x.approver IS NULL),
           array_agg(x.stage ORDER BY x.stage, x.step), array_agg(x.step ORDER BY x.stage, x.step),
           array_agg(x.approver ORDER BY x.stage, x.step),
           max(kefu_ms(v_now + make_interval(secs => x.deadline_s))) FILTER (WHERE x.stage = 1),
           coalesce(sum(x.deadline_s) FILTER (WHERE x.stage > 1 AND x.longest), 0)
      INTO v_missing, v_stages, v_steps, v_approvers, v_first_end, v_later_s
      FROM (SELECT ps.stage, ps.step, ps.label, ps.deadline_s,
                   kefu_approval_approver(ps.approver_kind, ps.approver, t.id) AS approver,
                   row_number() OVER (PARTITION BY ps.stage ORDER BY ps.deadline_s DESC) = 1 AS longest
              FROM approval_policy_step ps WHERE ps.policy_id = p.id) x;
    IF v_missing IS NOT NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'policy',
            format('policy %s names no active approver for %s on %s', p.id, v_missing, t.no));
        RETURN;
    END IF;

    -- One statement: the request, its stages, its steps (the first stage's
    -- open), its history row and its events, approval.requested first.
    FOR o IN
        WITH rq AS (
            INSERT INTO approval_request (idem, idem_fp, ticket_id, request_type, amount_fen, reason,
                                          promised_date, promised_at, policy_id, requested_by,
                                          fallback_id, warn_to)
            VALUES (p_idem, CASE WHEN p_idem IS NOT NULL THEN v_fp END, t.id, p_type, p_amount_fen,
                    p_reason, p_promised, v_promised_at, p.id, v_actor, p.fallback_id, p.warn_to)
            RETURNING id, stage
        ), st AS (
            INSERT INTO approval_request_stage (request_id, stage, rule, quorum)
            SELECT rq.id, ps.stage, ps.rule, ps.quorum FROM rq, approval_policy_stage ps WHERE ps.policy_id = p.id
            RETURNING stage
        ), sp AS (
            INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, remind_s,
                                       on_timeout, status, assigned_to, assigned_at, deadline_at, remind_at)
            SELECT rq.id, ps.stage, ps.step, ps.label, a.approver, ps.deadline_s, ps.remind_s, ps.on_timeout,
                   CASE WHEN ps.stage = rq.stage THEN 'pending' ELSE 'waiting' END,
                   CASE WHEN ps.stage = rq.stage THEN a.approver END,
                   CASE WHEN ps.stage = rq.stage THEN v_now END,
                   CASE WHEN ps.stage = rq.stage THEN v_now + make_interval(secs => ps.deadline_s) END,
                   CASE WHEN ps.stage = rq.stage THEN v_now + make_interval(secs => ps.remind_s) END
              FROM rq, approval_policy_step ps
              JOIN unnest(v_stages, v_steps, v_approvers) a (stage, step, approver)
                ON a.stage = ps.stage AND a.step = ps.step
             WHERE ps.policy_id = p.id
            RETURNING *
        ), h AS (
            INSERT INTO ticket_history (ticket_id, action, actor, note, reason)
            SELECT t.id, 'approval', v_actor,
                   format('approval %s requested: %s %s.%s yuan, policy %s, promised %s%s', rq.id, p_type,
                          p_amount_fen / 100, lpad((p_amount_fen % 100)::text, 2, '0'), p.id, p_promised,
                          CASE WHEN p_promised < v_today THEN ' (already past when requested)' ELSE '' END),
                   p_reason
              FROM rq
        ), ev AS (
            INSERT INTO event (type, corr, src, body)
            SELECT x.type, t.no, p_src, x.body FROM (
                SELECT 0 AS ord, 'approval.requested' AS type, jsonb_build_object(
                           'request', rq.id, 'ticket', t.no, 'type', p_type, 'amount_fen', p_amount_fen,
                           'reason', p_reason, 'promised', p_promised::text, 'policy', p.id,
                           'stages', (SELECT count(*) FROM st), 'actor', v_actor) AS body
                  FROM rq
                UNION ALL
                SELECT sp.step, 'approval.step_assigned', jsonb_strip_nulls(jsonb_build_object(
                           'request', sp.request_id, 'ticket', t.no, 'step', sp.id, 'stage', sp.stage,
                           'label', sp.label, 'to', sp.assigned_to, 'delegate', kefu_delegate_of(sp.assigned_to),
                           'type', p_type, 'amount_fen', p_amount_fen,
                           'deadline_at', kefu_ms(sp.deadline_at), 'remind_at', kefu_ms(sp.remind_at)))
                  FROM sp WHERE sp.status = 'pending') x
             ORDER BY x.ord
            RETURNING *
        )
        SELECT NULL, NULL, NULL, NULL, ev.seq, ev.id, ev.type, ev.corr, ev.src, kefu_ms(ev.at), ev.body::text
          FROM ev ORDER BY ev.seq
    LOOP
        v_request := coalesce(v_request, (o.ev_body::jsonb->>'request')::bigint);
        RETURN NEXT o;
    END LOOP;

    -- The at-risk check (kefu_approval_risk_facts' figures, known here).
    v_projected := kefu_approval_risk_projected(jsonb_build_object(
        'at_risk', false, 'promised_ms', kefu_ms(v_promised_at), 'now_ms', kefu_ms(clock_timestamp()),
        'stage_end_ms', v_first_end, 'later_s', v_later_s));
    IF v_projected IS NOT NULL THEN
        RETURN NEXT kefu_approval_info(jsonb_build_object('flagged', jsonb_build_object(
            'request', v_request, 'ticket', t.no, 'projected_ms', v_projected)));
        RETURN QUERY SELECT * FROM kefu_approval_flag_risk(v_request, v_projected,
            kefu_approval_risk_reason(v_projected, kefu_ms(v_promised_at)), p_src);
    END IF;
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'request', v_request, 'duplicate', false, 'status', 'pending', 'policy', p.id, 'ticket', t.no,
        'stage', 1, 'promised_at', kefu_ms(v_promised_at))));
END $$;
