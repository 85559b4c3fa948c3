-- kefu store, part 15: open tickets brought over from the previous system
-- (kefu admin import-tickets, deploy/ORG-FORMAT.md).
--
-- A ticket imported finished (resolved or closed) is history that kefu never
-- acts on: ticket.imported is true, and the ticket-router, the notifier and
-- kefu-survey leave it alone (006_import.sql). A ticket imported while still
-- open is live from the import on: it is written routed (or responded), with
-- its owner, department and SLA deadlines, and ticket.imported false, so that
-- the deadline scan escalates it, and its later transfer, resolution and
-- survey notify and survey as any other ticket's do. Its import writes no
-- outbox event (no ticket.submitted, no ticket.routed): those would tell the
-- customer by SMS, months late, that the report was received and routed.
-- Where it came from is still in ticket_import, marked here.

-- True when the ticket was imported before it was resolved.
ALTER TABLE ticket_import ADD COLUMN open boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN ticket.imported IS
    'finished history from the previous system: never routed, escalated, notified or surveyed; '
    'tickets imported open are live (false) and marked in ticket_import.open';
COMMENT ON COLUMN ticket_import.open IS
    'imported before it was resolved: routed on the SLA policy''s clock, live since the import';
