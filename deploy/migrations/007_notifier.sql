-- kefu store, part 7: the notifier's messages (services/notifier/README.md).
--
-- One row per (event, recipient, channel), inserted in the same transaction
-- as the notifier's processed_event mark, so an event yields each message at
-- most once however often it is seen; the unique constraint holds that in the
-- store itself. The text is rendered when the row is made, so a retry or an
-- operator's resend sends the same words.
--
-- Life of a row:
--   pending --claim--> sending --sent--> sent             (notification.sent)
--                         |----retry--> pending (later, attempts < max)
--                         |----failed-> failed            (notification.failed)
--                         `----held---> pending (at the end of quiet hours)
--   failed --kefu_notification_resend--> pending
--   sending, claimer gone --kefu_notify_reclaim--> pending, interrupted
-- A row made for a recipient without an address is failed from the start.

-- Migration 006 (imports) adds this column too; whichever runs first wins.
-- Imported tickets are never notified.
ALTER TABLE ticket ADD COLUMN IF NOT EXISTS imported boolean NOT NULL DEFAULT false;

CREATE TABLE notification (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL,             -- the event that caused it (event.id)
    event_type      text NOT NULL,
    ticket_no       text,                      -- the ticket it concerns, if any
    recipient_kind  text NOT NULL CHECK (recipient_kind IN ('homeowner', 'staff')),
    recipient_id    text NOT NULL,             -- homeowner.id as text, or staff.id
    channel         text NOT NULL CHECK (channel IN ('sms', 'email')),
    address         text,                      -- phone or e-mail at the time of rendering
    lang            text NOT NULL CHECK (lang IN ('zh', 'en')),
    subject         text,                      -- e-mail only
    body            text NOT NULL,
    urgent          boolean NOT NULL DEFAULT false, -- urgent tickets ignore quiet hours
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    held            boolean NOT NULL DEFAULT false, -- last scheduled by quiet hours
    interrupted     boolean NOT NULL DEFAULT false, -- reclaimed from a notifier that died sending
    claimed_by      text,                      -- the claiming notifier instance
    claimed_pid     integer,                   -- its server process (pg_backend_pid)
    claimed_at      timestamptz,
    via             text CHECK (via IN ('file', 'smtp', 'http')),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at         timestamptz,
    failed_at       timestamptz,
    resends         integer NOT NULL DEFAULT 0,
    resent_by       text,
    resent_at       timestamptz,
    CONSTRAINT notification_once UNIQUE (event_id, recipient_kind, recipient_id, channel),
    CHECK (status <> 'sent' OR (sent_at IS NOT NULL AND via IS NOT NULL)),
    CHECK (status <> 'sending' OR claimed_at IS NOT NULL)
);

-- The sender's scan: due rows only, oldest first.
CREATE INDEX notification_due_idx ON notification (next_attempt_at) WHERE status = 'pending';
-- The reclaim scan and the operators' list of failures.
CREATE INDEX notification_sending_idx ON notification (claimed_at) WHERE status = 'sending';
CREATE INDEX notification_failed_idx ON notification (failed_at) WHERE status = 'failed';
CREATE INDEX notification_ticket_idx ON notification (ticket_no);

-- What the notifier needs to address and word the messages of one ticket
-- event: the ticket and its owner (customer), the staff member the event
-- names (p_staff: the new owner) with their manager, and the name of
-- p_from (the previous owner). One row, or none when the ticket is unknown.
CREATE FUNCTION kefu_notify_context(p_ticket text, p_staff text, p_from text)
RETURNS TABLE (ticket_no text, imported boolean, priority text, kind text, category text,
               summary text, project text, project_name text, customer_id bigint,
               customer_phone text, customer_name text, customer_lang text,
               first_response_due bigint, resolve_due bigint, department text,
               department_zh text, staff_id text, staff_name text, staff_email text,
               staff_lang text, staff_department text, staff_department_zh text,
               manager_id text, manager_name text, manager_email text, manager_lang text,
               from_name text)
LANGUAGE sql STABLE AS $$
    SELECT t.no, t.imported, t.priority, t.kind, t.category, t.summary, t.project_id, p.name,
           h.id, h.phone, h.name, h.lang, kefu_ms(t.first_response_due), kefu_ms(t.resolve_due),
           d.name, d.name_zh, s.id, s.name, s.email, s.lang, sd.name, sd.name_zh,
           m.id, m.name, m.email, m.lang, f.name
      FROM ticket t
      JOIN project p ON p.id = t.project_id
      JOIN homeowner h ON h.id = t.homeowner_id
      LEFT JOIN department d ON d.id = t.department_id
      LEFT JOIN staff s ON s.id = p_staff
      LEFT JOIN department sd ON sd.id = s.department_id
      LEFT JOIN staff m ON m.id = s.manager_id AND m.active
      LEFT JOIN staff f ON f.id = p_from
     WHERE t.no = p_ticket
$$;

-- Inserts the notifications of one event (a JSON array of objects with the
-- columns' names; next_ms is the first attempt's time, absent for now).
-- A row whose address is missing is failed at once, with its
-- notification.failed event. Returns the events written, for publishing.
CREATE FUNCTION kefu_notify_insert(p_rows jsonb, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    n notification;
BEGIN
    FOR n IN
        INSERT INTO notification AS x (event_id, event_type, ticket_no, recipient_kind,
                                       recipient_id, channel, address, lang, subject, body,
                                       urgent, next_attempt_at, held, status, last_error,
                                       failed_at)
        SELECT r.event_id, r.event_type, r.ticket_no, r.recipient_kind, r.recipient_id,
               r.channel, nullif(r.address, ''), r.lang, r.subject, r.body,
               coalesce(r.urgent, false), coalesce(kefu_ts(r.next_ms), clock_timestamp()),
               r.next_ms IS NOT NULL,
               CASE WHEN coalesce(r.address, '') = '' THEN 'failed' ELSE 'pending' END,
               CASE WHEN coalesce(r.address, '') = '' THEN 'no_address' END,
               CASE WHEN coalesce(r.address, '') = '' THEN clock_timestamp() END
          FROM jsonb_to_recordset(p_rows) AS r (event_id uuid, event_type text, ticket_no text,
                                                recipient_kind text, recipient_id text,
                                                channel text, address text, lang text,
                                                subject text, body text, urgent boolean,
                                                next_ms bigint)
        ON CONFLICT ON CONSTRAINT notification_once DO NOTHING
        RETURNING x.*
    LOOP
        IF n.status = 'failed' THEN
            RETURN NEXT kefu_emit('notification.failed', coalesce(n.ticket_no, ''), p_src,
                jsonb_strip_nulls(jsonb_build_object(
                    'notification', n.id, 'event', n.event_id, 'type', n.event_type,
                    'ticket', n.ticket_no, 'recipient_kind', n.recipient_kind,
                    'recipient', n.recipient_id, 'channel', n.channel,
                    'attempts', n.attempts, 'error', n.last_error)));
        END IF;
    END LOOP;
END $$;

-- Claims up to p_limit due notifications for the notifier instance p_token:
-- status 'sending', one more attempt, and the claimer's server process
-- recorded so that a claim whose notifier died can be told from a live one.
-- Rows another instance holds are skipped, not waited for.
CREATE FUNCTION kefu_notify_claim(p_limit integer, p_token text)
RETURNS TABLE (id bigint, event_id uuid, event_type text, ticket_no text, recipient_kind text,
               recipient_id text, channel text, address text, lang text, subject text,
               body text, urgent boolean, attempts integer, interrupted boolean)
LANGUAGE sql AS $$
    UPDATE notification n
       SET status = 'sending', attempts = n.attempts + 1, claimed_by = p_token,
           claimed_pid = pg_backend_pid(), claimed_at = clock_timestamp()
      FROM (SELECT d.id FROM notification d
             WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
             ORDER BY d.next_attempt_at, d.id LIMIT p_limit
               FOR UPDATE SKIP LOCKED) due
     WHERE n.id = due.id
    RETURNING n.id, n.event_id, n.event_type, n.ticket_no, n.recipient_kind, n.recipient_id,
              n.channel, n.address, n.lang, n.subject, n.body, n.urgent, n.attempts,
              n.interrupted
$$;

-- Puts back to pending the claims of notifiers that died while sending:
-- rows in 'sending' whose claiming server process is gone (the notifier's
-- connection closed: it was killed, or lost the store) for longer than
-- p_grace_ms, or claimed more than p_timeout_ms ago whatever the claimer's
-- state (a stopped process). They are marked interrupted: the message may
-- have reached the recipient, and is sent again with the same id.
-- Returns how many were reclaimed.
CREATE FUNCTION kefu_notify_reclaim(p_grace_ms bigint, p_timeout_ms bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE notification n
       SET status = 'pending', interrupted = true, next_attempt_at = clock_timestamp(),
           claimed_by = NULL, claimed_pid = NULL,
           last_error = 'interrupted: the notifier sending it stopped'
      FROM (SELECT s.id FROM notification s
             WHERE s.status = 'sending'
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

-- Records what became of claimed notifications. p_results is a JSON array
-- of {id, outcome, via?, error?, delay_ms?, next_ms?}; outcome is
--   sent    -> status sent, notification.sent
--   retry   -> pending again after delay_ms
--   held    -> pending again at next_ms (quiet hours; the attempt is not counted)
--   failed  -> status failed, notification.failed
-- Only rows still claimed by p_token change (a claim reclaimed meanwhile is
-- someone else's now). Returns the events written, for publishing.
CREATE FUNCTION kefu_notify_settle(p_results jsonb, p_token text, p_src text)
RETURNS SETOF event LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n notification;
BEGIN
    FOR r IN SELECT * FROM jsonb_to_recordset(p_results)
                    AS x (id bigint, outcome text, via text, error text, delay_ms bigint,
                          next_ms bigint)
    LOOP
        UPDATE notification
           SET status = CASE r.outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed'
                                       ELSE 'pending' END,
               via = CASE WHEN r.outcome = 'sent' THEN r.via ELSE via END,
               sent_at = CASE WHEN r.outcome = 'sent' THEN clock_timestamp() END,
               failed_at = CASE WHEN r.outcome = 'failed' THEN clock_timestamp() END,
               last_error = CASE WHEN r.outcome IN ('retry', 'failed') THEN left(r.error, 500)
                                 WHEN r.outcome = 'sent' THEN NULL ELSE last_error END,
               next_attempt_at = CASE
                   WHEN r.outcome = 'retry'
                       THEN clock_timestamp() + make_interval(secs => coalesce(r.delay_ms, 0) / 1000.0)
                   WHEN r.outcome = 'held' THEN kefu_ts(r.next_ms)
                   ELSE next_attempt_at END,
               held = (r.outcome = 'held'),
               attempts = CASE WHEN r.outcome = 'held' THEN greatest(attempts - 1, 0)
                               ELSE attempts END,
               claimed_by = NULL, claimed_pid = NULL
         WHERE id = r.id AND status = 'sending' AND claimed_by = p_token
        RETURNING * INTO n;
        CONTINUE WHEN NOT FOUND OR r.outcome NOT IN ('sent', 'failed');
        RETURN NEXT kefu_emit('notification.' || r.outcome, coalesce(n.ticket_no, ''), p_src,
            jsonb_strip_nulls(jsonb_build_object(
                'notification', n.id, 'event', n.event_id, 'type', n.event_type,
                'ticket', n.ticket_no, 'recipient_kind', n.recipient_kind,
                'recipient', n.recipient_id, 'channel', n.channel, 'via', n.via,
                'attempts', n.attempts,
                'error', CASE WHEN r.outcome = 'failed' THEN n.last_error END)));
    END LOOP;
END $$;

-- The operator's resend of a failed notification (`kefu admin resend ID`):
-- back to pending with a fresh count of attempts, addressed to the
-- recipient's current phone or e-mail (an operator may have corrected it).
-- err_code is not_found, conflict (the row is not failed) or no_address (the
-- recipient has no phone or e-mail yet) instead of an exception.
CREATE FUNCTION kefu_notification_resend(p_id bigint, p_actor text)
RETURNS TABLE (err_code text, id bigint, status text, channel text, recipient_kind text,
               recipient_id text, ticket_no text, resends integer)
LANGUAGE plpgsql AS $$
DECLARE
    n notification;
    v_address text;
BEGIN
    SELECT * INTO n FROM notification x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, p_id, NULL::text, NULL::text, NULL::text,
                            NULL::text, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF n.status <> 'failed' THEN
        RETURN QUERY SELECT 'conflict'::text, n.id, n.status, n.channel, n.recipient_kind,
                            n.recipient_id, n.ticket_no, n.resends;
        RETURN;
    END IF;
    IF n.recipient_kind = 'staff' THEN
        SELECT s.email INTO v_address FROM staff s WHERE s.id = n.recipient_id;
    ELSE
        SELECT h.phone INTO v_address FROM homeowner h WHERE h.id::text = n.recipient_id;
    END IF;
    IF coalesce(v_address, n.address, '') = '' THEN
        RETURN QUERY SELECT 'no_address'::text, n.id, n.status, n.channel, n.recipient_kind,
                            n.recipient_id, n.ticket_no, n.resends;
        RETURN;
    END IF;
    UPDATE notification x
       SET status = 'pending', address = coalesce(v_address, n.address), attempts = 0,
           next_attempt_at = clock_timestamp(), held = false, interrupted = false,
           failed_at = NULL, last_error = NULL, resends = x.resends + 1, resent_by = p_actor,
           resent_at = clock_timestamp()
     WHERE x.id = p_id
    RETURNING * INTO n;
    RETURN QUERY SELECT NULL::text, n.id, n.status, n.channel, n.recipient_kind,
                        n.recipient_id, n.ticket_no, n.resends;
END $$;
