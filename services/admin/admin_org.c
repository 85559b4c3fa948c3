/* kefu-admin — `kefu-admin import FILE`: loads the organisation file into
   the store in one transaction, after checking all of it. */
#include "admin_org.h"

#include <czmq.h>
#include <string.h>

#include "admin_csv.h"
#include "admin_import.h"
#include "args.h"

#define ORG_CMD "import"

/* `kefu-admin import --help`. */
static void s_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin import [OPTIONS] FILE\n\n"
            "Loads the organisation from FILE (JSON, format \"" ORG_FORMAT "\", described in\n"
            "deploy/ORG-FORMAT.md): departments and their heads, staff, projects with their\n"
            "general managers, buildings and units, routing rules, SLA policies and\n"
            "approval policies.\n\n"
            "All of the file is checked first, against itself and against what the store\n"
            "already holds; every problem is listed with its place (e.g.\n"
            "\"$.staff[12].manager: eng.liu2 is not a staff member of this file or the store\")\n"
            "and then nothing is applied. A valid file is applied in one transaction.\n"
            "Rows are matched by id (rules by kind, category and project; SLA policies by\n"
            "kind and priority) and made exactly as the file says (a changed approval policy\n"
            "is replaced whole; requests already running under it keep their steps); rows\n"
            "the file does not list are left alone, except that \"absent_staff\":\n"
            "\"deactivate\" deactivates the staff it does not list. Running it again with the\n"
            "same file changes nothing.\n\n"
            "Talks to PostgreSQL directly (KEFU_DATABASE_URL), not through a daemon.\n\n"
            "Options:\n");
    adm_options_help(out);
    fprintf(out, "\nExample:\n"
                 "  KEFU_DATABASE_URL=postgresql://kefu@db/kefu kefu-admin import org.json\n");
}

/* ---- the store's side ------------------------------------------------------ */

/* Text of a column, NULL for SQL NULL. */
static const char *s_value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Loads what the checks need to know of the store into org. */
static int s_load(PGconn *conn, org_t *org, char *why, size_t size)
{
    PGresult *res = adm_exec(conn, "SELECT id, head_id FROM department", 0, NULL, why, size);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        org_store_department(org, s_value(res, i, 0), s_value(res, i, 1));
    PQclear(res);
    res = adm_exec(conn, "SELECT id, department_id, manager_id, active, extension FROM staff", 0,
                   NULL, why, size);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        org_store_staff(org, s_value(res, i, 0), s_value(res, i, 1), s_value(res, i, 2),
                        strcmp(PQgetvalue(res, i, 3), "t") == 0);
        org_store_extension(org, s_value(res, i, 0), s_value(res, i, 4));
    }
    PQclear(res);
    res = adm_exec(conn, "SELECT id, gm_id FROM project", 0, NULL, why, size);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        org_store_project(org, s_value(res, i, 0), s_value(res, i, 1));
    PQclear(res);
    res = adm_exec(conn,
                   "SELECT kind, category, project_id, department_id, owner_id FROM routing_rule",
                   0, NULL, why, size);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        org_store_rule(org, s_value(res, i, 0), s_value(res, i, 1), s_value(res, i, 2),
                       s_value(res, i, 3), s_value(res, i, 4));
    PQclear(res);
    res =
        adm_exec(conn, "SELECT admin_id, service_centre FROM approval_setting", 0, NULL, why, size);
    if (!res)
        return -1;
    if (PQntuples(res) == 1)
        org_store_setting(org, s_value(res, 0, 0), s_value(res, 0, 1));
    PQclear(res);
    return 0;
}

/* ---- applying the plan -------------------------------------------------------- */

/* Each statement takes the plan's array as $1 (jsonb) and returns one row:
   rows created, rows changed. "IS DISTINCT FROM" keeps unchanged rows
   untouched, so a re-run writes nothing; inserts into tables with a
   serial key skip existing rows first so that no sequence moves. */
typedef struct {
    const char *name;  /* in the summary */
    const char *array; /* key of the plan */
    const char *sql;
} s_step_t;

