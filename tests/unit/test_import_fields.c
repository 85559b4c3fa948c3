/* kefu — unit tests of the field checks of the operator imports
   (services/cli/admin_field.c): identifiers, unit numbers, segments,
   languages and ISO 8601 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin_field.h"

static void test_identifiers(void **state)
{
    assert_true(adm_is_staff_id("eng.liu"));
    assert_true(adm_is_staff_id("a"));
    assert_true(adm_is_staff_id("agent_01-x.y"));
    assert_false(adm_is_staff_id("Eng.liu"));
    assert_false(adm_is_staff_id("1eng"));
    assert_false(adm_is_staff_id(""));
    assert_false(adm_is_staff_id(NULL));
    assert_false(adm_is_staff_id("eng liu"));
    char id[80];
    memset(id, 'a', 64);
    id[64] = '\0';
    assert_true(adm_is_staff_id(id));
    id[64] = 'a';
    id[65] = '\0';
    assert_false(adm_is_staff_id(id));

    assert_true(adm_is_department_id("property"));
    assert_true(adm_is_department_id("cs-2"));
    assert_false(adm_is_department_id("cs.2"));
    assert_false(adm_is_department_id("CS"));

    assert_true(adm_is_project_id("HZ-XH"));
    assert_true(adm_is_project_id("9_a"));
    assert_false(adm_is_project_id("-HZ"));
    assert_false(adm_is_project_id("HZ XH"));
    assert_false(adm_is_project_id("西湖"));

    assert_true(adm_is_building_code("3"));
    assert_true(adm_is_building_code("A-12"));
    assert_false(adm_is_building_code("3栋"));
    assert_false(adm_is_building_code("12345678901234567"));

    assert_true(adm_is_unit_no("1201"));
    assert_true(adm_is_unit_no("A-302"));
    assert_true(adm_is_unit_no("B1"));
    assert_false(adm_is_unit_no("abc")); /* no digit */
    assert_false(adm_is_unit_no("12 01"));
    assert_false(adm_is_unit_no(""));
    assert_false(adm_is_unit_no("12345678901234567"));
}

static void test_text(void **state)
{
    assert_true(adm_is_email("a@b"));
    assert_true(adm_is_email("cs.wang@kefu.example"));
    assert_false(adm_is_email("cs.wang"));
    assert_false(adm_is_email("@kefu.example"));
    assert_false(adm_is_email("a@"));
    assert_false(adm_is_email("a@b@c"));
    assert_false(adm_is_email("a b@c"));

    assert_true(adm_is_text("王芳", 200));
    assert_false(adm_is_text("   ", 200));
    assert_false(adm_is_text("", 200));
    assert_false(adm_is_text("a\nb", 200));
    assert_false(adm_is_text("abcd", 3));

    char s[] = " \t 王 芳\t ";
    assert_string_equal(adm_trim(s), "王 芳");
    char empty[] = "   ";
    assert_string_equal(adm_trim(empty), "");
}

