-- kefu store, part 24: what the web console's manager side reads (issue 14).
--
-- The watchlist (kefu-survey, services/survey/watchlist.c) reads reopened
-- tickets and pending approval requests by time; the gateway's status page
-- (GET /api/v1/status) reads daemon_status for administrators, and the
-- console remembers each staff member's language (POST /api/v1/session/lang).

-- Tickets reopened lately: the watchlist's owners at risk. The history has
-- many rows a ticket; reopenings are few.
CREATE INDEX IF NOT EXISTS ticket_history_reopened_idx ON ticket_history (at)
    WHERE action = 'reopened';

-- Pending approval requests by promised end: the watchlist's approvals at
-- risk (the completed ones, nearly all of them, are not read).
CREATE INDEX IF NOT EXISTS approval_request_pending_promised_idx ON approval_request (promised_at)
    WHERE status = 'pending';

-- GET /api/v1/status: every daemon instance as `kefu-admin status` shows it,
-- for the session of p_token. One row when the session is open: allowed is
-- whether its staff member is an administrator, and status (only then) the
-- answer {now, daemons}; no row when the session is not open. The role is
-- checked here, in the statement that reads, so that the gateway's word
-- alone never decides who sees it.
CREATE FUNCTION kefu_web_status(p_token text) RETURNS TABLE (allowed boolean, status jsonb)
LANGUAGE sql STABLE AS $$
    SELECT v.role = 'admin',
           CASE WHEN v.role = 'admin' THEN (
               SELECT jsonb_build_object('now', kefu_ms(now()), 'daemons', coalesce(jsonb_agg(
                   jsonb_build_object(
                       'name', d.name, 'instance', d.instance, 'host', d.host, 'pid', d.pid,
                       'version', d.version, 'state', d.state,
                       'started_at', kefu_ms(d.started_at), 'last_seen', kefu_ms(d.last_seen),
                       'heartbeat_ms', d.heartbeat_ms, 'events_in', d.events_in,
                       'events_out', d.events_out, 'errors', d.errors, 'backlog', d.backlog,
                       'last_error', d.last_error, 'last_error_at', kefu_ms(d.last_error_at),
                       'uptime_s', d.uptime_s, 'seen_s_ago', d.seen_s_ago)
                   ORDER BY d.name, d.host, d.pid), '[]'::jsonb))
                 FROM daemon_status d) END
      FROM kefu_session_valid(p_token) v
$$;

-- POST /api/v1/session/lang: sets the language of the staff member of the
-- open session of p_token (zh or en). Returns the language kept, or no row
-- when the session is not open.
CREATE FUNCTION kefu_session_lang(p_token text, p_lang text) RETURNS TABLE (lang text)
LANGUAGE sql AS $$
    UPDATE staff s SET lang = p_lang
      FROM kefu_session_valid(p_token) v
     WHERE s.id = v.staff_id
    RETURNING s.lang
$$;
