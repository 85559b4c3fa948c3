/* kefu-admin — `kefu-admin import-owners FILE.csv`: the owner list from the
   sales system. Each row is checked in C (CSV shape, UTF-8, phone by
   common/phone.h, segment, unit number), the good ones are copied into a
   temporary table, the rest of the checks (project, unit, conflicting
   names) are set-based, and the owners and their units are written with
   a few statements, all in one transaction. */
#include <czmq.h>
#include <string.h>

#include "admin.h"
#include "admin_csv.h"
#include "admin_import.h"
#include "admin_field.h"
#include "args.h"
#include "phone.h"

#define OWN_CMD "import-owners"
#define OWN_NAME_MAX 200

enum { C_NAME, C_PHONE, C_PROJECT, C_BUILDING, C_UNIT, C_SEGMENT, C_LANG, C_COUNT };

static const char *const s_name_aliases[] = {"姓名", "owner", NULL};
static const char *const s_phone_aliases[] = {"电话", "手机", "mobile", NULL};
static const char *const s_project_aliases[] = {"项目", NULL};
static const char *const s_building_aliases[] = {"楼栋", NULL};
static const char *const s_unit_aliases[] = {"房号", "unit_no", NULL};
static const char *const s_segment_aliases[] = {"客户类型", NULL};
static const char *const s_lang_aliases[] = {"语言", NULL};

static const csv_column_t s_columns[C_COUNT] = {
    [C_NAME] = {"name", s_name_aliases, true},
    [C_PHONE] = {"phone", s_phone_aliases, true},
    [C_PROJECT] = {"project", s_project_aliases, true},
    [C_BUILDING] = {"building", s_building_aliases, true},
    [C_UNIT] = {"unit", s_unit_aliases, true},
    [C_SEGMENT] = {"segment", s_segment_aliases, true},
    [C_LANG] = {"lang", s_lang_aliases, false}};

enum { O_REPLACE_NAMES, O_COUNT };
static const char *const s_local[O_COUNT] = {"replace-names"};
static const bool s_flag[O_COUNT] = {true};

/* `kefu-admin import-owners --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin import-owners [OPTIONS] FILE.csv\n\n"
                 "Loads the owner list exported from the sales system: a UTF-8 CSV file\n"
                 "(RFC 4180) with a header row naming the columns, in any order:\n"
                 "  name, phone, project, building, unit, segment   required\n"
                 "  lang                                             optional (zh or en)\n"
                 "segment is first-home, upgrade, investor, high-end or retirement, or\n"
                 "刚需, 改善, 投资, 高端, 养老. Phones are normalised as everywhere in kefu\n"
                 "(+86 and separators dropped). See deploy/ORG-FORMAT.md.\n\n"
                 "Owners are matched by phone: a new phone adds an owner, a known one takes the\n"
                 "file's name, segment and lang (when given); each row links the owner to its\n"
                 "unit (an owner of several units has several rows). A row that cannot be\n"
                 "loaded is rejected with its line and reason (bad phone, unknown project or\n"
                 "unit, bad segment, a phone given with two different names, ...) and the\n"
                 "others are loaded, all in one transaction. Running it again with the same\n"
                 "file changes nothing.\n\n"
                 "Talks to PostgreSQL directly (KEFU_DATABASE_URL), not through a daemon.\n\n"
                 "Options:\n"
                 "  --replace-names    when the store knows a phone under another name, take the\n"
                 "                     file's (default: reject the row)\n");
    adm_options_help(out);
    fprintf(out, "\nExit codes: 0 all loaded, 5 loaded with rejected rows, 1 nothing loaded\n"
                 "(bad header, or every row rejected), 2 usage, 3 store unreachable.\n\n"
                 "Example:\n"
                 "  kefu-admin import-owners --max-errors 20 owners-2026-11.csv\n");
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
    for (size_t i = 0; i < C_COUNT; i++)
        v[i] = index[i] >= 0 ? adm_trim(rec->fields[index[i]]) : NULL;
    if (!adm_is_text(v[C_NAME], OWN_NAME_MAX))
        adm_problem(problems, rec->line, "name", "bad_name",
                    "the name must be 1-%d bytes of text, not blank", OWN_NAME_MAX);
    char phone[KF_PHONE_MAX];
    if (kf_phone_normalise(v[C_PHONE], phone) != 0)
        adm_problem(problems, rec->line, "phone", "bad_phone",
                    "'%.40s' is not a phone number (" KF_PHONE_RULE ")", v[C_PHONE]);
    if (!adm_is_project_id(v[C_PROJECT]))
        adm_problem(problems, rec->line, "project", "unknown_project",
                    "'%.40s' is not a project code", v[C_PROJECT]);
    if (!adm_is_building_code(v[C_BUILDING]))
        adm_problem(problems, rec->line, "building", "unknown_unit",
                    "'%.40s' is not a building code", v[C_BUILDING]);
    if (!adm_is_unit_no(v[C_UNIT]))
        adm_problem(problems, rec->line, "unit", "unknown_unit", "'%.40s' is not a unit number",
                    v[C_UNIT]);
    const char *segment = adm_segment(v[C_SEGMENT]);
    if (!segment)
        adm_problem(problems, rec->line, "segment", "bad_segment",
                    "'%.40s' is not a segment (first-home, upgrade, investor, high-end, "
                    "retirement, or 刚需, 改善, 投资, 高端, 养老)",
                    v[C_SEGMENT]);
    const char *lang = NULL;
    if (v[C_LANG] && v[C_LANG][0] && !(lang = adm_lang(v[C_LANG])))
        adm_problem(problems, rec->line, "lang", "bad_lang", "'%.40s' is not zh or en", v[C_LANG]);
    if (problems->total != before)
        return -1;
    char line[24];
    snprintf(line, sizeof line, "%zu", rec->line);
    adm_copy_field(copy, len, cap, line, false);
    adm_copy_field(copy, len, cap, v[C_NAME], false);
    adm_copy_field(copy, len, cap, phone, false);
    adm_copy_field(copy, len, cap, v[C_PROJECT], false);
    adm_copy_field(copy, len, cap, v[C_BUILDING], false);
    adm_copy_field(copy, len, cap, v[C_UNIT], false);
    adm_copy_field(copy, len, cap, segment, false);
    adm_copy_field(copy, len, cap, lang, true);
    return 0;
}

/* ---- the set-based part ------------------------------------------------- */

