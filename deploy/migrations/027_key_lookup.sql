-- kefu store, part 27: the key lookup, planned once per connection.
--
-- kefu_key_actor (020_tokens_calls.sql) finds who holds a key: a staff
-- member's certificate, or a gateway's key with a web session or an
-- integration token after a space. As a SQL function with a three-branch
-- UNION ALL it cannot be inlined, so PostgreSQL planned its body again on
-- every call: about 0.7 ms, more than an approval decision's own work
-- (tests/bench/RESULTS.md, 2026-12-06), on every request of every daemon.
-- The same lookup in PL/pgSQL, whose plans a connection keeps: the same
-- branches in the same order, the first that finds the holder answers,
-- (NULL, NULL) when none does.
CREATE OR REPLACE FUNCTION kefu_key_actor(p_key text, OUT staff_id text, OUT role text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT s.id, s.role INTO staff_id, role FROM staff_cert c JOIN staff s ON s.id = c.staff_id
     WHERE c.public_key = p_key AND c.revoked_at IS NULL AND s.active
     LIMIT 1;
    IF FOUND OR coalesce(strpos(p_key, ' '), 0) = 0 THEN
        RETURN;
    END IF;
    SELECT v.staff_id, v.role INTO staff_id, role
      FROM gateway_key g, kefu_session_valid(split_part(p_key, ' ', 2)) v
     WHERE g.public_key = split_part(p_key, ' ', 1)
       AND g.revoked_at IS NULL AND v.session_id IS NOT NULL AND NOT v.must_change
     LIMIT 1;
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT s.id, s.role INTO staff_id, role
      FROM gateway_key g, kefu_token_find(split_part(p_key, ' ', 2)) t
      JOIN staff s ON s.id = t.acts_as
     WHERE g.public_key = split_part(p_key, ' ', 1)
       AND g.revoked_at IS NULL AND NOT t.revoked AND 'submit' = ANY (t.scopes) AND s.active
     LIMIT 1;
END $$;
