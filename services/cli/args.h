/* kefu client — command-line parsing shared by the commands: the global
   options every command also accepts, and local checks of arguments with
   messages that say what would be right. */
#ifndef KF_CLI_ARGS_H
#define KF_CLI_ARGS_H

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

/* getopt_long codes of the global options (above any short option). */
enum { ARG_JSON = 0x100, ARG_CERT, ARG_ENDPOINT, ARG_TIMEOUT, ARG_FIRST_LOCAL };

/* The global options, to end every command's option table with. */
#define ARGS_GLOBAL_OPTIONS                                                                        \
    {"json", no_argument, NULL, ARG_JSON}, {"cert", required_argument, NULL, ARG_CERT},            \
        {"endpoint", required_argument, NULL, ARG_ENDPOINT},                                       \
        {"timeout", required_argument, NULL, ARG_TIMEOUT}, {"help", no_argument, NULL, 'h'},       \
    {                                                                                              \
        NULL, 0, NULL, 0                                                                           \
    }

/* What the catalog says of a text field given as the option --name: its
   limit in bytes, whether it is required, and for an enumeration its
   names (NULL-terminated; max is then unused). */
typedef struct {
    const char *name;
    size_t max;
    bool required;
    const char *const *names;
} args_field_t;

/* The getopt_long code of a command's local option i. */
#define ARGS_OPT(i) (ARG_FIRST_LOCAL + (i))

/* A command of a program's table (kefu's, kefu-admin's): its name, what it
   does, and its entry point (argv[0] is the name; returns an exit code).
   A table ends with a NULL name. */
typedef struct {
    const char *name;
    const char *summary;
    int (*run)(cli_t *cli, int argc, char **argv);
} args_command_t;

/* The command of table named name, or NULL. */
const args_command_t *args_command_find(const args_command_t *table, const char *name);

/* The names of table's commands, comma-separated, into buf. */
const char *args_command_names(const args_command_t *table, char *buf, size_t size);

/* The "Commands:" lines of a --help: name (width columns) and summary. */
void args_command_help(FILE *out, const args_command_t *table, int width);

/* What args_parse found. */
enum { ARGS_HELP = -1, ARGS_OK = 0 };

/* Parses a command's argv with getopt_long: global options go into cli,
   local option ARGS_OPT(i) into values[i] (nvalues of them; "" for a flag
   without an argument), --help
   prints help to stdout. Returns ARGS_OK (operands start at optind),
   ARGS_HELP, or CLI_EXIT_USAGE after reporting. */
int args_parse(cli_t *cli, const char *cmd, int argc, char **argv, const struct option *options,
               void (*help)(FILE *out), const char **values, size_t nvalues);

/* Checks values[i] against fields[i] for each of n fields. Returns 0, or
   CLI_EXIT_USAGE after reporting the first problem. */
int args_fields(const cli_t *cli, const char *cmd, const args_field_t *fields,
                const char *const *values, size_t n);

/* The help lines of the global options, for every command's --help. */
void args_global_help(FILE *out);

/* Applies a global option c with value arg to cli. Returns 1 when c is a
   global option and was applied, 0 when c is not global, -1 after
   reporting a bad value. */
int args_global(cli_t *cli, const char *cmd, int c, const char *arg);

/* Reports getopt's '?' or ':' for argv (optind as getopt left it); returns
   CLI_EXIT_USAGE. */
int args_bad_option(const cli_t *cli, const char *cmd, int c, char **argv);

/* Reports a usage error about field (an option name without dashes, or an
   argument name) and points at `kefu CMD --help`; returns CLI_EXIT_USAGE. */
int args_usage(const cli_t *cli, const char *cmd, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks a text argument named label in messages (e.g. "--summary" or
   "KEFU_CERT"): valid UTF-8, at most max bytes, and not blank when
   required. Returns 0, or CLI_EXIT_USAGE after reporting. */
int args_check(const cli_t *cli, const char *cmd, const char *field, const char *label,
               const char *value, size_t max, bool required);

/* args_check for the option --field. */
int args_text(const cli_t *cli, const char *cmd, const char *field, const char *value, size_t max,
              bool required);

/* Checks that value is one of names (NULL-terminated), listing them when
   it is not. Returns 0, or CLI_EXIT_USAGE after reporting. */
int args_enum(const cli_t *cli, const char *cmd, const char *field, const char *value,
              const char *const *names);

/* Checks that a certificate was given (--cert, KEFU_CERT or the default
   file) and can be read: it says who acts. */
int args_cert(const cli_t *cli, const char *cmd);

/* Checks the operands left after the options: exactly want of them. */
int args_operands(const cli_t *cli, const char *cmd, int argc, char **argv, int want,
                  const char *what);

/* Takes the one operand a ticket command expects, the ticket number
   (str(32) in the catalog). Returns 0, or CLI_EXIT_USAGE after reporting. */
int args_ticket(const cli_t *cli, const char *cmd, int argc, char **argv, const char **ticket);

/* Parses a whole number in [min, max]; returns 0 or -1. */
int args_number(const char *text, long min, long max, long *out);

/* Checks --limit of a paged list command when given (value not NULL): a
   number in 1..max into *out. Returns ARGS_OK or the usage exit code. */
int args_limit(const cli_t *cli, const char *cmd, const char *value, long max, long *out);

#endif
