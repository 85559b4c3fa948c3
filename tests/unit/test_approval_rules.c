/* kefu — unit tests of how kefu-approval reads amounts and dates
   (services/approval/rules.c). When a stage is done and when a request is
   at risk, the store decides: integration_approval_chain checks those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

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
        cmocka_unit_test(test_amount),
        cmocka_unit_test(test_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
