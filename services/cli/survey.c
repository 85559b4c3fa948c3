/* kefu client — `kefu survey`: satisfaction surveys, served by kefu-survey
   (KEFU_SURVEY): record the answer of a follow-up call (回访), start a
   lifecycle campaign, show a ticket's surveys. */
#include <string.h>

#include "args.h"
#include "call.h"
#include "cli.h"
#include "output.h"
#include "table.h"
#include "timefmt.h"

#define SURVEY_COMMENT_MAX KF_LIM_COMMENT /* proto/model.json */
#define SURVEY_PROJECT_MAX KF_LIM_PROJECT
#define SURVEY_TEXT_MAX 1024 /* bytes of one shown string */

/* ---- kefu survey --help ------------------------------------------------- */

static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu survey answer NO --score 1-5 [--nps 0-10] [--comment TEXT]\n"
                 "       kefu survey campaign --project P --milestone M\n"
                 "       kefu survey show NO\n\n"
                 "Satisfaction surveys, served by kefu-survey ($KEFU_SURVEY, default\n"
                 "tcp://127.0.0.1:7710). A survey follows every resolution of a ticket; the\n"
                 "customer gets it by SMS, and an agent records the answer of the follow-up call.\n"
                 "NO is a ticket number (its latest sent survey) or a survey id (digits; a\n"
                 "campaign survey has no ticket). `kefu survey SUBCOMMAND --help` says more.\n\n");
    args_global_help(out);
}

/* ---- kefu survey answer -------------------------------------------------- */

enum { A_SCORE, A_NPS, A_COMMENT, A_COUNT };

static const struct option s_answer_options[] = {
    {"score", required_argument, NULL, ARGS_OPT(A_SCORE)},
    {"nps", required_argument, NULL, ARGS_OPT(A_NPS)},
    {"comment", required_argument, NULL, ARGS_OPT(A_COMMENT)},
    ARGS_GLOBAL_OPTIONS};

/* An answer as given on the command line. */
typedef struct {
    const char *values[A_COUNT];
    const char *target; /* the NO operand */
    long survey;        /* the survey id when NO is one, else 0 */
    long score;
    long nps; /* -1 when not given */
} answer_t;

static void s_answer_help(FILE *out)
{
    fprintf(out, "Usage: kefu survey answer NO --score 1-5 [--nps 0-10] [--comment TEXT]\n\n"
                 "Records what the customer said on the follow-up call (回访) about the latest\n"
                 "survey sent for ticket NO (or about survey NO, when NO is a survey id).\n"
                 "A score of 1 or 2 reopens the ticket to its owner's manager, with the score\n"
                 "as the reason. Recording the same answer again changes nothing (it says\n"
                 "duplicate); a different answer to a survey answered already is refused\n"
                 "(conflict): an answer is never counted twice.\n\n"
                 "Options:\n"
                 "  --score N          satisfaction, 1 (very dissatisfied) .. 5 (very satisfied)\n"
                 "  --nps N            would they recommend us? 0 .. 10 (optional)\n"
                 "  --comment TEXT     the customer's words (at most 1000 bytes)\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu survey answer KF-2026-000123 --score 4 --nps 9 \\\n"
                 "       --comment '维修及时，师傅态度很好'\n");
}

/* Takes NO: a survey id when all digits, else a ticket number. */
static int s_target(cli_t *cli, const char *cmd, int argc, char **argv, const char **target,
                    long *survey)
{
    int rc = args_operands(cli, cmd, argc, argv, 1, "NO");
    if (rc == 0)
        rc = args_check(cli, cmd, "NO", "NO", argv[optind], KF_LIM_TICKET, true);
    if (rc != 0)
        return rc;
    *target = argv[optind];
    *survey = 0;
    if (strspn(*target, "0123456789") == strlen(*target) &&
        args_number(*target, 1, 999999999999999L, survey) != 0)
        return args_usage(cli, cmd, "NO", "survey id '%s' is out of range", *target);
    return 0;
}

