/* kefu-admin — `kefu-admin token create|list|revoke|uses`: integration
   tokens for machines (a phone system, a chat bot) that call kefu-gateway
   (migration 020, proto/security.md), and `kefu-admin calls`: the caller
   log the phone system's events make. A token is shown once, when it is
   made; the store keeps only its SHA-256. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_token.h"
#include "token.h"
#include "args.h"
#include "table.h"

#define TOKEN_CMD "token"
#define TOKEN_SUBS "create, list, revoke, uses"

static void s_token_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin token create NAME --scope calls|submit [--scope ...] [--as STAFF]\n"
            "       kefu-admin token list [--all]\n"
            "       kefu-admin token revoke NAME\n"
            "       kefu-admin token uses NAME [--limit N]\n\n"
            "Integration tokens let a machine call kefu-gateway's API: a phone system\n"
            "reports calls (scope calls, POST /api/v1/calls), a chat bot or web form\n"
            "submits tickets (scope submit) as the staff member given with --as (the\n"
            "tickets' creator). `create` prints the new token once: it cannot be shown\n"
            "again, the store keeps only its SHA-256. `revoke` stops it at its next use.\n"
            "Every use is logged: `uses` lists the latest, `list` counts the last 24 h.\n"
            "NAME: a-z first, then a-z, 0-9, '.', '_', '-' (up to 64); a revoked token\n"
            "keeps its name.\n\n"
            "  --scope calls|submit  what the token may do (repeat, or calls,submit)\n"
            "  --as STAFF         the active staff member a submit token acts as\n"
            "  --all              list revoked tokens too\n"
            "  --limit N          uses to list (default 20, at most 1000)\n"
            "  --database URL     the store (default: $KEFU_DATABASE_URL)\n"
            "  --json             print the result as one line of JSON\n"
            "  -h, --help         show this help\n\n"
            "Example:\n"
            "  kefu-admin token create pbx --scope calls\n"
            "  kefu-admin token create wechat --scope submit --as wechat.bot\n"
            "  kefu-admin token uses pbx --limit 5\n");
}

/* Adds every --scope of argv (also "--scope=X" and comma lists) to
   *scopes: adm_parse keeps only the last. Returns 0, or -1 with the bad
   one in *bad. */
static int s_scopes(int argc, char **argv, unsigned *scopes, const char **bad)
{
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(argv[i], "--scope=", 8) == 0)
            value = argv[i] + 8;
        if (!value)
            continue;
        char copy[64];
        snprintf(copy, sizeof copy, "%s", value);
        char *save = NULL;
        for (char *one = strtok_r(copy, ",", &save); one; one = strtok_r(NULL, ",", &save))
            if (adm_token_scope(one, scopes) != 0) {
                *bad = value;
                return -1;
            }
        if (!*value) {
            *bad = value;
            return -1;
        }
    }
    return 0;
}

/* Prints a new token once, with the warning. */
static void s_created_print(const cli_t *cli, const char *name, unsigned scopes,
                            const char *acts_as, const char *token)
{
    if (cli->json) {
        json_t *list = json_array();
        if (scopes & ADM_SCOPE_CALLS)
            json_array_append_new(list, json_string("calls"));
        if (scopes & ADM_SCOPE_SUBMIT)
            json_array_append_new(list, json_string("submit"));
        adm_print_json(json_pack("{s:s, s:o, s:s?, s:s}", "name", name, "scopes", list, "acts_as",
                                 acts_as, "token", token));
        return;
    }
    char sql[32];
    adm_token_scopes_sql(scopes, sql, sizeof sql);
    sql[strlen(sql) - 1] = '\0';
    printf("token %s (scopes %s%s%s):\n%s\n", name, sql + 1, acts_as ? "; acts as " : "",
           acts_as ? acts_as : "", token);
    fprintf(stderr, "kefu-admin: token: copy it now: it cannot be shown again (the store keeps "
                    "only its hash)\n");
}

/* Checks what `token create` was given. Returns 0 or a usage exit code. */
static int s_create_check(cli_t *cli, const char *name, unsigned scopes, const char *acts_as)
{
    if (!adm_token_name_ok(name))
        return args_usage(cli, TOKEN_CMD, "name",
                          "'%.80s' is not a token name (a-z first, then a-z, 0-9, '.', '_', '-'; "
                          "up to 64)",
                          name);
    if (!scopes)
        return args_usage(cli, TOKEN_CMD, "scope", "give --scope calls and/or --scope submit");
    if ((scopes & ADM_SCOPE_SUBMIT) && !acts_as)
        return args_usage(cli, TOKEN_CMD, "as",
                          "a submit token needs --as STAFF: whom its tickets are created by");
    if (!(scopes & ADM_SCOPE_SUBMIT) && acts_as)
        return args_usage(cli, TOKEN_CMD, "as", "--as is for a token with scope submit");
    return 0;
}

