/* kefu — configuration from environment variables, one typed table per
   program. */
#include "config.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Writes what a value of s's type looks like into buf: "integer 1..1000",
   "one of debug, info, warn or error", ... */
static const char *s_type_text(const kf_setting_t *s, char *buf, size_t size)
{
    static const char *const names[] = {
        [KF_TYPE_STRING] = "text",
        [KF_TYPE_ENDPOINT] = "ZeroMQ endpoint",
        [KF_TYPE_CONNINFO] = "libpq connection string",
        [KF_TYPE_ADDRESS] = "host or IP address",
        [KF_TYPE_PATH] = "path",
        [KF_TYPE_TZ] = "time zone",
    };
    if (s->type == KF_TYPE_INTEGER)
        snprintf(buf, size, "integer %ld..%ld", s->min, s->max);
    else if (s->type == KF_TYPE_WORD || s->type == KF_TYPE_URL) {
        /* "a|b|c" -> "a, b or c" */
        const char *words = s->words ? s->words : "";
        size_t n = (size_t)snprintf(buf, size, "%s", s->type == KF_TYPE_URL ? "URL (" : "one of ");
        const char *last = strrchr(words, '|');
        for (const char *w = words; *w && n + 4 < size; w++) {
            if (*w != '|')
                buf[n++] = *w;
            else
                n += (size_t)snprintf(buf + n, size - n, "%s", w == last ? " or " : ", ");
        }
        buf[n < size ? n : size - 1] = '\0';
        if (s->type == KF_TYPE_URL && n + 2 < size)
            strcat(buf, ")");
    } else
        snprintf(buf, size, "%s", names[s->type]);
    return buf;
}

/* Parses text as a decimal integer into *value; false when it is not one. */
static bool s_integer(const char *text, long *value)
{
    char *end = NULL;
    errno = 0;
    *value = strtol(text, &end, 10);
    return !errno && end != text && *end == '\0';
}

/* Checks the shape of a ZeroMQ endpoint, which zmq_connect would refuse
   only silently: tcp://HOST:PORT, ipc://PATH, inproc://NAME, or another
   transport's non-empty address. */
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

/* Whether url is SCHEME://REST with SCHEME one of the '|'-separated schemes. */
static bool s_url_ok(const char *url, const char *schemes)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url || sep[3] == '\0')
        return false;
    size_t len = (size_t)(sep - url);
    for (const char *w = schemes; w && *w;) {
        size_t n = strcspn(w, "|");
        if (n == len && strncmp(w, url, len) == 0)
            return true;
        w += n + (w[n] == '|');
    }
    return false;
}

/* Whether word is one of the '|'-separated words. */
static bool s_word_ok(const char *word, const char *words)
{
    size_t len = strlen(word);
    for (const char *w = words; w && *w;) {
        size_t n = strcspn(w, "|");
        if (n == len && strncmp(w, word, len) == 0)
            return true;
        w += n + (w[n] == '|');
    }
    return false;
}

/* Whether tz names a zone file (glibc would fall back to UTC without a word). */
static bool s_tz_ok(const char *tz)
{
    const char *dir = getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo";
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, tz[0] == ':' ? tz + 1 : tz);
    return !strstr(tz, "..") && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Checks value against s's type and bounds; returns NULL when it fits,
   else what is expected (in buf, or a constant). */
