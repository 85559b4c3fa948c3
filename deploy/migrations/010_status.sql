-- kefu store, part 10: every daemon instance's heartbeat (common/health.h), read by
-- `kefu status`, and the two observations the ticket-router reports as gauges.

-- One row per running (or once running) daemon instance, upserted every
-- heartbeat_ms by the instance itself. instance is host:pid, so several
-- instances of one daemon on one or many hosts each have their row; a
-- container restarted under the same hostname and pid takes its old row over.
CREATE TABLE daemon_instance (
    instance      text PRIMARY KEY,          -- host:pid
    name          text NOT NULL,             -- intake, ticket-router, ...
    host          text NOT NULL,
    pid           integer NOT NULL,
    version       text NOT NULL,
    started_at    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL DEFAULT now(),  -- the store's clock
    heartbeat_ms  integer NOT NULL CHECK (heartbeat_ms > 0),
    events_in     bigint NOT NULL DEFAULT 0,
    events_out    bigint NOT NULL DEFAULT 0,
    errors        bigint NOT NULL DEFAULT 0,
    backlog       bigint,                    -- NULL: the daemon has none to report
    last_error    text,
    last_error_at timestamptz,
    metrics       text,                      -- http://host:port/metrics, NULL when off
    stopped_at    timestamptz                -- set by a clean stop
);
CREATE INDEX daemon_instance_name_idx ON daemon_instance (name, host);

-- Each instance with its state, judged by the store's clock alone (no
-- client clock is involved): 'stopped' after a clean stop, 'up' while its
-- last heartbeat is at most three heartbeat intervals old, 'down' otherwise.
CREATE VIEW daemon_status AS
SELECT d.*,
       CASE WHEN d.stopped_at IS NOT NULL THEN 'stopped'
            WHEN d.last_seen >= now() - 3 * d.heartbeat_ms * interval '1 millisecond' THEN 'up'
            ELSE 'down' END AS state,
       floor(extract(epoch FROM d.last_seen - d.started_at))::bigint AS uptime_s,
       floor(extract(epoch FROM now() - d.last_seen))::bigint AS seen_s_ago,
       floor(extract(epoch FROM now() - d.last_error_at))::bigint AS error_s_ago
  FROM daemon_instance d;

-- The events of the given types that consumer has not processed yet: those
-- at or above its cursor's horizon (everything below was handled by a
-- catch-up pass) without a processed_event record. Counts at most p_cap, so
-- that a huge backlog costs a bounded scan (the event_type_xid_idx range and
-- one primary-key probe each); a consumer with no cursor yet counts from 0.
CREATE FUNCTION kefu_outbox_backlog(p_consumer text, p_types text[], p_cap int)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM (
        SELECT 1 FROM event e
         WHERE e.type = ANY (p_types)
           AND e.xid >= coalesce((SELECT horizon FROM consumer_cursor
                                   WHERE consumer = p_consumer), '0'::xid8)
           AND NOT EXISTS (SELECT 1 FROM processed_event p
                            WHERE p.consumer = p_consumer AND p.event_id = e.id)
         LIMIT p_cap) AS waiting
$$;

-- How far the deadline scan is behind, in seconds: now minus the oldest
-- escalation deadline that has passed on a ticket still open (0 when none).
-- Uses ticket_escalation_idx.
CREATE FUNCTION kefu_escalation_lag() RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT coalesce(extract(epoch FROM clock_timestamp() - min(next_escalation_at))::float8, 0)
      FROM ticket
     WHERE next_escalation_at <= clock_timestamp() AND status IN ('routed', 'responded')
$$;
