/* kefu client — `kefu owner PHONE`: the owner on the line, found by phone:
   a card (name, phone, segment, language, units, ticket counts), then a
   table of their tickets, open ones first, each with the deadline it is
   working to. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "call.h"
#include "cli.h"
#include "output.h"
#include "table.h"
#include "timefmt.h"

#define OWNER_CMD "owner"
#define OWNER_UNITS_LINE 4096 /* bytes of the card's units lines */

static const struct option s_options[] = {ARGS_GLOBAL_OPTIONS};

/* `kefu owner --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu owner PHONE\n\n"
                 "Finds the owner (业主) with this phone, written as people type it\n"
                 "('+86 138-0013-8000' is 13800138000), and shows their card: name, phone,\n"
                 "segment, language, units (project building-unit) and how many tickets they\n"
                 "have; then their tickets, open ones first, then the latest first: ticket,\n"
                 "kind, status, priority, project, owner (staff), received, the deadline it\n"
                 "works to (or when it was resolved) and summary. Times in the local zone\n"
                 "($TZ, default Asia/Shanghai). At most 100 tickets are shown; `kefu tickets\n"
                 "--phone PHONE` lists all of them a page at a time.\n\n"
                 "An unknown phone is not_found (exit 1).\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu owner '+86 138-0013-8000'\n");
}

/* The request body: the phone as given. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    kf_body_t *body = call_body(cli);
    kf_body_str(body, "phone", (const char *)arg);
    return body;
}

/* Prints label and the string field key, when present, followed by its
   label in enumeration which of the wire model (KF_ENUM_COUNT: none) in
   lang, or in the value's own language when lang is NULL (a language
   named as its speakers name it: "en English"). */
static void s_card_text(const msgpack_object *body, const char *label, const char *key,
                        kf_enum_t which, const char *lang)
{
    char value[256], line[300];
    if (!call_str(body, key, value, sizeof value) || !value[0])
        return;
    const char *name = kf_model_label(which, value, lang ? lang : value);
    if (name)
        snprintf(line, sizeof line, "%s %s", value, name);
    else
        snprintf(line, sizeof line, "%s", value);
    out_field(label, line);
}

/* Prints the units, one a line: "HZ-XH 3-1201". */
static void s_card_units(const msgpack_object *body)
{
    const msgpack_object *units = kf_map_get(body, "units");
    char *lines = (char *)calloc(1, OWNER_UNITS_LINE);
    if (!lines)
        return;
    size_t used = 0;
    for (uint32_t i = 0; units && units->type == MSGPACK_OBJECT_ARRAY && i < units->via.array.size;
         i++) {
        const msgpack_object *u = &units->via.array.ptr[i];
        char project[64] = "?", building[32] = "?", unit[32] = "?";
        call_str(u, "project", project, sizeof project);
        call_str(u, "building", building, sizeof building);
        call_str(u, "unit", unit, sizeof unit);
        int n = snprintf(lines + used, OWNER_UNITS_LINE - used, "%s%s %s-%s", used ? "\n" : "",
                         project, building, unit);
        if (n < 0 || (size_t)n >= OWNER_UNITS_LINE - used)
            break;
        used += (size_t)n;
    }
    bool more = false;
    if (kf_map_get(body, "units_more") &&
        kf_map_get(body, "units_more")->type == MSGPACK_OBJECT_BOOLEAN)
        more = kf_map_get(body, "units_more")->via.boolean;
    if (more && used + 8 < OWNER_UNITS_LINE)
        snprintf(lines + used, OWNER_UNITS_LINE - used, "\n...");
    out_field("Units 房号", used ? lines : "(none on record)");
    free(lines);
}

/* Prints "N, M open" (and how many are shown when not all are). */
static void s_card_counts(const msgpack_object *body)
{
    int64_t total = 0, open = 0, count = 0;
    char line[96];
    call_int(body, "total", &total);
    call_int(body, "open", &open);
    call_int(body, "count", &count);
    int n = snprintf(line, sizeof line, "%lld, %lld open", (long long)total, (long long)open);
    if (count < total && n > 0)
        snprintf(line + n, sizeof line - (size_t)n, " (the %lld most relevant shown)",
                 (long long)count);
    out_field("Tickets 工单", line);
}

