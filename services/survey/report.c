/* kefu-survey — the `report` request: KPIs from the store. */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define S_LEVELS 3          /* escalation levels (002_tickets.sql: 0-3) */
#define S_KEY_MAX 64        /* bytes of a group key kept */
#define S_CYCLE_ROWS_MAX 32 /* steps, and approvers, in a reply (the 64 KiB frame) */
#define S_APPROVAL_NONE "no request completed in the period"

/* ---- SQL -----------------------------------------------------------------
   The figure statements take: $1 from and $2 to (ms, the half-open
   period), $3 what to group by ('project', 'department', 'kind', or NULL
   for the total alone), $4 the time zone, and the tickets statement $5
   the report's "now" (ms). Each returns the total with first-column
   grouping() = 1 and one row per group with grouping() = 0, then the key,
   then the counts. The series statements return the same columns, one row
   per month, from $1 (the months' starts, ms), $2 (their ends) and $3
   (their labels) instead. */

// clang-format off
/* The group of a ticket t. */
#define S_TICKET_GROUP                                                                            \
    "CASE $3::text WHEN 'project' THEN t.project_id WHEN 'department' THEN t.department_id "      \
    "WHEN 'kind' THEN t.kind END"
/* The group of a survey answer s: its project is its own (a resolution
   survey's is its ticket's, copied when it was made), its department and
   kind are its ticket's (NULL for a campaign), read one by one only when
   grouping by them: joining a month's answers to the whole ticket table
   made the planner hash all of it. */
#define S_OF_TICKET(column) "(SELECT t." column " FROM ticket t WHERE t.id = s.ticket_id)"
#define S_SURVEY_GROUP                                                                            \
    "CASE $3::text WHEN 'project' THEN coalesce(s.project_id, " S_OF_TICKET("project_id") ") "   \
    "WHEN 'department' THEN " S_OF_TICKET("department_id") " "                                    \
    "WHEN 'kind' THEN " S_OF_TICKET("kind") " END"

/* A ticket's columns for the figures below. */
#define S_TICKET_ROW                                                                              \
    "SELECT t.kind = 'complaint' AS c, t.received_at, t.responded_at, "                           \
    "coalesce(t.first_resolved_at, t.resolved_at) AS first_resolved"

/* The ticket figures over rows x of S_TICKET_ROW: tickets, complaints,
   first response hits, its denominator, pending, resolved within the
   month. First response (complaints): a hit is a response at most 24 h
   after receipt; the denominator holds the answered ones and the
   unanswered ones whose 24 h have passed by now ($5); those still within
   their 24 h are counted apart (pending) and in neither. Resolved within
   the month (complaints): first resolution (a reopened ticket keeps
   first_resolved_at) before the first instant of the month after the
   local month of receipt. '24 hours' and not '1 day': a day is 23 or 25
   hours across a DST change. */
#define S_TICKET_FIGURES                                                                          \
    "count(*), count(*) FILTER (WHERE x.c), "                                                     \
    "count(*) FILTER (WHERE x.c AND x.responded_at <= x.received_at + interval '24 hours'), "     \
    "count(*) FILTER (WHERE x.c AND (x.responded_at IS NOT NULL "                                 \
    "  OR x.received_at + interval '24 hours' < kefu_ts($5::bigint))), "                          \
    "count(*) FILTER (WHERE x.c AND x.responded_at IS NULL "                                      \
    "  AND x.received_at + interval '24 hours' >= kefu_ts($5::bigint)), "                         \
    "count(*) FILTER (WHERE x.c AND x.first_resolved < timezone($4::text, "                       \
    "  date_trunc('month', timezone($4::text, x.received_at)) + interval '1 month'))"

/* The survey figures over answers x: answers with a 1-5 score, those
   scoring 4-5; 0-10 answers at 9-10, 7-8 and 0-6. */
#define S_SURVEY_FIGURES                                                                          \
    "count(x.score), count(*) FILTER (WHERE x.score >= 4), "                                      \
    "count(*) FILTER (WHERE x.nps >= 9), count(*) FILTER (WHERE x.nps BETWEEN 7 AND 8), "         \
    "count(*) FILTER (WHERE x.nps <= 6)"

#define S_IN_PERIOD(column) column " >= kefu_ts($1::bigint) AND " column " < kefu_ts($2::bigint)"
#define S_IN_MONTH(column) column " >= kefu_ts(b.lo) AND " column " < kefu_ts(b.hi)"
#define S_MONTHS "unnest($1::bigint[], $2::bigint[], $3::text[]) AS b (lo, hi, label)"

/* Tickets received in the period. */
static const char *const s_sql_tickets =
    "SELECT grouping(x.g), x.g, " S_TICKET_FIGURES " "
    "FROM (" S_TICKET_ROW ", " S_TICKET_GROUP " AS g "
    "      FROM ticket t WHERE " S_IN_PERIOD("t.received_at") ") x "
    "GROUP BY GROUPING SETS ((), (x.g))";

/* The same per month of a series, each month read by its own range scan:
   grouping a year by an expression of received_at made the planner expect
   a million groups and sort them on disk. */
static const char *const s_sql_tickets_series =
    "SELECT 0, b.label, f.* FROM " S_MONTHS " CROSS JOIN LATERAL ("
    "  SELECT " S_TICKET_FIGURES " FROM (" S_TICKET_ROW " FROM ticket t "
    "    WHERE " S_IN_MONTH("t.received_at") ") x) f";

/* Escalations (history rows) of the tickets received in the period, by
   level: the numerators of "escalations per 100 tickets" (whose
   denominator is the tickets statement's first count). The partial index
   ticket_history_escalated_idx (009_report.sql) holds exactly these rows. */
