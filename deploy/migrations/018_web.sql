-- kefu store, part 18: people on the web (kefu-gateway, proto/security.md).
--
-- Staff sign in with a password (Argon2id, hashed by libsodium's
-- crypto_pwhash_str in kefu-admin or the gateway; the store keeps only the
-- hash). A sign-in opens a web session: a random 256-bit token that only
-- the browser holds (in an HttpOnly cookie); the store keeps its SHA-256.
-- The gateway forwards the token with each request (the envelope's
-- "session" key) over its own CurveZMQ key, and the daemons take the actor
-- from kefu_key_actor (020), which accepts a session only from a registered,
-- unrevoked gateway key: the gateway's key alone is no one, and a session
-- token alone cannot reach a daemon.

ALTER TABLE staff
    ADD COLUMN password_hash        text,        -- crypto_pwhash_str; NULL: cannot sign in
    ADD COLUMN password_set_at      timestamptz,
    ADD COLUMN password_must_change boolean NOT NULL DEFAULT false,  -- a first or reset password
    ADD COLUMN extension            text UNIQUE CHECK (extension ~ '^[0-9]{2,16}$');  -- CTI

-- The CurveZMQ keys of kefu-gateway instances (kefu-admin cert --gateway).
CREATE TABLE gateway_key (
    public_key  text PRIMARY KEY CHECK (public_key ~ '^[0-9A-Za-z.:+=^!/*?&<>()\[\]{}@%$#-]{40}$'),
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9._-]{0,63}$'),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    issued_by   text NOT NULL DEFAULT current_user,
    revoked_at  timestamptz,
    revoked_by  text
);

CREATE TABLE web_session (
    id            bigserial PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),  -- kefu_token_hash
    staff_id      text NOT NULL REFERENCES staff (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    idle_timeout  interval NOT NULL CHECK (idle_timeout > interval '0'),
    expires_at    timestamptz NOT NULL,             -- absolute end, whatever the use
    address       text,                             -- as the gateway saw them at sign-in
    user_agent    text CHECK (length(user_agent) <= 256),
    ended_at      timestamptz,
    ended_by      text,
    end_reason    text CHECK (end_reason IN ('signout', 'revoked', 'inactive', 'password'))
);
CREATE INDEX web_session_open_idx ON web_session (staff_id) WHERE ended_at IS NULL;

-- Failed sign-ins per account ('staff:ID') and per address ('addr:IP'),
-- forgotten after an hour of quiet.
CREATE TABLE signin_failure (
    subject   text PRIMARY KEY,
    failures  integer NOT NULL CHECK (failures > 0),
    last_at   timestamptz NOT NULL
);

-- STABLE like convert_to, and a single expression, so that the planner
-- inlines it. Callers compare with (SELECT kefu_token_hash(...)): a
-- scalar subquery is computed once per statement, where a bare call would
-- be hashed again for each row a sequential scan of a small table visits.
CREATE FUNCTION kefu_token_hash(p_token text) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(p_token, 'UTF8'))
$$;

-- The session of p_token when it is open: not ended, before its absolute
-- and idle ends, its staff member active. A set (of one row or none) of a
-- single STABLE SELECT, so that the planner inlines it into the statement
-- that calls it: every request through a gateway runs it (kefu_key_actor).
CREATE FUNCTION kefu_session_valid(p_token text)
RETURNS TABLE (session_id bigint, staff_id text, role text, must_change boolean)
LANGUAGE sql STABLE AS $$
    SELECT w.id, s.id, s.role, s.password_must_change
      FROM web_session w JOIN staff s ON s.id = w.staff_id
     WHERE w.token_hash = (SELECT kefu_token_hash(p_token)) AND w.ended_at IS NULL AND s.active
       AND now() < w.expires_at AND now() < w.last_seen_at + w.idle_timeout
$$;

-- kefu_key_actor, the holder of a credential, learns web sessions (and
-- integration tokens) in 020_tokens_calls.sql, which needs its tables.

-- Whether a key may complete the CurveZMQ handshake: a staff member's
-- registered key, or a gateway's. (kefu_key_actor, like every function
-- here that returns one record, answers a row of NULLs when nobody.)
CREATE FUNCTION kefu_key_admitted(p_key text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM kefu_key_actor(p_key) a WHERE a.staff_id IS NOT NULL)
        OR EXISTS (SELECT 1 FROM gateway_key WHERE public_key = p_key AND revoked_at IS NULL)
$$;

