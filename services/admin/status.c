/* kefu-admin — `kefu-admin status`: every daemon instance that reports to the
   store (the daemon_instance heartbeat, common/health.h), up or down.

   It reads the store directly rather than asking a daemon, so that it
   still answers when every daemon is down; whether an instance is up is
   judged by the store's clock alone (the daemon_status view). */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "admin.h"
#include "args.h"
#include "cli.h"
#include "output.h"
#include "table.h"
#include "timefmt.h"

#define STATUS_CMD "status"
#define STATUS_DATABASE_DEFAULT "postgresql:///kefu"
#define STATUS_ERROR_COLS 40 /* the last error's width when the terminal's is unknown */
#define STATUS_ERROR_MIN 20

enum { F_DATABASE, F_PRUNE, F_COUNT };

static const struct option s_options[] = {
    {"database", required_argument, NULL, ARGS_OPT(F_DATABASE)},
    {"prune", no_argument, NULL, ARGS_OPT(F_PRUNE)},
    ARGS_GLOBAL_OPTIONS};

/* The columns read, in this order, from the daemon_status view. */
enum {
    C_NAME,
    C_INSTANCE,
    C_HOST,
    C_PID,
    C_VERSION,
    C_STARTED,
    C_SEEN,
    C_HEARTBEAT,
    C_IN,
    C_OUT,
    C_ERRORS,
    C_BACKLOG,
    C_ERROR,
    C_ERROR_AT,
    C_METRICS,
    C_STATE,
    C_UPTIME_S,
    C_SEEN_AGO_S,
    C_ERROR_AGO_S
};

static const char *s_query =
    "SELECT name, instance, host, pid, version, kefu_ms(started_at), kefu_ms(last_seen), "
    "heartbeat_ms, events_in, events_out, errors, backlog, last_error, kefu_ms(last_error_at), "
    "metrics, state, uptime_s, seen_s_ago, error_s_ago FROM daemon_status "
    "ORDER BY name, host, pid";

/* `kefu-admin status --help`. */
static void s_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin status [--database URL] [--prune] [--json]\n\n"
            "Lists every daemon instance that reports to the store: daemon, instance\n"
            "(host:pid), state, version, uptime, when last seen, events in and out, backlog\n"
            "and last error. Each instance writes a heartbeat row every KEFU_HEARTBEAT_MS;\n"
            "it is up while its last heartbeat is at most three intervals old (by the\n"
            "store's clock), stopped after a clean stop, and down otherwise (killed, hung,\n"
            "or cut off from the store). The store is read directly, so this works while\n"
            "daemons are down. The bus has no store and is not listed: ask its\n"
            "GET /health (metrics port 9101 by default).\n\n"
            "Options:\n"
            "  --database URL     the store (default: $KEFU_DATABASE_URL or %s)\n"
            "  --prune            after listing, forget the instances shown as stopped or\n"
            "                     down (a restarted daemon reports under a new host:pid)\n",
            STATUS_DATABASE_DEFAULT);
    adm_json_help(out);
    fprintf(out,
            "\nWith --json: {\"instances\": [{\"daemon\", \"instance\", \"host\", \"pid\",\n"
            "\"state\", \"version\", \"started_at\", \"last_seen\" (ms since the epoch),\n"
            "\"uptime_s\", \"heartbeat_ms\", \"events_in\", \"events_out\", \"errors\",\n"
            "\"backlog\", \"last_error\", \"last_error_at\", \"metrics\"}], \"up\", \"down\",\n"
            "\"stopped\"} (absent values are null).\n\n"
            "Exit codes:\n"
            "  0  every instance listed is up or stopped (also when none has reported)\n"
            "  1  at least one instance is down\n"
            "  2  usage error\n"
            "  3  the store cannot be reached or read\n\n"
            "Example:\n"
            "  kefu-admin status || alert \"a kefu daemon is down\"\n");
}

/* Fails with the store's message: exit 3. */
static int s_store_error(const cli_t *cli, const char *what, const char *message)
{
    size_t len = strcspn(message, "\n");
    out_local_error(cli, "unavailable", NULL, "%s: %.*s", what, (int)len, message);
    return CLI_EXIT_TEMPORARY;
}

