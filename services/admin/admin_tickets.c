/* kefu-admin — `kefu-admin import-tickets FILE.csv`: the tickets of the
   previous system, finished and open, so that the KPIs and trends start
   from day one and the open complaints keep their clocks.

   A finished ticket (with a resolved time) is written resolved or closed,
   routed_at set, no next escalation, marked imported, owned by the
   assignee or its department's head, with history rows at the given times
   (actor NULL, note 'imported'), and WITHOUT outbox events: the
   ticket-router only routes what a ticket.submitted event names and only
   escalates open tickets, and the notifier and kefu-survey act on events
   and skip imported tickets, so nothing ever routes, escalates, notifies
   or surveys it.

   An open ticket (no resolved time) is written as the ticket-router would
   have left it: routed (responded, when answered) at its receipt to its
   owner and department, a complaint's responsible the project GM, its
   deadlines from the SLA policy of its kind and priority counted from the
   receipt, its next escalation at the first-response deadline (the
   resolution deadline once answered), history 'submitted', 'routed' and
   'responded'. It is not marked imported (it is live: the deadline scan
   escalates it, and what happens to it from now on notifies and surveys as
   usual), ticket_import.open says where it came from (migration 015). It
   gets no ticket.submitted or ticket.routed event either: those would
   make the notifier tell the customer by SMS, months late, that the report
   was received and routed, and e-mail the owner a routing they have known
   for months.

   ticket_import (migration 006) remembers where each came from, so the
   same file imported again adds nothing; it also keeps the survey scores,
   written to the survey table when that exists (migration 008) or by a
   later re-run once it does. --check writes everything in a transaction
   it rolls back, under negative ticket ids: it takes no ticket number. */
#include <czmq.h>
#include <string.h>

#include "admin.h"
#include "admin_csv.h"
#include "admin_field.h"
#include "admin_import.h"
#include "args.h"
#include "catalog.h"
#include "phone.h"

#define TIX_CMD "import-tickets"
#define TIX_TEXT_MAX 200 /* summary and name; the catalog's str(200) */
#define TIX_EXT_MAX 100

enum {
    C_EXT,
    C_KIND,
    C_CATEGORY,
    C_PROJECT,
    C_BUILDING,
    C_UNIT,
    C_PHONE,
    C_NAME,
    C_DEPARTMENT,
    C_PRIORITY,
    C_CHANNEL,
    C_SUMMARY,
    C_RECEIVED,
    C_RESPONDED,
    C_RESOLVED,
    C_CLOSED,
    C_SURVEYED,
    C_SCORE,
    C_NPS,
    C_ASSIGNEE,
    C_COUNT
};

/* The time columns, in the order they are staged. */
static const int s_times[] = {C_RECEIVED, C_RESPONDED, C_RESOLVED, C_CLOSED, C_SURVEYED};
#define S_NTIMES (sizeof s_times / sizeof s_times[0])

static const char *const s_ext_aliases[] = {"id", "external", NULL};
static const char *const s_phone_aliases[] = {"owner_phone", NULL};
static const char *const s_name_aliases[] = {"owner_name", NULL};
static const char *const s_responded_aliases[] = {"first_response", "responded_at", NULL};
static const char *const s_received_aliases[] = {"received_at", NULL};
static const char *const s_resolved_aliases[] = {"resolved_at", NULL};
static const char *const s_closed_aliases[] = {"closed_at", NULL};
static const char *const s_surveyed_aliases[] = {"surveyed_at", "answered_at", NULL};
static const char *const s_score_aliases[] = {"survey_score", "satisfaction", NULL};
static const char *const s_nps_aliases[] = {"recommendation", "recommend", NULL};
static const char *const s_assignee_aliases[] = {"handler", "owner_staff", NULL};

static const csv_column_t s_columns[C_COUNT] = {
    [C_EXT] = {"external_id", s_ext_aliases, false},
    [C_KIND] = {"kind", NULL, true},
    [C_CATEGORY] = {"category", NULL, true},
    [C_PROJECT] = {"project", NULL, true},
    [C_BUILDING] = {"building", NULL, false},
    [C_UNIT] = {"unit", NULL, false},
    [C_PHONE] = {"phone", s_phone_aliases, true},
    [C_NAME] = {"name", s_name_aliases, false},
    [C_DEPARTMENT] = {"department", NULL, true},
    [C_PRIORITY] = {"priority", NULL, false},
    [C_CHANNEL] = {"channel", NULL, false},
    [C_SUMMARY] = {"summary", NULL, false},
    [C_RECEIVED] = {"received", s_received_aliases, true},
    [C_RESPONDED] = {"responded", s_responded_aliases, false},
    [C_RESOLVED] = {"resolved", s_resolved_aliases, false},
    [C_CLOSED] = {"closed", s_closed_aliases, false},
    [C_SURVEYED] = {"surveyed", s_surveyed_aliases, false},
    [C_SCORE] = {"score", s_score_aliases, false},
    [C_NPS] = {"nps", s_nps_aliases, false},
    [C_ASSIGNEE] = {"assignee", s_assignee_aliases, false}};

enum { O_TZ, O_COUNT };
static const char *const s_local[O_COUNT] = {"tz"};
static const bool s_flag[O_COUNT] = {false};