static const char *s_problem(const kf_setting_t *s, const char *value, char *buf, size_t size)
{
    char type[160];
    long number = 0;
    if (!*value) {
        bool optional =
            s->type == KF_TYPE_STRING || s->type == KF_TYPE_PATH || s->type == KF_TYPE_URL;
        if (optional)
            return NULL;
        snprintf(buf, size, "no value, expected %s", s_type_text(s, type, sizeof type));
        return buf;
    }
    switch (s->type) {
    case KF_TYPE_INTEGER:
        if (!s_integer(value, &number))
            snprintf(buf, size, "not an integer, expected one in [%ld, %ld]", s->min, s->max);
        else if (number < s->min || number > s->max)
            snprintf(buf, size, "out of range [%ld, %ld]", s->min, s->max);
        else
            return NULL;
        return buf;
    case KF_TYPE_ENDPOINT:
        return s_endpoint_ok(value) ? NULL : "not a ZeroMQ endpoint (e.g. tcp://bus:7701)";
    case KF_TYPE_CONNINFO:
        return !s->check || s->check(value, buf, size) ? NULL : buf;
    case KF_TYPE_URL:
        snprintf(buf, size, "not a URL, expected %s", s_type_text(s, type, sizeof type));
        return s_url_ok(value, s->words) ? NULL : buf;
    case KF_TYPE_ADDRESS:
        return strlen(value) <= 200 && !strpbrk(value, "/[] \t")
                   ? NULL
                   : "not an address (e.g. 127.0.0.1 or 0.0.0.0)";
    case KF_TYPE_TZ:
        snprintf(buf, size, "no such time zone in %s",
                 getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo");
        return s_tz_ok(value) ? NULL : buf;
    case KF_TYPE_WORD:
        snprintf(buf, size, "must be %s", s_type_text(s, type, sizeof type));
        return s_word_ok(value, s->words) ? NULL : buf;
    default:
        return NULL; /* text and paths: anything */
    }
}

int kf_config_int(const kf_setting_t *table, const char *name, long *out)
{
    const kf_setting_t *s = s_find(table, name);
    assert(s && s->type == KF_TYPE_INTEGER);
    const char *text = kf_config_str(table, name);
    char why[200];
    const char *problem = s_problem(s, text, why, sizeof why);
    if (problem) {
        fprintf(stderr, "%s=%s: %s\n", name, text, problem);
        return -1;
    }
    s_integer(text, out);
    return 0;
}

int kf_config_check(FILE *err, const char *program, const kf_setting_t *table)
{
    int rc = 0;
    for (const kf_setting_t *s = table; s && s->name; s++) {
        const char *value = kf_config_str(table, s->name);
        char why[200];
        const char *problem = s_problem(s, value, why, sizeof why);
        if (!problem)
            continue;
        if (s->type == KF_TYPE_CONNINFO) /* its text may hold a password: not repeated */
            fprintf(err,
                    "%s: %s is not a libpq URL (postgresql://USER:PASSWORD@HOST:PORT/DB) nor a "
                    "key=value string: %s\n",
                    program, s->name, problem);
        else
            fprintf(err, "%s: %s=%s: %s\n", program, s->name, value, problem);
        rc = -1;
    }
    return rc;
}

void kf_config_help_settings(FILE *out, const kf_setting_t *table)
{
    for (const kf_setting_t *s = table; s && s->name; s++) {
        char type[160];
        fprintf(out, "  %-29s %s%s: %s (default: %s)\n", s->name, s_type_text(s, type, sizeof type),
                s->reloadable ? ", reloadable with SIGHUP" : "", s->help,
                *s->def ? s->def : "none");
    }
}

void kf_config_help(FILE *out, const char *program, const char *summary, const kf_setting_t *table)
{
    fprintf(out, "Usage: %s [--help]\n\n%s\n\nConfiguration (environment variables):\n", program,
            summary ? summary : "");
    kf_config_help_settings(out, table);
}

void kf_config_markdown(FILE *out, const kf_setting_t *table)
{
    fprintf(out, "| variable | type | default | meaning |\n| --- | --- | --- | --- |\n");
    for (const kf_setting_t *s = table; s && s->name; s++) {
        char type[160];
        fprintf(out, "| `%s` | %s | ", s->name, s_type_text(s, type, sizeof type));
        if (s->shown)
            fprintf(out, "%s", s->shown);
        else
            fprintf(out, *s->def ? "`%s`" : "—", s->def);
        fprintf(out, " | %s%s |\n", s->help, s->reloadable ? "; re-read on SIGHUP" : "");
    }
}

int kf_config_start(int argc, char **argv, const char *program, const char *daemon,
                    const char *summary, const kf_setting_t *table)
{
    if (argc > 1 && strcmp(argv[1], "--settings-markdown") == 0) {
        kf_config_markdown(stdout, table);
        return 0;
    }
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        if (!help)
            fprintf(stderr, "%s: unexpected argument '%s'; settings come from the environment\n",
                    program, argv[1]);
        kf_config_help(help ? stdout : stderr, program, summary, table);
        return help ? 0 : 2;
    }
    if (kf_config_check(stderr, program, table) != 0)
        return 2;
    kf_log_init(daemon, kf_config_str(table, "KEFU_LOG_LEVEL")); /* checked: a KF_SET_WORD */
    return -1;
}