/* Forgets the instances of res that are not up; parameterised by their ids. */
static int s_prune(const cli_t *cli, PGconn *conn, PGresult *res)
{
    json_t *ids = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        if (strcmp(PQgetvalue(res, i, C_STATE), "up") != 0)
            json_array_append_new(ids, json_string(PQgetvalue(res, i, C_INSTANCE)));
    size_t count = json_array_size(ids);
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    const char *params[] = {text};
    PGresult *del = count ? PQexecParams(conn,
                                         "DELETE FROM daemon_instance WHERE instance IN "
                                         "(SELECT jsonb_array_elements_text($1::jsonb))",
                                         1, NULL, params, NULL, NULL, 0)
                          : NULL;
    free(text);
    if (del && PQresultStatus(del) != PGRES_COMMAND_OK) {
        int rc = s_store_error(cli, "could not prune daemon_instance", PQerrorMessage(conn));
        PQclear(del);
        return rc;
    }
    fprintf(stderr, "kefu: forgot %s instance(s) that were stopped or down\n",
            del ? PQcmdTuples(del) : "0");
    PQclear(del);
    return CLI_EXIT_OK;
}

/* A column as a JSON value: null when SQL NULL, an integer when asked. */
static json_t *s_json_col(PGresult *res, int row, int col, bool integer)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    const char *value = PQgetvalue(res, row, col);
    return integer ? json_integer(strtoll(value, NULL, 10)) : json_string(value);
}

static void s_print_json(PGresult *res, const int counts[3])
{
    static const struct {
        const char *key;
        int col;
        bool integer;
    } fields[] = {{"daemon", C_NAME, false},       {"instance", C_INSTANCE, false},
                  {"host", C_HOST, false},         {"pid", C_PID, true},
                  {"state", C_STATE, false},       {"version", C_VERSION, false},
                  {"started_at", C_STARTED, true}, {"last_seen", C_SEEN, true},
                  {"uptime_s", C_UPTIME_S, true},  {"heartbeat_ms", C_HEARTBEAT, true},
                  {"events_in", C_IN, true},       {"events_out", C_OUT, true},
                  {"errors", C_ERRORS, true},      {"backlog", C_BACKLOG, true},
                  {"last_error", C_ERROR, false},  {"last_error_at", C_ERROR_AT, true},
                  {"metrics", C_METRICS, false}};
    json_t *instances = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *item = json_object();
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            json_object_set_new(item, fields[f].key,
                                s_json_col(res, i, fields[f].col, fields[f].integer));
        json_array_append_new(instances, item);
    }
    json_t *root = json_object();
    json_object_set_new(root, "instances", instances);
    json_object_set_new(root, "up", json_integer(counts[0]));
    json_object_set_new(root, "down", json_integer(counts[1]));
    json_object_set_new(root, "stopped", json_integer(counts[2]));
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    json_decref(root);
}

/* Columns left for the last error on this terminal. */
static int s_error_cols(const table_t *table)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return STATUS_ERROR_COLS;
    int left = ws.ws_col - 1 - table_lead_width(table);
    return left > STATUS_ERROR_MIN ? left : STATUS_ERROR_MIN;
}

/* Seconds as a span ("3m 20s"), into buf. */
static const char *s_span_s(const char *seconds, char *buf, size_t size)
{
    tf_span(strtoll(seconds, NULL, 10) * 1000, buf, size);
    return buf;
}

