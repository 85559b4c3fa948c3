/* kefu — unit tests of the survey loop's decisions (services/survey/plan.c):
   due times, who gets a reopened ticket, when an answer reopens, when a
   repeated answer is the same answer, who may do what. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"

static void test_due(void **state)
{
    /* 2026-11-23T08:00:00Z plus a day. */
    assert_true(plan_due(1795420800000LL, 86400) == 1795507200000LL);
    assert_true(plan_due(1795420800000LL, 1) == 1795420801000LL);
    assert_true(plan_due(1795420800000LL, 0) == 1795420800000LL);
    assert_true(plan_due(1795420800000LL, -5) == 1795420800000LL); /* no delay, never earlier */
    /* Saturates instead of overflowing, for absurd delays or times. */
    assert_true(plan_due(INT64_MAX - 500, 1) == INT64_MAX);
    assert_true(plan_due(0, INT64_MAX) == INT64_MAX);
    assert_true(plan_due(0, INT64_MAX / 1000) == INT64_MAX / 1000 * 1000);
    assert_true(plan_due(807, INT64_MAX / 1000) == INT64_MAX); /* exactly the largest */
    assert_true(plan_due(808, INT64_MAX / 1000) == INT64_MAX); /* one more: saturated */
    assert_true(plan_due(806, INT64_MAX / 1000) == INT64_MAX - 1);
}

static void test_reopen_due(void **state)
{
    assert_true(plan_reopen_due(1000, 864000, 60) == 1000 + 864000000LL);
    /* No SLA policy matched: the fallback. */
    assert_true(plan_reopen_due(1000, 0, 60) == 61000);
    assert_true(plan_reopen_due(1000, -1, 60) == 61000);
}

static void test_reopens(void **state)
{
    assert_true(plan_reopens(1));
    assert_true(plan_reopens(2));
    assert_false(plan_reopens(3));
    assert_false(plan_reopens(5));
    assert_false(plan_reopens(0)); /* not a score */
    assert_false(plan_reopens(-1));
}

static void test_should_reopen(void **state)
{
    assert_true(plan_should_reopen(true, "resolved", 2, 1, 1));
    assert_true(plan_should_reopen(true, "closed", 1, 2, 2));
    assert_false(plan_should_reopen(true, "resolved", 3, 1, 1));
    /* A campaign survey has no ticket to reopen. */
    assert_false(plan_should_reopen(false, "resolved", 1, 1, 1));
    /* The ticket is open already (e.g. reopened by another answer). */
    assert_false(plan_should_reopen(true, "routed", 1, 1, 1));
    assert_false(plan_should_reopen(true, "responded", 1, 1, 1));
    assert_false(plan_should_reopen(true, NULL, 1, 1, 1));
    /* A late answer about resolution 1 does not undo resolution 2. */
    assert_false(plan_should_reopen(true, "resolved", 1, 1, 2));
    assert_false(plan_should_reopen(true, "resolved", 1, 0, 0));
}

static void test_reopen_owner(void **state)
{
    plan_people_t p = {"eng.zhao", "eng.liu", "eng.sun", "gm.hz"};
    assert_string_equal(plan_reopen_owner(&p), "eng.liu"); /* the owner's manager */
    p.manager = "";
    assert_string_equal(plan_reopen_owner(&p), "eng.sun"); /* fallback: department head */
    p.manager = NULL;
    assert_string_equal(plan_reopen_owner(&p), "eng.sun");
    /* The head owned it and has no manager: the project GM. */
    plan_people_t head = {"eng.sun", NULL, "eng.sun", "gm.hz"};
    assert_string_equal(plan_reopen_owner(&head), "gm.hz");
    /* A manager who is the owner (bad data) is passed over. */
    plan_people_t self = {"cs.wang", "cs.wang", "", "gm.sh"};
    assert_string_equal(plan_reopen_owner(&self), "gm.sh");
    /* Nobody else known: the owner keeps it rather than nobody owning it. */
    plan_people_t alone = {"gm.zheng", "", "gm.zheng", ""};
    assert_string_equal(plan_reopen_owner(&alone), "gm.zheng");
}

static void test_same_answer(void **state)
{
    plan_answer_t a = {5, 9, "很满意"};
    plan_answer_t b = {5, 9, "很满意"};
    assert_true(plan_same_answer(&a, &b));
    b.score = 4;
    assert_false(plan_same_answer(&a, &b));
    b = (plan_answer_t){5, 8, "很满意"};
    assert_false(plan_same_answer(&a, &b));
    b = (plan_answer_t){5, PLAN_NPS_NONE, "很满意"};
    assert_false(plan_same_answer(&a, &b)); /* nps given once, not the other time */
    b = (plan_answer_t){5, 9, "满意"};
    assert_false(plan_same_answer(&a, &b));
    b = (plan_answer_t){5, 9, NULL};
    assert_false(plan_same_answer(&a, &b));
    /* No comment and no nps, either way of saying it. */
    plan_answer_t c = {3, PLAN_NPS_NONE, NULL};
    plan_answer_t d = {3, -7, ""};
    assert_true(plan_same_answer(&c, &d));
    assert_true(plan_same_answer(&d, &c));
}

static void test_roles(void **state)
{
    const char *answer_yes[] = {"agent", "manager", "head", "gm", "vp", "admin"};
    for (size_t i = 0; i < sizeof answer_yes / sizeof answer_yes[0]; i++)
        assert_true(plan_may_answer(answer_yes[i]));
    assert_false(plan_may_answer("staff"));
    assert_false(plan_may_answer(""));
    assert_false(plan_may_answer(NULL));
    const char *campaign_yes[] = {"admin", "manager", "head", "gm"};
    for (size_t i = 0; i < sizeof campaign_yes / sizeof campaign_yes[0]; i++)
        assert_true(plan_may_campaign(campaign_yes[i]));
    assert_false(plan_may_campaign("agent"));
    assert_false(plan_may_campaign("staff"));
    assert_false(plan_may_campaign("vp"));
    assert_false(plan_may_campaign(NULL));
    const char *watch_yes[] = {"manager", "head", "gm", "vp", "admin"};
    for (size_t i = 0; i < sizeof watch_yes / sizeof watch_yes[0]; i++)
        assert_true(plan_may_watch(watch_yes[i]));
    assert_false(plan_may_watch("agent"));
    assert_false(plan_may_watch("staff"));
    assert_false(plan_may_watch(""));
    assert_false(plan_may_watch(NULL));
}

static void test_milestones(void **state)
{
    const char *expected[] = {"sales",         "contract", "pre-handover",     "move-in",
                              "after-move-in", "defects",  "maintenance-fund", "revisit-4y"};
    size_t n = 0;
    while (kf_milestones[n])
        n++;
    assert_int_equal(n, 8); /* the "6+2" lifecycle */
    for (size_t i = 0; i < n; i++)
        assert_string_equal(kf_milestones[i], expected[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due),          cmocka_unit_test(test_reopen_due),
        cmocka_unit_test(test_reopens),      cmocka_unit_test(test_should_reopen),
        cmocka_unit_test(test_reopen_owner), cmocka_unit_test(test_same_answer),
        cmocka_unit_test(test_roles),        cmocka_unit_test(test_milestones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