/* `token create NAME`. */
static int s_create(cli_t *cli, PGconn *conn, const char *name, unsigned scopes,
                    const char *acts_as)
{
    char why[512], token[KF_KIT_LEN + 1], array[32];
    if (acts_as) {
        const char *params[] = {acts_as};
        PGresult *res =
            adm_exec(conn, "SELECT active FROM staff WHERE id = $1", 1, params, why, sizeof why);
        if (!res)
            return adm_fail(cli, TOKEN_CMD, CLI_EXIT_TEMPORARY, "%s", why);
        bool active = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        bool known = PQntuples(res) == 1;
        PQclear(res);
        if (!active)
            return adm_fail(cli, TOKEN_CMD, CLI_EXIT_REFUSED,
                            known ? "%s is not active staff" : "no staff member '%s'", acts_as);
    }
    if (kf_token_new(KF_KIT_PREFIX, token) != 0)
        return adm_fail(cli, TOKEN_CMD, CLI_EXIT_TEMPORARY, "libsodium cannot start");
    adm_token_scopes_sql(scopes, array, sizeof array);
    const char *params[] = {name, token, array, acts_as, getenv("USER")};
    PGresult *res = adm_exec(conn,
                             "SELECT kefu_token_create($1, $2, $3::text[], $4, "
                             "coalesce($5, current_user))",
                             5, params, why, sizeof why);
    if (!res && strstr(why, "integration_token_name_key"))
        return adm_fail(cli, TOKEN_CMD, CLI_EXIT_REFUSED,
                        "a token named '%s' exists already (revoked ones keep their name)", name);
    if (!res)
        return adm_fail(cli, TOKEN_CMD, CLI_EXIT_TEMPORARY, "%s", why);
    PQclear(res);
    s_created_print(cli, name, scopes, acts_as, token);
    return CLI_EXIT_OK;
}

static const char s_list_sql[] =
    "SELECT t.name, array_to_string(t.scopes, ',') AS scopes, t.acts_as, "
    "kefu_ms(t.created_at) AS created_ms, t.created_by, kefu_ms(t.last_used_at) AS last_used_ms, "
    "(SELECT count(*) FROM integration_token_use u WHERE u.token_id = t.id "
    "AND u.at > now() - interval '24 hours') AS uses_24h, kefu_ms(t.revoked_at) AS revoked_ms, "
    "t.revoked_by FROM integration_token t WHERE $1::boolean OR t.revoked_at IS NULL "
    "ORDER BY t.name";

/* The rows of sql as one JSON array (scopes a list, counts numbers). */
static const char s_list_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('name', name, 'scopes', "
    "string_to_array(scopes, ','), 'acts_as', acts_as, 'created_ms', created_ms, 'created_by', "
    "created_by, 'last_used_ms', last_used_ms, 'uses_24h', uses_24h, 'revoked_ms', revoked_ms, "
    "'revoked_by', revoked_by)), '[]') FROM (%s) r";

/* `token list [--all]`. */
static int s_list(cli_t *cli, PGconn *conn, bool all)
{
    char why[512], sql[sizeof s_list_sql + sizeof s_list_json_sql];
    const char *params[] = {all ? "true" : "false"};
    snprintf(sql, sizeof sql, s_list_json_sql, s_list_sql);
    PGresult *res = adm_exec(conn, cli->json ? sql : s_list_sql, 1, params, why, sizeof why);
    if (!res)
        return adm_fail(cli, TOKEN_CMD, CLI_EXIT_TEMPORARY, "%s", why);
    if (cli->json) {
        printf("%s\n", PQgetvalue(res, 0, 0));
    } else if (PQntuples(res) == 0) {
        printf("no %sintegration tokens\n", all ? "" : "unrevoked ");
    } else {
        static const char *const headers[] = {"NAME",      "SCOPES",      "ACTS AS", "CREATED",
                                              "LAST USED", "USES IN 24H", "REVOKED"};
        table_t *table = table_new(headers, 7);
        for (int i = 0; i < PQntuples(res); i++) {
            char created[48], used[32], revoked[96], when[32];
            adm_time(res, i, 3, when, sizeof when);
            snprintf(created, sizeof created, "%s by %s", when, adm_text(res, i, 4));
            adm_time(res, i, 5, used, sizeof used);
            adm_time(res, i, 7, when, sizeof when);
            snprintf(revoked, sizeof revoked, "%s%s%s", when, PQgetisnull(res, i, 8) ? "" : " by ",
                     adm_text(res, i, 8));
            const char *cells[] = {adm_text(res, i, 0),
                                   adm_text(res, i, 1),
                                   adm_text(res, i, 2),
                                   created,
                                   used,
                                   adm_text(res, i, 6),
                                   revoked};
            table_add(table, cells);
        }
        table_print(table, stdout, 40);
        table_destroy(&table);
    }
    PQclear(res);
    return CLI_EXIT_OK;
}

/* `token revoke NAME`. */
static int s_revoke(cli_t *cli, PGconn *conn, const char *name)
{
    char why[512];
    const char *params[] = {name, getenv("USER")};
    PGresult *res = adm_exec(conn, "SELECT kefu_token_revoke($1, coalesce($2, current_user))", 2,
                             params, why, sizeof why);
    if (!res)
        return adm_fail(cli, TOKEN_CMD, CLI_EXIT_TEMPORARY, "%s", why);
    bool done = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!done)
        return adm_fail(cli, TOKEN_CMD, CLI_EXIT_REFUSED, "no unrevoked token named '%s'", name);
    if (cli->json)
        adm_print_json(json_pack("{s:s, s:b}", "name", name, "revoked", 1));
    else
        printf("token %s revoked\n", name);
    return CLI_EXIT_OK;
}

