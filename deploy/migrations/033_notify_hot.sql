-- kefu store, part 33: a notification's claim is a HOT update (issue 16;
-- measured by tests/bench/wal_audit.sh, figures in tests/bench/RESULTS.md).
--
-- A message is inserted (pending), claimed (sending) and settled (sent): 7
-- messages a ticket, about half of the chain's WAL. Every index of the
-- table named status in its predicate (due, sending, failed), so each of
-- the two updates was a non-HOT one that wrote an entry into every index:
-- 4 at the claim (pkey, notification_once, ticket, sending), 3 at the settle.
--
-- Here no index depends on a column the claim changes (status, attempts,
-- claimed_*): the sender's and the reclaim's scans go through one index of
-- the open messages (pending or sending: neither sent_at nor failed_at set)
-- and filter on status, and the failures' index is keyed on failed_at
-- alone. The claim then changes no indexed column and is HOT when its page
-- has room, which fillfactor keeps for new pages: the claim writes a small
-- heap record and no index entry. The settle still leaves the open index
-- (sent_at is set), a non-HOT update as before.
--
-- The open set is exactly status pending or sending: a sent row has sent_at
-- (007's CHECK), a failed one failed_at (kefu_notify_insert and
-- kefu_notify_settle set it; the fix-up below covers rows made otherwise),
-- and every way back to pending clears both (settle's retry and held,
-- kefu_notification_resend). The CHECK added here holds it from now on.
UPDATE notification SET failed_at = coalesce(claimed_at, created_at)
 WHERE status = 'failed' AND failed_at IS NULL;
UPDATE notification SET failed_at = NULL, sent_at = NULL
 WHERE status IN ('pending', 'sending') AND (failed_at IS NOT NULL OR sent_at IS NOT NULL);
ALTER TABLE notification ADD CONSTRAINT notification_open_check
    CHECK ((status IN ('pending', 'sending')) = (sent_at IS NULL AND failed_at IS NULL));

CREATE INDEX notification_open_idx ON notification (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX notification_failed_at_idx ON notification (failed_at) WHERE failed_at IS NOT NULL;
DROP INDEX notification_due_idx;
DROP INDEX notification_sending_idx;
DROP INDEX notification_failed_idx;
ALTER INDEX notification_failed_at_idx RENAME TO notification_failed_idx;

-- Room on each new page for the claimed versions of its rows (a claim of a
-- batch updates most rows of a page in one statement, before any old
-- version can be pruned). Measured by wal_audit.sh: at 50, 6.7 claims of
-- a ticket's 7 are HOT; at 70 only 4.3 (and 2.4 KB more WAL a ticket).
ALTER TABLE notification SET (fillfactor = 50);

-- As in 007; the due rows are read through notification_open_idx. PL/pgSQL
-- rather than SQL so that the statement's plan is cached (a SQL function's
-- is made again at each call).
CREATE OR REPLACE FUNCTION kefu_notify_claim(p_limit integer, p_token text)
RETURNS TABLE (id bigint, event_id uuid, event_type text, ticket_no text, recipient_kind text,
               recipient_id text, channel text, address text, lang text, subject text,
               body text, urgent boolean, attempts integer, interrupted boolean)
LANGUAGE plpgsql AS $$
BEGIN
RETURN QUERY
    UPDATE notification n
       SET status = 'sending', attempts = n.attempts + 1, claimed_by = p_token,
           claimed_pid = pg_backend_pid(), claimed_at = clock_timestamp()
      FROM (SELECT d.id FROM notification d
             WHERE d.sent_at IS NULL AND d.failed_at IS NULL AND d.status = 'pending'
               AND d.next_attempt_at <= clock_timestamp()
             ORDER BY d.next_attempt_at, d.id LIMIT p_limit
               FOR UPDATE SKIP LOCKED) due
     WHERE n.id = due.id
    RETURNING n.id, n.event_id, n.event_type, n.ticket_no, n.recipient_kind, n.recipient_id,
              n.channel, n.address, n.lang, n.subject, n.body, n.urgent, n.attempts,
              n.interrupted;
END $$;

