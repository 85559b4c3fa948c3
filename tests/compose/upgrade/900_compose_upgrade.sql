-- The compose pass's upgrade migration (tests/compose/upgrade): applied by
-- the new image's migrate while the old daemons still serve. A new column
-- on the busiest table (daemons' prepared statements must survive it) and
-- a new table.
ALTER TABLE ticket ADD COLUMN compose_upgrade_note text;
CREATE TABLE compose_upgrade_probe (
    id bigint PRIMARY KEY,
    made_at timestamptz NOT NULL DEFAULT now()
);
