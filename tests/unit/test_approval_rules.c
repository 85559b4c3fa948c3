/* kefu — unit tests of kefu-approval's own decisions
   (services/approval/rules.c): when a stage of all, any or N of M is
   done, when a request can no longer finish by the promised date, and
   how amounts and dates must be written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static void test_stage_all(void **state)
{
    (void)state;
    assert_int_equal(rules_stage_outcome("all", 0, 3, 0, 0), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("all", 0, 3, 2, 0), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("all", 0, 3, 3, 0), RULES_APPROVED);
    /* One rejection is enough to fail an all-of stage, even before the others. */
    assert_int_equal(rules_stage_outcome("all", 0, 3, 0, 1), RULES_REJECTED);
    assert_int_equal(rules_stage_outcome("all", 0, 3, 2, 1), RULES_REJECTED);
    assert_int_equal(rules_stage_outcome("all", 0, 1, 1, 0), RULES_APPROVED);
}

static void test_stage_any(void **state)
{
    (void)state;
    assert_int_equal(rules_stage_outcome("any", 0, 3, 0, 0), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("any", 0, 3, 1, 0), RULES_APPROVED);
    assert_int_equal(rules_stage_outcome("any", 0, 3, 0, 2), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("any", 0, 3, 0, 3), RULES_REJECTED);
    assert_int_equal(rules_stage_outcome("any", 0, 3, 1, 2), RULES_APPROVED);
}

static void test_stage_quorum(void **state)
{
    (void)state;
    assert_int_equal(rules_stage_outcome("quorum", 2, 3, 1, 0), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("quorum", 2, 3, 2, 0), RULES_APPROVED);
    assert_int_equal(rules_stage_outcome("quorum", 2, 3, 1, 1), RULES_PENDING);
    /* Two of three rejected: two approvals can no longer happen. */
    assert_int_equal(rules_stage_outcome("quorum", 2, 3, 1, 2), RULES_REJECTED);
    assert_int_equal(rules_stage_outcome("quorum", 2, 3, 0, 2), RULES_REJECTED);
    /* A quorum above the steps there are means all of them. */
    assert_int_equal(rules_stage_outcome("quorum", 5, 2, 1, 0), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("quorum", 5, 2, 2, 0), RULES_APPROVED);
    assert_int_equal(rules_stage_outcome("quorum", 0, 2, 1, 0), RULES_APPROVED);
}

static void test_stage_odd(void **state)
{
    (void)state;
    assert_int_equal(rules_stage_outcome("most", 0, 3, 3, 0), RULES_PENDING);
    assert_int_equal(rules_stage_outcome("all", 0, 0, 0, 0), RULES_PENDING);
    assert_string_equal(rules_outcome_name(RULES_APPROVED), "approved");
    assert_string_equal(rules_outcome_name(RULES_REJECTED), "rejected");
    assert_null(rules_outcome_name(RULES_PENDING));
}

static void test_at_risk(void **state)
{
    (void)state;
    int64_t projected = 0;
    /* Stage ends in 10 s, later stages 20 s: finishes at now + 30 s. */
    assert_false(rules_at_risk(1000000, 1030000, 1010000, 20, &projected));
    assert_int_equal(projected, 1030000);
    assert_true(rules_at_risk(1000000, 1029999, 1010000, 20, &projected));
    /* A stage whose deadline passed (or stopped) counts from now. */
    assert_true(rules_at_risk(1000000, 1019999, 900000, 20, &projected));
    assert_int_equal(projected, 1020000);
    assert_false(rules_at_risk(1000000, 1020000, 0, 20, &projected));
    /* Last stage: only its own deadline counts. */
    assert_false(rules_at_risk(1000000, 1010000, 1010000, 0, &projected));
    /* The promised date already past: at risk at once. */
    assert_true(rules_at_risk(1000000, 999999, 0, 0, &projected));
    /* The field: seven steps of 3 days against 10 days promised. */
    int64_t day = 86400;
    assert_true(rules_at_risk(0, 10 * day * 1000, 3 * day * 1000, 6 * 3 * day, &projected));
    assert_int_equal(projected, 21 * day * 1000);
    /* The parallel policy of one day a stage fits. */
    assert_false(rules_at_risk(0, 10 * day * 1000, day * 1000, 3 * day, &projected));
}