/* `kefu-admin import-tickets --help`. */
static void s_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin import-tickets [OPTIONS] FILE.csv\n\n"
            "Loads the tickets of the previous system, finished and open, so that KPIs and\n"
            "trends start from day one and open complaints keep their clocks. A UTF-8 CSV file\n"
            "(RFC 4180) with a header row naming the columns:\n"
            "  kind, category, project, phone, department, received              required\n"
            "  external_id, building, unit, name, priority, channel, summary,\n"
            "  responded (first response), resolved, closed, surveyed, score (1-5), nps (0-10),\n"
            "  assignee (the staff member who owns it; default: the department's head)\n"
            "Times are ISO 8601: 2025-03-01T09:30:00+08:00, or 2025-03-01 09:30 for local time\n"
            "in the zone of --tz (default: the store's kefu.tz, Asia/Shanghai). See\n"
            "deploy/ORG-FORMAT.md.\n\n"
            "A ticket with a resolved time is written resolved (or closed, with a closed time),\n"
            "marked imported, owned by the assignee or its department's head, with history\n"
            "rows 'submitted', 'responded', 'resolved', 'closed' at the given times, and no\n"
            "events: nothing is routed, escalated, notified or surveyed. Scores go to the\n"
            "survey table when it exists.\n"
            "A ticket without one is open: routed (or responded) to its owner at its receipt,\n"
            "its first-response and resolution deadlines from the SLA policy of its kind and\n"
            "priority counted from the receipt, so the ticket-router escalates it when they\n"
            "have passed; live from then on, but written with no event, so nobody is told now\n"
            "of a report made months ago. It has no closed time and no survey answer.\n"
            "A row is known by its external_id, or without that column by a hash of kind,\n"
            "category, project, unit, phone, received and summary: importing the same file\n"
            "again adds nothing (and adds the scores if the survey table appeared since).\n"
            "Rows that cannot be loaded are rejected with their line and reason; the others\n"
            "are loaded in one transaction. --check does all of it and rolls it back; it uses\n"
            "up no ticket number.\n\n"
            "Talks to PostgreSQL directly (KEFU_DATABASE_URL), not through a daemon.\n\n"
            "Options:\n"
            "  --tz ZONE          zone of times written without an offset\n");
    adm_options_help(out);
    fprintf(out, "\nExit codes: 0 all loaded (or known already), 5 loaded with rejected rows,\n"
                 "1 nothing loaded (bad header, or every row rejected), 2 usage, 3 store\n"
                 "unreachable.\n\n"
                 "Example:\n"
                 "  kefu-admin import-tickets --tz Asia/Shanghai history-2024.csv\n");
}

