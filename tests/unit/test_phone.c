/* kefu — unit tests of phone normalisation and masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "phone.h"

static void test_normalise(void **state)
{
    struct {
        const char *raw;
        const char *want; /* NULL: invalid */
    } cases[] = {
        {"13800138000", "13800138000"},
        {"138 0013 8000", "13800138000"},
        {"138-0013-8000", "13800138000"},
        {"+86 138 0013 8000", "13800138000"},
        {"+8613800138000", "13800138000"},
        {"0086 13800138000", "13800138000"},
        {"(0571) 8888.6666", "057188886666"},
        {"0571-88886666", "057188886666"},
        {"95511", "95511"},
        {"223456789012345", "223456789012345"},
        {"123456789012345", NULL}, /* starts with 1: a mobile, 11 digits */
        {"138001380001", NULL},    /* 12 digits starting with 1 */
        {"+86 138001380001", NULL},
        {"1380013800", NULL},           /* 10 digits starting with 1 */
        {"+86 0086 13800138000", NULL}, /* a country code twice */
        {"0086 0086 13800138000", NULL},
        {"1234", NULL},
        {"1234567890123456", NULL},
        {"23800138000", NULL}, /* 11 digits not starting with 1 */
        {"+86 23800138000", NULL},
        {"+1 5551234567", NULL}, /* only +86 is understood */
        {"138+00138000", NULL},
        {"138 0013 800O", NULL}, /* letter O */
        {"13800138000\n", NULL},
        {"", NULL},
        {"+86", NULL},
        {"---", NULL},
        {"１３８００１３８０００", NULL}, /* full-width digits */
        {"1380013800013800138000138000", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[KF_PHONE_MAX] = "";
        int rc = kf_phone_normalise(cases[i].raw, out);
        if (cases[i].want) {
            if (rc != 0 || strcmp(out, cases[i].want) != 0)
                fail_msg("%s: got rc %d, %s", cases[i].raw, rc, out);
        } else if (rc != -1) {
            fail_msg("%s: accepted as %s", cases[i].raw, out);
        }
    }
    char out[KF_PHONE_MAX];
    assert_int_equal(kf_phone_normalise(NULL, out), -1);
    /* A normalised number normalises to itself. */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char again[KF_PHONE_MAX];
        if (!cases[i].want)
            continue;
        assert_int_equal(kf_phone_normalise(cases[i].want, again), 0);
        assert_string_equal(again, cases[i].want);
    }
}

static void test_mask(void **state)
{
    char out[32];
    assert_string_equal(kf_phone_mask("13800138000", out, sizeof out), "138****8000");
    assert_string_equal(kf_phone_mask("057188886666", out, sizeof out), "057*****6666");
    assert_string_equal(kf_phone_mask("95511", out, sizeof out), "***11");
    assert_string_equal(kf_phone_mask("88886666", out, sizeof out), "******66");
    assert_string_equal(kf_phone_mask("12", out, sizeof out), "**");
    assert_string_equal(kf_phone_mask("", out, sizeof out), "");
    assert_string_equal(kf_phone_mask(NULL, out, sizeof out), "");
    /* never more than fits, and never the middle digits */
    char small[6];
    assert_string_equal(kf_phone_mask("13800138000", small, sizeof small), "138**");
    assert_null(strstr(kf_phone_mask("13812345678", out, sizeof out), "1234"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_mask),
    };
    return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
