/* kefu — unit tests of the wire model's generated tables and lookups
   (kf_model.h, from proto/model.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "kf_error.h"
#include "kf_model.h"

/* Labels: Chinese by default and for any lang but "en", the English one
   for "en", NULL for a value not in the enumeration. */
static void test_label(void **state)
{
    (void)state;
    assert_string_equal(kf_model_label(KF_ENUM_KIND, "complaint", "zh"), "投诉");
    assert_string_equal(kf_model_label(KF_ENUM_KIND, "repair", "zh"), "报修");
    assert_string_equal(kf_model_label(KF_ENUM_KIND, "repair", "en"), "repair request");
    assert_string_equal(kf_model_label(KF_ENUM_KIND, "praise", "fr"), "表扬");
    assert_string_equal(kf_model_label(KF_ENUM_KIND, "praise", NULL), "表扬");
    assert_string_equal(kf_model_label(KF_ENUM_CATEGORY, "doors-windows", "en"),
                        "doors and windows");
    assert_string_equal(kf_model_label(KF_ENUM_PRIORITY, "urgent", "zh"), "紧急");
    assert_string_equal(kf_model_label(KF_ENUM_REQUEST_TYPE, "repair_cost", "zh"), "维修费用");
    assert_string_equal(kf_model_label(KF_ENUM_MOVE_ACTION, "admin", "zh"), "转交审批管理员");
    assert_string_equal(kf_model_label(KF_ENUM_SEGMENT, "first-home", "zh"), "刚需");
    /* A value of another enumeration is not one of this one. */
    assert_null(kf_model_label(KF_ENUM_KIND, "leak", "zh"));
    assert_null(kf_model_label(KF_ENUM_KIND, "", "zh"));
    assert_null(kf_model_label(KF_ENUM_KIND, NULL, "zh"));
    assert_null(kf_model_label(KF_ENUM_COUNT, "complaint", "zh"));
    assert_null(kf_model_label((kf_enum_t)-1, "complaint", "zh"));
}

/* Membership, the lists and finding an enumeration by name. */
static void test_in_and_names(void **state)
{
    (void)state;
    assert_true(kf_model_in(KF_ENUM_STATUS, "responded"));
    assert_false(kf_model_in(KF_ENUM_STATUS, "Responded"));
    assert_false(kf_model_in(KF_ENUM_STATUS, "respond"));
    assert_true(kf_model_in(KF_ENUM_ROLE, "vp"));
    assert_true(kf_model_in(KF_ENUM_HISTORY_ACTION, "approval"));
    assert_false(kf_model_in(KF_ENUM_DECISION, "auto_approve"));
    assert_true(kf_model_in(KF_ENUM_STEP_OUTCOME, "auto_approve"));
    assert_false(kf_model_in(KF_ENUM_COUNT, "x"));
    assert_ptr_equal(kf_model_names(KF_ENUM_KIND), kf_kinds);
    assert_ptr_equal(kf_model_names(KF_ENUM_MILESTONE), kf_milestones);
    assert_null(kf_model_names(KF_ENUM_COUNT));
    assert_int_equal(kf_model_enum("kind"), KF_ENUM_KIND);
    assert_int_equal(kf_model_enum("request_type"), KF_ENUM_REQUEST_TYPE);
    assert_int_equal(kf_model_enum("kinds"), KF_ENUM_COUNT);
    assert_int_equal(kf_model_enum(NULL), KF_ENUM_COUNT);
    /* Every value of every enumeration is in it, with both labels, and
       fits its buffer size. */
    for (int e = 0; e < KF_ENUM_COUNT; e++) {
        const char *const *names = kf_model_names((kf_enum_t)e);
        assert_non_null(names);
        assert_non_null(names[0]);
        for (int i = 0; names[i]; i++) {
            assert_true(kf_model_in((kf_enum_t)e, names[i]));
            assert_true(strlen(kf_model_label((kf_enum_t)e, names[i], "zh")) > 0);
            assert_true(strlen(kf_model_label((kf_enum_t)e, names[i], "en")) > 0);
        }
    }
    assert_true(strlen("policy_exception") < KF_SIZE_REQUEST_TYPE);
    assert_true(strlen("property-service") < KF_SIZE_CATEGORY);
}

