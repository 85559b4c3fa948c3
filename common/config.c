/* kefu — configuration from environment variables, one table per program. */
#include "config.h"
#include "log.h"
#include "stop.h"

#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* The table's entry for name; asserted because a missing entry is a
   defect in the program, not bad input. */
static const kf_setting_t *s_find(const kf_setting_t *table, const char *name)
{
    assert(table && name);
    for (const kf_setting_t *s = table; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    assert(!"setting is not in the table");
    return NULL;
}

const char *kf_config_str(const kf_setting_t *table, const char *name)
{
    const kf_setting_t *s = s_find(table, name);
    if (!s)
        return NULL;
    const char *value = getenv(name);
    return value && *value ? value : s->def;
}

int kf_config_int(const kf_setting_t *table, const char *name, long min, long max, long *out)
{
    const char *text = kf_config_str(table, name);
    if (!text || !*text) {
        fprintf(stderr, "%s: no value, expected an integer in [%ld, %ld]\n", name, min, max);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0') {
        fprintf(stderr, "%s=%s: not an integer, expected one in [%ld, %ld]\n", name, text, min,
                max);
        return -1;
    }
    if (value < min || value > max) {
        fprintf(stderr, "%s=%s: out of range [%ld, %ld]\n", name, text, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

void kf_config_help(FILE *out, const char *program, const char *summary, const kf_setting_t *table)
{
    fprintf(out, "Usage: %s [--help]\n\n%s\n\nConfiguration (environment variables):\n", program,
            summary ? summary : "");
    for (const kf_setting_t *s = table; s && s->name; s++)
        fprintf(out, "  %-22s %s (default: %s)\n", s->name, s->help ? s->help : "",
                s->def && *s->def ? s->def : "none");
}

/* True when table declares name. */
static bool s_declares(const kf_setting_t *table, const char *name)
{
    for (const kf_setting_t *s = table; s && s->name; s++)
        if (strcmp(s->name, name) == 0)
            return true;
    return false;
}

/* Checks the shape of a ZeroMQ endpoint the daemon will connect to, which
   zmq_connect would refuse only silently: tcp://HOST:PORT, ipc://PATH,
   inproc://NAME, or another transport's non-empty address. */
static bool s_endpoint_ok(const char *endpoint)
{
    const char *sep = strstr(endpoint, "://");
    if (!sep || sep == endpoint || sep[3] == '\0')
        return false;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return true;
    const char *colon = strrchr(sep + 3, ':');
    if (!colon || colon == sep + 3 || colon[1] == '\0')
        return false;
    if (strcmp(colon + 1, "*") == 0)
        return true;
    for (const char *c = colon + 1; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    return true;
}

/* Names a setting that can never work, before the daemon starts: a bus
   endpoint of the wrong shape, a database URL libpq cannot parse (its text
   may hold a password, so it is not repeated). Returns 0 or -1. */
static int s_check_endpoints(const char *program, const kf_setting_t *table)
{
    static const char *const bus[] = {"KEFU_BUS_PUB", "KEFU_BUS_SUB", "KEFU_BUS_PUSH",
                                      "KEFU_BUS_PULL"};
    for (size_t i = 0; i < sizeof bus / sizeof bus[0]; i++)
        if (s_declares(table, bus[i]) && !s_endpoint_ok(kf_config_str(table, bus[i]))) {
            fprintf(stderr, "%s: %s=%s: not a ZeroMQ endpoint (e.g. tcp://bus:7701)\n", program,
                    bus[i], kf_config_str(table, bus[i]));
            return -1;
        }
    if (!s_declares(table, "KEFU_DATABASE_URL"))
        return 0;
    const char *url = kf_config_str(table, "KEFU_DATABASE_URL");
    /* libpq reads a value without '=' or a URI prefix as a database name. */
    if (!strchr(url, '=') && strncmp(url, "postgresql://", 13) != 0 &&
        strncmp(url, "postgres://", 11) != 0)
        return 0;
    char *why = NULL;
    PQconninfoOption *options = PQconninfoParse(url, &why);
    if (options) {
        PQconninfoFree(options);
        return 0;
    }
    /* libpq's reason, cut where it would quote the URL back. */
    char reason[160] = "out of memory";
    if (why) {
        snprintf(reason, sizeof reason, "%s", why);
        reason[strcspn(reason, "\n")] = '\0';
        char *quoted = strstr(reason, ": \"");
        if (quoted && strstr(quoted, url))
            *quoted = '\0';
    }
    fprintf(stderr,
            "%s: KEFU_DATABASE_URL is not a libpq URL (postgresql://USER:PASSWORD@HOST:PORT/DB) "
            "nor a key=value string: %s\n",
            program, reason);
    PQfreemem(why);
    return -1;
}

int kf_config_start(int argc, char **argv, const char *program, const char *daemon,
                    const char *summary, const kf_setting_t *table)
{
    kf_stop_catch(); /* before anything that takes time: a SIGTERM now stops cleanly */
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        if (!help)
            fprintf(stderr, "%s: unexpected argument '%s'; settings come from the environment\n",
                    program, argv[1]);
        kf_config_help(help ? stdout : stderr, program, summary, table);
        return help ? 0 : 2;
    }
    if (kf_log_init(daemon, kf_config_str(table, "KEFU_LOG_LEVEL")) != 0) {
        fprintf(stderr, "%s: KEFU_LOG_LEVEL=%s: must be debug, info, warn or error\n", program,
                kf_config_str(table, "KEFU_LOG_LEVEL"));
        return 2;
    }
    if (s_check_endpoints(program, table) != 0)
        return 2;
    return -1;
}
