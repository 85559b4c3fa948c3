/* kefu-admin — the operators' tools that talk to PostgreSQL directly:
   imports, certificates, delegates, the daemons' status and the notifier's
   messages. Reads the settings, parses the options before the command and
   hands the rest of the line to one command. The agents' client `kefu`
   (services/cli) speaks only the wire. */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "args.h"
#include "cli.h"
#include "config.h"

/* kefu-admin's settings (services/admin/README.md). The commands read
   KEFU_DATABASE_URL themselves (admin.c, status.c, notification.c): each
   takes --database over it. This table is what --help says of them, and
   what is checked at start (a bad TZ or connection string, exit 2). */
static const kf_setting_t s_settings[] = {
    KF_SET_CONNINFO("KEFU_DATABASE_URL", "postgresql:///kefu",
                    "the store, a libpq URL or key=value string (--database)"),
    KF_SET_TZ("TZ", "Asia/Shanghai", "time zone times are shown in"), KF_SETTINGS_END};

/* The commands. */
static const args_command_t s_commands[] = {
    {"import", "load or update the organisation from a JSON file", admin_import},
    {"import-owners", "load the owner list from the sales system (CSV)", admin_import_owners},
    {"import-tickets", "load the ticket history of the previous system (CSV)",
     admin_import_tickets},
    {"server-cert", "create the daemons' certificate (KEFU_CURVE_CERT)", admin_server_cert},
    {"cert", "issue a staff member's (or a gateway's) certificate and register it", admin_cert},
    {"revoke", "revoke certificates (staff or gateway) at once", admin_revoke},
    {"passwd", "set a staff member's web console password", admin_passwd},
    {"sessions", "list or end a staff member's web sessions", admin_sessions},
    {"delegate", "register a delegate for an absent approver", admin_delegate},
    {"status", "every daemon instance: up or down, version, uptime, events, backlog", cmd_status},
    {"notification", "notification list|show|resend: the notifier's messages", cmd_notification},
    {NULL, NULL, NULL}};

/* `kefu-admin --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu-admin [--json] COMMAND [OPTIONS] [ARGS]\n\n"
                 "The operators' tools. Unlike kefu they do not go through intake or any\n"
                 "daemon: they connect to PostgreSQL directly, as given by --database or\n"
                 "KEFU_DATABASE_URL, and need a role that may write the organisation and\n"
                 "ticket tables. File formats: deploy/ORG-FORMAT.md.\n"
                 "`kefu-admin COMMAND --help` shows a command's options and an example.\n\n");
    args_command_help(out, s_commands, 15);
    fprintf(out, "\nOptions (before the command):\n"
                 "  --json             print the result as one line of JSON (errors too)\n"
                 "  --version          print the version\n"
                 "  -h, --help         show this help\n\n"
                 "Environment:\n");
    kf_config_help_settings(out, s_settings);
    fprintf(out, "\nExit codes:\n"
                 "  0  done\n"
                 "  1  refused: the file was refused (problems listed with their places;\n"
                 "     nothing applied), or the store refused the change\n"
                 "  2  usage error\n"
                 "  3  the store is unreachable; retry later\n"
                 "  5  loaded, but some rows were rejected (listed with their lines)\n\n"
                 "Example:\n"
                 "  export KEFU_DATABASE_URL=postgresql://kefu@127.0.0.1:5544/kefu\n"
                 "  kefu-admin import org.json && kefu-admin cert agent01 --out agent01.cert\n"
                 "  kefu-admin status\n\n"
                 "Debugging: KEFU_ADMIN_TRACE=1 prints each statement's time on stderr.\n");
}

/* Fills cli from the environment; main's options may override it.
   Returns 0, or CLI_EXIT_USAGE after naming a bad setting. */
static int s_setup(cli_t *cli)
{
    if (kf_config_check(stderr, "kefu-admin", s_settings) != 0)
        return CLI_EXIT_USAGE;
    memset(cli, 0, sizeof *cli);
    cli->program = "kefu-admin";
    /* Times are shown in the configured zone, Asia/Shanghai unless TZ says. */
    setenv("TZ", kf_config_str(s_settings, "TZ"), 1);
    tzset();
    return 0;
}

/* Parses the options before the command. Returns 0 with *next set to the
   command's index, -1 when done (help, version), or an exit code. */
static int s_global(cli_t *cli, int argc, char **argv, int *next)
{
    enum { OPT_VERSION = ARG_FIRST_LOCAL };
    static const struct option options[] = {{"version", no_argument, NULL, OPT_VERSION},
                                            {"json", no_argument, NULL, ARG_JSON},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
        if (c == 'h') {
            s_help(stdout);
            return -1;
        }
        if (c == OPT_VERSION) {
            printf("kefu-admin %s\n", KEFU_VERSION);
            return -1;
        }
        if (args_global(cli, NULL, c, optarg) <= 0)
            return args_bad_option(cli, NULL, c, argv);
    }
    *next = optind;
    return 0;
}

/* `kefu-admin help [COMMAND]`: the program's or the command's --help. */
static int s_help_of(cli_t *cli, int argc, char **argv)
{
    if (argc < 2) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    const args_command_t *command = args_command_find(s_commands, argv[1]);
    if (!command)
        return args_usage(cli, NULL, NULL, "unknown command '%s'", argv[1]);
    char *help_argv[] = {(char *)command->name, (char *)"--help", NULL};
    return command->run(cli, 2, help_argv);
}

int main(int argc, char **argv)
{
    /* Ctrl-C ends the program at once; czmq's handler would only set a flag.
       An import interrupted before its commit applies nothing. */
    zsys_handler_set(NULL);
    cli_t cli;
    char names[160];
    int next = 0;
    if (argc == 2 && strcmp(argv[1], "--settings-markdown") == 0) {
        kf_config_markdown(stdout, s_settings); /* for the docs' tables (hidden) */
        return CLI_EXIT_OK;
    }
    int rc = s_setup(&cli);
    if (rc == 0)
        rc = s_global(&cli, argc, argv, &next);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (next >= argc)
        return args_usage(&cli, NULL, NULL, "missing the command (%s)",
                          args_command_names(s_commands, names, sizeof names));
    if (strcmp(argv[next], "help") == 0)
        return s_help_of(&cli, argc - next, argv + next);
    const args_command_t *command = args_command_find(s_commands, argv[next]);
    if (!command)
        return args_usage(&cli, NULL, NULL, "unknown command '%s' (%s)", argv[next],
                          args_command_names(s_commands, names, sizeof names));
    return command->run(&cli, argc - next, argv + next);
}
