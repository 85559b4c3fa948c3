-- kefu store, part 31: a ticket writes less (issue 16, item 3; measured by
-- tests/bench/wal_audit.sh, figures in tests/bench/RESULTS.md).
--
-- event_corr_idx took one entry for every event (about 15 a ticket across
-- the chain, most of them notification.sent), but only two statements look
-- events up by their ticket number, and both for the approval trail's kinds:
-- kefu-approval's show_trail (approval.step_reminded and
-- approval.step_escalated) and the duplicate check of
-- kefu_approval_reassign (approval.step_escalated). A partial index on those
-- kinds serves both and is written only when a step is reminded or moved.
-- Every other read of event goes by seq, id, or (type, xid).
CREATE INDEX event_trail_idx ON event (corr)
    WHERE type IN ('approval.step_reminded', 'approval.step_escalated');
DROP INDEX event_corr_idx;

-- Three indexes held an entry for every row from its insert on, though
-- every statement that reads them asks for a value the column only has
-- later: a partial index WHERE col IS NOT NULL serves the same statements
-- (a range or an equality on the column implies it is not null) and takes
-- no entry when the row is inserted nor when it is updated before then.
--   survey_answered_idx: kefu-survey's report and watchlist (answered_at
--     in a period); one survey a resolution, most never answered.
--   approval_request_completed_idx: the report (completed_at in a period).
--   approval_step_decided_by_idx: the decision's own retry check and the
--     foreign key to staff (decided_by = x); a step is inserted and
--     assigned before anyone decides it.
CREATE INDEX survey_answered_at_idx ON survey (answered_at) WHERE answered_at IS NOT NULL;
DROP INDEX survey_answered_idx;
ALTER INDEX survey_answered_at_idx RENAME TO survey_answered_idx;
CREATE INDEX approval_request_completed_at_idx ON approval_request (completed_at)
    WHERE completed_at IS NOT NULL;
DROP INDEX approval_request_completed_idx;
ALTER INDEX approval_request_completed_at_idx RENAME TO approval_request_completed_idx;
CREATE INDEX approval_step_decided_idx ON approval_step (decided_by) WHERE decided_by IS NOT NULL;
DROP INDEX approval_step_decided_by_idx;
ALTER INDEX approval_step_decided_idx RENAME TO approval_step_decided_by_idx;

-- survey's UNIQUE (campaign_id, homeowner_id) took two entries for every
-- resolution survey (insert, and the non-HOT update that sends it), whose
-- campaign_id is NULL and so can never conflict. A unique index on the
-- campaign surveys only enforces exactly the same rule; it still serves
-- kefu_survey_campaign's ON CONFLICT DO NOTHING (no conflict target),
-- kefu-survey's campaign_ids (campaign_id = $1) and the foreign key's check.
CREATE UNIQUE INDEX survey_campaign_homeowner_key ON survey (campaign_id, homeowner_id)
    WHERE campaign_id IS NOT NULL;
ALTER TABLE survey DROP CONSTRAINT survey_campaign_id_homeowner_id_key;
