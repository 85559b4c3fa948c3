-- kefu store, part 16: no approval can stall (issue 11).
--
-- 1. Every timeout chain ends at someone who can act. At its deadline a step
--    goes to the assignee's registered delegate or manager (as the step's
--    on_timeout prefers), else to the fallback approver its policy names,
--    and from the fallback to the organisation's approval administrator.
--    When even that finds no one (the administrator is silent, or nobody is
--    configured), the step is marked stalled: its deadline stays, so it
--    counts as overdue, and approval.step_stalled warns the people who can
--    act. Nothing clears a deadline silently any more.
-- 2. People with the right move a stuck step: kefu_approval_reassign (the
--    approval administrator, staff of role admin, the requester's
--    department head) and kefu_delegate_put (an operator registers a
--    delegate for an absent person). Each move is a history row and an
--    event, naming who moved it and why.
-- 3. Warnings go to those who can act: the waiting approvers, their
--    delegates, the requester, the ticket owner's manager and the head of
--    the customer-service centre, as the policy's warn_to says; events carry
--    them as `recipients`.
-- 4. A request keeps the policy it started with: stage rules, fallback and
--    warn_to are copied at open, so editing a policy changes no request in
--    flight.
-- 5. A promised date already past is refused unless the requester says so.

-- The organisation's approval settings: one row.
CREATE TABLE approval_setting (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    admin_id       text REFERENCES staff (id),      -- the approval administrator: every chain's end
    service_centre text REFERENCES department (id)  -- its head hears of requests at risk
);
INSERT INTO approval_setting DEFAULT VALUES;

