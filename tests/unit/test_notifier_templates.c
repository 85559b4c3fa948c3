/* kefu — unit tests of the notifier's templates: rendering, the checks
   made when a template is loaded, e-mail subjects that no value can break,
   and the shipped templates in deploy/templates (complete, and each
   renders in its language). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"
#include "templates.h"

static void test_render(void **state)
{
    tpl_var_t vars[] = {{"ticket", "KF-2026-000001"}, {"owner_name", "赵强"}, {"due", NULL}};
    char *text = tpl_render("工单{ticket}由{owner_name}负责，{due}前回复。{{x}}", vars, 3);
    assert_string_equal(text, "工单KF-2026-000001由赵强负责，前回复。{x}");
    free(text);
    assert_null(tpl_render("{nobody}", vars, 3));
    assert_null(tpl_render("a lone { brace", vars, 3));
    assert_null(tpl_render("a lone } brace", vars, 3));
    text = tpl_render("", vars, 3);
    assert_string_equal(text, "");
    free(text);
}

static const char *const s_allowed[] = {"ticket", "summary", NULL};

/* tpl_check's message for text, or NULL when it passes. */
static const char *s_check(const char *text, bool email)
{
    static char err[200];
    return tpl_check(text, email, s_allowed, err, sizeof err) == 0 ? NULL : err;
}

static void test_checks(void **state)
{
    assert_null(s_check("工单{ticket}：{summary}", false));
    assert_string_equal(s_check("工单{tciket}", false), "unknown placeholder {tciket}");
    assert_non_null(strstr(s_check("工单{ticket", false), "does not start"));
    assert_non_null(strstr(s_check("工单{}", false), "does not start"));
    assert_non_null(strstr(s_check("a } b", false), "lone '}'"));
    assert_string_equal(s_check("", false), "empty");
    assert_string_equal(s_check("bad \xff byte", false), "not valid UTF-8");
    assert_non_null(strstr(s_check("工单{ticket}", true), "Subject"));
    assert_non_null(strstr(s_check("Subject: \nbody", true), "Subject"));
    assert_non_null(strstr(s_check("Subject: x\n\n\n", true), "body"));
    assert_null(s_check("Subject: 工单{ticket}\n\n正文", true));
    char big[TPL_MAX_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_non_null(strstr(s_check(big, false), "over"));
}

static void test_split_email(void **state)
{
    char *subject, *body;
    assert_int_equal(tpl_split_email("Subject: 【新工单】KF-1\n\n您好：\n正文", &subject, &body),
                     0);
    assert_string_equal(subject, "【新工单】KF-1");
    assert_string_equal(body, "您好：\n正文");
    free(subject);
    free(body);
    /* A value with a line break cannot add a header. */
    tpl_var_t vars[] = {{"summary", "leak\r\nBcc: someone@evil.example"}};
    char *rendered = tpl_render("Subject: {summary}\n\nbody", vars, 1);
    assert_int_equal(tpl_split_email(rendered, &subject, &body), 0);
    assert_null(strchr(subject, '\n'));
    assert_null(strchr(subject, '\r'));
    free(rendered);
    free(subject);
    free(body);
    assert_int_equal(tpl_split_email("no subject\nbody", &subject, &body), -1);
}

static void test_names(void **state)
{
    char name[TPL_MAX_NAME];
    tpl_name(name, sizeof name, "ticket.routed", NULL, "sms", "zh");
    assert_string_equal(name, "ticket.routed.sms.zh.txt");
    tpl_name(name, sizeof name, "ticket.escalated", "manager", "email", "en");
    assert_string_equal(name, "ticket.escalated.manager.email.en.txt");
}

/* A set built in memory must be complete and correct, and says which
   template is wrong. */
static void test_set_from(void **state)
{
    char err[300];
    const char *names[] = {"ticket.submitted.sms.zh.txt"};
    const char *texts[] = {"工单{ticket}已受理"};
    assert_null(tpl_set_from(rules_template_needs(), names, texts, 1, err, sizeof err));
    assert_non_null(strstr(err, "missing"));
    const char *bad_texts[] = {"工单{owner_name}已受理"}; /* not known for ticket.submitted */
    assert_null(tpl_set_from(rules_template_needs(), names, bad_texts, 1, err, sizeof err));
    assert_string_equal(err, "ticket.submitted.sms.zh.txt: unknown placeholder {owner_name}");
    const char *stray[] = {"ticket.closed.sms.zh.txt"};
    assert_null(tpl_set_from(rules_template_needs(), stray, texts, 1, err, sizeof err));
    assert_non_null(strstr(err, "no rule uses"));
}

/* Copies the shipped templates into a fresh directory. */
static void s_copy_dir(const char *to)
{
    char command[1024];
    snprintf(command, sizeof command, "cp %s/*.txt %s/", KEFU_TEMPLATE_DIR, to);
    assert_int_equal(system(command), 0);
}

static void test_shipped_templates(void **state)
{
    char err[300] = "";
    tpl_set_t *set = tpl_set_load(KEFU_TEMPLATE_DIR, rules_template_needs(), err, sizeof err);
    if (!set)
        fail_msg("deploy/templates: %s", err);
    size_t expected = 0; /* each (event, variant, channel) once in each language */
    for (const rule_t *rule = rules_table; rule->event; rule++) {
        bool again = false;
        for (const rule_t *other = rules_table; other < rule && !again; other++)
            again = strcmp(other->event, rule->event) == 0 &&
                    strcmp(other->channel, rule->channel) == 0 &&
                    (other->variant && rule->variant ? strcmp(other->variant, rule->variant) == 0
                                                     : other->variant == rule->variant);
        for (int l = 0; kf_langs[l] && !again; l++)
            expected++;
    }
    assert_int_equal(tpl_set_size(set), expected);

    /* Each renders with the values of a full context, in its language. */
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    rule_ctx_t ctx = {.ticket = "KF-2026-000042",
                      .priority = "high",
                      .kind = "complaint",
                      .category = "leak",
                      .summary = "卫生间漏水",
                      .project = "HZ-XH",
                      .project_name = "西湖苑",
                      .department_en = "Engineering",
                      .department_zh = "工程部",
                      .first_response_due = 1795478400000,
                      .resolve_due = 1796342400000,
                      .from_name = "李娜"};
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s}", "ticket", "KF-2026-000042", "owner",
                  "eng.zhao", "to", "eng.zhao", "level", 1, "reason", "resolution_overdue",
                  "survey", 9, "kind", "resolution", "milestone", "move-in");
    for (const rule_t *rule = rules_table; rule->event; rule++)
        for (int l = 0; kf_langs[l]; l++) {
            party_t party = {"p1", "Name", "x@kefu.example", kf_langs[l]};
            ctx.customer = ctx.owner = ctx.manager = party;
            recipient_t r = {rule, rule->who == WHO_CUSTOMER ? "homeowner" : "staff", &party};
            char name[TPL_MAX_NAME];
            rules_template_name(name, sizeof name, &r);
            const char *text = tpl_set_text(set, name);
            assert_non_null(text);
            rule_vars_t vars;
            rules_vars(&vars, rule->event, body, &ctx, &r);
            char *rendered = tpl_render(text, vars.vars, vars.count);
            if (!rendered)
                fail_msg("%s does not render", name);
            if (strcmp(kf_langs[l], "zh") == 0 && !strstr(rendered, "工单") &&
                !strstr(rendered, "客服"))
                fail_msg("%s is not in Chinese: %s", name, rendered);
            if (strcmp(rule->channel, "email") == 0) {
                char *subject, *message;
                assert_int_equal(tpl_split_email(rendered, &subject, &message), 0);
                /* A delegate's cover concerns no one ticket: its steps list theirs. */
                if (strcmp(rule->event, "approval.delegate_set") != 0)
                    assert_non_null(strstr(subject, "KF-2026-000042"));
                free(subject);
                free(message);
            }
            free(rendered);
        }
    json_decref(body);
    tpl_set_destroy(&set);
    assert_null(set);
}

