-- kefu store, part 8: satisfaction surveys (满意度回访) and the loop they close.
--
-- A survey follows every resolution of a ticket (kind 'resolution', one per
-- resolution: UNIQUE (ticket_id, resolution_no)) and every owner of a
-- project when an operator runs a lifecycle campaign (kind 'campaign', one
-- per owner and campaign). kefu-survey creates them from ticket.resolved,
-- sends them when due (survey.sent, which the notifier turns into the
-- customer's SMS), and records the answer an agent took on the follow-up
-- call (survey.answered). A score of 1 or 2 reopens the ticket to the
-- owner's manager (ticket.reopened). Each change writes its event in the
-- same transaction, like the functions of 004.
--
-- A reopened ticket goes back to status 'routed': the open state whose
-- escalation clock the ticket-router watches and in which intake lets the
-- ticket be responded to, transferred and resolved again. That it was
-- reopened is told by its 'reopened' history row and its event.

-- Imported tickets (migration 006 adds this column; tolerate it missing)
-- are never surveyed: their owners were asked, or not, before kefu.
ALTER TABLE ticket ADD COLUMN IF NOT EXISTS imported boolean NOT NULL DEFAULT false;

-- One row per campaign run: re-running the same project and milestone
-- within the daemon's window finds this row and surveys nobody twice.
CREATE TABLE survey_campaign (
    id         bigserial PRIMARY KEY,
    project_id text NOT NULL REFERENCES project (id),
    milestone  text NOT NULL,
    started_by text NOT NULL REFERENCES staff (id),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    surveys    integer NOT NULL DEFAULT 0      -- how many surveys the run created
);
CREATE INDEX survey_campaign_recent_idx ON survey_campaign (project_id, milestone, started_at);

-- The KPI report reads this table by these names: do not rename.
CREATE TABLE survey (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint REFERENCES ticket (id),            -- NULL for a campaign survey
    homeowner_id  bigint NOT NULL REFERENCES homeowner (id),
    kind          text NOT NULL CHECK (kind IN ('resolution', 'campaign')),
    milestone     text,                                     -- campaign: 'move-in', 'revisit-4y', ...
    project_id    text,
    resolution_no int,                                      -- the ticket's n-th resolution, from 1
    due_at        timestamptz NOT NULL,
    sent_at       timestamptz,
    answered_at   timestamptz,
    score         smallint CHECK (score BETWEEN 1 AND 5),
    nps           smallint CHECK (nps BETWEEN 0 AND 10),
    comment       text,
    answered_by   text REFERENCES staff (id),
    campaign_id   bigint REFERENCES survey_campaign (id),   -- the run that created it
    UNIQUE (ticket_id, resolution_no),
    UNIQUE (campaign_id, homeowner_id)
);
-- The send scan's key: pending surveys by due time.
CREATE INDEX survey_due_idx ON survey (due_at) WHERE sent_at IS NULL;
-- The KPIs count answers recorded in a period.
CREATE INDEX survey_answered_idx ON survey (answered_at);

-- Marks up to p_limit due surveys sent and writes one survey.sent event
-- each, in one statement. Rows another instance holds are skipped, so
-- several kefu-survey instances share the work and none sends one twice.
CREATE FUNCTION kefu_survey_send_due(p_limit integer, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
BEGIN
RETURN QUERY
WITH due AS (
    SELECT s.id FROM survey s
     WHERE s.sent_at IS NULL AND s.due_at <= clock_timestamp()
     ORDER BY s.due_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
), sent AS (
    UPDATE survey s SET sent_at = clock_timestamp()
      FROM due WHERE s.id = due.id
    RETURNING s.id, s.ticket_id, s.homeowner_id, s.kind, s.milestone, s.project_id,
              s.resolution_no, s.due_at, s.sent_at
)
INSERT INTO event (type, corr, src, body)
SELECT 'survey.sent', coalesce(t.no, ''), p_src, jsonb_strip_nulls(jsonb_build_object(
           'survey', s.id, 'kind', s.kind, 'ticket', t.no, 'resolution', s.resolution_no,
           'milestone', s.milestone, 'project', s.project_id, 'homeowner', s.homeowner_id,
           'due_at', kefu_ms(s.due_at), 'sent_at', kefu_ms(s.sent_at)))
  FROM sent s LEFT JOIN ticket t ON t.id = s.ticket_id
 ORDER BY s.id
RETURNING *;
END $$;

-- Reopens a resolved (or closed) ticket: back to the open status 'routed',
-- owned by p_to (decided by kefu-survey: the owner's manager, else the
-- department head), escalation restarted from level 0 with p_due_ms as the
-- new resolution deadline, a 'reopened' history row with the reason, and
-- ticket.reopened. first_resolved_at stays: the KPIs count a reopened
-- ticket by its first resolution. Returns no row when the ticket is open.
CREATE FUNCTION kefu_reopen(p_ticket bigint, p_to text, p_reason text, p_due_ms bigint,
                            p_actor text, p_src text, p_survey bigint DEFAULT NULL,
                            p_score integer DEFAULT NULL)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    t ticket;
    v_from text;
    v_status text;
BEGIN
    SELECT owner_id, status INTO v_from, v_status FROM ticket WHERE id = p_ticket FOR UPDATE;
    IF NOT FOUND OR v_status NOT IN ('resolved', 'closed') THEN
        RETURN;
    END IF;
    INSERT INTO ticket_history (ticket_id, action, actor, from_owner, to_owner, reason)
    VALUES (p_ticket, 'reopened', p_actor, v_from, p_to, p_reason);
    UPDATE ticket SET status = 'routed', owner_id = p_to,
                      department_id = coalesce((SELECT department_id FROM staff WHERE id = p_to),
                                               department_id),
                      escalation_level = 0, resolved_at = NULL, closed_at = NULL,
                      resolve_due = kefu_ts(p_due_ms), next_escalation_at = kefu_ts(p_due_ms)
     WHERE id = p_ticket RETURNING * INTO t;
    RETURN NEXT kefu_emit('ticket.reopened', t.no, p_src, jsonb_strip_nulls(jsonb_build_object(
        'ticket', t.no, 'from', v_from, 'to', p_to, 'department', t.department_id,
        'reason', p_reason, 'actor', p_actor, 'survey', p_survey, 'score', p_score,
        'resolve_due', p_due_ms)));
END $$;

-- Records the answer to a sent, unanswered survey and writes
-- survey.answered; with p_reopen_to, also reopens its ticket (kefu_reopen)
-- in the same transaction. Returns no row when the survey was answered
-- already (the caller holds its row lock, so that means a defect).
CREATE FUNCTION kefu_survey_answer(p_survey bigint, p_actor text, p_score integer,
                                   p_nps integer, p_comment text, p_reopen_to text,
                                   p_reopen_due_ms bigint, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    s survey;
    v_no text;
    v_reopened boolean := false;
    e event;
BEGIN
    UPDATE survey SET answered_at = clock_timestamp(), score = p_score, nps = p_nps,
                      comment = p_comment, answered_by = p_actor
     WHERE id = p_survey AND sent_at IS NOT NULL AND answered_at IS NULL
    RETURNING * INTO s;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT no INTO v_no FROM ticket WHERE id = s.ticket_id;
    IF p_reopen_to IS NOT NULL AND s.ticket_id IS NOT NULL THEN
        FOR e IN SELECT * FROM kefu_reopen(s.ticket_id, p_reopen_to,
                                           format('low satisfaction score %s', p_score),
                                           p_reopen_due_ms, p_actor, p_src, s.id, p_score) LOOP
            v_reopened := true;
            RETURN NEXT e;
        END LOOP;
    END IF;
    RETURN NEXT kefu_emit('survey.answered', coalesce(v_no, ''), p_src, jsonb_strip_nulls(
        jsonb_build_object('survey', s.id, 'kind', s.kind, 'ticket', v_no,
                           'resolution', s.resolution_no, 'milestone', s.milestone,
                           'project', s.project_id, 'score', s.score, 'nps', s.nps,
                           'actor', p_actor, 'answered_at', kefu_ms(s.answered_at),
                           'reopened', v_reopened)));
END $$;

-- Starts a campaign: one survey, due now, per owner of a unit of
-- p_project. A run of the same project and milestone started less than
-- p_window_s seconds ago is returned instead (duplicate), surveying no one
-- again; concurrent runs are serialised by an advisory lock on the pair.
CREATE FUNCTION kefu_survey_campaign(p_project text, p_milestone text, p_actor text,
                                     p_window_s integer)
RETURNS TABLE (campaign bigint, surveys integer, duplicate boolean, started_ms bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c survey_campaign;
    n integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kefu.survey_campaign'),
                                  hashtext(p_project || '/' || p_milestone));
    SELECT * INTO c FROM survey_campaign sc
     WHERE sc.project_id = p_project AND sc.milestone = p_milestone
       AND sc.started_at > clock_timestamp() - make_interval(secs => p_window_s)
     ORDER BY sc.started_at DESC LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT c.id, c.surveys, true, kefu_ms(c.started_at);
        RETURN;
    END IF;
    INSERT INTO survey_campaign (project_id, milestone, started_by)
    VALUES (p_project, p_milestone, p_actor) RETURNING * INTO c;
    INSERT INTO survey (homeowner_id, kind, milestone, project_id, due_at, campaign_id)
    SELECT DISTINCT hu.homeowner_id, 'campaign', p_milestone, p_project, c.started_at, c.id
      FROM homeowner_unit hu JOIN unit u ON u.id = hu.unit_id
     WHERE u.project_id = p_project
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE survey_campaign SET surveys = n WHERE id = c.id;
    RETURN QUERY SELECT c.id, n, false, kefu_ms(c.started_at);
END $$;
