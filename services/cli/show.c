/* kefu client — `kefu ticket show`: one ticket as an aligned block of its
   fields, then its history, one line per entry. */
#include <string.h>

#include "args.h"
#include "call.h"
#include "cli.h"
#include "output.h"
#include "timefmt.h"
#include "width.h"

#define SHOW_CMD "ticket show"
#define SHOW_TEXT_MAX (KF_MAX_STRING + 1) /* bytes of one shown string */

static const struct option s_options[] = {ARGS_GLOBAL_OPTIONS};

/* The request body: the ticket number. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    kf_body_t *body = call_body(cli);
    kf_body_str(body, "ticket", (const char *)arg);
    return body;
}

/* `kefu ticket --help` and `kefu ticket show --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu ticket show TICKET\n\n"
                 "Shows one ticket: its fields (times in the local zone, $TZ, default\n"
                 "Asia/Shanghai; deadlines with the time left or how far overdue), then its\n"
                 "history, one line per entry, oldest first.\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu ticket show KF-2026-000123\n");
}

/* A string field of map, or NULL when absent; buf holds it. */
static const char *s_str(const msgpack_object *map, const char *key, char *buf, size_t size)
{
    return call_str(map, key, buf, size) && buf[0] ? buf : NULL;
}

/* Prints "label  value" when the string field is present. */
static void s_text(const msgpack_object *t, const char *label, const char *key)
{
    char buf[SHOW_TEXT_MAX];
    if (s_str(t, key, buf, sizeof buf))
        out_field(label, buf);
}

/* Prints a time field in the local zone when present. */
static void s_time(const msgpack_object *t, const char *label, const char *key)
{
    int64_t at;
    char when[32];
    if (!call_int(t, key, &at))
        return;
    tf_local(at, when, sizeof when);
    out_field(label, when);
}

/* Prints a deadline with how it stands: time left, overdue, met or missed
   (done_key names the time the work was done). */
static void s_deadline(const msgpack_object *t, const char *label, const char *key,
                       const char *done_key)
{
    int64_t due, done = 0;
    char line[96];
    if (!call_int(t, key, &due))
        return;
    call_int(t, done_key, &done);
    tf_deadline(due, done, kf_now_ms(), line, sizeof line);
    out_field(label, line);
}

/* Prints the kind with its Chinese name. */
static void s_kind(const msgpack_object *t)
{
    char kind[32], line[64];
    if (!s_str(t, "kind", kind, sizeof kind))
        return;
    const char *zh = kf_model_label(KF_ENUM_KIND, kind, "zh"); /* as agents know them */
    if (zh)
        snprintf(line, sizeof line, "%s %s", kind, zh);
    else
        snprintf(line, sizeof line, "%s", kind);
    out_field("Kind", line);
}

/* Prints "first (second)" under label, or whichever of them is present. */
static void s_with(const msgpack_object *t, const char *label, const char *key,
                   const char *extra_key)
{
    char first[256], second[256], line[600];
    const char *a = s_str(t, key, first, sizeof first);
    const char *b = s_str(t, extra_key, second, sizeof second);
    if (a && b)
        snprintf(line, sizeof line, "%s (%s)", a, b);
    else if (a || b)
        snprintf(line, sizeof line, "%s", a ? a : b);
    else
        return;
    out_field(label, line);
}

/* Prints the building and unit when the ticket has them. */
static void s_location(const msgpack_object *t)
{
    char building[64], unit[64], line[160];
    if (!s_str(t, "building", building, sizeof building) || !s_str(t, "unit", unit, sizeof unit))
        return;
    snprintf(line, sizeof line, "building %s, unit %s", building, unit);
    out_field("Location", line);
}

/* Prints the escalation level when the reply has it. */
static void s_level(const msgpack_object *t)
{
    int64_t level;
    char line[32];
    if (!call_int(t, "escalation_level", &level))
        return;
    snprintf(line, sizeof line, "%lld", (long long)level);
    out_field("Escalation level", line);
}