static void test_load_names_what_is_wrong(void **state)
{
    char dir[] = "/tmp/kefu-test-templates.XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_copy_dir(dir);
    char path[512], err[600] = "";
    tpl_set_t *set = tpl_set_load(dir, rules_template_needs(), err, sizeof err);
    assert_non_null(set);
    tpl_set_destroy(&set);

    snprintf(path, sizeof path, "%s/ticket.resolved.sms.en.txt", dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("Your ticket {tikcet} is resolved.\r\n", file);
    fclose(file);
    assert_null(tpl_set_load(dir, rules_template_needs(), err, sizeof err));
    assert_non_null(strstr(err, "ticket.resolved.sms.en.txt"));
    assert_non_null(strstr(err, "{tikcet}"));

    unlink(path);
    assert_null(tpl_set_load(dir, rules_template_needs(), err, sizeof err));
    assert_non_null(strstr(err, "ticket.resolved.sms.en.txt"));

    /* CRLF line ends and trailing newlines are taken in stride. */
    file = fopen(path, "w");
    fputs("Your ticket {ticket} is resolved.\r\n\r\n", file);
    fclose(file);
    set = tpl_set_load(dir, rules_template_needs(), err, sizeof err);
    assert_non_null(set);
    assert_string_equal(tpl_set_text(set, "ticket.resolved.sms.en.txt"),
                        "Your ticket {ticket} is resolved.");
    tpl_set_destroy(&set);

    char command[600];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    assert_int_equal(system(command), 0);
}

/* ---- the approval mails, as a recipient reads them ------------------------ */

/* The other staff the approval mails name, as the notifier looks them up. */
static const party_t s_staff[] = {
    {"gm.zheng", "郑国强", "gm.zheng@kefu.example", "zh"},
    {"vp.zhou", "周明", "vp.zhou@kefu.example", "zh"},
    {"audit.guo", "郭审计", "audit.guo@kefu.example", "zh"},
    {"cs.wang", "王敏", "cs.wang@kefu.example", "zh"},
};

/* The shipped template of type (and variant: the rule's) in lang rendered
   for a staff member (王敏 / Wang Min) with the event body body_json; the
   event's owner field names them, or owner when given. Returns a new
   string. */
static char *s_mail(const tpl_set_t *set, const char *type, const char *variant, const char *lang,
                    const char *body_json, const party_t *owner)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    party_t party = {"cs.wang", strcmp(lang, "en") == 0 ? "Wang Min" : "王敏",
                     "cs.wang@kefu.example", lang};
    rule_ctx_t ctx = {.ticket = "KF-2026-000042",
                      .priority = "high",
                      .kind = "complaint",
                      .category = "leak",
                      .summary = "卫生间漏水",
                      .project = "HZ-XH",
                      .project_name = "西湖苑",
                      .department_en = "Customer service",
                      .department_zh = "客服中心",
                      .from_name = "郭审计",
                      .owner = owner ? *owner : party,
                      .staff = s_staff,
                      .staff_count = sizeof s_staff / sizeof s_staff[0]};
    const rule_t *rule = rules_table;
    while (rule->event &&
           !(strcmp(rule->event, type) == 0 &&
             (variant ? rule->variant && strcmp(rule->variant, variant) == 0 : !rule->variant)))
        rule++;
    assert_non_null(rule->event);
    recipient_t r = {rule, "staff", &party};
    char name[TPL_MAX_NAME];
    rules_template_name(name, sizeof name, &r);
    const char *text = tpl_set_text(set, name);
    assert_non_null(text);
    json_error_t error;
    json_t *body = json_loads(body_json, 0, &error);
    assert_non_null(body);
    /* The previous approver's name, as kefu_notify_context reads it. */
    const char *from = json_string_value(json_object_get(body, "from"));
    for (size_t i = 0; from && i < ctx.staff_count; i++)
        if (strcmp(s_staff[i].id, from) == 0)
            ctx.from_name = s_staff[i].name;
    rule_vars_t vars;
    rules_vars(&vars, type, body, &ctx, &r);
    char *rendered = tpl_render(text, vars.vars, vars.count);
    json_decref(body);
    if (!rendered)
        fail_msg("%s does not render", name);
    return rendered;
}

