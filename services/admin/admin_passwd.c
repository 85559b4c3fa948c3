/* kefu-admin — `kefu-admin passwd | sessions`: staff passwords for the web
   console (kefu-gateway) and their web sessions (proto/security.md). The
   store keeps only the Argon2id hash (libsodium's crypto_pwhash_str) and
   the SHA-256 of each session token (migration 018). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "args.h"
#include "auth.h"
#include "table.h"

#define S_TEMP_LEN 12
/* No 0/O, 1/l/I: read aloud or copied from paper without doubt. */
#define S_TEMP_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

static void s_passwd_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu-admin passwd STAFF [--stdin | --temporary]\n\n"
            "Sets the password STAFF signs in to the web console with (kefu-gateway). Every\n"
            "open web session of STAFF ends. The store keeps only its Argon2id hash.\n"
            "On a terminal the password is asked twice without echo; otherwise (or with\n"
            "--stdin) it is the first line of standard input. A password has at least %d\n"
            "characters, at most %d bytes of UTF-8, and is not the staff id.\n\n"
            "  --stdin            read the password from the first line of stdin\n"
            "  --temporary        make a random one-time password, print it once; STAFF\n"
            "                     must change it at the first sign-in\n"
            "  --database URL     the store (default: $KEFU_DATABASE_URL)\n"
            "  --json             print {\"staff\", \"must_change\", \"sessions_ended\"} (and\n"
            "                     \"password\" with --temporary)\n"
            "  -h, --help         show this help\n\n"
            "Example:\n"
            "  printf '%%s\\n' \"$PASSWORD\" | kefu-admin passwd agent01 --stdin\n"
            "  kefu-admin passwd agent02 --temporary\n",
            KF_PASSWORD_MIN, KF_PASSWORD_MAX);
}

/* Whether staff is active staff: 1 yes, 0 no (why says), -1 store error. */
static int s_active(PGconn *conn, const char *staff, char *why, size_t size)
{
    const char *params[] = {staff};
    PGresult *res = adm_exec(conn, "SELECT active FROM staff WHERE id = $1", 1, params, why, size);
    if (!res)
        return -1;
    int rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (!rc)
        snprintf(why, size, PQntuples(res) ? "%s is not active staff" : "no staff member '%s'",
                 staff);
    PQclear(res);
    return rc;
}

/* Reads one line of at most size - 1 bytes from in into buf, without its
   line end. Returns 0, or -1 when there is none or it is too long. */
static int s_read_line(FILE *in, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, in))
        return -1;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] != '\n' && !feof(in))
        return -1; /* longer than the buffer */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

/* Asks for the password on the terminal without echo. Returns 0, or -1
   with why. */
static int s_ask(char *pw, size_t size, char *why, size_t why_size)
{
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0) {
        snprintf(why, why_size, "cannot read the terminal: %s", strerror(errno));
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    char again[KF_PASSWORD_MAX + 3];
    fprintf(stderr, "New password: ");
    int rc = s_read_line(stdin, pw, size);
    fprintf(stderr, "\nAgain: ");
    if (rc == 0)
        rc = s_read_line(stdin, again, sizeof again);
    fprintf(stderr, "\n");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    if (rc == 0 && strcmp(pw, again) != 0) {
        snprintf(why, why_size, "the two passwords differ; nothing changed");
        rc = -1;
    } else if (rc != 0)
        snprintf(why, why_size, "no password read, or longer than %d bytes", KF_PASSWORD_MAX);
    sodium_memzero(again, sizeof again);
    return rc;
}

/* The new password into pw (KF_PASSWORD_MAX + 3 bytes): a random one, the
   line on stdin, or asked on the terminal; checked against the rules.
   Returns 0, or -1 with why. */
static int s_new_password(const char *staff, bool temporary, bool from_stdin, char *pw, size_t size,
                          char *why, size_t why_size)
{
    if (temporary) {
        const char alphabet[] = S_TEMP_ALPHABET;
        for (int i = 0; i < S_TEMP_LEN; i++)
            pw[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
        pw[S_TEMP_LEN] = '\0';
        return 0;
    }
    if (from_stdin || !isatty(STDIN_FILENO)) {
        if (s_read_line(stdin, pw, size) != 0) {
            snprintf(why, why_size, "no password on stdin, or longer than %d bytes",
                     KF_PASSWORD_MAX);
            return -1;
        }
    } else if (s_ask(pw, size, why, why_size) != 0)
        return -1;
    kf_error_t err = {0};
    if (kf_password_check(staff, pw, &err) != 0) {
        snprintf(why, why_size, "%s; nothing changed", err.message);
        return -1;
    }
    return 0;
}

/* Hashes pw and stores it for staff (kefu_password_set). Returns the
   number of sessions that ended, or -1 with why. */
static int s_store(PGconn *conn, const char *staff, const char *pw, bool must_change, char *why,
                   size_t size)
{
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf(why, size, "out of memory hashing the password");
        return -1;
    }
    const char *params[] = {staff, hash, must_change ? "true" : "false", getenv("USER")};
    /* The count is taken in the statement's snapshot, before the change. */
    PGresult *res = adm_exec(conn,
                             "SELECT kefu_password_set($1, $2, $3::boolean, NULL, "
                             "coalesce($4, current_user)), (SELECT count(*) FROM web_session "
                             "WHERE staff_id = $1 AND ended_at IS NULL)",
                             4, params, why, size);
    if (!res)
        return -1;
    int ended = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? atoi(PQgetvalue(res, 0, 1)) : -1;
    if (ended < 0)
        snprintf(why, size, "no staff member '%s'", staff);
    PQclear(res);
    return ended;
}