-- Who hears of a request at risk or a stalled step, per policy.
CREATE FUNCTION kefu_approval_warn_valid(p text[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p <@ ARRAY['approver', 'delegate', 'requester', 'owner_manager', 'service_centre_head']
$$;
ALTER TABLE approval_policy
    ADD COLUMN fallback_id text REFERENCES staff (id),  -- where a step goes when its approver's
                                                       -- chain (delegate, manager) ends
    ADD COLUMN warn_to text[] NOT NULL
        DEFAULT ARRAY['approver', 'delegate', 'requester', 'owner_manager', 'service_centre_head']
        CHECK (kefu_approval_warn_valid(warn_to));

-- The policy as the request started with it.
ALTER TABLE approval_request
    ADD COLUMN fallback_id text REFERENCES staff (id),
    ADD COLUMN warn_to text[] NOT NULL
        DEFAULT ARRAY['approver', 'delegate', 'requester', 'owner_manager', 'service_centre_head'];
CREATE TABLE approval_request_stage (
    request_id bigint NOT NULL REFERENCES approval_request (id),
    stage      smallint NOT NULL,
    rule       text NOT NULL CHECK (rule IN ('all', 'any', 'quorum')),
    quorum     smallint,
    PRIMARY KEY (request_id, stage)
);
INSERT INTO approval_request_stage (request_id, stage, rule, quorum)
SELECT r.id, ps.stage, ps.rule, ps.quorum
  FROM approval_request r JOIN approval_policy_stage ps ON ps.policy_id = r.policy_id;

-- A step whose chain found no one: warned once; it stays overdue until
-- someone reassigns or decides it.
ALTER TABLE approval_step ADD COLUMN stalled_at timestamptz;
-- The deadline scan's key: pending steps not yet found stalled.
DROP INDEX approval_step_deadline_idx;
CREATE INDEX approval_step_deadline_idx ON approval_step (deadline_at)
    WHERE status = 'pending' AND stalled_at IS NULL;

-- Who registered a delegate and why (an operator for an absent person).
ALTER TABLE approval_delegate ADD COLUMN set_by text, ADD COLUMN reason text;

-- Steps of old versions whose deadline was cleared with no one to move to
-- (migration 012): they are stalled, and overdue again.
UPDATE approval_step SET deadline_at = assigned_at + make_interval(secs => deadline_s),
       stalled_at = clock_timestamp()
 WHERE status = 'pending' AND deadline_at IS NULL AND assigned_at IS NOT NULL;

-- The stage decision reads the rule the request started with.
CREATE OR REPLACE FUNCTION kefu_approval_stage_facts(p_request bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('stage', jsonb_build_object(
        'request', r.id, 'stage', r.stage, 'rule', rs.rule, 'quorum', rs.quorum,
        'total', count(*), 'approved', count(*) FILTER (WHERE s.status = 'approved'),
        'rejected', count(*) FILTER (WHERE s.status = 'rejected')))
      FROM approval_request r
      JOIN approval_request_stage rs ON rs.request_id = r.id AND rs.stage = r.stage
      JOIN approval_step s ON s.request_id = r.id AND s.stage = r.stage
     WHERE r.id = p_request AND r.status = 'pending'
     GROUP BY r.id, r.stage, rs.rule, rs.quorum
$$;

-- The people a warning about request p_request goes to, by its warn_to:
-- active staff, each once, in the order of the list.
CREATE FUNCTION kefu_approval_recipients(p_request bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT * FROM approval_request WHERE id = p_request),
    waiting AS (SELECT s.assigned_to AS id, s.step FROM approval_step s, r
                 WHERE s.request_id = r.id AND s.stage = r.stage AND s.status = 'pending'),
    cand AS (
        SELECT 1 AS ord, w.step AS sub, w.id FROM waiting w, r WHERE 'approver' = ANY (r.warn_to)
        UNION ALL
        SELECT 2, w.step, kefu_delegate_of(w.id) FROM waiting w, r WHERE 'delegate' = ANY (r.warn_to)
        UNION ALL
        SELECT 3, 0, r.requested_by FROM r WHERE 'requester' = ANY (r.warn_to)
        UNION ALL
        SELECT 4, 0, o.manager_id FROM r JOIN ticket t ON t.id = r.ticket_id
          JOIN staff o ON o.id = t.owner_id WHERE 'owner_manager' = ANY (r.warn_to)
        UNION ALL
        SELECT 5, 0, d.head_id FROM r, approval_setting a JOIN department d ON d.id = a.service_centre
         WHERE 'service_centre_head' = ANY (r.warn_to)
    )
    SELECT coalesce(array_agg(id ORDER BY first_ord), '{}') FROM (
        SELECT c.id, min(c.ord * 100 + c.sub) AS first_ord FROM cand c JOIN staff s ON s.id = c.id AND s.active
         GROUP BY c.id) x
$$;

-- Opens an approval request on a ticket (approval.request). The actor is
-- the holder of p_key. A key the actor used before returns that request:
-- duplicate with the same content, `conflict` on field idem naming it with
-- other content (013's fingerprints); requests with one actor and key are
-- serialised by an advisory lock, so a concurrent retry finds the first
-- one's row. The request keeps a copy of its policy, and a promised date
-- already past is refused unless p_allow_past. (Replaces 012's version.)
DROP FUNCTION kefu_approval_open(text, text, text, text, bigint, text, date, text, text);
CREATE FUNCTION kefu_approval_open(p_key text, p_idem text, p_ticket text, p_type text,
                                   p_amount_fen bigint, p_reason text, p_promised date,
                                   p_policy text, p_src text, p_allow_past boolean)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    v_role text;
    v_fp bytea := kefu_approval_fp(p_ticket, p_type, p_amount_fen, p_reason, p_promised, p_policy);
    v_today date := (clock_timestamp() AT TIME ZONE kefu_tz())::date;
    t ticket;
    r approval_request;
    p approval_policy;
    v_missing text;
    e event;
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
    SELECT string_agg(format('stage %s step %s (%s)', ps.stage, ps.step, ps.label), ', ') INTO v_missing
      FROM approval_policy_step ps
     WHERE ps.policy_id = p.id AND kefu_approval_approver(ps.approver_kind, ps.approver, t.id) IS NULL;
    IF v_missing IS NOT NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'policy',
            format('policy %s names no active approver for %s on %s', p.id, v_missing, t.no));
        RETURN;
    END IF;

    INSERT INTO approval_request (idem, idem_fp, ticket_id, request_type, amount_fen, reason,
                                  promised_date, promised_at, policy_id, requested_by,
                                  fallback_id, warn_to)
    VALUES (p_idem, CASE WHEN p_idem IS NOT NULL THEN v_fp END, t.id, p_type, p_amount_fen,
            p_reason, p_promised, ((p_promised + 1)::timestamp AT TIME ZONE kefu_tz()), p.id,
            v_actor, p.fallback_id, p.warn_to)
    RETURNING * INTO r;
    INSERT INTO approval_request_stage (request_id, stage, rule, quorum)
    SELECT r.id, ps.stage, ps.rule, ps.quorum FROM approval_policy_stage ps WHERE ps.policy_id = p.id;
    INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, remind_s, on_timeout)
    SELECT r.id, ps.stage, ps.step, ps.label, kefu_approval_approver(ps.approver_kind, ps.approver, t.id),
           ps.deadline_s, ps.remind_s, ps.on_timeout
      FROM approval_policy_step ps WHERE ps.policy_id = p.id;
    PERFORM kefu_approval_history(r.id, v_actor,
        format('approval %s requested: %s %s.%s yuan, policy %s, promised %s%s', r.id, p_type,
               p_amount_fen / 100, lpad((p_amount_fen % 100)::text, 2, '0'), p.id, p_promised,
               CASE WHEN p_promised < v_today THEN ' (already past when requested)' ELSE '' END),
        p_reason);
    e := kefu_emit('approval.requested', t.no, p_src, jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'type', p_type, 'amount_fen', p_amount_fen,
        'reason', p_reason, 'promised', p_promised::text, 'policy', p.id,
        'stages', (SELECT count(*) FROM approval_request_stage WHERE request_id = r.id),
        'actor', v_actor));
    RETURN NEXT kefu_approval_ev(e);
    RETURN QUERY SELECT (kefu_approval_ev(a)).* FROM kefu_approval_assign(r.id, p_src) a;
    RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'request', r.id, 'duplicate', false, 'status', r.status, 'policy', p.id, 'ticket', t.no,
        'stage', r.stage, 'promised_at', kefu_ms(r.promised_at))));