static const s_step_t s_steps[] = {
    {"departments", "departments",
     "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
     "             AS x (id text, name text, name_zh text, head text)),"
     " up AS (INSERT INTO department AS d (id, name, name_zh, head_id)"
     "        SELECT id, name, name_zh, head FROM x"
     "        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, name_zh = EXCLUDED.name_zh,"
     "                                       head_id = EXCLUDED.head_id"
     "        WHERE (d.name, d.name_zh, d.head_id)"
     "              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.name_zh, EXCLUDED.head_id)"
     "        RETURNING (xmax = 0) AS created)"
     " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM up"},
    /* One statement for all staff: the manager foreign key is checked at
       its end, so a manager may come after the people reporting to them. */
    {"staff", "staff",
     "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
     "             AS x (id text, name text, department text, role text, manager text,"
     "                   email text, phone text, lang text, active boolean, extension text)),"
     " up AS (INSERT INTO staff AS s (id, name, department_id, role, manager_id, email, phone,"
     "                                lang, active, extension)"
     "        SELECT id, name, department, role, manager, email, phone, lang, active, extension"
     "          FROM x"
     "        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
     "            department_id = EXCLUDED.department_id, role = EXCLUDED.role,"
     "            manager_id = EXCLUDED.manager_id, email = EXCLUDED.email,"
     "            phone = EXCLUDED.phone, lang = EXCLUDED.lang, active = EXCLUDED.active,"
     "            extension = EXCLUDED.extension"
     "        WHERE (s.name, s.department_id, s.role, s.manager_id, s.email, s.phone, s.lang,"
     "               s.active, s.extension)"
     "              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.department_id, EXCLUDED.role,"
     "               EXCLUDED.manager_id, EXCLUDED.email, EXCLUDED.phone, EXCLUDED.lang,"
     "               EXCLUDED.active, EXCLUDED.extension)"
     "        RETURNING (xmax = 0) AS created)"
     " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM up"},
    {"projects", "projects",
     "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
     "             AS x (id text, name text, city text, gm text)),"
     " up AS (INSERT INTO project AS p (id, name, city, gm_id)"
     "        SELECT id, name, city, gm FROM x"
     "        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, city = EXCLUDED.city,"
     "                                       gm_id = EXCLUDED.gm_id"
     "        WHERE (p.name, p.city, p.gm_id)"
     "              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.city, EXCLUDED.gm_id)"
     "        RETURNING (xmax = 0) AS created)"
     " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM up"},
    {"buildings", "buildings",
     "WITH up AS (INSERT INTO building (project_id, code)"
     "            SELECT project, code FROM jsonb_to_recordset($1::jsonb) AS x (project text,"
     "                                                                          code text)"
     "            ON CONFLICT DO NOTHING RETURNING 1)"
     " SELECT count(*), 0 FROM up"},
    {"units", "units",
     "WITH x AS (SELECT u->>'project' AS project, u->>'building' AS building,"
     "                  u->>'unit' AS unit, ord"
     "             FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a (u, ord)),"
     " up AS (INSERT INTO unit (project_id, building, unit_no)"
     "        SELECT project, building, unit FROM x"
     "         WHERE NOT EXISTS (SELECT 1 FROM unit u WHERE u.project_id = x.project"
     "                              AND u.building = x.building AND u.unit_no = x.unit)"
     "         ORDER BY ord"
     "        ON CONFLICT DO NOTHING RETURNING 1)"
     " SELECT count(*), 0 FROM up"},
    {"routing rules", "routing_rules",
     "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
     "             AS x (ord int, kind text, category text, project text, department text,"
     "                   owner text, note text)),"
     " changed AS (UPDATE routing_rule r SET department_id = x.department,"
     "                                       owner_id = x.owner, note = x.note"
     "               FROM x"
     "              WHERE r.kind IS NOT DISTINCT FROM x.kind"
     "                AND r.category IS NOT DISTINCT FROM x.category"
     "                AND r.project_id IS NOT DISTINCT FROM x.project"
     "                AND (r.department_id, r.owner_id, r.note)"
     "                    IS DISTINCT FROM (x.department, x.owner, x.note)"
     "             RETURNING 1),"
     " created AS (INSERT INTO routing_rule (kind, category, project_id, department_id,"
     "                                       owner_id, note)"
     "             SELECT kind, category, project, department, owner, note FROM x"
     "              WHERE NOT EXISTS (SELECT 1 FROM routing_rule r"
     "                                 WHERE r.kind IS NOT DISTINCT FROM x.kind"
     "                                   AND r.category IS NOT DISTINCT FROM x.category"
     "                                   AND r.project_id IS NOT DISTINCT FROM x.project)"
     "              ORDER BY ord RETURNING 1)"
     " SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM changed)"},
    {"SLA policies", "sla_policies",
     "WITH up AS (INSERT INTO sla_policy AS p (kind, priority, first_response_secs,"
     "                                        resolve_secs, escalate_secs)"
     "            SELECT * FROM jsonb_to_recordset($1::jsonb)"
     "              AS x (kind text, priority text, first_response_secs integer,"
     "                    resolve_secs integer, escalate_secs integer)"
     "            ON CONFLICT (kind, priority) DO UPDATE"
     "               SET first_response_secs = EXCLUDED.first_response_secs,"
     "                   resolve_secs = EXCLUDED.resolve_secs,"
     "                   escalate_secs = EXCLUDED.escalate_secs"
     "             WHERE (p.first_response_secs, p.resolve_secs, p.escalate_secs)"
     "                   IS DISTINCT FROM (EXCLUDED.first_response_secs,"
     "                   EXCLUDED.resolve_secs, EXCLUDED.escalate_secs)"
     "            RETURNING (xmax = 0) AS created)"
     " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM up"}};