static char *s_approval_mail(const tpl_set_t *set, const char *type, const char *lang,
                             const char *body_json)
{
    return s_mail(set, type, NULL, lang, body_json, NULL);
}

/* Asserts the whole text of a mail. */
static void s_expect_mail(const tpl_set_t *set, const char *type, const char *lang,
                          const char *body_json, const char *expected)
{
    char *mail = s_approval_mail(set, type, lang, body_json);
    if (strcmp(mail, expected) != 0)
        fail_msg("%s in %s reads\n%s\n---- instead of ----\n%s", type, lang, mail, expected);
    free(mail);
}

/* Event bodies as kefu-approval writes them (migration 012): request 7,
   promised for 2026-11-22 (promised_at is its end, 2026-11-23 00:00 in
   Shanghai), deadlines in Shanghai time. */
#define S_ASSIGNED                                                                                 \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":31,\"stage\":2,\"label\":\"cost "       \
    "audit\",\"to\":\"cs.wang\",\"type\":\"settlement\",\"amount_fen\":8000050,"                   \
    "\"deadline_at\":1795420800000,\"remind_at\":1795417200000}"
#define S_REMINDED                                                                                 \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":31,\"stage\":2,\"label\":\"cost "       \
    "audit\",\"to\":\"cs.wang\",\"deadline_at\":1795420800000,\"reminded_at\":1795417200000}"
#define S_ESCALATED                                                                                \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":31,\"stage\":2,\"label\":\"cost "       \
    "audit\",\"action\":\"escalate\",\"from\":\"audit.guo\",\"to\":\"cs.wang\",\"acting_for\":"    \
    "\"audit.guo\",\"reason\":\"deadline\",\"moves\":1,\"deadline_at\":1795507200000}"
#define S_AT_RISK                                                                                  \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"cs.wang\",\"owner\":\"eng.zhao\","      \
    "\"reason\":\"the remaining stages may take until 1795507200000 ms, 144000 s after the "       \
    "promised date\",\"promised_at\":1795363200000,\"projected_at\":1795507200000,\"stage\":2}"
#define S_STALLED                                                                                  \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"cs.wang\",\"owner\":\"eng.zhao\","      \
    "\"reason\":\"step 31 (cost audit) of gm.zheng passed its deadline and has no one to move "    \
    "to\",\"promised_at\":1795363200000,\"stage\":2}"
#define S_REJECTED                                                                                 \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"outcome\":\"rejected\",\"type\":"              \
    "\"settlement\",\"amount_fen\":8000050,\"stage\":2,\"requested_at\":1795327200000,"            \
    "\"completed_at\":1795420980000,\"cycle_ms\":93780000,\"requested_by\":\"agent.li\","          \
    "\"owner\":\"cs.wang\"}"

/* The templates of deploy/templates, or the test fails. */
static tpl_set_t *s_templates(void)
{
    char err[300] = "";
    tpl_set_t *set = tpl_set_load(KEFU_TEMPLATE_DIR, rules_template_needs(), err, sizeof err);
    if (!set)
        fail_msg("deploy/templates: %s", err);
    return set;
}

/* Every approval mail in both languages, word for word: no blank value,
   no raw milliseconds, no doubled word, the promised date as the day
   promised (not the midnight after it). This one: a step assigned,
   reminded and moved. */
