/* kefu — unit tests of the notifier's rules: who hears of which event on
   which channel, imported tickets, missing recipients, what an event body
   must carry, quiet-hours applicability and the placeholder values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rules.h"

/* A ticket context with everyone present. */
static rule_ctx_t s_ctx(void)
{
    rule_ctx_t ctx = {.ticket = "KF-2026-000042",
                      .priority = "normal",
                      .kind = "complaint",
                      .category = "leak",
                      .summary = "卫生间漏水",
                      .project = "HZ-XH",
                      .project_name = "西湖苑",
                      .department_en = "Engineering",
                      .department_zh = "工程部",
                      .first_response_due = 1795478400000, /* 2026-11-24 08:00 +08:00 */
                      .resolve_due = 0,
                      .from_name = "李娜",
                      .customer = {"17", "张三", "13800138000", "zh"},
                      .owner = {"eng.zhao", "赵强", "eng.zhao@kefu.example", "zh"},
                      .manager = {"eng.liu", "刘洋", "eng.liu@kefu.example", "en"}};
    return ctx;
}

static json_t *s_body(const char *text)
{
    json_error_t err;
    json_t *body = json_loads(text, 0, &err);
    assert_non_null(body);
    return body;
}

/* The recipients of type with body as "kind:id:channel:template" lines. */
static void s_expect(const char *type, const char *body_text, const rule_ctx_t *ctx,
                     const char *const *expected, int count)
{
    json_t *body = s_body(body_text);
    recipient_t out[16];
    int n = rules_recipients(type, body, ctx, out, 16);
    assert_int_equal(n, count);
    for (int i = 0; i < n; i++) {
        char name[TPL_MAX_NAME], line[256];
        rules_template_name(name, sizeof name, &out[i]);
        snprintf(line, sizeof line, "%s:%s:%s:%s", out[i].kind, out[i].party->id,
                 out[i].rule->channel, name);
        assert_string_equal(line, expected[i]);
    }
    json_decref(body);
}

static void test_each_event_type(void **state)
{
    rule_ctx_t ctx = s_ctx();
    const char *submitted[] = {"homeowner:17:sms:ticket.submitted.sms.zh.txt"};
    s_expect("ticket.submitted", "{\"ticket\":\"KF-2026-000042\"}", &ctx, submitted, 1);
    const char *routed[] = {"homeowner:17:sms:ticket.routed.sms.zh.txt",
                            "staff:eng.zhao:email:ticket.routed.email.zh.txt"};
    s_expect("ticket.routed", "{\"ticket\":\"KF-2026-000042\",\"owner\":\"eng.zhao\"}", &ctx,
             routed, 2);
    const char *transferred[] = {"staff:eng.zhao:email:ticket.transferred.email.zh.txt"};
    s_expect("ticket.transferred", "{\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\"}", &ctx,
             transferred, 1);
    const char *escalated[] = {"staff:eng.zhao:email:ticket.escalated.email.zh.txt",
                               "staff:eng.liu:email:ticket.escalated.manager.email.en.txt"};
    s_expect("ticket.escalated", "{\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\",\"level\":1}",
             &ctx, escalated, 2);
    const char *resolved[] = {"homeowner:17:sms:ticket.resolved.sms.zh.txt"};
    s_expect("ticket.resolved", "{\"ticket\":\"KF-2026-000042\"}", &ctx, resolved, 1);
    const char *reopened[] = {"staff:eng.zhao:email:ticket.reopened.email.zh.txt"};
    s_expect("ticket.reopened", "{\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\"}", &ctx,
             reopened, 1);
}

static void test_surveys_by_kind(void **state)
{
    rule_ctx_t ctx = s_ctx();
    ctx.customer.lang = "en";
    const char *resolution[] = {"homeowner:17:sms:survey.sent.sms.en.txt"};
    s_expect("survey.sent", "{\"survey\":5,\"kind\":\"resolution\",\"ticket\":\"KF-2026-000042\"}",
             &ctx, resolution, 1);
    const char *campaign[] = {"homeowner:17:sms:survey.sent.campaign.sms.en.txt"};
    s_expect("survey.sent", "{\"survey\":6,\"kind\":\"campaign\",\"homeowner\":17}", &ctx, campaign,
             1);
}

