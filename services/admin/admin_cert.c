/* kefu-admin — `kefu-admin server-cert | cert | revoke | certs`: the
   CurveZMQ certificates that say who acts (common/auth.h). */
#include <czmq.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "args.h"
#include "auth.h"
#include "output.h"

#define S_SERVER_DEFAULT "/etc/kefu/server.cert"

/* The daemons' certificate file: --server-cert, KEFU_CURVE_CERT, or the
   daemons' default. */
static const char *s_server_path(const char *given)
{
    const char *env = getenv("KEFU_CURVE_CERT");
    return given ? given : env && *env ? env : S_SERVER_DEFAULT;
}

/* Saves cert with its secret key to path, readable by its owner only;
   refuses to overwrite unless force. Returns 0 or -1 with why. */
static int s_save(zcert_t *cert, const char *path, bool force, char *why, size_t size)
{
    if (!force && access(path, F_OK) == 0) {
        snprintf(why, size, "%s exists; give --force to replace it", path);
        return -1;
    }
    mode_t old = umask(077);
    int rc = zcert_save_secret(cert, path);
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0) {
        snprintf(why, size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void s_server_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin server-cert --out FILE [--force]\n\n"
                 "Creates the daemons' CurveZMQ certificate (public and secret key, mode 0600).\n"
                 "Give it to intake, kefu-approval and kefu-survey as KEFU_CURVE_CERT; every\n"
                 "client certificate issued afterwards (kefu-admin cert) names its public key.\n"
                 "A new server certificate means issuing every client certificate again.\n\n"
                 "  --out FILE         where to write it\n"
                 "  --force            replace an existing file\n"
                 "  --json             print {\"file\", \"public_key\"}\n"
                 "  -h, --help         show this help\n");
}

int admin_server_cert(cli_t *cli, int argc, char **argv)
{
    static const char *const local[] = {"out", "force"};
    static const bool flag[] = {false, true};
    const char *values[2];
    adm_opts_t opts;
    int rc =
        adm_parse(cli, "server-cert", argc, argv, s_server_help, &opts, local, flag, values, 2);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    if (!values[0])
        return args_usage(cli, "server-cert", "out", "--out FILE is required");
    zcert_t *cert = zcert_new();
    zcert_set_meta(cert, "role", "server");
    char why[512];
    rc = s_save(cert, values[0], values[1] != NULL, why, sizeof why);
    if (rc == 0 && cli->json)
        adm_print_json(
            json_pack("{s:s, s:s}", "file", values[0], "public_key", zcert_public_txt(cert)));
    else if (rc == 0)
        printf("%s  public key %s\n", values[0], zcert_public_txt(cert));
    zcert_destroy(&cert);
    return rc == 0 ? CLI_EXIT_OK : adm_fail(cli, "server-cert", CLI_EXIT_REFUSED, "%s", why);
}

static void s_cert_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin cert STAFF --out FILE [--server-cert FILE] [--note TEXT] [--force]\n"
            "       kefu-admin cert --gateway NAME --out FILE [--server-cert FILE] [--force]\n\n"
            "Issues a certificate to one active staff member and registers its public key in\n"
            "the store. Whoever holds FILE acts as STAFF (kefu --cert FILE, or KEFU_CERT):\n"
            "give it to that person only. The file also names the daemons' public key, so it\n"
            "is all a client needs. `kefu-admin revoke` ends it at once.\n"
            "With --gateway, issues a kefu-gateway instance's certificate instead (table\n"
            "gateway_key, metadata \"gateway\" = NAME): its key alone acts as no one; it\n"
            "only carries the web sessions of people signed in (proto/security.md).\n\n"
            "  --gateway NAME     a gateway's certificate (NAME: a-z 0-9 . _ -, up to 64)\n"
            "  --out FILE         where to write the certificate (mode 0600)\n"
            "  --server-cert FILE the daemons' certificate (default: $KEFU_CURVE_CERT or\n"
            "                     " S_SERVER_DEFAULT ")\n"
            "  --note TEXT        kept with the key (e.g. the laptop it is for)\n"
            "  --force            replace an existing FILE\n"
            "  --database URL     the store (default: $KEFU_DATABASE_URL)\n"
            "  --json             print {\"staff\" or \"gateway\", \"file\", \"public_key\"}\n"
            "  -h, --help         show this help\n");
}

/* Whether name is a gateway's name as table gateway_key takes it. */
static bool s_gateway_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64 || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              strchr("._-", name[i])))
            return false;
    return true;
}