int admin_passwd(cli_t *cli, int argc, char **argv)
{
    static const char *const local[] = {"stdin", "temporary"};
    static const bool flag[] = {true, true};
    const char *values[2];
    adm_opts_t opts;
    int rc = adm_parse(cli, "passwd", argc, argv, s_passwd_help, &opts, local, flag, values, 2);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    if (args_operands(cli, "passwd", argc, argv, 1, "STAFF") != 0)
        return CLI_EXIT_USAGE;
    const char *staff = argv[optind];
    bool temporary = values[1] != NULL;
    if (temporary && values[0])
        return args_usage(cli, "passwd", "temporary", "give --stdin or --temporary, not both");
    if (sodium_init() < 0)
        return adm_fail(cli, "passwd", CLI_EXIT_TEMPORARY, "libsodium cannot start");
    PGconn *conn = adm_connect(cli, &opts);
    if (!conn)
        return CLI_EXIT_TEMPORARY;
    char why[512] = "", pw[KF_PASSWORD_MAX + 3];
    int active = s_active(conn, staff, why, sizeof why);
    int ended = -1;
    if (active == 1 &&
        s_new_password(staff, temporary, values[0] != NULL, pw, sizeof pw, why, sizeof why) == 0)
        ended = s_store(conn, staff, pw, temporary, why, sizeof why);
    PQfinish(conn);
    if (ended >= 0 && cli->json)
        adm_print_json(json_pack("{s:s, s:b, s:i, s:s?}", "staff", staff, "must_change", temporary,
                                 "sessions_ended", ended, "password", temporary ? pw : NULL));
    else if (ended >= 0 && temporary)
        printf("temporary password for %s: %s\n(shown once; it must be changed at the first "
               "sign-in; %d web session(s) ended)\n",
               staff, pw, ended);
    else if (ended >= 0)
        printf("password set for %s; %d web session(s) ended\n", staff, ended);
    sodium_memzero(pw, sizeof pw);
    if (ended >= 0)
        return CLI_EXIT_OK;
    return adm_fail(cli, "passwd", active < 0 ? CLI_EXIT_TEMPORARY : CLI_EXIT_REFUSED, "%s", why);
}

static void s_sessions_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin sessions STAFF [--all]\n"
                 "       kefu-admin sessions STAFF --revoke [ID]\n\n"
                 "Lists the web sessions of STAFF (kefu-gateway sign-ins): open ones, or all\n"
                 "with --all (expired and ended too, with why they ended). --revoke ends every\n"
                 "open session of STAFF, or the one numbered ID, at once: the next request in\n"
                 "it is refused. Making STAFF inactive or setting a password ends them too.\n\n"
                 "  --all              also list expired and ended sessions\n"
                 "  --revoke           end the open sessions (all, or ID); print how many\n"
                 "  --database URL     the store (default: $KEFU_DATABASE_URL)\n"
                 "  --json             print the sessions as a JSON array, or {\"ended\": N}\n"
                 "  -h, --help         show this help\n");
}

static const char s_sessions_sql[] =
    "SELECT id, kefu_ms(created_at) AS opened_ms, kefu_ms(last_seen_at) AS last_seen_ms, "
    "kefu_ms(least(expires_at, last_seen_at + idle_timeout)) AS idle_end_ms, "
    "kefu_ms(expires_at) AS expires_ms, address, user_agent, kefu_ms(ended_at) AS ended_ms, "
    "end_reason, ended_by, CASE WHEN ended_at IS NOT NULL THEN 'ended' WHEN now() >= "
    "least(expires_at, last_seen_at + idle_timeout) THEN 'expired' ELSE 'open' END AS state "
    "FROM web_session WHERE staff_id = $1 AND ($2::boolean OR (ended_at IS NULL AND now() < "
    "least(expires_at, last_seen_at + idle_timeout))) ORDER BY id DESC";

