/* kefu-admin — operator tools that talk to PostgreSQL directly
   (KEFU_DATABASE_URL), not through a daemon. The subcommands load
   the organisation (admin_org.c), the owner list (admin_owners.c) and the
   ticket history of the previous system (admin_tickets.c); the file formats
   are in deploy/ORG-FORMAT.md. What they share is here: the list of
   problems found in a file, each with its place, and the store access. */
#ifndef KF_ADMIN_H
#define KF_ADMIN_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* The exit code of a load that went through with some rows rejected (the
   others were loaded). Codes 0-4 are those of cli.h. */
enum { ADMIN_EXIT_PARTIAL = 5 };

#define ADMIN_MAX_ERRORS 100 /* problems listed unless --max-errors says */

/* One problem with an input: where it is and what is wrong. */
typedef struct {
    size_t line;   /* line of a CSV record, 0 for other places */
    char *place;   /* "$.staff[12].manager", a CSV column name, or "" */
    char *code;    /* short reason key for counting, e.g. "bad_phone" */
    char *message; /* for people */
    size_t seq;    /* order found, to keep sorting stable */
} adm_problem_t;

/* Reason codes with their counts, over all problems (also those not kept). */
typedef struct {
    char code[32];
    size_t count;
} adm_reason_t;

/* The problems found in one input, in the order found. At most max are
   kept; all are counted. */
typedef struct {
    adm_problem_t *items;
    size_t count; /* kept */
    size_t cap;
    size_t total; /* found */
    size_t max;
    adm_reason_t reasons[24];
    size_t nreasons;
} adm_problems_t;

void adm_problems_init(adm_problems_t *self, size_t max);
void adm_problems_free(adm_problems_t *self);

/* Records a problem at place (line 0) or in a CSV line (place: the column). */
void adm_problem(adm_problems_t *self, size_t line, const char *place, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Counts n more problems with reason code that are not kept (found by a
   set-based check whose first ones were recorded with adm_problem). */
void adm_problems_count(adm_problems_t *self, const char *code, size_t n);

/* Sorts the kept problems by line (stable), for CSV files checked in two
   passes. */
void adm_problems_sort(adm_problems_t *self);

/* Prints the kept problems to out, one a line: "FILE: PLACE: MESSAGE" or
   "FILE: line N: COLUMN: MESSAGE", then how many more there were. */
void adm_problems_print(const adm_problems_t *self, FILE *out, const char *file);

/* Prints "  rejected: CODE N, CODE N" on stdout when there are reasons. */
void adm_reasons_print(const adm_problems_t *self);

/* The problems as a JSON array of {line?, place, code, message}. */
json_t *adm_problems_json(const adm_problems_t *self);

/* The reason counts as a JSON object {code: count}. */
json_t *adm_reasons_json(const adm_problems_t *self);

/* Options every admin subcommand takes. */
typedef struct {
    const char *database; /* --database, else KEFU_DATABASE_URL, else postgresql:///kefu */
    bool check;           /* --check: validate against the store, apply nothing */
    long max_errors;      /* --max-errors */
} adm_opts_t;

/* Connects to the store. Returns NULL after reporting why. */
PGconn *adm_connect(const cli_t *cli, const adm_opts_t *opts);

/* Runs one parameterised statement (text parameters, NULL for SQL NULL).
   Returns the result, or NULL with why filled with the server's message. */
PGresult *adm_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *why,
                   size_t why_size);

/* Runs one statement whose result is not needed. Returns 0, or -1 with
   why filled. */
int adm_do(PGconn *conn, const char *sql, int nparams, const char *const *params, char *why,
           size_t why_size);

/* Sends size bytes of COPY text data to the statement copy_sql
   (COPY ... FROM STDIN). Returns 0 or -1 with why filled. */
int adm_copy(PGconn *conn, const char *copy_sql, const char *data, size_t size, char *why,
             size_t why_size);

/* Adds the rows of a rejection table (columns line, field, code, message;
   fixed name, not a value) to problems: the first ones with their
   messages, as many as problems still keeps, the rest counted by code.
   Adds their number to *rejected. Returns 0 or -1 with why filled. */
int adm_store_rejects(PGconn *conn, const char *table, adm_problems_t *problems, size_t *rejected,
                      char *why, size_t why_size);

/* Appends value to a COPY text-format buffer, escaped (NULL is \N). */
void adm_copy_field(char **buf, size_t *len, size_t *cap, const char *value, bool last);

/* The lowercase hex SHA-1 of size bytes (41 bytes with the NUL). */
void adm_sha1(const void *data, size_t size, char out[41]);

/* Reports a failure that is not a problem of the input (store, file
   system): "kefu-admin: CMD: message"; in --json mode also as an error
   object. Returns code. */
int adm_fail(const cli_t *cli, const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The row's column col as text ("" for NULL). */
const char *adm_text(const PGresult *res, int row, int col);

/* Milliseconds in column col shown in the local zone ("" for NULL). */
void adm_time(const PGresult *res, int row, int col, char *buf, size_t size);

/* Prints the rows of res as one JSON array of objects named by columns:
   NULL as null, columns id, attempts and *_ms as numbers, others as text. */
void adm_print_rows(const PGresult *res);

/* Prints json on one line of stdout and frees it. */
void adm_print_json(json_t *json);

/* Parses the options of an admin subcommand: the common ones and nlocal
   more (values[i] for long_options local[i], each with a value unless
   flag[i]). Returns ARGS_OK with optind at the operands, ARGS_HELP, or an
   exit code after reporting. */
struct option;
int adm_parse(cli_t *cli, const char *cmd, int argc, char **argv, void (*help)(FILE *out),
              adm_opts_t *opts, const char *const *local, const bool *flag, const char **values,
              size_t nlocal);

/* The help lines of --json and --help, for the commands that do not take
   adm_options_help's (status, notification). */
void adm_json_help(FILE *out);

/* The common options' help lines. */
void adm_options_help(FILE *out);

/* The commands of kefu-admin. argv[0] is the command's name. */
int admin_import(cli_t *cli, int argc, char **argv);
int admin_import_owners(cli_t *cli, int argc, char **argv);
int admin_import_tickets(cli_t *cli, int argc, char **argv);
int admin_server_cert(cli_t *cli, int argc, char **argv);
int admin_cert(cli_t *cli, int argc, char **argv);
int admin_revoke(cli_t *cli, int argc, char **argv);
int admin_passwd(cli_t *cli, int argc, char **argv);
int admin_sessions(cli_t *cli, int argc, char **argv);
int admin_delegate(cli_t *cli, int argc, char **argv);
int cmd_status(cli_t *cli, int argc, char **argv);
int cmd_notification(cli_t *cli, int argc, char **argv);

#endif
