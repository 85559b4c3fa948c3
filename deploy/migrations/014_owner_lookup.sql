-- kefu store, part 14: finding an owner's tickets by phone, and listing
-- tickets by when they came in, a page at a time (proto/catalog.md,
-- owner.show and ticket.list).
--
-- Lists are ordered by (received_at, id) descending and paged by keyset:
-- the next page starts after the last row's (received_at, id), never at an
-- OFFSET, so a page costs the same however deep it is and rows that arrive
-- meanwhile neither repeat nor shift a page.

-- Serves ticket.list without a phone: a backward scan from the cursor, with
-- since/until as a range on the same leading column. It also serves every
-- query on received_at alone, so the single-column index goes.
CREATE INDEX ticket_received_id_idx ON ticket (received_at, id);
DROP INDEX ticket_received_idx;

-- Serves owner.show and ticket.list with a phone: one owner's tickets,
-- newest first.
CREATE INDEX ticket_homeowner_received_idx ON ticket (homeowner_id, received_at, id);

-- A cursor's microseconds since the epoch as a timestamp, exactly (no
-- floating point on the way, unlike to_timestamp).
CREATE FUNCTION kefu_us_ts(us bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN us IS NULL THEN NULL
                ELSE timestamptz '1970-01-01 00:00:00+00' + (us / 1000000) * interval '1 second'
                     + (us % 1000000) * interval '1 microsecond' END
$$;

-- A timestamp's microseconds since the epoch, exactly: what a cursor holds.
CREATE FUNCTION kefu_us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t) * 1000000)::bigint
$$;

-- One end of a requested range: ms, or a date's midnight in kefu_tz(), or
-- the given default when neither is given.
CREATE FUNCTION kefu_bound(p_ms bigint, p_date date, p_default timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(kefu_ts(p_ms), p_date::timestamp AT TIME ZONE kefu_tz(), p_default)
$$;