static void test_imported_tickets_are_silent(void **state)
{
    rule_ctx_t ctx = s_ctx();
    ctx.imported = true;
    s_expect("ticket.routed", "{\"ticket\":\"KF-2026-000042\",\"owner\":\"eng.zhao\"}", &ctx, NULL,
             0);
    s_expect("ticket.submitted", "{\"ticket\":\"KF-2026-000042\"}", &ctx, NULL, 0);
}

static void test_absent_recipients_are_skipped(void **state)
{
    rule_ctx_t ctx = s_ctx();
    ctx.manager = (party_t){NULL, NULL, NULL, NULL};
    const char *escalated[] = {"staff:eng.zhao:email:ticket.escalated.email.zh.txt"};
    s_expect("ticket.escalated", "{\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\",\"level\":2}",
             &ctx, escalated, 1);
    ctx.customer.id = "";
    const char *routed[] = {"staff:eng.zhao:email:ticket.routed.email.zh.txt"};
    s_expect("ticket.routed", "{\"ticket\":\"KF-2026-000042\",\"owner\":\"eng.zhao\"}", &ctx,
             routed, 1);
}

/* The manager and the owner being one person gets one e-mail, not two. */
static void test_one_message_per_recipient_and_channel(void **state)
{
    rule_ctx_t ctx = s_ctx();
    ctx.manager = ctx.owner;
    const char *escalated[] = {"staff:eng.zhao:email:ticket.escalated.email.zh.txt"};
    s_expect("ticket.escalated", "{\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\",\"level\":1}",
             &ctx, escalated, 1);
}

static void test_unknown_type(void **state)
{
    rule_ctx_t ctx = s_ctx();
    json_t *body = s_body("{}");
    recipient_t out[4];
    assert_int_equal(rules_recipients("ticket.responded", body, &ctx, out, 4), -1);
    assert_int_equal(rules_recipients("nonsense", body, &ctx, out, 4), -1);
    assert_false(rules_handles("ticket.closed"));
    assert_true(rules_handles("survey.sent"));
    json_decref(body);
}

static void test_types_literal_names_every_rule(void **state)
{
    const char *literal = rules_types_literal();
    assert_true(literal[0] == '{' && literal[strlen(literal) - 1] == '}');
    for (const rule_t *rule = rules_table; rule->event; rule++) {
        assert_non_null(strstr(literal, rule->event));
        assert_true(rules_handles(rule->event));
        assert_non_null(rules_placeholders(rule->event));
    }
}

/* rules_check_body on text; returns the error code. */
static kf_err_t s_check(const char *type, const char *text, const char *field)
{
    json_t *body = s_body(text);
    kf_error_t err = {0};
    int rc = rules_check_body(type, body, &err);
    json_decref(body);
    if (rc == 0)
        return KF_OK;
    if (field)
        assert_string_equal(err.field, field);
    return err.code;
}

