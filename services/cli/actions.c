/* kefu client — the commands that act on one ticket: `kefu respond`,
   `kefu transfer` and `kefu resolve`, each printing a one-line
   confirmation. */
#include <string.h>

#include "args.h"
#include "call.h"
#include "cli.h"
#include "timefmt.h"

#define ACTION_MAX_FIELDS 2

/* One action: its command, request type, options and confirmation. */
typedef struct {
    const char *cmd;
    const char *type;
    const args_field_t *fields; /* the options, in ARGS_OPT order */
    size_t nfields;
    const struct option *options;
    void (*help)(FILE *out);
    void (*confirm)(const msgpack_object *body, const char *ticket);
} action_t;

/* A request being made: the action, the ticket and the option values. */
typedef struct {
    const action_t *action;
    const char *ticket;
    const char *values[ACTION_MAX_FIELDS];
} request_t;

static const args_field_t s_note_fields[] = {{"note", KF_LIM_NOTE, false, NULL}};
static const args_field_t s_transfer_fields[] = {{"to", KF_LIM_STAFF, true, NULL},
                                                 {"reason", KF_LIM_REASON, true, NULL}};

static const struct option s_note_options[] = {{"note", required_argument, NULL, ARGS_OPT(0)},
                                               ARGS_GLOBAL_OPTIONS};
static const struct option s_transfer_options[] = {{"to", required_argument, NULL, ARGS_OPT(0)},
                                                   {"reason", required_argument, NULL, ARGS_OPT(1)},
                                                   ARGS_GLOBAL_OPTIONS};

/* `kefu respond --help`. */
static void s_respond_help(FILE *out)
{
    fprintf(out, "Usage: kefu respond TICKET [--note TEXT]\n\n"
                 "Records a response to the owner: the first one stops the first-response\n"
                 "clock, later ones add to the history.\n\n"
                 "Options:\n"
                 "  --note TEXT        what was said or done (at most 2000 bytes)\n\n");
    args_global_help(out);
    fprintf(
        out,
        "\nExample:\n"
        "  kefu --cert eng07.cert respond KF-2026-000123 --note '已电话联系业主，明早上门查看'\n");
}

/* `kefu transfer --help`. */
static void s_transfer_help(FILE *out)
{
    fprintf(out, "Usage: kefu transfer TICKET --to STAFF --reason TEXT\n\n"
                 "Hands the ticket to another owner; the reason is kept in its history.\n\n"
                 "Options:\n"
                 "  --to STAFF         the new owner's staff id\n"
                 "  --reason TEXT      why, not blank (at most 500 bytes)\n\n");
    args_global_help(out);
    fprintf(
        out,
        "\nExample:\n"
        "  kefu --cert cs01.cert transfer KF-2026-000123 --to pm02 --reason '属物业维修范围'\n");
}

/* `kefu resolve --help`. */
static void s_resolve_help(FILE *out)
{
    fprintf(out, "Usage: kefu resolve TICKET [--note TEXT]\n\n"
                 "Marks the ticket resolved, which stops its resolution clock.\n\n"
                 "Options:\n"
                 "  --note TEXT        how it was resolved (at most 2000 bytes)\n\n");
    args_global_help(out);
    fprintf(
        out,
        "\nExample:\n"
        "  kefu --cert eng07.cert resolve KF-2026-000123 --note '防水层已重做，闭水试验通过'\n");
}

/* Prints "TICKET WHAT at TIME" from the reply's time field. */
static void s_confirm_at(const msgpack_object *body, const char *ticket, const char *what,
                         const char *key)
{
    char when[32] = "";
    int64_t at;
    if (call_int(body, key, &at))
        tf_local(at, when, sizeof when);
    printf("%s %s%s%s\n", ticket, what, when[0] ? " at " : "", when);
}

/* "KF-… responded; first response at …". */
static void s_respond_confirm(const msgpack_object *body, const char *ticket)
{
    s_confirm_at(body, ticket, "responded; first response", "responded_at");
}

/* "KF-… resolved at …". */
static void s_resolve_confirm(const msgpack_object *body, const char *ticket)
{
    s_confirm_at(body, ticket, "resolved", "resolved_at");
}

/* "KF-… transferred to STAFF (department)". */
static void s_transfer_confirm(const msgpack_object *body, const char *ticket)
{
    char owner[128] = "", department[128] = "";
    call_str(body, "owner", owner, sizeof owner);
    call_str(body, "department", department, sizeof department);
    printf("%s transferred to %s%s%s%s\n", ticket, owner, department[0] ? " (" : "", department,
           department[0] ? ")" : "");
}

static const action_t s_respond = {"respond",      "ticket.respond", s_note_fields,    1,
                                   s_note_options, s_respond_help,   s_respond_confirm};
static const action_t s_transfer = {"transfer",         "ticket.transfer", s_transfer_fields, 2,
                                    s_transfer_options, s_transfer_help,   s_transfer_confirm};
static const action_t s_resolve = {"resolve",      "ticket.resolve", s_note_fields,    1,
                                   s_note_options, s_resolve_help,   s_resolve_confirm};

/* The request body: the ticket and the options given. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    const request_t *req = (const request_t *)arg;
    kf_body_t *body = call_body(cli);
    kf_body_str(body, "ticket", req->ticket);
    for (size_t i = 0; i < req->action->nfields; i++)
        if (req->values[i])
            kf_body_str(body, req->action->fields[i].name, req->values[i]);
    return body;
}

/* Parses and checks argv; returns ARGS_OK, ARGS_HELP or an exit code. */
static int s_parse(cli_t *cli, int argc, char **argv, request_t *req)
{
    const action_t *a = req->action;
    int rc = args_parse(cli, a->cmd, argc, argv, a->options, a->help, req->values, a->nfields);
    if (rc == ARGS_OK)
        rc = args_ticket(cli, a->cmd, argc, argv, &req->ticket);
    if (rc == ARGS_OK)
        rc = args_fields(cli, a->cmd, a->fields, req->values, a->nfields);
    if (rc == ARGS_OK)
        rc = args_cert(cli, a->cmd);
    return rc;
}

/* Runs an action and confirms it on one line. */
static int s_run(const action_t *action, cli_t *cli, int argc, char **argv)
{
    request_t req = {.action = action, .ticket = NULL, .values = {NULL}};
    int rc = s_parse(cli, argc, argv, &req);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = action->type, .corr = req.ticket, .build = s_body, .arg = &req};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json) {
        char ticket[64];
        if (!call_str(kf_env_body(reply), "ticket", ticket, sizeof ticket) || !ticket[0])
            snprintf(ticket, sizeof ticket, "%s", req.ticket);
        action->confirm(kf_env_body(reply), ticket);
    }
    kf_env_destroy(&reply);
    return rc;
}

int cmd_respond(cli_t *cli, int argc, char **argv)
{
    return s_run(&s_respond, cli, argc, argv);
}

int cmd_transfer(cli_t *cli, int argc, char **argv)
{
    return s_run(&s_transfer, cli, argc, argv);
}

int cmd_resolve(cli_t *cli, int argc, char **argv)
{
    return s_run(&s_resolve, cli, argc, argv);
}