static const char *s_stage_sql =
    "CREATE TEMP TABLE owner_stage (line integer PRIMARY KEY, name text NOT NULL,"
    " phone text NOT NULL, project text NOT NULL, building text NOT NULL, unit text NOT NULL,"
    " segment text NOT NULL, lang text) ON COMMIT DROP";

/* Every staged row with its unit and, when the store's side refuses it,
   the first reason. $1 is true when the file's names replace the store's.
   The unit is looked up once, here, for the links below. */
static const char *s_check_sql =
    "CREATE TEMP TABLE owner_check ON COMMIT DROP AS"
    " WITH s AS ("
    "   SELECT s.*, u.id AS unit_id, p.id IS NOT NULL AS project_ok, h.name AS store_name,"
    "          first_value(s.line) OVER w AS first_line, first_value(s.name) OVER w AS first_name"
    "     FROM owner_stage s"
    "     LEFT JOIN project p ON p.id = s.project"
    "     LEFT JOIN unit u ON u.project_id = s.project AND u.building = s.building"
    "                     AND u.unit_no = s.unit"
    "     LEFT JOIN homeowner h ON h.phone = s.phone"
    "   WINDOW w AS (PARTITION BY s.phone ORDER BY s.line))"
    " SELECT line, name, phone, segment, lang, unit_id,"
    "     CASE WHEN NOT project_ok THEN 'unknown_project'"
    "          WHEN unit_id IS NULL THEN 'unknown_unit'"
    "          WHEN name <> first_name THEN 'phone_conflict'"
    "          WHEN NOT $1::boolean AND store_name IS NOT NULL AND store_name <> first_name"
    "          THEN 'name_conflict' END AS code,"
    "     CASE WHEN NOT project_ok THEN 'project'"
    "          WHEN unit_id IS NULL THEN 'unit'"
    "          ELSE 'name' END AS field,"
    "     CASE WHEN NOT project_ok THEN format('project %s does not exist', project)"
    "          WHEN unit_id IS NULL"
    "          THEN format('project %s has no unit %s in building %s', project, unit, building)"
    "          WHEN name <> first_name"
    "          THEN format('the same phone is on line %s with another name', first_line)"
    "          ELSE 'the store knows this phone under another name (--replace-names takes"
    " the file''s)' END AS message"
    "   FROM s";

/* The refused rows, as adm_store_rejects reads them. */
static const char *s_reject_sql =
    "CREATE TEMP VIEW owner_reject AS"
    " SELECT line, field, code, message FROM owner_check WHERE code IS NOT NULL";

/* New owners, changed owners: the first good row of each phone counts. */
static const char *s_owners_sql =
    "WITH a AS (SELECT DISTINCT ON (phone) * FROM owner_check WHERE code IS NULL"
    "            ORDER BY phone, line),"
    " ins AS (INSERT INTO homeowner (phone, name, lang, segment)"
    "         SELECT phone, name, coalesce(lang, 'zh'), segment FROM a"
    "          WHERE NOT EXISTS (SELECT 1 FROM homeowner h WHERE h.phone = a.phone)"
    "          ORDER BY line"
    "         ON CONFLICT (phone) DO NOTHING RETURNING 1),"
    " upd AS (UPDATE homeowner h SET name = a.name, segment = a.segment,"
    "                                lang = coalesce(a.lang, h.lang)"
    "           FROM a WHERE h.phone = a.phone"
    "            AND (h.name, h.segment, h.lang)"
    "                IS DISTINCT FROM (a.name, a.segment, coalesce(a.lang, h.lang))"
    "         RETURNING 1)"
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd)";

