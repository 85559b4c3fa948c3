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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