END $$;

-- Opens the steps of the request's current stage (as in 012); each
-- approval.step_assigned also names the assignee's delegate for now, who
-- is told of every step they cover.
CREATE OR REPLACE FUNCTION kefu_approval_assign(p_request bigint, p_src text)
RETURNS SETOF event LANGUAGE sql AS $$
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
     ORDER BY o.step
$$;

-- Records that the request can no longer finish before its promised date
-- (approval.at_risk, once). `to` stays the ticket owner's manager (else the
-- owner) as in 012; `recipients` are everyone who can act.
CREATE OR REPLACE FUNCTION kefu_approval_flag_risk(p_request bigint, p_projected_ms bigint, p_reason text,
                                                   p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    r approval_request;
    t ticket;
    v_to text;
    e event;
BEGIN
    UPDATE approval_request SET at_risk_at = clock_timestamp()
     WHERE id = p_request AND status = 'pending' AND at_risk_at IS NULL RETURNING * INTO r;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO t FROM ticket WHERE id = r.ticket_id;
    SELECT coalesce(o.manager_id, o.id) INTO v_to FROM staff o WHERE o.id = t.owner_id;
    PERFORM kefu_approval_history(r.id, NULL, format('approval %s at risk: %s', r.id, p_reason), NULL);
    e := kefu_emit('approval.at_risk', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'to', v_to, 'owner', t.owner_id, 'reason', p_reason,
        'promised', r.promised_date::text, 'promised_at', kefu_ms(r.promised_at),
        'projected_at', p_projected_ms, 'stage', r.stage,
        'recipients', to_jsonb(kefu_approval_recipients(r.id)))));
    RETURN NEXT kefu_approval_ev(e);
END $$;

