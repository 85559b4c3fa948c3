-- kefu store, part 34: the consumers' backlog gauge stays cheap on a large
-- store (issue 16: latency must not grow with the store's size).
--
-- kefu_outbox_backlog (010) read its consumer's horizon in a subquery, so
-- the planner could not know how few events lie above it: it guessed a third
-- of the event table and chose a hash anti-join over every processed_event
-- row of the consumer (and JIT compilation for the cost it guessed). With
-- 200,000 tickets in the store that took 130 ms, with 1,000,000 about a
-- second, on every observer tick of kefu-router and kefu-survey, in their
-- loops: their events waited behind it (the whole chain's resolved -> survey
-- sent p99 grew from 0.16 s to 1 s). Read into a variable first, the horizon
-- is a known value when the count is planned: the event_type_xid_idx range
-- above it and one primary-key probe of processed_event per event, 0.5 ms.
CREATE OR REPLACE FUNCTION kefu_outbox_backlog(p_consumer text, p_types text[], p_cap int)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_horizon xid8 := coalesce((SELECT horizon FROM consumer_cursor WHERE consumer = p_consumer),
                               '0'::xid8);
BEGIN
    RETURN (SELECT count(*) FROM (
        SELECT 1 FROM event e
         WHERE e.type = ANY (p_types)
           AND e.xid >= v_horizon
           AND NOT EXISTS (SELECT 1 FROM processed_event p
                            WHERE p.consumer = p_consumer AND p.event_id = e.id)
         LIMIT p_cap) AS waiting);
END $$;