static const char *const s_sql_escalations =
    "SELECT grouping(x.g), x.g, h.level, count(*) "
    "FROM (SELECT t.id, " S_TICKET_GROUP " AS g "
    "      FROM ticket t WHERE " S_IN_PERIOD("t.received_at") ") x "
    "JOIN ticket_history h ON h.ticket_id = x.id AND h.action = 'escalated' "
    "GROUP BY GROUPING SETS ((h.level), (x.g, h.level))";

/* Survey answers recorded in the period. */
static const char *const s_sql_surveys =
    "SELECT grouping(x.g), x.g, " S_SURVEY_FIGURES " "
    "FROM (SELECT s.score, s.nps, " S_SURVEY_GROUP " AS g "
    "      FROM survey s WHERE " S_IN_PERIOD("s.answered_at") ") x "
    "GROUP BY GROUPING SETS ((), (x.g))";

/* The same per month of a series. */
static const char *const s_sql_surveys_series =
    "SELECT 0, b.label, f.* FROM " S_MONTHS " CROSS JOIN LATERAL ("
    "  SELECT " S_SURVEY_FIGURES " FROM survey x WHERE " S_IN_MONTH("x.answered_at") ") f";

/* Approval cycle time: the approval requests completed (approved or
   rejected) in the period, found by approval_request_completed_idx, each
   with its request -> completion in ms, grouped by its ticket; one sorted
   array of durations per group, whose median and 90th percentile kpi.h
   computes (kpi_cycle). No request: the total's array is NULL. */
static const char *const s_sql_approvals =
    "SELECT grouping(x.g), x.g, array_agg(x.ms ORDER BY x.ms) "
    "FROM (SELECT kefu_ms(r.completed_at) - kefu_ms(r.requested_at) AS ms, " S_TICKET_GROUP " AS g "
    "      FROM approval_request r JOIN ticket t ON t.id = r.ticket_id "
    "      WHERE " S_IN_PERIOD("r.completed_at") ") x "
    "GROUP BY GROUPING SETS ((), (x.g))";

/* The decided steps of those requests ($1, $2 as above), by label
   (first column 0) and by approver (1), each with a sorted array of
   durations (ms) and, for a label, the earliest place it has in a request
   (stage * 1000 + step: the order a request meets its steps; 0 for an
   approver). A step's duration runs from when the request reached
   its stage (the request's start for stage 1, else the last decision of
   the stage before, which completed it) to its decision, so time lost
   before a timeout moved the step counts against the step. An approver's
   runs from when the step was assigned to them (or moved to them) to the
   decision; the approver is who decided (decided_by, also when deciding
   as a delegate) or, for a step approved at its deadline by the policy
   (auto_approve, decided by no one), the step's approver, whose silence
   it was. Skipped steps (their stage was decided without them) are in
   neither. */
static const char *const s_sql_approval_steps =
    "WITH x AS (SELECT s.label, s.stage, s.step, coalesce(s.decided_by, s.approver) AS who, "
    "    kefu_ms(s.decided_at) - kefu_ms(coalesce(CASE WHEN s.stage = 1 THEN r.requested_at "
    "      ELSE (SELECT max(p.decided_at) FROM approval_step p "
    "             WHERE p.request_id = s.request_id AND p.stage = s.stage - 1) END, "
    "      s.assigned_at)) AS step_ms, "
    "    kefu_ms(s.decided_at) - kefu_ms(s.assigned_at) AS who_ms "
    "  FROM approval_request r JOIN approval_step s ON s.request_id = r.id "
    "  WHERE " S_IN_PERIOD("r.completed_at") " AND s.decided_at IS NOT NULL) "
    "SELECT 0, x.label, array_agg(x.step_ms ORDER BY x.step_ms), "
    "  min(x.stage * 1000 + x.step) FROM x GROUP BY x.label "
    "UNION ALL "
    "SELECT 1, x.who, array_agg(x.who_ms ORDER BY x.who_ms), 0 FROM x GROUP BY x.who";
// clang-format on

/* The zone of the report (the request's, else the store's kefu.tz), now,
   and the current local month; no row when the zone is unknown. */
static const char *const s_sql_clock =
    "SELECT z.tz, kefu_ms(now()), to_char(timezone(z.tz, now()), 'YYYY-MM') "
    "FROM (SELECT coalesce($1::text, kefu_tz()) AS tz) z WHERE kefu_tz_valid(z.tz)";

/* The instants at which local wall times ($2, a text array of
   'YYYY-MM-DD HH:MM:SS') occur in zone $1, in order. */
static const char *const s_sql_instants =
    "SELECT kefu_ms(timezone($1::text, u.t::timestamp)) "
    "FROM unnest($2::text[]) WITH ORDINALITY AS u (t, i) ORDER BY u.i";

/* The local months of instants $2 and $3 in zone $1. */
static const char *const s_sql_months =
    "SELECT to_char(timezone($1::text, kefu_ts($2::bigint)), 'YYYY-MM'), "
    "to_char(timezone($1::text, kefu_ts($3::bigint)), 'YYYY-MM')";

/* ---- figures ------------------------------------------------------------ */

/* The counts of one group (or of the total) over one period. */
typedef struct {
    char key[S_KEY_MAX + 1]; /* the group's key; "" for the total */
    bool null_key;           /* a group whose key is NULL (e.g. not yet routed) */
    int64_t tickets;         /* received in the period, every kind */
    int64_t complaints;      /* of which complaints */
    int64_t fr_num, fr_den, fr_pending;
    int64_t rm_num;            /* over complaints */
    int64_t esc[S_LEVELS + 1]; /* escalations by level; [0] all levels */
    int64_t sat_num, sat_den;  /* answers scoring 4-5, answers with a score */
    kpi_nps_t nps;             /* answers with a 0-10 score */
    kpi_cycle_t ap;            /* approval requests completed (none: absent) */
} s_fig_t;

