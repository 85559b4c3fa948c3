/* kefu client — `kefu submit`: log what an owner reported and print the
   ticket number. */
#include <string.h>

#include "args.h"
#include "call.h"
#include "catalog.h"
#include "cli.h"

#define SUBMIT_CMD "submit"

/* The fields of a submit; each is an option of the same name. */
enum {
    F_IDEM,
    F_KIND,
    F_CATEGORY,
    F_CHANNEL,
    F_PRIORITY,
    F_PROJECT,
    F_BUILDING,
    F_UNIT,
    F_PHONE,
    F_NAME,
    F_SUMMARY,
    F_DETAIL,
    F_COUNT
};

/* From proto/catalog.md, section submit. */
static const args_field_t s_fields[F_COUNT] = {
    [F_IDEM] = {"idem", KF_LIM_IDEM, false, NULL},
    [F_KIND] = {"kind", 0, true, kf_kinds},
    [F_CATEGORY] = {"category", 0, true, kf_categories},
    [F_CHANNEL] = {"channel", 0, true, kf_channels},
    [F_PRIORITY] = {"priority", 0, false, kf_priorities},
    [F_PROJECT] = {"project", KF_LIM_PROJECT, true, NULL},
    [F_BUILDING] = {"building", KF_LIM_BUILDING, false, NULL},
    [F_UNIT] = {"unit", KF_LIM_UNIT, false, NULL},
    [F_PHONE] = {"phone", KF_LIM_PHONE, true, NULL},
    [F_NAME] = {"name", KF_LIM_NAME, false, NULL},
    [F_SUMMARY] = {"summary", KF_LIM_SUMMARY, true, NULL},
    [F_DETAIL] = {"detail", KF_LIM_DETAIL, false, NULL},
};

static const struct option s_options[] = {
    {"idem", required_argument, NULL, ARGS_OPT(F_IDEM)},
    {"kind", required_argument, NULL, ARGS_OPT(F_KIND)},
    {"category", required_argument, NULL, ARGS_OPT(F_CATEGORY)},
    {"channel", required_argument, NULL, ARGS_OPT(F_CHANNEL)},
    {"priority", required_argument, NULL, ARGS_OPT(F_PRIORITY)},
    {"project", required_argument, NULL, ARGS_OPT(F_PROJECT)},
    {"building", required_argument, NULL, ARGS_OPT(F_BUILDING)},
    {"unit", required_argument, NULL, ARGS_OPT(F_UNIT)},
    {"phone", required_argument, NULL, ARGS_OPT(F_PHONE)},
    {"name", required_argument, NULL, ARGS_OPT(F_NAME)},
    {"summary", required_argument, NULL, ARGS_OPT(F_SUMMARY)},
    {"detail", required_argument, NULL, ARGS_OPT(F_DETAIL)},
    ARGS_GLOBAL_OPTIONS};

#define SUBMIT_HELP_INDENT 21 /* column of option descriptions in --help */
#define SUBMIT_HELP_WIDTH 79

/* Prints the names of an enumeration, wrapped under the description
   column; start is the column the first name is printed at. */
static void s_names(FILE *out, const char *const *names, int start)
{
    int col = start;
    for (size_t i = 0; names[i]; i++) {
        int len = (int)strlen(names[i]) + (names[i + 1] ? 1 : 0);
        if (i > 0 && col + 1 + len > SUBMIT_HELP_WIDTH) {
            fprintf(out, "\n%*s", SUBMIT_HELP_INDENT, "");
            col = SUBMIT_HELP_INDENT;
        } else if (i > 0) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%s%s", names[i], names[i + 1] ? "," : "");
        col += len;
    }
}

