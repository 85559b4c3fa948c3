-- kefu store, part 12: approvals (审批) that never stall.
--
-- A policy, per request type and amount band, is a list of stages run in
-- order; the steps of a stage run in parallel and the stage completes on
-- all, any, or N of its M steps approving. Each step has a deadline, a
-- reminder point and a timeout action: pass the step to the approver's
-- registered delegate, escalate it to their manager, or (only where the
-- policy says so) approve it.
--
-- Amounts are bigint fen (1/100 yuan), never floats; the wire carries yuan
-- as a decimal string with at most two decimals (proto/catalog.md).
--
-- Like 004, every change writes its events (kefu_emit) and a ticket_history
-- row in the caller's transaction. The functions return kefu_approval_out
-- rows: one row carrying either an error (err_code, err_field, err_message)
-- or the reply in info, plus one row per event written, and rows whose
-- info holds facts for kefu-approval's own decisions:
--   {"stage": {...counts}}  a stage whose outcome the daemon decides
--                           (services/approval/rules.c), then records with
--                           kefu_approval_advance;
--   {"risk": {...}}         a request whose schedule changed: the daemon
--                           decides whether it can still finish before the
--                           promised date and records kefu_approval_flag_risk.
-- Every write to a step holds its request's row lock: deciders take it
-- with FOR UPDATE, the deadline scan with FOR UPDATE SKIP LOCKED, so they
-- never deadlock and several daemons share the scan.

CREATE TABLE approval_policy (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{0,31}$'),
    name         text NOT NULL,
    request_type text NOT NULL
                 CHECK (request_type IN ('settlement', 'repair_cost', 'refund', 'policy_exception')),
    min_fen      bigint NOT NULL DEFAULT 0 CHECK (min_fen >= 0),   -- band [min_fen, max_fen)
    max_fen      bigint CHECK (max_fen IS NULL OR max_fen > min_fen), -- NULL: no upper bound
    is_default   boolean NOT NULL DEFAULT true, -- chosen when a request names no policy
    active       boolean NOT NULL DEFAULT true
);
CREATE INDEX approval_policy_type_idx ON approval_policy (request_type, min_fen);

CREATE TABLE approval_policy_stage (
    policy_id text NOT NULL REFERENCES approval_policy (id) ON DELETE CASCADE,
    stage     smallint NOT NULL CHECK (stage BETWEEN 1 AND 20),
    rule      text NOT NULL CHECK (rule IN ('all', 'any', 'quorum')),
    quorum    smallint CHECK (quorum IS NULL OR quorum >= 1), -- approvals needed (rule quorum)
    PRIMARY KEY (policy_id, stage),
    CHECK (rule <> 'quorum' OR quorum IS NOT NULL)
);