static void test_bodies(void **state)
{
    assert_int_equal(s_check("ticket.routed", "{\"ticket\":\"KF-1\",\"owner\":\"a\"}", NULL),
                     KF_OK);
    assert_int_equal(s_check("ticket.routed", "{\"ticket\":\"KF-1\"}", "owner"),
                     KF_E_MISSING_FIELD);
    assert_int_equal(s_check("ticket.routed", "{\"ticket\":\"KF-1\",\"owner\":null}", "owner"),
                     KF_E_MISSING_FIELD);
    assert_int_equal(s_check("ticket.routed", "{\"ticket\":7,\"owner\":\"a\"}", "ticket"),
                     KF_E_WRONG_TYPE);
    assert_int_equal(s_check("ticket.submitted", "{\"ticket\":\"\"}", "ticket"), KF_E_BAD_VALUE);
    assert_int_equal(s_check("ticket.submitted",
                             "{\"ticket\":\"KF-123456789012345678901234567890123\"}", "ticket"),
                     KF_E_TOO_LONG);
    assert_int_equal(
        s_check("ticket.routed",
                "{\"ticket\":\"KF-1\",\"owner\":\"a\",\"first_response_due\":\"soon\"}",
                "first_response_due"),
        KF_E_WRONG_TYPE);
    assert_int_equal(
        s_check("ticket.escalated", "{\"ticket\":\"KF-1\",\"to\":\"a\",\"level\":9}", "level"),
        KF_E_BAD_VALUE);
    assert_int_equal(
        s_check("ticket.escalated", "{\"ticket\":\"KF-1\",\"to\":\"a\",\"level\":-1}", "level"),
        KF_E_BAD_VALUE);
    assert_int_equal(s_check("survey.sent", "{\"survey\":1,\"kind\":\"resolution\"}", "homeowner"),
                     KF_E_MISSING_FIELD);
    assert_int_equal(
        s_check("survey.sent", "{\"survey\":1,\"kind\":\"poll\",\"homeowner\":3}", "kind"),
        KF_E_BAD_VALUE);
    assert_int_equal(
        s_check("survey.sent", "{\"survey\":1,\"kind\":\"campaign\",\"homeowner\":3}", NULL),
        KF_OK);
    assert_int_equal(s_check("ticket.closed", "{}", "type"), KF_E_UNKNOWN_TYPE);
    kf_error_t err = {0};
    json_t *array = json_array();
    assert_int_equal(rules_check_body("ticket.resolved", array, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    json_decref(array);
}

static void test_quiet_applies_to_customers_sms_only(void **state)
{
    assert_true(rules_quiet("homeowner", "sms", false));
    assert_false(rules_quiet("homeowner", "sms", true));
    assert_false(rules_quiet("staff", "email", false));
    assert_false(rules_quiet("staff", "sms", false));
    rule_ctx_t ctx = s_ctx();
    assert_false(rules_urgent(&ctx));
    ctx.priority = "urgent";
    assert_true(rules_urgent(&ctx));
    ctx.priority = NULL;
    assert_false(rules_urgent(&ctx));
}

/* The value of placeholder name in vars. */
static const char *s_get(const rule_vars_t *vars, const char *name)
{
    for (size_t i = 0; i < vars->count; i++)
        if (strcmp(vars->vars[i].name, name) == 0)
            return vars->vars[i].value ? vars->vars[i].value : "";
    fail_msg("no placeholder %s", name);
    return NULL;
}

static void test_values_in_both_languages(void **state)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    rule_ctx_t ctx = s_ctx();
    json_t *body = s_body("{\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\",\"level\":2,"
                          "\"reason\":\"first_response_overdue\",\"from\":\"agent.li\"}");
    recipient_t out[4];
    assert_int_equal(rules_recipients("ticket.escalated", body, &ctx, out, 4), 2);
    rule_vars_t vars;
    rules_vars(&vars, "ticket.escalated", body, &ctx, &out[0]); /* the owner, zh */
    assert_string_equal(s_get(&vars, "ticket"), "KF-2026-000042");
    assert_string_equal(s_get(&vars, "recipient_name"), "赵强");
    assert_string_equal(s_get(&vars, "reason"), "首次响应超时");
    assert_string_equal(s_get(&vars, "kind"), "投诉");
    assert_string_equal(s_get(&vars, "category"), "渗漏");
    assert_string_equal(s_get(&vars, "department"), "工程部");
    assert_string_equal(s_get(&vars, "level"), "2");
    assert_string_equal(s_get(&vars, "from_name"), "李娜");
    assert_string_equal(s_get(&vars, "due"), "2026-11-24 08:00");
    assert_string_equal(s_get(&vars, "resolve_due"), "");
    rules_vars(&vars, "ticket.escalated", body, &ctx, &out[1]); /* the manager, en */
    assert_string_equal(s_get(&vars, "recipient_name"), "刘洋");
    assert_string_equal(s_get(&vars, "reason"), "first response overdue");
    assert_string_equal(s_get(&vars, "kind"), "complaint");
    assert_string_equal(s_get(&vars, "department"), "Engineering");
    json_decref(body);

    /* A customer without a name is addressed politely all the same. */
    ctx.customer.name = NULL;
    body = s_body("{\"ticket\":\"KF-2026-000042\",\"first_response_due\":1795482000000,"
                  "\"owner\":\"eng.zhao\"}");
    assert_int_equal(rules_recipients("ticket.routed", body, &ctx, out, 4), 2);
    rules_vars(&vars, "ticket.routed", body, &ctx, &out[0]);
    assert_string_equal(s_get(&vars, "customer_name"), "业主");
    assert_string_equal(s_get(&vars, "due"), "2026-11-24 09:00"); /* the event's own due */
    assert_string_equal(s_get(&vars, "owner_name"), "赵强");
    json_decref(body);
}

/* The staff an approval event names, as the notifier looks them up
   (kefu_notify_context gives only the owner and their manager). */
static const party_t s_staff[] = {
    {"gm.zheng", "郑国强", "gm.zheng@kefu.example", "zh"},
    {"vp.zhou", "周明", "vp.zhou@kefu.example", "en"},
    {"agent.li", "李娜", "agent.li@kefu.example", "zh"},
    {"eng.liu", "刘洋", "eng.liu@kefu.example", "zh"},
    {"cs.wang", "王芳", "cs.wang@kefu.example", "zh"},
    {"eng.zhao", "赵强", "eng.zhao@kefu.example", "zh"},
    {"audit.guo", "郭涛", "audit.guo@kefu.example", "zh"},
    {"gone.away", NULL, NULL, NULL}, /* not in the store: no address */
};

static rule_ctx_t s_ctx_staff(void)
{
    rule_ctx_t ctx = s_ctx();
    ctx.staff = s_staff;
    ctx.staff_count = sizeof s_staff / sizeof s_staff[0];
    return ctx;
}

/* Each approval event goes by e-mail to the staff member it names. */
static void test_approval_recipients(void **state)
{
    rule_ctx_t ctx = s_ctx_staff();
    const char *to_owner[] = {"staff:eng.zhao:email:approval.step_assigned.email.zh.txt"};
    s_expect("approval.step_assigned",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\"}", &ctx, to_owner,
             1);
    const char *reminded[] = {"staff:eng.zhao:email:approval.step_reminded.email.zh.txt"};
    s_expect("approval.step_reminded",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\"}", &ctx, reminded,
             1);
    const char *escalated[] = {"staff:eng.zhao:email:approval.step_escalated.email.zh.txt"};
    s_expect("approval.step_escalated",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
             "\"action\":\"delegate\"}",
             &ctx, escalated, 1);
    const char *at_risk[] = {"staff:eng.zhao:email:approval.at_risk.email.zh.txt"};
    s_expect("approval.at_risk",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\"}", &ctx, at_risk, 1);
    const char *completed[] = {"staff:eng.zhao:email:approval.completed.email.zh.txt"};
    s_expect("approval.completed",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"owner\":\"eng.zhao\","
             "\"outcome\":\"approved\"}",
             &ctx, completed, 1);
    assert_int_equal(
        s_check("approval.step_assigned", "{\"ticket\":\"KF-1\",\"to\":\"a\"}", "request"),
        KF_E_MISSING_FIELD);
    assert_int_equal(s_check("approval.completed",
                             "{\"request\":1,\"ticket\":\"KF-1\",\"owner\":\"a\"}", "outcome"),
                     KF_E_MISSING_FIELD);
    assert_int_equal(
        s_check("approval.step_assigned",
                "{\"request\":1,\"ticket\":\"KF-1\",\"to\":\"a\",\"amount_fen\":\"5\"}",
                "amount_fen"),
        KF_E_WRONG_TYPE);
    /* A label of 27 Chinese characters (81 bytes; the organisation file allows 200). */
    s_expect("approval.step_assigned",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
             "\"label\":\"客服中心经理审核第一阶段含工程部现场核查报告与费用明细\"}",
             &ctx, to_owner, 1);
}

/* At risk: everyone the store lists, once each, in its order; `to` (the
   ticket owner's manager) only when an older event lists no one. */
static void test_at_risk_reaches_everyone_who_can_act(void **state)
{
    rule_ctx_t ctx = s_ctx_staff();
    const char *all[] = {"staff:gm.zheng:email:approval.at_risk.email.zh.txt",
                         "staff:vp.zhou:email:approval.at_risk.email.en.txt",
                         "staff:agent.li:email:approval.at_risk.email.zh.txt",
                         "staff:eng.liu:email:approval.at_risk.email.zh.txt",
                         "staff:cs.wang:email:approval.at_risk.email.zh.txt"};
    s_expect("approval.at_risk",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.liu\","
             "\"owner\":\"eng.zhao\",\"promised\":\"2026-11-22\",\"recipients\":[\"gm.zheng\","
             "\"vp.zhou\",\"agent.li\",\"eng.liu\",\"cs.wang\",\"vp.zhou\"]}",
             &ctx, all, 5);
    const char *to[] = {"staff:eng.liu:email:approval.at_risk.email.zh.txt"};
    s_expect("approval.at_risk", "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.liu\"}",
             &ctx, to, 1);
    s_expect("approval.at_risk",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.liu\","
             "\"recipients\":[]}",
             &ctx, to, 1);
    /* Someone the store does not know still gets a row (failed: no
       address, for operators to see); an id nobody looked up does not. */
    const char *gone[] = {"staff:gone.away:email:approval.at_risk.email.zh.txt"};
    s_expect("approval.at_risk",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.liu\","
             "\"recipients\":[\"gone.away\",\"never.seen\"]}",
             &ctx, gone, 1);
    ctx.imported = true;
    s_expect("approval.at_risk",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.liu\","
             "\"recipients\":[\"gm.zheng\"]}",
             &ctx, NULL, 0);
}

/* The new approval events and the delegates of the old ones. */
static void test_stalled_delegates_and_moves(void **state)
{
    rule_ctx_t ctx = s_ctx_staff();
    const char *stalled[] = {"staff:gm.zheng:email:approval.step_stalled.email.zh.txt",
                             "staff:cs.wang:email:approval.step_stalled.email.zh.txt"};
    s_expect("approval.step_stalled",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":31,\"stage\":3,"
             "\"label\":\"general manager\",\"assigned_to\":\"gm.zheng\",\"deadline_at\":"
             "1795420800000,\"moved_from\":[],\"recipients\":[\"gm.zheng\",\"cs.wang\"]}",
             &ctx, stalled, 2);
    const char *nobody_else[] = {"staff:gm.zheng:email:approval.step_stalled.email.zh.txt"};
    s_expect("approval.step_stalled",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"assigned_to\":\"gm.zheng\","
             "\"recipients\":[]}",
             &ctx, nobody_else, 1);
    /* The delegate only: not the absent person, not the operator. */
    const char *cover[] = {"staff:vp.zhou:email:approval.delegate_set.email.en.txt"};
    s_expect("approval.delegate_set",
             "{\"staff\":\"gm.zheng\",\"delegate\":\"vp.zhou\",\"to\":\"vp.zhou\","
             "\"by\":\"operator root\",\"reason\":\"住院\",\"steps\":[]}",
             &ctx, cover, 1);
    const char *assigned[] = {"staff:eng.zhao:email:approval.step_assigned.email.zh.txt",
                              "staff:vp.zhou:email:approval.step_assigned.delegate.email.en.txt"};
    s_expect("approval.step_assigned",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
             "\"delegate\":\"vp.zhou\"}",
             &ctx, assigned, 2);
    const char *moved[] = {"staff:eng.zhao:email:approval.step_escalated.email.zh.txt",
                           "staff:vp.zhou:email:approval.step_escalated.delegate.email.en.txt"};
    s_expect("approval.step_escalated",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
             "\"action\":\"fallback\",\"delegate\":\"vp.zhou\"}",
             &ctx, moved, 2);
    const char *reassigned[] = {
        "staff:eng.zhao:email:approval.step_escalated.reassign.email.zh.txt",
        "staff:vp.zhou:email:approval.step_escalated.delegate.email.en.txt"};
    s_expect("approval.step_escalated",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
             "\"action\":\"reassign\",\"by\":\"cs.wang\",\"reason\":\"郑总出差\","
             "\"delegate\":\"vp.zhou\"}",
             &ctx, reassigned, 2);
    /* An escalation of an older version, without action. */
    const char *plain[] = {"staff:eng.zhao:email:approval.step_escalated.email.zh.txt"};
    s_expect("approval.step_escalated",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\"}", &ctx, plain, 1);
    /* A delegate who is the approver too hears once, as the approver. */
    const char *once[] = {"staff:eng.zhao:email:approval.step_assigned.email.zh.txt"};
    s_expect("approval.step_assigned",
             "{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
             "\"delegate\":\"eng.zhao\"}",
             &ctx, once, 1);
}

/* The ids the notifier must look up: recipients and the people shown by
   name, each once. */
static void test_staff_ids(void **state)
{
    const char *ids[8];
    json_t *body = s_body("{\"staff\":\"gm.zheng\",\"delegate\":\"vp.zhou\",\"to\":"
                          "\"vp.zhou\",\"by\":\"operator root\"}");
    assert_int_equal(rules_staff_ids("approval.delegate_set", body, ids, 8), 3);
    assert_string_equal(ids[0], "vp.zhou");
    assert_string_equal(ids[1], "gm.zheng");
    assert_string_equal(ids[2], "operator root");
    json_decref(body);
    body = s_body("{\"request\":7,\"ticket\":\"KF-1\",\"assigned_to\":\"gm.zheng\","
                  "\"moved_from\":[\"vp.zhou\",\"cs.wang\"],\"recipients\":[\"gm.zheng\","
                  "\"agent.li\"]}");
    assert_int_equal(rules_staff_ids("approval.step_stalled", body, ids, 8), 4);
    assert_string_equal(ids[0], "gm.zheng");
    assert_string_equal(ids[1], "agent.li");
    assert_string_equal(ids[2], "vp.zhou");
    assert_string_equal(ids[3], "cs.wang");
    assert_int_equal(rules_staff_ids("approval.step_stalled", body, ids, 2), 2);
    json_decref(body);
    body = s_body("{\"request\":7,\"ticket\":\"KF-1\",\"to\":\"eng.liu\"}");
    assert_int_equal(rules_staff_ids("approval.at_risk", body, ids, 8), 1);
    assert_string_equal(ids[0], "eng.liu");
    assert_int_equal(rules_staff_ids("ticket.routed", body, ids, 8), 0);
    json_decref(body);
}

static void test_list_bodies(void **state)
{
    assert_int_equal(s_check("approval.at_risk",
                             "{\"request\":1,\"ticket\":\"KF-1\",\"to\":\"a\","
                             "\"recipients\":\"a\"}",
                             "recipients"),
                     KF_E_WRONG_TYPE);
    assert_int_equal(s_check("approval.at_risk",
                             "{\"request\":1,\"ticket\":\"KF-1\",\"to\":\"a\","
                             "\"recipients\":[\"a\",\"\"]}",
                             "recipients"),
                     KF_E_BAD_VALUE);
    assert_int_equal(s_check("approval.step_stalled",
                             "{\"request\":1,\"ticket\":\"KF-1\",\"assigned_to\":\"a\","
                             "\"moved_from\":[7]}",
                             "moved_from"),
                     KF_E_BAD_VALUE);
    assert_int_equal(
        s_check("approval.step_stalled", "{\"request\":1,\"ticket\":\"KF-1\"}", "assigned_to"),
        KF_E_MISSING_FIELD);
    assert_int_equal(s_check("approval.delegate_set",
                             "{\"staff\":\"a\",\"delegate\":\"b\",\"to\":\"b\","
                             "\"steps\":{}}",
                             "steps"),
                     KF_E_WRONG_TYPE);
    assert_int_equal(s_check("approval.delegate_set",
                             "{\"staff\":\"a\",\"delegate\":\"b\",\"to\":\"b\",\"steps\":[]}",
                             NULL),
                     KF_OK);
    assert_int_equal(s_check("approval.delegate_set",
                             "{\"staff\":\"a\",\"delegate\":\"b\",\"to\":\"b\","
                             "\"steps\":[{\"request\":1,\"ticket\":7}]}",
                             "steps"),
                     KF_E_BAD_VALUE);
    assert_int_equal(s_check("approval.delegate_set",
                             "{\"staff\":\"a\",\"delegate\":\"b\",\"to\":\"b\","
                             "\"steps\":[\"x\"]}",
                             "steps"),
                     KF_E_BAD_VALUE);
    json_t *body =
        json_pack("{s:i, s:s, s:s, s:[]}", "request", 1, "ticket", "KF-1", "to", "a", "recipients");
    for (int i = 0; i < 65; i++)
        json_array_append_new(json_object_get(body, "recipients"), json_string("a"));
    kf_error_t err = {0};
    assert_int_equal(rules_check_body("approval.at_risk", body, &err), -1);
    assert_int_equal(err.code, KF_E_TOO_LONG);
    json_decref(body);
}

/* The names the new mails show, in the recipient's language. */
static void test_named_values(void **state)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    rule_ctx_t ctx = s_ctx_staff();
    recipient_t out[4];
    rule_vars_t vars;
    json_t *body =
        s_body("{\"request\":7,\"ticket\":\"KF-2026-000042\",\"step\":31,\"assigned_to\":"
               "\"gm.zheng\",\"moved_from\":[\"vp.zhou\",\"cs.wang\"],\"recipients\":[\"vp.zhou\","
               "\"cs.wang\"],\"deadline_at\":1795420800000}");
    assert_int_equal(rules_recipients("approval.step_stalled", body, &ctx, out, 4), 2);
    rules_vars(&vars, "approval.step_stalled", body, &ctx, &out[0]); /* vp.zhou, en */
    assert_string_equal(s_get(&vars, "approver_name"), "郑国强");
    assert_string_equal(s_get(&vars, "moved_from"), "周明, 王芳");
    assert_string_equal(s_get(&vars, "step"), "31");
    rules_vars(&vars, "approval.step_stalled", body, &ctx, &out[1]); /* cs.wang, zh */
    assert_string_equal(s_get(&vars, "moved_from"), "周明、王芳");
    assert_string_equal(s_get(&vars, "deadline"), "2026-11-23 16:00");
    json_decref(body);

    body = s_body("{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
                  "\"action\":\"reassign\",\"from\":\"gm.zheng\",\"by\":\"cs.wang\","
                  "\"reason\":\"deadline\"}");
    assert_int_equal(rules_recipients("approval.step_escalated", body, &ctx, out, 4), 1);
    rules_vars(&vars, "approval.step_escalated", body, &ctx, &out[0]);
    assert_string_equal(s_get(&vars, "by_name"), "王芳");
    assert_string_equal(s_get(&vars, "reason"), "deadline"); /* a person's words stay */
    json_decref(body);
    body = s_body("{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
                  "\"action\":\"escalate\",\"reason\":\"deadline\"}");
    rules_vars(&vars, "approval.step_escalated", body, &ctx, &out[0]);
    assert_string_equal(s_get(&vars, "reason"), "已过处理期限");
    json_decref(body);

    body = s_body("{\"staff\":\"gm.zheng\",\"delegate\":\"vp.zhou\",\"to\":\"vp.zhou\","
                  "\"by\":\"gm.zheng\",\"from_at\":1795420800000,\"until_at\":1795507200000,"
                  "\"steps\":[]}");
    assert_int_equal(rules_recipients("approval.delegate_set", body, &ctx, out, 4), 1);
    rules_vars(&vars, "approval.delegate_set", body, &ctx, &out[0]); /* vp.zhou, en */
    assert_string_equal(s_get(&vars, "staff_name"), "郑国强");
    assert_string_equal(s_get(&vars, "since"), "2026-11-23 16:00");
    assert_string_equal(s_get(&vars, "until"), "2026-11-24 16:00");
    assert_string_equal(s_get(&vars, "arranged"), "郑国强 registered this cover themselves.");
    assert_string_equal(s_get(&vars, "step_count"), "0");
    json_decref(body);
    /* More steps than a mail lists: the rest are counted. */
    json_t *steps = json_array();
    for (int i = 0; i < 25; i++)
        json_array_append_new(steps,
                              json_pack("{s:i, s:i, s:s, s:s, s:I}", "request", 100 + i, "step",
                                        200 + i, "label", "finance", "ticket", "KF-2026-000042",
                                        "deadline_at", (json_int_t)1795420800000));
    body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "staff", "gm.zheng", "delegate", "vp.zhou", "to",
                     "vp.zhou", "by", "operator root", "steps", steps);
    rules_vars(&vars, "approval.delegate_set", body, &ctx, &out[0]);
    assert_string_equal(s_get(&vars, "step_count"), "25");
    assert_non_null(strstr(s_get(&vars, "steps"), "\n- and 5 more: kefu approvals"));
    assert_string_equal(s_get(&vars, "arranged"),
                        "operator root registered this cover for 郑国强.");
    json_decref(body);
}