static void s_print_table(PGresult *res)
{
    static const char *const headers[] = {"DAEMON", "INSTANCE", "STATE", "VERSION", "UPTIME",
                                          "SEEN",   "IN",       "OUT",   "BACKLOG", "LAST ERROR"};
    table_t *table = table_new(headers, sizeof headers / sizeof headers[0]);
    for (int i = 0; i < PQntuples(res); i++) {
        bool up = strcmp(PQgetvalue(res, i, C_STATE), "up") == 0;
        char uptime[32] = "", seen[48], span[32], error[400] = "";
        if (up)
            s_span_s(PQgetvalue(res, i, C_UPTIME_S), uptime, sizeof uptime);
        snprintf(seen, sizeof seen, "%s ago",
                 s_span_s(PQgetvalue(res, i, C_SEEN_AGO_S), span, sizeof span));
        if (!PQgetisnull(res, i, C_ERROR))
            snprintf(error, sizeof error, "%s ago: %s",
                     s_span_s(PQgetvalue(res, i, C_ERROR_AGO_S), span, sizeof span),
                     PQgetvalue(res, i, C_ERROR));
        const char *cells[] = {PQgetvalue(res, i, C_NAME),
                               PQgetvalue(res, i, C_INSTANCE),
                               PQgetvalue(res, i, C_STATE),
                               PQgetvalue(res, i, C_VERSION),
                               uptime,
                               seen,
                               PQgetvalue(res, i, C_IN),
                               PQgetvalue(res, i, C_OUT),
                               PQgetvalue(res, i, C_BACKLOG),
                               error};
        table_add(table, cells);
    }
    table_print(table, stdout, s_error_cols(table));
    table_destroy(&table);
}

/* Parses argv (args_parse keeps only options with a value, and --prune has
   none). Returns ARGS_OK, ARGS_HELP or an exit code. */
static int s_parse(cli_t *cli, int argc, char **argv, const char **database, bool *prune)
{
    int c;
    optind = 0; /* glibc: start afresh, as main has parsed before us */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", s_options, NULL)) != -1) {
        if (c == 'h') {
            s_help(stdout);
            return ARGS_HELP;
        }
        int global = args_global(cli, STATUS_CMD, c, optarg);
        if (global < 0)
            return CLI_EXIT_USAGE;
        if (global > 0)
            continue;
        if (c == ARGS_OPT(F_DATABASE)) {
            if (args_text(cli, STATUS_CMD, "database", optarg, 1024, true) != 0)
                return CLI_EXIT_USAGE;
            *database = optarg;
        } else if (c == ARGS_OPT(F_PRUNE))
            *prune = true;
        else
            return args_bad_option(cli, STATUS_CMD, c, argv);
    }
    return args_operands(cli, STATUS_CMD, argc, argv, 0, NULL);
}

int cmd_status(cli_t *cli, int argc, char **argv)
{
    const char *url = NULL;
    bool prune = false;
    int rc = s_parse(cli, argc, argv, &url, &prune);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    if (!url) {
        const char *env = getenv("KEFU_DATABASE_URL");
        url = env && *env ? env : STATUS_DATABASE_DEFAULT;
    }
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *conn_values[] = {url, "kefu-status", "5", NULL};
    PGconn *conn = PQconnectdbParams(keys, conn_values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = s_store_error(cli, "cannot connect to the store (KEFU_DATABASE_URL or --database)",
                           PQerrorMessage(conn));
        PQfinish(conn);
        return rc;
    }
    PGresult *res = PQexecParams(conn, s_query, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0)
            rc = s_store_error(cli,
                               "the store has no daemon_status view (apply the migrations "
                               "with deploy/migrate.sh)",
                               PQerrorMessage(conn));
        else
            rc = s_store_error(cli, "cannot read daemon_status", PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        return rc;
    }
    int counts[3] = {0, 0, 0}; /* up, down, stopped */
    for (int i = 0; i < PQntuples(res); i++) {
        const char *state = PQgetvalue(res, i, C_STATE);
        counts[strcmp(state, "up") == 0 ? 0 : strcmp(state, "down") == 0 ? 1 : 2]++;
    }
    if (cli->json)
        s_print_json(res, counts);
    else if (PQntuples(res) == 0)
        printf("no daemon instance has reported to this store yet\n");
    else
        s_print_table(res);
    fflush(stdout);
    rc = counts[1] > 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
    if (prune) {
        int prune_rc = s_prune(cli, conn, res);
        if (prune_rc != CLI_EXIT_OK)
            rc = prune_rc;
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}