static void test_approval_step_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    s_expect_mail(set, "approval.step_assigned", "zh", S_ASSIGNED,
                  "Subject: 【待审批】和解赔偿 80,000.50 元（工单 KF-2026-000042），请于 "
                  "2026-11-23 16:00 前处理\n\n"
                  "王敏，您好：\n\n"
                  "审批请求 #7 的步骤“cost audit”等待您的决定。\n\n"
                  "工单：KF-2026-000042（西湖苑，投诉 / 渗漏）\n"
                  "内容：卫生间漏水\n"
                  "类型：和解赔偿，金额：80,000.50 元\n"
                  "处理期限：2026-11-23 16:00（逾期将按政策转交代理人或上报上级）\n\n"
                  "查看全过程：kefu approval show 7\n"
                  "批准：kefu approve 7 --comment \"…\"\n"
                  "驳回：kefu reject 7 --reason \"…\"\n\n"
                  "—— kefu 客服中心");
    s_expect_mail(set, "approval.step_assigned", "en", S_ASSIGNED,
                  "Subject: [Approval needed] settlement of 80,000.50 yuan (ticket "
                  "KF-2026-000042), by 2026-11-23 16:00\n\n"
                  "Dear Wang Min,\n\n"
                  "Step \"cost audit\" of approval request #7 waits for your decision.\n\n"
                  "Ticket: KF-2026-000042 (西湖苑, complaint / leak)\n"
                  "Summary: 卫生间漏水\n"
                  "Request: settlement, 80,000.50 yuan\n"
                  "Decide by: 2026-11-23 16:00 (after that the policy passes it to your delegate "
                  "or your manager)\n\n"
                  "The whole trail: kefu approval show 7\n"
                  "Approve: kefu approve 7 --comment \"...\"\n"
                  "Reject: kefu reject 7 --reason \"...\"\n\n"
                  "-- kefu customer-service centre");
    s_expect_mail(set, "approval.step_reminded", "zh", S_REMINDED,
                  "Subject: 【审批提醒】审批 #7（工单 KF-2026-000042）将于 2026-11-23 16:00 "
                  "到期\n\n"
                  "王敏，您好：\n\n"
                  "审批请求 #7 的步骤“cost audit”仍在等待您的决定，处理期限为 2026-11-23 "
                  "16:00。\n"
                  "逾期后将按政策转交代理人或上报上级，业主的承诺日期不等人。\n\n"
                  "工单：KF-2026-000042（西湖苑）\n"
                  "内容：卫生间漏水\n\n"
                  "查看并处理：kefu approval show 7\n\n"
                  "—— kefu 客服中心");
    s_expect_mail(set, "approval.step_reminded", "en", S_REMINDED,
                  "Subject: [Approval reminder] request #7 (ticket KF-2026-000042) is due "
                  "2026-11-23 16:00\n\n"
                  "Dear Wang Min,\n\n"
                  "Step \"cost audit\" of approval request #7 still waits for your decision; it "
                  "is due 2026-11-23 16:00.\n"
                  "After that the policy passes it to your delegate or your manager: the date "
                  "promised to the\n"
                  "homeowner does not wait.\n\n"
                  "Ticket: KF-2026-000042 (西湖苑)\n"
                  "Summary: 卫生间漏水\n\n"
                  "See and decide: kefu approval show 7\n\n"
                  "-- kefu customer-service centre");
    s_expect_mail(set, "approval.step_escalated", "zh", S_ESCALATED,
                  "Subject: 【审批转交】审批 #7（工单 KF-2026-000042）已上报上级，现由您处理\n\n"
                  "王敏，您好：\n\n"
                  "郭审计 未在期限内处理审批请求 #7 的步骤“cost "
                  "audit”，该步骤已上报上级，现等待您的决定。\n"
                  "新的处理期限：2026-11-24 16:00\n\n"
                  "工单：KF-2026-000042（西湖苑，投诉 / 渗漏）\n"
                  "内容：卫生间漏水\n\n"
                  "查看全过程：kefu approval show 7\n\n"
                  "—— kefu 客服中心");
    s_expect_mail(set, "approval.step_escalated", "en", S_ESCALATED,
                  "Subject: [Approval moved to you] request #7 (ticket KF-2026-000042) was "
                  "escalated to the manager\n\n"
                  "Dear Wang Min,\n\n"
                  "郭审计 did not decide step \"cost audit\" of approval request #7 in time; it "
                  "was\n"
                  "escalated to the manager and now waits for your decision.\n"
                  "New deadline: 2026-11-24 16:00\n\n"
                  "Ticket: KF-2026-000042 (西湖苑, complaint / leak)\n"
                  "Summary: 卫生间漏水\n\n"
                  "The whole trail: kefu approval show 7\n\n"
                  "-- kefu customer-service centre");
    tpl_set_destroy(&set);
}