/* `token uses NAME [--limit N]`. */
static int s_uses(cli_t *cli, PGconn *conn, const char *name, const char *limit)
{
    char why[512];
    const char *params[] = {name, limit};
    PGresult *res = adm_exec(conn,
                             "SELECT kefu_ms(u.at) AS at_ms, u.scope, u.address, u.outcome "
                             "FROM integration_token t JOIN integration_token_use u "
                             "ON u.token_id = t.id WHERE t.name = $1 "
                             "ORDER BY u.at DESC, u.id DESC LIMIT $2::integer",
                             2, params, why, sizeof why);
    PGresult *known = res ? adm_exec(conn, "SELECT 1 FROM integration_token WHERE name = $1", 1,
                                     params, why, sizeof why)
                          : NULL;
    int rc = CLI_EXIT_OK;
    if (!known)
        rc = adm_fail(cli, TOKEN_CMD, CLI_EXIT_TEMPORARY, "%s", why);
    else if (PQntuples(known) == 0)
        rc = adm_fail(cli, TOKEN_CMD, CLI_EXIT_REFUSED, "no token named '%s'", name);
    else if (cli->json)
        adm_print_rows(res);
    else if (PQntuples(res) == 0)
        printf("token %s has not been used\n", name);
    else {
        static const char *const headers[] = {"AT", "SCOPE", "ADDRESS", "OUTCOME"};
        table_t *table = table_new(headers, 4);
        for (int i = 0; i < PQntuples(res); i++) {
            char at[32];
            adm_time(res, i, 0, at, sizeof at);
            const char *cells[] = {at, adm_text(res, i, 1), adm_text(res, i, 2),
                                   adm_text(res, i, 3)};
            table_add(table, cells);
        }
        table_print(table, stdout, 40);
        table_destroy(&table);
    }
    PQclear(known);
    PQclear(res);
    return rc;
}

/* Checks the operands of sub and connects. Returns the connection, or
   NULL with *rc set. */
static PGconn *s_begin(cli_t *cli, const adm_opts_t *opts, int argc, char **argv, bool named,
                       int *rc)
{
    *rc = args_operands(cli, TOKEN_CMD, argc, argv, named ? 1 : 0, "NAME");
    if (*rc != ARGS_OK)
        return NULL;
    PGconn *conn = adm_connect(cli, opts);
    if (!conn)
        *rc = CLI_EXIT_TEMPORARY;
    return conn;
}

int admin_token(cli_t *cli, int argc, char **argv)
{
    if (argc < 2)
        return args_usage(cli, TOKEN_CMD, NULL, "missing the subcommand (" TOKEN_SUBS ")");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        s_token_help(stdout);
        return CLI_EXIT_OK;
    }
    static const char *const subs[] = {"create", "list", "revoke", "uses"};
    int which = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(sub, subs[i]) == 0)
            which = i;
    if (which < 0)
        return args_usage(cli, TOKEN_CMD, NULL, "unknown subcommand '%s' (" TOKEN_SUBS ")", sub);
    static const char *const local[] = {"scope", "as", "all", "limit"};
    static const bool flag[] = {false, false, true, false};
    const char *values[4];
    adm_opts_t opts;
    int rc =
        adm_parse(cli, TOKEN_CMD, argc - 1, argv + 1, s_token_help, &opts, local, flag, values, 4);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    unsigned scopes = 0;
    const char *bad = NULL;
    long limit = 20;
    if (s_scopes(argc - 1, argv + 1, &scopes, &bad) != 0)
        return args_usage(cli, TOKEN_CMD, "scope", "'%s' is not a scope (calls, submit)", bad);
    if (values[3] && args_number(values[3], 1, 1000, &limit) != 0)
        return args_usage(cli, TOKEN_CMD, "limit", "--limit '%s' is not a number in 1..1000",
                          values[3]);
    const char *name = which != 1 && optind < argc - 1 ? argv[optind + 1] : NULL;
    if (which == 0 && name && (rc = s_create_check(cli, name, scopes, values[1])) != 0)
        return rc;
    PGconn *conn = s_begin(cli, &opts, argc - 1, argv + 1, which != 1, &rc);
    if (!conn)
        return rc;
    char limit_text[24];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    if (which == 0)
        rc = s_create(cli, conn, name, scopes, values[1]);
    else if (which == 1)
        rc = s_list(cli, conn, values[2] != NULL);
    else if (which == 2)
        rc = s_revoke(cli, conn, name);
    else
        rc = s_uses(cli, conn, name, limit_text);
    PQfinish(conn);
    return rc;
}