/* Prints the owner's card. */
static void s_card(const msgpack_object *body)
{
    char name[256];
    out_field("Owner 业主",
              call_str(body, "name", name, sizeof name) && name[0] ? name : "(no name)");
    s_card_text(body, "Phone 电话", "phone", KF_ENUM_COUNT, NULL);
    s_card_text(body, "Segment 客户类型", "segment", KF_ENUM_SEGMENT, "zh"); /* as agents say */
    s_card_text(body, "Language 语言", "lang", KF_ENUM_LANG, NULL);
    int64_t since;
    char when[32];
    if (call_int(body, "known_since", &since)) {
        tf_local(since, when, sizeof when);
        out_field("Known since", when);
    }
    s_card_units(body);
    s_card_counts(body);
}

/* The deadline a ticket works to, by status: respond by (routed), resolve
   by (responded), or when it was resolved; "(overdue)" once passed. */
static void s_due(const msgpack_object *t, const char *status, char *buf, size_t size)
{
    int64_t at;
    char when[32];
    bool done = strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0;
    const char *key = done                               ? "resolved_at"
                      : strcmp(status, "responded") == 0 ? "resolve_due"
                      : strcmp(status, "routed") == 0    ? "first_response_due"
                                                         : NULL;
    if (!key || !call_int(t, key, &at)) {
        snprintf(buf, size, "-");
        return;
    }
    tf_local(at, when, sizeof when);
    snprintf(buf, size, "%s %s%s",
             done            ? "resolved"
             : key[0] == 'f' ? "respond by"
                             : "resolve by",
             when, !done && at < kf_now_ms() ? " (overdue)" : "");
}

/* Adds one ticket map as a row. */
static void s_row(table_t *table, const msgpack_object *t)
{
    char ticket[64], kind[32], status[32] = "", priority[32], project[64], owner[128],
                               received[32] = "-", due[80], summary[1024];
    call_str(t, "ticket", ticket, sizeof ticket);
    call_str(t, "kind", kind, sizeof kind);
    call_str(t, "status", status, sizeof status);
    call_str(t, "priority", priority, sizeof priority);
    call_str(t, "project", project, sizeof project);
    call_str(t, "owner", owner, sizeof owner);
    call_str(t, "summary", summary, sizeof summary);
    int64_t at;
    if (call_int(t, "received_at", &at))
        tf_local(at, received, sizeof received);
    s_due(t, status, due, sizeof due);
    const char *cells[] = {ticket, kind, status, priority, project, owner, received, due, summary};
    table_add(table, cells);
}

/* Prints the card and the table of tickets. */
static int s_print(const cli_t *cli, const kf_env_t *reply)
{
    const msgpack_object *body = kf_env_body(reply);
    const msgpack_object *tickets = kf_map_get(body, "tickets");
    if (!tickets || tickets->type != MSGPACK_OBJECT_ARRAY)
        return call_missing(cli, "owner.show", "tickets");
    s_card(body);
    printf("\n");
    if (tickets->via.array.size == 0) {
        printf("no tickets\n");
        return CLI_EXIT_OK;
    }
    static const char *const headers[] = {"TICKET", "KIND",     "STATUS",   "PRIORITY", "PROJECT",
                                          "OWNER",  "RECEIVED", "DEADLINE", "SUMMARY"};
    table_t *table = table_new(headers, sizeof headers / sizeof headers[0]);
    for (uint32_t i = 0; i < tickets->via.array.size; i++)
        if (tickets->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            s_row(table, &tickets->via.array.ptr[i]);
    table_print(table, stdout, table_last_cols(table));
    table_destroy(&table);
    const msgpack_object *more = kf_map_get(body, "more");
    char phone[64];
    if (more && more->type == MSGPACK_OBJECT_BOOLEAN && more->via.boolean &&
        call_str(body, "phone", phone, sizeof phone))
        printf("more tickets: all of them, a page at a time: kefu tickets --phone %s\n", phone);
    return CLI_EXIT_OK;
}

int cmd_owner(cli_t *cli, int argc, char **argv)
{
    int rc = args_parse(cli, OWNER_CMD, argc, argv, s_options, s_help, NULL, 0);
    if (rc == ARGS_OK)
        rc = args_operands(cli, OWNER_CMD, argc, argv, 1, "phone");
    if (rc == ARGS_OK)
        rc = args_check(cli, OWNER_CMD, "phone", "the phone", argv[optind], KF_LIM_PHONE, true);
    if (rc == ARGS_OK)
        rc = args_cert(cli, OWNER_CMD);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    const char *phone = argv[optind];
    call_t call = {.type = "owner.show", .build = s_body, .arg = phone};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_print(cli, reply);
    kf_env_destroy(&reply);
    return rc;
}