/* Checks a value against names (the catalog's); reports it at column col. */
static const char *s_enum(const csv_record_t *rec, adm_problems_t *problems, const char *col,
                          const char *value, const char *const *names, const char *code)
{
    if (adm_in(names, value))
        return value;
    char list[256] = "";
    for (size_t i = 0; names[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    }
    adm_problem(problems, rec->line, col, code, "'%.40s' is not one of: %s", value, list);
    return NULL;
}

/* A score in [min, max], or "" for none; NULL when bad (reported). */
static const char *s_score(const csv_record_t *rec, adm_problems_t *problems, const char *col,
                           const char *value, long min, long max)
{
    long n;
    if (!value || !value[0])
        return "";
    if (args_number(value, min, max, &n) != 0) {
        adm_problem(problems, rec->line, col, "bad_score", "'%.20s' is not a whole number %ld-%ld",
                    value, min, max);
        return NULL;
    }
    return value;
}

/* Checks the fields of a record up to its assignee (v: the trimmed values,
   NULL when absent); phone gets the normalised number. */
static void s_check_fields(const csv_record_t *rec, char *const *v, adm_problems_t *problems,
                           char phone[KF_PHONE_MAX])
{
    if (v[C_EXT] && !adm_is_text(v[C_EXT], TIX_EXT_MAX))
        adm_problem(problems, rec->line, "external_id", "bad_value", "must be 1-%d bytes of text",
                    TIX_EXT_MAX);
    s_enum(rec, problems, "kind", v[C_KIND] ? v[C_KIND] : "", kf_kinds, "bad_kind");
    s_enum(rec, problems, "category", v[C_CATEGORY] ? v[C_CATEGORY] : "", kf_categories,
           "bad_category");
    if (!adm_is_project_id(v[C_PROJECT]))
        adm_problem(problems, rec->line, "project", "unknown_project",
                    "'%.40s' is not a project code", v[C_PROJECT] ? v[C_PROJECT] : "");
    if (!v[C_BUILDING] != !v[C_UNIT])
        adm_problem(problems, rec->line, v[C_BUILDING] ? "unit" : "building", "unknown_unit",
                    "building and unit go together: give both or neither");
    else if (v[C_BUILDING] && !adm_is_building_code(v[C_BUILDING]))
        adm_problem(problems, rec->line, "building", "unknown_unit",
                    "'%.40s' is not a building code", v[C_BUILDING]);
    else if (v[C_UNIT] && !adm_is_unit_no(v[C_UNIT]))
        adm_problem(problems, rec->line, "unit", "unknown_unit", "'%.40s' is not a unit number",
                    v[C_UNIT]);
    if (kf_phone_normalise(v[C_PHONE], phone) != 0)
        adm_problem(problems, rec->line, "phone", "bad_phone",
                    "'%.40s' is not a phone number (" KF_PHONE_RULE ")",
                    v[C_PHONE] ? v[C_PHONE] : "");
    if (v[C_NAME] && !adm_is_text(v[C_NAME], TIX_TEXT_MAX))
        adm_problem(problems, rec->line, "name", "bad_value", "must be 1-%d bytes of text",
                    TIX_TEXT_MAX);
    if (!adm_is_department_id(v[C_DEPARTMENT]))
        adm_problem(problems, rec->line, "department", "unknown_department",
                    "'%.40s' is not a department id", v[C_DEPARTMENT] ? v[C_DEPARTMENT] : "");
    if (v[C_ASSIGNEE] && !adm_is_staff_id(v[C_ASSIGNEE]))
        adm_problem(problems, rec->line, "assignee", "unknown_staff", "'%.40s' is not a staff id",
                    v[C_ASSIGNEE]);
}

/* Checks a record's times into local and offset (the local time and its
   offset, "" when absent) and that an open ticket has no closed time or
   survey answer. */
static void s_check_times(const csv_record_t *rec, char *const *v, adm_problems_t *problems,
                          char local[S_NTIMES][40], char offset[S_NTIMES][8])
{
    for (size_t i = 0; i < S_NTIMES; i++) {
        int c = s_times[i];
        local[i][0] = offset[i][0] = '\0';
        if (!v[c]) {
            if (s_columns[c].required)
                adm_problem(problems, rec->line, s_columns[c].name, "bad_time", "is required");
            continue;
        }
        adm_time_t t;
        char why[160];
        if (adm_time_parse(v[c], &t, why, sizeof why) != 0) {
            adm_problem(problems, rec->line, s_columns[c].name, "bad_time", "%s", why);
            continue;
        }
        adm_time_local(&t, local[i], sizeof local[i]);
        adm_time_offset(&t, offset[i], sizeof offset[i]);
    }
    /* No resolved time: an open ticket, which cannot be closed or surveyed. */
    if (!v[C_RESOLVED] && v[C_CLOSED])
        adm_problem(problems, rec->line, "resolved", "bad_time",
                    "is required with closed (an open ticket has no closed time)");
    else if (!v[C_RESOLVED] && (v[C_SURVEYED] || v[C_SCORE] || v[C_NPS]))
        adm_problem(problems, rec->line,
                    v[C_SURVEYED] ? "surveyed"
                    : v[C_SCORE]  ? "score"
                                  : "nps",
                    "bad_score", "an open ticket (no resolved time) has no survey answer");
}

/* Checks one record and, when it is good, appends it to the COPY data.
   Returns 0, or -1 after recording the problems found. */
static int s_row(const csv_record_t *rec, const int *index, size_t nheader,
                 adm_problems_t *problems, char **copy, size_t *len, size_t *cap)
{
    size_t before = problems->total;
    if (rec->count != nheader) {
        adm_problem(problems, rec->line, "", "bad_csv", "has %zu fields; the header has %zu",
                    rec->count, nheader);
        return -1;
    }
    char *v[C_COUNT];
    for (size_t i = 0; i < C_COUNT; i++) {
        v[i] = index[i] >= 0 ? adm_trim(rec->fields[index[i]]) : NULL;
        if (v[i] && !v[i][0])
            v[i] = NULL; /* an empty field is an absent value */
    }
    char phone[KF_PHONE_MAX];
    s_check_fields(rec, v, problems, phone);
    const char *priority = v[C_PRIORITY] ? v[C_PRIORITY] : "normal";
    s_enum(rec, problems, "priority", priority, kf_priorities, "bad_value");
    const char *channel = v[C_CHANNEL] ? v[C_CHANNEL] : "phone";
    s_enum(rec, problems, "channel", channel, kf_channels, "bad_value");
    if (v[C_SUMMARY] && !adm_is_text(v[C_SUMMARY], TIX_TEXT_MAX))
        adm_problem(problems, rec->line, "summary", "bad_value",
                    "must be 1-%d bytes of text on one line", TIX_TEXT_MAX);
    char local[S_NTIMES][40], offset[S_NTIMES][8];
    s_check_times(rec, v, problems, local, offset);
    const char *score = s_score(rec, problems, "score", v[C_SCORE], 1, 5);
    const char *nps = s_score(rec, problems, "nps", v[C_NPS], 0, 10);
    if (problems->total != before || !score || !nps)
        return -1;

    char line[24];
    snprintf(line, sizeof line, "%zu", rec->line);
    const char *row[] = {line,          v[C_EXT],  v[C_KIND],   v[C_CATEGORY], v[C_PROJECT],
                         v[C_BUILDING], v[C_UNIT], phone,       v[C_NAME],     v[C_DEPARTMENT],
                         priority,      channel,   v[C_SUMMARY]};
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++)
        adm_copy_field(copy, len, cap, row[i], false);
    for (size_t i = 0; i < S_NTIMES; i++) {
        adm_copy_field(copy, len, cap, local[i][0] ? local[i] : NULL, false);
        adm_copy_field(copy, len, cap, offset[i][0] ? offset[i] : NULL, false);
    }
    adm_copy_field(copy, len, cap, score[0] ? score : NULL, false);
    adm_copy_field(copy, len, cap, nps[0] ? nps : NULL, false);
    adm_copy_field(copy, len, cap, v[C_ASSIGNEE], true);
    return 0;
}