static const char *s_links_sql = "WITH l AS (INSERT INTO homeowner_unit (homeowner_id, unit_id)"
                                 "           SELECT DISTINCT h.id, c.unit_id FROM owner_check c"
                                 "             JOIN homeowner h ON h.phone = c.phone"
                                 "            WHERE c.code IS NULL"
                                 "           ON CONFLICT DO NOTHING RETURNING 1)"
                                 " SELECT count(*) FROM l";

static const char s_run_sql[] =
    "INSERT INTO import_run (kind, file, sha1, finished_at, counts)"
    " VALUES ('owners', $1, $2, clock_timestamp(), $3::jsonb) RETURNING id";

/* What one run did. */
typedef struct {
    adm_staged_t in; /* the rows read; rejected by either check */
    long long created, changed, linked;
} s_counts_t;

/* Checks the file's rows into the COPY data (adm_import_kind_t.parse). */
static int s_parse(adm_import_t *run, const char *data, size_t size)
{
    s_counts_t *c = run->state;
    return adm_import_csv(run, data, size, s_columns, C_COUNT, s_row, &c->in);
}

/* The store's part of the load, in the open transaction
   (adm_import_kind_t.apply). */
static int s_apply(adm_import_t *run, PGconn *conn)
{
    s_counts_t *c = run->state;
    char *why = run->why;
    size_t size = sizeof run->why;
    const char *replace[] = {run->values[O_REPLACE_NAMES] ? "true" : "false"};
    if (adm_do(conn, s_stage_sql, 0, NULL, why, size) != 0 ||
        adm_copy(conn, "COPY owner_stage FROM STDIN", c->in.copy ? c->in.copy : "", c->in.len, why,
                 size) != 0 ||
        adm_do(conn, s_check_sql, 1, replace, why, size) != 0 ||
        adm_do(conn, s_reject_sql, 0, NULL, why, size) != 0)
        return -1;

    if (adm_store_rejects(conn, "owner_reject", &run->problems, &c->in.rejected, why, size) != 0)
        return -1;

    PGresult *res = adm_exec(conn, s_owners_sql, 0, NULL, why, size);
    if (!res)
        return -1;
    c->created = atoll(PQgetvalue(res, 0, 0));
    c->changed = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    res = adm_exec(conn, s_links_sql, 0, NULL, why, size);
    if (!res)
        return -1;
    c->linked = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* True when the load wrote something (adm_import_kind_t.changed). */
static bool s_changed(adm_import_t *run)
{
    const s_counts_t *c = run->state;
    return c->created || c->changed || c->linked;
}

/* The counts import_run records (adm_import_kind_t.counts). */
static json_t *s_run_counts(adm_import_t *run)
{
    const s_counts_t *c = run->state;
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "rows", (json_int_t)c->in.rows, "rejected",
                     (json_int_t)c->in.rejected, "created", (json_int_t)c->created, "changed",
                     (json_int_t)c->changed, "linked", (json_int_t)c->linked, "reasons",
                     adm_reasons_json(&run->problems));
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
    adm_problems_sort(problems);
    adm_problems_print(problems, stderr, run->path);
    size_t loaded = c->in.rows - c->in.rejected;
    if (run->cli->json) {
        adm_print_json(json_pack(
            "{s:s, s:b, s:I, s:I, s:I, s:{s:I, s:I}, s:I, s:o, s:o, s:o, s:I}", "file", run->path,
            "check", check, "rows", (json_int_t)c->in.rows, "loaded", (json_int_t)loaded,
            "rejected", (json_int_t)c->in.rejected, "owners", "created", (json_int_t)c->created,
            "changed", (json_int_t)c->changed, "units_linked", (json_int_t)c->linked, "reasons",
            adm_reasons_json(problems), "rejects", adm_problems_json(problems), "run",
            run->run_id ? json_integer(run->run_id) : json_null(), "elapsed_ms", (json_int_t)ms));
    } else {
        printf("%s: %zu rows: %zu loaded, %zu rejected%s (%lld ms%s)\n", run->path, c->in.rows,
               loaded, c->in.rejected, check ? "; nothing applied (--check)" : "", ms,
               check || run->run_id ? "" : ", no changes");
        printf("  owners   %lld new, %lld changed\n  units    %lld owner-unit links new\n",
               c->created, c->changed, c->linked);
        adm_reasons_print(problems);
        if (run->run_id)
            printf("  import run %lld\n", run->run_id);
    }
    if (!c->in.rejected)
        return CLI_EXIT_OK;
    return c->in.rejected < c->in.rows ? ADMIN_EXIT_PARTIAL : CLI_EXIT_REFUSED;
}

static const adm_import_kind_t s_kind = {.cmd = OWN_CMD,
                                         .operand = "FILE.csv",
                                         .help = s_help,
                                         .local = s_local,
                                         .flag = s_flag,
                                         .nlocal = O_COUNT,
                                         .parse = s_parse,
                                         .apply = s_apply,
                                         .changed = s_changed,
                                         .run_sql = s_run_sql,
                                         .counts = s_run_counts,
                                         .report = s_report};

int admin_import_owners(cli_t *cli, int argc, char **argv)
{
    s_counts_t counts = {0};
    int rc = adm_import_run(cli, argc, argv, &s_kind, &counts);
    free(counts.in.copy);
    return rc;
}
