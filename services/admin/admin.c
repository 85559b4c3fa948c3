/* kefu-admin — what the operator commands share: the store, COPY, output
   and the common options. */
#include "admin.h"

#include <assert.h>
#include <czmq.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "output.h"
#include "timefmt.h"

#define ADM_DATABASE_DEFAULT "postgresql:///kefu"

/* ---- store -------------------------------------------------------------- */

/* The first line of a libpq message, without its "ERROR:  " prefix. */
static void s_first_line(const char *message, char *out, size_t size)
{
    if (strncmp(message, "ERROR:  ", 8) == 0)
        message += 8;
    size_t len = strcspn(message, "\n");
    snprintf(out, size, "%.*s", (int)len, message);
}

/* The URL with its password hidden, for messages. */
static void s_hide_password(const char *url, char *out, size_t size)
{
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (strstr(url, "password="))
        snprintf(out, size, "%s", "(a conninfo string with a password)");
    else if (at && colon && colon < at)
        snprintf(out, size, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, size, "%s", url);
}

PGconn *adm_connect(const cli_t *cli, const adm_opts_t *opts)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *values[] = {opts->database, "kefu-admin", "10", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char why[512], url[512];
        s_first_line(PQerrorMessage(conn), why, sizeof why);
        s_hide_password(opts->database, url, sizeof url);
        PQfinish(conn);
        adm_fail(cli, NULL, CLI_EXIT_TEMPORARY,
                 "cannot connect to the store at %s (KEFU_DATABASE_URL or --database): %s", url,
                 why);
        return NULL;
    }
    /* Notices (e.g. from IF NOT EXISTS) are not for the operator. */
    PGresult *res = PQexec(conn, "SET client_min_messages = warning");
    PQclear(res);
    return conn;
}

PGresult *adm_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *why,
                   size_t why_size)
{
    /* KEFU_ADMIN_TRACE=1 shows each statement's time on stderr. */
    static int trace = -1;
    if (trace < 0)
        trace = getenv("KEFU_ADMIN_TRACE") && strcmp(getenv("KEFU_ADMIN_TRACE"), "1") == 0;
    int64_t start = trace ? zclock_usecs() : 0;
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (trace)
        fprintf(stderr, "kefu-admin: trace: %8.1f ms  %.70s\n",
                (double)(zclock_usecs() - start) / 1000.0, sql);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return res;
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (primary)
        snprintf(why, why_size, "%s%s%s", primary, detail ? ": " : "", detail ? detail : "");
    else
        s_first_line(PQerrorMessage(conn), why, why_size);
    PQclear(res);
    return NULL;
}

int adm_do(PGconn *conn, const char *sql, int nparams, const char *const *params, char *why,
           size_t why_size)
{
    PGresult *res = adm_exec(conn, sql, nparams, params, why, why_size);
    PQclear(res);
    return res ? 0 : -1;
}