/* ---- the set-based part ------------------------------------------------- */

static const char *s_stage_sql =
    "CREATE TEMP TABLE ticket_stage (line integer PRIMARY KEY, ext text, kind text NOT NULL,"
    " category text NOT NULL, project text NOT NULL, building text, unit text,"
    " phone text NOT NULL, name text, department text NOT NULL, priority text NOT NULL,"
    " channel text NOT NULL, summary text,"
    " received_l text NOT NULL, received_o text, responded_l text, responded_o text,"
    " resolved_l text, resolved_o text, closed_l text, closed_o text,"
    " surveyed_l text, surveyed_o text, score smallint, nps smallint, assignee text)"
    " ON COMMIT DROP";

/* A staged time as timestamptz: with its offset, or local in zone $1. */
#define S_TS(c)                                                                                    \
    "CASE WHEN " c "_l IS NULL THEN NULL WHEN " c "_o IS NULL THEN (" c "_l::timestamp AT TIME "   \
    "ZONE $1) ELSE (" c "_l || " c "_o)::timestamptz END AS " c

// clang-format off
/* The rows with real times and their source key: 'ext:' and the external
   id, or 'row:' and a hash of what identifies a report. */
static const char *s_in_sql =
    "CREATE TEMP TABLE ticket_in ON COMMIT DROP AS"
    " SELECT t.*, CASE WHEN t.ext IS NOT NULL THEN 'ext:' || t.ext"
    "                  ELSE 'row:' || encode(sha256(convert_to(concat_ws(chr(31), t.kind,"
    "                       t.category, t.project, coalesce(t.building, ''),"
    "                       coalesce(t.unit, ''), t.phone,"
    "                       to_char(t.received AT TIME ZONE 'UTC',"
    "                               'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
    "                       coalesce(t.summary, '')), 'UTF8')), 'hex') END AS key"
    "   FROM (SELECT line, ext, kind, category, project, building, unit, phone, name, department,"
    "                priority, channel, summary, " S_TS("received") ", " S_TS("responded") ","
    "                " S_TS("resolved") ", " S_TS("closed") ", " S_TS("surveyed") ","
    "                score, nps, assignee"
    "           FROM ticket_stage) t";

/* The rows the store's side refuses, the first reason of each. An open
   ticket (no resolved time) needs the SLA policy of its kind and priority,
   which gives its deadlines. */
static const char *s_reject_sql =
    "CREATE TEMP TABLE ticket_reject ON COMMIT DROP AS"
    " WITH s AS ("
    "   SELECT t.*, p.id IS NOT NULL AS project_ok, u.id AS unit_id,"
    "          d.id IS NOT NULL AS department_ok, d.head_id,"
    "          t.assignee IS NULL OR st.id IS NOT NULL AS assignee_ok,"
    "          t.resolved IS NOT NULL OR sp.kind IS NOT NULL AS sla_ok,"
    "          first_value(t.line) OVER (PARTITION BY t.key ORDER BY t.line) AS first_line"
    "     FROM ticket_in t"
    "     LEFT JOIN project p ON p.id = t.project"
    "     LEFT JOIN unit u ON u.project_id = t.project AND u.building = t.building"
    "                     AND u.unit_no = t.unit"
    "     LEFT JOIN department d ON d.id = t.department"
    "     LEFT JOIN staff st ON st.id = t.assignee AND st.active"
    "     LEFT JOIN sla_policy sp ON sp.kind = t.kind AND sp.priority = t.priority),"
    " r AS ("
    "   SELECT line,"
    "     CASE WHEN NOT project_ok THEN 'unknown_project'"
    "          WHEN building IS NOT NULL AND unit_id IS NULL THEN 'unknown_unit'"
    "          WHEN NOT department_ok THEN 'unknown_department'"
    "          WHEN NOT assignee_ok THEN 'unknown_staff'"
    "          WHEN head_id IS NULL AND assignee IS NULL THEN 'no_head'"
    "          WHEN NOT sla_ok THEN 'no_sla'"
    "          WHEN responded < received OR resolved < coalesce(responded, received)"
    "            OR closed < resolved OR surveyed < resolved THEN 'bad_times'"
    "          WHEN greatest(received, responded, resolved, closed, surveyed) > now()"
    "          THEN 'future'"
    "          WHEN line <> first_line THEN 'duplicate' END AS code,"
    "     CASE WHEN NOT project_ok THEN 'project'"
    "          WHEN building IS NOT NULL AND unit_id IS NULL THEN 'unit'"
    "          WHEN NOT department_ok THEN 'department'"
    "          WHEN NOT assignee_ok THEN 'assignee'"
    "          WHEN head_id IS NULL AND assignee IS NULL THEN 'department'"
    "          WHEN NOT sla_ok THEN 'priority'"
    "          WHEN responded < received THEN 'responded'"
    "          WHEN resolved < coalesce(responded, received) THEN 'resolved'"
    "          WHEN closed < resolved THEN 'closed'"
    "          WHEN surveyed < resolved THEN 'surveyed'"
    "          WHEN greatest(received, responded, resolved, closed, surveyed) > now()"
    "          THEN 'received'"
    "          ELSE CASE WHEN ext IS NOT NULL THEN 'external_id' ELSE '' END END AS field,"
    "     CASE WHEN NOT project_ok THEN format('project %s does not exist', project)"
    "          WHEN building IS NOT NULL AND unit_id IS NULL"
    "          THEN format('project %s has no unit %s in building %s', project, unit, building)"
    "          WHEN NOT department_ok THEN format('department %s does not exist', department)"
    "          WHEN NOT assignee_ok"
    "          THEN format('staff member %s does not exist or is not active', assignee)"
    "          WHEN head_id IS NULL AND assignee IS NULL"
    "          THEN format('department %s has no head to own its imported tickets', department)"
    "          WHEN NOT sla_ok"
    "          THEN format('no SLA policy for %s/%s gives this open ticket its deadlines',"
    "                      kind, priority)"
    "          WHEN responded < received THEN 'the first response is before the receipt'"
    "          WHEN resolved < coalesce(responded, received)"
    "          THEN 'resolved before it was received or first responded to'"
    "          WHEN closed < resolved THEN 'closed before it was resolved'"
    "          WHEN surveyed < resolved THEN 'surveyed before it was resolved'"
    "          WHEN greatest(received, responded, resolved, closed, surveyed) > now()"
    "          THEN 'a time is in the future (check the zone or the offset)'"
    "          WHEN ext IS NOT NULL"
    "          THEN format('external_id %s is on line %s already', ext, first_line)"
    "          ELSE format('the same ticket is on line %s already', first_line) END AS message"
    "     FROM s)"
    " SELECT line, field, code, message FROM r WHERE code IS NOT NULL";