-- approver_kind: 'staff' (approver = staff id), 'head' (approver = a
-- department id: its head), 'owner_manager' (the ticket owner's manager),
-- 'project_gm' (the ticket's project general manager).
CREATE TABLE approval_policy_step (
    policy_id     text NOT NULL,
    stage         smallint NOT NULL,
    step          smallint NOT NULL CHECK (step BETWEEN 1 AND 20),
    label         text NOT NULL,
    approver_kind text NOT NULL CHECK (approver_kind IN ('staff', 'head', 'owner_manager', 'project_gm')),
    approver      text,
    deadline_s    integer NOT NULL CHECK (deadline_s > 0),
    remind_s      integer CHECK (remind_s IS NULL OR (remind_s > 0 AND remind_s < deadline_s)),
    on_timeout    text NOT NULL CHECK (on_timeout IN ('delegate', 'escalate', 'approve')),
    PRIMARY KEY (policy_id, stage, step),
    FOREIGN KEY (policy_id, stage) REFERENCES approval_policy_stage (policy_id, stage) ON DELETE CASCADE,
    CHECK ((approver_kind IN ('staff', 'head')) = (approver IS NOT NULL))
);

-- Holiday cover: staff_id's steps may be decided by delegate_id during
-- [from, to); at a 'delegate' timeout the step passes to them.
CREATE TABLE approval_delegate (
    id          bigserial PRIMARY KEY,
    staff_id    text NOT NULL REFERENCES staff (id),
    delegate_id text NOT NULL REFERENCES staff (id),
    valid       tstzrange NOT NULL CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    cleared_at  timestamptz,
    CHECK (staff_id <> delegate_id)
);
CREATE INDEX approval_delegate_staff_idx ON approval_delegate (staff_id) WHERE cleared_at IS NULL;
CREATE INDEX approval_delegate_delegate_idx ON approval_delegate (delegate_id) WHERE cleared_at IS NULL;

CREATE TABLE approval_request (
    id            bigserial PRIMARY KEY,
    idem          text UNIQUE,            -- the client's request id: a retry finds this row
    ticket_id     bigint NOT NULL REFERENCES ticket (id),
    request_type  text NOT NULL,
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    reason        text NOT NULL,
    promised_date date NOT NULL,
    promised_at   timestamptz NOT NULL,   -- the end of the promised day in kefu_tz()
    policy_id     text NOT NULL REFERENCES approval_policy (id),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    stage         smallint NOT NULL DEFAULT 1,  -- the current stage while pending
    requested_by  text NOT NULL REFERENCES staff (id),
    requested_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at  timestamptz,
    at_risk_at    timestamptz,            -- when approval.at_risk was written (once)
    CHECK ((status = 'pending') = (completed_at IS NULL))
);
CREATE INDEX approval_request_ticket_idx ON approval_request (ticket_id);
CREATE INDEX approval_request_completed_idx ON approval_request (completed_at);

CREATE TABLE approval_step (
    id           bigserial PRIMARY KEY,
    request_id   bigint NOT NULL REFERENCES approval_request (id),
    stage        smallint NOT NULL,
    step         smallint NOT NULL,
    label        text NOT NULL,
    approver     text NOT NULL REFERENCES staff (id), -- resolved from the policy at request time
    deadline_s   integer NOT NULL,                     -- the policy's, copied: edits do not
    remind_s     integer,                              -- change running requests
    on_timeout   text NOT NULL,
    status       text NOT NULL DEFAULT 'waiting'
                 CHECK (status IN ('waiting', 'pending', 'approved', 'rejected', 'skipped')),
    assigned_to  text REFERENCES staff (id),  -- who decides it now
    acting_for   text REFERENCES staff (id),  -- the approver, once a timeout moved the step
    moved_from   text[] NOT NULL DEFAULT '{}', -- earlier assignees, oldest first
    moves        smallint NOT NULL DEFAULT 0,
    assigned_at  timestamptz,
    deadline_at  timestamptz,
    remind_at    timestamptz,
    reminded_at  timestamptz,
    outcome      text CHECK (outcome IN ('approve', 'reject', 'auto_approve')),
    decided_by   text REFERENCES staff (id),  -- NULL for auto_approve
    on_behalf_of text REFERENCES staff (id),  -- whose step it was, when not decided_by's own
    decided_at   timestamptz,
    comment      text,
    decision_id  text,                        -- the client's request id of the decision
    UNIQUE (request_id, stage, step),
    CHECK ((status IN ('approved', 'rejected')) = (decided_at IS NOT NULL))
);
CREATE INDEX approval_step_deadline_idx ON approval_step (deadline_at) WHERE status = 'pending';
CREATE INDEX approval_step_remind_idx ON approval_step (remind_at)
    WHERE status = 'pending' AND reminded_at IS NULL;
CREATE INDEX approval_step_assignee_idx ON approval_step (assigned_to, deadline_at)
    WHERE status = 'pending';
CREATE INDEX approval_step_decided_by_idx ON approval_step (decided_by);

-- The ticket's history shows the approval trail.
ALTER TABLE ticket_history DROP CONSTRAINT ticket_history_action_check;
ALTER TABLE ticket_history ADD CONSTRAINT ticket_history_action_check
    CHECK (action IN ('submitted', 'routed', 'responded', 'transferred', 'escalated',
                      'resolved', 'reopened', 'closed', 'approval'));

-- What every approval function returns (see the top of this file).
CREATE TYPE kefu_approval_out AS (
    err_code text, err_field text, err_message text, info jsonb,
    ev_seq bigint, ev_id uuid, ev_type text, ev_corr text, ev_src text, ev_at bigint, ev_body text);

CREATE FUNCTION kefu_approval_err(p_code text, p_field text, p_message text)
RETURNS SETOF kefu_approval_out LANGUAGE sql IMMUTABLE AS $$
    SELECT p_code, p_field, p_message, NULL::jsonb, NULL::bigint, NULL::uuid, NULL::text,
           NULL::text, NULL::text, NULL::bigint, NULL::text
$$;

CREATE FUNCTION kefu_approval_info(p_info jsonb)
RETURNS kefu_approval_out LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(NULL, NULL, NULL, p_info, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::kefu_approval_out
$$;

CREATE FUNCTION kefu_approval_ev(e event)
RETURNS kefu_approval_out LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(NULL, NULL, NULL, NULL, e.seq, e.id, e.type, e.corr, e.src, kefu_ms(e.at),
               e.body::text)::kefu_approval_out
$$;

-- The staff member whose delegate p_staff names at this instant, or NULL.
CREATE FUNCTION kefu_delegate_of(p_staff text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT d.delegate_id FROM approval_delegate d JOIN staff s ON s.id = d.delegate_id AND s.active
     WHERE d.staff_id = p_staff AND d.cleared_at IS NULL AND d.valid @> clock_timestamp()
     ORDER BY lower(d.valid) DESC LIMIT 1
$$;

-- The approver a policy step names for a ticket, or NULL.
CREATE FUNCTION kefu_approval_approver(p_kind text, p_ref text, p_ticket bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT s.id FROM staff s
     WHERE s.active AND s.id = CASE p_kind
        WHEN 'staff' THEN p_ref
        WHEN 'head' THEN (SELECT head_id FROM department WHERE id = p_ref)
        WHEN 'owner_manager' THEN (SELECT o.manager_id FROM ticket t JOIN staff o ON o.id = t.owner_id
                                    WHERE t.id = p_ticket)
        WHEN 'project_gm' THEN (SELECT p.gm_id FROM ticket t JOIN project p ON p.id = t.project_id
                                 WHERE t.id = p_ticket)
        END
$$;

-- Facts for the at-risk decision: when the current stage ends at the
-- latest (its pending steps' deadlines) and how long the later stages take
-- at most (the longest step of each).
CREATE FUNCTION kefu_approval_risk_facts(p_request bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('risk', jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'at_risk', r.at_risk_at IS NOT NULL,
        'promised_ms', kefu_ms(r.promised_at), 'now_ms', kefu_ms(clock_timestamp()),
        'stage_end_ms', (SELECT max(kefu_ms(s.deadline_at)) FROM approval_step s
                          WHERE s.request_id = r.id AND s.stage = r.stage AND s.status = 'pending'),
        'later_s', coalesce((SELECT sum(m) FROM (SELECT max(s.deadline_s) AS m FROM approval_step s
                              WHERE s.request_id = r.id AND s.stage > r.stage GROUP BY s.stage) x), 0)))
      FROM approval_request r JOIN ticket t ON t.id = r.ticket_id
     WHERE r.id = p_request AND r.status = 'pending'
$$;

-- Facts for the stage decision: the counts of the request's current stage.
CREATE FUNCTION kefu_approval_stage_facts(p_request bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('stage', jsonb_build_object(
        'request', r.id, 'stage', r.stage, 'rule', ps.rule, 'quorum', ps.quorum,
        'total', count(*), 'approved', count(*) FILTER (WHERE s.status = 'approved'),
        'rejected', count(*) FILTER (WHERE s.status = 'rejected')))
      FROM approval_request r
      JOIN approval_policy_stage ps ON ps.policy_id = r.policy_id AND ps.stage = r.stage
      JOIN approval_step s ON s.request_id = r.id AND s.stage = r.stage
     WHERE r.id = p_request AND r.status = 'pending'
     GROUP BY r.id, r.stage, ps.rule, ps.quorum
$$;

-- One history row of the approval trail on the request's ticket.
CREATE FUNCTION kefu_approval_history(p_request bigint, p_actor text, p_note text, p_reason text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_history (ticket_id, action, actor, note, reason)
    SELECT r.ticket_id, 'approval', p_actor, p_note, p_reason FROM approval_request r WHERE r.id = p_request
$$;

-- Opens the steps of the request's current stage: assigned to their
-- approvers, deadlines running. Returns their approval.step_assigned events.
CREATE FUNCTION kefu_approval_assign(p_request bigint, p_src text)
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
      LATERAL kefu_emit('approval.step_assigned', t.no, p_src, jsonb_build_object(
          'request', r.id, 'ticket', t.no, 'step', o.id, 'stage', o.stage, 'label', o.label,
          'to', o.assigned_to, 'type', r.request_type, 'amount_fen', r.amount_fen,
          'deadline_at', kefu_ms(o.deadline_at), 'remind_at', kefu_ms(o.remind_at))) e
     ORDER BY o.step
$$;

-- Opens an approval request on a ticket (approval.request). The actor is
-- the holder of p_key. A known p_idem returns that request (duplicate).
CREATE FUNCTION kefu_approval_open(p_key text, p_idem text, p_ticket text, p_type text,
                                   p_amount_fen bigint, p_reason text, p_promised date,
                                   p_policy text, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    v_role text;
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
    SELECT * INTO r FROM approval_request WHERE idem = p_idem;
    IF FOUND THEN
        RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
            'request', r.id, 'duplicate', true, 'status', r.status, 'policy', r.policy_id)));
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

    INSERT INTO approval_request (idem, ticket_id, request_type, amount_fen, reason, promised_date,
                                  promised_at, policy_id, requested_by)
    VALUES (p_idem, t.id, p_type, p_amount_fen, p_reason, p_promised,
            ((p_promised + 1)::timestamp AT TIME ZONE kefu_tz()), p.id, v_actor)
    RETURNING * INTO r;
    INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, remind_s, on_timeout)
    SELECT r.id, ps.stage, ps.step, ps.label, kefu_approval_approver(ps.approver_kind, ps.approver, t.id),
           ps.deadline_s, ps.remind_s, ps.on_timeout
      FROM approval_policy_step ps WHERE ps.policy_id = p.id;
    PERFORM kefu_approval_history(r.id, v_actor,
        format('approval %s requested: %s %s.%s yuan, policy %s, promised %s', r.id, p_type,
               p_amount_fen / 100, lpad((p_amount_fen % 100)::text, 2, '0'), p.id, p_promised), p_reason);
    e := kefu_emit('approval.requested', t.no, p_src, jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'type', p_type, 'amount_fen', p_amount_fen,
        'reason', p_reason, 'promised', p_promised::text, 'policy', p.id,
        'stages', (SELECT count(*) FROM approval_policy_stage WHERE policy_id = p.id),
        'actor', v_actor));
    RETURN NEXT kefu_approval_ev(e);
    RETURN QUERY SELECT (kefu_approval_ev(a)).* FROM kefu_approval_assign(r.id, p_src) a;
    RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'request', r.id, 'duplicate', false, 'status', r.status, 'policy', p.id, 'ticket', t.no,
        'stage', r.stage, 'promised_at', kefu_ms(r.promised_at))));
END $$;

-- Records an approver's decision (approval.decide) on request p_request:
-- the actor's pending step of its current stage (or p_step), their own or
-- one whose assignee named them delegate for now. A replay (same p_decision
-- or the same outcome again by the same person) returns that decision as
-- duplicate. Returns the stage facts for the daemon's stage decision.
CREATE FUNCTION kefu_approval_decide(p_key text, p_request bigint, p_step bigint, p_outcome text,
                                     p_comment text, p_decision text, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    r approval_request;
    s approval_step;
    t ticket;
    e event;
BEGIN
    SELECT a.staff_id INTO v_actor FROM kefu_key_actor(p_key) a;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
        RETURN;
    END IF;
    SELECT * INTO r FROM approval_request WHERE id = p_request FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'request', format('no approval request %s', p_request));
        RETURN;
    END IF;
    IF p_step IS NOT NULL AND NOT EXISTS (SELECT 1 FROM approval_step WHERE id = p_step AND request_id = r.id) THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'step',
            format('request %s has no step %s', r.id, p_step));
        RETURN;
    END IF;
    -- The same decision again: a retry of this request id, or the same person
    -- deciding the same way on a step they decided.
    SELECT * INTO s FROM approval_step
     WHERE request_id = r.id AND (p_step IS NULL OR id = p_step) AND decided_by = v_actor
       AND (decision_id = p_decision OR (outcome = p_outcome AND NOT EXISTS (
            SELECT 1 FROM approval_step x WHERE x.request_id = r.id AND x.status = 'pending'
               AND (x.assigned_to = v_actor OR kefu_delegate_of(x.assigned_to) = v_actor)
               AND (p_step IS NULL OR x.id = p_step))))
     ORDER BY (decision_id = p_decision) DESC, decided_at DESC LIMIT 1;
    IF FOUND THEN
        IF s.outcome <> p_outcome THEN
            RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'decision',
                format('request %s id %s was already answered with %s', r.id, p_decision, s.outcome));
            RETURN;
        END IF;
        RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_strip_nulls(jsonb_build_object(
            'request', r.id, 'step', s.id, 'stage', s.stage, 'outcome', s.outcome, 'duplicate', true,
            'decided_by', s.decided_by, 'on_behalf_of', s.on_behalf_of, 'decided_at', kefu_ms(s.decided_at),
            'status', r.status))));
        RETURN;
    END IF;
    SELECT * INTO s FROM approval_step x
     WHERE x.request_id = r.id AND x.stage = r.stage AND x.status = 'pending' AND r.status = 'pending'
       AND (p_step IS NULL OR x.id = p_step)
       AND (x.assigned_to = v_actor OR kefu_delegate_of(x.assigned_to) = v_actor)
     ORDER BY (x.assigned_to = v_actor) DESC, x.step LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_refusal(r, p_step, v_actor);
        RETURN;
    END IF;
    UPDATE approval_step
       SET status = CASE p_outcome WHEN 'approve' THEN 'approved' ELSE 'rejected' END,
           outcome = p_outcome, decided_by = v_actor, decided_at = clock_timestamp(),
           on_behalf_of = CASE WHEN s.assigned_to <> v_actor THEN s.assigned_to ELSE s.acting_for END,
           comment = p_comment, decision_id = p_decision
     WHERE id = s.id RETURNING * INTO s;
    SELECT * INTO t FROM ticket WHERE id = r.ticket_id;
    PERFORM kefu_approval_history(r.id, v_actor,
        format('approval %s stage %s %s: %s%s', r.id, s.stage, s.label, p_outcome,
               CASE WHEN s.on_behalf_of IS NOT NULL THEN ' on behalf of ' || s.on_behalf_of ELSE '' END),
        p_comment);
    e := kefu_emit('approval.step_decided', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'step', s.id, 'stage', s.stage, 'label', s.label,
        'outcome', p_outcome, 'decided_by', v_actor, 'on_behalf_of', s.on_behalf_of,
        'comment', p_comment, 'decided_at', kefu_ms(s.decided_at))));
    RETURN NEXT kefu_approval_ev(e);
    RETURN NEXT kefu_approval_info(kefu_approval_stage_facts(r.id));
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_strip_nulls(jsonb_build_object(
        'request', r.id, 'step', s.id, 'stage', s.stage, 'outcome', p_outcome, 'duplicate', false,
        'decided_by', v_actor, 'on_behalf_of', s.on_behalf_of, 'decided_at', kefu_ms(s.decided_at)))));
