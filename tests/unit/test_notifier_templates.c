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
    assert_null(tpl_set_from(names, texts, 1, err, sizeof err));
    assert_non_null(strstr(err, "missing"));
    const char *bad_texts[] = {"工单{owner_name}已受理"}; /* not known for ticket.submitted */
    assert_null(tpl_set_from(names, bad_texts, 1, err, sizeof err));
    assert_string_equal(err, "ticket.submitted.sms.zh.txt: unknown placeholder {owner_name}");
    const char *stray[] = {"ticket.closed.sms.zh.txt"};
    assert_null(tpl_set_from(stray, texts, 1, err, sizeof err));
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
    tpl_set_t *set = tpl_set_load(KEFU_TEMPLATE_DIR, err, sizeof err);
    if (!set)
        fail_msg("deploy/templates: %s", err);
    size_t expected = 0;
    for (const rule_t *rule = rules_table; rule->event; rule++)
        for (int l = 0; rules_langs[l]; l++)
            expected++;
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
        for (int l = 0; rules_langs[l]; l++) {
            party_t party = {"p1", "Name", "x@kefu.example", rules_langs[l]};
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
            if (strcmp(rules_langs[l], "zh") == 0 && !strstr(rendered, "工单") &&
                !strstr(rendered, "客服"))
                fail_msg("%s is not in Chinese: %s", name, rendered);
            if (strcmp(rule->channel, "email") == 0) {
                char *subject, *message;
                assert_int_equal(tpl_split_email(rendered, &subject, &message), 0);
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
    tpl_set_t *set = tpl_set_load(dir, err, sizeof err);
    assert_non_null(set);
    tpl_set_destroy(&set);

    snprintf(path, sizeof path, "%s/ticket.resolved.sms.en.txt", dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("Your ticket {tikcet} is resolved.\r\n", file);
    fclose(file);
    assert_null(tpl_set_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "ticket.resolved.sms.en.txt"));
    assert_non_null(strstr(err, "{tikcet}"));

    unlink(path);
    assert_null(tpl_set_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "ticket.resolved.sms.en.txt"));

    /* CRLF line ends and trailing newlines are taken in stride. */
    file = fopen(path, "w");
    fputs("Your ticket {ticket} is resolved.\r\n\r\n", file);
    fclose(file);
    set = tpl_set_load(dir, err, sizeof err);
    assert_non_null(set);
    assert_string_equal(tpl_set_text(set, "ticket.resolved.sms.en.txt"),
                        "Your ticket {ticket} is resolved.");
    tpl_set_destroy(&set);

    char command[600];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    assert_int_equal(system(command), 0);
}

/* ---- the approval mails, as a recipient reads them ------------------------ */

/* The shipped template of type in lang rendered for a staff member (王敏 /
   Wang Min) with the event body body_json. Returns a new string. */
static char *s_approval_mail(const tpl_set_t *set, const char *type, const char *lang,
                             const char *body_json)
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
                      .owner = party};
    const rule_t *rule = rules_table;
    while (rule->event && strcmp(rule->event, type) != 0)
        rule++;
    assert_non_null(rule->event);
    recipient_t r = {rule, "staff", &ctx.owner};
    char name[TPL_MAX_NAME];
    rules_template_name(name, sizeof name, &r);
    const char *text = tpl_set_text(set, name);
    assert_non_null(text);
    json_error_t error;
    json_t *body = json_loads(body_json, 0, &error);
    assert_non_null(body);
    rule_vars_t vars;
    rules_vars(&vars, type, body, &ctx, &r);
    char *rendered = tpl_render(text, vars.vars, vars.count);
    json_decref(body);
    if (!rendered)
        fail_msg("%s does not render", name);
    return rendered;
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

/* Every approval mail in both languages, word for word: no blank value,
   no raw milliseconds, no doubled word, the promised date as the day
   promised (not the midnight after it). */
static void test_approval_mails_read_right(void **state)
{
    char err[300] = "";
    tpl_set_t *set = tpl_set_load(KEFU_TEMPLATE_DIR, err, sizeof err);
    if (!set)
        fail_msg("deploy/templates: %s", err);

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
                  "请推动相关审批人或调整方案：kefu approval show 7\n\n"
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
                  "Please move the approvers or change the plan: kefu approval show 7\n\n"
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
        cmocka_unit_test(test_approval_mails_read_right),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