/* The good rows not imported before, numbered in the order they were
   received by id_expr; each with its owner (the assignee, else the
   department head) and, when open, its SLA deadlines: as the ticket-router
   sets them, from the receipt, and the next escalation at the first-response
   deadline, or at the resolution deadline once answered (as kefu_respond
   moves it). */
#define S_NEW_SQL(id_expr)                                                                        \
    "CREATE TEMP TABLE ticket_new ON COMMIT DROP AS"                                              \
    " SELECT " id_expr " AS tid, n.*,"                                                            \
    "        CASE WHEN n.responded IS NULL THEN n.first_due ELSE n.resolve_due END AS next_due"   \
    "   FROM (SELECT t.*, u.id AS unit_id, p.gm_id, d.head_id,"                                  \
    "                coalesce(t.assignee, d.head_id) AS owner_id, t.resolved IS NULL AS open,"   \
    "                CASE WHEN t.resolved IS NULL THEN t.received"                                \
    "                     + make_interval(secs => sp.first_response_secs) END AS first_due,"      \
    "                CASE WHEN t.resolved IS NULL THEN t.received"                                \
    "                     + make_interval(secs => sp.resolve_secs) END AS resolve_due"            \
    "           FROM ticket_in t"                                                                 \
    "           JOIN project p ON p.id = t.project"                                               \
    "           JOIN department d ON d.id = t.department"                                         \
    "           LEFT JOIN unit u ON u.project_id = t.project AND u.building = t.building"        \
    "                           AND u.unit_no = t.unit"                                           \
    "           LEFT JOIN sla_policy sp ON sp.kind = t.kind AND sp.priority = t.priority"        \
    "          WHERE NOT EXISTS (SELECT 1 FROM ticket_reject r WHERE r.line = t.line)"           \
    "            AND NOT EXISTS (SELECT 1 FROM ticket_import i WHERE i.source_key = t.key)"      \
    "          ORDER BY t.received, t.line) n"

/* The real run takes numbers from the ticket sequence. */
static const char *s_new_sql = S_NEW_SQL("nextval(pg_get_serial_sequence('ticket', 'id'))");

/* --check writes the same rows in the transaction it rolls back, under
   negative ids that no ticket has: a sequence is not transactional, so a
   nextval here would use up the numbers for good. */
static const char *s_new_check_sql =
    S_NEW_SQL("-row_number() OVER (ORDER BY n.received, n.line)");

static const char *s_known_sql =
    "SELECT count(*) FROM ticket_in t"
    " WHERE NOT EXISTS (SELECT 1 FROM ticket_reject r WHERE r.line = t.line)"
    "   AND EXISTS (SELECT 1 FROM ticket_import i WHERE i.source_key = t.key)";

static const char *s_owners_sql =
    "INSERT INTO homeowner (phone, name)"
    " SELECT DISTINCT ON (phone) phone, name FROM ticket_new n"
    "  WHERE NOT EXISTS (SELECT 1 FROM homeowner h WHERE h.phone = n.phone)"
    "  ORDER BY phone, line"
    " ON CONFLICT (phone) DO NOTHING";

