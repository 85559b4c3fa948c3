/* kefu client — `kefu staff`: a table of the active staff matching filters;
   `kefu departments`: a table of the departments. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "call.h"
#include "catalog.h"
#include "cli.h"
#include "output.h"
#include "table.h"

#define STAFF_CMD "staff"

enum { F_Q, F_DEPARTMENT, F_ROLE, F_CURSOR, F_LIMIT, F_COUNT };

/* From proto/model.json, staff.list (limit is checked apart). */
static const args_field_t s_fields[F_LIMIT] = {
    [F_Q] = {"q", KF_LIM_Q, false, NULL},
    [F_DEPARTMENT] = {"department", KF_LIM_STAFF, false, NULL},
    [F_ROLE] = {"role", 0, false, kf_roles},
    [F_CURSOR] = {"cursor", KF_LIM_CURSOR, false, NULL},
};

static const struct option s_options[] = {
    {"q", required_argument, NULL, ARGS_OPT(F_Q)},
    {"department", required_argument, NULL, ARGS_OPT(F_DEPARTMENT)},
    {"role", required_argument, NULL, ARGS_OPT(F_ROLE)},
    {"cursor", required_argument, NULL, ARGS_OPT(F_CURSOR)},
    {"limit", required_argument, NULL, ARGS_OPT(F_LIMIT)},
    ARGS_GLOBAL_OPTIONS};

/* The filters of one listing. */
typedef struct {
    const char *values[F_COUNT];
    long limit; /* 0 when not given */
} staff_t;

/* `kefu staff --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu staff [--q WORDS] [--department D] [--role R]\n"
                 "                  [--limit N] [--cursor NEXT]\n\n"
                 "Lists the active staff matching every filter given, by staff id, as a\n"
                 "table: staff id, name, department and role (whom a ticket can be\n"
                 "transferred to, or approvals delegated to). One page at a time: when more\n"
                 "match, a last line gives the --cursor that shows the next page.\n\n"
                 "Options:\n"
                 "  --q WORDS          staff whose id or name holds every one of these words\n"
                 "                     (separated by spaces; ASCII case ignored; %% and _\n"
                 "                     match themselves; at most 8 words)\n"
                 "  --department D     staff of this department (its id)\n"
                 "  --role R           agent, staff, manager, head, gm, vp or admin\n"
                 "  --limit N          at most N a page, 1..100 (default 50)\n"
                 "  --cursor NEXT      the next page, after the one that printed NEXT\n\n");
    args_global_help(out);
    fprintf(out, "\nExamples:\n"
                 "  kefu staff --department eng\n"
                 "  kefu staff --q 刘\n");
}

/* Parses and checks argv; returns ARGS_OK, ARGS_HELP or an exit code. */
static int s_parse(cli_t *cli, int argc, char **argv, staff_t *staff)
{
    int rc = args_parse(cli, STAFF_CMD, argc, argv, s_options, s_help, staff->values, F_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, STAFF_CMD, argc, argv, 0, NULL);
    if (rc == ARGS_OK)
        rc = args_fields(cli, STAFF_CMD, s_fields, staff->values, F_LIMIT);
    if (rc == ARGS_OK)
        rc = args_limit(cli, STAFF_CMD, staff->values[F_LIMIT], KF_LIM_LIST, &staff->limit);
    if (rc == ARGS_OK)
        rc = args_cert(cli, STAFF_CMD);
    return rc;
}

/* The request body: the filters given. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    const staff_t *staff = (const staff_t *)arg;
    return call_list_body(cli, s_fields, staff->values, F_LIMIT, staff->limit);
}

/* Prints the reply's list key (of request type) as a table of the
   columns headers, each item's keys (4 of them); none when it is empty. */
static int s_print_table(const cli_t *cli, const kf_env_t *reply, const char *type, const char *key,
                         const char *const headers[4], const char *const keys[4], const char *none)
{
    const msgpack_object *list = kf_map_get(kf_env_body(reply), key);
    if (!list || list->type != MSGPACK_OBJECT_ARRAY)
        return call_missing(cli, type, key);
    if (cli->json)
        return CLI_EXIT_OK;
    if (list->via.array.size == 0) {
        printf("%s\n", none);
        return CLI_EXIT_OK;
    }
    table_t *table = table_new(headers, 4);
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        char cells[4][256];
        const char *row[4];
        for (int c = 0; c < 4; c++) {
            cells[c][0] = '\0';
            call_str(&list->via.array.ptr[i], keys[c], cells[c], sizeof cells[c]);
            row[c] = cells[c];
        }
        table_add(table, row);
    }
    table_print(table, stdout, table_last_cols(table));
    table_destroy(&table);
    return CLI_EXIT_OK;
}

/* Prints the table of the reply's staff. */
static int s_print(const cli_t *cli, const kf_env_t *reply)
{
    static const char *const headers[] = {"STAFF", "NAME", "DEPT", "ROLE"};
    static const char *const keys[] = {"staff", "name", "department", "role"};
    int rc = s_print_table(cli, reply, "staff.list", "staff", headers, keys, "no staff match");
    if (rc == CLI_EXIT_OK && !cli->json)
        call_next_page(reply, "staff");
    return rc;
}

/* Sends the request of call; prints its reply with print. */
static int s_run(cli_t *cli, const call_t *call, int (*print)(const cli_t *, const kf_env_t *))
{
    kf_env_t *reply = NULL;
    int rc = call_run(cli, call, &reply);
    if (rc == CLI_EXIT_OK)
        rc = print(cli, reply);
    kf_env_destroy(&reply);
    return rc;
}

int cmd_staff(cli_t *cli, int argc, char **argv)
{
    staff_t staff = {.values = {NULL}, .limit = 0};
    int rc = s_parse(cli, argc, argv, &staff);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "staff.list", .build = s_body, .arg = &staff};
    return s_run(cli, &call, s_print);
}

/* ---- kefu departments ---------------------------------------------------- */

#define DEPARTMENTS_CMD "departments"

static const struct option s_dept_options[] = {ARGS_GLOBAL_OPTIONS};

/* `kefu departments --help`. */
static void s_dept_help(FILE *out)
{
    fprintf(out, "Usage: kefu departments\n\n"
                 "Lists every department of the organisation by id, as a table: id, name\n"
                 "in Chinese, name in English and the head's staff id.\n\n"
                 "Options:\n");
    args_global_help(out);
}

/* The request body: no field. */
static kf_body_t *s_dept_body(const cli_t *cli, const void *arg)
{
    (void)arg;
    return call_body(cli);
}

/* Prints the table of the reply's departments. */
static int s_dept_print(const cli_t *cli, const kf_env_t *reply)
{
    static const char *const headers[] = {"DEPT", "名称", "NAME", "HEAD"};
    static const char *const keys[] = {"department", "name_zh", "name", "head"};
    return s_print_table(cli, reply, "department.list", "departments", headers, keys,
                         "no departments");
}

int cmd_departments(cli_t *cli, int argc, char **argv)
{
    int rc = args_parse(cli, DEPARTMENTS_CMD, argc, argv, s_dept_options, s_dept_help, NULL, 0);
    if (rc == ARGS_OK)
        rc = args_operands(cli, DEPARTMENTS_CMD, argc, argv, 0, NULL);
    if (rc == ARGS_OK)
        rc = args_cert(cli, DEPARTMENTS_CMD);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "department.list", .build = s_dept_body, .arg = NULL};
    return s_run(cli, &call, s_dept_print);
}
