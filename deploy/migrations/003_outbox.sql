-- kefu store, part 3: the event outbox and each consumer's processed-event record.
-- See common/feed.h for why consumers read by transaction id, not by seq.

-- A UUID whose first 48 bits are the time in ms (the layout of UUIDv7), so
-- event ids are unique like any UUID but arrive in roughly increasing order:
-- the indexes on them then grow at one end instead of touching (and, after
-- each checkpoint, writing whole) pages all over the tree.
CREATE FUNCTION kefu_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7' || substr(md5(random()::text), 1, 3)
            || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid
$$;

CREATE TABLE event (
    seq   bigserial PRIMARY KEY,
    id    uuid NOT NULL UNIQUE DEFAULT kefu_uuid7(),
    type  text NOT NULL,
    corr  text NOT NULL DEFAULT '',
    src   text NOT NULL,
    at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    body  jsonb NOT NULL,
    xid   xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX event_type_xid_idx ON event (type, xid);
CREATE INDEX event_corr_idx ON event (corr);

CREATE TABLE consumer_cursor (
    consumer   text PRIMARY KEY,
    horizon    xid8 NOT NULL DEFAULT '0',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE processed_event (
    consumer text NOT NULL,
    event_id uuid NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    outcome  text NOT NULL DEFAULT 'applied' CHECK (outcome IN ('applied', 'failed')),
    error    text,
    PRIMARY KEY (consumer, event_id)
);

-- Milliseconds since the epoch, the wire's time unit.
CREATE FUNCTION kefu_ms(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t) * 1000)::bigint
$$;

-- Writes one event and returns its row as the publishers need it.
CREATE FUNCTION kefu_emit(p_type text, p_corr text, p_src text, p_body jsonb)
RETURNS event LANGUAGE sql AS $$
    INSERT INTO event (type, corr, src, body) VALUES (p_type, p_corr, p_src, p_body) RETURNING *
$$;