/* The ticket number (kefu_ticket_no, migration 017) takes its year from the
   receipt, in the store's zone. A finished ticket is imported (history kefu
   never acts on); an open one is routed (or responded) at its receipt, with
   its deadlines, live. */
static const char *s_tickets_sql =
    "INSERT INTO ticket (id, no, kind, category, channel, priority, status, project_id, unit_id,"
    "                    homeowner_id, summary, created_by, owner_id, department_id,"
    "                    responsible_id, received_at, routed_at, first_response_due,"
    "                    resolve_due, next_escalation_at, responded_at, resolved_at,"
    "                    first_resolved_at, closed_at, imported)"
    " SELECT n.tid, kefu_ticket_no(n.tid, n.received),"
    "        n.kind, n.category, n.channel, n.priority,"
    "        CASE WHEN n.open AND n.responded IS NULL THEN 'routed'"
    "             WHEN n.open THEN 'responded'"
    "             WHEN n.closed IS NULL THEN 'resolved' ELSE 'closed' END,"
    "        n.project, n.unit_id, h.id,"
    "        coalesce(n.summary, format('(imported) %s: %s', n.kind, n.category)),"
    "        n.owner_id, n.owner_id, n.department,"
    "        CASE WHEN n.kind = 'complaint' THEN n.gm_id END,"
    "        n.received, n.received, n.first_due, n.resolve_due, n.next_due,"
    "        n.responded, n.resolved, n.resolved, n.closed, NOT n.open"
    "   FROM ticket_new n JOIN homeowner h ON h.phone = n.phone ORDER BY n.tid";

/* One row per given time, no actor, note 'imported'; an open ticket also
   its routing to its owner, at its receipt. */
static const char *s_history_sql =
    "INSERT INTO ticket_history (ticket_id, at, action, actor, to_owner, reason, note)"
    " SELECT tid, at, action, NULL, to_owner, reason, 'imported' FROM ("
    "   SELECT tid, received AS at, 'submitted' AS action, owner_id AS to_owner,"
    "          NULL AS reason, 1 AS k"
    "     FROM ticket_new"
    "   UNION ALL SELECT tid, received, 'routed', owner_id,"
    "                    'routed in the previous system', 2 FROM ticket_new WHERE open"
    "   UNION ALL SELECT tid, responded, 'responded', NULL, NULL, 3 FROM ticket_new"
    "              WHERE responded IS NOT NULL"
    "   UNION ALL SELECT tid, resolved, 'resolved', NULL, NULL, 4 FROM ticket_new"
    "              WHERE resolved IS NOT NULL"
    "   UNION ALL SELECT tid, closed, 'closed', NULL, NULL, 5 FROM ticket_new"
    "              WHERE closed IS NOT NULL) x"
    " ORDER BY tid, k";
// clang-format on

static const char *s_links_sql =
    "INSERT INTO homeowner_unit (homeowner_id, unit_id)"
    " SELECT DISTINCT h.id, n.unit_id FROM ticket_new n JOIN homeowner h ON h.phone = n.phone"
    "  WHERE n.unit_id IS NOT NULL"
    " ON CONFLICT DO NOTHING";

static const char *s_run_sql = "INSERT INTO import_run (kind, file, sha1)"
                               " VALUES ('tickets', $1, $2) RETURNING id";

static const char *s_sources_sql =
    "INSERT INTO ticket_import (ticket_id, source_key, run_id, line, score, nps, surveyed_at,"
    "                           open)"
    " SELECT tid, key, $1::bigint, line, score, nps,"
    "        CASE WHEN score IS NOT NULL OR nps IS NOT NULL"
    "             THEN coalesce(surveyed, closed, resolved) END, open"
    "   FROM ticket_new";

/* Survey answers for imported tickets that have scores and no survey yet:
   this run's, and earlier runs' made before the survey table existed.
   Sent and answered, so kefu-survey's send scan never picks them up. */
static const char *s_surveys_sql =
    "WITH s AS (INSERT INTO survey (ticket_id, homeowner_id, kind, project_id, resolution_no,"
    "                               due_at, sent_at, answered_at, score, nps)"
    "           SELECT t.id, t.homeowner_id, 'resolution', t.project_id, 1, i.surveyed_at,"
    "                  i.surveyed_at, i.surveyed_at, i.score, i.nps"
    "             FROM ticket_import i JOIN ticket t ON t.id = i.ticket_id"
    "            WHERE (i.score IS NOT NULL OR i.nps IS NOT NULL)"
    "              AND NOT EXISTS (SELECT 1 FROM survey v WHERE v.ticket_id = i.ticket_id)"
    "           ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT count(*) FROM s";

static const char *s_scores_waiting_sql =
    "SELECT count(*) FROM ticket_import WHERE score IS NOT NULL OR nps IS NOT NULL";

static const char *s_finish_sql =
    "UPDATE import_run SET finished_at = clock_timestamp(), counts = $2::jsonb"
    " WHERE id = $1::bigint";

/* What one run did. */
typedef struct {
    adm_staged_t in; /* the rows read; rejected by either check */
    char tz[128];    /* the zone of local times: --tz, else the store's */
    long long known; /* imported before: skipped */
    long long created;
    long long open;           /* of which open: routed, on the SLA clock */
    long long surveys;        /* survey rows written */
    long long scores_waiting; /* kept in ticket_import: no survey table */
    bool survey_table;
    char survey_error[256]; /* why the survey rows could not be written */
    long long run;
} s_counts_t;