static int s_answer_parse(cli_t *cli, int argc, char **argv, answer_t *a)
{
    const char *cmd = "survey answer";
    int rc = args_parse(cli, cmd, argc, argv, s_answer_options, s_answer_help, a->values, A_COUNT);
    if (rc == ARGS_OK)
        rc = s_target(cli, cmd, argc, argv, &a->target, &a->survey);
    if (rc == ARGS_OK && !a->values[A_SCORE])
        rc = args_usage(cli, cmd, "score", "--score is required (1..5)");
    if (rc == ARGS_OK && args_number(a->values[A_SCORE], 1, 5, &a->score) != 0)
        rc = args_usage(cli, cmd, "score", "--score '%s' is not a number in 1..5",
                        a->values[A_SCORE]);
    a->nps = -1;
    if (rc == ARGS_OK && a->values[A_NPS] && args_number(a->values[A_NPS], 0, 10, &a->nps) != 0)
        rc = args_usage(cli, cmd, "nps", "--nps '%s' is not a number in 0..10", a->values[A_NPS]);
    if (rc == ARGS_OK && a->values[A_COMMENT])
        rc = args_text(cli, cmd, "comment", a->values[A_COMMENT], SURVEY_COMMENT_MAX, false);
    if (rc == ARGS_OK)
        rc = args_cert(cli, cmd);
    return rc;
}

static kf_body_t *s_answer_body(const cli_t *cli, const void *arg)
{
    const answer_t *a = (const answer_t *)arg;
    kf_body_t *body = call_body(cli);
    if (a->survey > 0)
        kf_body_int(body, "survey", a->survey);
    else
        kf_body_str(body, "ticket", a->target);
    kf_body_int(body, "score", a->score);
    if (a->nps >= 0)
        kf_body_int(body, "nps", a->nps);
    if (a->values[A_COMMENT])
        kf_body_str(body, "comment", a->values[A_COMMENT]);
    return body;
}

/* "KF-… survey 12: score 4, nps 9, recorded at …", then what followed. */
static int s_answer_print(const cli_t *cli, const msgpack_object *body)
{
    int64_t survey, score, nps, at = 0;
    char ticket[64] = "", owner[128] = "", when[32] = "", line[160] = "";
    bool duplicate = false, reopened = false;
    kf_error_t err;
    if (!call_int(body, "survey", &survey) || !call_int(body, "score", &score))
        return call_missing(cli, "survey.answer", "survey");
    call_str(body, "ticket", ticket, sizeof ticket);
    call_str(body, "owner", owner, sizeof owner);
    kf_get_bool(body, "duplicate", false, &duplicate, &err);
    kf_get_bool(body, "reopened", false, &reopened, &err);
    if (call_int(body, "answered_at", &at))
        tf_local(at, when, sizeof when);
    snprintf(line, sizeof line, "score %lld", (long long)score);
    if (call_int(body, "nps", &nps))
        snprintf(line + strlen(line), sizeof line - strlen(line), ", nps %lld", (long long)nps);
    printf("%s%ssurvey %lld: %s, %s %s\n", ticket, ticket[0] ? " " : "", (long long)survey, line,
           duplicate ? "recorded already at" : "recorded at", when);
    if (duplicate)
        printf("(duplicate: the same answer was recorded before; it counts once)\n");
    if (reopened)
        printf("%s reopened to %s: low satisfaction score %lld\n", ticket, owner, (long long)score);
    return CLI_EXIT_OK;
}

