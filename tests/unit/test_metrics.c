/* kefu — unit tests of the metrics registry and its text format. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

/* Renders m and checks it equals want exactly. */
static void s_expect(kf_metrics_t *m, const char *want)
{
    size_t size = 0;
    char *text = kf_metrics_render(m, &size);
    assert_non_null(text);
    assert_string_equal(text, want);
    assert_int_equal(size, strlen(want));
    free(text);
}

static void test_empty(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    s_expect(m, "");
    kf_metrics_destroy(&m);
    assert_null(m);
    kf_metrics_destroy(&m); /* NULL-safe */
}

static void test_counter_without_labels(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *c = kf_metrics_counter(m, "kefu_things_total", "things done", NULL, NULL);
    /* present at 0 before anything happened */
    s_expect(m, "# HELP kefu_things_total things done\n"
                "# TYPE kefu_things_total counter\n"
                "kefu_things_total 0\n");
    kf_metric_inc(c, NULL, NULL);
    kf_metric_add(c, NULL, NULL, 2);
    kf_metric_add(c, NULL, NULL, -5); /* a counter never goes down */
    kf_metric_add(c, NULL, NULL, NAN);
    kf_metric_set(c, NULL, NULL, 100); /* set is for gauges */
    kf_metric_observe(c, NULL, NULL, 1);
    assert_true(kf_series_value(kf_metric_at(c, NULL, NULL)) == 3);
    s_expect(m, "# HELP kefu_things_total things done\n"
                "# TYPE kefu_things_total counter\n"
                "kefu_things_total 3\n");
    kf_metrics_destroy(&m);
}

static void test_counter_with_labels(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *c = kf_metrics_counter(m, "kefu_events_total", "events by type and direction",
                                        "type", "direction");
    /* a labelled family has no series until one is used */
    s_expect(m, "# HELP kefu_events_total events by type and direction\n"
                "# TYPE kefu_events_total counter\n");
    kf_metric_inc(c, "ticket.submitted", "out");
    kf_metric_inc(c, "ticket.submitted", "out");
    kf_metric_inc(c, "ticket.submitted", "in");
    kf_metric_add(c, "ticket.routed", "out", 5);
    s_expect(m, "# HELP kefu_events_total events by type and direction\n"
                "# TYPE kefu_events_total counter\n"
                "kefu_events_total{type=\"ticket.submitted\",direction=\"out\"} 2\n"
                "kefu_events_total{type=\"ticket.submitted\",direction=\"in\"} 1\n"
                "kefu_events_total{type=\"ticket.routed\",direction=\"out\"} 5\n");
    /* the same label values give the same series, which hot paths keep */
    kf_series_t *s = kf_metric_at(c, "ticket.routed", "out");
    assert_ptr_equal(s, kf_metric_at(c, "ticket.routed", "out"));
    kf_series_add(s, 1);
    assert_true(kf_series_value(s) == 6);
    assert_true(kf_metric_total(c) == 9);
    assert_ptr_equal(kf_metrics_find(m, "kefu_events_total"), c);
    assert_null(kf_metrics_find(m, "kefu_nothing"));
    kf_metrics_destroy(&m);
}

static void test_escaping(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *c =
        kf_metrics_counter(m, "kefu_errors_total", "errors by code\nwith a \\ in it", "code", NULL);
    kf_metric_inc(c, "a\"b\\c\nd", NULL);
    kf_metric_inc(c, "", NULL);
    kf_metric_inc(c, NULL, NULL);   /* NULL is the empty value */
    kf_metric_inc(c, "维修", NULL); /* UTF-8 is kept as is */
    kf_metric_inc(c, "\xff\xfe", NULL);
    char long_value[KF_METRICS_MAX_VALUE + 2];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    kf_metric_inc(c, long_value, NULL);
    s_expect(m, "# HELP kefu_errors_total errors by code\\nwith a \\\\ in it\n"
                "# TYPE kefu_errors_total counter\n"
                "kefu_errors_total{code=\"a\\\"b\\\\c\\nd\"} 1\n"
                "kefu_errors_total{code=\"\"} 2\n"
                "kefu_errors_total{code=\"维修\"} 1\n"
                "kefu_errors_total{code=\"invalid\"} 2\n");
    kf_metrics_destroy(&m);
}

static void test_gauge_numbers(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *g = kf_metrics_gauge(m, "kefu_lag_seconds", "lag", "part", NULL);
    kf_metric_set(g, "a", NULL, 0.5);
    kf_metric_set(g, "b", NULL, -3);
    kf_metric_set(g, "c", NULL, 0.1);
    kf_metric_set(g, "d", NULL, 1e20);
    kf_metric_set(g, "e", NULL, NAN);
    kf_metric_set(g, "f", NULL, INFINITY);
    kf_metric_set(g, "g", NULL, 1234567890123.0);
    kf_metric_set(g, "h", NULL, 1.0 / 3.0);
    kf_metric_set(g, "i", NULL, 7);
    kf_metric_add(g, "i", NULL, -10); /* a gauge may go down */
    s_expect(m, "# HELP kefu_lag_seconds lag\n"
                "# TYPE kefu_lag_seconds gauge\n"
                "kefu_lag_seconds{part=\"a\"} 0.5\n"
                "kefu_lag_seconds{part=\"b\"} -3\n"
                "kefu_lag_seconds{part=\"c\"} 0.1\n"
                "kefu_lag_seconds{part=\"d\"} 1e+20\n"
                "kefu_lag_seconds{part=\"e\"} NaN\n"
                "kefu_lag_seconds{part=\"f\"} +Inf\n"
                "kefu_lag_seconds{part=\"g\"} 1234567890123\n"
                "kefu_lag_seconds{part=\"h\"} 0.33333333333333331\n"
                "kefu_lag_seconds{part=\"i\"} -3\n");
    kf_metrics_destroy(&m);
}

