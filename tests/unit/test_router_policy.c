/* kefu — unit tests of the ticket-router's decisions: rule matching,
   SLA lookup, deadline arithmetic and the escalation ladder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

static const policy_rule_t s_rules[] = {
    {1, "", "", "", "cs", ""},                  /* default */
    {2, "", "leak", "", "eng", "eng.zhao"},     /* any leak */
    {3, "inquiry", "", "", "cs", "agent.chen"}, /* any inquiry */
    {4, "complaint", "leak", "SH-PD", "eng", "eng.liu"},
    {5, "", "", "SH-PD", "property", ""}, /* anything at SH-PD */
    {6, "complaint", "", "", "cs", "cs.wang"},
};

static int s_match(const char *kind, const char *category, const char *project)
{
    const policy_rule_t *rule = policy_match(s_rules, 6, kind, category, project);
    return rule ? rule->id : 0;
}

static void test_most_specific_rule_wins(void **state)
{
    assert_int_equal(s_match("complaint", "leak", "SH-PD"), 4); /* all three named */
    assert_int_equal(s_match("repair", "leak", "HZ-XH"), 2);
    assert_int_equal(s_match("inquiry", "other", "HZ-XH"), 3);
    assert_int_equal(s_match("praise", "other", "HZ-XH"), 1); /* only the default */
    assert_int_equal(s_match("complaint", "crack", "HZ-XH"), 6);
}

static void test_ties_prefer_project_then_category(void **state)
{
    /* One field named each: project beats category beats kind. */
    assert_int_equal(s_match("repair", "leak", "SH-PD"), 5);
    assert_int_equal(s_match("complaint", "leak", "HZ-XH"), 2);
    assert_int_equal(s_match("complaint", "crack", "SH-PD"), 5);
}

static void test_equal_rules_lowest_id(void **state)
{
    policy_rule_t rules[] = {{9, "", "", "", "eng", ""}, {7, "", "", "", "cs", ""}};
    assert_int_equal(policy_match(rules, 2, "repair", "leak", "X")->id, 7);
}

static void test_no_rule(void **state)
{
    assert_null(policy_match(s_rules + 1, 2, "praise", "other", "HZ-XH"));
    assert_null(policy_match(s_rules, 0, "praise", "other", "HZ-XH"));
}

static void test_sla_lookup(void **state)
{
    policy_sla_t slas[] = {{"complaint", "normal", 86400, 864000, 86400},
                           {"complaint", "urgent", 3600, 172800, 14400}};
    assert_int_equal(policy_sla(slas, 2, "complaint", "urgent")->first_response_secs, 3600);
    assert_int_equal(policy_sla(slas, 2, "complaint", "normal")->resolve_secs, 864000);
    assert_null(policy_sla(slas, 2, "complaint", "high"));
    assert_null(policy_sla(slas, 2, "repair", "normal"));
}

static void test_deadline_arithmetic(void **state)
{
    /* 2026-11-30 23:59:59.000 +08:00 plus 24 h, in ms since the epoch. */
    int64_t received = 1796140799000;
    assert_int_equal(policy_due(received, 86400), received + 86400000);
    assert_int_equal(policy_due(received, 1), received + 1000);
    assert_int_equal(policy_due(received, 0), received);
    assert_int_equal(policy_due(received, -5), received);
    assert_true(policy_due(received, INT64_MAX / 10) == INT64_MAX); /* saturates */
}

static void test_escalation_ladder(void **state)
{
    const char *to = NULL;
    policy_chain_t chain = {"eng.zhao", "eng.liu", "eng.sun", "gm.hz"};
    assert_int_equal(policy_next_level(0, &chain, &to), 1);
    assert_string_equal(to, "eng.liu");
    chain = (policy_chain_t){"eng.liu", "eng.sun", "eng.sun", "gm.hz"};
    assert_int_equal(policy_next_level(1, &chain, &to), 2);
    assert_string_equal(to, "eng.sun");
    chain = (policy_chain_t){"eng.sun", "vp.zhou", "eng.sun", "gm.hz"};
    assert_int_equal(policy_next_level(2, &chain, &to), 3);
    assert_string_equal(to, "gm.hz");
    chain = (policy_chain_t){"gm.hz", "gm.zheng", "eng.sun", "gm.hz"};
    assert_int_equal(policy_next_level(3, &chain, &to), 0);
}

static void test_escalation_skips_empty_and_same_person(void **state)
{
    const char *to = NULL;
    /* The owner's manager is also the department head: level 2 is skipped
       on the next step because that person already owns the ticket. */
    policy_chain_t chain = {"prop.huang", "prop.he", "prop.he", "gm.hz"};
    assert_int_equal(policy_next_level(0, &chain, &to), 1);
    assert_string_equal(to, "prop.he");
    chain = (policy_chain_t){"prop.he", "vp.zhou", "prop.he", "gm.hz"};
    assert_int_equal(policy_next_level(1, &chain, &to), 3);
    assert_string_equal(to, "gm.hz");
    /* No manager and no head: straight to the project general manager. */
    chain = (policy_chain_t){"agent.li", "", NULL, "gm.sh"};
    assert_int_equal(policy_next_level(0, &chain, &to), 3);
    assert_string_equal(to, "gm.sh");
    /* The owner is the project general manager and nobody is above. */
    chain = (policy_chain_t){"gm.sh", "", "", "gm.sh"};
    assert_int_equal(policy_next_level(0, &chain, &to), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_most_specific_rule_wins),
        cmocka_unit_test(test_ties_prefer_project_then_category),
        cmocka_unit_test(test_equal_rules_lowest_id),
        cmocka_unit_test(test_no_rule),
        cmocka_unit_test(test_sla_lookup),
        cmocka_unit_test(test_deadline_arithmetic),
        cmocka_unit_test(test_escalation_ladder),
        cmocka_unit_test(test_escalation_skips_empty_and_same_person),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
