/* kefu — unit tests of the notifier's schedule: quiet hours in
   Asia/Shanghai at their edges (across midnight, month and year ends),
   the parsing of the setting, and the exponential backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "schedule.h"

/* Seconds since the epoch of a wall-clock time in Asia/Shanghai (UTC+8,
   no daylight saving since 1991). */
static int64_t s_sh(int year, int month, int day, int hour, int min, int sec)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    return (int64_t)timegm(&tm) - 8 * 3600;
}

static int s_setup(void **state)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    return 0;
}

static quiet_hours_t s_night(void)
{
    quiet_hours_t q;
    assert_int_equal(quiet_parse("22:00-08:00", &q), 0);
    return q;
}

static void test_parse(void **state)
{
    quiet_hours_t q;
    assert_int_equal(quiet_parse("22:00-08:00", &q), 0);
    assert_true(q.enabled);
    assert_int_equal(q.start_min, 22 * 60);
    assert_int_equal(q.end_min, 8 * 60);
    assert_int_equal(quiet_parse("00:00-23:59", &q), 0);
    assert_int_equal(q.end_min, 23 * 60 + 59);
    assert_int_equal(quiet_parse("off", &q), 0);
    assert_false(q.enabled);
    assert_int_equal(quiet_parse("", &q), 0);
    assert_false(q.enabled);
    assert_int_equal(quiet_parse(NULL, &q), 0);
    assert_false(q.enabled);
    const char *bad[] = {"24:00-08:00",  "22:60-08:00", "22:00-22:00", "2200-0800",
                         "22:00-08:0",   "22:00 08:00", "aa:bb-cc:dd", "22:00-08:00x",
                         "-22:00-08:00", "22:00-",      "on"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(quiet_parse(bad[i], &q), -1);
}

static void test_evening_edge(void **state)
{
    quiet_hours_t q = s_night();
    int64_t before = s_sh(2026, 11, 23, 21, 59, 59);
    assert_int_equal(quiet_release(&q, before), before);
    assert_int_equal(quiet_release(&q, s_sh(2026, 11, 23, 22, 0, 0)), s_sh(2026, 11, 24, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2026, 11, 23, 23, 59, 59)),
                     s_sh(2026, 11, 24, 8, 0, 0));
}

static void test_morning_edge(void **state)
{
    quiet_hours_t q = s_night();
    assert_int_equal(quiet_release(&q, s_sh(2026, 11, 24, 0, 0, 0)), s_sh(2026, 11, 24, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2026, 11, 24, 7, 59, 59)), s_sh(2026, 11, 24, 8, 0, 0));
    int64_t eight = s_sh(2026, 11, 24, 8, 0, 0);
    assert_int_equal(quiet_release(&q, eight), eight);
    int64_t noon = s_sh(2026, 11, 24, 12, 0, 0);
    assert_int_equal(quiet_release(&q, noon), noon);
}

static void test_month_and_year_ends(void **state)
{
    quiet_hours_t q = s_night();
    assert_int_equal(quiet_release(&q, s_sh(2026, 1, 31, 22, 30, 0)), s_sh(2026, 2, 1, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2026, 4, 30, 23, 0, 0)), s_sh(2026, 5, 1, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2026, 12, 31, 23, 59, 59)), s_sh(2027, 1, 1, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2027, 1, 1, 0, 0, 1)), s_sh(2027, 1, 1, 8, 0, 0));
    /* 2027 is not a leap year, 2028 is. */
    assert_int_equal(quiet_release(&q, s_sh(2027, 2, 28, 22, 0, 0)), s_sh(2027, 3, 1, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2028, 2, 28, 22, 0, 0)), s_sh(2028, 2, 29, 8, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2028, 2, 29, 22, 0, 0)), s_sh(2028, 3, 1, 8, 0, 0));
}

static void test_window_within_a_day(void **state)
{
    quiet_hours_t q;
    assert_int_equal(quiet_parse("12:00-14:00", &q), 0);
    int64_t before = s_sh(2026, 11, 23, 11, 59, 59);
    assert_int_equal(quiet_release(&q, before), before);
    assert_int_equal(quiet_release(&q, s_sh(2026, 11, 23, 12, 0, 0)), s_sh(2026, 11, 23, 14, 0, 0));
    assert_int_equal(quiet_release(&q, s_sh(2026, 11, 23, 13, 59, 59)),
                     s_sh(2026, 11, 23, 14, 0, 0));
    int64_t after = s_sh(2026, 11, 23, 14, 0, 0);
    assert_int_equal(quiet_release(&q, after), after);
    int64_t night = s_sh(2026, 11, 23, 23, 0, 0);
    assert_int_equal(quiet_release(&q, night), night);
}

static void test_off_never_holds(void **state)
{
    quiet_hours_t q;
    assert_int_equal(quiet_parse("off", &q), 0);
    int64_t late = s_sh(2026, 11, 23, 23, 0, 0);
    assert_int_equal(quiet_release(&q, late), late);
}

/* The window is local time: the same instant is quiet in Shanghai
   (23:00) and not in UTC (15:00). */
static void test_time_zone_matters(void **state)
{
    quiet_hours_t q = s_night();
    int64_t t = s_sh(2026, 11, 23, 23, 0, 0);
    assert_int_equal(quiet_release(&q, t), s_sh(2026, 11, 24, 8, 0, 0));
    setenv("TZ", "UTC", 1);
    tzset();
    assert_int_equal(quiet_release(&q, t), t);
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
}

static void test_backoff(void **state)
{
    backoff_t b = {1000, 2, 60000};
    assert_int_equal(backoff_delay(&b, 1), 1000);
    assert_int_equal(backoff_delay(&b, 2), 2000);
    assert_int_equal(backoff_delay(&b, 3), 4000);
    assert_int_equal(backoff_delay(&b, 6), 32000);
    assert_int_equal(backoff_delay(&b, 7), 60000); /* 64000, capped */
    assert_int_equal(backoff_delay(&b, 100), 60000);
    assert_int_equal(backoff_delay(&b, 0), 1000);
    backoff_t flat = {500, 1, 60000};
    assert_int_equal(backoff_delay(&flat, 1), 500);
    assert_int_equal(backoff_delay(&flat, 50), 500);
    backoff_t over = {90000, 3, 60000};
    assert_int_equal(backoff_delay(&over, 1), 60000);
    /* Large values never overflow. */
    backoff_t big = {86400000, 10, 604800000};
    assert_int_equal(backoff_delay(&big, 2), 604800000);
    assert_int_equal(backoff_delay(&big, 1000), 604800000);
    backoff_t ten = {1000, 10, INT64_MAX};
    assert_int_equal(backoff_delay(&ten, 4), 1000000);
    assert_true(backoff_delay(&ten, 100) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_evening_edge),
        cmocka_unit_test(test_morning_edge),
        cmocka_unit_test(test_month_and_year_ends),
        cmocka_unit_test(test_window_within_a_day),
        cmocka_unit_test(test_off_never_holds),
        cmocka_unit_test(test_time_zone_matters),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