static void test_histogram(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    const double bounds[] = {0.25, 1, 10};
    kf_metric_t *h =
        kf_metrics_histogram(m, "kefu_latency_seconds", "latency", bounds, 3, NULL, NULL);
    s_expect(m, "# HELP kefu_latency_seconds latency\n"
                "# TYPE kefu_latency_seconds histogram\n"
                "kefu_latency_seconds_bucket{le=\"0.25\"} 0\n"
                "kefu_latency_seconds_bucket{le=\"1\"} 0\n"
                "kefu_latency_seconds_bucket{le=\"10\"} 0\n"
                "kefu_latency_seconds_bucket{le=\"+Inf\"} 0\n"
                "kefu_latency_seconds_sum 0\n"
                "kefu_latency_seconds_count 0\n");
    kf_metric_observe(h, NULL, NULL, 0.125);
    kf_metric_observe(h, NULL, NULL, 0.25); /* on a bound: le is "less or equal" */
    kf_metric_observe(h, NULL, NULL, 0.5);
    kf_metric_observe(h, NULL, NULL, 20);
    kf_metric_observe(h, NULL, NULL, 20);
    kf_metric_observe(h, NULL, NULL, NAN); /* ignored */
    kf_metric_inc(h, NULL, NULL);          /* not a counter: ignored */
    /* buckets are cumulative; +Inf equals _count */
    s_expect(m, "# HELP kefu_latency_seconds latency\n"
                "# TYPE kefu_latency_seconds histogram\n"
                "kefu_latency_seconds_bucket{le=\"0.25\"} 2\n"
                "kefu_latency_seconds_bucket{le=\"1\"} 3\n"
                "kefu_latency_seconds_bucket{le=\"10\"} 3\n"
                "kefu_latency_seconds_bucket{le=\"+Inf\"} 5\n"
                "kefu_latency_seconds_sum 40.875\n"
                "kefu_latency_seconds_count 5\n");
    assert_true(kf_series_value(kf_metric_at(h, NULL, NULL)) == 5);
    kf_metrics_destroy(&m);
}

static void test_histogram_labels_and_default_bounds(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *h = kf_metrics_histogram(m, "kefu_route_seconds", "route", NULL, 0, "path", NULL);
    kf_metric_observe(h, "bus", NULL, 0.00390625);
    kf_metric_observe(h, "bus", NULL, 0.0009765625);
    s_expect(m, "# HELP kefu_route_seconds route\n"
                "# TYPE kefu_route_seconds histogram\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.001\"} 1\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.0025\"} 1\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.005\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.01\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.025\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.05\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.1\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.25\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"0.5\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"1\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"2.5\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"5\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"10\"} 2\n"
                "kefu_route_seconds_bucket{path=\"bus\",le=\"+Inf\"} 2\n"
                "kefu_route_seconds_sum{path=\"bus\"} 0.0048828125\n"
                "kefu_route_seconds_count{path=\"bus\"} 2\n");
    assert_int_equal(kf_metrics_latency_count, 13);
    kf_metrics_destroy(&m);
}

/* Families render in registration order, each with HELP and TYPE once. */
static void test_several_families(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *g = kf_metrics_gauge(m, "kefu_up", "", NULL, NULL);
    kf_metric_t *c = kf_metrics_counter(m, "kefu_b_total", "b", "x", NULL);
    kf_metric_set(g, NULL, NULL, 1);
    kf_metric_inc(c, "1", NULL);
    s_expect(m, "# HELP kefu_up \n"
                "# TYPE kefu_up gauge\n"
                "kefu_up 1\n"
                "# HELP kefu_b_total b\n"
                "# TYPE kefu_b_total counter\n"
                "kefu_b_total{x=\"1\"} 1\n");
    kf_metrics_destroy(&m);
}

/* Label values from a peer cannot grow a family without bound. */
static void test_series_limit(void **state)
{
    kf_metrics_t *m = kf_metrics_new();
    kf_metric_t *c = kf_metrics_counter(m, "kefu_x_total", "x", "a", "b");
    char value[16];
    for (int i = 0; i < KF_METRICS_MAX_SERIES + 10; i++) {
        snprintf(value, sizeof value, "v%d", i);
        kf_metric_inc(c, value, "z");
    }
    kf_series_t *other = kf_metric_at(c, "yet another", "z");
    assert_ptr_equal(other, kf_metric_at(c, "and another", "q"));
    assert_true(kf_series_value(other) == 10);
    assert_true(kf_metric_total(c) == KF_METRICS_MAX_SERIES + 10);
    /* known series keep counting */
    kf_metric_inc(c, "v0", "z");
    assert_true(kf_series_value(kf_metric_at(c, "v0", "z")) == 2);
    char *text = kf_metrics_render(m, NULL);
    assert_non_null(strstr(text, "kefu_x_total{a=\"other\",b=\"other\"} 10\n"));
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2 + KF_METRICS_MAX_SERIES + 1);
    free(text);
    kf_metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_counter_without_labels),
        cmocka_unit_test(test_counter_with_labels),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_gauge_numbers),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_labels_and_default_bounds),
        cmocka_unit_test(test_several_families),
        cmocka_unit_test(test_series_limit),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
