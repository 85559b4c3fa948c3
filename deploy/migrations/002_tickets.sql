-- kefu store, part 2: tickets, their append-only history, routing rules and SLA policies.

CREATE TABLE routing_rule (
    id            serial PRIMARY KEY,
    kind          text,                 -- NULL matches any kind
    category      text,                 -- NULL matches any category
    project_id    text REFERENCES project (id),   -- NULL matches any project
    department_id text NOT NULL REFERENCES department (id),
    owner_id      text REFERENCES staff (id),     -- NULL: the department head
    note          text,
    UNIQUE NULLS NOT DISTINCT (kind, category, project_id)
);

-- Deadlines in seconds, by kind and priority; calendar time, around the clock.
CREATE TABLE sla_policy (
    kind                text NOT NULL,
    priority            text NOT NULL CHECK (priority IN ('normal', 'high', 'urgent')),
    first_response_secs integer NOT NULL CHECK (first_response_secs > 0),
    resolve_secs        integer NOT NULL CHECK (resolve_secs > 0),
    escalate_secs       integer NOT NULL CHECK (escalate_secs > 0), -- time at each escalation level
    PRIMARY KEY (kind, priority)
);

CREATE TABLE ticket (
    id                 bigserial PRIMARY KEY,
    no                 text NOT NULL UNIQUE,       -- KF-YYYY-NNNNNN
    idem_key           text UNIQUE,                -- the client's idempotency key
    kind               text NOT NULL CHECK (kind IN ('complaint', 'repair', 'inquiry', 'suggestion', 'praise')),
    category           text NOT NULL,
    channel            text NOT NULL,
    priority           text NOT NULL CHECK (priority IN ('normal', 'high', 'urgent')),
    status             text NOT NULL DEFAULT 'submitted'
                       CHECK (status IN ('submitted', 'routed', 'responded', 'resolved', 'closed')),
    project_id         text NOT NULL REFERENCES project (id),
    unit_id            bigint REFERENCES unit (id),
    homeowner_id       bigint NOT NULL REFERENCES homeowner (id),
    summary            text NOT NULL CHECK (length(btrim(summary)) > 0),
    detail             text,
    created_by         text NOT NULL REFERENCES staff (id),
    owner_id           text NOT NULL REFERENCES staff (id),  -- one owner at every moment
    department_id      text REFERENCES department (id),
    responsible_id     text REFERENCES staff (id),           -- project GM, for complaints
    routing_rule_id    integer REFERENCES routing_rule (id),
    escalation_level   smallint NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    received_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    routed_at          timestamptz,
    first_response_due timestamptz,
    resolve_due        timestamptz,
    next_escalation_at timestamptz,                          -- the deadline scan's key
    responded_at       timestamptz,
    resolved_at        timestamptz,
    first_resolved_at  timestamptz,
    closed_at          timestamptz,
    CHECK (status = 'submitted' OR routed_at IS NOT NULL),
    CHECK (status NOT IN ('resolved', 'closed') OR resolved_at IS NOT NULL)
);

CREATE INDEX ticket_escalation_idx ON ticket (next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX ticket_owner_idx ON ticket (owner_id, status);
CREATE INDEX ticket_project_received_idx ON ticket (project_id, received_at);
CREATE INDEX ticket_received_idx ON ticket (received_at);

-- Append-only: every change of owner or state is one row here.
CREATE TABLE ticket_history (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES ticket (id),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    action     text NOT NULL CHECK (action IN ('submitted', 'routed', 'responded', 'transferred',
                                               'escalated', 'resolved', 'reopened', 'closed')),
    actor      text,                     -- staff id; NULL when kefu itself acted
    from_owner text,
    to_owner   text,
    reason     text,
    note       text,
    level      smallint,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK (action <> 'transferred' OR (to_owner IS NOT NULL AND length(btrim(coalesce(reason, ''))) > 0)),
    CHECK (action <> 'escalated' OR (to_owner IS NOT NULL AND level IS NOT NULL))
);
CREATE INDEX ticket_history_ticket_idx ON ticket_history (ticket_id, id);

CREATE FUNCTION kefu_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_history is append-only' USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ticket_history_append_only BEFORE UPDATE OR DELETE ON ticket_history
    FOR EACH ROW EXECUTE FUNCTION kefu_history_is_append_only();

-- An owner changes only together with a history row naming the new owner,
-- written in the same transaction (checked at commit).
CREATE FUNCTION kefu_owner_change_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS DISTINCT FROM OLD.owner_id AND NOT EXISTS (
        SELECT 1 FROM ticket_history h
         WHERE h.ticket_id = NEW.id AND h.to_owner = NEW.owner_id AND h.xid = pg_current_xact_id())
    THEN
        RAISE EXCEPTION 'ticket % changed owner to % without a history row', NEW.no, NEW.owner_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ticket_owner_change_recorded AFTER UPDATE OF owner_id ON ticket
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kefu_owner_change_recorded();
