-- kefu store, part 35: an approval decision in one call (issue 16).
--
-- A decision took kefu-approval seven round trips to the store: the
-- sender's key looked up, a savepoint, the idempotency key taken
-- (kefu_request_idem_take), kefu_approval_decide, kefu_approval_advance
-- once the daemon had decided from the stage facts that the stage was
-- done, the key kept (kefu_request_idem_keep), the savepoint released.
-- kefu_approval_decide_call does all of it in one statement: the actor is
-- looked up from the key in the statement that does the work, the key is
-- taken and kept there, and the stage rule and the at-risk check that
-- services/approval/rules.c applies to the facts are applied here (the same
-- arithmetic, kefu_approval_stage_outcome and kefu_approval_risk_projected),
-- so the stage advances, the next stage opens or the request completes in
-- the same call. The daemon gets back the same rows as before (events, the
-- reply, an error), plus facts it only logs ({"done": ...}, {"flagged": ...})
-- and, for a replayed key, {"reply": ..., "replay": true}.
-- It replaces kefu_approval_decide (012), which nothing calls any more.
-- The decision, its history row and its event are written by one
-- statement, and kefu_approval_advance (replaced below, same rows and
-- writes) takes fewer statements too.

-- The outcome of a stage by its rule (rules_stage_outcome): 'approved',
-- 'rejected', or NULL while it is still open.
CREATE FUNCTION kefu_approval_stage_outcome(p_rule text, p_quorum integer, p_total integer,
                                            p_approved integer, p_rejected integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_needed integer;
BEGIN
    v_needed := CASE p_rule WHEN 'all' THEN p_total WHEN 'any' THEN 1
                WHEN 'quorum' THEN least(greatest(coalesce(p_quorum, 0), 1), p_total) END;
    IF v_needed IS NULL OR coalesce(p_total, 0) <= 0 THEN
        RETURN NULL;
    END IF;
    IF p_approved >= v_needed THEN
        RETURN 'approved';
    END IF;
    -- The steps not rejected are all that could still approve.
    IF p_total - p_rejected < v_needed THEN
        RETURN 'rejected';
    END IF;
    RETURN NULL;
END $$;

-- The projected end of a request from its risk facts
-- (kefu_approval_risk_facts) when it can no longer finish by the promised
-- date and is not flagged yet (rules_at_risk), else NULL.
CREATE FUNCTION kefu_approval_risk_projected(f jsonb) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_projected bigint;
BEGIN
    IF f IS NULL OR coalesce((f->>'at_risk')::boolean, false) THEN
        RETURN NULL;
    END IF;
    v_projected := greatest(coalesce((f->>'stage_end_ms')::bigint, 0), coalesce((f->>'now_ms')::bigint, 0))
                   + greatest(coalesce((f->>'later_s')::bigint, 0), 0) * 1000;
    RETURN CASE WHEN v_projected > coalesce((f->>'promised_ms')::bigint, 0) THEN v_projected END;
END $$;

-- Why a request is at risk, as rules_risk_reason words it.
CREATE FUNCTION kefu_approval_risk_reason(p_projected bigint, p_promised bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_late bigint := CASE WHEN p_projected > p_promised THEN (p_projected - p_promised) / 60000 ELSE 0 END;
BEGIN
    RETURN format('the remaining stages may finish %sd %sh %sm after the end of the promised day',
                  v_late / 1440, v_late / 60 % 24, v_late % 60);
END $$;

-- Why the holder of p_key is not known, in the words kf_auth_actor
-- (common/auth.c) uses for a request with an idempotency key.
CREATE FUNCTION kefu_approval_unknown_key(p_key text, p_idem text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF coalesce(p_idem, '') = '' THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', '', 'no registered staff member holds this key');
    ELSIF coalesce(p_key, '') = '' THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', 'cert', 'the request came without a certificate');
    ELSIF strpos(p_key, ' ') > 0 THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', 'session', format(
            'the web session is not open (signed out, expired or ended, its holder inactive or due '
            'to change the password), or the gateway''s certificate %s... is not registered or has '
            'been revoked', left(p_key, 8)));
    ELSE
        RETURN QUERY SELECT * FROM kefu_approval_err('unknown_actor', 'cert', format(
            'the certificate %s... is not registered, has been revoked, or its holder is not active '
            'staff', left(p_key, 8)));
    END IF;
END $$;

-- One approval.decide whole, in one statement: the actor looked up from
-- p_key; the idempotency key p_idem (of request type p_type, canonical
-- content p_content; none when NULL or '') taken; the decision on request
-- p_request: the actor's pending step of its current stage (or p_step),
-- their own or one whose assignee named them delegate for now, the actor
-- checked in the statement that writes the decision, its history row and
-- its event (a replay, same p_decision or the same outcome again by the same
-- person, is answered as duplicate); then the stage settled: when its rule
-- says it is done, kefu_approval_advance records the outcome (the next stage
-- opens, or the request completes) and, when the next stage opened,
-- kefu_approval_flag_risk whether the request is now at risk; last the key
-- kept with the reply. A replayed key returns its stored reply with
-- replay: true and does nothing else; a key used for something else is
-- conflict on field idem. Returns kefu_approval_out rows (012): an error, or
-- the events, the reply and facts the daemon only logs ({"done": ...},
-- {"flagged": ...}).
CREATE FUNCTION kefu_approval_decide_call(p_key text, p_request bigint, p_step bigint, p_outcome text,
                                          p_comment text, p_decision text, p_src text,
                                          p_idem text, p_type text, p_content bytea)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    v_actor text;
    v_keyed boolean := coalesce(p_idem, '') <> '';
    k request_idem;
    r approval_request;
    s approval_step;
    e event;
    v_reply jsonb;
    v_stage jsonb;
    v_outcome text;
    a kefu_approval_out;
    v_projected bigint;
BEGIN
    SELECT x.staff_id INTO v_actor FROM kefu_key_actor(p_key) x;
    IF v_actor IS NULL THEN
        RETURN QUERY SELECT * FROM kefu_approval_unknown_key(p_key, p_idem);
        RETURN;
    END IF;
    IF v_keyed THEN
        -- As kefu_request_idem_take (022): retries of one key serialise.
        PERFORM pg_advisory_xact_lock(hashtext('kefu.request_idem'), hashtext(v_actor || E'\n' || p_idem));
        SELECT * INTO k FROM request_idem i WHERE i.actor = v_actor AND i.idem = p_idem;
        IF FOUND AND k.type = p_type AND k.fp = sha256(p_content) THEN
            RETURN NEXT kefu_approval_info(jsonb_build_object('reply', k.reply, 'replay', true));
            RETURN;
        ELSIF FOUND THEN
            RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'idem', format(
                'idempotency key %s was already used for %s with different content; send it again '
                'with a new key if it is a new action', p_idem, k.type));
            RETURN;
        END IF;
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
    IF FOUND AND s.outcome <> p_outcome THEN
        RETURN QUERY SELECT * FROM kefu_approval_err('conflict', 'decision',
            format('request %s id %s was already answered with %s', r.id, p_decision, s.outcome));
        RETURN;
    ELSIF FOUND THEN
        v_reply := jsonb_strip_nulls(jsonb_build_object(
            'request', r.id, 'step', s.id, 'stage', s.stage, 'outcome', s.outcome, 'duplicate', true,
            'decided_by', s.decided_by, 'on_behalf_of', s.on_behalf_of, 'decided_at', kefu_ms(s.decided_at),
            'status', r.status));
    ELSE
        -- One statement checks the actor and writes the decision, its
        -- history row and its event.
        WITH d AS (
            UPDATE approval_step u
               SET status = CASE p_outcome WHEN 'approve' THEN 'approved' ELSE 'rejected' END,
                   outcome = p_outcome, decided_by = v_actor, decided_at = clock_timestamp(),
                   on_behalf_of = CASE WHEN u.assigned_to <> v_actor THEN u.assigned_to ELSE u.acting_for END,
                   comment = p_comment, decision_id = p_decision
             WHERE u.id = (SELECT x.id FROM approval_step x
                            WHERE x.request_id = r.id AND x.stage = r.stage AND x.status = 'pending'
                              AND r.status = 'pending' AND (p_step IS NULL OR x.id = p_step)
                              AND (x.assigned_to = v_actor OR kefu_delegate_of(x.assigned_to) = v_actor)
                            ORDER BY (x.assigned_to = v_actor) DESC, x.step LIMIT 1)
            RETURNING u.*
        ), h AS (
            INSERT INTO ticket_history (ticket_id, action, actor, note, reason)
            SELECT r.ticket_id, 'approval', v_actor,
                   format('approval %s stage %s %s: %s%s', r.id, d.stage, d.label, p_outcome,
                          CASE WHEN d.on_behalf_of IS NOT NULL THEN ' on behalf of ' || d.on_behalf_of ELSE '' END),
                   p_comment
              FROM d
        )
        INSERT INTO event (type, corr, src, body)
        SELECT 'approval.step_decided', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
                   'request', r.id, 'ticket', t.no, 'step', d.id, 'stage', d.stage, 'label', d.label,
                   'outcome', p_outcome, 'decided_by', v_actor, 'on_behalf_of', d.on_behalf_of,
                   'comment', p_comment, 'decided_at', kefu_ms(d.decided_at)))
          FROM d JOIN ticket t ON t.id = r.ticket_id
        RETURNING * INTO e;
        IF NOT FOUND THEN
            RETURN QUERY SELECT * FROM kefu_approval_refusal(r, p_step, v_actor);
            RETURN;
        END IF;
        RETURN NEXT kefu_approval_ev(e);
        v_reply := jsonb_strip_nulls(jsonb_build_object(
            'request', r.id, 'step', e.body->'step', 'stage', e.body->'stage', 'outcome', p_outcome,
            'duplicate', false, 'decided_by', v_actor, 'on_behalf_of', e.body->'on_behalf_of',
            'decided_at', e.body->'decided_at'));
        -- The stage: done when its rule says so (rules_stage_outcome).
        v_stage := kefu_approval_stage_facts(r.id)->'stage';
        v_outcome := kefu_approval_stage_outcome(v_stage->>'rule', (v_stage->>'quorum')::integer,
            (v_stage->>'total')::integer, (v_stage->>'approved')::integer, (v_stage->>'rejected')::integer);
    END IF;
    RETURN NEXT kefu_approval_info(jsonb_build_object('reply', v_reply));
    IF v_outcome IS NOT NULL THEN
        RETURN NEXT kefu_approval_info(jsonb_build_object('done', jsonb_build_object(
            'request', r.id, 'stage', r.stage, 'outcome', v_outcome)));
        FOR a IN SELECT * FROM kefu_approval_advance(r.id, r.stage, v_outcome, p_src) LOOP
            IF a.info ? 'risk' THEN
                v_projected := kefu_approval_risk_projected(a.info->'risk');
                CONTINUE WHEN v_projected IS NULL;
                RETURN NEXT kefu_approval_info(jsonb_build_object('flagged', jsonb_build_object(
                    'request', r.id, 'ticket', a.info->'risk'->'ticket', 'projected_ms', v_projected)));
                RETURN QUERY SELECT * FROM kefu_approval_flag_risk(r.id, v_projected,
                    kefu_approval_risk_reason(v_projected, (a.info->'risk'->>'promised_ms')::bigint), p_src);
            ELSIF a.ev_seq IS NOT NULL THEN
                RETURN NEXT a;
            END IF;
        END LOOP;
    END IF;
    IF v_keyed THEN
        INSERT INTO request_idem (actor, idem, type, fp, reply)
        VALUES (v_actor, p_idem, p_type, sha256(p_content), v_reply - 'duplicate');
    END IF;