/* The first column of the first row of a one-number query, or -1. */
static long long s_number(PGconn *conn, const char *sql, int n, const char *const *params,
                          char *why, size_t size)
{
    PGresult *res = adm_exec(conn, sql, n, params, why, size);
    if (!res)
        return -1;
    long long value = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return value;
}

/* Writes the scores into the survey table when it exists, under a
   savepoint so that a survey table of another shape costs only the scores
   (reported), never the tickets. */
static int s_surveys(PGconn *conn, s_counts_t *c, char *why, size_t size)
{
    PGresult *res = adm_exec(conn, "SELECT to_regclass('survey') IS NOT NULL", 0, NULL, why, size);
    if (!res)
        return -1;
    c->survey_table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!c->survey_table) {
        c->scores_waiting = s_number(conn, s_scores_waiting_sql, 0, NULL, why, size);
        return c->scores_waiting < 0 ? -1 : 0;
    }
    if (adm_do(conn, "SAVEPOINT surveys", 0, NULL, why, size) != 0)
        return -1;
    char failed[256];
    c->surveys = s_number(conn, s_surveys_sql, 0, NULL, failed, sizeof failed);
    if (c->surveys < 0) {
        snprintf(c->survey_error, sizeof c->survey_error, "%s", failed);
        c->surveys = 0;
        return adm_do(conn, "ROLLBACK TO SAVEPOINT surveys", 0, NULL, why, size);
    }
    return adm_do(conn, "RELEASE SAVEPOINT surveys", 0, NULL, why, size);
}

/* Records the run and writes the new tickets, their history, owners and
   survey answers (after s_apply's checks); 0 or -1 with why filled. */
static int s_write(adm_import_t *run, PGconn *conn)
{
    s_counts_t *c = run->state;
    adm_problems_t *problems = &run->problems;
    char *why = run->why;
    size_t size = sizeof run->why;
    const char *run_params[] = {run->path, run->sha1};
    if ((c->run = s_number(conn, s_run_sql, 2, run_params, why, size)) < 0)
        return -1;
    char run_no[24];
    snprintf(run_no, sizeof run_no, "%lld", c->run);
    const char *source_params[] = {run_no};
    if (c->created > 0 && (adm_do(conn, s_owners_sql, 0, NULL, why, size) != 0 ||
                           adm_do(conn, s_tickets_sql, 0, NULL, why, size) != 0 ||
                           adm_do(conn, s_history_sql, 0, NULL, why, size) != 0 ||
                           adm_do(conn, s_links_sql, 0, NULL, why, size) != 0 ||
                           adm_do(conn, s_sources_sql, 1, source_params, why, size) != 0))
        return -1;
    if (s_surveys(conn, c, why, size) != 0)
        return -1;
    json_t *counts =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "rows", (json_int_t)c->in.rows, "rejected",
                  (json_int_t)c->in.rejected, "known", (json_int_t)c->known, "created",
                  (json_int_t)c->created, "open", (json_int_t)c->open, "surveys",
                  (json_int_t)c->surveys, "reasons", adm_reasons_json(problems));
    char *text = json_dumps(counts, JSON_COMPACT);
    json_decref(counts);
    const char *finish[] = {run_no, text};
    int rc = adm_do(conn, s_finish_sql, 2, finish, why, size);
    free(text);
    return rc;
}

/* The store's part of the load, in the open transaction
   (adm_import_kind_t.apply); it records its run itself. */
static int s_apply(adm_import_t *run, PGconn *conn)
{
    s_counts_t *c = run->state;
    adm_problems_t *problems = &run->problems;
    char *why = run->why;
    size_t size = sizeof run->why;
    const char *zone[] = {c->tz};
    if (adm_do(conn, s_stage_sql, 0, NULL, why, size) != 0 ||
        adm_copy(conn, "COPY ticket_stage FROM STDIN", c->in.copy ? c->in.copy : "", c->in.len, why,
                 size) != 0 ||
        adm_do(conn, s_in_sql, 1, zone, why, size) != 0 ||
        adm_do(conn, "ANALYZE ticket_in", 0, NULL, why, size) != 0 ||
        adm_do(conn, s_reject_sql, 0, NULL, why, size) != 0 ||
        adm_store_rejects(conn, "ticket_reject", problems, &c->in.rejected, why, size) != 0 ||
        adm_do(conn, run->opts.check ? s_new_check_sql : s_new_sql, 0, NULL, why, size) != 0)
        return -1;
    if ((c->known = s_number(conn, s_known_sql, 0, NULL, why, size)) < 0 ||
        (c->created = s_number(conn, "SELECT count(*) FROM ticket_new", 0, NULL, why, size)) < 0 ||
        (c->open =
             s_number(conn, "SELECT count(*) FROM ticket_new WHERE open", 0, NULL, why, size)) < 0)
        return -1;
    return s_write(run, conn);
}