/* The same of a request at risk and completed. */
static void test_approval_outcome_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    s_expect_mail(set, "approval.at_risk", "zh", S_AT_RISK,
                  "Subject: 【承诺风险】审批 #7（工单 KF-2026-000042）可能赶不上对业主承诺的 "
                  "2026-11-22\n\n"
                  "王敏，您好：\n\n"
                  "工单 KF-2026-000042 的审批请求 #7 可能无法在对业主承诺的日期 2026-11-22 "
                  "前完成。\n"
                  "按剩余步骤的期限推算，最晚将于 2026-11-24 16:00 才能完成，比承诺日期晚 "
                  "1天16小时0分钟。\n\n"
                  "工单负责人：eng.zhao\n"
                  "项目：西湖苑\n"
                  "内容：卫生间漏水\n\n"
                  "如有步骤在等您审批，请尽快决定；其他人请推动相关审批人或调整方案：kefu approval "
                  "show 7\n\n"
                  "—— kefu 客服中心");
    s_expect_mail(set, "approval.at_risk", "en", S_AT_RISK,
                  "Subject: [Promise at risk] approval #7 (ticket KF-2026-000042) may miss "
                  "2026-11-22\n\n"
                  "Dear Wang Min,\n\n"
                  "Approval request #7 on ticket KF-2026-000042 may not complete by 2026-11-22, "
                  "the date\n"
                  "promised to the homeowner.\n"
                  "By the deadlines of its remaining steps it would complete only at 2026-11-24 "
                  "16:00, 1d 16h 0m after the promised date.\n\n"
                  "Ticket owner: eng.zhao\n"
                  "Project: 西湖苑\n"
                  "Summary: 卫生间漏水\n\n"
                  "If a step waits for you, decide it now; otherwise move the approvers or "
                  "change the plan:\n"
                  "kefu approval show 7\n\n"
                  "-- kefu customer-service centre");
    /* A step with no one to move to: no projected time, no blank. */
    char *mail = s_approval_mail(set, "approval.at_risk", "zh", S_STALLED);
    assert_non_null(strstr(mail, "\n有步骤已过处理期限且无人可转交，审批已停滞。\n"));
    assert_non_null(strstr(mail, "可能赶不上对业主承诺的 2026-11-22\n"));
    free(mail);
    mail = s_approval_mail(set, "approval.at_risk", "en", S_STALLED);
    assert_non_null(strstr(mail, "\nA step passed its deadline and has no one to move it to: the "
                                 "request is stalled.\n"));
    free(mail);
    /* The event's own promised date wins over promised_at. */
    mail = s_approval_mail(set, "approval.at_risk", "en",
                           "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"cs.wang\","
                           "\"promised\":\"2026-11-21\",\"promised_at\":1795363200000}");
    assert_non_null(strstr(mail, "may miss 2026-11-21\n"));
    free(mail);
    s_expect_mail(set, "approval.completed", "zh", S_REJECTED,
                  "Subject: 【审批结果】工单 KF-2026-000042 的和解赔偿审批 #7：已驳回\n\n"
                  "王敏，您好：\n\n"
                  "您负责的工单 KF-2026-000042 的审批请求 #7（和解赔偿，80,000.50 "
                  "元）已驳回，用时 1天2小时3分钟。\n\n"
                  "项目：西湖苑\n"
                  "内容：卫生间漏水\n\n"
                  "请据此答复业主并继续处理工单：kefu approval show 7\n\n"
                  "—— kefu 客服中心");
    s_expect_mail(set, "approval.completed", "en", S_REJECTED,
                  "Subject: [Approval result] request #7 (settlement) on ticket KF-2026-000042: "
                  "rejected\n\n"
                  "Dear Wang Min,\n\n"
                  "Approval request #7 on your ticket KF-2026-000042 (settlement, 80,000.50 "
                  "yuan) was\n"
                  "rejected after 1d 2h 3m.\n\n"
                  "Project: 西湖苑\n"
                  "Summary: 卫生间漏水\n\n"
                  "Tell the homeowner and carry on with the ticket: kefu approval show 7\n\n"
                  "-- kefu customer-service centre");
    mail = s_approval_mail(set, "approval.completed", "zh",
                           "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"outcome\":\"approved\","
                           "\"owner\":\"cs.wang\",\"type\":\"refund\",\"amount_fen\":120050,"
                           "\"cycle_ms\":300000}");
    assert_non_null(strstr(mail, "（退款，1,200.50 元）已批准，用时 5分钟。\n"));
    assert_null(strstr(mail, "已已"));
    free(mail);
    tpl_set_destroy(&set);
}

/* Asserts the whole text of the mail of a rule's variant. */
static void s_expect_variant(const tpl_set_t *set, const char *type, const char *variant,
                             const char *lang, const char *body_json, const party_t *owner,
                             const char *expected)
{
    char *mail = s_mail(set, type, variant, lang, body_json, owner);
    if (strcmp(mail, expected) != 0)
        fail_msg("%s (%s) in %s reads\n%s\n---- instead of ----\n%s", type, variant ? variant : "-",
                 lang, mail, expected);
    free(mail);
}

/* Bodies as migration 016 writes them. gm.zheng (郑国强) has a delegate,
   cs.wang, who is addressed; the silent general manager's step stalls. */
#define S_ASSIGNED_COVERED                                                                         \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":33,\"stage\":3,\"label\":"              \
    "\"general manager\",\"to\":\"gm.zheng\",\"delegate\":\"cs.wang\",\"type\":"                   \
    "\"settlement\",\"amount_fen\":8000050,\"deadline_at\":1795420800000,\"remind_at\":"           \
    "1795417200000}"