-- Where step s goes at its deadline, and how: the assignee's delegate or
-- manager (in the order s.on_timeout prefers), else the request's fallback
-- approver, else the approval administrator; from the fallback, straight
-- to the administrator. Nobody twice, never the assignee; NULL when no one
-- is left.
CREATE FUNCTION kefu_approval_next(s approval_step, OUT to_id text, OUT how text)
LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT * FROM approval_request WHERE id = s.request_id),
    adm AS (SELECT admin_id FROM approval_setting),
    at_fallback AS (SELECT coalesce(s.assigned_to = r.fallback_id OR r.fallback_id = ANY (s.moved_from), false)
                           AS yes FROM r),
    cand AS (
        SELECT kefu_delegate_of(s.assigned_to) AS to_id, 'delegate' AS how,
               CASE WHEN s.on_timeout = 'delegate' THEN 1 ELSE 2 END AS pref
          FROM at_fallback WHERE NOT yes
        UNION ALL
        SELECT m.manager_id, 'escalate', CASE WHEN s.on_timeout = 'delegate' THEN 2 ELSE 1 END
          FROM staff m, at_fallback WHERE m.id = s.assigned_to AND NOT yes
        UNION ALL
        SELECT r.fallback_id, 'fallback', 3 FROM r, at_fallback WHERE NOT yes
        UNION ALL
        SELECT adm.admin_id, 'admin', 4 FROM adm
    )
    SELECT c.to_id, c.how FROM cand c JOIN staff st ON st.id = c.to_id AND st.active
     WHERE c.to_id <> s.assigned_to AND NOT c.to_id = ANY (s.moved_from)
     ORDER BY c.pref LIMIT 1
$$;

-- Applies the timeout action of up to p_limit steps past their deadline
-- ('approve' approves; the others move the step along kefu_approval_next
-- with a fresh deadline). A step with no one left is marked stalled and
-- approval.step_stalled warns the recipients; it keeps its deadline, so it
-- stays overdue. Requests another instance holds are skipped.
CREATE OR REPLACE FUNCTION kefu_approval_timeout_due(p_limit integer, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    s approval_step;
    r approval_request;
    v_no text;
    v_to text;
    v_action text;
    e event;
BEGIN
    FOR s IN SELECT st.* FROM approval_step st JOIN approval_request rq ON rq.id = st.request_id
              WHERE st.status = 'pending' AND st.stalled_at IS NULL
                AND st.deadline_at <= clock_timestamp()
              ORDER BY st.deadline_at LIMIT p_limit
                FOR UPDATE OF rq SKIP LOCKED LOOP
        -- The scan's snapshot may predate another instance's move of this
        -- step, committed just before we took the request's lock (a lock
        -- that was only held, not written, is not re-checked): read the
        -- step again now that we hold the lock, and leave it if it moved.
        SELECT * INTO s FROM approval_step WHERE id = s.id;
        CONTINUE WHEN s.status <> 'pending' OR s.stalled_at IS NOT NULL
                   OR s.deadline_at > clock_timestamp();
        SELECT * INTO r FROM approval_request WHERE id = s.request_id;
        SELECT no INTO v_no FROM ticket WHERE id = r.ticket_id;
        IF s.on_timeout = 'approve' THEN
            UPDATE approval_step SET status = 'approved', outcome = 'auto_approve',
                   decided_at = clock_timestamp(), on_behalf_of = s.assigned_to, deadline_at = NULL
             WHERE id = s.id RETURNING * INTO s;
            PERFORM kefu_approval_history(r.id, NULL, format(
                'approval %s stage %s %s: approved at the deadline (policy) for %s', r.id, s.stage,
                s.label, s.assigned_to), NULL);
            e := kefu_emit('approval.step_decided', v_no, p_src, jsonb_build_object(
                'request', r.id, 'ticket', v_no, 'step', s.id, 'stage', s.stage, 'label', s.label,
                'outcome', 'auto_approve', 'on_behalf_of', s.assigned_to,
                'decided_at', kefu_ms(s.decided_at)));
            RETURN NEXT kefu_approval_ev(e);
            RETURN NEXT kefu_approval_info(kefu_approval_stage_facts(r.id));
            CONTINUE;
        END IF;
        SELECT n.to_id, n.how INTO v_to, v_action FROM kefu_approval_next(s) n;
        IF v_to IS NULL THEN
            UPDATE approval_step SET stalled_at = clock_timestamp() WHERE id = s.id RETURNING * INTO s;
            PERFORM kefu_approval_history(r.id, NULL, format(
                'approval %s stage %s %s: deadline passed and no one is left to move it to; waiting on %s',
                r.id, s.stage, s.label, s.assigned_to), 'deadline');
            e := kefu_emit('approval.step_stalled', v_no, p_src, jsonb_build_object(
                'request', r.id, 'ticket', v_no, 'step', s.id, 'stage', s.stage, 'label', s.label,
                'assigned_to', s.assigned_to, 'deadline_at', kefu_ms(s.deadline_at),
                'moved_from', to_jsonb(s.moved_from),
                'recipients', to_jsonb(kefu_approval_recipients(r.id))));
            RETURN NEXT kefu_approval_ev(e);
            RETURN QUERY SELECT * FROM kefu_approval_flag_risk(r.id, NULL,
                format('step %s (%s) of %s passed its deadline and has no one to move to', s.id,
                       s.label, s.assigned_to), p_src);
            CONTINUE;
        END IF;
        UPDATE approval_step
           SET moved_from = moved_from || assigned_to, acting_for = coalesce(acting_for, assigned_to),
               assigned_to = v_to, moves = moves + 1, assigned_at = clock_timestamp(),
               deadline_at = clock_timestamp() + make_interval(secs => deadline_s),
               remind_at = clock_timestamp() + make_interval(secs => remind_s), reminded_at = NULL
         WHERE id = s.id RETURNING * INTO s;
        PERFORM kefu_approval_history(r.id, NULL, format(
            'approval %s stage %s %s: deadline passed, %s %s', r.id, s.stage, s.label,
            CASE v_action WHEN 'delegate' THEN 'passed to the delegate'
                          WHEN 'escalate' THEN 'escalated to the manager'
                          WHEN 'fallback' THEN 'passed to the policy''s fallback approver'
                          ELSE 'passed to the approval administrator' END, v_to),
            'deadline');
        e := kefu_emit('approval.step_escalated', v_no, p_src, jsonb_strip_nulls(jsonb_build_object(
            'request', r.id, 'ticket', v_no, 'step', s.id, 'stage', s.stage, 'label', s.label,
            'action', v_action, 'from', s.moved_from[cardinality(s.moved_from)], 'to', v_to,
            'delegate', kefu_delegate_of(v_to),
            'acting_for', s.acting_for, 'reason', 'deadline', 'moves', s.moves,
            'deadline_at', kefu_ms(s.deadline_at))));
        RETURN NEXT kefu_approval_ev(e);
        RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
    END LOOP;
