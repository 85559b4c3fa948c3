-- kefu store, part 41: a group's openings and decisions in one call
-- (issue 16; measured by tests/bench/all.sh, figures in
-- tests/bench/RESULTS.md).
--
-- 039 put a group of decisions into one call of kefu_approval_decide_group,
-- but a group with an approval.request in it still ran request by request,
-- three round trips each (SAVEPOINT, the call, RELEASE). In the whole chain
-- requests are opened and decided side by side, so most groups were mixed.
-- kefu_approval_group takes both: each item names its op, and runs in a
-- block of its own (a subtransaction, as the savepoint was), so that an
-- item the store refuses undoes its own work only and the others go on.
--
-- p_items: a JSON array of objects, one per request: place (the item's
-- place in the daemon's group, returned with its rows), op, and
--  - op "decide": kefu_approval_decide_call's parameters: key, request,
--    step, outcome, comment, decision, idem, type, content (hex);
--  - op "open": kefu_approval_open's: key, idem, ticket, type, amount
--    (fen), reason, promised (a date), policy, allow_past.
-- p_src is the same for all. Returns kefu_approval_out's columns and the
-- item's place: for each item in order, the rows its call returned (its
-- events, its reply, the facts the daemon logs), or one error row when it
-- was refused:
--  - an error row of the call (unknown_actor, not_found, forbidden,
--    conflict, ...): that row, the item's work undone;
--  - any other error of SQL: 'internal' with the message kf_store_exec
--    (common/store.c) gives, and in info the sqlstate and the error's own
--    text for the daemon's log, the item's work undone.
-- A transaction rollback (class 40: a serialisation failure, a deadlock)
-- is not caught: the whole statement fails, the group's transaction is
-- lost and the daemon runs each request again alone. So are a cancel
-- (statement timeout) and a lost connection.
CREATE FUNCTION kefu_approval_group(p_items jsonb, p_src text)
RETURNS TABLE (err_code text, err_field text, err_message text, info jsonb, ev_seq bigint,
               ev_id uuid, ev_type text, ev_corr text, ev_src text, ev_at bigint, ev_body text,
               place integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_item jsonb;
    v_rows kefu_approval_out[];
    v_state text;
    v_error text;
BEGIN
    FOR v_item IN SELECT x.value FROM jsonb_array_elements(p_items) x LOOP
        v_rows := NULL;
        BEGIN
            IF v_item->>'op' = 'open' THEN
                v_rows := ARRAY(SELECT c FROM kefu_approval_open(
                    v_item->>'key', v_item->>'idem', v_item->>'ticket', v_item->>'type',
                    (v_item->>'amount')::bigint, v_item->>'reason', (v_item->>'promised')::date,
                    v_item->>'policy', p_src, (v_item->>'allow_past')::boolean) c);
            ELSE
                v_rows := ARRAY(SELECT c FROM kefu_approval_decide_call(
                    v_item->>'key', (v_item->>'request')::bigint, (v_item->>'step')::bigint,
                    v_item->>'outcome', v_item->>'comment', v_item->>'decision', p_src,
                    v_item->>'idem', v_item->>'type', decode(v_item->>'content', 'hex')) c);
            END IF;
            -- A refusal undoes what the call did before it (as ROLLBACK TO
            -- SAVEPOINT did); the variable keeps the rows.
            IF EXISTS (SELECT 1 FROM unnest(v_rows) o WHERE o.err_code IS NOT NULL) THEN
                RAISE EXCEPTION 'refused' USING ERRCODE = 'KF001';
            END IF;
        EXCEPTION
            WHEN transaction_rollback THEN
                RAISE;
            WHEN SQLSTATE 'KF001' THEN
                v_rows := ARRAY(SELECT o FROM unnest(v_rows) o WHERE o.err_code IS NOT NULL LIMIT 1);
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_error = MESSAGE_TEXT;
                v_rows := ARRAY[ROW('internal', '',
                    format('the store refused a statement (sqlstate %s)', v_state),
                    jsonb_build_object('sqlstate', v_state, 'error', v_error),
                    NULL, NULL, NULL, NULL, NULL, NULL, NULL)::kefu_approval_out];
        END;
        RETURN QUERY SELECT o.err_code, o.err_field, o.err_message, o.info, o.ev_seq, o.ev_id,
                            o.ev_type, o.ev_corr, o.ev_src, o.ev_at, o.ev_body,
                            (v_item->>'place')::integer
                       FROM unnest(v_rows) o;
    END LOOP;
END $$;

DROP FUNCTION kefu_approval_decide_group(jsonb, text);
