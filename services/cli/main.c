/* kefu — the command-line client for agents and approvers: reads the
   settings, parses the global options and hands the rest of the line to one
   command. It speaks only the wire; the operator tools that talk to the
   store are kefu-admin (services/admin). */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "config.h"
#include "output.h"

/* The client's settings (services/cli/README.md). */
static const kf_setting_t s_settings[] = {
    KF_SET_ENDPOINT("KEFU_INTAKE", "tcp://127.0.0.1:7700", "intake's endpoint (--endpoint)"),
    KF_SET_ENDPOINT("KEFU_SURVEY", "tcp://127.0.0.1:7710",
                    "kefu-survey's endpoint (survey, report; --endpoint)"),
    KF_SET_STRING("KEFU_APPROVAL", "tcp://127.0.0.1:7720",
                  "kefu-approval's endpoint, or a comma-separated list of instances (approval, "
                  "approvals, approve, reject, delegate; --endpoint)"),
    KF_SET_INT("KEFU_TIMEOUT_MS", "5000", 1, 600000,
               "how long to wait for a reply, in ms (--timeout)"),
    KF_SET_PATH("KEFU_CERT", "", "your certificate file (--cert); empty: ~/.kefu/kefu.cert"),
    KF_SET_TZ("TZ", "Asia/Shanghai", "time zone times are shown in"),
    KF_SETTINGS_END};

/* The commands. */
static const args_command_t s_commands[] = {
    {"submit", "log what an owner reported; prints the ticket number", cmd_submit},
    {"ticket", "ticket show NO: one ticket with its history", cmd_ticket},
    {"tickets", "list tickets by status, owner, project, kind, department, queue, phone, time",
     cmd_tickets},
    {"staff", "active staff by words of id or name, department, role; paged", cmd_staff},
    {"departments", "every department: id, Chinese and English names, head", cmd_departments},
    {"owner", "owner PHONE: the owner with this phone, their units and tickets", cmd_owner},
    {"respond", "record a response to the owner", cmd_respond},
    {"transfer", "hand a ticket to another owner, with a reason", cmd_transfer},
    {"resolve", "mark a ticket resolved", cmd_resolve},
    {"survey", "survey answer|campaign|show: satisfaction surveys (kefu-survey)", cmd_survey},
    {"report", "the KPIs with their counts, by month or range; --chart FILE.svg", cmd_report},
    {"approval", "approval request|show: open an approval on a ticket, see its trail",
     cmd_approval},
    {"approvals", "my pending approval steps, the nearest deadline first", cmd_approvals},
    {"approve", "approve ID: approve my step of an approval request", cmd_approve},
    {"reject", "reject ID --reason TEXT: reject my step of an approval request", cmd_reject},
    {"delegate", "delegate set STAFF --to WHEN | clear: holiday cover for approvals", cmd_delegate},
    {"watchlist", "approvals at risk, owners at risk and promoters, for managers", cmd_watchlist},
    {NULL, NULL, NULL}};

/* `kefu --help`. */
static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
                 "The kefu client of agents, staff and approvers: logs owners' reports as\n"
                 "tickets and works on them through intake, kefu-survey and kefu-approval.\n"
                 "`kefu COMMAND --help` shows a command's options and an example.\n\n");
    args_command_help(out, s_commands, 10);
    fprintf(out, "\n");
    args_global_help(out);
    fprintf(out, "  --version          print the version\n\n"
                 "Environment:\n");
    kf_config_help_settings(out, s_settings);
    fprintf(out, "\nExit codes:\n"
                 "  0  done\n"
                 "  1  refused by intake (not_found, forbidden, conflict, bad_value, ...), or\n"
                 "     the certificate refused at the handshake (unknown_actor)\n"
                 "  2  usage error found before sending (bad option or argument)\n"
                 "  3  temporary: no answer within the timeout, `unavailable`, or a connection\n"
                 "     closed during the secure handshake until the timeout (a daemon\n"
                 "     restarting, or a certificate for another server); retry later with\n"
                 "     the same --idem\n"
                 "  4  protocol error: a reply that does not decode\n\n"
                 "Errors go to stderr as \"kefu: CODE: message (field FIELD)\"; with --json an\n"
                 "{\"error\": {\"code\", \"message\", \"field\"}} object also goes to stdout.\n\n"
                 "Operator tools that talk to the store (imports, certificates, status,\n"
                 "notifications) are the separate program kefu-admin (`kefu-admin --help`).\n\n"
                 "Example:\n"
                 "  export KEFU_CERT=~/.kefu/agent01.cert   # from: kefu-admin cert agent01\n"
                 "  no=$(kefu submit --kind repair --category plumbing --channel wechat \\\n"
                 "       --project HZ-XH --phone 13800138000 --summary '厨房下水堵塞')\n"
                 "  kefu ticket show \"$no\"\n");
}

