/* kefu client — `kefu tickets`: a table of the tickets matching filters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "call.h"
#include "catalog.h"
#include "cli.h"
#include "output.h"
#include "owner.h"
#include "table.h"
#include "timefmt.h"

#define LIST_CMD "tickets"
#define LIST_LIMIT_MAX KF_LIM_LIST

#define LIST_BOUND_MAX 20 /* bytes of --since/--until: ms or YYYY-MM-DD */

enum {
    F_STATUS,
    F_OWNER,
    F_PROJECT,
    F_KIND,
    F_DEPARTMENT,
    F_STATE,
    F_PHONE,
    F_NO,
    F_Q,
    F_CURSOR,
    F_SINCE, /* the fields from here on are checked apart */
    F_UNTIL,
    F_LIMIT,
    F_COUNT
};

/* From proto/catalog.md, section ticket.list (since, until and limit are
   checked apart). */
static const args_field_t s_fields[F_SINCE] = {
    [F_STATUS] = {"status", 0, false, kf_statuses},
    [F_OWNER] = {"owner", KF_LIM_STAFF, false, NULL},
    [F_PROJECT] = {"project", KF_LIM_PROJECT, false, NULL},
    [F_KIND] = {"kind", 0, false, kf_kinds},
    [F_DEPARTMENT] = {"department", KF_LIM_STAFF, false, NULL},
    [F_STATE] = {"state", 0, false, kf_queue_state_names},
    [F_PHONE] = {"phone", KF_LIM_PHONE, false, NULL},
    [F_NO] = {"no", KF_LIM_TICKET, false, NULL},
    [F_Q] = {"q", KF_LIM_Q, false, NULL},
    [F_CURSOR] = {"cursor", KF_LIM_CURSOR, false, NULL},
};

static const struct option s_options[] = {
    {"status", required_argument, NULL, ARGS_OPT(F_STATUS)},
    {"owner", required_argument, NULL, ARGS_OPT(F_OWNER)},
    {"project", required_argument, NULL, ARGS_OPT(F_PROJECT)},
    {"kind", required_argument, NULL, ARGS_OPT(F_KIND)},
    {"department", required_argument, NULL, ARGS_OPT(F_DEPARTMENT)},
    {"state", required_argument, NULL, ARGS_OPT(F_STATE)},
    {"phone", required_argument, NULL, ARGS_OPT(F_PHONE)},
    {"no", required_argument, NULL, ARGS_OPT(F_NO)},
    {"q", required_argument, NULL, ARGS_OPT(F_Q)},
    {"cursor", required_argument, NULL, ARGS_OPT(F_CURSOR)},
    {"since", required_argument, NULL, ARGS_OPT(F_SINCE)},
    {"until", required_argument, NULL, ARGS_OPT(F_UNTIL)},
    {"limit", required_argument, NULL, ARGS_OPT(F_LIMIT)},
    ARGS_GLOBAL_OPTIONS};

/* The filters of one listing. */
typedef struct {
    const char *values[F_COUNT];
    long limit; /* 0 when not given */
} list_t;

