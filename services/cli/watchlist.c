/* kefu client — `kefu watchlist`: what a manager must act on now, from
   kefu-survey (KEFU_SURVEY): approvals at risk of missing their promised
   date, owners at risk, promoters (proto/catalog.md, "watchlist"). */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "call.h"
#include "cli.h"
#include "table.h"
#include "timefmt.h"

#define WATCH_CMD "watchlist"
#define WATCH_CELL_MAX 256 /* bytes of one cell shown */

enum { W_LIMIT, W_COUNT };

static const struct option s_options[] = {{"limit", required_argument, NULL, ARGS_OPT(W_LIMIT)},
                                          ARGS_GLOBAL_OPTIONS};

/* Prints the usage of kefu watchlist. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu watchlist [--limit N]\n\n"
                 "What a manager must act on now (managers, heads, general managers, vice\n"
                 "presidents and administrators):\n"
                 "  approvals at risk  pending approval requests marked at risk, or whose\n"
                 "                     promised date ends within 48 h, the nearest first\n"
                 "  owners at risk     two or more complaints in 90 days, a survey score of 1\n"
                 "                     or 2 in 180 days, or a ticket reopened in 180 days\n"
                 "  promoters          would-recommend 9 or 10 in 90 days, the latest first\n\n"
                 "Options:\n"
                 "  --limit N          at most N entries in each list (1..100, default 20)\n\n");
    args_global_help(out);
}

/* The request's body: the limit. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    kf_body_t *body = call_body(cli);
    kf_body_int(body, "limit", *(const long *)arg);
    return body;
}

/* The cell of field key of entry: text, a number, a local time (kind
   't'), or the strings of a list joined by commas. */
static const char *s_cell(const msgpack_object *entry, const char *key, char kind, char *buf,
                          size_t size)
{
    int64_t n;
    buf[0] = '\0';
    const msgpack_object *v = kf_map_get(entry, key);
    if (kind == 't' && call_int(entry, key, &n))
        tf_local(n, buf, size);
    else if (v && v->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            const msgpack_object *s = &v->via.array.ptr[i];
            if (s->type == MSGPACK_OBJECT_STR)
                snprintf(buf + strlen(buf), size - strlen(buf), "%s%.*s", i ? "," : "",
                         (int)s->via.str.size, s->via.str.ptr);
        }
    else if (call_int(entry, key, &n))
        snprintf(buf, size, "%lld", (long long)n);
    else
        call_str(entry, key, buf, size);
    return buf;
}

/* One list of the reply as a table under its title: keys (each with its
   kind, 's', 'i' or 't') are its columns. */
static void s_print_list(const msgpack_object *body, const char *title, const char *key,
                         const char *more, const char *const *headers, const char *keys,
                         const char *const *fields, size_t ncols)
{
    const msgpack_object *list = kf_map_get(body, key);
    const msgpack_object *flag = kf_map_get(body, more);
    size_t n = list && list->type == MSGPACK_OBJECT_ARRAY ? list->via.array.size : 0;
    printf("%s: %zu%s\n", title, n,
           flag && flag->type == MSGPACK_OBJECT_BOOLEAN && flag->via.boolean ? " (more)" : "");
    if (n == 0)
        return;
    table_t *table = table_new(headers, ncols);
    char cells[8][WATCH_CELL_MAX];
    const char *row[8];
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < ncols; c++)
            row[c] = s_cell(&list->via.array.ptr[i], fields[c], keys[c], cells[c], sizeof cells[c]);
        table_add(table, row);
    }
    table_print(table, stdout, 40);
    table_destroy(&table);
}

/* Prints the three lists. */
static void s_print(const msgpack_object *body)
{
    static const char *const ah[] = {"ID", "TICKET", "PROMISED", "AT RISK", "WITH", "SUMMARY"};
    static const char *const af[] = {"request",    "ticket",      "promised",
                                     "at_risk_at", "assigned_to", "summary"};
    s_print_list(body, "approvals at risk", "approvals_at_risk", "approvals_more", ah, "ssstss", af,
                 6);
    static const char *const oh[] = {"PHONE", "NAME", "PROJECT", "REASONS", "LATEST"};
    static const char *const of[] = {"phone", "name", "project", "reasons", "last_at"};
    s_print_list(body, "owners at risk", "owners_at_risk", "owners_more", oh, "sssst", of, 5);
    static const char *const ph[] = {"PHONE", "NAME", "PROJECT", "NPS", "ANSWERED", "TICKET"};
    static const char *const pf[] = {"phone", "name", "project", "nps", "answered_at", "ticket"};
    s_print_list(body, "promoters", "promoters", "promoters_more", ph, "sssits", pf, 6);
}

int cmd_watchlist(cli_t *cli, int argc, char **argv)
{
    cli_use_survey(cli);
    const char *values[W_COUNT] = {NULL};
    long limit = 20;
    int rc = args_parse(cli, WATCH_CMD, argc, argv, s_options, s_help, values, W_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, WATCH_CMD, argc, argv, 0, "");
    if (rc == ARGS_OK && values[W_LIMIT] && args_number(values[W_LIMIT], 1, 100, &limit) != 0)
        rc = args_usage(cli, WATCH_CMD, "limit", "--limit '%s' is not a number in 1..100",
                        values[W_LIMIT]);
    if (rc == ARGS_OK)
        rc = args_cert(cli, WATCH_CMD);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "watchlist", .build = s_body, .arg = &limit, .retries = 1};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        s_print(kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}