static void test_amount(void **state)
{
    (void)state;
    kf_error_t err = {0};
    int64_t fen = 0;
    assert_int_equal(rules_amount_fen("80000", &fen, &err), 0);
    assert_int_equal(fen, 8000000);
    assert_int_equal(rules_amount_fen("80000.5", &fen, &err), 0);
    assert_int_equal(fen, 8000050);
    assert_int_equal(rules_amount_fen("80000.05", &fen, &err), 0);
    assert_int_equal(fen, 8000005);
    assert_int_equal(rules_amount_fen("0.01", &fen, &err), 0);
    assert_int_equal(fen, 1);
    assert_int_equal(rules_amount_fen("100000000.00", &fen, &err), 0);
    assert_int_equal(fen, RULES_AMOUNT_MAX_FEN);
    /* found by fuzz_approval_req: leading zeros counted as digits */
    assert_int_equal(rules_amount_fen("0083842020.9", &fen, &err), 0);
    assert_int_equal(fen, INT64_C(8384202090));
    assert_int_equal(rules_amount_fen("00000000000000001.00", &fen, &err), 0);
    assert_int_equal(fen, 100);
    static const char *const bad[] = {"",
                                      "0",
                                      "0.00",
                                      "100000000.01",
                                      "1e5",
                                      "-5",
                                      "+5",
                                      "80,000",
                                      "¥80000",
                                      "80000 CNY",
                                      "USD 80000",
                                      "80000.",
                                      ".5",
                                      "80000.123",
                                      " 80000",
                                      "80000 ",
                                      "8000000000000",
                                      "0x10",
                                      "000100000000.01",
                                      NULL};
    for (int i = 0; bad[i]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(rules_amount_fen(bad[i], &fen, &err), -1);
        assert_int_equal(err.code, KF_E_BAD_VALUE);
        assert_string_equal(err.field, "amount");
    }
    char text[32];
    rules_amount_text(8000005, text, sizeof text);
    assert_string_equal(text, "80000.05");
    rules_amount_text(1, text, sizeof text);
    assert_string_equal(text, "0.01");
}

/* The at-risk reason reads as a span, never raw ms nor a time in some zone. */
static void test_risk_reason(void **state)
{
    char text[160];
    /* 1 d 16 h after the end of the promised day. */
    rules_risk_reason(1795507200000, 1795363200000, text, sizeof text);
    assert_string_equal(text, "the remaining stages may finish 1d 16h 0m after the end of the "
                              "promised day");
    rules_risk_reason(1795363260000, 1795363200000, text, sizeof text);
    assert_string_equal(text, "the remaining stages may finish 0d 0h 1m after the end of the "
                              "promised day");
}

static void test_date(void **state)
{
    (void)state;
    kf_error_t err = {0};
    assert_int_equal(rules_date("2026-12-03", "promised", &err), 0);
    assert_int_equal(rules_date("2028-02-29", "promised", &err), 0);
    static const char *const bad[] = {"2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
                                      "26-12-03", "2026/12/03", "2026-12-3", "2026-12-03T00",
                                      "1999-12-31", "", "+026-12-03", "2100-02-29",
                                      /* found by fuzz_approval_req: sscanf took these */
                                      "2026-12- 3", "2026- 1-03", "2026-+1-03", "2026-12-+3", NULL};
    for (int i = 0; bad[i]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(rules_date(bad[i], "promised", &err), -1);
        assert_int_equal(err.code, KF_E_BAD_VALUE);
        assert_string_equal(err.field, "promised");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_all),    cmocka_unit_test(test_stage_any),
        cmocka_unit_test(test_stage_quorum), cmocka_unit_test(test_stage_odd),
        cmocka_unit_test(test_at_risk),      cmocka_unit_test(test_amount),
        cmocka_unit_test(test_date),         cmocka_unit_test(test_risk_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