/* Registers cert's key for the gateway name. Returns 0 or -1 with why. */
static int s_register_gateway(PGconn *conn, const char *name, zcert_t *cert, char *why, size_t size)
{
    const char *params[] = {zcert_public_txt(cert), name, getenv("USER")};
    PGresult *res = adm_exec(conn,
                             "INSERT INTO gateway_key (public_key, name, issued_by) "
                             "VALUES ($1, $2, coalesce($3, current_user))",
                             3, params, why, size);
    PQclear(res);
    return res ? 0 : -1;
}

/* Registers cert's key for staff. Returns 0 or -1 with why. */
static int s_register(PGconn *conn, const char *staff, zcert_t *cert, const char *note, char *why,
                      size_t size)
{
    const char *check[] = {staff};
    PGresult *res =
        adm_exec(conn, "SELECT 1 FROM staff WHERE id = $1 AND active", 1, check, why, size);
    if (!res)
        return -1;
    bool known = PQntuples(res) == 1;
    PQclear(res);
    if (!known) {
        snprintf(why, size, "no active staff member '%s'", staff);
        return -1;
    }
    const char *params[] = {zcert_public_txt(cert), staff, note};
    res = adm_exec(conn, "INSERT INTO staff_cert (public_key, staff_id, note) VALUES ($1, $2, $3)",
                   3, params, why, size);
    PQclear(res);
    return res ? 0 : -1;
}

/* The certificate's holder from the command line: the STAFF operand, or
   --gateway NAME. Returns 0, or a usage exit code after reporting. */
static int s_cert_holder(cli_t *cli, int argc, char **argv, const char *gateway, const char **staff)
{
    *staff = NULL;
    if (!gateway)
        return args_operands(cli, "cert", argc, argv, 1, "STAFF") != 0 ? CLI_EXIT_USAGE : 0;
    if (optind < argc)
        return args_usage(cli, "cert", "gateway", "give STAFF or --gateway NAME, not both");
    if (!s_gateway_name_ok(gateway))
        return args_usage(cli, "cert", "gateway",
                          "--gateway '%s': a name is a-z, then a-z 0-9 . _ -, up to 64", gateway);
    return 0;
}

int admin_cert(cli_t *cli, int argc, char **argv)
{
    static const char *const local[] = {"out", "server-cert", "note", "force", "gateway"};
    static const bool flag[] = {false, false, false, true, false};
    const char *values[5];
    adm_opts_t opts;
    int rc = adm_parse(cli, "cert", argc, argv, s_cert_help, &opts, local, flag, values, 5);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    const char *staff, *gateway = values[4];
    if ((rc = s_cert_holder(cli, argc, argv, gateway, &staff)) != 0)
        return rc;
    if (!gateway)
        staff = argv[optind];
    if (!values[0])
        return args_usage(cli, "cert", "out", "--out FILE is required");
    const char *server_path = s_server_path(values[1]);
    zcert_t *server = zcert_load(server_path);
    if (!server)
        return adm_fail(cli, "cert", CLI_EXIT_USAGE,
                        "cannot read the daemons' certificate %s (--server-cert or "
                        "KEFU_CURVE_CERT; create it with kefu-admin server-cert)",
                        server_path);
    zcert_t *cert = zcert_new();
    zcert_set_meta(cert, gateway ? "gateway" : "staff", "%s", gateway ? gateway : staff);
    zcert_set_meta(cert, "server-key", "%s", zcert_public_txt(server));
    zcert_destroy(&server);
    char why[512] = "";
    PGconn *conn = adm_connect(cli, &opts);
    rc = conn ? s_save(cert, values[0], values[3] != NULL, why, sizeof why) : -1;
    if (rc == 0 && (gateway ? s_register_gateway(conn, gateway, cert, why, sizeof why)
                            : s_register(conn, staff, cert, values[2], why, sizeof why)) != 0) {
        unlink(values[0]); /* a certificate the store does not know is no use */
        rc = -1;
    }
    const char *holder = gateway ? gateway : staff;
    if (rc == 0 && cli->json)
        adm_print_json(json_pack("{s:s, s:s, s:s}", gateway ? "gateway" : "staff", holder, "file",
                                 values[0], "public_key", zcert_public_txt(cert)));
    else if (rc == 0)
        printf("%s%s  %s  public key %s\n", gateway ? "gateway " : "", holder, values[0],
               zcert_public_txt(cert));
    zcert_destroy(&cert);
    if (conn)
        PQfinish(conn);
    if (rc == 0)
        return CLI_EXIT_OK;
    return conn ? adm_fail(cli, "cert", CLI_EXIT_REFUSED, "%s", why) : CLI_EXIT_TEMPORARY;
}

