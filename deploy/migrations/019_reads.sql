-- kefu store, part 19: what an agent on the phone reads (proto/catalog.md,
-- owner.show and ticket.list): how a ticket stands against its deadlines,
-- an amount of yuan as text, and the owner's survey answers found by owner.
--
-- ticket.list's words of the summary (q) get no index here. Measured on
-- 100,000 tickets in this store's locale (initdb --locale=C, UTF8): pg_trgm
-- makes no trigram of a Chinese character in the C locale
-- (show_trgm('燃气泄漏') is empty), so a GIN trigram index cannot serve a
-- Chinese word at all, and a two-character word (漏水) has no trigram in any
-- locale; it serves only Latin words of three letters or more, and only
-- when each word is its own ILIKE (not ILIKE ALL of an array, as intake
-- sends them). A common word is found by the backward scan of
-- ticket_received_id_idx that serves every page (under 1 ms); a rare word
-- reads the table once (40-70 ms at 100,000 tickets).
-- A GIN index on an SQL function of the summary's characters and character
-- pairs (what a word needs: @>) was measured too: a rare word 0.2 ms, but a
-- common one 6-50 ms (the function runs again on every row read), and a
-- submit pays for it: 20,000 tickets in one INSERT took 4.9 s instead of
-- 1.0 s, 2,000 one-row INSERTs 1.7 s instead of 0.8 s. Not worth intake's
-- write rate at this size; a store far past a million tickets may want a
-- search table filled apart from the submit.

-- How a ticket stands against one deadline, at p_now: 'met' (done by it),
-- 'late' (done after it), 'overdue' (not done, passed), 'due' (not done,
-- ahead); NULL when there is no deadline (not routed yet).
CREATE OR REPLACE FUNCTION kefu_deadline_state(p_done timestamptz, p_due timestamptz,
                                               p_now timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_due IS NULL THEN NULL
                WHEN p_done IS NOT NULL THEN CASE WHEN p_done <= p_due THEN 'met' ELSE 'late' END
                WHEN p_now > p_due THEN 'overdue'
                ELSE 'due' END
$$;

-- An amount in fen as yuan with two decimals ("80000.00"), as kefu-approval
-- writes it (services/approval/rules.c, rules_amount_text).
CREATE OR REPLACE FUNCTION kefu_yuan(p_fen bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_fen IS NULL THEN NULL
                ELSE (p_fen / 100)::text || '.' || lpad((p_fen % 100)::text, 2, '0') END
$$;

-- Serves owner.show's survey answers: one owner's, the latest first.
CREATE INDEX IF NOT EXISTS survey_homeowner_answered_idx ON survey (homeowner_id, answered_at)
    WHERE answered_at IS NOT NULL;