static void test_segments(void **state)
{
    const char *cases[][2] = {
        {"first-home", "first-home"}, {"First-Home", "first-home"}, {"刚需", "first-home"},
        {"upgrade", "upgrade"},       {"改善", "upgrade"},          {"INVESTOR", "investor"},
        {"投资", "investor"},         {"high-end", "high-end"},     {"高端", "high-end"},
        {"retirement", "retirement"}, {"养老", "retirement"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = adm_segment(cases[i][0]);
        if (!got || strcmp(got, cases[i][1]) != 0)
            fail_msg("%s: got %s", cases[i][0], got ? got : "NULL");
    }
    const char *bad[] = {"", "first home", "firsthome", "rich", "刚", "刚需 ", NULL};
    for (size_t i = 0; bad[i]; i++)
        if (adm_segment(bad[i]))
            fail_msg("'%s' accepted as a segment", bad[i]);
    assert_null(adm_segment(NULL));

    assert_string_equal(adm_lang("zh"), "zh");
    assert_string_equal(adm_lang("EN"), "en");
    assert_string_equal(adm_lang("中文"), "zh");
    assert_string_equal(adm_lang("英文"), "en");
    assert_null(adm_lang("fr"));
    assert_null(adm_lang(""));
}

/* Parses s and returns "local|offset" or "!why". */
static const char *s_time(const char *s)
{
    static char out[256];
    adm_time_t t;
    char why[160], local[40], offset[8];
    if (adm_time_parse(s, &t, why, sizeof why) != 0) {
        snprintf(out, sizeof out, "!%s", why);
        return out;
    }
    adm_time_local(&t, local, sizeof local);
    adm_time_offset(&t, offset, sizeof offset);
    snprintf(out, sizeof out, "%s|%s", local, offset);
    return out;
}

static void test_times(void **state)
{
    const char *good[][2] = {
        {"2025-03-01T09:30:00+08:00", "2025-03-01 09:30:00.000000|+08:00"},
        {"2025-03-01 09:30:00+08:00", "2025-03-01 09:30:00.000000|+08:00"},
        {"2025-03-01 09:30", "2025-03-01 09:30:00.000000|"},
        {"2025-03-01T09:30:15", "2025-03-01 09:30:15.000000|"},
        {"2024-12-31T16:00:00Z", "2024-12-31 16:00:00.000000|+00:00"},
        {"2024-12-31T16:00:00z", "2024-12-31 16:00:00.000000|+00:00"},
        {"2025-01-31 23:59:59.999999", "2025-01-31 23:59:59.999999|"},
        {"2025-01-31 23:59:59.5", "2025-01-31 23:59:59.500000|"},
        {"2025-01-31 23:59:59,25+0800", "2025-01-31 23:59:59.250000|+08:00"},
        {"2025-06-01 00:00-05", "2025-06-01 00:00:00.000000|-05:00"},
        {"2025-06-01 00:00-03:30", "2025-06-01 00:00:00.000000|-03:30"},
        {"2025-06-01 00:00+14:00", "2025-06-01 00:00:00.000000|+14:00"},
        {"2024-02-29 12:00", "2024-02-29 12:00:00.000000|"}, /* leap year */
        {"2000-02-29 12:00", "2000-02-29 12:00:00.000000|"}, /* divisible by 400 */
        {"2025-12-31 23:59:59", "2025-12-31 23:59:59.000000|"},
        {"1900-01-01 00:00", "1900-01-01 00:00:00.000000|"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *got = s_time(good[i][0]);
        if (strcmp(got, good[i][1]) != 0)
            fail_msg("%s: want %s, got %s", good[i][0], good[i][1], got);
    }
    const char *bad[][2] = {
        {"2025-02-29 12:00", "that day does not exist"},
        {"1900-02-29 12:00", "that day does not exist"}, /* divisible by 100 */
        {"2025-04-31 12:00", "that day does not exist"},
        {"2025-00-10 12:00", "the month is not 01-12"},
        {"2025-13-10 12:00", "the month is not 01-12"},
        {"2025-01-00 12:00", "that day does not exist"},
        {"2025-01-01 24:00", "the hour is not 00-23"},
        {"2025-01-01 23:60", "the minute is not 00-59"},
        {"2025-01-01 23:59:60", "the second is not 00-59"}, /* no leap seconds */
        {"2025-01-01 12:00+14:01", "the offset is over 14 hours"},
        {"2025-01-01 12:00+15", "the offset is over 14 hours"},
        {"2025-01-01 12:00+08:", "an offset is +HH, +HHMM or +HH:MM"},
        {"2025-01-01 12:00+8", "an offset is +HH, +HHMM or +HH:MM"},
        {"2025-01-01 12:00:00.1234567", "a fraction of a second has 1 to 6 digits"},
        {"2025-01-01 12:00:00.", "a fraction of a second has 1 to 6 digits"},
        {"1899-12-31 12:00", "the year is before 1900"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *got = s_time(bad[i][0]);
        if (got[0] != '!' || !strstr(got, bad[i][1]))
            fail_msg("%s: want '%s', got %s", bad[i][0], bad[i][1], got);
    }
    const char *shapes[] = {"",
                            "2025-03-01",
                            "2025/03/01 09:30",
                            "2025-3-1 09:30",
                            "25-03-01 09:30",
                            "2025-03-01  09:30",
                            "2025-03-01T9:30",
                            "2025-03-01 09:30 ",
                            "2025-03-01 09:30:00 +08:00",
                            "2025-03-01 09:30:00Zx",
                            "2025-03-01 09:30:00 CST",
                            "now",
                            NULL};
    for (size_t i = 0; shapes[i]; i++) {
        const char *got = s_time(shapes[i]);
        if (!strstr(got, "expected YYYY-MM-DD HH:MM") && !strstr(got, "offset"))
            fail_msg("'%s': want a shape error, got %s", shapes[i], got);
    }
    adm_time_t t;
    char why[160];
    assert_int_equal(adm_time_parse(NULL, &t, why, sizeof why), -1);
    /* The message quotes the input, shortened. */
    assert_int_equal(adm_time_parse("2025-02-29 12:00", &t, why, sizeof why), -1);
    assert_string_equal(why, "'2025-02-29 12:00' is not a time: that day does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
