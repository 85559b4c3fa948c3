-- kefu store, part 6: what the operators' imports leave behind (kefu admin
-- import, import-owners, import-tickets; deploy/ORG-FORMAT.md).

-- Tickets brought over from the previous system. They are written already
-- resolved or closed, with no outbox event, so nothing routes, escalates or
-- notifies them; consumers that scan the ticket table skip them by this flag.
-- IF NOT EXISTS: later migrations may add it defensively too.
ALTER TABLE ticket ADD COLUMN IF NOT EXISTS imported boolean NOT NULL DEFAULT false;

-- One row per import run that reached the store: who loaded which file when,
-- and what it did. A run refused by validation leaves no row (nothing of it
-- was applied).
CREATE TABLE import_run (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('org', 'owners', 'tickets')),
    file        text NOT NULL,                 -- the path as the operator gave it
    sha1        text NOT NULL CHECK (sha1 ~ '^[0-9a-f]{40}$'),  -- of the file's bytes
    operator    text NOT NULL DEFAULT session_user,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    counts      jsonb NOT NULL DEFAULT '{}'    -- created, changed, rejected ... per kind of row
);

-- Where each imported ticket came from. source_key makes re-importing the
-- same history a no-op: 'ext:<external_id>' when the file has that column,
-- else 'row:<sha256 of the row's identifying fields>'. The survey scores are
-- kept here as well, so that they can be added to the survey table once it
-- exists (a re-run of the same file does that).
CREATE TABLE ticket_import (
    ticket_id  bigint PRIMARY KEY REFERENCES ticket (id),
    source_key text NOT NULL UNIQUE CHECK (source_key ~ '^(ext|row):.'),
    run_id     bigint NOT NULL REFERENCES import_run (id),
    line       integer NOT NULL CHECK (line > 0),
    score      smallint CHECK (score BETWEEN 1 AND 5),    -- satisfaction, 1-5
    nps        smallint CHECK (nps BETWEEN 0 AND 10),     -- recommendation, 0-10
    surveyed_at timestamptz                               -- when the owner answered
);
