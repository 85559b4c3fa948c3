/* kefu client — approvals, served by kefu-approval (KEFU_APPROVAL): open a
   request on a ticket, list my pending steps, show a request's trail,
   approve or reject, and register a delegate for holiday cover. Who acts
   is the holder of the certificate (--cert), never an option. */
#include <czmq.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "call.h"
#include "cli.h"
#include "output.h"
#include "table.h"
#include "timefmt.h"

/* The limits (KF_LIM_*) and request types (kf_request_types) are the
   wire's, generated from proto/model.json. */
#define A_TEXT_MAX 1024 /* bytes of one shown string */

/* Reads a string field for display ("" when absent). */
static const char *s_str(const msgpack_object *body, const char *key, char *buf, size_t size)
{
    if (!call_str(body, key, buf, size))
        buf[0] = '\0';
    return buf;
}

/* A local time for the int field key ("" when absent). */
static const char *s_time(const msgpack_object *body, const char *key, char *buf, size_t size)
{
    int64_t ms;
    buf[0] = '\0';
    if (call_int(body, key, &ms))
        tf_local(ms, buf, size);
    return buf;
}

/* Takes the one operand ID (a request id). */
static int s_id(cli_t *cli, const char *cmd, int argc, char **argv, long *id)
{
    int rc = args_operands(cli, cmd, argc, argv, 1, "ID");
    if (rc == 0 && args_number(argv[optind], 1, 999999999999999L, id) != 0)
        rc = args_usage(cli, cmd, "ID", "ID '%s' is not an approval request number", argv[optind]);
    return rc;
}

/* ---- kefu approval request ------------------------------------------------ */

/* The fields the catalog checks, then the flag --allow-past. */
enum {
    R_TYPE,
    R_AMOUNT,
    R_REASON,
    R_PROMISED,
    R_POLICY,
    R_FIELDS,
    R_ALLOW_PAST = R_FIELDS,
    R_COUNT
};

static const args_field_t s_request_fields[R_FIELDS] = {
    [R_TYPE] = {"type", 0, true, kf_request_types},
    [R_AMOUNT] = {"amount", KF_LIM_AMOUNT, true, NULL},
    [R_REASON] = {"reason", KF_LIM_REASON, true, NULL},
    [R_PROMISED] = {"promised", KF_LIM_DATE, true, NULL},
    [R_POLICY] = {"policy", KF_LIM_POLICY, false, NULL},
};

static const struct option s_request_options[] = {
    {"type", required_argument, NULL, ARGS_OPT(R_TYPE)},
    {"amount", required_argument, NULL, ARGS_OPT(R_AMOUNT)},
    {"reason", required_argument, NULL, ARGS_OPT(R_REASON)},
    {"promised", required_argument, NULL, ARGS_OPT(R_PROMISED)},
    {"policy", required_argument, NULL, ARGS_OPT(R_POLICY)},
    {"allow-past", no_argument, NULL, ARGS_OPT(R_ALLOW_PAST)},
    ARGS_GLOBAL_OPTIONS};

typedef struct {
    const char *values[R_COUNT];
    const char *ticket;
    char idem[40]; /* one per run: a retry finds the request the first try opened */
} request_t;

static void s_request_help(FILE *out)
{
    fprintf(out,
            "Usage: kefu approval request NO --type T --amount YUAN --reason TEXT\n"
            "                             --promised YYYY-MM-DD [--policy P] [--allow-past]\n\n"
            "Opens an approval request on ticket NO and prints its number. kefu-approval\n"
            "picks the policy for the type and amount (or --policy), assigns the first\n"
            "stage's approvers and watches the date promised to the owner from the first\n"
            "minute: when the remaining stages can no longer finish by then, the ticket\n"
            "owner's manager is told (approval.at_risk).\n\n"
            "Options:\n"
            "  --type T           settlement, repair_cost, refund or policy_exception\n"
            "  --amount YUAN      yuan, digits with at most two decimals: 80000 or 80000.50\n"
            "                     (no currency sign, no thousands separators)\n"
            "  --reason TEXT      why (at most 500 bytes)\n"
            "  --promised DATE    the date promised to the owner, YYYY-MM-DD (to its end,\n"
            "                     in the configured time zone)\n"
            "  --policy P         a policy other than the type's default (e.g. settlement-seq)\n"
            "  --allow-past       the promised date is already past: record the broken\n"
            "                     promise anyway (without it such a date is refused)\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu approval request KF-2026-000123 --type settlement --amount 80000 \\\n"
                 "       --reason '卫生间渗漏赔偿' --promised 2026-12-03\n");
}