-- As in 007, through notification_open_idx: a row is claimed only once due
-- (next_attempt_at <= claimed_at), so a claim older than the grace or the
-- timeout is among the open rows due before the shorter of the two.
CREATE OR REPLACE FUNCTION kefu_notify_reclaim(p_grace_ms bigint, p_timeout_ms bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE notification n
       SET status = 'pending', interrupted = true, next_attempt_at = clock_timestamp(),
           claimed_by = NULL, claimed_pid = NULL,
           last_error = 'interrupted: the notifier sending it stopped'
      FROM (SELECT s.id FROM notification s
             WHERE s.sent_at IS NULL AND s.failed_at IS NULL AND s.status = 'sending'
               AND s.next_attempt_at < clock_timestamp()
                       - make_interval(secs => least(p_grace_ms, p_timeout_ms) / 1000.0)
               AND (s.claimed_at < clock_timestamp() - make_interval(secs => p_timeout_ms / 1000.0)
                    OR (s.claimed_at < clock_timestamp() - make_interval(secs => p_grace_ms / 1000.0)
                        AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                         WHERE a.pid = s.claimed_pid
                                           AND a.backend_start <= s.claimed_at)))
             FOR UPDATE SKIP LOCKED) stale
     WHERE n.id = stale.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- As in 007, set-based: one UPDATE for the whole batch of results and one
-- INSERT of its events (in the results' order), instead of a PL/pgSQL loop
-- of one UPDATE and one kefu_emit per message (the loop was the notifier's
-- largest cost in the store). A result naming the same id twice counts
-- once, the first (the loop found the row settled at the second). PL/pgSQL
-- for its cached plan, as kefu_notify_claim.
CREATE OR REPLACE FUNCTION kefu_notify_settle(p_results jsonb, p_token text, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
BEGIN
RETURN QUERY
    WITH r AS (
        SELECT DISTINCT ON (x.id) x.id AS rid, x.outcome, x.via AS rvia, x.error, x.delay_ms,
               x.next_ms, x.ord
          FROM ROWS FROM (jsonb_to_recordset(p_results)
                          AS (id bigint, outcome text, via text, error text, delay_ms bigint,
                              next_ms bigint)) WITH ORDINALITY
               AS x (id, outcome, via, error, delay_ms, next_ms, ord)
         ORDER BY x.id, x.ord
    ), done AS (
        UPDATE notification n
           SET status = CASE r.outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed'
                                       ELSE 'pending' END,
               via = CASE WHEN r.outcome = 'sent' THEN r.rvia ELSE n.via END,
               sent_at = CASE WHEN r.outcome = 'sent' THEN clock_timestamp() END,
               failed_at = CASE WHEN r.outcome = 'failed' THEN clock_timestamp() END,
               last_error = CASE WHEN r.outcome IN ('retry', 'failed') THEN left(r.error, 500)
                                 WHEN r.outcome = 'sent' THEN NULL ELSE n.last_error END,
               next_attempt_at = CASE
                   WHEN r.outcome = 'retry'
                       THEN clock_timestamp() + make_interval(secs => coalesce(r.delay_ms, 0) / 1000.0)
                   WHEN r.outcome = 'held' THEN kefu_ts(r.next_ms)
                   ELSE n.next_attempt_at END,
               held = (r.outcome = 'held'),
               attempts = CASE WHEN r.outcome = 'held' THEN greatest(n.attempts - 1, 0)
                               ELSE n.attempts END,
               claimed_by = NULL, claimed_pid = NULL
          FROM r
         WHERE n.id = r.rid AND n.status = 'sending' AND n.claimed_by = p_token
        RETURNING n.*, r.outcome, r.ord
    )
    INSERT INTO event (type, corr, src, body)
    SELECT 'notification.' || d.outcome, coalesce(d.ticket_no, ''), p_src,
           jsonb_strip_nulls(jsonb_build_object(
               'notification', d.id, 'event', d.event_id, 'type', d.event_type,
               'ticket', d.ticket_no, 'recipient_kind', d.recipient_kind,
               'recipient', d.recipient_id, 'channel', d.channel, 'via', d.via,
               'attempts', d.attempts,
               'error', CASE WHEN d.outcome = 'failed' THEN d.last_error END))
      FROM done d
     WHERE d.outcome IN ('sent', 'failed')
     ORDER BY d.ord
    RETURNING *;
END $$;