static void s_revoke_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin revoke [OPTIONS] [--] KEY|FILE...\n"
                 "       kefu-admin revoke --gateway NAME\n\n"
                 "Revokes certificates, given by public key or by certificate file: a staff\n"
                 "member's or a gateway's. A revoked certificate stops working at once, also\n"
                 "on connections already open; a gateway's takes every web session it carries\n"
                 "with it. A key may start with '-' (Z85 has it): put -- before the keys, as\n"
                 "scripts should.\n\n"
                 "  --gateway NAME     revoke every key of the gateway NAME\n"
                 "  --database URL     the store (default: $KEFU_DATABASE_URL)\n"
                 "  --json             print {\"revoked\": [keys]}\n"
                 "  -h, --help         show this help\n");
}

/* The public key named by arg: a file's, or arg itself. */
static void s_key_of(const char *arg, char key[KF_KEY_MAX + 1])
{
    zcert_t *cert = access(arg, R_OK) == 0 ? zcert_load(arg) : NULL;
    snprintf(key, KF_KEY_MAX + 1, "%s", cert ? zcert_public_txt(cert) : arg);
    zcert_destroy(&cert);
}

/* Revokes the key of a staff member or a gateway; revoking again keeps the
   first revocation's time and operator. Answers (key, holder) rows. */
static const char s_revoke_key_sql[] =
    "WITH s AS (UPDATE staff_cert SET revoked_at = coalesce(revoked_at, now()), "
    "revoked_by = coalesce(revoked_by, $2, current_user) WHERE public_key = $1 "
    "RETURNING public_key, staff_id AS holder), "
    "g AS (UPDATE gateway_key SET revoked_at = coalesce(revoked_at, now()), "
    "revoked_by = coalesce(revoked_by, $2, current_user) WHERE public_key = $1 "
    "RETURNING public_key, 'gateway ' || name AS holder) "
    "SELECT * FROM s UNION ALL SELECT * FROM g";

/* Revokes every key of a gateway not revoked yet. */
static const char s_revoke_gateway_sql[] =
    "UPDATE gateway_key SET revoked_at = now(), revoked_by = coalesce($2, current_user) "
    "WHERE name = $1 AND revoked_at IS NULL RETURNING public_key, 'gateway ' || name";

/* Revokes what arg names (a key or file, or a gateway's name when
   gateway), adding the keys to revoked. Returns 0 or an exit code. */
static int s_revoke_one(cli_t *cli, PGconn *conn, const char *arg, bool gateway, json_t *revoked)
{
    char key[KF_KEY_MAX + 1], why[512];
    if (!gateway)
        s_key_of(arg, key);
    const char *params[] = {gateway ? arg : key, getenv("USER")};
    PGresult *res = adm_exec(conn, gateway ? s_revoke_gateway_sql : s_revoke_key_sql, 2, params,
                             why, sizeof why);
    int rc = 0;
    if (!res)
        rc = adm_fail(cli, "revoke", CLI_EXIT_TEMPORARY, "%s", why);
    else if (PQntuples(res) == 0 && gateway)
        rc = adm_fail(cli, "revoke", CLI_EXIT_REFUSED, "no unrevoked key of gateway %s", arg);
    else if (PQntuples(res) == 0)
        rc = adm_fail(cli, "revoke", CLI_EXIT_REFUSED, "no certificate with key %s", key);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        json_array_append_new(revoked, json_string(PQgetvalue(res, i, 0)));
        if (!cli->json)
            printf("revoked %s (%s)\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return rc;
}

int admin_revoke(cli_t *cli, int argc, char **argv)
{
    static const char *const local[] = {"gateway"};
    static const bool flag[] = {false};
    const char *values[1];
    adm_opts_t opts;
    int rc = adm_parse(cli, "revoke", argc, argv, s_revoke_help, &opts, local, flag, values, 1);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    if (optind >= argc && !values[0])
        return args_usage(cli, "revoke", NULL, "give the KEY or FILE to revoke");
    if (optind < argc && values[0])
        return args_usage(cli, "revoke", "gateway", "give keys or --gateway NAME, not both");
    PGconn *conn = adm_connect(cli, &opts);
    if (!conn)
        return CLI_EXIT_TEMPORARY;
    json_t *revoked = json_array();
    if (values[0])
        rc = s_revoke_one(cli, conn, values[0], true, revoked);
    for (int i = optind; i < argc && rc == 0; i++)
        rc = s_revoke_one(cli, conn, argv[i], false, revoked);
    if (rc == 0 && cli->json)
        adm_print_json(json_pack("{s:O}", "revoked", revoked));
    json_decref(revoked);
    PQfinish(conn);
    return rc;
}