#define S_ESCALATED_COVERED                                                                        \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":31,\"stage\":2,\"label\":\"cost "       \
    "audit\",\"action\":\"fallback\",\"from\":\"audit.guo\",\"to\":\"gm.zheng\",\"delegate\":"     \
    "\"cs.wang\",\"acting_for\":\"audit.guo\",\"reason\":\"deadline\",\"moves\":1,"                \
    "\"deadline_at\":1795507200000}"
#define S_REASSIGNED                                                                                      \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":33,\"stage\":3,\"label\":"                     \
    "\"general manager\",\"action\":\"reassign\",\"from\":\"gm.zheng\",\"to\":\"cs.wang\","               \
    "\"by\":\"vp.zhou\",\"acting_for\":\"gm.zheng\",\"reason\":\"郑总住院，由王敏代为审批\"," \
    "\"moves\":1,\"deadline_at\":1795507200000}"
#define S_STEP_STALLED                                                                             \
    "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":33,\"stage\":3,\"label\":"              \
    "\"general manager\",\"assigned_to\":\"gm.zheng\",\"deadline_at\":1795420800000,"              \
    "\"moved_from\":[\"vp.zhou\",\"audit.guo\"],\"recipients\":[\"gm.zheng\",\"cs.wang\"]}"
#define S_DELEGATE_SET                                                                                    \
    "{\"staff\":\"gm.zheng\",\"delegate\":\"cs.wang\",\"to\":\"cs.wang\",\"from_at\":"                    \
    "1795392000000,\"until_at\":1795996800000,\"by\":\"operator root\",\"reason\":"                       \
    "\"郑总住院，期间由王敏代批\",\"steps\":[{\"request\":7,\"step\":33,\"label\":\"general " \
    "manager\",\"ticket\":\"KF-2026-000042\",\"deadline_at\":1795420800000},{\"request\":9,"              \
    "\"step\":41,\"label\":\"general manager\",\"ticket\":\"KF-2026-000057\",\"deadline_at\":"            \
    "1795507200000}]}"

/* The mails of migration 016's warnings and covers, in both languages:
   a step assigned to someone whose delegate covers it. */
static void test_cover_assigned_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    const party_t gm = {"gm.zheng", "郑国强", "gm.zheng@kefu.example", "zh"};
    s_expect_variant(set, "approval.step_assigned", "delegate", "zh", S_ASSIGNED_COVERED, &gm,
                     "Subject: 【代理审批】代郑国强审批：和解赔偿 80,000.50 元（工单 "
                     "KF-2026-000042），请于 2026-11-23 16:00 前处理\n"
                     "\n"
                     "王敏，您好：\n"
                     "\n"
                     "您是郑国强登记的审批代理人。审批请求 #7 的步骤“general "
                     "manager”正等待郑国强决定，您可代其审批。\n"
                     "\n"
                     "工单：KF-2026-000042（西湖苑，投诉 / 渗漏）\n"
                     "内容：卫生间漏水\n"
                     "类型：和解赔偿，金额：80,000.50 元\n"
                     "处理期限：2026-11-23 16:00（逾期将按政策转交代理人或上报上级）\n"
                     "\n"
                     "查看全过程：kefu approval show 7\n"
                     "代为批准：kefu approve 7 --comment \"…\"\n"
                     "代为驳回：kefu reject 7 --reason \"…\"\n"
                     "\n"
                     "—— kefu 客服中心");
    s_expect_variant(set, "approval.step_assigned", "delegate", "en", S_ASSIGNED_COVERED, &gm,
                     "Subject: [Approval you cover] for 郑国强: settlement of 80,000.50 yuan "
                     "(ticket KF-2026-000042), by 2026-11-23 16:00\n"
                     "\n"
                     "Dear Wang Min,\n"
                     "\n"
                     "You are 郑国强's registered delegate. Step \"general manager\" of approval "
                     "request #7 now\n"
                     "waits for 郑国强, and you may decide it for them.\n"
                     "\n"
                     "Ticket: KF-2026-000042 (西湖苑, complaint / leak)\n"
                     "Summary: 卫生间漏水\n"
                     "Request: settlement, 80,000.50 yuan\n"
                     "Decide by: 2026-11-23 16:00 (after that the policy passes it on)\n"
                     "\n"
                     "The whole trail: kefu approval show 7\n"
                     "Approve for them: kefu approve 7 --comment \"...\"\n"
                     "Reject for them: kefu reject 7 --reason \"...\"\n"
                     "\n"
                     "-- kefu customer-service centre");
    tpl_set_destroy(&set);
}