-- How long a subject must wait before its next sign-in attempt after
-- failures: none for the first few, then doubling up to 15 minutes. An
-- address gets more tries (many agents share an office's address).
CREATE FUNCTION kefu_signin_delay(p_subject text, p_failures integer) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_failures < t.free THEN interval '0'
                ELSE make_interval(secs => least(900, 2 ^ least(p_failures - t.free, 10)))
           END
      FROM (SELECT CASE WHEN p_subject LIKE 'addr:%' THEN 20 ELSE 5 END AS free) t
$$;

-- What a sign-in needs before the password is checked: the staff member's
-- hash (NULL when unknown, inactive or without a password: the gateway
-- then checks against a dummy hash, so the answer takes as long), whether
-- the password must be changed, and the seconds to wait first (0: go on;
-- never negative once the wait has passed).
CREATE FUNCTION kefu_signin_begin(p_staff text, p_address text, OUT password_hash text,
                                  OUT must_change boolean, OUT wait_s integer)
LANGUAGE sql STABLE AS $$
    SELECT s.password_hash, coalesce(s.password_must_change, false),
           greatest(0, coalesce((SELECT max(ceil(extract(epoch FROM
                                     f.last_at + kefu_signin_delay(f.subject, f.failures) - now())))
                       FROM signin_failure f
                      WHERE f.subject IN ('staff:' || p_staff, 'addr:' || p_address)
                        AND f.last_at > now() - interval '1 hour'), 0))::integer
      FROM (SELECT 1) one
      LEFT JOIN staff s ON s.id = p_staff AND s.active
$$;

-- Counts a failed sign-in against the account and the address.
CREATE FUNCTION kefu_signin_failed(p_staff text, p_address text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO signin_failure AS f (subject, failures, last_at)
    VALUES ('staff:' || p_staff, 1, now()), ('addr:' || p_address, 1, now())
    ON CONFLICT (subject) DO UPDATE
       SET failures = CASE WHEN f.last_at < now() - interval '1 hour' THEN 1
                           ELSE f.failures + 1 END,
           last_at = now()
$$;

-- Opens a session for p_staff after the gateway checked the password:
-- the account's failures are forgotten (the address's are not: one
-- success must not hide spraying from it). No row when p_staff is not
-- active staff.
CREATE FUNCTION kefu_session_open(p_staff text, p_token text, p_idle_s integer,
                                  p_absolute_s integer, p_address text, p_user_agent text)
RETURNS TABLE (session_id bigint, expires_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM signin_failure WHERE subject = 'staff:' || p_staff;
    RETURN QUERY
    INSERT INTO web_session AS w (token_hash, staff_id, idle_timeout, expires_at, address,
                                  user_agent)
    SELECT kefu_token_hash(p_token), s.id, make_interval(secs => p_idle_s),
           now() + make_interval(secs => p_absolute_s), p_address, left(p_user_agent, 256)
      FROM staff s WHERE s.id = p_staff AND s.active
    RETURNING w.id, w.expires_at;
END
$$;

-- The signed-in person of an open session, for the gateway's own routes,
-- and the session's idle clock restarted (written at most every 30 s).
CREATE FUNCTION kefu_session_touch(p_token text)
RETURNS TABLE (session_id bigint, staff_id text, name text, role text, lang text,
               must_change boolean, expires_at timestamptz, idle_ends_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE web_session w SET last_seen_at = now()
      FROM kefu_session_valid(p_token) v
     WHERE w.id = v.session_id AND w.last_seen_at < now() - interval '30 seconds';
    RETURN QUERY
    SELECT w.id, s.id, s.name, s.role, s.lang, s.password_must_change, w.expires_at,
           least(w.expires_at, w.last_seen_at + w.idle_timeout)
      FROM kefu_session_valid(p_token) v
      JOIN web_session w ON w.id = v.session_id JOIN staff s ON s.id = v.staff_id;
END
$$;

-- Ends sessions: the one of p_token (sign-out), or p_staff's (all, or the
-- one numbered p_session) for an operator. Returns how many ended.
CREATE FUNCTION kefu_session_end(p_token text) RETURNS integer
LANGUAGE sql AS $$
    WITH ended AS (
        UPDATE web_session SET ended_at = now(), ended_by = 'self', end_reason = 'signout'
         WHERE token_hash = (SELECT kefu_token_hash(p_token)) AND ended_at IS NULL RETURNING 1)
    SELECT count(*)::integer FROM ended
$$;

CREATE FUNCTION kefu_sessions_revoke(p_staff text, p_session bigint, p_by text) RETURNS integer
LANGUAGE sql AS $$
    WITH ended AS (
        UPDATE web_session SET ended_at = now(), ended_by = p_by, end_reason = 'revoked'
         WHERE staff_id = p_staff AND ended_at IS NULL AND (p_session IS NULL OR id = p_session)
        RETURNING 1)
    SELECT count(*)::integer FROM ended
$$;

-- Sets p_staff's password hash; every other open session of theirs ends
-- (p_keep: the session that changed it, or NULL). False when p_staff is
-- not staff.
CREATE FUNCTION kefu_password_set(p_staff text, p_hash text, p_must_change boolean, p_keep bigint,
                                  p_by text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staff SET password_hash = p_hash, password_set_at = now(),
                     password_must_change = p_must_change
     WHERE id = p_staff;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE web_session SET ended_at = now(), ended_by = p_by, end_reason = 'password'
     WHERE staff_id = p_staff AND ended_at IS NULL AND id IS DISTINCT FROM p_keep;
    RETURN true;
END
$$;

-- A staff member made inactive is signed out everywhere at once (the
-- validity check refuses them already; this makes it visible and final).
CREATE FUNCTION kefu_staff_inactive_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE web_session SET ended_at = now(), ended_by = current_user, end_reason = 'inactive'
     WHERE staff_id = NEW.id AND ended_at IS NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER staff_inactive_sessions AFTER UPDATE OF active ON staff
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION kefu_staff_inactive_sessions();