/* Prints the sessions of res. */
static void s_sessions_print(const cli_t *cli, const PGresult *res)
{
    if (cli->json) {
        adm_print_rows(res);
        return;
    }
    static const char *const headers[] = {"ID",      "OPENED", "LAST SEEN", "IDLE END",  "END",
                                          "ADDRESS", "STATE",  "ENDED",     "USER AGENT"};
    table_t *table = table_new(headers, sizeof headers / sizeof headers[0]);
    for (int i = 0; i < PQntuples(res); i++) {
        char t[5][32], state[96];
        for (int c = 0; c < 4; c++)
            adm_time(res, i, c + 1, t[c], sizeof t[c]);
        adm_time(res, i, 7, t[4], sizeof t[4]);
        const char *kind = adm_text(res, i, 10);
        snprintf(state, sizeof state, "%s%s%s%s%s", kind, PQgetisnull(res, i, 8) ? "" : ": ",
                 adm_text(res, i, 8), PQgetisnull(res, i, 9) ? "" : " by ", adm_text(res, i, 9));
        const char *cells[] = {
            adm_text(res, i, 0), t[0], t[1], t[2], t[3], adm_text(res, i, 5), state, t[4],
            adm_text(res, i, 6)};
        table_add(table, cells);
    }
    table_print(table, stdout, 40);
    table_destroy(&table);
}

/* Lists STAFF's sessions. */
static int s_sessions_list(cli_t *cli, PGconn *conn, const char *staff, bool all)
{
    char why[512];
    const char *params[] = {staff, all ? "true" : "false"};
    PGresult *res = adm_exec(conn, s_sessions_sql, 2, params, why, sizeof why);
    if (!res)
        return adm_fail(cli, "sessions", CLI_EXIT_TEMPORARY, "%s", why);
    if (PQntuples(res) == 0 && !cli->json)
        printf("%s has no %sweb sessions\n", staff, all ? "" : "open ");
    else
        s_sessions_print(cli, res);
    PQclear(res);
    return CLI_EXIT_OK;
}

/* Ends STAFF's open sessions (all, or number id). */
static int s_sessions_revoke(cli_t *cli, PGconn *conn, const char *staff, const char *id)
{
    long number = 0;
    if (id && args_number(id, 1, 1L << 62, &number) != 0)
        return args_usage(cli, "sessions", "ID", "'%s' is not a session number", id);
    char why[512];
    const char *params[] = {staff, id, getenv("USER")};
    PGresult *res = adm_exec(conn,
                             "SELECT kefu_sessions_revoke($1, $2::bigint, "
                             "coalesce($3, current_user))",
                             3, params, why, sizeof why);
    if (!res)
        return adm_fail(cli, "sessions", CLI_EXIT_TEMPORARY, "%s", why);
    int ended = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (id && ended == 0)
        return adm_fail(cli, "sessions", CLI_EXIT_REFUSED, "%s has no open session %s", staff, id);
    if (cli->json)
        adm_print_json(json_pack("{s:s, s:i}", "staff", staff, "ended", ended));
    else
        printf("%d web session(s) of %s ended\n", ended, staff);
    return CLI_EXIT_OK;
}

int admin_sessions(cli_t *cli, int argc, char **argv)
{
    static const char *const local[] = {"all", "revoke"};
    static const bool flag[] = {true, true};
    const char *values[2];
    adm_opts_t opts;
    int rc = adm_parse(cli, "sessions", argc, argv, s_sessions_help, &opts, local, flag, values, 2);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    bool revoke = values[1] != NULL;
    if (optind >= argc || argc - optind > (revoke ? 2 : 1))
        return args_usage(cli, "sessions", NULL,
                          revoke ? "give STAFF, and the session ID to end only one"
                                 : "give one STAFF");
    const char *staff = argv[optind];
    PGconn *conn = adm_connect(cli, &opts);
    if (!conn)
        return CLI_EXIT_TEMPORARY;
    char why[512];
    const char *params[] = {staff};
    PGresult *res = adm_exec(conn, "SELECT 1 FROM staff WHERE id = $1", 1, params, why, sizeof why);
    if (!res)
        rc = adm_fail(cli, "sessions", CLI_EXIT_TEMPORARY, "%s", why);
    else if (PQntuples(res) == 0)
        rc = adm_fail(cli, "sessions", CLI_EXIT_REFUSED, "no staff member '%s'", staff);
    else if (revoke)
        rc = s_sessions_revoke(cli, conn, staff, argc - optind == 2 ? argv[optind + 1] : NULL);
    else
        rc = s_sessions_list(cli, conn, staff, values[0] != NULL);
    PQclear(res);
    PQfinish(conn);
    return rc;
}
