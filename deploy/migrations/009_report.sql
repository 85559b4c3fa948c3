-- kefu store, part 9: what the KPI report (kefu report, services/survey/report.c)
-- needs beyond the tables it reads.

-- True when p_tz names a time zone PostgreSQL knows. The report checks the
-- zone a client asks for with this instead of reading pg_timezone_names,
-- which parses every zone file (about 100 ms a call on these machines).
CREATE FUNCTION kefu_tz_valid(p_tz text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM timezone(p_tz, now());
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END $$;

-- The escalations of the tickets a report covers are found through this
-- small partial index (one entry per escalation, about 5 % of the history)
-- instead of a scan of the whole history: over 1,000,000 tickets and
-- 3,000,000 history rows that scan took longer than the rest of a monthly
-- report together (tests/bench/report-results.md).
CREATE INDEX ticket_history_escalated_idx ON ticket_history (ticket_id, level)
    WHERE action = 'escalated';
