-- kefu store, part 11: the CurveZMQ certificates clients act with (common/auth.h).
-- An operator issues a certificate to one staff member (kefu admin cert); the
-- daemons take the actor of every request from the key it came with, so the
-- key, not anything the client says, decides who acts. A revoked key stops
-- working at once: every request looks its key up again.

CREATE TABLE staff_cert (
    public_key  text PRIMARY KEY CHECK (public_key ~ '^[0-9A-Za-z.:+=^!/*?&<>()\[\]{}@%$#-]{40}$'),
    staff_id    text NOT NULL REFERENCES staff (id),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    issued_by   text NOT NULL DEFAULT current_user,   -- the operator's database role
    note        text,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX staff_cert_staff_idx ON staff_cert (staff_id);

-- The holder of a key, when the key is registered, unrevoked and its staff
-- member active: the one lookup behind every request.
CREATE FUNCTION kefu_key_actor(p_key text, OUT staff_id text, OUT role text)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.role FROM staff_cert c JOIN staff s ON s.id = c.staff_id
     WHERE c.public_key = p_key AND c.revoked_at IS NULL AND s.active
$$;

-- intake's batch of submits with each item's "key" replaced by the "actor"
-- it belongs to (absent when the key is unknown or revoked, which
-- kefu_submit_batch reports as unknown_actor), in one statement with the
-- batch itself.
CREATE FUNCTION kefu_key_actors(p_items jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_strip_nulls((e.x - 'key') || jsonb_build_object('actor', a.staff_id))
                              ORDER BY e.ord), '[]'::jsonb)
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e (x, ord)
      LEFT JOIN LATERAL kefu_key_actor(e.x->>'key') a ON true
$$;