#define S_STEPS (sizeof s_steps / sizeof s_steps[0])

/* An approval policy of the store in the shape of the plan's "canon"
   (admin_org_check.c): p is its approval_policy row. */
#define S_POLICY_CANON                                                                             \
    "jsonb_build_object('name', p.name, 'type', p.request_type, 'min_fen', p.min_fen,"             \
    " 'max_fen', p.max_fen, 'default', p.is_default, 'active', p.active,"                          \
    " 'fallback', p.fallback_id, 'warn_to', to_jsonb(p.warn_to), 'stages',"                        \
    " (SELECT jsonb_agg(jsonb_build_object('rule', g.rule, 'quorum', g.quorum, 'steps',"           \
    "    (SELECT jsonb_agg(jsonb_build_object('label', s.label, 'kind', s.approver_kind,"          \
    "       'approver', s.approver, 'deadline_s', s.deadline_s, 'remind_s', s.remind_s,"           \
    "       'on_timeout', s.on_timeout) ORDER BY s.step)"                                          \
    "     FROM approval_policy_step s WHERE s.policy_id = g.policy_id AND s.stage = g.stage))"     \
    "   ORDER BY g.stage) FROM approval_policy_stage g WHERE g.policy_id = p.id))"

/* The file's approval policies ($1: the plan's array) that are new or
   differ from the store's, with the store's pending requests under each. */
#define S_POLICY_DIFF                                                                              \
    "WITH x AS (SELECT e->>'id' AS id, e->'policy' AS policy, e->'canon' AS canon, ord"            \
    "             FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a (e, ord)),"            \
    " d AS (SELECT x.*, (SELECT " S_POLICY_CANON " FROM approval_policy p WHERE p.id = x.id)"      \
    "              AS stored FROM x)"                                                              \
    " SELECT d.id, d.policy, d.stored IS NULL AS created, d.ord,"                                  \
    "        (SELECT count(*) FROM approval_request r"                                             \
    "          WHERE r.policy_id = d.id AND r.status = 'pending') AS pending"                      \
    "   FROM d WHERE d.stored IS DISTINCT FROM d.canon"

/* Running requests under a policy that changes: said before the change
   (they keep the policy they started with, migration 016). */
static const char *s_policy_running_sql =
    "SELECT id, pending FROM (" S_POLICY_DIFF ") c WHERE NOT created AND pending > 0 ORDER BY ord";

/* Puts the new and changed policies with kefu_approval_policy_put
   (migration 012), in the file's order; unchanged ones are not written. */
static const char *s_policy_put_sql =
    "WITH c AS (" S_POLICY_DIFF "),"
    " put AS (SELECT kefu_approval_policy_put(c.policy) AS id, c.created FROM c ORDER BY c.ord)"
    " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM put";

/* The approval administrator and customer-service centre the file names
   ($1, $2; NULL keeps the store's). */
static const char *s_setting_sql =
    "WITH up AS (UPDATE approval_setting SET admin_id = coalesce($1, admin_id),"
    "                   service_centre = coalesce($2, service_centre)"
    "             WHERE (admin_id, service_centre) IS DISTINCT FROM"
    "                   (coalesce($1, admin_id), coalesce($2, service_centre)) RETURNING 1)"
    " SELECT count(*) FROM up";

/* The staff the file does not list, deactivated when it says so. */
static const char *s_deactivate_sql =
    "WITH listed AS (SELECT jsonb_array_elements($1::jsonb)->>'id' AS id),"
    " up AS (UPDATE staff SET active = false"
    "         WHERE active AND id NOT IN (SELECT id FROM listed) RETURNING 1)"
    " SELECT count(*) FROM up";

/* Inactive staff who still own open tickets: worth a warning. */
static const char *s_orphans_sql =
    "SELECT s.id, count(*) FROM staff s JOIN ticket t ON t.owner_id = s.id"
    " WHERE NOT s.active AND t.status NOT IN ('resolved', 'closed')"
    " GROUP BY s.id ORDER BY s.id";

