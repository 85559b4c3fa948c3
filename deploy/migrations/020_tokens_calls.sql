-- kefu store, part 20: integration tokens for machines, and the calls a
-- phone system (CTI) reports (proto/security.md, proto/catalog.md).
--
-- An integration token ("kit_" and 43 characters of base64url, made by
-- `kefu-admin token create`) is shown once; the store keeps its SHA-256
-- (kefu_token_hash) and never the token. A token has scopes: 'submit' lets
-- it submit tickets through kefu-gateway as its acts_as staff member (the
-- gateway sends it as the request's session: kefu_key_actor resolves
-- 'GATEWAYKEY kit_...'), 'calls' lets it report call events
-- (kefu_call_event). Every use is logged (integration_token_use).

CREATE TABLE integration_token (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9._-]{0,63}$'),
    scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0
                                         AND scopes <@ ARRAY['calls', 'submit']),
    acts_as       text REFERENCES staff (id),   -- whom a 'submit' token submits as
    token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),  -- kefu_token_hash
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL DEFAULT current_user,
    revoked_at    timestamptz,
    revoked_by    text,
    last_used_at  timestamptz,
    CHECK (acts_as IS NOT NULL OR NOT 'submit' = ANY (scopes)),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

-- One row per use of a token: what for, from where (as the gateway saw
-- it), and how it ended (the answer's error code: 'ok', 'unknown_actor',
-- 'forbidden', 'bad_value', ...).
CREATE TABLE integration_token_use (
    id        bigserial PRIMARY KEY,
    token_id  integer NOT NULL REFERENCES integration_token (id),
    at        timestamptz NOT NULL DEFAULT now(),
    scope     text NOT NULL CHECK (scope IN ('calls', 'submit')),
    address   text CHECK (length(address) <= 64),
    outcome   text NOT NULL CHECK (outcome ~ '^[a-z_]{1,32}$')
);
CREATE INDEX integration_token_use_token_idx ON integration_token_use (token_id, at DESC, id DESC);

-- Two staff members may swap extensions in one import: the uniqueness is
-- checked at the end of the statement, not row by row.
ALTER TABLE staff DROP CONSTRAINT staff_extension_key,
    ADD CONSTRAINT staff_extension_key UNIQUE (extension) DEFERRABLE INITIALLY IMMEDIATE;

-- The token of p_token when it has the shape of one and exists (revoked
-- too): its id, scopes, acts_as and whether it is revoked.
CREATE FUNCTION kefu_token_find(p_token text)
RETURNS TABLE (token_id integer, scopes text[], acts_as text, revoked boolean)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.scopes, t.acts_as, t.revoked_at IS NOT NULL
      FROM integration_token t
     WHERE p_token LIKE 'kit\_%' AND t.token_hash = (SELECT kefu_token_hash(p_token))
$$;

