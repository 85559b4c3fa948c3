/* kefu-admin — `kefu-admin delegate`: an operator registers a delegate
   for an absent approver (kefu_delegate_put, migration 016). The delegate
   may decide the absent person's steps at once; each request waiting on
   them records who arranged it and why, and the delegate is told which
   steps they cover (approval.delegate_set, delivered by kefu-notifier from
   the outbox). */
#include <string.h>

#include "admin.h"
#include "args.h"
#include "envelope.h"
#include "timefmt.h"

enum { D_TO, D_FROM, D_UNTIL, D_REASON, D_COUNT };

static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin delegate STAFF --to STAFF --until WHEN --reason TEXT\n"
                 "                           [--from WHEN] [OPTIONS]\n\n"
                 "Registers a delegate for an absent approver, on the operator's word: the\n"
                 "delegate may decide STAFF's approval steps from --from (default now) until\n"
                 "--until, and at a step's deadline it passes to them. Each request waiting on\n"
                 "STAFF records who arranged this (the operator, $USER) and why, and the\n"
                 "delegate is told which steps they cover. Registrations of STAFF that overlap\n"
                 "the period end. Staff arrange their own cover with `kefu delegate set`.\n\n"
                 "Options:\n"
                 "  --to STAFF         the delegate (active staff, not STAFF)\n"
                 "  --until WHEN       the end of the cover, not included (required)\n"
                 "  --from WHEN        its start (default now)\n"
                 "  --reason TEXT      why (required, at most 500 bytes)\n"
                 "WHEN is YYYY-MM-DD (midnight), 'YYYY-MM-DD HH:MM', now, or +N with s, m, h\n"
                 "or d (from now), in the zone of TZ.\n");
    adm_options_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu-admin delegate gm.zheng --to vp.zhou --until 2026-12-20 \\\n"
                 "       --reason '郑总住院，期间由周总代批'\n");
}

/* Checks the options into from/until (ms); returns ARGS_OK or an exit code. */
static int s_check(cli_t *cli, const char *const *v, int argc, char **argv, int64_t *from,
                   int64_t *until)
{
    const char *cmd = "delegate";
    if (optind + 1 != argc)
        return args_usage(cli, cmd, "STAFF", "give exactly one STAFF, the absent approver");
    if (args_check(cli, cmd, "STAFF", "STAFF", argv[optind], 64, true) != 0)
        return CLI_EXIT_USAGE;
    if (!v[D_TO] || !v[D_UNTIL] || !v[D_REASON])
        return args_usage(cli, cmd,
                          !v[D_TO]      ? "to"
                          : !v[D_UNTIL] ? "until"
                                        : "reason",
                          "--to, --until and --reason are required");
    if (args_text(cli, cmd, "to", v[D_TO], 64, true) != 0 ||
        args_text(cli, cmd, "reason", v[D_REASON], 500, true) != 0)
        return CLI_EXIT_USAGE;
    *from = kf_now_ms();
    if (v[D_FROM] && tf_when(v[D_FROM], from) != 0)
        return args_usage(cli, cmd, "from", "--from '%s' is not a time (see --help)", v[D_FROM]);
    if (tf_when(v[D_UNTIL], until) != 0)
        return args_usage(cli, cmd, "until", "--until '%s' is not a time (see --help)", v[D_UNTIL]);
    if (*until <= *from)
        return args_usage(cli, cmd, "until", "--until must come after --from");
    return ARGS_OK;
}

int admin_delegate(cli_t *cli, int argc, char **argv)
{
    static const char *const local[D_COUNT] = {"to", "from", "until", "reason"};
    static const bool flag[D_COUNT] = {false, false, false, false};
    const char *v[D_COUNT];
    adm_opts_t opts;
    int64_t from, until;
    int rc = adm_parse(cli, "delegate", argc, argv, s_help, &opts, local, flag, v, D_COUNT);
    if (rc == ARGS_OK)
        rc = s_check(cli, v, argc, argv, &from, &until);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    PGconn *conn = adm_connect(cli, &opts);
    if (!conn)
        return CLI_EXIT_TEMPORARY;
    char from_text[24], until_text[24], by[128], why[512];
    snprintf(from_text, sizeof from_text, "%lld", (long long)from);
    snprintf(until_text, sizeof until_text, "%lld", (long long)until);
    const char *user = getenv("USER");
    snprintf(by, sizeof by, "operator %s", user && *user ? user : "(unknown)");
    const char *params[] = {argv[optind], v[D_TO], from_text, until_text, by, v[D_REASON]};
    /* One statement; --check runs it in a transaction that is rolled back. */
    if (opts.check)
        PQclear(PQexec(conn, "BEGIN"));
    PGresult *res = adm_exec(conn,
                             "SELECT err_code, err_field, err_message, info->'reply' FROM "
                             "kefu_delegate_put($1, $2, kefu_ts($3::bigint), kefu_ts($4::bigint), "
                             "$5, $6, 'kefu-admin') WHERE err_code IS NOT NULL OR info ? 'reply'",
                             6, params, why, sizeof why);
    if (!res) {
        rc = adm_fail(cli, "delegate", CLI_EXIT_TEMPORARY, "%s", why);
    } else if (PQntuples(res) != 1) {
        rc = adm_fail(cli, "delegate", CLI_EXIT_PROTOCOL, "the store gave no answer");
    } else if (!PQgetisnull(res, 0, 0)) {
        rc = adm_fail(cli, "delegate", CLI_EXIT_REFUSED, "%s: %s", PQgetvalue(res, 0, 1),
                      PQgetvalue(res, 0, 2));
    } else {
        json_t *reply = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
        if (cli->json) {
            adm_print_json(json_incref(reply));
        } else {
            char start[32], end[32];
            tf_local(from, start, sizeof start);
            tf_local(until, end, sizeof end);
            printf("%s decides for %s from %s until %s; %lld pending step%s covered\n", v[D_TO],
                   argv[optind], start, end,
                   (long long)json_integer_value(json_object_get(reply, "steps")),
                   json_integer_value(json_object_get(reply, "steps")) == 1 ? "" : "s");
        }
        json_decref(reply);
    }
    PQclear(res);
    if (opts.check) {
        PQclear(PQexec(conn, "ROLLBACK"));
        if (rc == 0 && !cli->json)
            printf("(--check: nothing was registered)\n");
    }
    PQfinish(conn);
    return rc;
}