END $$;

-- Why p_actor may not decide anything on r now: the named error.
CREATE FUNCTION kefu_approval_refusal(r approval_request, p_step bigint, p_actor text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql STABLE AS $$
DECLARE
    s approval_step;
BEGIN
    SELECT * INTO s FROM approval_step x
     WHERE x.request_id = r.id AND (p_step IS NULL OR x.id = p_step) AND x.decided_by = p_actor
     ORDER BY x.decided_at DESC LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'request', format(
            'you already decided request %s step %s (%s): %s at %s', r.id, s.id, s.label, s.outcome,
            to_char(s.decided_at AT TIME ZONE kefu_tz(), 'YYYY-MM-DD HH24:MI:SS')));
        RETURN;
    END IF;
    SELECT * INTO s FROM approval_step x
     WHERE x.request_id = r.id AND (p_step IS NULL OR x.id = p_step) AND p_actor = ANY (x.moved_from)
     ORDER BY x.stage DESC LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'request', format(
            'the deadline of request %s step %s (%s) passed; the step moved to %s%s', r.id, s.id,
            s.label, s.assigned_to, CASE WHEN s.status <> 'pending'
                THEN format(', who has decided it (%s)', s.status) ELSE '' END));
        RETURN;
    END IF;
    SELECT * INTO s FROM approval_step x
     WHERE x.request_id = r.id AND (p_step IS NULL OR x.id = p_step)
       AND (x.assigned_to = p_actor OR x.approver = p_actor)
     ORDER BY x.stage DESC, x.step LIMIT 1;
    IF FOUND AND s.status = 'skipped' THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'request', format(
            'request %s stage %s was already decided without step %s (%s): %s', r.id, s.stage, s.id,
            s.label, (SELECT string_agg(format('%s %s', x.decided_by, x.status), ', ')
                        FROM approval_step x WHERE x.request_id = r.id AND x.stage = s.stage
                         AND x.decided_at IS NOT NULL)));
        RETURN;
    END IF;
    IF r.status <> 'pending' THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'request',
            format('request %s is %s', r.id, r.status));
        RETURN;
    END IF;
    IF FOUND AND s.status = 'waiting' THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'request', format(
            'request %s is at stage %s; step %s (%s) is in stage %s', r.id, r.stage, s.id, s.label, s.stage));
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM kefu_approval_err('forbidden', 'request', format(
        'no pending step of request %s is assigned to %s or to someone who named %s delegate',
        r.id, p_actor, p_actor));