static kf_body_t *s_request_body(const cli_t *cli, const void *arg)
{
    const request_t *r = (const request_t *)arg;
    kf_body_t *body = call_body(cli);
    kf_body_str(body, "ticket", r->ticket);
    kf_body_str(body, "type", r->values[R_TYPE]);
    kf_body_str(body, "amount", r->values[R_AMOUNT]);
    kf_body_str(body, "reason", r->values[R_REASON]);
    kf_body_str(body, "promised", r->values[R_PROMISED]);
    if (r->values[R_POLICY])
        kf_body_str(body, "policy", r->values[R_POLICY]);
    kf_body_str(body, "idem", r->idem);
    if (r->values[R_ALLOW_PAST])
        kf_body_bool(body, "allow_past", true);
    return body;
}

static int s_request(cli_t *cli, int argc, char **argv)
{
    const char *cmd = "approval request";
    request_t r = {.values = {NULL}};
    int rc = args_parse(cli, cmd, argc, argv, s_request_options, s_request_help, r.values, R_COUNT);
    if (rc == ARGS_OK)
        rc = args_ticket(cli, cmd, argc, argv, &r.ticket);
    if (rc == ARGS_OK)
        rc = args_fields(cli, cmd, s_request_fields, r.values, R_FIELDS);
    if (rc == ARGS_OK)
        rc = args_cert(cli, cmd);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    zuuid_t *uuid = zuuid_new();
    snprintf(r.idem, sizeof r.idem, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    call_t call = {.type = "approval.request",
                   .corr = r.ticket,
                   .build = s_request_body,
                   .arg = &r,
                   .retries = 1,
                   .retry_why = "(the same request twice opens one)"};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json) {
        const msgpack_object *body = kf_env_body(reply);
        int64_t id;
        char policy[64];
        if (!call_int(body, "request", &id))
            rc = call_missing(cli, "approval.request", "request");
        else {
            printf("%lld\n", (long long)id);
            fprintf(stderr, "kefu: approval %lld on %s under policy %s\n", (long long)id, r.ticket,
                    s_str(body, "policy", policy, sizeof policy));
        }
    }
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu approvals ------------------------------------------------------- */

enum { L_LIMIT, L_COUNT };

static const struct option s_list_options[] = {
    {"limit", required_argument, NULL, ARGS_OPT(L_LIMIT)}, ARGS_GLOBAL_OPTIONS};

static void s_list_help(FILE *out)
{
    fprintf(out, "Usage: kefu approvals [--limit N]\n\n"
                 "Your pending approval steps, the nearest deadline first: your own and those of\n"
                 "anyone who named you their delegate for now (FOR names them), with the\n"
                 "ticket's summary, the amount and the time left. Decide with `kefu approve ID`\n"
                 "or `kefu reject ID --reason TEXT`. Your own delegation in force or to come\n"
                 "(`kefu delegate`) is said first.\n\n"
                 "Options:\n"
                 "  --limit N          at most N steps (1..100, default 50)\n\n");
    args_global_help(out);
}

static kf_body_t *s_list_body(const cli_t *cli, const void *arg)
{
    kf_body_t *body = call_body(cli);
    kf_body_int(body, "limit", *(const long *)arg);
    return body;
}

/* One row of `kefu approvals`. */
static void s_list_row(table_t *table, const msgpack_object *step, int64_t now)
{
    char request[24] = "", ticket[40], type[32], amount[32], stage[64], left[48] = "-", who[72],
         summary[A_TEXT_MAX], label[128];
    int64_t id, number, deadline;
    if (call_int(step, "request", &id))
        snprintf(request, sizeof request, "%lld", (long long)id);
    if (call_int(step, "deadline_at", &deadline)) {
        char span[32];
        tf_span(deadline > now ? deadline - now : now - deadline, span, sizeof span);
        snprintf(left, sizeof left, deadline > now ? "%s" : "overdue %s", span);
    }
    snprintf(stage, sizeof stage, "%lld %s",
             call_int(step, "stage", &number) ? (long long)number : 0LL,
             s_str(step, "label", label, sizeof label));
    const char *cells[] = {request,
                           s_str(step, "ticket", ticket, sizeof ticket),
                           s_str(step, "type", type, sizeof type),
                           s_str(step, "amount", amount, sizeof amount),
                           stage,
                           left,
                           s_str(step, "on_behalf_of", who, sizeof who),
                           s_str(step, "summary", summary, sizeof summary)};
    table_add(table, cells);
}

/* The caller's delegation in force or to come, when approval.list names
   one: "your delegate: NAME (ID) from WHEN until WHEN". */
static void s_list_delegation(const msgpack_object *body)
{
    const msgpack_object *d = kf_map_get(body, "delegate");
    if (!d || d->type != MSGPACK_OBJECT_MAP)
        return;
    char id[72], name[128], from[48], to[48];
    printf("your delegate: %s (%s) from %s until %s\n", s_str(d, "name", name, sizeof name),
           s_str(d, "delegate", id, sizeof id), s_time(d, "from", from, sizeof from),
           s_time(d, "to", to, sizeof to));
}

static int s_list_print(const cli_t *cli, const msgpack_object *body)
{
    const msgpack_object *steps = kf_map_get(body, "steps");
    if (!steps || steps->type != MSGPACK_OBJECT_ARRAY)
        return call_missing(cli, "approval.list", "steps");
    s_list_delegation(body);
    if (steps->via.array.size == 0) {
        printf("no pending approval steps\n");
        return CLI_EXIT_OK;
    }
    static const char *const headers[] = {"ID",    "TICKET",    "TYPE", "AMOUNT (YUAN)",
                                          "STAGE", "TIME LEFT", "FOR",  "SUMMARY"};
    table_t *table = table_new(headers, 8);
    int64_t now = kf_now_ms();
    for (uint32_t i = 0; i < steps->via.array.size; i++)
        if (steps->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            s_list_row(table, &steps->via.array.ptr[i], now);
    table_print(table, stdout, 40);
    table_destroy(&table);
    return CLI_EXIT_OK;
}

int cmd_approvals(cli_t *cli, int argc, char **argv)
{
    cli_use_approval(cli);
    const char *values[L_COUNT] = {NULL};
    long limit = 50;
    int rc = args_parse(cli, "approvals", argc, argv, s_list_options, s_list_help, values, L_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, "approvals", argc, argv, 0, "");
    if (rc == ARGS_OK && values[L_LIMIT] && args_number(values[L_LIMIT], 1, 100, &limit) != 0)
        rc = args_usage(cli, "approvals", "limit", "--limit '%s' is not a number in 1..100",
                        values[L_LIMIT]);
    if (rc == ARGS_OK)
        rc = args_cert(cli, "approvals");
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "approval.list", .build = s_list_body, .arg = &limit, .retries = 1};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_list_print(cli, kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu approval show ---------------------------------------------------- */

static const struct option s_show_options[] = {ARGS_GLOBAL_OPTIONS};

static void s_show_help(FILE *out)
{
    fprintf(out, "Usage: kefu approval show ID\n\n"
                 "Approval request ID with its whole trail: every step of every stage with\n"
                 "its approver; each reminder (when, to whom) and each move (when, from whom to\n"
                 "whom, why: a deadline passed to the delegate, the manager, the fallback\n"
                 "approver or the administrator, or reassigned by someone with a reason); the\n"
                 "current assignee, deadline and reminder time; and the decision (by whom, on\n"
                 "whose behalf, when, with which comment). Times are in TZ (default\n"
                 "Asia/Shanghai); --json prints the reply.\n\n");
    args_global_help(out);
}

static kf_body_t *s_id_body(const cli_t *cli, const void *arg)
{
    kf_body_t *body = call_body(cli);
    kf_body_int(body, "request", *(const long *)arg);
    return body;
}

static void s_show_head(const msgpack_object *a)
{
    char buf[A_TEXT_MAX], line[A_TEXT_MAX + 64], by[72];
    int64_t n, cycle;
    if (call_int(a, "request", &n)) {
        snprintf(buf, sizeof buf, "%lld", (long long)n);
        out_field("approval", buf);
    }
    out_field("ticket", s_str(a, "ticket", buf, sizeof buf));
    out_field("summary", s_str(a, "summary", buf, sizeof buf));
    out_field("type", s_str(a, "type", buf, sizeof buf));
    snprintf(line, sizeof line, "%s yuan", s_str(a, "amount", buf, sizeof buf));
    out_field("amount", line);
    out_field("reason", s_str(a, "reason", buf, sizeof buf));
    out_field("policy", s_str(a, "policy", buf, sizeof buf));
    snprintf(line, sizeof line, "%s", s_str(a, "status", buf, sizeof buf));
    if (call_int(a, "stage", &n) && strcmp(buf, "pending") == 0)
        snprintf(line, sizeof line, "pending at stage %lld", (long long)n);
    out_field("status", line);
    out_field("promised", s_str(a, "promised", buf, sizeof buf));
    snprintf(line, sizeof line, "%s by %s", s_time(a, "requested_at", buf, sizeof buf),
             s_str(a, "requested_by", by, sizeof by));
    out_field("requested", line);
    if (call_int(a, "completed_at", &n)) {
        s_time(a, "completed_at", buf, sizeof buf);
        if (call_int(a, "cycle_ms", &cycle)) {
            char span[32];
            tf_span(cycle, span, sizeof span);
            snprintf(line, sizeof line, "%s (cycle %s)", buf, span);
        } else
            snprintf(line, sizeof line, "%s", buf);
        out_field("completed", line);
    }
    if (call_int(a, "at_risk_at", &n))
        out_field("at risk since", s_time(a, "at_risk_at", buf, sizeof buf));
}

/* What a move did, in words: "escalated to the manager". */
static const char *s_move_words(const char *action)
{
    static const struct {
        const char *action, *words;
    } words[] = {{"delegate", "passed to the delegate"},
                 {"escalate", "escalated to the manager"},
                 {"fallback", "passed to the policy's fallback approver"},
                 {"admin", "passed to the approval administrator"},
                 {"reassign", "reassigned"}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i].action, action) == 0)
            return words[i].words;
    return action;
}

/* One line of a step's trail: a reminder or a move. */
static void s_show_trail_line(const msgpack_object *t)
{
    char at[32], what[16], to[72], from[72], action[24], reason[A_TEXT_MAX], by[72], due[32];
    s_time(t, "at", at, sizeof at);
    s_time(t, "deadline_at", due, sizeof due);
    s_str(t, "to", to, sizeof to);
    if (strcmp(s_str(t, "what", what, sizeof what), "reminded") == 0) {
        printf("  %-9s %s  %s%s%s%s\n", "reminded", at, to, due[0] ? " (due " : "", due,
               due[0] ? ")" : "");
        return;
    }
    s_str(t, "action", action, sizeof action);
    s_str(t, "reason", reason, sizeof reason);
    s_str(t, "by", by, sizeof by);
    char why[A_TEXT_MAX + 160];
    if (strcmp(reason, "deadline") == 0)
        snprintf(why, sizeof why, "deadline passed, %s", s_move_words(action));
    else
        snprintf(why, sizeof why, "%s%s%s%s%s%s", s_move_words(action), by[0] ? " by " : "", by,
                 reason[0] ? ": \"" : "", reason, reason[0] ? "\"" : "");
    printf("  %-9s %s  %s -> %s (%s)%s%s\n", "moved", at, s_str(t, "from", from, sizeof from), to,
           why, due[0] ? "; new deadline " : "", due);
}

/* One step: its state, what happened to it (reminders, moves), its
   deadline and reminder, and the decision. */
static void s_show_step(const msgpack_object *s, int64_t now)
{
    char label[128], status[24], who[72], buf[A_TEXT_MAX], when[32], behalf[72];
    int64_t stage = 0, id = 0, moves = 0, deadline, decided = 0, remind, omitted;
    call_int(s, "stage", &stage);
    call_int(s, "step", &id);
    call_int(s, "moves", &moves);
    printf("stage %lld · %s (step %lld) · %s", (long long)stage,
           s_str(s, "label", label, sizeof label), (long long)id,
           s_str(s, "status", status, sizeof status));
    if (moves > 0)
        printf(" · moved %lld time%s", (long long)moves, moves == 1 ? "" : "s");
    printf("\n");
    printf("  %-9s %s\n", "approver", s_str(s, "approver", who, sizeof who));
    const msgpack_object *trail = kf_map_get(s, "trail");
    if (call_int(s, "trail_omitted", &omitted) && omitted > 0)
        printf("  %-9s %lld earlier reminder%s and moves not shown\n", "...", (long long)omitted,
               omitted == 1 ? "" : "s");
    for (uint32_t i = 0; trail && trail->type == MSGPACK_OBJECT_ARRAY && i < trail->via.array.size;
         i++)
        if (trail->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
            s_show_trail_line(&trail->via.array.ptr[i]);
    if (s_str(s, "assigned_to", who, sizeof who)[0])
        printf("  %-9s %s  %s\n", "assigned", s_time(s, "assigned_at", when, sizeof when), who);
    call_int(s, "decided_at", &decided);
    if (call_int(s, "deadline_at", &deadline)) {
        tf_deadline(deadline, decided, now, buf, sizeof buf);
        printf("  %-9s %s\n", "deadline", buf);
    }
    if (call_int(s, "remind_at", &remind)) {
        char sent[32];
        s_time(s, "reminded_at", sent, sizeof sent);
        printf("  %-9s %s%s%s\n", "reminder", s_time(s, "remind_at", when, sizeof when),
               sent[0] ? ", sent " : (decided ? ", not needed" : ", not sent yet"), sent);
    }
    if (decided) {
        char outcome[24];
        s_str(s, "on_behalf_of", behalf, sizeof behalf);
        s_str(s, "outcome", outcome, sizeof outcome);
        if (!s_str(s, "decided_by", who, sizeof who)[0])
            snprintf(who, sizeof who, "%s", "the policy (at the deadline)");
        printf("  %-9s %s  %s by %s%s%s\n", "decided", s_time(s, "decided_at", when, sizeof when),
               outcome, who, behalf[0] ? " on behalf of " : "", behalf);
        if (s_str(s, "comment", buf, sizeof buf)[0])
            printf("  %-9s %s\n", "comment", buf);
    }
}

static int s_show_print(const cli_t *cli, const msgpack_object *body)
{
    const msgpack_object *a = kf_map_get(body, "approval"), *steps = kf_map_get(body, "steps");
    if (!a || a->type != MSGPACK_OBJECT_MAP)
        return call_missing(cli, "approval.show", "approval");
    if (!steps || steps->type != MSGPACK_OBJECT_ARRAY)
        return call_missing(cli, "approval.show", "steps");
    s_show_head(a);
    int64_t now = kf_now_ms(), omitted;
    for (uint32_t i = 0; i < steps->via.array.size; i++)
        if (steps->via.array.ptr[i].type == MSGPACK_OBJECT_MAP) {
            printf("\n");
            s_show_step(&steps->via.array.ptr[i], now);
        }
    if (call_int(body, "steps_omitted", &omitted) && omitted > 0)
        printf("\n(%lld more step%s not shown: the reply has room for no more)\n",
               (long long)omitted, omitted == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

static int s_show(cli_t *cli, int argc, char **argv)
{
    long id = 0;
    int rc = args_parse(cli, "approval show", argc, argv, s_show_options, s_show_help, NULL, 0);
    if (rc == ARGS_OK)
        rc = s_id(cli, "approval show", argc, argv, &id);
    if (rc == ARGS_OK)
        rc = args_cert(cli, "approval show");
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "approval.show", .build = s_id_body, .arg = &id, .retries = 1};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_show_print(cli, kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu approve / kefu reject --------------------------------------------- */

enum { D_COMMENT, D_STEP, D_COUNT };

static const struct option s_approve_options[] = {
    {"comment", required_argument, NULL, ARGS_OPT(D_COMMENT)},
    {"step", required_argument, NULL, ARGS_OPT(D_STEP)},
    ARGS_GLOBAL_OPTIONS};
static const struct option s_reject_options[] = {
    {"reason", required_argument, NULL, ARGS_OPT(D_COMMENT)},
    {"comment", required_argument, NULL, ARGS_OPT(D_COMMENT)},
    {"step", required_argument, NULL, ARGS_OPT(D_STEP)},
    ARGS_GLOBAL_OPTIONS};

typedef struct {
    long request, step;
    const char *decision;
    const char *values[D_COUNT];
} decide_t;

static void s_decide_help_common(FILE *out)
{
    fprintf(out, "You may decide the steps assigned to you, and those of anyone who named you\n"
                 "their delegate for now (the decision records that you acted on their behalf).\n"
                 "The same decision again is that decision (it says duplicate), never a second\n"
                 "one. After the deadline moved your step on, or once another approver completed\n"
                 "an any-of stage, you are told so (conflict).\n\n");
}

static void s_approve_help(FILE *out)
{
    fprintf(out, "Usage: kefu approve ID [--comment TEXT] [--step N]\n\n"
                 "Approves your pending step of approval request ID.\n");
    s_decide_help_common(out);
    fprintf(out, "Options:\n"
                 "  --comment TEXT     a comment for the trail (at most 1000 bytes)\n"
                 "  --step N           which of your steps, when you hold several\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n  kefu approve 12 --comment '同意，按合同条款赔偿'\n");
}

static void s_reject_help(FILE *out)
{
    fprintf(out, "Usage: kefu reject ID --reason TEXT [--step N]\n\n"
                 "Rejects your pending step of approval request ID; when its stage can no\n"
                 "longer reach its approvals, the request ends rejected.\n");
    s_decide_help_common(out);
    fprintf(out, "Options:\n"
                 "  --reason TEXT      why (required, at most 1000 bytes)\n"
                 "  --step N           which of your steps, when you hold several\n\n");
    args_global_help(out);
}

static kf_body_t *s_decide_body(const cli_t *cli, const void *arg)
{
    const decide_t *d = (const decide_t *)arg;
    kf_body_t *body = call_body(cli);
    kf_body_int(body, "request", d->request);
    if (d->step > 0)
        kf_body_int(body, "step", d->step);
    kf_body_str(body, "decision", d->decision);
    if (d->values[D_COMMENT])
        kf_body_str(body, "comment", d->values[D_COMMENT]);
    return body;
}

static int s_decide_print(const cli_t *cli, const msgpack_object *body)
{
    int64_t request, stage;
    char outcome[24], by[72], behalf[72], when[32];
    bool duplicate = false;
    kf_error_t err;
    if (!call_int(body, "request", &request) || !call_int(body, "stage", &stage))
        return call_missing(cli, "approval.decide", "request");
    kf_get_bool(body, "duplicate", false, &duplicate, &err);
    s_str(body, "on_behalf_of", behalf, sizeof behalf);
    printf("approval %lld stage %lld: %s by %s%s%s at %s\n", (long long)request, (long long)stage,
           s_str(body, "outcome", outcome, sizeof outcome),
           s_str(body, "decided_by", by, sizeof by), behalf[0] ? " on behalf of " : "", behalf,
           s_time(body, "decided_at", when, sizeof when));
    if (duplicate)
        printf("(duplicate: this decision was recorded before; it counts once)\n");
    return CLI_EXIT_OK;
}

static int s_decide(cli_t *cli, int argc, char **argv, const char *decision)
{
    bool reject = strcmp(decision, "reject") == 0;
    const char *cmd = reject ? "reject" : "approve";
    decide_t d = {.decision = decision, .values = {NULL}};
    int rc = args_parse(cli, cmd, argc, argv, reject ? s_reject_options : s_approve_options,
                        reject ? s_reject_help : s_approve_help, d.values, D_COUNT);
    if (rc == ARGS_OK)
        rc = s_id(cli, cmd, argc, argv, &d.request);
    if (rc == ARGS_OK && reject && !d.values[D_COMMENT])
        rc = args_usage(cli, cmd, "reason", "--reason is required: say why you reject");
    if (rc == ARGS_OK && d.values[D_COMMENT])
        rc = args_text(cli, cmd, reject ? "reason" : "comment", d.values[D_COMMENT], KF_LIM_COMMENT,
                       reject);
    if (rc == ARGS_OK && d.values[D_STEP] &&
        args_number(d.values[D_STEP], 1, 999999999999999L, &d.step) != 0)
        rc = args_usage(cli, cmd, "step", "--step '%s' is not a step number", d.values[D_STEP]);
    if (rc == ARGS_OK)
        rc = args_cert(cli, cmd);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "approval.decide",
                   .build = s_decide_body,
                   .arg = &d,
                   .retries = 1,
                   .retry_why = "(the same decision twice counts once)"};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_decide_print(cli, kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}

int cmd_approve(cli_t *cli, int argc, char **argv)
{
    cli_use_approval(cli);
    return s_decide(cli, argc, argv, "approve");
}

int cmd_reject(cli_t *cli, int argc, char **argv)
{
    cli_use_approval(cli);
    return s_decide(cli, argc, argv, "reject");
}

/* ---- kefu delegate ------------------------------------------------------- */

enum { G_FROM, G_TO, G_COUNT };

static const struct option s_delegate_options[] = {
    {"from", required_argument, NULL, ARGS_OPT(G_FROM)},
    {"to", required_argument, NULL, ARGS_OPT(G_TO)},
    ARGS_GLOBAL_OPTIONS};

typedef struct {
    const char *staff;
    int64_t from_ms, to_ms;
} delegate_t;

static void s_delegate_help(FILE *out)
{
    fprintf(out, "Usage: kefu delegate set STAFF --to WHEN [--from WHEN]\n"
                 "       kefu delegate clear\n\n"
                 "Holiday cover: names STAFF your delegate for the period [--from, --to). During\n"
                 "it STAFF sees your pending approval steps in `kefu approvals` and may decide\n"
                 "them on your behalf, and a step of yours whose deadline passes (with the\n"
                 "timeout action delegate) moves to STAFF. A new period replaces any of yours it\n"
                 "overlaps. `clear` ends every delegation of yours that has not ended yet.\n\n"
                 "Options:\n"
                 "  --from WHEN        start (default now)\n"
                 "  --to WHEN          end, not included (required; at most 366 days later)\n"
                 "WHEN is YYYY-MM-DD (midnight), 'YYYY-MM-DD HH:MM', now, or +N with s, m, h\n"
                 "or d (from now), in the configured time zone.\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n  kefu delegate set vp.zhou --from 2026-12-01 --to 2026-12-15\n");
}

static kf_body_t *s_delegate_body(const cli_t *cli, const void *arg)
{
    const delegate_t *d = (const delegate_t *)arg;
    kf_body_t *body = call_body(cli);
    if (d->staff) {
        kf_body_str(body, "delegate", d->staff);
        kf_body_int(body, "from", d->from_ms);
        kf_body_int(body, "to", d->to_ms);
    }
    return body;
}

static int s_delegate_parse(cli_t *cli, int argc, char **argv, delegate_t *d)
{
    const char *cmd = "delegate set";
    const char *values[G_COUNT] = {NULL};
    int rc = args_parse(cli, cmd, argc, argv, s_delegate_options, s_delegate_help, values, G_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, cmd, argc, argv, 1, "STAFF");
    if (rc == ARGS_OK)
        rc = args_check(cli, cmd, "STAFF", "STAFF", argv[optind], KF_LIM_STAFF, true);
    if (rc == ARGS_OK && !values[G_TO])
        rc = args_usage(cli, cmd, "to", "--to is required (the end of the period)");
    d->from_ms = kf_now_ms();
    if (rc == ARGS_OK && values[G_FROM] && tf_when(values[G_FROM], &d->from_ms) != 0)
        rc = args_usage(cli, cmd, "from", "--from '%s' is not a time (see --help)", values[G_FROM]);
    if (rc == ARGS_OK && tf_when(values[G_TO], &d->to_ms) != 0)
        rc = args_usage(cli, cmd, "to", "--to '%s' is not a time (see --help)", values[G_TO]);
    if (rc == ARGS_OK && d->to_ms <= d->from_ms)
        rc = args_usage(cli, cmd, "to", "--to must come after --from");
    if (rc == ARGS_OK)
        d->staff = argv[optind];
    return rc;
}

static int s_delegate_print(const msgpack_object *body, bool clear)
{
    char staff[72], other[72], from[32], to[32];
    int64_t n = 0;
    if (clear) {
        call_int(body, "cleared", &n);
        printf("%s: %lld delegation%s ended\n", s_str(body, "staff", staff, sizeof staff),
               (long long)n, n == 1 ? "" : "s");
        return CLI_EXIT_OK;
    }
    printf("%s's delegate is %s from %s until %s\n", s_str(body, "staff", staff, sizeof staff),
           s_str(body, "delegate", other, sizeof other), s_time(body, "from", from, sizeof from),
           s_time(body, "to", to, sizeof to));
    return CLI_EXIT_OK;
}

int cmd_delegate(cli_t *cli, int argc, char **argv)
{
    cli_use_approval(cli);
    bool clear = argc >= 2 && strcmp(argv[1], "clear") == 0;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        s_delegate_help(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || (!clear && strcmp(argv[1], "set") != 0))
        return args_usage(cli, "delegate", NULL,
                          "expected `delegate set STAFF --to WHEN` or "
                          "`delegate clear`");
    delegate_t d = {NULL, 0, 0};
    int rc = clear ? args_parse(cli, "delegate clear", argc - 1, argv + 1, s_show_options,
                                s_delegate_help, NULL, 0)
                   : s_delegate_parse(cli, argc - 1, argv + 1, &d);
    if (rc == ARGS_OK && clear)
        rc = args_operands(cli, "delegate clear", argc - 1, argv + 1, 0, "");
    if (rc == ARGS_OK)
        rc = args_cert(cli, "delegate");
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = clear ? "delegate.clear" : "delegate.set",
                   .build = s_delegate_body,
                   .arg = &d,
                   .retries = 1};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_delegate_print(kf_env_body(reply), clear);
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu approval reassign ------------------------------------------------ */

enum { M_TO, M_REASON, M_COUNT };

static const struct option s_reassign_options[] = {
    {"to", required_argument, NULL, ARGS_OPT(M_TO)},
    {"reason", required_argument, NULL, ARGS_OPT(M_REASON)},
    ARGS_GLOBAL_OPTIONS};

typedef struct {
    long step;
    const char *values[M_COUNT];
} reassign_t;

static void s_reassign_help(FILE *out)
{
    fprintf(out, "Usage: kefu approval reassign STEP --to STAFF --reason TEXT\n\n"
                 "Moves pending step STEP (its number in `kefu approval show`) to STAFF, with a\n"
                 "fresh deadline: for a step stuck with someone who cannot act. STAFF decides it\n"
                 "on behalf of the step's approver. Allowed to the organisation's approval\n"
                 "administrator, staff of role admin and the head of the requester's department;\n"
                 "the move is recorded in the request's trail with who moved it and why, and\n"
                 "STAFF is told.\n\n"
                 "Options:\n"
                 "  --to STAFF         who decides the step now (active staff)\n"
                 "  --reason TEXT      why (required, at most 500 bytes)\n\n");
    args_global_help(out);
    fprintf(out, "\nExample:\n"
                 "  kefu approval reassign 812 --to vp.zhou --reason '总经理出差，由周总代批'\n");
}

static kf_body_t *s_reassign_body(const cli_t *cli, const void *arg)
{
    const reassign_t *m = (const reassign_t *)arg;
    kf_body_t *body = call_body(cli);
    kf_body_int(body, "step", m->step);
    kf_body_str(body, "to", m->values[M_TO]);
    kf_body_str(body, "reason", m->values[M_REASON]);
    return body;
}

static int s_reassign_print(const cli_t *cli, const msgpack_object *body)
{
    int64_t request, step;
    char from[72], to[72], by[72], deadline[32];
    bool duplicate = false;
    kf_error_t err;
    if (!call_int(body, "request", &request) || !call_int(body, "step", &step))
        return call_missing(cli, "approval.reassign", "step");
    kf_get_bool(body, "duplicate", false, &duplicate, &err);
    s_str(body, "from", from, sizeof from);
    printf("approval %lld step %lld: %s%s%s to %s by %s; deadline %s\n", (long long)request,
           (long long)step, duplicate ? "already moved" : "moved", from[0] ? " from " : "", from,
           s_str(body, "to", to, sizeof to), s_str(body, "by", by, sizeof by),
           s_time(body, "deadline_at", deadline, sizeof deadline));
    return CLI_EXIT_OK;
}

static int s_reassign(cli_t *cli, int argc, char **argv)
{
    const char *cmd = "approval reassign";
    reassign_t m = {.values = {NULL}};
    int rc =
        args_parse(cli, cmd, argc, argv, s_reassign_options, s_reassign_help, m.values, M_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, cmd, argc, argv, 1, "STEP");
    if (rc == ARGS_OK && args_number(argv[optind], 1, 999999999999999L, &m.step) != 0)
        rc = args_usage(cli, cmd, "STEP", "STEP '%s' is not a step number", argv[optind]);
    if (rc == ARGS_OK && !m.values[M_TO])
        rc = args_usage(cli, cmd, "to", "--to is required: who decides the step now");
    if (rc == ARGS_OK)
        rc = args_text(cli, cmd, "to", m.values[M_TO], KF_LIM_STAFF, true);
    if (rc == ARGS_OK && !m.values[M_REASON])
        rc = args_usage(cli, cmd, "reason", "--reason is required: say why the step moves");
    if (rc == ARGS_OK)
        rc = args_text(cli, cmd, "reason", m.values[M_REASON], KF_LIM_REASON, true);
    if (rc == ARGS_OK)
        rc = args_cert(cli, cmd);
    if (rc != ARGS_OK)
        return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
    call_t call = {.type = "approval.reassign",
                   .build = s_reassign_body,
                   .arg = &m,
                   .retries = 1,
                   .retry_why = "(the same move twice moves once)"};
    kf_env_t *reply = NULL;
    rc = call_run(cli, &call, &reply);
    if (rc == CLI_EXIT_OK && !cli->json)
        rc = s_reassign_print(cli, kf_env_body(reply));
    kf_env_destroy(&reply);
    return rc;
}

/* ---- kefu approval ------------------------------------------------------- */

static void s_help(FILE *out)
{
    fprintf(out, "Usage: kefu approval request NO --type T --amount YUAN --reason TEXT "
                 "--promised DATE\n"
                 "       kefu approval show ID\n"
                 "       kefu approval reassign STEP --to STAFF --reason TEXT\n"
                 "       kefu approvals | approve ID | reject ID --reason TEXT | delegate ...\n\n"
                 "Approvals, served by kefu-approval ($KEFU_APPROVAL, default\n"
                 "tcp://127.0.0.1:7720). `kefu approval SUBCOMMAND --help` says more.\n\n");
    args_global_help(out);
}

int cmd_approval(cli_t *cli, int argc, char **argv)
{
    cli_use_approval(cli);
    if (argc >= 2 && strcmp(argv[1], "request") == 0)
        return s_request(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return s_show(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "reassign") == 0)
        return s_reassign(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2)
        return args_usage(cli, "approval", NULL,
                          "missing the subcommand (request, show or reassign)");
    return args_usage(cli, "approval", NULL,
                      "unknown subcommand '%s' (expected request, show or reassign)", argv[1]);
}