/* The figures of one period: the total and the groups. */
typedef struct {
    s_fig_t total;
    s_fig_t *groups;
    size_t ngroups;
    size_t cap;
} s_figs_t;

static void s_figs_free(s_figs_t *figs)
{
    free(figs->groups);
    memset(figs, 0, sizeof *figs);
}

/* The figures a result row belongs to: the total, or its group (added on
   first sight). */
static s_fig_t *s_figs_row(s_figs_t *figs, PGresult *res, int row)
{
    if (strcmp(PQgetvalue(res, row, 0), "1") == 0)
        return &figs->total;
    bool null_key = PQgetisnull(res, row, 1);
    const char *key = null_key ? "" : PQgetvalue(res, row, 1);
    for (size_t i = 0; i < figs->ngroups; i++)
        if (figs->groups[i].null_key == null_key &&
            strncmp(figs->groups[i].key, key, S_KEY_MAX) == 0)
            return &figs->groups[i];
    if (figs->ngroups == figs->cap) {
        size_t cap = figs->cap ? 2 * figs->cap : 16;
        s_fig_t *groups = realloc(figs->groups, cap * sizeof *groups);
        if (!groups)
            return NULL;
        figs->groups = groups;
        figs->cap = cap;
    }
    s_fig_t *fig = &figs->groups[figs->ngroups++];
    memset(fig, 0, sizeof *fig);
    fig->null_key = null_key;
    snprintf(fig->key, sizeof fig->key, "%s", key);
    return fig;
}

static int64_t s_int(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Reads a row of the tickets statement. */
static int s_fill_tickets(s_fig_t *fig, PGresult *res, int row, kf_error_t *err)
{
    (void)err;
    fig->tickets = s_int(res, row, 2);
    fig->complaints = s_int(res, row, 3);
    fig->fr_num = s_int(res, row, 4);
    fig->fr_den = s_int(res, row, 5);
    fig->fr_pending = s_int(res, row, 6);
    fig->rm_num = s_int(res, row, 7);
    return 0;
}

/* Reads a row of the escalations statement (one level of one group). */
static int s_fill_escalations(s_fig_t *fig, PGresult *res, int row, kf_error_t *err)
{
    (void)err;
    int64_t level = s_int(res, row, 2), count = s_int(res, row, 3);
    if (level >= 1 && level <= S_LEVELS)
        fig->esc[level] += count;
    fig->esc[0] += count;
    return 0;
}

/* Reads a row of the surveys statement. */
static int s_fill_surveys(s_fig_t *fig, PGresult *res, int row, kf_error_t *err)
{
    (void)err;
    fig->sat_den = s_int(res, row, 2);
    fig->sat_num = s_int(res, row, 3);
    fig->nps.promoters = s_int(res, row, 4);
    fig->nps.passives = s_int(res, row, 5);
    fig->nps.detractors = s_int(res, row, 6);
    return 0;
}

/* The cycle time of a column holding a bigint array of durations (ms) as
   PostgreSQL writes it ("{1,2,3}"; NULL for none). */
static int s_cycle_of(PGresult *res, int row, int col, kpi_cycle_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (PQgetisnull(res, row, col))
        return 0;
    const char *text = PQgetvalue(res, row, col);
    size_t cap = 1;
    for (const char *c = text; *c; c++)
        cap += *c == ',';
    int64_t *ms = malloc(cap * sizeof *ms);
    if (!ms)
        return kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
    size_t n = 0;
    const char *p = text;
    bool bad = *p++ != '{';
    while (!bad && *p != '}' && n < cap) {
        char *end;
        ms[n++] = strtoll(p, &end, 10);
        bad = end == p || (*end != ',' && *end != '}');
        p = *end == ',' ? end + 1 : end;
    }
    bad = bad || *p != '}' || kpi_cycle(ms, n, out) != 0;
    free(ms);
    if (bad) {
        kf_error("report.bad_durations", "reason=\"not an array of durations >= 0\" value=%.64s",
                 text);
        return kf_error_set(err, KF_E_INTERNAL, "", "the store returned a bad duration");
    }
    return 0;
}

/* Reads a row of the approvals statement. */
static int s_fill_approvals(s_fig_t *fig, PGresult *res, int row, kf_error_t *err)
{
    return s_cycle_of(res, row, 2, &fig->ap, err);
}

/* A source of figures: named statements (over a period, and per month of
   a series) and the reader of their rows. */
typedef struct {
    const char *name;
    const char *const *sql;  /* points at NULL while the source does not exist */
    int nparams;             /* the first n of $1-$5; the series statement takes as many */
    const char *series_name; /* NULL: not in the series */
    const char *const *series_sql;
    int (*fill)(s_fig_t *fig, PGresult *res, int row, kf_error_t *err);
} s_source_t;

static const s_source_t s_sources[] = {
    {"report_tickets", &s_sql_tickets, 5, "report_tickets_series", &s_sql_tickets_series,
     s_fill_tickets},
    {"report_escalations", &s_sql_escalations, 3, NULL, NULL, s_fill_escalations},
    {"report_surveys", &s_sql_surveys, 3, "report_surveys_series", &s_sql_surveys_series,
     s_fill_surveys},
    {"report_approvals", &s_sql_approvals, 3, NULL, NULL, s_fill_approvals},
};
#define S_NSOURCES (sizeof s_sources / sizeof s_sources[0])

void report_prepare(kf_store_t *store)
{
    kf_store_statement(store, "report_clock", s_sql_clock);
    kf_store_statement(store, "report_instants", s_sql_instants);
    kf_store_statement(store, "report_months", s_sql_months);
    kf_store_statement(store, "report_approval_steps", s_sql_approval_steps);
    for (size_t i = 0; i < S_NSOURCES; i++) {
        if (*s_sources[i].sql)
            kf_store_statement(store, s_sources[i].name, *s_sources[i].sql);
        if (s_sources[i].series_name && *s_sources[i].series_sql)
            kf_store_statement(store, s_sources[i].series_name, *s_sources[i].series_sql);
    }
}

/* ---- decoding ------------------------------------------------------------ */

/* Reads from or to: an integer of ms, or a 'YYYY-MM-DD' string. Returns 1
   when present, 0 when absent, -1 with err. */
static int s_get_bound(const msgpack_object *body, const char *key, report_bound_t *out,
                       kf_error_t *err)
{
    const msgpack_object *obj = kf_map_get(body, key);
    if (!obj || obj->type == MSGPACK_OBJECT_NIL)
        return 0;
    memset(out, 0, sizeof *out);
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
        obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        out->is_ms = true;
        return kf_get_int(body, key, true, 0, REPORT_MS_MAX, &out->ms, err);
    }
    if (obj->type != MSGPACK_OBJECT_STR)
        return kf_error_set(err, KF_E_WRONG_TYPE, key,
                            "%s must be milliseconds since the epoch or a date 'YYYY-MM-DD'", key);
    char text[16];
    if (kf_get_str(body, key, true, text, sizeof text, err) < 0 ||
        kpi_date_parse(text, &out->date) != 0)
        return kf_error_set(err, KF_E_BAD_VALUE, key,
                            "%s must be a date 'YYYY-MM-DD' (a real one, year %d-%d) or "
                            "milliseconds since the epoch",
                            key, KPI_YEAR_MIN, KPI_YEAR_MAX);
    return 1;
}

