/* kefu — unit tests of the KPI arithmetic (services/survey/kpi.c) and of
   the report request's decoding (report_parse): rates absent over zero
   items, rounding half away from zero, NPS, nearest-rank percentiles, the
   calendar behind month boundaries, and the named errors of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpi.h"
#include "report.h"

/* ---- rates ------------------------------------------------------------ */

/* tenths of kpi_rate_tenths, or -1 when absent. */
static int64_t s_rate(int64_t num, int64_t den)
{
    int64_t tenths = -1;
    if (!kpi_rate_tenths((kpi_rate_t){num, den}, &tenths))
        return -1;
    return tenths;
}

static void test_rate_absent_over_zero_items(void **state)
{
    assert_true(kpi_rate_absent((kpi_rate_t){0, 0}));
    assert_false(kpi_rate_absent((kpi_rate_t){0, 1}));
    int64_t tenths = 4242;
    assert_false(kpi_rate_tenths((kpi_rate_t){0, 0}, &tenths));
    assert_int_equal(tenths, 4242); /* untouched: neither 0 % nor 100 % */
    assert_false(kpi_per100_tenths((kpi_rate_t){0, 0}, &tenths));
    assert_int_equal(tenths, 4242);
}

static void test_rate_values(void **state)
{
    assert_int_equal(s_rate(0, 5), 0);          /* 0 % is a figure when there are items */
    assert_int_equal(s_rate(5, 5), 1000);       /* 100.0 % */
    assert_int_equal(s_rate(3, 5), 600);        /* 60.0 */
    assert_int_equal(s_rate(2, 3), 667);        /* 66.666... -> 66.7 */
    assert_int_equal(s_rate(1, 3), 333);        /* 33.333... -> 33.3 */
    assert_int_equal(s_rate(5, 7), 714);        /* 71.428... -> 71.4 */
    assert_int_equal(s_rate(1, 8), 125);        /* 12.5 exactly */
    assert_int_equal(s_rate(1, 16), 63);        /* 6.25 -> 6.3: half away from zero */
    assert_int_equal(s_rate(3, 16), 188);       /* 18.75 -> 18.8 */
    assert_int_equal(s_rate(1, 2000), 1);       /* 0.05 -> 0.1 */
    assert_int_equal(s_rate(1, 2001), 0);       /* 0.04997... -> 0.0 */
    assert_int_equal(s_rate(1999, 2000), 1000); /* 99.95 -> 100.0 (rounded; num/den tell) */
    assert_int_equal(s_rate(1998, 2000), 999);  /* 99.9 */
}

static void test_rate_inconsistent_counts(void **state)
{
    assert_int_equal(s_rate(6, 5), -1); /* a share above its whole is a defect */
    assert_int_equal(s_rate(-1, 5), -1);
    assert_int_equal(s_rate(1, -5), -1);
}

static void test_per100(void **state)
{
    int64_t tenths = 0;
    /* 3 escalations over 7 tickets: 42.857... per 100 -> 42.9. */
    assert_true(kpi_per100_tenths((kpi_rate_t){3, 7}, &tenths));
    assert_int_equal(tenths, 429);
    /* More escalations than tickets is allowed here: 12 over 10 -> 120.0. */
    assert_true(kpi_per100_tenths((kpi_rate_t){12, 10}, &tenths));
    assert_int_equal(tenths, 1200);
    assert_true(kpi_per100_tenths((kpi_rate_t){0, 7}, &tenths));
    assert_int_equal(tenths, 0);
}

static void test_div_round_half_away_from_zero(void **state)
{
    assert_int_equal(kpi_div_round(5, 2), 3);
    assert_int_equal(kpi_div_round(-5, 2), -3);
    assert_int_equal(kpi_div_round(4, 3), 1);
    assert_int_equal(kpi_div_round(-4, 3), -1);
    assert_int_equal(kpi_div_round(0, 7), 0);
    assert_int_equal(kpi_div_round(-1, 3), 0);
}

/* ---- NPS -------------------------------------------------------------- */

static int64_t s_nps(const int *scores, size_t n)
{
    kpi_nps_t nps = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kpi_nps_add(&nps, scores[i]), 0);
    int64_t tenths = INT64_MIN;
    if (!kpi_nps_tenths(&nps, &tenths))
        return INT64_MIN;
    return tenths;
}

