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
#include "owner.h"
#include "table.h"
#include "timefmt.h"

#define OWNER_CMD "owner"
#define OWNER_UNITS_LINE 4096 /* bytes of the card's units lines */

static const struct option s_options[] = {ARGS_GLOBAL_OPTIONS};

/* `kefu owner --help`. */
static void s_help(FILE *out)
{
    fprintf(
        out,
        "Usage: kefu owner PHONE\n\n"
        "Finds the owner (业主) with this phone, written as people type it\n"
        "('+86 138-0013-8000' is 13800138000), and shows their card: name, phone,\n"
        "segment, language, units (project building-unit) and how many tickets they\n"
        "have; then their tickets, open ones first, then the latest first: ticket,\n"
        "kind, status, priority, project, department, owner (staff), received, the deadline it\n"
        "works to (or when it was resolved) with how the ticket stands against it\n"
        "(due 未到期, overdue 已超时, met 按时完成, late 超时完成) and summary;\n"
        "then their open approval requests (type, amount, stage, promised date)\n"
        "and their survey answers (score, nps), the latest first. Times in the\n"
        "local zone ($TZ, default Asia/Shanghai). At most 50 tickets are shown;\n"
        "`kefu tickets --phone PHONE` lists all of them a page at a time.\n\n"
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

/* Writes "value label" (the label of value in enumeration which, in
   Chinese, as agents say it) into buf; "" when key is absent. */
static const char *s_labelled(const msgpack_object *map, const char *key, kf_enum_t which,
                              char *buf, size_t size)
{
    char value[64];
    buf[0] = '\0';
    if (!call_str(map, key, value, sizeof value) || !value[0])
        return buf;
    const char *label = kf_model_label(which, value, "zh");
    if (snprintf(buf, size, "%s%s%s", value, label ? " " : "", label ? label : "") < 0)
        buf[0] = '\0';
    return buf;
}

/* The deadline a ticket works to, by status: respond by (routed), resolve
   by (responded), or when it was resolved; then how it stands against it
   (intake's first_response or resolution: due, overdue, met, late). */
static void s_due(const msgpack_object *t, const char *status, char *buf, size_t size)
{
    int64_t at;
    char when[32], state[64];
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
    s_labelled(t, key[0] == 'f' ? "first_response" : "resolution", KF_ENUM_DEADLINE_STATE, state,
               sizeof state);
    snprintf(buf, size, "%s %s%s%s",
             done            ? "resolved"
             : key[0] == 'f' ? "respond by"
                             : "resolve by",
             when, state[0] ? ", " : "", state);
}

const char *const owner_ticket_headers[OWNER_TICKET_COLS] = {
    "TICKET", "KIND",  "STATUS",   "PRIORITY", "PROJECT",
    "DEPT",   "OWNER", "RECEIVED", "DEADLINE", "SUMMARY"};

void owner_ticket_row(table_t *table, const msgpack_object *t)
{
    char ticket[64], kind[32], status[48] = "", priority[32], project[64], owner[256],
                               owner_name[128], department[64] = "", received[32] = "-", due[160],
                               summary[1024];
    call_str(t, "ticket", ticket, sizeof ticket);
    call_str(t, "kind", kind, sizeof kind);
    call_str(t, "status", status, sizeof status);
    call_str(t, "priority", priority, sizeof priority);
    call_str(t, "project", project, sizeof project);
    call_str(t, "owner", owner, sizeof owner);
    call_str(t, "department", department, sizeof department);
    call_str(t, "summary", summary, sizeof summary);
    if (call_str(t, "owner_name", owner_name, sizeof owner_name) && owner_name[0]) {
        size_t used = strlen(owner);
        if (snprintf(owner + used, sizeof owner - used, " %s", owner_name) < 0)
            owner[used] = '\0';
    }
    int64_t at;
    if (call_int(t, "received_at", &at))
        tf_local(at, received, sizeof received);
    s_due(t, status, due, sizeof due);
    int64_t level;
    if (call_int(t, "escalation_level", &level) && level > 0) {
        size_t used = strlen(status);
        if (snprintf(status + used, sizeof status - used, " L%lld", (long long)level) < 0)
            status[used] = '\0';
    }
    const char *cells[] = {ticket,     kind,  status,   priority, project,
                           department, owner, received, due,      summary};
    table_add(table, cells);
}

/* True when the reply's boolean key is true. */
static bool s_flag(const msgpack_object *body, const char *key)
{
    const msgpack_object *flag = kf_map_get(body, key);
    return flag && flag->type == MSGPACK_OBJECT_BOOLEAN && flag->via.boolean;
}

/* The array at key, or NULL when it is absent or empty. */
static const msgpack_object *s_items(const msgpack_object *body, const char *key)
{
    const msgpack_object *items = kf_map_get(body, key);
    return items && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size ? items : NULL;
}

/* Writes the int key of map into buf ("-" when absent). */
static const char *s_int_cell(const msgpack_object *map, const char *key, char *buf, size_t size)
{
    int64_t value;
    if (call_int(map, key, &value))
        snprintf(buf, size, "%lld", (long long)value);
    else
        snprintf(buf, size, "-");
    return buf;
}

/* Adds one open approval request as a row. */
static void s_approval_row(table_t *table, const msgpack_object *a)
{
    char request[24], ticket[64] = "", type[64], amount[32] = "", stage[24], promised[64] = "",
                      requested[32] = "-";
    s_int_cell(a, "request", request, sizeof request);
    call_str(a, "ticket", ticket, sizeof ticket);
    s_labelled(a, "type", KF_ENUM_REQUEST_TYPE, type, sizeof type);
    call_str(a, "amount", amount, sizeof amount);
    s_int_cell(a, "stage", stage, sizeof stage);
    call_str(a, "promised", promised, sizeof promised);
    int64_t at;
    if (call_int(a, "promised_at", &at) && at < kf_now_ms())
        strncat(promised, " (passed)", sizeof promised - strlen(promised) - 1);
    else if (call_int(a, "at_risk_at", &at))
        strncat(promised, " (at risk)", sizeof promised - strlen(promised) - 1);
    if (call_int(a, "requested_at", &at))
        tf_local(at, requested, sizeof requested);
    const char *cells[] = {request, ticket, type, amount, stage, requested, promised};
    table_add(table, cells);
}

/* Adds one survey answer as a row. */
static void s_survey_row(table_t *table, const msgpack_object *v)
{
    char survey[24], ticket[64] = "", kind[64], milestone[64], score[24], nps[24],
                     answered[32] = "-";
    s_int_cell(v, "survey", survey, sizeof survey);
    call_str(v, "ticket", ticket, sizeof ticket);
    s_labelled(v, "kind", KF_ENUM_SURVEY_KIND, kind, sizeof kind);
    s_labelled(v, "milestone", KF_ENUM_MILESTONE, milestone, sizeof milestone);
    s_int_cell(v, "score", score, sizeof score);
    s_int_cell(v, "nps", nps, sizeof nps);
    int64_t at;
    if (call_int(v, "answered_at", &at))
        tf_local(at, answered, sizeof answered);
    const char *cells[] = {survey, ticket, kind, milestone, score, nps, answered};
    table_add(table, cells);
}

/* Prints the array at key (when it has entries) under a title (when
   given), a row each, and a line when more_key (when given) says the
   reply left some out. */
static void s_section(const msgpack_object *body, const char *key, const char *more_key,
                      const char *title, const char *const *headers, size_t ncols,
                      void (*row)(table_t *table, const msgpack_object *item))
{
    const msgpack_object *items = s_items(body, key);
    if (!items)
        return;
    if (title)
        printf("\n%s\n", title);
    table_t *table = table_new(headers, ncols);
    for (uint32_t i = 0; i < items->via.array.size; i++)
        if (items->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            row(table, &items->via.array.ptr[i]);
    table_print(table, stdout, table_last_cols(table));
    table_destroy(&table);
    if (more_key && s_flag(body, more_key))
        printf("(more not shown: the %u above are the first)\n", items->via.array.size);
}

/* Prints the open approval requests and the survey answers. */
static void s_approvals_surveys(const msgpack_object *body)
{
    static const char *const approval_headers[] = {"REQUEST", "TICKET", "TYPE",    "AMOUNT",
                                                   "STAGE",   "ASKED",  "PROMISED"};
    static const char *const survey_headers[] = {"SURVEY", "TICKET", "KIND",    "MILESTONE",
                                                 "SCORE",  "NPS",    "ANSWERED"};
    s_section(body, "approvals", "approvals_more",
              "Open approvals 待审批 (amount in yuan):", approval_headers, 7, s_approval_row);
    s_section(body, "surveys", "surveys_more",
              "Survey answers 回访 (score 1-5, nps 0-10):", survey_headers, 7, s_survey_row);
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
    if (tickets->via.array.size == 0)
        printf("no tickets\n");
    s_section(body, "tickets", NULL, NULL, owner_ticket_headers, OWNER_TICKET_COLS,
              owner_ticket_row);
    char phone[64];
    if (s_flag(body, "more") && call_str(body, "phone", phone, sizeof phone))
        printf("more tickets: all of them, a page at a time: kefu tickets --phone %s\n", phone);
    s_approvals_surveys(body);
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