/* True when name looks like an IANA zone name ("Asia/Shanghai", "UTC"),
   which rules out POSIX strings such as "UTC+8" whose sign is inverted. */
static bool s_tz_name(const char *name)
{
    if (strcmp(name, "UTC") == 0)
        return true;
    if (!strchr(name, '/') ||
        !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("/_+-", *p)))
            return false;
    return name[strlen(name) - 1] != '/' && !strstr(name, "//");
}

int report_parse(const msgpack_object *body, report_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->by = REPORT_BY_NONE;
    if (!body || body->type != MSGPACK_OBJECT_MAP)
        return kf_error_set(err, KF_E_WRONG_TYPE, "body", "body must be a map");

    char month[16];
    int rc = kf_get_str(body, "month", false, month, sizeof month, err);
    if (rc < 0 && err->code == KF_E_TOO_LONG)
        return kf_error_set(err, KF_E_BAD_VALUE, "month", "month must be 'YYYY-MM'");
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (kpi_month_parse(month, &out->month) != 0)
            return kf_error_set(err, KF_E_BAD_VALUE, "month",
                                "month must be 'YYYY-MM' with a month 01-12 and a year %d-%d, "
                                "not '%s'",
                                KPI_YEAR_MIN, KPI_YEAR_MAX, month);
        out->has_month = true;
    }

    int has_from = s_get_bound(body, "from", &out->from, err);
    if (has_from < 0)
        return -1;
    int has_to = s_get_bound(body, "to", &out->to, err);
    if (has_to < 0)
        return -1;
    if (has_from != has_to)
        return kf_error_set(err, KF_E_MISSING_FIELD, has_from ? "to" : "from",
                            "a range needs both from and to");
    if (has_from && out->has_month)
        return kf_error_set(err, KF_E_BAD_VALUE, "month",
                            "give either month or a range (from, to), not both");
    out->has_range = has_from;
    if (out->has_range && out->from.is_ms == out->to.is_ms) {
        bool empty = out->from.is_ms ? out->from.ms >= out->to.ms
                                     : kpi_date_cmp(out->from.date, out->to.date) >= 0;
        if (empty)
            return kf_error_set(err, KF_E_BAD_VALUE, "to",
                                "the range [from, to) is empty: to must come after from");
    }

    int by;
    rc = kf_get_enum(body, "by", false, kf_report_by, &by, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        out->by = (report_by_t)by;

    rc = kf_get_str(body, "tz", false, out->tz, sizeof out->tz, err);
    if (rc < 0)
        return -1;
    if (rc == 1 && !s_tz_name(out->tz))
        return kf_error_set(err, KF_E_BAD_VALUE, "tz",
                            "tz must be a time-zone name such as 'Asia/Shanghai', not '%s'",
                            out->tz);

    bool series = false;
    if (kf_get_bool(body, "series", false, &series, err) < 0)
        return -1;
    out->series = series;
    return 0;
}

/* ---- serving -------------------------------------------------------------- */

/* The period and what it was asked as. */
typedef struct {
    char tz[REPORT_TZ_MAX + 1];
    int64_t now;
    int64_t from, to;
    bool has_month;
    kpi_month_t month;
    /* The series: nseries months, months[i] over [bounds[i], bounds[i + 1]). */
    size_t nseries;
    kpi_month_t months[REPORT_SERIES_MAX];
    int64_t bounds[REPORT_SERIES_MAX + 1];
} s_period_t;

/* Runs a statement expecting rows; NULL with err when it failed. */
static PGresult *s_exec(kf_store_t *store, const char *name, int n, const char *const *params,
                        kf_error_t *err)
{
    if (kf_store_ready_now(store, err) != 0)
        return NULL;
    return kf_store_exec(store, name, n, params, err);
}

