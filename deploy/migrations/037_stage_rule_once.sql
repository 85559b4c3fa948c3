-- kefu — the stage rule and the at-risk check live in the store alone.
--
-- Migration 035 wrote both in SQL for a decision's own call, while
-- kefu-approval still decided the facts every other call returns (an
-- escalation, a timeout, a reassignment, the next stage opening) with a
-- copy of the same rules in C. The facts now carry the store's answer, and
-- the daemon records what they say: a stage's 'outcome' ('approved' or
-- 'rejected'; null while the stage is open), a request's 'projected_ms'
-- and 'reason' when it can no longer finish by its promised date and is
-- not flagged yet (absent else).

CREATE OR REPLACE FUNCTION kefu_approval_stage_facts(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object('stage', jsonb_build_object(
                'request', f.request, 'stage', f.stage, 'rule', f.rule, 'quorum', f.quorum,
                'total', f.total, 'approved', f.approved, 'rejected', f.rejected,
                'outcome', kefu_approval_stage_outcome(f.rule, f.quorum, f.total, f.approved,
                                                       f.rejected)))
              FROM (SELECT r.id AS request, r.stage, rs.rule, rs.quorum, count(*)::int AS total,
                           (count(*) FILTER (WHERE s.status = 'approved'))::int AS approved,
                           (count(*) FILTER (WHERE s.status = 'rejected'))::int AS rejected
                      FROM approval_request r
                      JOIN approval_request_stage rs ON rs.request_id = r.id AND rs.stage = r.stage
                      JOIN approval_step s ON s.request_id = r.id AND s.stage = r.stage
                     WHERE r.id = p_request AND r.status = 'pending'
                     GROUP BY r.id, r.stage, rs.rule, rs.quorum) f);
END $$;

CREATE OR REPLACE FUNCTION kefu_approval_risk_facts(p_request bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f jsonb;
    v_projected bigint;
BEGIN
    f := (SELECT jsonb_build_object(
              'request', r.id, 'ticket', t.no, 'at_risk', r.at_risk_at IS NOT NULL,
              'promised_ms', kefu_ms(r.promised_at), 'now_ms', kefu_ms(clock_timestamp()),
              'stage_end_ms', (SELECT max(kefu_ms(s.deadline_at)) FROM approval_step s
                                WHERE s.request_id = r.id AND s.stage = r.stage AND s.status = 'pending'),
              'later_s', coalesce((SELECT sum(m) FROM (SELECT max(s.deadline_s) AS m FROM approval_step s
                                    WHERE s.request_id = r.id AND s.stage > r.stage GROUP BY s.stage) x), 0))
            FROM approval_request r JOIN ticket t ON t.id = r.ticket_id
           WHERE r.id = p_request AND r.status = 'pending');
    IF f IS NULL THEN
        RETURN NULL;
    END IF;
    v_projected := kefu_approval_risk_projected(f);
    IF v_projected IS NOT NULL THEN
        f := f || jsonb_build_object('projected_ms', v_projected, 'reason',
                 kefu_approval_risk_reason(v_projected, (f->>'promised_ms')::bigint));
    END IF;
    RETURN jsonb_build_object('risk', f);
END $$;
