/* kefu — configuration from environment variables, one table per program. */
#include "config.h"
#include "log.h"

#include <assert.h>
#include <stdbool.h>
#include <errno.h>
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
        fprintf(stderr, "%s=%s: not an integer\n", name, text);
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

int kf_config_start(int argc, char **argv, const char *program, const char *daemon,
                    const char *summary, const kf_setting_t *table)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        if (!help)
            fprintf(stderr, "%s: unexpected argument '%s'; settings come from the environment\n",
                    program, argv[1]);
        kf_config_help(help ? stdout : stderr, program, summary, table);
        return help ? 0 : 2;
    }
    if (kf_log_init(daemon, kf_config_str(table, "KEFU_LOG_LEVEL")) != 0) {
        fprintf(stderr, "%s: KEFU_LOG_LEVEL must be debug, info, warn or error\n", program);
        return 2;
    }
    return -1;
}