-- Logs one use of p_token for p_scope with its outcome, and marks the
-- token used. False (nothing logged) when p_token is no token's.
CREATE FUNCTION kefu_token_use(p_token text, p_scope text, p_address text, p_outcome text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_id integer;
BEGIN
    SELECT token_id INTO v_id FROM kefu_token_find(p_token);
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO integration_token_use (token_id, scope, address, outcome)
    VALUES (v_id, p_scope, left(p_address, 64), p_outcome);
    UPDATE integration_token SET last_used_at = now() WHERE id = v_id;
    RETURN true;
END
$$;

-- The holder of a credential, the one lookup behind every request:
--  - a staff member's certificate key (as since 011);
--  - 'GATEWAYKEY TOKEN' (common/sock.c makes it when a request carries a
--    session) for an open web session (018's kefu_session_valid) that came
--    through a registered, unrevoked gateway key; a session whose password
--    must be changed acts for no one: it may only change the password (at
--    the gateway);
--  - 'GATEWAYKEY kit_...': an unrevoked integration token with scope
--    'submit', through such a gateway key, acts as its acts_as staff
--    member while they are active.
-- A gateway's key alone is no one. Like every function here that returns
-- one record, it answers a row of NULLs when nobody.
CREATE OR REPLACE FUNCTION kefu_key_actor(p_key text, OUT staff_id text, OUT role text)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.role FROM staff_cert c JOIN staff s ON s.id = c.staff_id
     WHERE c.public_key = p_key AND c.revoked_at IS NULL AND s.active
    UNION ALL
    SELECT v.staff_id, v.role
      FROM gateway_key g, kefu_session_valid(split_part(p_key, ' ', 2)) v
     WHERE strpos(p_key, ' ') > 0 AND g.public_key = split_part(p_key, ' ', 1)
       AND g.revoked_at IS NULL AND v.session_id IS NOT NULL AND NOT v.must_change
    UNION ALL
    SELECT s.id, s.role
      FROM gateway_key g, kefu_token_find(split_part(p_key, ' ', 2)) t
      JOIN staff s ON s.id = t.acts_as
     WHERE strpos(p_key, ' ') > 0 AND g.public_key = split_part(p_key, ' ', 1)
       AND g.revoked_at IS NULL AND NOT t.revoked AND 'submit' = ANY (t.scopes) AND s.active
$$;

-- Creates a token: its hash, scopes and acts_as. Raises an error the
-- operator reads when the name is taken or the staff member is unknown.
CREATE FUNCTION kefu_token_create(p_name text, p_token text, p_scopes text[], p_acts_as text,
                                  p_by text) RETURNS integer
LANGUAGE sql AS $$
    INSERT INTO integration_token (name, scopes, acts_as, token_hash, created_by)
    VALUES (p_name, p_scopes, p_acts_as, kefu_token_hash(p_token), p_by)
    RETURNING id
$$;

-- Revokes the token named p_name at once. False when there is no such
-- unrevoked token.
CREATE FUNCTION kefu_token_revoke(p_name text, p_by text) RETURNS boolean
LANGUAGE sql AS $$
    WITH r AS (UPDATE integration_token SET revoked_at = now(), revoked_by = p_by
                WHERE name = p_name AND revoked_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM r)
$$;

-- ---- calls --------------------------------------------------------------

-- The calls a phone system reported (kefu_call_event): ringing, then
-- answered and ended, or missed (hung up unanswered) until someone calls
-- back (kefu_call_callback_done).
CREATE TABLE call_log (
    id                bigserial PRIMARY KEY,
    call_id           text NOT NULL UNIQUE CHECK (call_id ~ '^[!-~]{1,128}$'),  -- the phone system's
    token_id          integer REFERENCES integration_token (id),                -- who reported it
    caller            text NOT NULL CHECK (length(caller) <= 64),               -- as received
    caller_norm       text CHECK (caller_norm ~ '^[0-9]{5,15}$'),               -- NULL: not a number
    extension         text CHECK (extension ~ '^[0-9]{2,16}$'),
    staff_id          text REFERENCES staff (id),      -- the extension's, at the time
    owner_id          bigint REFERENCES homeowner (id),  -- matched by phone
    state             text NOT NULL CHECK (state IN ('ringing', 'answered', 'ended', 'missed')),
    ringing_at        timestamptz NOT NULL,
    answered_at       timestamptz,
    ended_at          timestamptz,
    callback_done_at  timestamptz,
    callback_by       text REFERENCES staff (id),
    CHECK ((callback_done_at IS NULL) = (callback_by IS NULL)),
    CHECK (callback_done_at IS NULL OR state = 'missed')
);
CREATE INDEX call_log_ringing_idx ON call_log (ringing_at, id);
CREATE INDEX call_log_staff_idx ON call_log (staff_id, ringing_at, id);
CREATE INDEX call_log_callback_idx ON call_log (ringing_at, id)
    WHERE state = 'missed' AND callback_done_at IS NULL;

-- The event of a call's change, its body as proto/catalog.md says.
CREATE FUNCTION kefu_call_emit(p_type text, c call_log, p_at timestamptz) RETURNS event
LANGUAGE sql AS $$
    SELECT * FROM kefu_emit(p_type, '', 'kefu-gateway', jsonb_build_object(
        'call', c.call_id, 'caller', c.caller_norm, 'extension', c.extension,
        'staff', c.staff_id, 'owner', c.owner_id, 'at', kefu_ms(p_at)))
$$;

-- The state a call moves to on p_event, or NULL when the event changes
-- nothing: a repeat, or answered after the hangup.
CREATE FUNCTION kefu_call_next(p_state text, p_event text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_state IS NULL THEN
            CASE p_event WHEN 'ringing' THEN 'ringing' WHEN 'answered' THEN 'answered'
                         ELSE 'missed' END
        WHEN p_state = 'ringing' AND p_event = 'answered' THEN 'answered'
        WHEN p_state = 'ringing' AND p_event = 'hangup' THEN 'missed'
        WHEN p_state = 'answered' AND p_event = 'hangup' THEN 'ended'
    END
$$;

-- Applies one event of a phone system, reported with integration token
-- p_token (scope 'calls'), and logs the token's use. ev_*: the call.*
-- event it wrote to the outbox (NULL when nothing changed), for the
-- gateway to ring the bus with after the commit.
-- status: 'ok'; 'unknown_actor' (no such token, or revoked: nothing
-- applied); 'forbidden' (the token has no scope 'calls': nothing applied).
-- changed: whether the event moved the call (false for a repeat, or an
-- answer after the hangup). The same transaction writes the event
-- call.ringing, call.answered, call.ended or call.missed.
-- Bad input (unknown event, call id, extension) raises SQLSTATE 22023.
CREATE FUNCTION kefu_call_event(p_token text, p_call_id text, p_event text, p_caller text,
                                p_caller_norm text, p_extension text, p_at timestamptz,
                                p_address text)
RETURNS TABLE (status text, changed boolean, call_id text, state text, staff_id text,
               owner_id bigint, owner_name text, ev_seq bigint, ev_id uuid, ev_type text,
               ev_corr text, ev_src text, ev_at bigint, ev_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    t record;
    c call_log;
    e event;
    v_at timestamptz := coalesce(p_at, now());
    v_next text;
    v_staff text;
BEGIN
    IF p_event IS NULL OR p_event NOT IN ('ringing', 'answered', 'hangup') THEN
        RAISE EXCEPTION 'event must be ringing, answered or hangup, not %', p_event
            USING ERRCODE = '22023';
    ELSIF p_call_id IS NULL OR p_call_id !~ '^[!-~]{1,128}$' THEN
        RAISE EXCEPTION 'a call id is 1 to 128 printable ASCII characters' USING ERRCODE = '22023';
    ELSIF p_extension !~ '^[0-9]{2,16}$' THEN
        RAISE EXCEPTION 'an extension is 2 to 16 digits, not %', p_extension USING ERRCODE = '22023';
    ELSIF p_caller_norm !~ '^[0-9]{5,15}$' OR length(p_caller) > 64 THEN
        RAISE EXCEPTION 'the caller is not a normalised phone number' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO t FROM kefu_token_find(p_token);
    IF t.token_id IS NULL OR t.revoked OR NOT 'calls' = ANY (t.scopes) THEN
        PERFORM kefu_token_use(p_token, 'calls', p_address,
                               CASE WHEN t.revoked THEN 'unknown_actor' ELSE 'forbidden' END);
        RETURN QUERY SELECT CASE WHEN t.token_id IS NULL OR t.revoked THEN 'unknown_actor'
                                 ELSE 'forbidden' END, false, p_call_id, NULL::text,
                            NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::uuid,
                            NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    SELECT s.id INTO v_staff FROM staff s WHERE s.extension = p_extension AND s.active;
    INSERT INTO call_log AS l (call_id, token_id, caller, caller_norm, extension, staff_id,
                               owner_id, state, ringing_at)
    VALUES (p_call_id, t.token_id, coalesce(p_caller, ''), p_caller_norm, p_extension, v_staff,
            (SELECT h.id FROM homeowner h WHERE h.phone = p_caller_norm), 'ringing', v_at)
    ON CONFLICT ON CONSTRAINT call_log_call_id_key DO NOTHING
    RETURNING l.* INTO c;
    IF c.id IS NOT NULL THEN
        v_next := kefu_call_next(NULL, p_event);  -- a new call: every event moves it
    ELSE
        SELECT * INTO c FROM call_log l WHERE l.call_id = p_call_id FOR UPDATE;
        v_next := kefu_call_next(c.state, p_event);
    END IF;
    IF v_next = 'answered' AND p_extension IS NOT NULL THEN
        c.extension := p_extension;  -- the phone that took it (of a ring group)
        c.staff_id := v_staff;
    END IF;
    IF v_next IS NOT NULL THEN
        UPDATE call_log l
           SET state = v_next, extension = c.extension, staff_id = c.staff_id,
               answered_at = CASE WHEN v_next = 'answered' THEN v_at ELSE l.answered_at END,
               ended_at = CASE WHEN v_next IN ('ended', 'missed') THEN v_at ELSE l.ended_at END
         WHERE l.id = c.id RETURNING l.* INTO c;
        e := kefu_call_emit('call.' || v_next, c, v_at);
    END IF;
    PERFORM kefu_token_use(p_token, 'calls', p_address, 'ok');
    RETURN QUERY SELECT 'ok', v_next IS NOT NULL, c.call_id, c.state, c.staff_id, c.owner_id,
                        (SELECT h.name FROM homeowner h WHERE h.id = c.owner_id), e.seq, e.id,
                        e.type, e.corr, e.src, kefu_ms(e.at), e.body::text;
END
$$;

-- The caller log, newest first, a page at a time: p_staff's calls (NULL:
-- everyone's), in state p_state (NULL: any; 'missed': missed calls still
-- needing a callback), after the cursor (the last row's ringing_us and
-- id; NULL: from the newest).
CREATE FUNCTION kefu_calls_list(p_staff text, p_state text, p_limit integer, p_before_us bigint,
                                p_before_id bigint)
RETURNS TABLE (id bigint, call_id text, caller text, caller_norm text, extension text,
               staff_id text, owner_id bigint, owner_name text, state text, ringing_ms bigint,
               answered_ms bigint, ended_ms bigint, callback_done_ms bigint, callback_by text,
               ringing_us bigint)
LANGUAGE sql STABLE AS $$
    SELECT l.id, l.call_id, l.caller, l.caller_norm, l.extension, l.staff_id, l.owner_id, h.name,
           l.state, kefu_ms(l.ringing_at), kefu_ms(l.answered_at), kefu_ms(l.ended_at),
           kefu_ms(l.callback_done_at), l.callback_by, kefu_us(l.ringing_at)
      FROM call_log l LEFT JOIN homeowner h ON h.id = l.owner_id
     WHERE (p_staff IS NULL OR l.staff_id = p_staff)
       AND (p_state IS NULL OR l.state = p_state)
       AND (p_state IS DISTINCT FROM 'missed' OR l.callback_done_at IS NULL)
       AND (p_before_us IS NULL
            OR (l.ringing_at, l.id) < (kefu_us_ts(p_before_us), coalesce(p_before_id, 0)))
     ORDER BY l.ringing_at DESC, l.id DESC
     LIMIT greatest(1, least(coalesce(p_limit, 50), 500))
$$;

-- Records that p_staff called back the missed call p_call_id.
-- 'ok', 'unknown' (no such call), 'not_missed' (it was answered, or
-- still ringing), or 'already' (someone called back before: unchanged).
CREATE FUNCTION kefu_call_callback_done(p_call_id text, p_staff text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c call_log;
BEGIN
    SELECT * INTO c FROM call_log WHERE call_id = p_call_id FOR UPDATE;
    IF c.id IS NULL THEN
        RETURN 'unknown';
    ELSIF c.state <> 'missed' THEN
        RETURN 'not_missed';
    ELSIF c.callback_done_at IS NOT NULL THEN
        RETURN 'already';
    END IF;
    UPDATE call_log SET callback_done_at = now(), callback_by = p_staff WHERE id = c.id;
    RETURN 'ok';
END
$$;
