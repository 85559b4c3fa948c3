-- kefu store, part 22: idempotency keys on every state-changing request
-- (issue 13: "idempotency keys on every POST").
--
-- `submit` and `approval.request` keep their keys on the rows they make
-- (013, 016). The other requests that change something (ticket.respond,
-- ticket.transfer, ticket.resolve, ...) make no row of their own that a key
-- could live on, so their keys live here: one row per (actor, key), with
-- the request's type, a fingerprint of what was sent (sha256 of the
-- canonical content common/idem.c builds) and the reply.ok body it got.
-- The rule is the one of 013: a key belongs to the person who sent it and
-- to what they sent:
--   * the same actor, key and content again: the stored reply, replayed
--     with duplicate = true, and nothing done twice;
--   * the same actor and key with another type or content: conflict on
--     field `idem`;
--   * another actor's same key: their own key.
-- A request that fails stores nothing, so its retry tries again.
--
-- Rows are kept for ever for now. The key space per actor is the client's
-- (a browser makes a UUID per action), so a later cleanup may age rows out
-- (e.g. after 30 days) without changing the rule for a retry in between.

CREATE TABLE request_idem (
    actor text NOT NULL,                 -- the staff id the key belongs to
    idem  text NOT NULL,                 -- the client's key
    type  text NOT NULL,                 -- the request type the key was used for
    fp    bytea NOT NULL,                -- sha256 of the request's canonical content
    reply jsonb NOT NULL,                -- the reply.ok body the request got
    at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, idem)
);

-- Looks up p_actor's key p_idem for a request of type p_type whose
-- canonical content (common/idem.c) is p_content, inside the caller's transaction. Takes
-- a transaction-level advisory lock on (actor, key) first, so two
-- concurrent retries of one request serialise: the second waits for the
-- first to commit (or roll back) and then sees its row. outcome is 'new'
-- (go on and do the work), 'replay' (reply is the stored answer) or
-- 'conflict' (type and at say what the key was used for).
CREATE FUNCTION kefu_request_idem_take(p_actor text, p_idem text, p_type text, p_content bytea)
RETURNS TABLE (outcome text, reply text, type text, at_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r request_idem;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kefu.request_idem'),
                                  hashtext(p_actor || E'\n' || p_idem));
    SELECT * INTO r FROM request_idem i WHERE i.actor = p_actor AND i.idem = p_idem;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'new'::text, NULL::text, NULL::text, NULL::bigint;
    ELSIF r.type = p_type AND r.fp = sha256(p_content) THEN
        RETURN QUERY SELECT 'replay'::text, r.reply::text, r.type, kefu_ms(r.at);
    ELSE
        RETURN QUERY SELECT 'conflict'::text, NULL::text, r.type, kefu_ms(r.at);
    END IF;
END $$;

-- Keeps the reply p_reply (a JSON object) a request of p_actor with key
-- p_idem got, in the transaction that did its work.
CREATE FUNCTION kefu_request_idem_keep(p_actor text, p_idem text, p_type text, p_content bytea,
                                       p_reply jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO request_idem (actor, idem, type, fp, reply)
    VALUES (p_actor, p_idem, p_type, sha256(p_content), p_reply)
$$;
