/* kefu-admin — `kefu-admin notification`: the operator's view of the notifier's
   messages, and the resend of a failed one. Like an admin tool it talks to
   PostgreSQL directly (KEFU_DATABASE_URL), not to a daemon: the store holds
   every notification, and a resend is only a change of its row, which any
   running kefu-notifier then picks up (services/notifier/README.md). */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "args.h"
#include "cli.h"
#include "output.h"
#include "table.h"
#include "timefmt.h"

#define NOTE_CMD "notification"
#define NOTE_LIMIT_MAX 1000
#define NOTE_DATABASE_DEFAULT "postgresql:///kefu"

static const char *const s_statuses[] = {"pending", "sending", "sent", "failed", NULL};

enum { F_STATUS, F_TICKET, F_LIMIT, F_DATABASE, F_COUNT };

static const struct option s_options[] = {
    {"status", required_argument, NULL, ARGS_OPT(F_STATUS)},
    {"ticket", required_argument, NULL, ARGS_OPT(F_TICKET)},
    {"limit", required_argument, NULL, ARGS_OPT(F_LIMIT)},
    {"database", required_argument, NULL, ARGS_OPT(F_DATABASE)},
    ARGS_GLOBAL_OPTIONS};

/* `kefu-admin notification --help`. */
static void s_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin notification list [--status S] [--ticket NO] [--limit N]\n"
            "       kefu-admin notification show ID\n"
            "       kefu-admin notification resend ID\n\n"
            "The messages kefu-notifier sends (SMS to owners, e-mail to staff), read from\n"
            "the store. `list` shows the newest first; `show` one message with its address\n"
            "and text; `resend` puts a failed message back in the queue, addressed to the\n"
            "recipient's current phone or e-mail, with a fresh count of attempts (a running\n"
            "notifier sends it within a moment). This is an operator tool: it connects to\n"
            "PostgreSQL directly, as --database or KEFU_DATABASE_URL say (default %s).\n\n"
            "Options:\n"
            "  --status S         pending, sending, sent or failed\n"
            "  --ticket NO        the messages about this ticket\n"
            "  --limit N          at most N messages, 1..%d (default 50)\n"
            "  --database URL     the store (libpq URL)\n",
            NOTE_DATABASE_DEFAULT, NOTE_LIMIT_MAX);
    adm_json_help(out);
    fprintf(out, "\nExit codes: 0 done, 1 refused (no such message, not failed, no address),\n"
                 "2 usage error, 3 the store is unreachable.\n\n"
                 "Example:\n"
                 "  kefu-admin notification list --status failed\n"
                 "  kefu-admin notification resend 1234\n");
}

/* Connects to the store; NULL after reporting. */
static PGconn *s_connect(const cli_t *cli, const char *database)
{
    const char *url = database ? database : getenv("KEFU_DATABASE_URL");
    if (!url || !*url)
        url = NOTE_DATABASE_DEFAULT;
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", PQerrorMessage(conn));
        message[strcspn(message, "\n")] = '\0';
        out_local_error(cli, "unavailable", NULL, "notification: cannot reach the store: %s",
                        message);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Runs one parameterised statement; NULL after reporting. */
static PGresult *s_exec(const cli_t *cli, PGconn *conn, const char *sql, int nparams,
                        const char *const *params)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", PQresultErrorMessage(res));
        message[strcspn(message, "\n")] = '\0';
        out_local_error(cli, "unavailable", NULL, "notification: %s", message);
        PQclear(res);
        return NULL;
    }
    return res;
}

static const char s_list_sql[] =
    "SELECT id, status, channel, recipient_kind, recipient_id, ticket_no, event_type, attempts, "
    "kefu_ms(CASE status WHEN 'sent' THEN sent_at WHEN 'failed' THEN failed_at "
    "ELSE next_attempt_at END) AS at_ms, last_error "
    "FROM notification WHERE ($1::text IS NULL OR status = $1) "
    "AND ($2::text IS NULL OR ticket_no = $2) ORDER BY id DESC LIMIT $3::int";

static int s_list(cli_t *cli, PGconn *conn, const char *const *values)
{
    long limit = 50;
    if (values[F_LIMIT] && args_number(values[F_LIMIT], 1, NOTE_LIMIT_MAX, &limit) != 0)
        return args_usage(cli, NOTE_CMD, "limit", "--limit '%s' is not a number in 1..%d",
                          values[F_LIMIT], NOTE_LIMIT_MAX);
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    const char *params[] = {values[F_STATUS], values[F_TICKET], limit_text};
    PGresult *res = s_exec(cli, conn, s_list_sql, 3, params);
    if (!res)
        return CLI_EXIT_TEMPORARY;
    if (cli->json)
        adm_print_rows(res);
    else if (PQntuples(res) == 0)
        printf("no notifications match\n");
    else {
        static const char *const headers[] = {"ID",    "STATUS", "CHANNEL", "RECIPIENT", "TICKET",
                                              "EVENT", "TRIES",  "AT",      "ERROR"};
        table_t *table = table_new(headers, sizeof headers / sizeof headers[0]);
        for (int i = 0; i < PQntuples(res); i++) {
            char recipient[160], at[32];
            snprintf(recipient, sizeof recipient, "%s:%s", adm_text(res, i, 3),
                     adm_text(res, i, 4));
            adm_time(res, i, 8, at, sizeof at);
            const char *cells[] = {
                adm_text(res, i, 0), adm_text(res, i, 1), adm_text(res, i, 2), recipient,
                adm_text(res, i, 5), adm_text(res, i, 6), adm_text(res, i, 7), at,
                adm_text(res, i, 9)};
            table_add(table, cells);
        }
        table_print(table, stdout, 60);
        table_destroy(&table);
    }
    PQclear(res);
    return CLI_EXIT_OK;
}