/* A step moved to someone whose delegate covers it. */
static void test_cover_escalated_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    const party_t gm = {"gm.zheng", "郑国强", "gm.zheng@kefu.example", "zh"};
    s_expect_variant(set, "approval.step_escalated", "delegate", "zh", S_ESCALATED_COVERED, &gm,
                     "Subject: 【代理审批】审批 #7（工单 "
                     "KF-2026-000042）已转交政策指定的后备审批人，您可代郑国强处理\n"
                     "\n"
                     "王敏，您好：\n"
                     "\n"
                     "审批请求 #7 的步骤“cost "
                     "audit”已转交政策指定的后备审批人，现等待郑国强决定。您是郑国强登记的审批代理"
                     "人，可代其审批。\n"
                     "新的处理期限：2026-11-24 16:00\n"
                     "\n"
                     "工单：KF-2026-000042（西湖苑，投诉 / 渗漏）\n"
                     "内容：卫生间漏水\n"
                     "\n"
                     "查看全过程：kefu approval show 7\n"
                     "代为批准：kefu approve 7 --comment \"…\"\n"
                     "代为驳回：kefu reject 7 --reason \"…\"\n"
                     "\n"
                     "—— kefu 客服中心");
    s_expect_variant(
        set, "approval.step_escalated", "delegate", "en", S_ESCALATED_COVERED, &gm,
        "Subject: [Approval you cover] request #7 (ticket KF-2026-000042) now waits for 郑国强\n"
        "\n"
        "Dear Wang Min,\n"
        "\n"
        "Step \"cost audit\" of approval request #7 was passed to the policy's fallback approver "
        "and now\n"
        "waits for 郑国强. You are 郑国强's registered delegate and may decide it for them.\n"
        "New deadline: 2026-11-24 16:00\n"
        "\n"
        "Ticket: KF-2026-000042 (西湖苑, complaint / leak)\n"
        "Summary: 卫生间漏水\n"
        "\n"
        "The whole trail: kefu approval show 7\n"
        "Approve for them: kefu approve 7 --comment \"...\"\n"
        "Reject for them: kefu reject 7 --reason \"...\"\n"
        "\n"
        "-- kefu customer-service centre");
    tpl_set_destroy(&set);
}

/* A step reassigned by a person. */
static void test_reassign_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    s_expect_variant(set, "approval.step_escalated", "reassign", "zh", S_REASSIGNED, NULL,
                     "Subject: 【审批改派】审批 #7（工单 KF-2026-000042）已由周明改派给您\n"
                     "\n"
                     "王敏，您好：\n"
                     "\n"
                     "周明将审批请求 #7 的步骤“general manager”从郑国强改派给您，现等待您的决定。\n"
                     "改派原因：郑总住院，由王敏代为审批\n"
                     "新的处理期限：2026-11-24 16:00\n"
                     "\n"
                     "工单：KF-2026-000042（西湖苑，投诉 / 渗漏）\n"
                     "内容：卫生间漏水\n"
                     "\n"
                     "查看全过程：kefu approval show 7\n"
                     "批准：kefu approve 7 --comment \"…\"\n"
                     "驳回：kefu reject 7 --reason \"…\"\n"
                     "\n"
                     "—— kefu 客服中心");
    s_expect_variant(
        set, "approval.step_escalated", "reassign", "en", S_REASSIGNED, NULL,
        "Subject: [Approval reassigned to you] request #7 (ticket KF-2026-000042), by 周明\n"
        "\n"
        "Dear Wang Min,\n"
        "\n"
        "周明 moved step \"general manager\" of approval request #7 from 郑国强 to you; it\n"
        "now waits for your decision.\n"
        "Why: 郑总住院，由王敏代为审批\n"
        "New deadline: 2026-11-24 16:00\n"
        "\n"
        "Ticket: KF-2026-000042 (西湖苑, complaint / leak)\n"
        "Summary: 卫生间漏水\n"
        "\n"
        "The whole trail: kefu approval show 7\n"
        "Approve: kefu approve 7 --comment \"...\"\n"
        "Reject: kefu reject 7 --reason \"...\"\n"
        "\n"
        "-- kefu customer-service centre");
    /* A move by a person never reads as the previous approver's silence. */
    char *mail = s_mail(set, "approval.step_escalated", "reassign", "zh", S_REASSIGNED, NULL);
    assert_null(strstr(mail, "未在期限内"));
    free(mail);
    mail = s_mail(set, "approval.step_escalated", "reassign", "en", S_REASSIGNED, NULL);
    assert_null(strstr(mail, "did not decide"));
    free(mail);
    tpl_set_destroy(&set);
}

/* A step stalled. */
static void test_stall_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    s_expect_variant(
        set, "approval.step_stalled", NULL, "zh", S_STEP_STALLED, NULL,
        "Subject: 【审批停滞】审批 #7（工单 KF-2026-000042）的步骤“general "
        "manager”已逾期且无人可转交\n"
        "\n"
        "王敏，您好：\n"
        "\n"
        "审批请求 #7 的步骤“general manager”已于 2026-11-23 16:00 "
        "过了处理期限，仍在等待郑国强（gm."
        "zheng）的决定；按超时规则已找不到可以转交的人（此前经手：周明、郭审计），审批停滞了。\n"
        "\n"
        "工单：KF-2026-000042（西湖苑，投诉 / 渗漏）\n"
        "内容：卫生间漏水\n"
        "\n"
        "请立即处理：审批人请尽快决定；审批管理员或申请人所在部门负责人可改派：\n"
        "kefu approval reassign 33 --to <员工> --reason \"…\"\n"
        "查看全过程：kefu approval show 7\n"
        "\n"
        "—— kefu 客服中心");
    s_expect_variant(
        set, "approval.step_stalled", NULL, "en", S_STEP_STALLED, NULL,
        "Subject: [Approval stalled] request #7 (ticket KF-2026-000042): step \"general manager\" "
        "is overdue with no one to move it to\n"
        "\n"
        "Dear Wang Min,\n"
        "\n"
        "Step \"general manager\" of approval request #7 passed its deadline at 2026-11-23 16:00 "
        "and still\n"
        "waits for 郑国强 (gm.zheng). Its timeout chain found no one left to move it to\n"
        "(it has been with: 周明, 郭审计), so the request is stalled.\n"
        "\n"
        "Ticket: KF-2026-000042 (西湖苑, complaint / leak)\n"
        "Summary: 卫生间漏水\n"
        "\n"
        "Act now: the approver can still decide; the approval administrator or the requester's\n"
        "department head can move it:\n"
        "kefu approval reassign 33 --to STAFF --reason \"...\"\n"
        "The whole trail: kefu approval show 7\n"
        "\n"
        "-- kefu customer-service centre");
    tpl_set_destroy(&set);
}