/* Prints the ticket's own fields. */
static void s_fields(const msgpack_object *t)
{
    s_text(t, "Ticket", "ticket");
    s_text(t, "Status", "status");
    s_kind(t);
    s_text(t, "Category", "category");
    s_text(t, "Channel", "channel");
    s_text(t, "Priority", "priority");
    s_text(t, "Project", "project");
    s_location(t);
    s_text(t, "Customer", "customer");
    s_text(t, "Phone", "phone");
    s_with(t, "Owner", "owner", "owner_name");
    s_text(t, "Department", "department");
    s_text(t, "Responsible", "responsible");
    s_level(t);
    s_time(t, "Received", "received_at");
    s_deadline(t, "First response due", "first_response_due", "responded_at");
    s_time(t, "Responded", "responded_at");
    s_deadline(t, "Resolve due", "resolve_due", "resolved_at");
    s_time(t, "Resolved", "resolved_at");
    s_text(t, "Summary", "summary");
    s_text(t, "Detail", "detail");
}

/* Appends " PREFIXvalue" to line when the string field is present;
   control characters in it become spaces so the entry stays one line. */
static void s_part(const msgpack_object *entry, const char *key, const char *prefix, char *line,
                   size_t size)
{
    char value[SHOW_TEXT_MAX], flat[SHOW_TEXT_MAX];
    if (!s_str(entry, key, value, sizeof value))
        return;
    width_fit(value, INT32_MAX, flat, sizeof flat);
    size_t used = strlen(line);
    snprintf(line + used, size - used, " %s%s", prefix, flat);
}

/* Prints one history entry on one line. */
static void s_entry(const msgpack_object *entry)
{
    char line[3 * SHOW_TEXT_MAX] = "", when[32] = "-", action[32] = "?";
    int64_t at, level;
    if (call_int(entry, "at", &at))
        tf_local(at, when, sizeof when);
    s_str(entry, "action", action, sizeof action);
    if (call_int(entry, "level", &level))
        snprintf(line, sizeof line, " level %lld", (long long)level);
    s_part(entry, "actor", "by ", line, sizeof line);
    s_part(entry, "from", "from ", line, sizeof line);
    s_part(entry, "to", "to ", line, sizeof line);
    s_part(entry, "reason", "— reason: ", line, sizeof line);
    s_part(entry, "note", "— note: ", line, sizeof line);
    printf("  %s  %-12s%s\n", when, action, line);
}

/* Prints the history array, oldest first as the reply gives it. */
static void s_history(const msgpack_object *t)
{
    const msgpack_object *history = kf_map_get(t, "history");
    printf("\nHistory\n");
    if (!history || history->type != MSGPACK_OBJECT_ARRAY || history->via.array.size == 0) {
        printf("  (none)\n");
        return;
    }
    for (uint32_t i = 0; i < history->via.array.size; i++)
        if (history->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            s_entry(&history->via.array.ptr[i]);
}

/* `kefu ticket show TICKET`. */
static int s_show(cli_t *cli, int argc, char **argv)
{
    const char *ticket = NULL;
    int rc = args_parse(cli, SHOW_CMD, argc, argv, s_options, s_help, NULL, 0);
    if (rc == ARGS_OK)
        rc = args_ticket(cli, SHOW_CMD, argc, argv, &ticket);
    if (rc == ARGS_OK)
        rc = args_cert(cli, SHOW_CMD);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "ticket.show", .corr = ticket, .build = s_body, .arg = ticket};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json) {
        const msgpack_object *body = kf_env_body(reply);
        char number[64];
        if (!call_str(body, "ticket", number, sizeof number))
            rc = call_missing(cli, "ticket.show", "ticket");
        else {
            s_fields(body);
            s_history(body);
        }
    }
    kf_env_destroy(&reply);
    return rc;
}

int cmd_ticket(cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return s_show(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2)
        return args_usage(cli, "ticket", NULL, "missing the subcommand (show)");
    return args_usage(cli, "ticket", NULL, "unknown subcommand '%s' (expected show)", argv[1]);
}