static void test_nps_classes(void **state)
{
    for (int s = 0; s <= 6; s++)
        assert_int_equal(kpi_nps_class(s), -1);
    assert_int_equal(kpi_nps_class(7), 0);
    assert_int_equal(kpi_nps_class(8), 0);
    assert_int_equal(kpi_nps_class(9), 1);
    assert_int_equal(kpi_nps_class(10), 1);
    kpi_nps_t nps = {0, 0, 0};
    assert_int_equal(kpi_nps_add(&nps, 11), -1);
    assert_int_equal(kpi_nps_add(&nps, -1), -1);
    assert_int_equal(kpi_nps_answers(&nps), 0);
}

static void test_nps_values(void **state)
{
    /* 0, 6, 7, 9, 10: 2 promoters, 2 detractors of 5: 40 % - 40 % = 0.0. */
    const int a[] = {0, 6, 7, 9, 10};
    assert_int_equal(s_nps(a, 5), 0);
    /* + another 10: 3 of 6 minus 2 of 6 = 50 - 33.33 = 16.666... -> 16.7
       (rounded once, not 50.0 - 33.3 = 16.7 by luck: see the next). */
    const int b[] = {0, 6, 7, 9, 10, 10};
    assert_int_equal(s_nps(b, 6), 167);
    /* 1 promoter, 2 detractors of 6: -16.666... -> -16.7. */
    const int c[] = {10, 0, 3, 7, 8, 8};
    assert_int_equal(s_nps(c, 6), -167);
    /* 1 detractor of 16: -6.25 -> -6.3 (half away from zero). */
    const int d[] = {0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    assert_int_equal(s_nps(d, 16), -63);
    /* 1 promoter, 2 detractors of 3: 33.33 - 66.67 = -33.3 (rounding the
       two percentages apart would give 33.3 - 66.7 = -33.4). */
    const int e[] = {9, 0, 0};
    assert_int_equal(s_nps(e, 3), -333);
    const int all9[] = {9, 10};
    assert_int_equal(s_nps(all9, 2), 1000);
    const int all0[] = {0, 1};
    assert_int_equal(s_nps(all0, 2), -1000);
    /* No answers: absent. */
    assert_true(s_nps(NULL, 0) == INT64_MIN);
}

/* ---- percentiles ----------------------------------------------------- */

static void test_percentile_nearest_rank(void **state)
{
    int64_t v[10] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, out = 0;
    kpi_sort(v, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(v[i], i + 1);
    assert_true(kpi_percentile(v, 10, 50, &out));
    assert_int_equal(out, 5); /* rank ceil(5.0) = 5: the lower middle */
    assert_true(kpi_percentile(v, 10, 90, &out));
    assert_int_equal(out, 9); /* rank 9 */
    assert_true(kpi_percentile(v, 10, 100, &out));
    assert_int_equal(out, 10);
    assert_true(kpi_percentile(v, 10, 1, &out));
    assert_int_equal(out, 1); /* rank ceil(0.1) = 1 */
    /* 11 values: p90 is rank ceil(9.9) = 10, the median rank 6. */
    int64_t w[11] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    assert_true(kpi_percentile(w, 11, 90, &out));
    assert_int_equal(out, 90);
    assert_true(kpi_percentile(w, 11, 50, &out));
    assert_int_equal(out, 50);
    /* One value is every percentile. */
    int64_t one[1] = {42};
    assert_true(kpi_percentile(one, 1, 90, &out));
    assert_int_equal(out, 42);
    assert_false(kpi_percentile(one, 0, 50, &out));
    assert_false(kpi_percentile(one, 1, 0, &out));
    assert_false(kpi_percentile(one, 1, 101, &out));
}

/* kpi_cycle over values given in whole seconds (as ms), for brevity. */
static kpi_cycle_t s_cycle(const int64_t *seconds, size_t n)
{
    int64_t ms[32];
    assert_true(n <= 32);
    for (size_t i = 0; i < n; i++)
        ms[i] = seconds[i] * 1000;
    kpi_cycle_t out;
    assert_int_equal(kpi_cycle(ms, n, &out), 0);
    assert_int_equal(out.n, (int64_t)n);
    return out;
}

static void test_cycle_absent_over_no_requests(void **state)
{
    kpi_cycle_t out;
    assert_int_equal(kpi_cycle(NULL, 0, &out), 0);
    assert_false(out.present); /* absent, never 0 s */
    assert_int_equal(out.n, 0);
}

static void test_cycle_small_counts(void **state)
{
    /* One request: it is its own median and 90th percentile. */
    const int64_t one[] = {3600};
    kpi_cycle_t c = s_cycle(one, 1);
    assert_true(c.present);
    assert_int_equal(c.median_s, 3600);
    assert_int_equal(c.p90_s, 3600);
    /* Two: the median is rank ceil(1.0) = 1, the shorter (no averaging);
       the 90th is rank ceil(1.8) = 2, the longer. */
    const int64_t two[] = {7200, 3600};
    c = s_cycle(two, 2);
    assert_int_equal(c.median_s, 3600);
    assert_int_equal(c.p90_s, 7200);
    /* Three (odd): the middle one; p90 rank ceil(2.7) = 3. */
    const int64_t three[] = {30, 10, 20};
    c = s_cycle(three, 3);
    assert_int_equal(c.median_s, 20);
    assert_int_equal(c.p90_s, 30);
    /* Four (even): the lower middle, rank 2; p90 rank ceil(3.6) = 4. */
    const int64_t four[] = {40, 10, 30, 20};
    c = s_cycle(four, 4);
    assert_int_equal(c.median_s, 20);
    assert_int_equal(c.p90_s, 40);
}

static void test_cycle_ranks(void **state)
{
    /* Ten: p90 is rank 9, not the longest; eleven: rank ceil(9.9) = 10. */
    const int64_t ten[] = {100, 90, 80, 70, 60, 50, 40, 30, 20, 10};
    kpi_cycle_t c = s_cycle(ten, 10);
    assert_int_equal(c.median_s, 50);
    assert_int_equal(c.p90_s, 90);
    const int64_t eleven[] = {110, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10};
    c = s_cycle(eleven, 11);
    assert_int_equal(c.median_s, 60);
    assert_int_equal(c.p90_s, 100);
}

static void test_cycle_ties(void **state)
{
    /* Ties are values like any other: ranks fall on one of them. */
    const int64_t same[] = {60, 60, 60, 60};
    kpi_cycle_t c = s_cycle(same, 4);
    assert_int_equal(c.median_s, 60);
    assert_int_equal(c.p90_s, 60);
    const int64_t tied[] = {5, 9, 5, 9, 5}; /* 5 5 5 9 9: ranks 3 and 5 */
    c = s_cycle(tied, 5);
    assert_int_equal(c.median_s, 5);
    assert_int_equal(c.p90_s, 9);
}

static void test_cycle_rounds_ms_to_seconds(void **state)
{
    /* Half away from zero, after the rank is chosen. */
    int64_t ms[] = {1499, 1500, 2500};
    kpi_cycle_t c;
    assert_int_equal(kpi_cycle(ms, 3, &c), 0);
    assert_int_equal(c.median_s, 2); /* 1500 ms */
    assert_int_equal(c.p90_s, 3);    /* 2500 ms */
    int64_t small[] = {499};
    assert_int_equal(kpi_cycle(small, 1, &c), 0);
    assert_true(c.present);
    assert_int_equal(c.median_s, 0); /* a real 0 s: there is a request */
    /* A negative duration is bad data: refused, absent. */
    int64_t bad[] = {1000, -1};
    assert_int_equal(kpi_cycle(bad, 2, &c), -1);
    assert_false(c.present);
}

/* ---- calendar --------------------------------------------------------- */

static void test_month_parse(void **state)
{
    kpi_month_t m;
    assert_int_equal(kpi_month_parse("2026-03", &m), 0);
    assert_int_equal(m.year, 2026);
    assert_int_equal(m.month, 3);
    assert_int_equal(kpi_month_parse("2026-12", &m), 0);
    assert_int_equal(kpi_month_parse("1970-01", &m), 0);
    const char *bad[] = {"2026-13", "2026-00", "2026-3",  "26-03",    "2026-03x",   "",
                         "2026/03", "2026-1a", "1969-12", " 2026-03", "2026-03-01", "+026-03"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(kpi_month_parse(bad[i], &m), -1);
    assert_int_equal(kpi_month_parse(NULL, &m), -1);
}

static void test_date_parse(void **state)
{
    kpi_date_t d;
    assert_int_equal(kpi_date_parse("2026-03-31", &d), 0);
    assert_int_equal(d.day, 31);
    assert_int_equal(kpi_date_parse("2024-02-29", &d), 0); /* leap */
    assert_int_equal(kpi_date_parse("2000-02-29", &d), 0); /* divisible by 400 */
    assert_int_equal(kpi_date_parse("2025-02-29", &d), -1);
    assert_int_equal(kpi_date_parse("2100-02-29", &d), -1); /* by 100, not 400 */
    assert_int_equal(kpi_date_parse("2026-04-31", &d), -1);
    assert_int_equal(kpi_date_parse("2026-13-01", &d), -1);
    assert_int_equal(kpi_date_parse("2026-03-00", &d), -1);
    assert_int_equal(kpi_date_parse("2026-3-01", &d), -1);
    assert_int_equal(kpi_date_parse("2026-03-01T", &d), -1);
}

static void test_month_steps_cross_years(void **state)
{
    kpi_month_t dec = {2026, 12}, jan = {2027, 1}, m;
    m = kpi_month_add(dec, 1);
    assert_int_equal(m.year, 2027);
    assert_int_equal(m.month, 1);
    m = kpi_month_add(jan, -1);
    assert_int_equal(m.year, 2026);
    assert_int_equal(m.month, 12);
    /* The 12 months ending with 2026-02 start at 2025-03. */
    m = kpi_month_add((kpi_month_t){2026, 2}, -11);
    assert_int_equal(m.year, 2025);
    assert_int_equal(m.month, 3);
    m = kpi_month_add((kpi_month_t){2026, 5}, -29);
    assert_int_equal(m.year, 2023);
    assert_int_equal(m.month, 12);
    assert_int_equal(kpi_month_diff(dec, jan), 1);
    assert_int_equal(kpi_month_diff(jan, dec), -1);
    assert_int_equal(kpi_month_diff((kpi_month_t){2025, 4}, (kpi_month_t){2026, 3}), 11);
    assert_int_equal(kpi_month_cmp(dec, jan), -1);
    assert_int_equal(kpi_month_cmp(jan, dec), 1);
    assert_int_equal(kpi_month_cmp(jan, jan), 0);
    assert_int_equal(kpi_date_cmp((kpi_date_t){2026, 3, 31}, (kpi_date_t){2026, 4, 1}), -1);
    assert_int_equal(kpi_month_days((kpi_month_t){2024, 2}), 29);
    assert_int_equal(kpi_month_days((kpi_month_t){2026, 2}), 28);
    assert_int_equal(kpi_month_days((kpi_month_t){2026, 12}), 31);
}

static void test_month_boundaries(void **state)
{
    /* Month M is [start(M), start(M+1)): the first instant of M+1 is the
       local midnight of its first day, handed to timezone(tz, ...). */
    char buf[32];
    kpi_month_t march = {2026, 3};
    kpi_month_start(march, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-01 00:00:00");
    kpi_month_start(kpi_month_add(march, 1), buf, sizeof buf);
    assert_string_equal(buf, "2026-04-01 00:00:00");
    kpi_month_start(kpi_month_add((kpi_month_t){2026, 12}, 1), buf, sizeof buf);
    assert_string_equal(buf, "2027-01-01 00:00:00");
    kpi_date_start((kpi_date_t){2026, 3, 31}, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-31 00:00:00");
    kpi_month_format((kpi_month_t){2026, 7}, buf, sizeof buf);
    assert_string_equal(buf, "2026-07");
    kpi_month_t m = kpi_month_of((kpi_date_t){2026, 2, 28});
    assert_int_equal(m.month, 2);
}

/* ---- the request ------------------------------------------------------- */

/* Decodes a body given as JSON with report_parse. */
static int s_parse(const char *json, report_req_t *req, kf_error_t *err)
{
    kf_body_t *body = kf_body_new();
    assert_int_equal(kf_body_from_json(body, json, err), 0);
    zmsg_t *msg = kf_env_encode("report", NULL, 0, 0, "test", "", &body);
    kf_env_t *env = kf_env_decode_msg(msg, err);
    zmsg_destroy(&msg);
    assert_non_null(env);
    int rc = report_parse(kf_env_body(env), req, err);
    kf_env_destroy(&env);
    return rc;
}

/* Expects json to be refused with code on field. */
static void s_refused(const char *json, kf_err_t code, const char *field)
{
    report_req_t req;
    kf_error_t err = {KF_OK, "", ""};
    if (s_parse(json, &req, &err) != -1)
        fail_msg("accepted: %s", json);
    if (err.code != code || strcmp(err.field, field) != 0)
        fail_msg("%s: got %s on '%s' (%s), expected %s on '%s'", json, kf_err_name(err.code),
                 err.field, err.message, kf_err_name(code), field);
}

static void test_request_good(void **state)
{
    report_req_t req;
    kf_error_t err;
    /* Every field is optional; who asks comes from the certificate, so an
       "actor" in the body is no field of the request. */
    assert_int_equal(s_parse("{}", &req, &err), 0);
    assert_int_equal(s_parse("{\"actor\": 7}", &req, &err), 0);
    assert_false(req.has_month);
    assert_false(req.has_range);
    assert_int_equal(req.by, REPORT_BY_NONE);
    assert_string_equal(req.tz, "");
    assert_false(req.series);

    assert_int_equal(s_parse("{\"month\": \"2026-03\", \"by\": "
                             "\"department\", \"tz\": \"Asia/Shanghai\", \"series\": true}",
                             &req, &err),
                     0);
    assert_true(req.has_month);
    assert_int_equal(req.month.month, 3);
    assert_int_equal(req.by, REPORT_BY_DEPARTMENT);
    assert_string_equal(req.tz, "Asia/Shanghai");
    assert_true(req.series);

    assert_int_equal(s_parse("{\"from\": \"2026-03-01\", \"to\": 1777000000000}", &req, &err), 0);
    assert_true(req.has_range);
    assert_false(req.from.is_ms);
    assert_int_equal(req.from.date.day, 1);
    assert_true(req.to.is_ms);
    assert_int_equal(req.to.ms, 1777000000000LL);
    assert_int_equal(s_parse("{\"from\": 0, \"to\": 1, \"tz\": \"UTC\"}", &req, &err), 0);
}

static void test_request_bad(void **state)
{
    s_refused("{\"month\": \"2026-13\"}", KF_E_BAD_VALUE, "month");
    s_refused("{\"month\": \"2026-3\"}", KF_E_BAD_VALUE, "month");
    s_refused("{\"month\": \"2026-03-01T00:00\"}", KF_E_BAD_VALUE, "month");
    s_refused("{\"month\": 202603}", KF_E_WRONG_TYPE, "month");
    s_refused("{\"from\": \"2026-03-10\", \"to\": \"2026-03-01\"}", KF_E_BAD_VALUE, "to");
    s_refused("{\"from\": \"2026-03-01\", \"to\": \"2026-03-01\"}", KF_E_BAD_VALUE, "to");
    s_refused("{\"from\": 5, \"to\": 5}", KF_E_BAD_VALUE, "to");
    s_refused("{\"from\": -5, \"to\": 5}", KF_E_BAD_VALUE, "from");
    s_refused("{\"from\": \"2025-02-29\", \"to\": \"2025-03-01\"}", KF_E_BAD_VALUE, "from");
    s_refused("{\"from\": true, \"to\": 5}", KF_E_WRONG_TYPE, "from");
    s_refused("{\"from\": \"2026-03-01\"}", KF_E_MISSING_FIELD, "to");
    s_refused("{\"to\": \"2026-03-01\"}", KF_E_MISSING_FIELD, "from");
    s_refused("{\"month\": \"2026-03\", \"from\": 1, \"to\": 2}", KF_E_BAD_VALUE, "month");
    s_refused("{\"by\": \"floor\"}", KF_E_BAD_VALUE, "by");
    s_refused("{\"by\": \"Project\"}", KF_E_BAD_VALUE, "by");
    s_refused("{\"tz\": \"UTC+8\"}", KF_E_BAD_VALUE, "tz");
    s_refused("{\"tz\": \"CST\"}", KF_E_BAD_VALUE, "tz");
    s_refused("{\"tz\": \"Asia/\"}", KF_E_BAD_VALUE, "tz");
    s_refused("{\"tz\": \"Asia/Shang hai\"}", KF_E_BAD_VALUE, "tz");
    s_refused("{\"series\": 1}", KF_E_WRONG_TYPE, "series");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_absent_over_zero_items),
        cmocka_unit_test(test_rate_values),
        cmocka_unit_test(test_rate_inconsistent_counts),
        cmocka_unit_test(test_per100),
        cmocka_unit_test(test_div_round_half_away_from_zero),
        cmocka_unit_test(test_nps_classes),
        cmocka_unit_test(test_nps_values),
        cmocka_unit_test(test_percentile_nearest_rank),
        cmocka_unit_test(test_cycle_absent_over_no_requests),
        cmocka_unit_test(test_cycle_small_counts),
        cmocka_unit_test(test_cycle_ranks),
        cmocka_unit_test(test_cycle_ties),
        cmocka_unit_test(test_cycle_rounds_ms_to_seconds),
        cmocka_unit_test(test_month_parse),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_month_steps_cross_years),
        cmocka_unit_test(test_month_boundaries),
        cmocka_unit_test(test_request_good),
        cmocka_unit_test(test_request_bad),
    };
    return cmocka_run_group_tests_name("kpi", tests, NULL, NULL);
}
