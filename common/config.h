/* kefu — configuration from environment variables, one table per program.

   Each program declares a table of kf_setting_t; --help and the README's
   configuration table are written from the same facts. */
#ifndef KF_CONFIG_H
#define KF_CONFIG_H

#include <stdio.h>

typedef struct {
    const char *name; /* environment variable, e.g. KEFU_DATABASE_URL */
    const char *def;  /* default value as text */
    const char *help; /* one line for --help */
} kf_setting_t;

/* Settings every process on the bus reads (the bus itself needs no store). */
#define KF_SETTINGS_BUS                                                                    \
    {"KEFU_LOG_LEVEL", "info", "debug, info, warn or error"},                              \
        {"KEFU_BUS_PUB", "tcp://127.0.0.1:7701", "bus endpoint publishers connect to"},     \
        {"KEFU_BUS_SUB", "tcp://127.0.0.1:7702", "bus endpoint subscribers connect to"},    \
        {"KEFU_BUS_PUSH", "tcp://127.0.0.1:7703", "bus endpoint work producers connect to"}, \
        {"KEFU_BUS_PULL", "tcp://127.0.0.1:7704", "bus endpoint workers connect to"}

/* Settings every daemon reads; put KF_SETTINGS_COMMON first in a table. */
#define KF_SETTINGS_COMMON                                                                 \
    {"KEFU_DATABASE_URL", "postgresql:///kefu", "PostgreSQL connection string (libpq URL)"}, \
        KF_SETTINGS_BUS

/* The end marker of a table. */
#define KF_SETTINGS_END                                                                            \
    {                                                                                              \
        NULL, NULL, NULL                                                                           \
    }

/* The value of name: the environment's when set and non-empty, else the
   table's default. name must be in the table (asserted). */
const char *kf_config_str(const kf_setting_t *table, const char *name);

/* Reads name as an integer in [min, max] into *out. Returns 0, or -1 after
   printing a message naming the variable and what is wrong. */
int kf_config_int(const kf_setting_t *table, const char *name, long min, long max, long *out);

/* Prints usage: the summary, then each setting with default and help. */
void kf_config_help(FILE *out, const char *program, const char *summary, const kf_setting_t *table);

/* The start of a daemon's main: catches the stop signals for good
   (stop.h), answers --help (and any other argument, with usage on stderr)
   and sets up logging as daemon at KEFU_LOG_LEVEL.
   Returns -1 when the daemon should go on, else the exit code to return. */
int kf_config_start(int argc, char **argv, const char *program, const char *daemon,
                    const char *summary, const kf_setting_t *table);

#endif
