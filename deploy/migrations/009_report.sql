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