/* A delegation registered (by an operator, and by oneself). */
static void test_delegate_set_mails_read_right(void **state)
{
    (void)state;
    tpl_set_t *set = s_templates();
    s_expect_variant(
        set, "approval.delegate_set", NULL, "zh", S_DELEGATE_SET, NULL,
        "Subject: 【审批代理】2026-11-23 08:00 至 2026-11-30 08:00 您代郑国强审批，当前待处理 2 "
        "项\n"
        "\n"
        "王敏，您好：\n"
        "\n"
        "您已被登记为郑国强（gm.zheng）的审批代理人，代理期间为 2026-11-23 08:00 至 2026-11-30 "
        "08:00。\n"
        "登记人：operator root；原因：郑总住院，期间由王敏代批\n"
        "期间郑国强的审批步骤您都可以代为决定；逾期的步骤也可能按政策转交给您。\n"
        "\n"
        "您现在代为处理的步骤：\n"
        "- 工单 KF-2026-000042，审批请求 #7，步骤“general manager”，处理期限 2026-11-23 16:00\n"
        "- 工单 KF-2026-000057，审批请求 #9，步骤“general manager”，处理期限 2026-11-24 16:00\n"
        "\n"
        "查看待办：kefu approvals\n"
        "代为批准：kefu approve <审批号> --comment \"…\"\n"
        "\n"
        "—— kefu 客服中心");
    s_expect_variant(
        set, "approval.delegate_set", NULL, "en", S_DELEGATE_SET, NULL,
        "Subject: [Approval cover] you decide for 郑国强 from 2026-11-23 08:00 until 2026-11-30 "
        "08:00; 2 pending now\n"
        "\n"
        "Dear Wang Min,\n"
        "\n"
        "You are now the approval delegate of 郑国强 (gm.zheng),\n"
        "from 2026-11-23 08:00 until 2026-11-30 08:00.\n"
        "operator root registered this cover for 郑国强; reason: 郑总住院，期间由王敏代批\n"
        "During that time you may decide 郑国强's approval steps for them, and a step of theirs\n"
        "whose deadline passes may be passed to you.\n"
        "\n"
        "The steps you cover now:\n"
        "- ticket KF-2026-000042, approval request #7, step \"general manager\", due 2026-11-23 "
        "16:00\n"
        "- ticket KF-2026-000057, approval request #9, step \"general manager\", due 2026-11-24 "
        "16:00\n"
        "\n"
        "Your list: kefu approvals\n"
        "Approve for them: kefu approve REQUEST --comment \"...\"\n"
        "\n"
        "-- kefu customer-service centre");
    char *mail = NULL;
    /* Cover one arranges for oneself, with nothing pending yet. */
    const char *own = "{\"staff\":\"gm.zheng\",\"delegate\":\"cs.wang\",\"to\":\"cs.wang\","
                      "\"from_at\":1795392000000,\"until_at\":1795996800000,\"by\":\"gm.zheng\","
                      "\"steps\":[]}";
    mail = s_mail(set, "approval.delegate_set", NULL, "zh", own, NULL);
    assert_non_null(strstr(mail, "当前待处理 0 项\n"));
    assert_non_null(strstr(mail, "\n这项代理由郑国强本人登记。\n"));
    assert_non_null(strstr(mail, "\n- 目前没有待处理的步骤；此后新到的步骤会逐一通知您\n"));
    free(mail);
    mail = s_mail(set, "approval.delegate_set", NULL, "en", own, NULL);
    assert_non_null(strstr(mail, "\n郑国强 registered this cover themselves.\n"));
    assert_non_null(strstr(mail, "\n- none pending now; you will be told of each new one as it "
                                 "starts\n"));
    free(mail);
    tpl_set_destroy(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_split_email),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_set_from),
        cmocka_unit_test(test_shipped_templates),
        cmocka_unit_test(test_load_names_what_is_wrong),
        cmocka_unit_test(test_approval_step_mails_read_right),
        cmocka_unit_test(test_approval_outcome_mails_read_right),
        cmocka_unit_test(test_cover_assigned_mails_read_right),
        cmocka_unit_test(test_cover_escalated_mails_read_right),
        cmocka_unit_test(test_reassign_mails_read_right),
        cmocka_unit_test(test_stall_mails_read_right),
        cmocka_unit_test(test_delegate_set_mails_read_right),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