END $$;

-- Records the outcome the daemon decided for the request's current stage
-- (p_outcome 'approved' or 'rejected'): the stage's undecided steps are
-- skipped; then the next stage opens, or the request completes.
CREATE FUNCTION kefu_approval_advance(p_request bigint, p_stage integer, p_outcome text, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    r approval_request;
    t ticket;
    v_last smallint;
    e event;
BEGIN
    SELECT * INTO r FROM approval_request WHERE id = p_request AND stage = p_stage AND status = 'pending'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO t FROM ticket WHERE id = r.ticket_id;
    UPDATE approval_step SET status = 'skipped', deadline_at = NULL, remind_at = NULL
     WHERE request_id = r.id AND stage = r.stage AND status IN ('pending', 'waiting');
    SELECT max(stage) INTO v_last FROM approval_step WHERE request_id = r.id;
    IF p_outcome = 'approved' AND r.stage < v_last THEN
        UPDATE approval_request SET stage = stage + 1 WHERE id = r.id;
        RETURN QUERY SELECT (kefu_approval_ev(a)).* FROM kefu_approval_assign(r.id, p_src) a;
        RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
        RETURN;
    END IF;
    UPDATE approval_step SET status = 'skipped' WHERE request_id = r.id AND status = 'waiting';
    UPDATE approval_request SET status = p_outcome, completed_at = clock_timestamp()
     WHERE id = r.id RETURNING * INTO r;
    PERFORM kefu_approval_history(r.id, NULL, format('approval %s %s at stage %s after %s s', r.id,
        r.status, r.stage, round(extract(epoch FROM r.completed_at - r.requested_at), 3)), NULL);
    e := kefu_emit('approval.completed', t.no, p_src, jsonb_build_object(
        'request', r.id, 'ticket', t.no, 'outcome', r.status, 'type', r.request_type,
        'amount_fen', r.amount_fen, 'stage', r.stage, 'requested_at', kefu_ms(r.requested_at),
        'completed_at', kefu_ms(r.completed_at),
        'cycle_ms', kefu_ms(r.completed_at) - kefu_ms(r.requested_at),
        'requested_by', r.requested_by, 'owner', t.owner_id));
    RETURN NEXT kefu_approval_ev(e);
END $$;

-- Records that the daemon found the request can no longer finish before
-- its promised date (approval.at_risk, once): the ticket owner's manager
-- (else the owner) is the recipient.
CREATE FUNCTION kefu_approval_flag_risk(p_request bigint, p_projected_ms bigint, p_reason text,
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
        'promised_at', kefu_ms(r.promised_at), 'projected_at', p_projected_ms, 'stage', r.stage)));
    RETURN NEXT kefu_approval_ev(e);