/* Says on stderr what became of the scores when they could not be written. */
static void s_scores_note(const cli_t *cli, const s_counts_t *c)
{
    if (c->survey_error[0])
        fprintf(stderr,
                "%s: " TIX_CMD ": warning: the scores were not written to the survey table (%s); "
                "they are kept in ticket_import\n",
                cli_program(cli), c->survey_error);
    if (!c->survey_table && c->scores_waiting > 0)
        fprintf(stderr,
                "%s: " TIX_CMD ": note: no survey table in this store (migration 008); %lld "
                "imported ticket(s) with scores keep them in ticket_import: run this import "
                "again after migrating to add them\n",
                cli_program(cli), c->scores_waiting);
}

/* True when the load wrote something (adm_import_kind_t.changed). */
static bool s_changed(adm_import_t *run)
{
    const s_counts_t *c = run->state;
    return c->created != 0 || c->surveys != 0;
}

/* Prints what the run did: the rejected rows on stderr, the summary on
   stdout (or one JSON object). Returns the exit code
   (adm_import_kind_t.report). */
static int s_report(adm_import_t *run)
{
    const s_counts_t *c = run->state;
    adm_problems_t *problems = &run->problems;
    bool check = run->opts.check;
    long long ms = (long long)(zclock_mono() - run->start);
    long long run_no = check || !s_changed(run) ? 0 : c->run; /* rolled back: not kept */
    adm_problems_sort(problems);
    adm_problems_print(problems, stderr, run->path);
    s_scores_note(run->cli, c);
    size_t loaded = c->in.rows - c->in.rejected;
    if (run->cli->json) {
        adm_print_json(json_pack(
            "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o, s:o, s:o, s:I}", "file",
            run->path, "check", check, "rows", (json_int_t)c->in.rows, "loaded", (json_int_t)loaded,
            "rejected", (json_int_t)c->in.rejected, "created", (json_int_t)c->created, "open",
            (json_int_t)c->open, "known", (json_int_t)c->known, "surveys", (json_int_t)c->surveys,
            "scores_waiting", (json_int_t)c->scores_waiting, "survey_table", c->survey_table,
            "reasons", adm_reasons_json(problems), "rejects", adm_problems_json(problems), "run",
            run_no ? json_integer(run_no) : json_null(), "elapsed_ms", (json_int_t)ms));
    } else {
        printf("%s: %zu rows: %lld new tickets, %lld imported before, %zu rejected (%lld ms)%s\n",
               run->path, c->in.rows, c->created, c->known, c->in.rejected, ms,
               check ? "; nothing applied (--check)" : "");
        if (c->open)
            printf("  open     %lld routed to their owners on the SLA clock (no events sent)\n",
                   c->open);
        printf("  surveys  %lld answers written%s\n", c->surveys,
               c->survey_table ? "" : " (no survey table)");
        adm_reasons_print(problems);
        if (run_no)
            printf("  import run %lld\n", run_no);
    }
    if (!c->in.rejected)
        return CLI_EXIT_OK;
    return c->in.rejected < c->in.rows ? ADMIN_EXIT_PARTIAL : CLI_EXIT_REFUSED;
}

/* Checks --tz (adm_import_kind_t.options). */
static int s_options(adm_import_t *run)
{
    const char *tz = run->values[O_TZ];
    return tz ? args_text(run->cli, TIX_CMD, "tz", tz, 64, true) : 0;
}

/* Checks the file's rows into the COPY data (adm_import_kind_t.parse). */
static int s_parse(adm_import_t *run, const char *data, size_t size)
{
    s_counts_t *c = run->state;
    return adm_import_csv(run, data, size, s_columns, C_COUNT, s_row, &c->in);
}

/* The zone of local times: --tz, else the store's; checked against the
   store (adm_import_kind_t.prepare). */
static int s_prepare(adm_import_t *run, PGconn *conn)
{
    s_counts_t *c = run->state;
    PGresult *res = adm_exec(conn, "SELECT kefu_tz()", 0, NULL, run->why, sizeof run->why);
    if (!res)
        return adm_fail(run->cli, TIX_CMD, CLI_EXIT_REFUSED, "cannot read the store: %s", run->why);
    snprintf(c->tz, sizeof c->tz, "%s",
             run->values[O_TZ] ? run->values[O_TZ] : PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *zone[] = {c->tz};
    if (adm_do(conn, "SELECT now() AT TIME ZONE $1", 1, zone, run->why, sizeof run->why) != 0)
        return args_usage(run->cli, TIX_CMD, "tz", "'%s' is not a time zone of the store: %s",
                          c->tz, run->why);
    return 0;
}

static const adm_import_kind_t s_kind = {.cmd = TIX_CMD,
                                         .operand = "FILE.csv",
                                         .help = s_help,
                                         .local = s_local,
                                         .flag = s_flag,
                                         .nlocal = O_COUNT,
                                         .options = s_options,
                                         .parse = s_parse,
                                         .prepare = s_prepare,
                                         .apply = s_apply,
                                         .changed = s_changed,
                                         .report = s_report};

int admin_import_tickets(cli_t *cli, int argc, char **argv)
{
    s_counts_t counts = {0};
    int rc = adm_import_run(cli, argc, argv, &s_kind, &counts);
    free(counts.in.copy);
    return rc;
}