/* `kefu tickets --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu tickets [--status S] [--owner STAFF] [--project P] [--kind K]\n"
                 "                    [--department D] [--state open|overdue|escalated]\n"
                 "                    [--phone PHONE] [--no TICKET] [--q WORDS]\n"
                 "                    [--since WHEN] [--until WHEN]\n"
                 "                    [--limit N] [--cursor NEXT]\n\n"
                 "Lists the tickets matching every filter given, in the order they came in,\n"
                 "the latest first, as a table: ticket, kind, status (L1-L3 when escalated),\n"
                 "priority, project, department, owner (id and name), received (local time),\n"
                 "the deadline it works to and how it stands against it (due, overdue, met,\n"
                 "late), and summary (shortened to fit the terminal).\n"
                 "One page at a time: when more tickets match, a last line gives the\n"
                 "--cursor that shows the next page (the same command with --cursor added).\n\n"
                 "Options:\n"
                 "  --status S         submitted, routed, responded, resolved or closed\n"
                 "  --owner STAFF      tickets this staff id owns\n"
                 "  --project P        tickets of this project code\n"
                 "  --kind K           complaint, repair, inquiry, suggestion or praise\n"
                 "  --department D     tickets owned now by staff of this department (its id)\n"
                 "  --state Q          open tickets of a queue: open (not resolved or closed),\n"
                 "                     overdue (a first-response or resolution deadline\n"
                 "                     passed unmet) or escalated (escalation level 1+)\n"
                 "  --phone PHONE      the tickets of the owner with this phone, written as\n"
                 "                     people type it ('+86 138-0013-8000' = 13800138000)\n"
                 "  --no TICKET        the ticket with this number (KF-2026-000042), exactly\n"
                 "  --q WORDS          tickets whose summary holds every one of these words\n"
                 "                     (separated by spaces; ASCII case ignored; %% and _\n"
                 "                     match themselves; at most 8 words): --q '漏水 卫生间'\n"
                 "  --since WHEN       received at or after WHEN: YYYY-MM-DD (local midnight\n"
                 "                     in the store's zone, default Asia/Shanghai) or ms\n"
                 "                     since the epoch\n"
                 "  --until WHEN       received before WHEN (excluded): [since, until)\n"
                 "  --limit N          at most N tickets a page, 1..100 (default 50)\n"
                 "  --cursor NEXT      the next page, after the one that printed NEXT\n\n");
    args_global_help(out);
    fprintf(out, "\nExamples:\n"
                 "  kefu tickets --status routed --project HZ-XH --limit 20\n"
                 "  kefu tickets --phone 13800138000 --since 2026-11-01 --until 2026-12-01\n"
                 "  kefu tickets --q '漏水 卫生间' --status routed\n"
                 "  kefu tickets --department eng --state overdue\n"
                 "  kefu tickets --no KF-2026-000042\n");
}

/* Parses and checks argv; returns ARGS_OK, ARGS_HELP or an exit code. */
static int s_parse(cli_t *cli, int argc, char **argv, list_t *list)
{
    int rc = args_parse(cli, LIST_CMD, argc, argv, s_options, s_help, list->values, F_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, LIST_CMD, argc, argv, 0, NULL);
    if (rc == ARGS_OK)
        rc = args_fields(cli, LIST_CMD, s_fields, list->values, F_SINCE);
    if (rc == ARGS_OK && list->values[F_SINCE])
        rc = args_text(cli, LIST_CMD, "since", list->values[F_SINCE], LIST_BOUND_MAX, true);
    if (rc == ARGS_OK && list->values[F_UNTIL])
        rc = args_text(cli, LIST_CMD, "until", list->values[F_UNTIL], LIST_BOUND_MAX, true);
    const char *limit = list->values[F_LIMIT];
    if (rc == ARGS_OK && limit && args_number(limit, 1, LIST_LIMIT_MAX, &list->limit) != 0)
        rc = args_usage(cli, LIST_CMD, "limit", "--limit '%s' is not a number in 1..%d", limit,
                        LIST_LIMIT_MAX);
    if (rc == ARGS_OK)
        rc = args_cert(cli, LIST_CMD);
    return rc;
}

/* Adds since or until: a number of ms when all digits, else the text (a
   date that intake judges). */
static void s_bound(kf_body_t *body, const char *key, const char *value)
{
    if (value[0] >= '0' && value[0] <= '9' && strspn(value, "0123456789") == strlen(value)) {
        errno = 0;
        long long ms = strtoll(value, NULL, 10);
        if (errno == 0) {
            kf_body_int(body, key, ms);
            return;
        }
    }
    kf_body_str(body, key, value);
}

/* The request body: the filters given. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    const list_t *list = (const list_t *)arg;
    kf_body_t *body = call_body(cli);
    for (size_t i = 0; i < F_SINCE; i++)
        if (list->values[i])
            kf_body_str(body, s_fields[i].name, list->values[i]);
    if (list->values[F_SINCE])
        s_bound(body, "since", list->values[F_SINCE]);
    if (list->values[F_UNTIL])
        s_bound(body, "until", list->values[F_UNTIL]);
    if (list->limit > 0)
        kf_body_int(body, "limit", list->limit);
    return body;
}

/* Prints the table of the reply's tickets. */
static int s_print(const cli_t *cli, const kf_env_t *reply)
{
    const msgpack_object *tickets = kf_map_get(kf_env_body(reply), "tickets");
    if (!tickets || tickets->type != MSGPACK_OBJECT_ARRAY)
        return call_missing(cli, "ticket.list", "tickets");
    if (cli->json)
        return CLI_EXIT_OK;
    char next[128];
    bool more = call_str(kf_env_body(reply), "next", next, sizeof next) && next[0];
    if (tickets->via.array.size == 0) {
        printf("no tickets match\n");
        return CLI_EXIT_OK;
    }
    table_t *table = table_new(owner_ticket_headers, OWNER_TICKET_COLS);
    for (uint32_t i = 0; i < tickets->via.array.size; i++)
        if (tickets->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            owner_ticket_row(table, &tickets->via.array.ptr[i]);
    table_print(table, stdout, table_last_cols(table));
    table_destroy(&table);
    if (more)
        printf("more tickets: the next page is this command with --cursor %s\n", next);
    return CLI_EXIT_OK;
}

int cmd_tickets(cli_t *cli, int argc, char **argv)
{
    list_t list = {.values = {NULL}, .limit = 0};
    int rc = s_parse(cli, argc, argv, &list);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "ticket.list", .build = s_body, .arg = &list};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK)
        rc = s_print(cli, reply);
    kf_env_destroy(&reply);
    return rc;
}