END $$;

-- Reminds the assignees of up to p_limit steps past their reminder point
-- (approval.step_reminded, once per assignment). Requests another instance
-- holds are skipped.
CREATE FUNCTION kefu_approval_remind_due(p_limit integer, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE sql AS $$
    WITH due AS (
        SELECT s.id FROM approval_step s JOIN approval_request r ON r.id = s.request_id
         WHERE s.status = 'pending' AND s.reminded_at IS NULL AND s.remind_at <= clock_timestamp()
         ORDER BY s.remind_at LIMIT p_limit
           FOR UPDATE OF r SKIP LOCKED
    ), reminded AS (
        UPDATE approval_step s SET reminded_at = clock_timestamp() FROM due WHERE s.id = due.id
        RETURNING s.*
    )
    SELECT (kefu_approval_ev(e)).* FROM reminded s JOIN approval_request r ON r.id = s.request_id
      JOIN ticket t ON t.id = r.ticket_id,
      LATERAL kefu_emit('approval.step_reminded', t.no, p_src, jsonb_build_object(
          'request', r.id, 'ticket', t.no, 'step', s.id, 'stage', s.stage, 'label', s.label,
          'to', s.assigned_to, 'deadline_at', kefu_ms(s.deadline_at),
          'reminded_at', kefu_ms(s.reminded_at))) e
$$;

-- Applies the timeout action of up to p_limit steps past their deadline:
-- 'delegate' passes the step to its assignee's delegate for now (else their
-- manager), 'escalate' to their manager (else their delegate), each with a
-- fresh deadline; 'approve' approves it (the stage facts go to the daemon).
-- A step with no one to move to (or moved 5 times) stops its clock and the
-- request is reported at risk. Requests another instance holds are skipped.
CREATE FUNCTION kefu_approval_timeout_due(p_limit integer, p_src text)
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
              WHERE st.status = 'pending' AND st.deadline_at <= clock_timestamp()
              ORDER BY st.deadline_at LIMIT p_limit
                FOR UPDATE OF rq SKIP LOCKED LOOP
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
        v_action := s.on_timeout;
        SELECT x.to_id, x.how INTO v_to, v_action FROM (
            SELECT kefu_delegate_of(s.assigned_to) AS to_id, 'delegate' AS how, 1 AS pref
            UNION ALL
            SELECT m.manager_id, 'escalate', 2 FROM staff m JOIN staff mm ON mm.id = m.manager_id AND mm.active
             WHERE m.id = s.assigned_to) x
         WHERE x.to_id IS NOT NULL AND x.to_id <> s.assigned_to AND NOT x.to_id = ANY (s.moved_from)
         ORDER BY CASE WHEN x.how = s.on_timeout THEN 0 ELSE x.pref END LIMIT 1;
        IF v_to IS NULL OR s.moves >= 5 THEN
            UPDATE approval_step SET deadline_at = NULL WHERE id = s.id;
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
            'approval %s stage %s %s: deadline passed, %s to %s', r.id, s.stage, s.label,
            CASE v_action WHEN 'delegate' THEN 'passed to the delegate' ELSE 'escalated' END, v_to),
            'deadline');
        e := kefu_emit('approval.step_escalated', v_no, p_src, jsonb_build_object(
            'request', r.id, 'ticket', v_no, 'step', s.id, 'stage', s.stage, 'label', s.label,
            'action', v_action, 'from', s.moved_from[cardinality(s.moved_from)], 'to', v_to,
            'acting_for', s.acting_for, 'reason', 'deadline', 'moves', s.moves,
            'deadline_at', kefu_ms(s.deadline_at)));
        RETURN NEXT kefu_approval_ev(e);
        RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
    END LOOP;