static const char s_run_sql[] =
    "INSERT INTO import_run (kind, file, sha1, finished_at, counts)"
    " VALUES ('org', $1, $2, clock_timestamp(), $3::jsonb) RETURNING id";

/* Applies the plan; fills counts ({name: {created, changed}}) and
   warnings. Returns 0, or -1 with why filled. */
static int s_apply(PGconn *conn, json_t *plan, json_t *counts, json_t *warnings, char *why,
                   size_t size)
{
    for (size_t i = 0; i < S_STEPS; i++) {
        char *array = json_dumps(json_object_get(plan, s_steps[i].array), JSON_COMPACT);
        const char *params[] = {array};
        PGresult *res = adm_exec(conn, s_steps[i].sql, 1, params, why, size);
        free(array);
        if (!res)
            return -1;
        json_object_set_new(counts, s_steps[i].name,
                            json_pack("{s:I, s:I}", "created",
                                      (json_int_t)atoll(PQgetvalue(res, 0, 0)), "changed",
                                      (json_int_t)atoll(PQgetvalue(res, 0, 1))));
        PQclear(res);
    }
    long long deactivated = 0;
    if (strcmp(json_string_value(json_object_get(plan, "absent_staff")), "deactivate") == 0) {
        char *array = json_dumps(json_object_get(plan, "staff"), JSON_COMPACT);
        const char *params[] = {array};
        PGresult *res = adm_exec(conn, s_deactivate_sql, 1, params, why, size);
        free(array);
        if (!res)
            return -1;
        deactivated = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    json_object_set_new(json_object_get(counts, "staff"), "deactivated",
                        json_integer((json_int_t)deactivated));

    char *policies = json_dumps(json_object_get(plan, "approval_policies"), JSON_COMPACT);
    const char *pparams[] = {policies};
    PGresult *res = adm_exec(conn, s_policy_running_sql, 1, pparams, why, size);
    for (int i = 0; res && i < PQntuples(res); i++) {
        char text[384];
        snprintf(text, sizeof text,
                 "approval policy %s changes while %s request(s) run under it: they finish "
                 "under the version they started with (stages, rules, deadlines, fallback); "
                 "new requests take the new one",
                 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        json_array_append_new(warnings, json_string(text));
    }
    PQclear(res);
    res = res ? adm_exec(conn, s_policy_put_sql, 1, pparams, why, size) : NULL;
    free(policies);
    if (!res)
        return -1;
    json_object_set_new(counts, "approval policies",
                        json_pack("{s:I, s:I}", "created", (json_int_t)atoll(PQgetvalue(res, 0, 0)),
                                  "changed", (json_int_t)atoll(PQgetvalue(res, 0, 1))));
    PQclear(res);
    json_t *setting = json_object_get(plan, "approval_setting");
    const char *sparams[] = {json_string_value(json_object_get(setting, "admin")),
                             json_string_value(json_object_get(setting, "service_centre"))};
    res = adm_exec(conn, s_setting_sql, 2, sparams, why, size);
    if (!res)
        return -1;
    json_object_set_new(
        counts, "approval settings",
        json_pack("{s:i, s:I}", "created", 0, "changed", (json_int_t)atoll(PQgetvalue(res, 0, 0))));
    PQclear(res);

    res = adm_exec(conn, s_orphans_sql, 0, NULL, why, size);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        char text[256];
        snprintf(text, sizeof text, "%s is inactive but owns %s open ticket(s); transfer them",
                 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        json_array_append_new(warnings, json_string(text));
    }
    PQclear(res);
    return 0;
}

/* True when counts say nothing was written. */
static bool s_unchanged(json_t *counts)
{
    const char *name;
    json_t *c;
    json_object_foreach(counts, name, c)
    {
        const char *key;
        json_t *n;
        json_object_foreach(c, key, n) if (json_integer_value(n) != 0) return false;
    }
    return true;
}

/* The human summary on stdout. */
static void s_summary(const char *path, json_t *counts, bool check, long long run, int64_t ms)
{
    if (s_unchanged(counts))
        printf("%s: %sno changes: the store already matches the file (%lld ms)\n", path,
               check ? "valid; " : "", (long long)ms);
    else if (check)
        printf("%s: valid; it would make these changes (nothing applied, --check):\n", path);
    else
        printf("%s: applied in one transaction in %lld ms (import run %lld)\n", path, (long long)ms,
               run);
    if (s_unchanged(counts))
        return;
    const char *name;
    json_t *c;
    json_object_foreach(counts, name, c)
    {
        printf("  %-17s %6lld new", name,
               (long long)json_integer_value(json_object_get(c, "created")));
        if (strcmp(name, "buildings") != 0 && strcmp(name, "units") != 0)
            printf(", %lld changed", (long long)json_integer_value(json_object_get(c, "changed")));
        json_t *d = json_object_get(c, "deactivated");
        if (d)
            printf(", %lld deactivated", (long long)json_integer_value(d));
        printf("\n");
    }
}

/* Reports a refused file (problems), in --json mode as an object too. */
static int s_refuse(const cli_t *cli, const char *path, adm_problems_t *problems)
{
    adm_problems_print(problems, stderr, path);
    fprintf(stderr, "%s: " ORG_CMD ": %s: %zu problem(s); nothing was applied\n", cli_program(cli),
            path, problems->total);
    if (cli->json)
        adm_print_json(json_pack("{s:s, s:b, s:I, s:o}", "file", path, "applied", 0, "problems",
                                 (json_int_t)problems->total, "errors",
                                 adm_problems_json(problems)));
    return CLI_EXIT_REFUSED;
}

/* One run's own state. */
typedef struct {
    json_t *root;     /* the file */
    org_t *org;       /* what the store holds, and the plan */
    json_t *counts;   /* {name: {created, changed}} */
    json_t *warnings; /* texts */
} s_run_t;

/* Parses the file as JSON (adm_import_kind_t.parse). */
static int s_parse(adm_import_t *run, const char *data, size_t size)
{
    s_run_t *self = run->state;
    json_error_t jerr;
    self->root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (self->root)
        return 0;
    char place[64];
    snprintf(place, sizeof place, "line %d, column %d", jerr.line, jerr.column);
    adm_problem(&run->problems, 0, place, "bad_json", "not valid JSON: %s", jerr.text);
    return s_refuse(run->cli, run->path, &run->problems);
}

/* Reads the organisation, checks the file against it and applies the plan,
   in the open transaction (adm_import_kind_t.apply). */
static int s_apply_run(adm_import_t *run, PGconn *conn)
{
    s_run_t *self = run->state;
    if (s_load(conn, self->org, run->why, sizeof run->why) != 0)
        return adm_fail(run->cli, ORG_CMD, CLI_EXIT_TEMPORARY, "cannot read the organisation: %s",
                        run->why);
    if (org_check(self->org, self->root, &run->problems) != 0)
        return s_refuse(run->cli, run->path, &run->problems);
    return s_apply(conn, org_plan(self->org), self->counts, self->warnings, run->why,
                   sizeof run->why);
}

/* True when the plan changed the store (adm_import_kind_t.changed). */
static bool s_changed(adm_import_t *run)
{
    s_run_t *self = run->state;
    return !s_unchanged(self->counts);
}

/* The counts import_run records (adm_import_kind_t.counts). */
static json_t *s_run_counts(adm_import_t *run)
{
    s_run_t *self = run->state;
    return json_incref(self->counts);
}

/* Prints the warnings and what the run did (adm_import_kind_t.report). */
static int s_report(adm_import_t *run)
{
    s_run_t *self = run->state;
    bool check = run->opts.check;
    int64_t ms = zclock_mono() - run->start;
    for (size_t i = 0; i < json_array_size(self->warnings); i++)
        fprintf(stderr, "%s: " ORG_CMD ": warning: %s\n", cli_program(run->cli),
                json_string_value(json_array_get(self->warnings, i)));
    if (run->cli->json)
        adm_print_json(json_pack("{s:s, s:b, s:b, s:b, s:O, s:I, s:O, s:O}", "file", run->path,
                                 "applied", !check, "check", check, "changed", s_changed(run),
                                 "run", run->run_id ? json_integer(run->run_id) : json_null(),
                                 "elapsed_ms", (json_int_t)ms, "counts", self->counts, "warnings",
                                 self->warnings));
    else
        s_summary(run->path, self->counts, check, run->run_id, ms);
    return CLI_EXIT_OK;
}

static const adm_import_kind_t s_kind = {.cmd = ORG_CMD,
                                         .operand = "FILE",
                                         .help = s_help,
                                         .parse = s_parse,
                                         .apply = s_apply_run,
                                         .changed = s_changed,
                                         .run_sql = s_run_sql,
                                         .counts = s_run_counts,
                                         .report = s_report};

int admin_import(cli_t *cli, int argc, char **argv)
{
    s_run_t self = {.org = org_new(), .counts = json_object(), .warnings = json_array()};
    int rc = adm_import_run(cli, argc, argv, &s_kind, &self);
    json_decref(self.counts);
    json_decref(self.warnings);
    json_decref(self.root);
    org_destroy(&self.org);
    return rc;
}