END $$;

-- Nothing calls kefu_approval_decide any more: kefu-approval decides with
-- kefu_approval_decide_call.
DROP FUNCTION kefu_approval_decide(text, bigint, bigint, text, text, text, text);

-- Records the outcome of the request's current stage (as in 012): the
-- stage's undecided steps are skipped; then the next stage opens, or the
-- request completes. The same rows and writes in fewer statements: the
-- ticket and the last stage read at once, the steps skipped by one UPDATE,
-- the completion, its history row and its event written by one statement.
CREATE OR REPLACE FUNCTION kefu_approval_advance(p_request bigint, p_stage integer, p_outcome text, p_src text)
RETURNS SETOF kefu_approval_out LANGUAGE plpgsql AS $$
DECLARE
    r approval_request;
    v_no text;
    v_owner text;
    v_last smallint;
    v_next boolean;
    e event;
BEGIN
    SELECT * INTO r FROM approval_request WHERE id = p_request AND stage = p_stage AND status = 'pending'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT t.no, t.owner_id, (SELECT max(s.stage) FROM approval_step s WHERE s.request_id = r.id)
      INTO v_no, v_owner, v_last FROM ticket t WHERE t.id = r.ticket_id;
    v_next := p_outcome = 'approved' AND r.stage < v_last;
    -- The stage's open steps, and on completion the later stages' too.
    UPDATE approval_step
       SET status = 'skipped',
           deadline_at = CASE WHEN stage = r.stage THEN NULL ELSE deadline_at END,
           remind_at = CASE WHEN stage = r.stage THEN NULL ELSE remind_at END
     WHERE request_id = r.id AND status IN ('pending', 'waiting')
       AND (stage = r.stage OR (NOT v_next AND status = 'waiting'));
    IF v_next THEN
        UPDATE approval_request SET stage = stage + 1 WHERE id = r.id;
        RETURN QUERY SELECT (kefu_approval_ev(a)).* FROM kefu_approval_assign(r.id, p_src) a;
        RETURN NEXT kefu_approval_info(kefu_approval_risk_facts(r.id));
        RETURN;
    END IF;
    WITH u AS (
        UPDATE approval_request SET status = p_outcome, completed_at = clock_timestamp()
         WHERE id = r.id RETURNING *
    ), h AS (
        INSERT INTO ticket_history (ticket_id, action, actor, note, reason)
        SELECT u.ticket_id, 'approval', NULL, format('approval %s %s at stage %s after %s s', u.id,
               u.status, u.stage, round(extract(epoch FROM u.completed_at - u.requested_at), 3)), NULL
          FROM u
    )
    INSERT INTO event (type, corr, src, body)
    SELECT 'approval.completed', v_no, p_src, jsonb_build_object(
               'request', u.id, 'ticket', v_no, 'outcome', u.status, 'type', u.request_type,
               'amount_fen', u.amount_fen, 'stage', u.stage, 'requested_at', kefu_ms(u.requested_at),
               'completed_at', kefu_ms(u.completed_at),
               'cycle_ms', kefu_ms(u.completed_at) - kefu_ms(u.requested_at),
               'requested_by', u.requested_by, 'owner', v_owner)
      FROM u
    RETURNING * INTO e;
    RETURN NEXT kefu_approval_ev(e);
END $$;