/* The error table: wire names in kf_err_t order, and the HTTP statuses. */
static void test_errors(void **state)
{
    (void)state;
    static const struct {
        kf_err_t code;
        const char *name;
        int http;
    } expected[] = {
        {KF_OK, "ok", 200},
        {KF_E_BAD_FRAME, "bad_frame", 400},
        {KF_E_BAD_UTF8, "bad_utf8", 400},
        {KF_E_BAD_VALUE, "bad_value", 400},
        {KF_E_NOT_FOUND, "not_found", 404},
        {KF_E_FORBIDDEN, "forbidden", 403},
        {KF_E_UNKNOWN_ACTOR, "unknown_actor", 401},
        {KF_E_CONFLICT, "conflict", 409},
        {KF_E_UNAVAILABLE, "unavailable", 503},
        {KF_E_INTERNAL, "internal", 500},
        {KF_E_THROTTLED, "throttled", 429},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        assert_string_equal(kf_err_name(expected[i].code), expected[i].name);
        assert_string_equal(kf_model_errors[expected[i].code].code, expected[i].name);
        assert_int_equal(kf_model_errors[expected[i].code].http, expected[i].http);
        assert_int_equal(kf_err_from_name(expected[i].name), expected[i].code);
    }
    assert_int_equal(KF_E_COUNT, 17);
    for (int i = 0; i < KF_E_COUNT; i++)
        assert_true(strlen(kf_model_errors[i].meaning) > 0);
}

/* The limits are the wire's (proto/catalog.md): a change here is a change
   of the wire and needs a new envelope version. */
static void test_limits(void **state)
{
    (void)state;
    assert_int_equal(KF_LIM_TICKET, 32);
    assert_int_equal(KF_LIM_STAFF, 64);
    assert_int_equal(KF_LIM_SUMMARY, 200);
    assert_int_equal(KF_LIM_DETAIL, 4000);
    assert_int_equal(KF_LIM_NOTE, 2000);
    assert_int_equal(KF_LIM_REASON, 500);
    assert_int_equal(KF_LIM_COMMENT, 1000);
    assert_int_equal(KF_LIM_LIST, 100);
    assert_int_equal(KF_LIM_LIST_DEFAULT, 50);
    assert_int_equal(KF_LIM_AMOUNT, 20);
    assert_int_equal(KF_LIM_DELEGATE_DAYS, 366);
}

/* The message lists: every request, both replies and the produced events
   are known; the reserved ticket.closed is not. */
static void test_messages(void **state)
{
    (void)state;
    int requests = 0, events = 0;
    for (; kf_model_messages[requests]; requests++)
        assert_true(kf_catalog_known(kf_model_messages[requests]));
    for (; kf_model_events[events]; events++)
        assert_true(kf_catalog_is_event(kf_model_events[events]));
    assert_int_equal(requests, 23); /* 20, and staff.list, watchlist and department.list */
    assert_int_equal(events, 24);   /* 20, and call.ringing/answered/ended/missed */
    assert_false(kf_catalog_known("ticket.closed"));
    /* By name, not only from the lists the catalog itself reads. */
    assert_true(kf_catalog_known("submit"));
    assert_true(kf_catalog_known("approval.decide"));
    assert_true(kf_catalog_known("reply.error"));
    assert_true(kf_catalog_is_event("approval.delegate_set"));
    assert_true(kf_catalog_is_event("call.ringing"));
    assert_true(kf_catalog_is_event("call.missed"));
    assert_true(kf_catalog_is_event("ticket.reopened"));
    assert_false(kf_catalog_is_event("submit"));
    assert_false(kf_catalog_known(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label),    cmocka_unit_test(test_in_and_names),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