static void test_approval_values(void **state)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    rule_ctx_t ctx = s_ctx();
    json_t *body = s_body("{\"request\":7,\"ticket\":\"KF-2026-000042\",\"to\":\"eng.zhao\","
                          "\"label\":\"cost audit\",\"type\":\"settlement\",\"amount_fen\":8000050,"
                          "\"deadline_at\":1795420800000}");
    recipient_t out[4];
    assert_int_equal(rules_recipients("approval.step_assigned", body, &ctx, out, 4), 1);
    rule_vars_t vars;
    rules_vars(&vars, "approval.step_assigned", body, &ctx, &out[0]);
    assert_string_equal(s_get(&vars, "request"), "7");
    assert_string_equal(s_get(&vars, "label"), "cost audit");
    assert_string_equal(s_get(&vars, "request_type"), "和解赔偿");
    assert_string_equal(s_get(&vars, "amount"), "80,000.50");
    assert_string_equal(s_get(&vars, "deadline"), "2026-11-23 16:00");
    assert_string_equal(s_get(&vars, "recipient_name"), "赵强");
    json_decref(body);

    ctx.owner.lang = "en";
    body = s_body("{\"request\":7,\"ticket\":\"KF-2026-000042\",\"owner\":\"eng.zhao\","
                  "\"outcome\":\"rejected\",\"cycle_ms\":93780000}");
    assert_int_equal(rules_recipients("approval.completed", body, &ctx, out, 4), 1);
    rules_vars(&vars, "approval.completed", body, &ctx, &out[0]);
    assert_string_equal(s_get(&vars, "outcome"), "rejected");
    assert_string_equal(s_get(&vars, "cycle"), "1d 2h 3m");
    assert_string_equal(s_get(&vars, "amount"), "");
    json_decref(body);

    char buf[40];
    rules_format_amount(0, buf, sizeof buf);
    assert_string_equal(buf, "0.00");
    rules_format_amount(99, buf, sizeof buf);
    assert_string_equal(buf, "0.99");
    rules_format_amount(123456789, buf, sizeof buf);
    assert_string_equal(buf, "1,234,567.89");
    rules_format_amount(100000, buf, sizeof buf);
    assert_string_equal(buf, "1,000.00");
}

static void test_format_time(void **state)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    char buf[32];
    rules_format_time(1795420800000, buf, sizeof buf); /* 2026-11-23 08:00 UTC */
    assert_string_equal(buf, "2026-11-23 16:00");
    rules_format_time(0, buf, sizeof buf);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_event_type),
        cmocka_unit_test(test_surveys_by_kind),
        cmocka_unit_test(test_imported_tickets_are_silent),
        cmocka_unit_test(test_absent_recipients_are_skipped),
        cmocka_unit_test(test_one_message_per_recipient_and_channel),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_types_literal_names_every_rule),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_quiet_applies_to_customers_sms_only),
        cmocka_unit_test(test_values_in_both_languages),
        cmocka_unit_test(test_approval_recipients),
        cmocka_unit_test(test_at_risk_reaches_everyone_who_can_act),
        cmocka_unit_test(test_stalled_delegates_and_moves),
        cmocka_unit_test(test_staff_ids),
        cmocka_unit_test(test_list_bodies),
        cmocka_unit_test(test_named_values),
        cmocka_unit_test(test_approval_values),
        cmocka_unit_test(test_format_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