/* The instants of local wall times (each "YYYY-MM-DD HH:MM:SS") in tz. */
static int s_instants(kf_store_t *store, const char *tz, char (*locals)[24], size_t n, int64_t *out,
                      kf_error_t *err)
{
    /* A text array literal of the wall times: only digits, '-', ':' and
       spaces, each quoted, sent as a parameter. */
    char array[REPORT_SERIES_MAX * 26 + 64] = "{";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(array);
        snprintf(array + used, sizeof array - used, "%s\"%s\"", i ? "," : "", locals[i]);
    }
    strncat(array, "}", sizeof array - strlen(array) - 1);
    const char *params[] = {tz, array};
    PGresult *res = s_exec(store, "report_instants", 2, params, err);
    if (!res)
        return -1;
    int rc = 0;
    if ((size_t)PQntuples(res) != n)
        rc = kf_error_set(err, KF_E_INTERNAL, "", "the store returned %d instants for %zu",
                          PQntuples(res), n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        out[i] = s_int(res, (int)i, 0);
    PQclear(res);
    return rc;
}

/* The local wall time at which a bound begins. */
static void s_bound_local(const report_bound_t *bound, char *buf, size_t size)
{
    kpi_date_start(bound->date, buf, size);
}

/* Reads the store's clock in req's zone into p (tz, now) and the current
   local month into current. */
static int s_period_clock(kf_store_t *store, const report_req_t *req, s_period_t *p,
                          kpi_month_t *current, kf_error_t *err)
{
    const char *params[3] = {req->tz[0] ? req->tz : NULL};
    PGresult *res = s_exec(store, "report_clock", 1, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        if (req->tz[0])
            return kf_error_set(err, KF_E_BAD_VALUE, "tz", "unknown time zone '%s'", req->tz);
        kf_error("report.bad_tz", "%s", "reason=\"the store's kefu.tz is not a time zone\"");
        return kf_error_set(err, KF_E_INTERNAL, "tz", "the store's kefu.tz is not a time zone");
    }
    snprintf(p->tz, sizeof p->tz, "%s", PQgetvalue(res, 0, 0));
    p->now = s_int(res, 0, 1);
    int bad_current = kpi_month_parse(PQgetvalue(res, 0, 2), current);
    PQclear(res);
    if (bad_current)
        return kf_error_set(err, KF_E_INTERNAL, "", "the store's clock is out of range");
    return 0;
}

/* A month: M alone, or M-11 .. M for the series; bounds from local
   midnights of the first days. */
static int s_period_month(kf_store_t *store, const report_req_t *req, kpi_month_t current,
                          s_period_t *p, kf_error_t *err)
{
    char locals[REPORT_SERIES_MAX + 1][24];
    p->has_month = true;
    p->month = req->has_month ? req->month : current;
    size_t n = req->series ? REPORT_SERIES_MONTHS : 1;
    kpi_month_t first = kpi_month_add(p->month, -(int)(n - 1));
    if (first.year < KPI_YEAR_MIN)
        return kf_error_set(err, KF_E_BAD_VALUE, "month", "the series would start before %d",
                            KPI_YEAR_MIN);
    for (size_t i = 0; i <= n; i++)
        kpi_month_start(kpi_month_add(first, (int)i), locals[i], sizeof locals[i]);
    if (s_instants(store, p->tz, locals, n + 1, p->bounds, err) != 0)
        return -1;
    p->from = p->bounds[n - 1];
    p->to = p->bounds[n];
    if (req->series) {
        p->nseries = n;
        for (size_t i = 0; i < n; i++)
            p->months[i] = kpi_month_add(first, (int)i);
    }
    return 0;
}

/* The series of a range [p->from, p->to): each local month it touches,
   clipped to it. */
static int s_period_range_series(kf_store_t *store, s_period_t *p, kf_error_t *err)
{
    char locals[REPORT_SERIES_MAX + 1][24];
    char from_s[24], last_s[24];
    snprintf(from_s, sizeof from_s, "%" PRId64, p->from);
    snprintf(last_s, sizeof last_s, "%" PRId64, p->to - 1);
    const char *mparams[] = {p->tz, from_s, last_s};
    PGresult *res = s_exec(store, "report_months", 3, mparams, err);
    if (!res)
        return -1;
    kpi_month_t first, last;
    int bad = PQntuples(res) != 1 || kpi_month_parse(PQgetvalue(res, 0, 0), &first) != 0 ||
              kpi_month_parse(PQgetvalue(res, 0, 1), &last) != 0;
    PQclear(res);
    if (bad)
        return kf_error_set(err, KF_E_BAD_VALUE, "from", "the range is outside years %d-%d",
                            KPI_YEAR_MIN, KPI_YEAR_MAX);
    int months = kpi_month_diff(first, last) + 1;
    if (months > REPORT_SERIES_MAX)
        return kf_error_set(err, KF_E_BAD_VALUE, "series",
                            "a series covers at most %d months; the range touches %d",
                            REPORT_SERIES_MAX, months);
    p->nseries = (size_t)months;
    for (int i = 0; i < months; i++)
        p->months[i] = kpi_month_add(first, i);
    /* Inner bounds: the starts of the second to the last month. */
    for (int i = 1; i < months; i++)
        kpi_month_start(p->months[i], locals[i - 1], sizeof locals[0]);
    if (months > 1 && s_instants(store, p->tz, locals, (size_t)months - 1, p->bounds + 1, err) != 0)
        return -1;
    p->bounds[0] = p->from;
    p->bounds[months] = p->to;
    return 0;
}