END $$;

-- Moves pending step p_step to p_to (approval.reassign), by the holder of
-- p_key: the approval administrator, staff of role admin, or the head of
-- the requester's department. Recorded in the trail with who and why, and
-- published as approval.step_escalated (action reassign). The same move
-- again by the same person is a duplicate.
CREATE FUNCTION kefu_approval_reassign(p_key text, p_step bigint, p_to text, p_reason text,
                                       p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    v_role text;
    v_request bigint;
    r approval_request;
    s approval_step;
    t ticket;
    v_head text;
    v_admin text;
    v_from text;
    e event;
BEGIN
    SELECT a.staff_id, a.role INTO v_actor, v_role FROM kefu_key_actor(p_key) a;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
        RETURN;
    END IF;
    SELECT request_id INTO v_request FROM approval_step WHERE id = p_step;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'step', format('no approval step %s', p_step));
        RETURN;
    END IF;
    SELECT * INTO r FROM approval_request WHERE id = v_request FOR UPDATE;
    SELECT * INTO s FROM approval_step WHERE id = p_step;
    SELECT * INTO t FROM ticket WHERE id = r.ticket_id;
    SELECT admin_id INTO v_admin FROM approval_setting;
    SELECT d.head_id INTO v_head FROM staff q JOIN department d ON d.id = q.department_id
     WHERE q.id = r.requested_by;
    IF NOT (v_actor = v_admin OR v_role = 'admin' OR v_actor = v_head) THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('forbidden', 'step', format(
            '%s may not reassign step %s: only the approval administrator (%s), staff of role admin and the requester''s department head (%s) may',
            v_actor, s.id, coalesce(v_admin, 'none named'), coalesce(v_head, 'none')));
        RETURN;
    END IF;
    PERFORM 1 FROM staff WHERE id = p_to AND active;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'to', format('no active staff member %s', p_to));
        RETURN;
    END IF;
    IF s.status = 'pending' AND s.assigned_to = p_to THEN
        -- A retry of the move just made, or a move to whoever has it now.
        IF EXISTS (SELECT 1 FROM event ev WHERE ev.type = 'approval.step_escalated'
                     AND ev.corr = t.no AND (ev.body->>'step')::bigint = s.id
                     AND ev.body->>'action' = 'reassign' AND ev.body->>'by' = v_actor
                     AND ev.body->>'to' = p_to) THEN
            RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
                'request', r.id, 'step', s.id, 'stage', s.stage, 'to', p_to, 'by', v_actor,
                'duplicate', true, 'deadline_at', kefu_ms(s.deadline_at))));
        ELSE
            RETURN QUERY SELECT * FROM kefu_approval_err('bad_value', 'to',
                format('step %s is already with %s', s.id, p_to));
        END IF;
        RETURN;
    END IF;
    IF s.status <> 'pending' OR r.status <> 'pending' THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'step', format(
            'step %s (%s) of request %s is %s; only a pending step can be reassigned', s.id, s.label,
            r.id, CASE WHEN r.status <> 'pending' THEN 'part of a ' || r.status || ' request' ELSE s.status END));
        RETURN;
    END IF;
    v_from := s.assigned_to;
    UPDATE approval_step
       SET moved_from = moved_from || assigned_to, acting_for = coalesce(acting_for, approver),
           assigned_to = p_to, moves = moves + 1, assigned_at = clock_timestamp(),
           deadline_at = clock_timestamp() + make_interval(secs => deadline_s),
           remind_at = clock_timestamp() + make_interval(secs => remind_s), reminded_at = NULL,
           stalled_at = NULL
     WHERE id = s.id RETURNING * INTO s;
    PERFORM kefu_approval_history(r.id, v_actor, format(
        'approval %s stage %s %s: reassigned from %s to %s by %s', r.id, s.stage, s.label, v_from,
        p_to, v_actor), p_reason);
    e := kefu_emit('approval.step_escalated', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'step', s.id, 'stage', s.stage, 'label', s.label,
        'action', 'reassign', 'from', v_from, 'to', p_to, 'delegate', kefu_delegate_of(p_to),
        'by', v_actor, 'acting_for', s.acting_for, 'reason', p_reason, 'moves', s.moves,
        'deadline_at', kefu_ms(s.deadline_at))));
    RETURN NEXT kefu_approval_ev(e);
    RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'request', r.id, 'step', s.id, 'stage', s.stage, 'from', v_from, 'to', p_to, 'by', v_actor,
        'duplicate', false, 'deadline_at', kefu_ms(s.deadline_at))));