/* ---- kefu-admin calls --------------------------------------------------- */

static void s_calls_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin calls [--missed] [--limit N]\n\n"
                 "The caller log: the calls the phone system reported (kefu-gateway,\n"
                 "POST /api/v1/calls), newest first, with the extension that rang, its staff\n"
                 "member, the owner found by the caller's number and the call's state\n"
                 "(ringing, answered, ended, or missed: hung up unanswered).\n\n"
                 "  --missed           only missed calls still needing a callback\n"
                 "  --limit N          calls to list (default 50, at most 500)\n"
                 "  --database URL     the store (default: $KEFU_DATABASE_URL)\n"
                 "  --json             print the calls as a JSON array\n"
                 "  -h, --help         show this help\n");
}

/* Prints the calls of res (kefu_calls_list) as a table. */
static void s_calls_print(const PGresult *res)
{
    static const char *const headers[] = {"RANG",  "CALL",     "CALLER", "EXTENSION", "STAFF",
                                          "OWNER", "ANSWERED", "ENDED",  "STATE"};
    table_t *table = table_new(headers, 9);
    for (int i = 0; i < PQntuples(res); i++) {
        char t[3][32], owner[160], state[96], back[32];
        adm_time(res, i, 9, t[0], sizeof t[0]);
        adm_time(res, i, 10, t[1], sizeof t[1]);
        adm_time(res, i, 11, t[2], sizeof t[2]);
        adm_time(res, i, 12, back, sizeof back);
        snprintf(owner, sizeof owner, "%s%s%s%s", adm_text(res, i, 6),
                 PQgetisnull(res, i, 7) ? "" : " (", adm_text(res, i, 7),
                 PQgetisnull(res, i, 7) ? "" : ")");
        snprintf(state, sizeof state, "%s%s%s%s%s", adm_text(res, i, 8),
                 PQgetisnull(res, i, 12) ? "" : ", called back ", back,
                 PQgetisnull(res, i, 13) ? "" : " by ", adm_text(res, i, 13));
        const char *cells[] = {t[0],
                               adm_text(res, i, 1),
                               adm_text(res, i, 2),
                               adm_text(res, i, 4),
                               adm_text(res, i, 5),
                               owner,
                               t[1],
                               t[2],
                               state};
        table_add(table, cells);
    }
    table_print(table, stdout, 64);
    table_destroy(&table);
}

int admin_calls(cli_t *cli, int argc, char **argv)
{
    static const char *const local[] = {"missed", "limit"};
    static const bool flag[] = {true, false};
    const char *values[2];
    adm_opts_t opts;
    int rc = adm_parse(cli, "calls", argc, argv, s_calls_help, &opts, local, flag, values, 2);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    long limit = 50;
    if (values[1] && args_number(values[1], 1, 500, &limit) != 0)
        return args_usage(cli, "calls", "limit", "--limit '%s' is not a number in 1..500",
                          values[1]);
    if ((rc = args_operands(cli, "calls", argc, argv, 0, NULL)) != ARGS_OK)
        return rc;
    PGconn *conn = adm_connect(cli, &opts);
    if (!conn)
        return CLI_EXIT_TEMPORARY;
    char why[512], limit_text[24];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    const char *params[] = {values[0] ? "missed" : NULL, limit_text};
    PGresult *res = adm_exec(conn,
                             "SELECT id, call_id, caller, caller_norm, extension, staff_id, "
                             "owner_id, owner_name, state, ringing_ms, answered_ms, ended_ms, "
                             "callback_done_ms, callback_by "
                             "FROM kefu_calls_list(NULL, $1, $2::integer, NULL, NULL)",
                             2, params, why, sizeof why);
    PQfinish(conn);
    if (!res)
        return adm_fail(cli, "calls", CLI_EXIT_TEMPORARY, "%s", why);
    if (cli->json)
        adm_print_rows(res);
    else if (PQntuples(res) == 0)
        printf("no %scalls\n", values[0] ? "missed " : "");
    else
        s_calls_print(res);
    PQclear(res);
    return CLI_EXIT_OK;
}