static int s_answer(cli_t *cli, int argc, char **argv)
{
    answer_t a = {.values = {NULL}};
    int rc = s_answer_parse(cli, argc, argv, &a);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "survey.answer",
                   .corr = a.survey > 0 ? NULL : a.target,
                   .build = s_answer_body,
                   .arg = &a,
                   .retries = 1,
                   .retry_why = "(the same answer twice is recorded once)"};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_answer_print(cli, kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu survey campaign ------------------------------------------------ */

enum { C_PROJECT, C_MILESTONE, C_COUNT };

static const args_field_t s_campaign_fields[C_COUNT] = {
    [C_PROJECT] = {"project", SURVEY_PROJECT_MAX, true, NULL},
    [C_MILESTONE] = {"milestone", 0, true, kf_milestones},
};

static const struct option s_campaign_options[] = {
    {"project", required_argument, NULL, ARGS_OPT(C_PROJECT)},
    {"milestone", required_argument, NULL, ARGS_OPT(C_MILESTONE)},
    ARGS_GLOBAL_OPTIONS};

static void s_campaign_help(FILE *out)
{
    fprintf(out, "Usage: kefu survey campaign --project P --milestone M\n\n"
                 "Sends a lifecycle survey to every owner of a unit of project P, once each,\n"
                 "now. Running the same campaign again within kefu-survey's window (30 days by\n"
                 "default) surveys nobody twice: it shows the earlier run (duplicate).\n"
                 "Prints the ids of the surveys made (the first 20; with --json the reply's\n"
                 "survey_ids, the lowest 256, and survey_ids_omitted, how many more), for\n"
                 "`kefu survey answer ID` after a follow-up call.\n"
                 "Open to admins, department heads, managers and general managers.\n\n"
                 "Options:\n"
                 "  --project P        the project code, e.g. HZ-XH\n"
                 "  --milestone M      sales, contract, pre-handover, move-in, after-move-in,\n"
                 "                     defects, maintenance-fund or revisit-4y (the four-year\n"
                 "                     revisit)\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu --cert admin.cert survey campaign --project HZ-XH --milestone move-in\n");
}

static kf_body_t *s_campaign_body(const cli_t *cli, const void *arg)
{
    const char *const *values = (const char *const *)arg;
    kf_body_t *body = call_body(cli);
    kf_body_str(body, "project", values[C_PROJECT]);
    kf_body_str(body, "milestone", values[C_MILESTONE]);
    kf_body_str(body, "kind", "campaign");
    return body;
}

#define SURVEY_IDS_SHOWN 20 /* ids on the text line; --json has the reply's (up to 256) */

/* "  surveys 101 102 ... and 98 more": the first ids of the reply's
   survey_ids, for `kefu survey answer ID` on a follow-up call. */
static void s_campaign_ids_print(const msgpack_object *body)
{
    const msgpack_object *ids = kf_map_get(body, "survey_ids");
    if (!ids || ids->type != MSGPACK_OBJECT_ARRAY || ids->via.array.size == 0)
        return;
    int64_t omitted = 0;
    call_int(body, "survey_ids_omitted", &omitted);
    uint32_t n = ids->via.array.size, shown = 0;
    printf("  surveys");
    for (uint32_t i = 0; i < n && shown < SURVEY_IDS_SHOWN; i++)
        if (ids->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            printf(" %llu", (unsigned long long)ids->via.array.ptr[i].via.u64);
            shown++;
        }
    if (n - shown + omitted > 0)
        printf(" and %lld more (--json lists up to 256)", (long long)(n - shown + omitted));
    printf("\n");
}

static int s_campaign_print(const cli_t *cli, const msgpack_object *body)
{
    int64_t campaign, surveys, at = 0;
    char project[64] = "", milestone[32] = "", when[32] = "";
    bool duplicate = false;
    kf_error_t err;
    if (!call_int(body, "campaign", &campaign) || !call_int(body, "surveys", &surveys))
        return call_missing(cli, "survey.campaign", "campaign");
    call_str(body, "project", project, sizeof project);
    call_str(body, "milestone", milestone, sizeof milestone);
    kf_get_bool(body, "duplicate", false, &duplicate, &err);
    if (call_int(body, "started_at", &at))
        tf_local(at, when, sizeof when);
    if (duplicate)
        printf("campaign %lld (%s, %s) ran at %s with %lld surveys; nobody surveyed again "
               "(duplicate)\n",
               (long long)campaign, project, milestone, when, (long long)surveys);
    else
        printf("campaign %lld (%s, %s) started at %s: %lld surveys, sent now\n",
               (long long)campaign, project, milestone, when, (long long)surveys);
    s_campaign_ids_print(body);
    return CLI_EXIT_OK;
}

static int s_campaign(cli_t *cli, int argc, char **argv)
{
    const char *cmd = "survey campaign";
    const char *values[C_COUNT] = {NULL};
    int rc = args_parse(cli, cmd, argc, argv, s_campaign_options, s_campaign_help, values, C_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, cmd, argc, argv, 0, NULL);
    if (rc == ARGS_OK)
        rc = args_fields(cli, cmd, s_campaign_fields, values, C_COUNT);
    if (rc == ARGS_OK)
        rc = args_cert(cli, cmd);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "survey.campaign",
                   .build = s_campaign_body,
                   .arg = values,
                   .retries = 1,
                   .retry_why = "(a campaign re-run within its window surveys nobody twice)"};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_campaign_print(cli, kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu survey show ------------------------------------------------ */

static const struct option s_show_options[] = {ARGS_GLOBAL_OPTIONS};

static void s_show_help(FILE *out)
{
    fprintf(out, "Usage: kefu survey show NO\n\n"
                 "Shows the surveys of ticket NO (one per resolution), or survey NO when NO\n"
                 "is a survey id, as a table: survey, kind, resolution or milestone, status\n"
                 "(pending, sent, answered), due, sent and answered times (local, $TZ),\n"
                 "score, nps, who recorded the answer, and the customer's comment.\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu survey show KF-2026-000123\n");
}

/* Target of a show request. */
typedef struct {
    const char *target;
    long survey;
} show_t;

static kf_body_t *s_show_body(const cli_t *cli, const void *arg)
{
    const show_t *s = (const show_t *)arg;
    kf_body_t *body = call_body(cli);
    if (s->survey > 0)
        kf_body_int(body, "survey", s->survey);
    else
        kf_body_str(body, "ticket", s->target);
    return body;
}

/* A time field in the local zone, "-" when absent. */
static void s_when(const msgpack_object *m, const char *key, char *buf, size_t size)
{
    int64_t at;
    snprintf(buf, size, "-");
    if (call_int(m, key, &at))
        tf_local(at, buf, size);
}

/* An integer field as text, "-" when absent. */
static void s_num(const msgpack_object *m, const char *key, char *buf, size_t size)
{
    int64_t n;
    snprintf(buf, size, "-");
    if (call_int(m, key, &n))
        snprintf(buf, size, "%lld", (long long)n);
}

static void s_show_row(table_t *table, const msgpack_object *m)
{
    char id[24], kind[32], what[64], status[16], due[32], sent[32], answered[32], score[8], nps[8],
        by[72], comment[SURVEY_TEXT_MAX], ticket[40];
    s_num(m, "survey", id, sizeof id);
    call_str(m, "kind", kind, sizeof kind);
    call_str(m, "status", status, sizeof status);
    int64_t resolution;
    if (call_int(m, "resolution", &resolution))
        snprintf(what, sizeof what, "resolution %lld", (long long)resolution);
    else if (!call_str(m, "milestone", what, sizeof what))
        snprintf(what, sizeof what, "-");
    if (call_str(m, "ticket", ticket, sizeof ticket) && ticket[0] && strcmp(kind, "campaign") == 0)
        snprintf(what + strlen(what), sizeof what - strlen(what), " %s", ticket);
    s_when(m, "due_at", due, sizeof due);
    s_when(m, "sent_at", sent, sizeof sent);
    s_when(m, "answered_at", answered, sizeof answered);
    s_num(m, "score", score, sizeof score);
    s_num(m, "nps", nps, sizeof nps);
    if (!call_str(m, "answered_by", by, sizeof by))
        snprintf(by, sizeof by, "-");
    call_str(m, "comment", comment, sizeof comment);
    const char *cells[] = {id, kind, what, status, due, sent, answered, score, nps, by, comment};
    table_add(table, cells);
}

static int s_show_print(const cli_t *cli, const msgpack_object *body, const char *target)
{
    const msgpack_object *surveys = kf_map_get(body, "surveys");
    if (!surveys || surveys->type != MSGPACK_OBJECT_ARRAY)
        return call_missing(cli, "survey.show", "surveys");
    if (surveys->via.array.size == 0) {
        printf("%s has no survey yet\n", target);
        return CLI_EXIT_OK;
    }
    static const char *const headers[] = {"SURVEY",   "KIND",  "FOR", "STATUS", "DUE",    "SENT",
                                          "ANSWERED", "SCORE", "NPS", "BY",     "COMMENT"};
    table_t *table = table_new(headers, sizeof headers / sizeof headers[0]);
    for (uint32_t i = 0; i < surveys->via.array.size; i++)
        if (surveys->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            s_show_row(table, &surveys->via.array.ptr[i]);
    table_print(table, stdout, 60);
    table_destroy(&table);
    return CLI_EXIT_OK;
}

static int s_show(cli_t *cli, int argc, char **argv)
{
    const char *cmd = "survey show";
    show_t show = {NULL, 0};
    int rc = args_parse(cli, cmd, argc, argv, s_show_options, s_show_help, NULL, 0);
    if (rc == ARGS_OK)
        rc = s_target(cli, cmd, argc, argv, &show.target, &show.survey);
    if (rc == ARGS_OK)
        rc = args_cert(cli, cmd);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "survey.show",
                   .corr = show.survey > 0 ? NULL : show.target,
                   .build = s_show_body,
                   .arg = &show};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_show_print(cli, kf_env_body(reply), show.target);
    kf_env_destroy(&reply);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

int cmd_survey(cli_t *cli, int argc, char **argv)
{
    cli_use_survey(cli);
    if (argc >= 2 && strcmp(argv[1], "answer") == 0)
        return s_answer(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "campaign") == 0)
        return s_campaign(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return s_show(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2)
        return args_usage(cli, "survey", NULL, "missing the subcommand (answer, campaign or show)");
    return args_usage(cli, "survey", NULL,
                      "unknown subcommand '%s' (expected answer, campaign or show)", argv[1]);
}
