/* kefu clients — shared option parsing and local argument checks. */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "output.h"

#define ARGS_TIMEOUT_MAX 600000 /* ms; ten minutes is already absurd */

void args_global_help(FILE *out)
{
    fprintf(out,
            "Global options (before or after the command):\n"
            "  --cert FILE        your certificate, which says who you are (default:\n"
            "                     $KEFU_CERT or ~/.kefu/kefu.cert; kefu-admin cert issues it)\n"
            "  --endpoint URL     the daemon's endpoint (default: $KEFU_INTAKE or "
            "tcp://127.0.0.1:7700;\n"
            "                     for survey: $KEFU_SURVEY or tcp://127.0.0.1:7710)\n"
            "  --timeout MS       wait this long for a reply (default: $KEFU_TIMEOUT_MS or "
            "5000)\n"
            "  --json             print the reply as one line of JSON (errors too)\n"
            "  -h, --help         show this help\n");
}

int args_ticket(const cli_t *cli, const char *cmd, int argc, char **argv, const char **ticket)
{
    int rc = args_operands(cli, cmd, argc, argv, 1, "ticket");
    if (rc == 0)
        rc = args_check(cli, cmd, "ticket", "the ticket number", argv[optind], KF_LIM_TICKET, true);
    if (rc == 0)
        *ticket = argv[optind];
    return rc;
}

int args_number(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

int args_global(cli_t *cli, const char *cmd, int c, const char *arg)
{
    long ms;
    switch (c) {
    case ARG_JSON:
        cli->json = true;
        return 1;
    case ARG_CERT:
        if (args_text(cli, cmd, "cert", arg, sizeof cli->cert - 1, true) != 0)
            return -1;
        snprintf(cli->cert, sizeof cli->cert, "%s", arg);
        return 1;
    case ARG_ENDPOINT:
        if (args_text(cli, cmd, "endpoint", arg, sizeof cli->endpoint - 1, true) != 0)
            return -1;
        snprintf(cli->endpoint, sizeof cli->endpoint, "%s", arg);
        cli->endpoint_given = true;
        return 1;
    case ARG_TIMEOUT:
        if (args_number(arg, 1, ARGS_TIMEOUT_MAX, &ms) != 0) {
            args_usage(cli, cmd, "timeout", "--timeout '%s' is not a number of ms in 1..%d", arg,
                       ARGS_TIMEOUT_MAX);
            return -1;
        }
        cli->timeout_ms = (int)ms;
        return 1;
    default:
        return 0;
    }
}

int args_usage(const cli_t *cli, const char *cmd, const char *field, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    out_local_error(cli, "usage", field, "%s%s%s", cmd ? cmd : "", cmd ? ": " : "", message);
    fprintf(stderr, "Try '%s%s%s --help'.\n", cli_program(cli), cmd ? " " : "", cmd ? cmd : "");
    return CLI_EXIT_USAGE;
}

int args_bad_option(const cli_t *cli, const char *cmd, int c, char **argv)
{
    const char *word = argv[optind - 1];
    if (c == ':')
        return args_usage(cli, cmd, NULL, "option '%s' needs a value", word);
    if (optopt != 0 && optopt < ARG_JSON && strncmp(word, "--", 2) != 0)
        return args_usage(cli, cmd, NULL, "unknown option '-%c'", optopt);
    return args_usage(cli, cmd, NULL, "unknown option '%s'", word);
}

int args_check(const cli_t *cli, const char *cmd, const char *field, const char *label,
               const char *value, size_t max, bool required)
{
    size_t len = strlen(value);
    if (!kf_utf8_valid(value, len))
        return args_usage(cli, cmd, field, "%s is not valid UTF-8 (check the terminal's encoding)",
                          label);
    if (len > max)
        return args_usage(cli, cmd, field, "%s is %zu bytes long; at most %zu are allowed", label,
                          len, max);
    if (required && strspn(value, " \t\r\n") == len)
        return args_usage(cli, cmd, field, "%s must not be blank", label);
    return 0;
}

int args_text(const cli_t *cli, const char *cmd, const char *field, const char *value, size_t max,
              bool required)
{
    char label[64];
    snprintf(label, sizeof label, "--%s", field);
    return args_check(cli, cmd, field, label, value, max, required);
}

int args_enum(const cli_t *cli, const char *cmd, const char *field, const char *value,
              const char *const *names)
{
    char list[512] = "";
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(names[i], value) == 0)
            return 0;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    }
    return args_usage(cli, cmd, field, "--%s '%s' is not one of: %s", field, value, list);
}

int args_cert(const cli_t *cli, const char *cmd)
{
    if (cli->cert[0] == '\0')
        return args_usage(cli, cmd, "cert",
                          "who are you? give --cert FILE or set KEFU_CERT (an operator issues "
                          "a certificate with: kefu-admin cert STAFF --out FILE)");
    if (access(cli->cert, R_OK) != 0)
        return args_usage(cli, cmd, "cert", "cannot read the certificate %s: %s", cli->cert,
                          strerror(errno));
    return 0;
}

int args_operands(const cli_t *cli, const char *cmd, int argc, char **argv, int want,
                  const char *what)
{
    int have = argc - optind;
    if (have < want)
        return args_usage(cli, cmd, what, "missing the %s argument", what);
    if (have > want)
        return args_usage(cli, cmd, NULL, "unexpected argument '%s'", argv[optind + want]);
    return 0;
}

int args_parse(cli_t *cli, const char *cmd, int argc, char **argv, const struct option *options,
               void (*help)(FILE *out), const char **values, size_t nvalues)
{
    int c;
    optind = 0; /* glibc: start afresh, as main has parsed before us */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return ARGS_HELP;
        }
        int global = args_global(cli, cmd, c, optarg);
        if (global < 0)
            return CLI_EXIT_USAGE;
        if (global > 0)
            continue;
        if (c < ARGS_OPT(0) || c >= ARGS_OPT((int)nvalues))
            return args_bad_option(cli, cmd, c, argv);
        values[c - ARGS_OPT(0)] = optarg ? optarg : ""; /* a flag given: "" */
    }
    return ARGS_OK;
}

int args_fields(const cli_t *cli, const char *cmd, const args_field_t *fields,
                const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const args_field_t *f = &fields[i];
        int rc = 0;
        if (!values[i] && f->required)
            rc = args_usage(cli, cmd, f->name, "--%s is required", f->name);
        else if (values[i] && f->names)
            rc = args_enum(cli, cmd, f->name, values[i], f->names);
        else if (values[i])
            rc = args_text(cli, cmd, f->name, values[i], f->max, f->required);
        if (rc != 0)
            return rc;
    }
    return 0;
}

const args_command_t *args_command_find(const args_command_t *table, const char *name)
{
    for (const args_command_t *c = table; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *args_command_names(const args_command_t *table, char *buf, size_t size)
{
    buf[0] = '\0';
    for (const args_command_t *c = table; c->name; c++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", c == table ? "" : ", ", c->name);
    }
    return buf;
}

void args_command_help(FILE *out, const args_command_t *table, int width)
{
    fprintf(out, "Commands:\n");
    for (const args_command_t *c = table; c->name; c++)
        fprintf(out, "  %-*s %s\n", width, c->name, c->summary);
}

int args_limit(const cli_t *cli, const char *cmd, const char *value, long max, long *out)
{
    if (!value || args_number(value, 1, max, out) == 0)
        return ARGS_OK;
    return args_usage(cli, cmd, "limit", "--limit '%s' is not a number in 1..%ld", value, max);
}