int adm_copy(PGconn *conn, const char *copy_sql, const char *data, size_t size, char *why,
             size_t why_size)
{
    PGresult *res = PQexec(conn, copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        s_first_line(PQresultErrorMessage(res), why, why_size);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    /* In pieces: libpq buffers each one. */
    const size_t chunk = 1 << 20;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (PQputCopyData(conn, data + off, (int)n) != 1) {
            s_first_line(PQerrorMessage(conn), why, why_size);
            return -1;
        }
    }
    if (PQputCopyEnd(conn, NULL) != 1) {
        s_first_line(PQerrorMessage(conn), why, why_size);
        return -1;
    }
    int rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            s_first_line(PQresultErrorMessage(res), why, why_size);
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

int adm_store_rejects(PGconn *conn, const char *table, adm_problems_t *problems, size_t *rejected,
                      char *why, size_t why_size)
{
    /* table is one of the importers' own temporary tables, never input. */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT code, count(*) FROM %s GROUP BY code ORDER BY code", table);
    PGresult *groups = adm_exec(conn, sql, 0, NULL, why, why_size);
    if (!groups)
        return -1;
    char limit[24];
    snprintf(limit, sizeof limit, "%zu",
             problems->max > problems->count ? problems->max - problems->count : 0);
    const char *params[] = {limit};
    snprintf(sql, sizeof sql,
             "SELECT line, field, code, message FROM %s ORDER BY line LIMIT $1::bigint", table);
    PGresult *rows = adm_exec(conn, sql, 1, params, why, why_size);
    if (!rows) {
        PQclear(groups);
        return -1;
    }
    for (int i = 0; i < PQntuples(rows); i++)
        adm_problem(problems, (size_t)atoll(PQgetvalue(rows, i, 0)), PQgetvalue(rows, i, 1),
                    PQgetvalue(rows, i, 2), "%s", PQgetvalue(rows, i, 3));
    for (int g = 0; g < PQntuples(groups); g++) {
        const char *code = PQgetvalue(groups, g, 0);
        long long n = atoll(PQgetvalue(groups, g, 1));
        *rejected += (size_t)n;
        for (int i = 0; i < PQntuples(rows); i++)
            if (strcmp(PQgetvalue(rows, i, 2), code) == 0)
                n--;
        if (n > 0)
            adm_problems_count(problems, code, (size_t)n);
    }
    PQclear(rows);
    PQclear(groups);
    return 0;
}

/* Makes room for n more bytes in a growing buffer. */
static void s_reserve(char **buf, size_t *len, size_t *cap, size_t n)
{
    if (*len + n + 1 <= *cap)
        return;
    size_t want = *cap ? *cap : 1 << 16;
    while (want < *len + n + 1)
        want *= 2;
    char *grown = (char *)realloc(*buf, want);
    assert(grown);
    *buf = grown;
    *cap = want;
}

void adm_copy_field(char **buf, size_t *len, size_t *cap, const char *value, bool last)
{
    if (!value) {
        s_reserve(buf, len, cap, 3);
        memcpy(*buf + *len, "\\N", 2);
        *len += 2;
    } else {
        size_t n = strlen(value);
        s_reserve(buf, len, cap, 2 * n + 1);
        for (const char *p = value; *p; p++) {
            char c = *p;
            const char *esc = c == '\\'   ? "\\\\"
                              : c == '\t' ? "\\t"
                              : c == '\n' ? "\\n"
                              : c == '\r' ? "\\r"
                                          : NULL;
            if (esc) {
                memcpy(*buf + *len, esc, 2);
                *len += 2;
            } else {
                (*buf)[(*len)++] = c;
            }
        }
    }
    s_reserve(buf, len, cap, 1);
    (*buf)[(*len)++] = last ? '\n' : '\t';
    (*buf)[*len] = '\0';
}

void adm_sha1(const void *data, size_t size, char out[41])
{
    zdigest_t *digest = zdigest_new();
    zdigest_update(digest, (const byte *)data, size);
    snprintf(out, 41, "%s", zdigest_string(digest));
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    zdigest_destroy(&digest);
}

/* ---- output -------------------------------------------------------------- */

int adm_fail(const cli_t *cli, const char *cmd, int code, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    const char *name = code == CLI_EXIT_TEMPORARY ? "unavailable"
                       : code == CLI_EXIT_USAGE   ? "usage"
                                                  : "failed";
    out_local_error(cli, name, NULL, "%s%s%s", cmd ? cmd : "", cmd ? ": " : "", message);
    return code;
}

void adm_print_json(json_t *json)
{
    out_print_json(json);
}

/* ---- options ------------------------------------------------------------- */

void adm_json_help(FILE *out)
{
    fprintf(out, "  --json             print the result as one line of JSON (errors too)\n"
                 "  -h, --help         show this help\n");
}

void adm_options_help(FILE *out)
{
    fprintf(out,
            "  --database URL     the store (default: $KEFU_DATABASE_URL or %s)\n"
            "  --check            validate against the store, apply nothing\n"
            "  --max-errors N     list at most N problems (default %d; all are counted)\n"
            "  --json             print the result as one line of JSON\n"
            "  -h, --help         show this help\n",
            ADM_DATABASE_DEFAULT, ADMIN_MAX_ERRORS);
}

enum { ADM_OPT_DATABASE = ARG_FIRST_LOCAL, ADM_OPT_CHECK, ADM_OPT_MAX_ERRORS, ADM_OPT_LOCAL };

int adm_parse(cli_t *cli, const char *cmd, int argc, char **argv, void (*help)(FILE *out),
              adm_opts_t *opts, const char *const *local, const bool *flag, const char **values,
              size_t nlocal)
{
    const char *env = getenv("KEFU_DATABASE_URL");
    opts->database = env && *env ? env : ADM_DATABASE_DEFAULT;
    opts->check = false;
    opts->max_errors = ADMIN_MAX_ERRORS;
    struct option options[32] = {{"database", required_argument, NULL, ADM_OPT_DATABASE},
                                 {"check", no_argument, NULL, ADM_OPT_CHECK},
                                 {"max-errors", required_argument, NULL, ADM_OPT_MAX_ERRORS}};
    size_t n = 3;
    for (size_t i = 0; i < nlocal && n < 24; i++) {
        options[n++] = (struct option){local[i], flag[i] ? no_argument : required_argument, NULL,
                                       (int)(ADM_OPT_LOCAL + i)};
        values[i] = NULL;
    }
    const struct option global[] = {ARGS_GLOBAL_OPTIONS};
    for (size_t i = 0; i < sizeof global / sizeof global[0]; i++)
        options[n++] = global[i];
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return ARGS_HELP;
        }
        if (c == ADM_OPT_DATABASE) {
            if (args_text(cli, cmd, "database", optarg, 1024, true) != 0)
                return CLI_EXIT_USAGE;
            opts->database = optarg;
        } else if (c == ADM_OPT_CHECK) {
            opts->check = true;
        } else if (c == ADM_OPT_MAX_ERRORS) {
            if (args_number(optarg, 1, 100000, &opts->max_errors) != 0)
                return args_usage(cli, cmd, "max-errors",
                                  "--max-errors '%s' is not a number in 1..100000", optarg);
        } else if (c >= ADM_OPT_LOCAL && c < ADM_OPT_LOCAL + (int)nlocal) {
            values[c - ADM_OPT_LOCAL] = flag[c - ADM_OPT_LOCAL] ? "" : optarg;
        } else {
            int global_rc = args_global(cli, cmd, c, optarg);
            if (global_rc < 0)
                return CLI_EXIT_USAGE;
            if (global_rc == 0)
                return args_bad_option(cli, cmd, c, argv);
        }
    }
    return ARGS_OK;
}

/* ---- result rows ---------------------------------------------------------- */

const char *adm_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

void adm_time(const PGresult *res, int row, int col, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!PQgetisnull(res, row, col))
        tf_local(strtoll(PQgetvalue(res, row, col), NULL, 10), buf, size);
}

void adm_print_rows(const PGresult *res)
{
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *row = json_object();
        for (int c = 0; c < PQnfields(res); c++) {
            const char *name = PQfname(res, c);
            if (PQgetisnull(res, i, c))
                json_object_set_new(row, name, json_null());
            else if (strcmp(name, "id") == 0 || strcmp(name, "attempts") == 0 ||
                     strstr(name, "_ms"))
                json_object_set_new(row, name,
                                    json_integer(strtoll(PQgetvalue(res, i, c), NULL, 10)));
            else
                json_object_set_new(row, name, json_string(PQgetvalue(res, i, c)));
        }
        json_array_append_new(rows, row);
    }
    char *text = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    json_decref(rows);
}
