-- kefu store, part 21: the event a call's change wrote, for kefu-gateway to
-- ring the bus with (services/gateway/calls.c).
--
-- kefu_call_event (020) writes call.ringing, call.answered, call.ended or
-- call.missed to the outbox but answers only the call. The gateway rings
-- the bus after the commit so open event streams wake at once (the bus is
-- only a doorbell: streams also read the outbox), and needs the event's
-- row for it. This wrapper applies the event as kefu_call_event does, in
-- the same one statement, and adds the row of the event it wrote (NULL
-- columns when the event changed nothing). 020 is left as it is: it may be
-- applied somewhere already.

-- kefu_call_event, with p_at in milliseconds since the epoch (NULL: now),
-- and the outbox row of the call.* event it wrote in this transaction.
CREATE FUNCTION kefu_call_event_pub(p_token text, p_call_id text, p_event text, p_caller text,
                                    p_caller_norm text, p_extension text, p_at_ms bigint,
                                    p_address text)
RETURNS TABLE (status text, changed boolean, call_id text, state text, staff_id text,
               owner_id bigint, owner_name text, ev_seq bigint, ev_id uuid, ev_type text,
               ev_corr text, ev_src text, ev_at bigint, ev_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    r record;
    e event;
BEGIN
    SELECT * INTO r
      FROM kefu_call_event(p_token, p_call_id, p_event, p_caller, p_caller_norm, p_extension,
                           CASE WHEN p_at_ms IS NOT NULL THEN to_timestamp(p_at_ms / 1000.0) END,
                           p_address);
    IF r.changed THEN
        SELECT * INTO e FROM event v
         WHERE v.type = 'call.' || r.state AND v.xid = pg_current_xact_id()
         ORDER BY v.seq DESC LIMIT 1;
    END IF;
    RETURN QUERY SELECT r.status, r.changed, r.call_id, r.state, r.staff_id, r.owner_id,
                        r.owner_name, e.seq, e.id, e.type, e.corr, e.src, kefu_ms(e.at),
                        e.body::text;
END
$$;