/* `kefu submit --help`. */
static void s_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu submit --kind K --category C --channel CH [--priority P]\n"
            "                   --project P [--building B --unit U] --phone PHONE\n"
            "                   [--name NAME] --summary TEXT [--detail TEXT] [--idem KEY]\n\n"
            "Logs what an owner reported as a new ticket and prints its number on one line,\n"
            "followed by \" (duplicate)\" when you had already logged it under this\n"
            "idempotency key. A key is yours and belongs to what you sent: the same key with\n"
            "other content is refused (conflict, naming the ticket it made; exit 1).\n"
            "If intake does not answer in time the request is sent once more with the same\n"
            "key (said on stderr), so a ticket is never logged twice; if the connection drops\n"
            "(intake restarting), it is sent again with the same key once a new one is up.\n"
            "Exit 3 (temporary) means nothing was refused: run it again with the same --idem.\n\n"
            "Options:\n");
    fprintf(out, "  --kind K           what it is: ");
    s_names(out, kf_kinds, SUBMIT_HELP_INDENT + 13);
    fprintf(out, "\n  --category C       ");
    s_names(out, kf_categories, SUBMIT_HELP_INDENT);
    fprintf(out, "\n  --channel CH       how it came in: ");
    s_names(out, kf_channels, SUBMIT_HELP_INDENT + 17);
    fprintf(out, "\n  --priority P       ");
    s_names(out, kf_priorities, SUBMIT_HELP_INDENT);
    fprintf(out,
            " (default normal)\n"
            "  --project P        project code, e.g. HZ-XH (at most 32 bytes)\n"
            "  --building B       building code (with --unit; at most 16 bytes)\n"
            "  --unit U           unit number (with --building; at most 16 bytes)\n"
            "  --phone PHONE      the owner's phone as given, e.g. '+86 138-0013-8000'\n"
            "  --name NAME        the owner's name, recorded when the owner is new\n"
            "  --summary TEXT     one line, not blank (at most 200 bytes)\n"
            "  --detail TEXT      the owner's words (at most 4000 bytes)\n"
            "  --idem KEY         idempotency key, at most 64 bytes (default: a new UUID)\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu submit --kind complaint --category leak --channel phone \\\n"
                 "       --priority high --project HZ-XH --building 3 --unit 1202 \\\n"
                 "       --phone 13800138000 --name 张三 --summary '卫生间漏水，楼下已受影响'\n");
}

/* Parses and checks argv into values; returns ARGS_OK, ARGS_HELP or an
   exit code. */
static int s_parse(cli_t *cli, int argc, char **argv, const char **values)
{
    int rc = args_parse(cli, SUBMIT_CMD, argc, argv, s_options, s_help, values, F_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, SUBMIT_CMD, argc, argv, 0, NULL);
    if (rc == ARGS_OK)
        rc = args_fields(cli, SUBMIT_CMD, s_fields, values, F_COUNT);
    if (rc == ARGS_OK && !values[F_BUILDING] != !values[F_UNIT])
        rc = args_usage(cli, SUBMIT_CMD, values[F_BUILDING] ? "unit" : "building",
                        "--building and --unit go together");
    if (rc == ARGS_OK)
        rc = args_cert(cli, SUBMIT_CMD);
    return rc;
}

/* The request body: every field given, under its wire name. */
static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    const char *const *values = (const char *const *)arg;
    kf_body_t *body = call_body(cli);
    for (size_t i = 0; i < F_COUNT; i++)
        if (values[i])
            kf_body_str(body, s_fields[i].name, values[i]);
    return body;
}

/* Prints the ticket number the reply carries, for scripts to capture. */
static int s_print(const cli_t *cli, const kf_env_t *reply)
{
    const msgpack_object *body = kf_env_body(reply);
    char ticket[KF_MAX_ID + 1];
    if (!call_str(body, "ticket", ticket, sizeof ticket) || !ticket[0])
        return call_missing(cli, "submit", "ticket");
    if (cli->json)
        return CLI_EXIT_OK;
    bool duplicate = false;
    kf_error_t err;
    kf_get_bool(body, "duplicate", false, &duplicate, &err);
    printf("%s%s\n", ticket, duplicate ? " (duplicate)" : "");
    return CLI_EXIT_OK;
}

int cmd_submit(cli_t *cli, int argc, char **argv)
{
    const char *values[F_COUNT] = {NULL};
    int rc = s_parse(cli, argc, argv, values);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    char idem[KF_MAX_ID + 1];
    if (!values[F_IDEM]) {
        zuuid_t *uuid = zuuid_new();
        snprintf(idem, sizeof idem, "%s", zuuid_str_canonical(uuid));
        zuuid_destroy(&uuid);
        values[F_IDEM] = idem;
    }
    char why[KF_MAX_ID + 48];
    snprintf(why, sizeof why, "with the same idempotency key %s", values[F_IDEM]);
    call_t call = {.type = "submit",
                   .build = s_body,
                   .arg = values,
                   .retries = 1,
                   .retry_why = why,
                   .idem = values[F_IDEM]};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK)
        rc = s_print(cli, reply);
    kf_env_destroy(&reply);
    return rc;
}