static const char s_show_sql[] =
    "SELECT id, status, event_type, event_id::text AS event, ticket_no, recipient_kind, "
    "recipient_id, channel, address, lang, via, attempts, kefu_ms(created_at) AS created_ms, "
    "kefu_ms(next_attempt_at) AS next_attempt_ms, kefu_ms(sent_at) AS sent_ms, "
    "kefu_ms(failed_at) AS failed_ms, last_error, resends, resent_by, subject, body "
    "FROM notification WHERE id = $1::bigint";

static int s_show(cli_t *cli, PGconn *conn, const char *id)
{
    const char *params[] = {id};
    PGresult *res = s_exec(cli, conn, s_show_sql, 1, params);
    if (!res)
        return CLI_EXIT_TEMPORARY;
    if (PQntuples(res) == 0) {
        PQclear(res);
        out_reply_error(cli, "not_found", "no such notification", "id");
        return CLI_EXIT_REFUSED;
    }
    if (cli->json)
        adm_print_rows(res);
    else
        for (int c = 0; c < PQnfields(res); c++) {
            char at[32];
            const char *name = PQfname(res, c);
            if (strstr(name, "_ms")) {
                adm_time(res, 0, c, at, sizeof at);
                out_field(name, at);
            } else
                out_field(name, adm_text(res, 0, c));
        }
    PQclear(res);
    return CLI_EXIT_OK;
}

static int s_resend(cli_t *cli, PGconn *conn, const char *id)
{
    (void)cli;
    const char *actor = getenv("USER");
    const char *params[] = {id, actor && *actor ? actor : "operator"};
    PGresult *res = s_exec(cli, conn,
                           "SELECT err_code, id, status, channel, recipient_kind, recipient_id, "
                           "ticket_no, resends FROM kefu_notification_resend($1::bigint, $2)",
                           2, params);
    if (!res)
        return CLI_EXIT_TEMPORARY;
    int rc = CLI_EXIT_OK;
    const char *code = adm_text(res, 0, 0);
    if (strcmp(code, "not_found") == 0) {
        out_reply_error(cli, code, "no such notification", "id");
        rc = CLI_EXIT_REFUSED;
    } else if (strcmp(code, "conflict") == 0) {
        char message[128];
        snprintf(message, sizeof message, "notification %s is %s, not failed", id,
                 adm_text(res, 0, 2));
        out_reply_error(cli, code, message, "id");
        rc = CLI_EXIT_REFUSED;
    } else if (strcmp(code, "no_address") == 0) {
        char message[160];
        snprintf(message, sizeof message, "%s %s has no %s yet: record it first",
                 adm_text(res, 0, 4), adm_text(res, 0, 5),
                 strcmp(adm_text(res, 0, 3), "sms") == 0 ? "phone" : "e-mail address");
        out_reply_error(cli, code, message, "id");
        rc = CLI_EXIT_REFUSED;
    } else if (cli->json)
        adm_print_rows(res);
    else
        printf("notification %s queued again (%s to %s:%s, resend %s)\n", id, adm_text(res, 0, 3),
               adm_text(res, 0, 4), adm_text(res, 0, 5), adm_text(res, 0, 7));
    PQclear(res);
    return rc;
}

int cmd_notification(cli_t *cli, int argc, char **argv)
{
    if (argc < 2)
        return args_usage(cli, NOTE_CMD, NULL, "missing the subcommand (list, show, resend)");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    bool list = strcmp(sub, "list") == 0;
    if (!list && strcmp(sub, "show") != 0 && strcmp(sub, "resend") != 0)
        return args_usage(cli, NOTE_CMD, NULL, "unknown subcommand '%s' (list, show, resend)", sub);
    const char *values[F_COUNT] = {NULL};
    int rc = args_parse(cli, NOTE_CMD, argc - 1, argv + 1, s_options, s_help, values, F_COUNT);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    if (list && values[F_STATUS] &&
        args_enum(cli, NOTE_CMD, "status", values[F_STATUS], s_statuses) != 0)
        return CLI_EXIT_USAGE;
    if (list && values[F_TICKET] && args_text(cli, NOTE_CMD, "ticket", values[F_TICKET], 32, true))
        return CLI_EXIT_USAGE;
    long id = 0;
    if (list && (rc = args_operands(cli, NOTE_CMD, argc - 1, argv + 1, 0, NULL)) != ARGS_OK)
        return rc;
    if (!list) {
        rc = args_operands(cli, NOTE_CMD, argc - 1, argv + 1, 1, "ID");
        if (rc != ARGS_OK)
            return rc;
        if (args_number(argv[optind + 1], 1, 0x7fffffffffffffffL, &id) != 0)
            return args_usage(cli, NOTE_CMD, "id", "'%s' is not a notification id",
                              argv[optind + 1]);
    }
    PGconn *conn = s_connect(cli, values[F_DATABASE]);
    if (!conn)
        return CLI_EXIT_TEMPORARY;
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%ld", id);
    if (list)
        rc = s_list(cli, conn, values);
    else if (strcmp(sub, "show") == 0)
        rc = s_show(cli, conn, id_text);
    else
        rc = s_resend(cli, conn, id_text);
    PQfinish(conn);
    return rc;
}