END $$;

-- Registers p_delegate as p_staff's delegate during [p_from, p_to), on
-- someone else's word (an operator, for an absent person: p_by says who,
-- p_reason why); registrations of p_staff overlapping it end. The delegate
-- may decide p_staff's pending steps at once; each of them gets a trail
-- row, and approval.delegate_set tells the delegate which steps they
-- cover. Returns the registration and the event.
CREATE FUNCTION kefu_delegate_put(p_staff text, p_delegate text, p_from timestamptz,
                                  p_to timestamptz, p_by text, p_reason text, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    d approval_delegate;
    v_steps jsonb;
    v_ticket text;
    e event;
BEGIN
    PERFORM 1 FROM staff WHERE id = p_staff;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'staff', format('no staff member %s', p_staff));
        RETURN;
    END IF;
    PERFORM 1 FROM staff WHERE id = p_delegate AND active;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'delegate', format('no active staff member %s', p_delegate));
        RETURN;
    END IF;
    IF p_delegate = p_staff THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('bad_value', 'delegate', 'a delegate must be someone else');
        RETURN;
    END IF;
    IF p_to <= p_from OR p_to <= clock_timestamp() THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('bad_value', 'until', 'the cover must end in the future, after it starts');
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('kefu.delegate'), hashtext(p_staff));
    UPDATE approval_delegate SET cleared_at = clock_timestamp()
     WHERE staff_id = p_staff AND cleared_at IS NULL AND valid && tstzrange(p_from, p_to);
    INSERT INTO approval_delegate (staff_id, delegate_id, valid, set_by, reason)
    VALUES (p_staff, p_delegate, tstzrange(p_from, p_to), p_by, p_reason) RETURNING * INTO d;
    -- The trail of every request with a pending step of p_staff.
    INSERT INTO ticket_history (ticket_id, action, actor, note, reason)
    SELECT DISTINCT ON (r.id) r.ticket_id, 'approval', NULL,
           format('approval %s: %s is absent; %s decides for %s from %s until %s (set by %s)', r.id,
                  p_staff, p_delegate, p_staff,
                  to_char(p_from AT TIME ZONE kefu_tz(), 'YYYY-MM-DD HH24:MI'),
                  to_char(p_to AT TIME ZONE kefu_tz(), 'YYYY-MM-DD HH24:MI'), p_by), p_reason
      FROM approval_step s JOIN approval_request r ON r.id = s.request_id
     WHERE s.status = 'pending' AND s.assigned_to = p_staff AND r.status = 'pending'
     ORDER BY r.id;
    SELECT jsonb_agg(jsonb_build_object('request', s.request_id, 'step', s.id, 'label', s.label,
                                        'ticket', t.no, 'deadline_at', kefu_ms(s.deadline_at))
                     ORDER BY s.deadline_at),
           min(t.no)
      INTO v_steps, v_ticket
      FROM approval_step s JOIN approval_request r ON r.id = s.request_id
      JOIN ticket t ON t.id = r.ticket_id
     WHERE s.status = 'pending' AND s.assigned_to = p_staff AND r.status = 'pending';
    e := kefu_emit('approval.delegate_set', coalesce(v_ticket, ''), p_src, jsonb_strip_nulls(jsonb_build_object(
        'staff', p_staff, 'delegate', p_delegate, 'to', p_delegate, 'from_at', kefu_ms(lower(d.valid)),
        'until_at', kefu_ms(upper(d.valid)), 'by', p_by, 'reason', p_reason,
        'steps', coalesce(v_steps, '[]'::jsonb))));
    RETURN NEXT kefu_approval_ev(e);
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'staff', p_staff, 'delegate', p_delegate, 'from', kefu_ms(lower(d.valid)),
        'to', kefu_ms(upper(d.valid)), 'id', d.id, 'steps', jsonb_array_length(coalesce(v_steps, '[]'::jsonb)))));