END $$;

-- Registers p_delegate as the actor's delegate during [p_from, p_to);
-- registrations of the actor overlapping it end (they are replaced).
CREATE FUNCTION kefu_delegate_set(p_key text, p_delegate text, p_from timestamptz, p_to timestamptz)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    d approval_delegate;
BEGIN
    SELECT a.staff_id INTO v_actor FROM kefu_key_actor(p_key) a;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
        RETURN;
    END IF;
    PERFORM 1 FROM staff WHERE id = p_delegate AND active;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('not_found', 'delegate', format('no active staff member %s', p_delegate));
        RETURN;
    END IF;
    IF p_delegate = v_actor THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('bad_value', 'delegate', 'a delegate must be someone else');
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('kefu.delegate'), hashtext(v_actor));
    UPDATE approval_delegate SET cleared_at = clock_timestamp()
     WHERE staff_id = v_actor AND cleared_at IS NULL AND valid && tstzrange(p_from, p_to);
    INSERT INTO approval_delegate (staff_id, delegate_id, valid)
    VALUES (v_actor, p_delegate, tstzrange(p_from, p_to)) RETURNING * INTO d;
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'staff', v_actor, 'delegate', p_delegate, 'from', kefu_ms(lower(d.valid)),
        'to', kefu_ms(upper(d.valid)), 'id', d.id)));
