/* kefu clients — what every command module of kefu (services/cli) and
   kefu-admin (services/admin) shares: the settings main resolved once
   (endpoint, timeout, identity, output mode) and the exit codes, which are
   part of the clients' contract (README.md). */
#ifndef KF_CLI_H
#define KF_CLI_H

#include <stdbool.h>

/* Exit codes; scripts rely on them, never renumber. */
enum {
    CLI_EXIT_OK = 0,        /* done */
    CLI_EXIT_REFUSED = 1,   /* intake answered reply.error with a permanent code */
    CLI_EXIT_USAGE = 2,     /* bad options or arguments, detected locally */
    CLI_EXIT_TEMPORARY = 3, /* no answer in time, or reply.error `unavailable` */
    CLI_EXIT_PROTOCOL = 4   /* a reply that does not decode or lacks a field */
};

/* Settings for one run, filled by main from options and environment and
   read-only afterwards. */
typedef struct {
    char endpoint[256];          /* the daemon's ROUTER endpoint (intake's unless switched) */
    bool endpoint_given;         /* --endpoint was given: commands keep it */
    char survey_endpoint[256];   /* kefu-survey's ROUTER endpoint (KEFU_SURVEY) */
    char approval_endpoint[256]; /* kefu-approval's ROUTER endpoint (KEFU_APPROVAL) */
    const char *peer;    /* the daemon asked, named in messages: "intake" or "kefu-survey" */
    int timeout_ms;      /* how long to wait for one reply */
    char cert[1024];     /* your certificate file: who you are (common/auth.h) */
    bool json;           /* print reply bodies and errors as JSON */
    const char *program; /* "kefu" or "kefu-admin", named in messages; NULL is "kefu" */
} cli_t;

/* The program's name for messages: cli->program, or "kefu". */
static inline const char *cli_program(const cli_t *cli)
{
    return cli->program ? cli->program : "kefu";
}

/* The commands; each parses its own argv (argv[0] is the command name)
   and returns an exit code. */
int cmd_submit(cli_t *cli, int argc, char **argv);
int cmd_ticket(cli_t *cli, int argc, char **argv);
int cmd_tickets(cli_t *cli, int argc, char **argv);
int cmd_owner(cli_t *cli, int argc, char **argv);
int cmd_staff(cli_t *cli, int argc, char **argv);
int cmd_departments(cli_t *cli, int argc, char **argv);
int cmd_respond(cli_t *cli, int argc, char **argv);
int cmd_transfer(cli_t *cli, int argc, char **argv);
int cmd_resolve(cli_t *cli, int argc, char **argv);
int cmd_survey(cli_t *cli, int argc, char **argv);
int cmd_report(cli_t *cli, int argc, char **argv);
int cmd_approval(cli_t *cli, int argc, char **argv);
int cmd_approvals(cli_t *cli, int argc, char **argv);
int cmd_approve(cli_t *cli, int argc, char **argv);
int cmd_reject(cli_t *cli, int argc, char **argv);
int cmd_delegate(cli_t *cli, int argc, char **argv);
int cmd_watchlist(cli_t *cli, int argc, char **argv);

/* Points cli at kefu-survey (KEFU_SURVEY) unless --endpoint was given;
   for the commands that kefu-survey serves (survey, report). */
void cli_use_survey(cli_t *cli);

/* Points cli at kefu-approval (KEFU_APPROVAL) unless --endpoint was given;
   for approval, approvals, approve, reject and delegate. */
void cli_use_approval(cli_t *cli);

#endif