END $$;

-- A staff member's own registration (delegate.set) now also tells the
-- delegate which pending steps they cover (approval.delegate_set).
CREATE OR REPLACE FUNCTION kefu_delegate_set(p_key text, p_delegate text, p_from timestamptz, p_to timestamptz)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
BEGIN
    SELECT a.staff_id INTO v_actor FROM kefu_key_actor(p_key) a;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM kefu_delegate_put(v_actor, p_delegate, p_from, p_to, v_actor, NULL, 'kefu-approval');
END $$;

-- Creates or replaces a policy from JSON (deploy/ORG-FORMAT.md's shape, as
-- in 012) with its fallback approver ("fallback": staff id) and who hears
-- of its requests at risk ("warn_to": list). Running requests keep the copy
-- they took at open.
CREATE OR REPLACE FUNCTION kefu_approval_policy_put(p jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_id text := p->>'id';
BEGIN
    DELETE FROM approval_policy_stage WHERE policy_id = v_id;
    INSERT INTO approval_policy (id, name, request_type, min_fen, max_fen, is_default, fallback_id, warn_to)
    VALUES (v_id, coalesce(p->>'name', v_id), p->>'type',
            round(coalesce((p->>'min_yuan')::numeric, 0) * 100)::bigint,
            round((p->>'max_yuan')::numeric * 100)::bigint, coalesce((p->>'default')::boolean, true),
            p->>'fallback',
            coalesce((SELECT array_agg(x) FROM jsonb_array_elements_text(p->'warn_to') x),
                     ARRAY['approver', 'delegate', 'requester', 'owner_manager', 'service_centre_head']))
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, request_type = EXCLUDED.request_type,
        min_fen = EXCLUDED.min_fen, max_fen = EXCLUDED.max_fen, is_default = EXCLUDED.is_default,
        fallback_id = EXCLUDED.fallback_id, warn_to = EXCLUDED.warn_to, active = true;
    INSERT INTO approval_policy_stage (policy_id, stage, rule, quorum)
    SELECT v_id, st.n, st.v->>'rule', (st.v->>'quorum')::smallint
      FROM jsonb_array_elements(p->'stages') WITH ORDINALITY st(v, n);
    INSERT INTO approval_policy_step (policy_id, stage, step, label, approver_kind, approver,
                                      deadline_s, remind_s, on_timeout)
    SELECT v_id, st.n, sp.n, sp.v->>'label',
           CASE WHEN sp.v->'approver' ? 'staff' THEN 'staff' WHEN sp.v->'approver' ? 'head' THEN 'head'
                ELSE sp.v->'approver'->>'role' END,
           coalesce(sp.v->'approver'->>'staff', sp.v->'approver'->>'head'),
           (sp.v->>'deadline_s')::int, (sp.v->>'remind_s')::int, sp.v->>'on_timeout'
      FROM jsonb_array_elements(p->'stages') WITH ORDINALITY st(v, n),
           jsonb_array_elements(st.v->'steps') WITH ORDINALITY sp(v, n);
    RETURN v_id;
END $$;

-- What the approval daemon's /metrics shows, by policy: steps pending,
-- overdue (past their deadline and not moved: stalled, or not yet seen by
-- the scan for a second or more) and stalled, and requests at risk.
CREATE FUNCTION kefu_approval_gauges()
RETURNS TABLE (policy text, pending bigint, overdue bigint, stalled bigint, at_risk bigint)
LANGUAGE sql STABLE AS $$
    SELECT r.policy_id,
           count(s.id) FILTER (WHERE s.status = 'pending'),
           count(s.id) FILTER (WHERE s.status = 'pending'
                               AND (s.deadline_at <= clock_timestamp() - interval '1 second'
                                    OR s.stalled_at IS NOT NULL)),
           count(s.id) FILTER (WHERE s.status = 'pending' AND s.stalled_at IS NOT NULL),
           count(DISTINCT r.id) FILTER (WHERE r.at_risk_at IS NOT NULL)
      FROM approval_request r LEFT JOIN approval_step s ON s.request_id = r.id
     WHERE r.status = 'pending'
     GROUP BY r.policy_id
$$;

-- Reminds the assignees of up to p_limit steps past their reminder point
-- (as in 012). The UPDATE re-checks that the step is still pending and
-- unreminded, so a scan whose snapshot predates another instance's
-- reminder (committed before this one took the request's lock) does not
-- remind twice.
CREATE OR REPLACE FUNCTION kefu_approval_remind_due(p_limit integer, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE sql AS $$
    WITH due AS (
        SELECT s.id FROM approval_step s JOIN approval_request r ON r.id = s.request_id
         WHERE s.status = 'pending' AND s.reminded_at IS NULL AND s.remind_at <= clock_timestamp()
         ORDER BY s.remind_at LIMIT p_limit
           FOR UPDATE OF r SKIP LOCKED
    ), reminded AS (
        UPDATE approval_step s SET reminded_at = clock_timestamp() FROM due
         WHERE s.id = due.id AND s.status = 'pending' AND s.reminded_at IS NULL
        RETURNING s.*
    )
    SELECT (kefu_approval_ev(e)).* FROM reminded s JOIN approval_request r ON r.id = s.request_id
      JOIN ticket t ON t.id = r.ticket_id,
      LATERAL kefu_emit('approval.step_reminded', t.no, p_src, jsonb_build_object(
          'request', r.id, 'ticket', t.no, 'step', s.id, 'stage', s.stage, 'label', s.label,
          'to', s.assigned_to, 'deadline_at', kefu_ms(s.deadline_at),
          'reminded_at', kefu_ms(s.reminded_at))) e
$$;