/* Fills cli from the environment; main's options may override it. */
static int s_setup(cli_t *cli)
{
    memset(cli, 0, sizeof *cli);
    /* Times are shown in the configured zone, Asia/Shanghai unless TZ says. */
    setenv("TZ", kf_config_str(s_settings, "TZ"), 1);
    tzset();
    snprintf(cli->endpoint, sizeof cli->endpoint, "%s", kf_config_str(s_settings, "KEFU_INTAKE"));
    snprintf(cli->survey_endpoint, sizeof cli->survey_endpoint, "%s",
             kf_config_str(s_settings, "KEFU_SURVEY"));
    snprintf(cli->approval_endpoint, sizeof cli->approval_endpoint, "%s",
             kf_config_str(s_settings, "KEFU_APPROVAL"));
    cli->peer = "intake";
    long timeout;
    if (kf_config_int(s_settings, "KEFU_TIMEOUT_MS", &timeout) != 0)
        return CLI_EXIT_USAGE;
    cli->timeout_ms = (int)timeout;
    const char *cert = kf_config_str(s_settings, "KEFU_CERT");
    const char *home = getenv("HOME");
    if (cert[0])
        snprintf(cli->cert, sizeof cli->cert, "%s", cert);
    else if (home && home[0])
        snprintf(cli->cert, sizeof cli->cert, "%s/.kefu/kefu.cert", home);
    return 0;
}

void cli_use_survey(cli_t *cli)
{
    if (!cli->endpoint_given)
        snprintf(cli->endpoint, sizeof cli->endpoint, "%s", cli->survey_endpoint);
    cli->peer = "kefu-survey";
}

void cli_use_approval(cli_t *cli)
{
    if (!cli->endpoint_given)
        snprintf(cli->endpoint, sizeof cli->endpoint, "%s", cli->approval_endpoint);
    cli->peer = "kefu-approval";
}

/* Parses the options before the command. Returns 0 with *next set to the
   command's index, -1 when done (help, version), or an exit code. */
static int s_global(cli_t *cli, int argc, char **argv, int *next)
{
    enum { OPT_VERSION = ARG_FIRST_LOCAL };
    static const struct option options[] = {{"version", no_argument, NULL, OPT_VERSION},
                                            ARGS_GLOBAL_OPTIONS};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
        if (c == 'h' || c == OPT_VERSION) {
            if (c == 'h')
                s_help(stdout);
            else
                printf("kefu %s\n", KEFU_VERSION);
            return -1;
        }
        int global = args_global(cli, NULL, c, optarg);
        if (global < 0)
            return CLI_EXIT_USAGE;
        if (global == 0)
            return args_bad_option(cli, NULL, c, argv);
    }
    *next = optind;
    return 0;
}

/* The commands that moved to kefu-admin with the same words after the
   program's name (issue 12): `kefu admin import F` is `kefu-admin import F`,
   `kefu status` is `kefu-admin status`. */
static const char *const s_moved[] = {"admin", "status", "notification", NULL};

/* Says where a command of s_moved went and returns CLI_EXIT_USAGE, or
   returns 0 when name is not one of them. argv is the command's words. */
static int s_moved_to_admin(const cli_t *cli, const char *name, int argc, char **argv)
{
    bool moved = false;
    for (const char *const *m = s_moved; *m; m++)
        moved = moved || strcmp(*m, name) == 0;
    if (!moved)
        return 0;
    bool admin = strcmp(name, "admin") == 0;
    const char *next = admin ? (argc > 1 ? argv[1] : "SUBCOMMAND") : name;
    out_local_error(cli, "usage", NULL,
                    "`kefu %s` has moved: the operator tools that talk to the store are the "
                    "program kefu-admin; run `kefu-admin %s%s` (`kefu-admin --help` lists them)",
                    admin ? "admin" : name, next,
                    admin ? (argc > 2 ? " ..." : "") : (argc > 1 ? " ..." : ""));
    return CLI_EXIT_USAGE;
}

/* `kefu help COMMAND`: the command's --help. */
static int s_help_of(cli_t *cli, const char *name)
{
    const args_command_t *command = args_command_find(s_commands, name);
    char *moved_argv[] = {(char *)name, NULL};
    int moved = s_moved_to_admin(cli, name, 1, moved_argv);
    if (moved)
        return moved;
    if (!command)
        return args_usage(cli, NULL, NULL, "unknown command '%s'", name);
    char *help_argv[] = {(char *)command->name, (char *)"--help", NULL};
    return command->run(cli, 2, help_argv);
}

int main(int argc, char **argv)
{
    /* Ctrl-C ends the client at once; czmq's handler would only set a flag. */
    zsys_handler_set(NULL);
    cli_t cli;
    char names[128];
    if (argc == 2 && strcmp(argv[1], "--settings-markdown") == 0) {
        kf_config_markdown(stdout, s_settings); /* for the docs' tables (hidden) */
        return CLI_EXIT_OK;
    }
    int next = 0, rc = s_setup(&cli);
    if (rc == 0)
        rc = s_global(&cli, argc, argv, &next);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (next >= argc)
        return args_usage(&cli, NULL, NULL, "missing the command (%s)",
                          args_command_names(s_commands, names, sizeof names));
    const char *name = argv[next];
    if (strcmp(name, "help") == 0 && next + 1 >= argc) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0)
        return s_help_of(&cli, argv[next + 1]);
    const args_command_t *command = args_command_find(s_commands, name);
    int moved = s_moved_to_admin(&cli, name, argc - next, argv + next);
    if (moved)
        return moved;
    if (!command)
        return args_usage(&cli, NULL, NULL, "unknown command '%s'", name);
    return command->run(&cli, argc - next, argv + next);
}
