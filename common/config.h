/* kefu — configuration from environment variables, one typed table per
   program.

   Each program declares a table of kf_setting_t: name, type, default,
   bounds, whether SIGHUP re-reads it, and its meaning. Everything else is
   written from that table: the validation at start (kf_config_start),
   --help, and the settings tables of README.md and deploy/README.md
   (--settings-markdown, checked by tests/deploy/settings_docs.py). */
#ifndef KF_CONFIG_H
#define KF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What a setting's value must look like. Text, a path or a URL may be
   empty (when the default is: the feature is then off); the others always
   need a value. */
typedef enum {
    KF_TYPE_STRING,   /* any text */
    KF_TYPE_INTEGER,  /* a decimal integer in [min, max] */
    KF_TYPE_ENDPOINT, /* a ZeroMQ endpoint: tcp://HOST:PORT, ipc://PATH, ... */
    KF_TYPE_CONNINFO, /* a libpq connection string: URL, key=value or a database name */
    KF_TYPE_URL,      /* SCHEME://REST with SCHEME one of words */
    KF_TYPE_ADDRESS,  /* a host name or IP address to listen on */
    KF_TYPE_PATH,     /* a file or directory name */
    KF_TYPE_TZ,       /* a time zone of the tz database (TZDIR, /usr/share/zoneinfo) */
    KF_TYPE_WORD      /* one of words */
} kf_type_t;

typedef struct {
    const char *name;  /* environment variable, e.g. KEFU_DATABASE_URL */
    const char *def;   /* default value as text ("": none) */
    kf_type_t type;    /* what the value must look like */
    long min, max;     /* bounds of a KF_TYPE_INTEGER */
    const char *words; /* KF_TYPE_WORD: the allowed words; KF_TYPE_URL: the schemes; '|' between */
    bool reloadable;   /* SIGHUP re-reads what it names (the value itself is the start's) */
    const char *help;  /* one line of meaning, with the unit (s, ms) where there is one */
    const char *shown; /* the default as the docs name it, when it depends on the build */
    /* A check beyond the type's, or NULL: returns false with why filled. */
    bool (*check)(const char *value, char *why, size_t size);
} kf_setting_t;

/* Whether a libpq connection string parses; when not, libpq's reason, cut
   where it would quote the value back (it may hold a password), in why.
   The check of KF_SET_CONNINFO; defined in store.c, so only programs that
   read a store (and link libpq) use it. */
bool kf_store_conninfo_ok(const char *url, char *why, size_t size);

/* Entries of a table, one per type. */
#define KF_SET_STRING(name, def, help)                                                             \
    {                                                                                              \
        name, def, KF_TYPE_STRING, 0, 0, NULL, false, help, NULL, NULL                             \
    }
#define KF_SET_INT(name, def, min, max, help)                                                      \
    {                                                                                              \
        name, def, KF_TYPE_INTEGER, min, max, NULL, false, help, NULL, NULL                        \
    }
#define KF_SET_ENDPOINT(name, def, help)                                                           \
    {                                                                                              \
        name, def, KF_TYPE_ENDPOINT, 0, 0, NULL, false, help, NULL, NULL                           \
    }
#define KF_SET_CONNINFO(name, def, help)                                                           \
    {                                                                                              \
        name, def, KF_TYPE_CONNINFO, 0, 0, NULL, false, help, NULL, kf_store_conninfo_ok           \
    }
#define KF_SET_URL(name, def, schemes, help)                                                       \
    {                                                                                              \
        name, def, KF_TYPE_URL, 0, 0, schemes, false, help, NULL, NULL                             \
    }
#define KF_SET_ADDRESS(name, def, help)                                                            \
    {                                                                                              \
        name, def, KF_TYPE_ADDRESS, 0, 0, NULL, false, help, NULL, NULL                            \
    }
#define KF_SET_PATH(name, def, help)                                                               \
    {                                                                                              \
        name, def, KF_TYPE_PATH, 0, 0, NULL, false, help, NULL, NULL                               \
    }
#define KF_SET_TZ(name, def, help)                                                                 \
    {                                                                                              \
        name, def, KF_TYPE_TZ, 0, 0, NULL, false, help, NULL, NULL                                 \
    }
#define KF_SET_WORD(name, def, words, help)                                                        \
    {                                                                                              \
        name, def, KF_TYPE_WORD, 0, 0, words, false, help, NULL, NULL                              \
    }

/* Settings every process on the bus reads (the bus itself needs no store). */
#define KF_SETTINGS_BUS                                                                            \
    KF_SET_WORD("KEFU_LOG_LEVEL", "info", "debug|info|warn|error",                                 \
                "least severe log line written to stderr"),                                        \
        KF_SET_ENDPOINT("KEFU_BUS_PUB", "tcp://127.0.0.1:7701",                                    \
                        "bus endpoint publishers connect to"),                                     \
        KF_SET_ENDPOINT("KEFU_BUS_SUB", "tcp://127.0.0.1:7702",                                    \
                        "bus endpoint subscribers connect to"),                                    \
        KF_SET_ENDPOINT("KEFU_BUS_PUSH", "tcp://127.0.0.1:7703",                                   \
                        "bus endpoint work producers connect to"),                                 \
        KF_SET_ENDPOINT("KEFU_BUS_PULL", "tcp://127.0.0.1:7704",                                   \
                        "bus endpoint workers connect to")

/* Settings every daemon reads; put KF_SETTINGS_COMMON first in a table. */
#define KF_SETTINGS_COMMON                                                                         \
    KF_SET_CONNINFO("KEFU_DATABASE_URL", "postgresql:///kefu",                                     \
                    "PostgreSQL connection string (libpq URL or key=value)"),                      \
        KF_SETTINGS_BUS

/* The end marker of a table. */
#define KF_SETTINGS_END                                                                            \
    {                                                                                              \
        NULL, NULL, KF_TYPE_STRING, 0, 0, NULL, false, NULL, NULL, NULL                            \
    }

/* The value of name: the environment's when set and non-empty, else the
   table's default. name must be in the table (asserted). */
const char *kf_config_str(const kf_setting_t *table, const char *name);

/* Reads the integer setting name into *out, within the table's bounds.
   Returns 0, or -1 after printing a message naming the variable, the value
   and what is expected. */
int kf_config_int(const kf_setting_t *table, const char *name, long *out);

/* Checks every setting of table against its type and bounds, printing to
   err one line per bad value (PROGRAM: VARIABLE=VALUE: what is expected).
   Returns 0, or -1 when any is bad. */
int kf_config_check(FILE *err, const char *program, const kf_setting_t *table);

/* Prints usage: the summary, then each setting with its type, bounds,
   default, "reloadable with SIGHUP" where true, and meaning. */
void kf_config_help(FILE *out, const char *program, const char *summary, const kf_setting_t *table);

/* Prints only the settings part of kf_config_help. */
void kf_config_help_settings(FILE *out, const kf_setting_t *table);

/* Prints the table as a Markdown table (variable, type, default, meaning),
   for the docs' generated blocks. */
void kf_config_markdown(FILE *out, const kf_setting_t *table);

/* The start of a daemon's main, after kf_stop_catch (stop.h): answers --help (and any other
   argument, with usage on stderr, exit 2) and --settings-markdown, checks the whole table (exit 2
   when a value is bad) and sets up logging as daemon at KEFU_LOG_LEVEL. Returns -1 when the daemon
   should go on, else the exit code to return. */
int kf_config_start(int argc, char **argv, const char *program, const char *daemon,
                    const char *summary, const kf_setting_t *table);

#endif
