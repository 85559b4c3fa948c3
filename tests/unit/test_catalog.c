/* kefu — unit tests of the catalog's types and enumerations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"

static int s_count(const char *const *list)
{
    int n = 0;
    while (list[n])
        n++;
    return n;
}

static void test_types(void **state)
{
    const char *requests[] = {"submit",          "ticket.show",    "ticket.list", "ticket.respond",
                              "ticket.transfer", "ticket.resolve", "reply.ok",    "reply.error"};
    const char *events[] = {"ticket.submitted",   "ticket.routed",    "ticket.responded",
                            "ticket.transferred", "ticket.escalated", "ticket.resolved"};
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        assert_true(kf_catalog_known(requests[i]));
        assert_false(kf_catalog_is_event(requests[i]));
    }
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        assert_true(kf_catalog_known(events[i]));
        assert_true(kf_catalog_is_event(events[i]));
    }
    const char *unknown[] = {"",        "ticket",        "ticket.",       "Submit",
                             "submit ", "ticket.closed", "survey.closed", "approval.exploded",
                             "reply"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_false(kf_catalog_known(unknown[i]));
        assert_false(kf_catalog_is_event(unknown[i]));
    }
    assert_false(kf_catalog_known(NULL));
    assert_false(kf_catalog_is_event(NULL));
}

static void test_enumerations(void **state)
{
    assert_int_equal(s_count(kf_kinds), 5);
    assert_string_equal(kf_kinds[0], "complaint");
    assert_string_equal(kf_kinds[4], "praise");
    assert_int_equal(s_count(kf_categories), 10);
    assert_string_equal(kf_categories[3], "doors-windows");
    assert_string_equal(kf_categories[6], "property-service");
    assert_string_equal(kf_categories[9], "other");
    assert_int_equal(s_count(kf_channels), 6);
    assert_string_equal(kf_channels[4], "walk-in");
    assert_int_equal(s_count(kf_priorities), 3);
    assert_string_equal(kf_priorities[0], "normal");
    assert_int_equal(s_count(kf_statuses), 5);
    const char *statuses[] = {"submitted", "routed", "responded", "resolved", "closed"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(kf_statuses[i], statuses[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_enumerations),
    };
    return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