/* Works out the period (and the series) of req in the store's terms. */
static int s_period(kf_store_t *store, const report_req_t *req, s_period_t *p, kf_error_t *err)
{
    memset(p, 0, sizeof *p);
    kpi_month_t current;
    if (s_period_clock(store, req, p, &current, err) != 0)
        return -1;
    if (!req->has_range)
        return s_period_month(store, req, current, p, err);

    /* A range: dates are local midnights. */
    char locals[2][24];
    size_t n = 0;
    int64_t got[2];
    if (!req->from.is_ms)
        s_bound_local(&req->from, locals[n++], sizeof locals[0]);
    if (!req->to.is_ms)
        s_bound_local(&req->to, locals[n++], sizeof locals[0]);
    if (n > 0 && s_instants(store, p->tz, locals, n, got, err) != 0)
        return -1;
    p->from = req->from.is_ms ? req->from.ms : got[0];
    p->to = req->to.is_ms ? req->to.ms : got[n - 1];
    if (p->from >= p->to)
        return kf_error_set(err, KF_E_BAD_VALUE, "to",
                            "the range [from, to) is empty: to must come after from");
    return req->series ? s_period_range_series(store, p, err) : 0;
}

/* Runs a statement and files each row's counts under its group. */
static int s_run_source(kf_store_t *store, const char *name, int nparams, const char *const *params,
                        int (*fill)(s_fig_t *, PGresult *, int, kf_error_t *), s_figs_t *figs,
                        kf_error_t *err)
{
    PGresult *res = s_exec(store, name, nparams, params, err);
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        s_fig_t *fig = s_figs_row(figs, res, row);
        if (!fig) {
            PQclear(res);
            return kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
        }
        if (fill(fig, res, row, err) != 0) {
            PQclear(res);
            return -1;
        }
    }
    PQclear(res);
    return 0;
}

/* The cycle time of one step label or one approver. */
typedef struct {
    char key[S_KEY_MAX + 1];
    int64_t order; /* a step's stage * 1000 + step, its place in a request; 0 for an approver */
    kpi_cycle_t c;
} s_cycle_row_t;

/* The per-step and per-approver cycle times of the period. */
typedef struct {
    s_cycle_row_t *rows[2]; /* [0] by step label, [1] by approver */
    size_t n[2];
} s_cycles_t;

static void s_cycles_free(s_cycles_t *cycles)
{
    free(cycles->rows[0]);
    free(cycles->rows[1]);
    memset(cycles, 0, sizeof *cycles);
}

/* Runs the steps statement over the period into cycles. */
static int s_collect_cycles(kf_store_t *store, const s_period_t *p, s_cycles_t *cycles,
                            kf_error_t *err)
{
    char from_s[24], to_s[24];
    snprintf(from_s, sizeof from_s, "%" PRId64, p->from);
    snprintf(to_s, sizeof to_s, "%" PRId64, p->to);
    const char *params[] = {from_s, to_s};
    PGresult *res = s_exec(store, "report_approval_steps", 2, params, err);
    if (!res)
        return -1;
    int rows = PQntuples(res), rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        cycles->rows[i] = calloc(rows > 0 ? (size_t)rows : 1, sizeof *cycles->rows[i]);
        if (!cycles->rows[i])
            rc = kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
    }
    for (int row = 0; row < rows && rc == 0; row++) {
        int which = strcmp(PQgetvalue(res, row, 0), "0") == 0 ? 0 : 1;
        s_cycle_row_t *r = &cycles->rows[which][cycles->n[which]++];
        snprintf(r->key, sizeof r->key, "%s", PQgetvalue(res, row, 1));
        r->order = s_int(res, row, 3);
        rc = s_cycle_of(res, row, 2, &r->c, err);
    }
    PQclear(res);
    return rc;
}

/* Runs every source over the period, grouped by group (NULL: total only). */
static int s_collect(kf_store_t *store, const s_period_t *p, const char *group, s_figs_t *figs,
                     kf_error_t *err)
{
    char from_s[24], to_s[24], now_s[24];
    snprintf(from_s, sizeof from_s, "%" PRId64, p->from);
    snprintf(to_s, sizeof to_s, "%" PRId64, p->to);
    snprintf(now_s, sizeof now_s, "%" PRId64, p->now);
    const char *params[] = {from_s, to_s, group, p->tz, now_s};
    for (size_t i = 0; i < S_NSOURCES; i++) {
        const s_source_t *src = &s_sources[i];
        if (*src->sql &&
            s_run_source(store, src->name, src->nparams, params, src->fill, figs, err) != 0)
            return -1;
    }
    return 0;
}