END $$;

-- Ends the actor's registrations that have not ended yet.
CREATE FUNCTION kefu_delegate_clear(p_key text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    n integer;
BEGIN
    SELECT a.staff_id INTO v_actor FROM kefu_key_actor(p_key) a;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
        RETURN;
    END IF;
    UPDATE approval_delegate SET cleared_at = clock_timestamp()
     WHERE staff_id = v_actor AND cleared_at IS NULL AND upper(valid) > clock_timestamp();
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', jsonb_build_object(
        'staff', v_actor, 'cleared', n)));
END $$;

-- Creates or replaces a policy from JSON (deploy/ORG-FORMAT.md's shape):
-- {"id","name","type","min_yuan"?,"max_yuan"?,"default"?,"stages":[{"rule",
--  "quorum"?,"steps":[{"label","approver":{"staff"|"head"|"role"},
--  "deadline_s","remind_s"?,"on_timeout"}]}]}. Running requests keep the
-- copy their steps took.
CREATE FUNCTION kefu_approval_policy_put(p jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_id text := p->>'id';
BEGIN
    DELETE FROM approval_policy_stage WHERE policy_id = v_id;
    INSERT INTO approval_policy (id, name, request_type, min_fen, max_fen, is_default)
    VALUES (v_id, coalesce(p->>'name', v_id), p->>'type',
            round(coalesce((p->>'min_yuan')::numeric, 0) * 100)::bigint,
            round((p->>'max_yuan')::numeric * 100)::bigint, coalesce((p->>'default')::boolean, true))
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, request_type = EXCLUDED.request_type,
        min_fen = EXCLUDED.min_fen, max_fen = EXCLUDED.max_fen, is_default = EXCLUDED.is_default,
        active = true;
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
