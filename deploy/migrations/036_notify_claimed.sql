-- kefu store, part 36: a notification due at once is inserted claimed by the
-- notifier that renders it (issue 16, item 3; measured by
-- tests/bench/wal_audit.sh, figures in tests/bench/RESULTS.md).
--
-- Until here a message was written three times: inserted (pending), claimed
-- (sending, a HOT update since 033) and settled. The notifier that inserts a
-- message sends it right after its transaction commits, so the insert can
-- write the claim itself: status sending, one attempt, claimed_by the
-- notifier's token, claimed_pid its connection, claimed_at now. Nothing else
-- changes: a claim made so is a claim like kefu_notify_claim's (the reclaim
-- puts it back when the notifier's connection is gone, the settle records
-- it only for its token), and a row another instance already inserted is
-- left alone (ON CONFLICT DO NOTHING returns nothing to claim).
--
-- At most p_claim rows of a call are claimed (the room left in the
-- notifier's list of messages to send); the others, and those held for
-- quiet hours (next_ms), are inserted pending as before. The notifier sends
-- its claimed messages KEFU_NOTIFY_SEND_BATCH at a time, each batch read
-- back by id only while it can be sent before its claim times out
-- (KEFU_NOTIFY_CLAIM_TIMEOUT_MS); an older one is left to the reclaim.
--
-- Returns the events written (notification.failed of a message without an
-- address) with claimed NULL, and one row per claimed message with the
-- event's columns NULL and claimed its id.
CREATE FUNCTION kefu_notify_insert(p_rows jsonb, p_src text, p_token text, p_claim integer)
RETURNS TABLE (seq bigint, id uuid, type text, corr text, src text, at timestamptz, body jsonb,
               claimed bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    n notification;
    e event;
BEGIN
    FOR n IN
        INSERT INTO notification AS x (event_id, event_type, ticket_no, recipient_kind,
                                       recipient_id, channel, address, lang, subject, body,
                                       urgent, next_attempt_at, held, status, attempts,
                                       claimed_by, claimed_pid, claimed_at, last_error,
                                       failed_at)
        SELECT r.event_id, r.event_type, r.ticket_no, r.recipient_kind, r.recipient_id,
               r.channel, nullif(r.address, ''), r.lang, r.subject, r.body,
               coalesce(r.urgent, false), coalesce(kefu_ts(r.next_ms), clock_timestamp()),
               r.next_ms IS NOT NULL,
               CASE WHEN coalesce(r.address, '') = '' THEN 'failed'
                    WHEN r.claim THEN 'sending' ELSE 'pending' END,
               CASE WHEN r.claim THEN 1 ELSE 0 END,
               CASE WHEN r.claim THEN p_token END,
               CASE WHEN r.claim THEN pg_backend_pid() END,
               CASE WHEN r.claim THEN clock_timestamp() END,
               CASE WHEN coalesce(r.address, '') = '' THEN 'no_address' END,
               CASE WHEN coalesce(r.address, '') = '' THEN clock_timestamp() END
          FROM (SELECT q.*, coalesce(q.address, '') <> '' AND q.next_ms IS NULL
                            AND p_token IS NOT NULL
                            AND count(*) FILTER (WHERE coalesce(q.address, '') <> ''
                                                   AND q.next_ms IS NULL)
                                OVER (ORDER BY q.ord) <= coalesce(p_claim, 0) AS claim
                  FROM ROWS FROM (jsonb_to_recordset(p_rows)
                                  AS (event_id uuid, event_type text, ticket_no text,
                                      recipient_kind text, recipient_id text, channel text,
                                      address text, lang text, subject text, body text,
                                      urgent boolean, next_ms bigint)) WITH ORDINALITY
                       AS q (event_id, event_type, ticket_no, recipient_kind, recipient_id,
                             channel, address, lang, subject, body, urgent, next_ms, ord)) r
         ORDER BY r.ord
        ON CONFLICT ON CONSTRAINT notification_once DO NOTHING
        RETURNING x.*
    LOOP
        IF n.status = 'failed' THEN
            e := kefu_emit('notification.failed', coalesce(n.ticket_no, ''), p_src,
                jsonb_strip_nulls(jsonb_build_object(
                    'notification', n.id, 'event', n.event_id, 'type', n.event_type,
                    'ticket', n.ticket_no, 'recipient_kind', n.recipient_kind,
                    'recipient', n.recipient_id, 'channel', n.channel,
                    'attempts', n.attempts, 'error', n.last_error)));
            RETURN QUERY SELECT e.seq, e.id, e.type, e.corr, e.src, e.at, e.body, NULL::bigint;
        ELSIF n.status = 'sending' THEN
            RETURN QUERY SELECT NULL::bigint, NULL::uuid, NULL::text, NULL::text, NULL::text,
                                NULL::timestamptz, NULL::jsonb, n.id;
        END IF;
    END LOOP;
END $$;

-- 007's form, which claims nothing; the notifier calls the one above.
DROP FUNCTION kefu_notify_insert(jsonb, text);

-- One index where there were two. notification_once (event, recipient kind,
-- recipient, channel) is read only as the insert's arbiter, and
-- notification_ticket_idx (ticket_no) only by kefu-admin's list of a
-- ticket's messages; every message wrote an entry into each, at its insert
-- and again at its settle (not a HOT update). The key of notification_once
-- now leads with ticket_no, so the one index serves both. It is as strict:
-- a message's ticket_no is its event's ticket (kefu_notify_context), the
-- same whenever the event is applied, and NULLS NOT DISTINCT keeps messages
-- of events without a ticket unique too. Measured by wal_audit.sh: about
-- 0.9 KB less WAL a ticket (tests/bench/RESULTS.md).
ALTER TABLE notification DROP CONSTRAINT notification_once;
ALTER TABLE notification ADD CONSTRAINT notification_once
    UNIQUE NULLS NOT DISTINCT (ticket_no, event_id, recipient_kind, recipient_id, channel);
DROP INDEX notification_ticket_idx;