/* Runs the series statements: one group per month, keyed by its label. */
static int s_collect_series(kf_store_t *store, const s_period_t *p, s_figs_t *figs, kf_error_t *err)
{
    /* Array literals of the months' bounds (digits) and labels (YYYY-MM),
       sent as parameters. */
    char los[REPORT_SERIES_MAX * 24 + 4] = "{", his[sizeof los] = "{",
                                      labels[REPORT_SERIES_MAX * 12 + 4] = "{", now_s[24];
    for (size_t i = 0; i < p->nseries; i++) {
        char month[16];
        kpi_month_format(p->months[i], month, sizeof month);
        const char *sep = i ? "," : "";
        snprintf(los + strlen(los), sizeof los - strlen(los), "%s%" PRId64, sep, p->bounds[i]);
        snprintf(his + strlen(his), sizeof his - strlen(his), "%s%" PRId64, sep, p->bounds[i + 1]);
        snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "%s%s", sep, month);
    }
    strncat(los, "}", sizeof los - strlen(los) - 1);
    strncat(his, "}", sizeof his - strlen(his) - 1);
    strncat(labels, "}", sizeof labels - strlen(labels) - 1);
    snprintf(now_s, sizeof now_s, "%" PRId64, p->now);
    const char *params[] = {los, his, labels, p->tz, now_s};
    for (size_t i = 0; i < S_NSOURCES; i++) {
        const s_source_t *src = &s_sources[i];
        if (src->series_name && *src->series_sql &&
            s_run_source(store, src->series_name, src->nparams, params, src->fill, figs, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- the reply ------------------------------------------------------------ */

/* Packs a figure of tenths as a number with one decimal, or nil. */
static void s_put_tenths(kf_body_t *body, const char *key, bool present, int64_t tenths)
{
    if (!present) {
        kf_body_nil(body, key);
        return;
    }
    msgpack_pack_double(kf_body_key(body, key), (double)tenths / 10.0);
}

/* {num, den, percent}: a share; percent nil (absent) over zero items. */
static kf_body_t *s_rate(kpi_rate_t rate, const char *value_key, bool share)
{
    kf_body_t *body = kf_body_new();
    int64_t tenths = 0;
    bool present = share ? kpi_rate_tenths(rate, &tenths) : kpi_per100_tenths(rate, &tenths);
    kf_body_int(body, "num", rate.num);
    kf_body_int(body, "den", rate.den);
    s_put_tenths(body, value_key, present, tenths);
    return body;
}

static void s_put_rate(kf_body_t *parent, const char *key, kpi_rate_t rate)
{
    kf_body_t *child = s_rate(rate, "percent", true);
    kf_body_map(parent, key, &child);
}

static void s_put_nps(kf_body_t *parent, const kpi_nps_t *nps)
{
    kf_body_t *body = kf_body_new();
    int64_t tenths = 0;
    bool present = kpi_nps_tenths(nps, &tenths);
    s_put_tenths(body, "score", present, tenths);
    kf_body_int(body, "den", kpi_nps_answers(nps));
    kf_body_int(body, "promoters", nps->promoters);
    kf_body_int(body, "passives", nps->passives);
    kf_body_int(body, "detractors", nps->detractors);
    kf_body_map(parent, "nps", &body);
}

/* den, median_s and p90_s of a cycle time into body; nil when absent. */
static void s_put_cycle(kf_body_t *body, const kpi_cycle_t *c)
{
    kf_body_int(body, "den", c->n);
    if (c->present) {
        kf_body_int(body, "median_s", c->median_s);
        kf_body_int(body, "p90_s", c->p90_s);
    } else {
        kf_body_nil(body, "median_s");
        kf_body_nil(body, "p90_s");
    }
}

/* Orders cycle rows by count, largest first (to keep the largest when
   cut), then by key. */
static int s_cmp_cycle_size(const void *a, const void *b)
{
    const s_cycle_row_t *x = a, *y = b;
    if (x->c.n != y->c.n)
        return x->c.n > y->c.n ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Orders cycle rows as a request meets them: steps by stage and step,
   then (approvers, whose order is 0, and ties) by key. */
static int s_cmp_cycle_key(const void *a, const void *b)
{
    const s_cycle_row_t *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* rows (at most S_CYCLE_ROWS_MAX, the largest, in s_cmp_cycle_key's order) as the
   array key of parent, each {key_name: key, den, median_s, p90_s}, and
   how many were left out as omitted_key. */
static void s_put_cycle_rows(kf_body_t *parent, const char *key, const char *key_name,
                             const char *omitted_key, s_cycle_row_t *rows, size_t n)
{
    size_t omitted = 0;
    if (n > S_CYCLE_ROWS_MAX) {
        qsort(rows, n, sizeof rows[0], s_cmp_cycle_size);
        omitted = n - S_CYCLE_ROWS_MAX;
        n = S_CYCLE_ROWS_MAX;
    }
    if (n > 1)
        qsort(rows, n, sizeof rows[0], s_cmp_cycle_key);
    kf_body_t *items[S_CYCLE_ROWS_MAX];
    for (size_t i = 0; i < n; i++) {
        items[i] = kf_body_new();
        kf_body_str(items[i], key_name, rows[i].key);
        s_put_cycle(items[i], &rows[i].c);
    }
    kf_body_array(parent, key, items, n);
    kf_body_int(parent, omitted_key, (int64_t)omitted);
}

/* The approval cycle time of a group or of the total; the total (cycles
   not NULL) also carries it per step and per approver. */
static void s_put_approval(kf_body_t *parent, const s_fig_t *fig, s_cycles_t *cycles)
{
    kf_body_t *body = kf_body_new();
    s_put_cycle(body, &fig->ap);
    if (fig->ap.present)
        kf_body_nil(body, "absent");
    else
        kf_body_str(body, "absent", S_APPROVAL_NONE);
    if (cycles) {
        s_put_cycle_rows(body, "steps", "label", "steps_omitted", cycles->rows[0], cycles->n[0]);
        s_put_cycle_rows(body, "approvers", "staff", "approvers_omitted", cycles->rows[1],
                         cycles->n[1]);
    }
    kf_body_map(parent, "approval_cycle", &body);
}

static void s_put_escalations(kf_body_t *parent, const s_fig_t *fig)
{
    kf_body_t *body = kf_body_new();
    for (int level = 0; level <= S_LEVELS; level++) {
        char key[24]; /* "level_" and any int: no truncation for gcc to suspect */
        if (level == 0)
            snprintf(key, sizeof key, "all");
        else
            snprintf(key, sizeof key, "level_%d", level);
        kf_body_t *child = s_rate((kpi_rate_t){fig->esc[level], fig->tickets}, "per_100", false);
        kf_body_map(body, key, &child);
    }
    kf_body_map(parent, "escalations", &body);
}

/* Every KPI of one group (or the total, with cycles) into body. */
static void s_put_figures(kf_body_t *body, const s_fig_t *fig, s_cycles_t *cycles)
{
    kf_body_int(body, "tickets", fig->tickets);
    kf_body_t *fr = s_rate((kpi_rate_t){fig->fr_num, fig->fr_den}, "percent", true);
    kf_body_int(fr, "pending", fig->fr_pending);
    kf_body_map(body, "first_response_24h", &fr);
    s_put_rate(body, "resolved_in_month", (kpi_rate_t){fig->rm_num, fig->complaints});
    s_put_rate(body, "satisfaction", (kpi_rate_t){fig->sat_num, fig->sat_den});
    s_put_nps(body, &fig->nps);
    s_put_approval(body, fig, cycles);
    s_put_escalations(body, fig);
}

/* Orders groups by key, the NULL key last. */
static int s_cmp_key(const void *a, const void *b)
{
    const s_fig_t *x = a, *y = b;
    if (x->null_key != y->null_key)
        return x->null_key ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* Orders groups by size, largest first (to keep the largest when cut). */
static int s_cmp_size(const void *a, const void *b)
{
    const s_fig_t *x = a, *y = b;
    int64_t sx = x->tickets + x->sat_den + kpi_nps_answers(&x->nps) + x->ap.n;
    int64_t sy = y->tickets + y->sat_den + kpi_nps_answers(&y->nps) + y->ap.n;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return s_cmp_key(a, b);
}

static void s_put_groups(kf_body_t *reply, s_figs_t *figs)
{
    size_t omitted = 0;
    if (figs->ngroups > REPORT_GROUPS_MAX) {
        qsort(figs->groups, figs->ngroups, sizeof figs->groups[0], s_cmp_size);
        omitted = figs->ngroups - REPORT_GROUPS_MAX;
        figs->ngroups = REPORT_GROUPS_MAX;
    }
    qsort(figs->groups, figs->ngroups, sizeof figs->groups[0], s_cmp_key);
    kf_body_t *items[REPORT_GROUPS_MAX];
    for (size_t i = 0; i < figs->ngroups; i++) {
        items[i] = kf_body_new();
        if (figs->groups[i].null_key)
            kf_body_nil(items[i], "key");
        else
            kf_body_str(items[i], "key", figs->groups[i].key);
        s_put_figures(items[i], &figs->groups[i], NULL);
    }
    kf_body_array(reply, "groups", items, figs->ngroups);
    kf_body_int(reply, "groups_omitted", (int64_t)omitted);
}

/* The series: one entry per month, from the figures grouped by month; a
   month without rows has zero counts and so absent rates. */
static void s_put_series(kf_body_t *reply, const s_period_t *p, const s_figs_t *figs)
{
    kf_body_t *items[REPORT_SERIES_MAX];
    for (size_t i = 0; i < p->nseries; i++) {
        char month[16];
        kpi_month_format(p->months[i], month, sizeof month);
        s_fig_t zero;
        memset(&zero, 0, sizeof zero);
        const s_fig_t *fig = &zero;
        for (size_t g = 0; g < figs->ngroups; g++)
            if (!figs->groups[g].null_key && strcmp(figs->groups[g].key, month) == 0)
                fig = &figs->groups[g];
        items[i] = kf_body_new();
        kf_body_str(items[i], "month", month);
        kf_body_int(items[i], "from", p->bounds[i]);
        kf_body_int(items[i], "to", p->bounds[i + 1]);
        kf_body_int(items[i], "tickets", fig->tickets);
        kf_body_t *fr = s_rate((kpi_rate_t){fig->fr_num, fig->fr_den}, "percent", true);
        kf_body_map(items[i], "first_response_24h", &fr);
        s_put_rate(items[i], "resolved_in_month", (kpi_rate_t){fig->rm_num, fig->complaints});
        s_put_rate(items[i], "satisfaction", (kpi_rate_t){fig->sat_num, fig->sat_den});
        s_put_nps(items[i], &fig->nps);
    }
    kf_body_array(reply, "series", items, p->nseries);
}

int report_serve(kf_store_t *store, const char *actor, const msgpack_object *body, kf_body_t *reply,
                 kf_error_t *err)
{
    report_req_t req;
    if (report_parse(body, &req, err) != 0)
        return -1;

    s_period_t p;
    if (s_period(store, &req, &p, err) != 0)
        return -1;
    const char *group = req.by == REPORT_BY_NONE ? NULL : kf_report_by[req.by];
    s_figs_t figs = {0}, months = {0};
    s_cycles_t cycles = {0};
    int rc = s_collect(store, &p, group, &figs, err);
    if (rc == 0)
        rc = s_collect_cycles(store, &p, &cycles, err);
    if (rc == 0 && p.nseries > 0)
        rc = s_collect_series(store, &p, &months, err);
    if (rc != 0) {
        s_figs_free(&figs);
        s_figs_free(&months);
        s_cycles_free(&cycles);
        return -1;
    }

    kf_body_t *period = kf_body_new();
    kf_body_int(period, "from", p.from);
    kf_body_int(period, "to", p.to);
    if (p.has_month) {
        char month[16];
        kpi_month_format(p.month, month, sizeof month);
        kf_body_str(period, "month", month);
    } else {
        kf_body_nil(period, "month");
    }
    kf_body_str(period, "tz", p.tz);
    kf_body_int(period, "now", p.now);
    kf_body_bool(period, "complete", p.now >= p.to);
    kf_body_map(reply, "period", &period);
    kf_body_str(reply, "by", group);
    kf_body_t *total = kf_body_new();
    s_put_figures(total, &figs.total, &cycles);
    kf_body_map(reply, "total", &total);
    if (group)
        s_put_groups(reply, &figs);
    if (p.nseries > 0)
        s_put_series(reply, &p, &months);
    kf_debug("report.served",
             "actor=%s from=%" PRId64 " to=%" PRId64 " by=%s groups=%zu series=%zu", actor, p.from,
             p.to, group ? group : "-", figs.ngroups, p.nseries);
    s_figs_free(&figs);
    s_figs_free(&months);
    s_cycles_free(&cycles);
    return 0;
}
