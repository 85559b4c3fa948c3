/* kefu-survey — the arithmetic of the KPIs (design.md, "KPI definitions"),
   pure and exact: integer counts in, rounded tenths out, no I/O.

   - A rate is a numerator over a denominator. Over zero items it is
     absent: never 0 % and never 100 %.
   - Figures are rounded to one decimal, half away from zero (as
     PostgreSQL's round(numeric) does), computed in integers so that
     12.25 is 12.3 and not whatever a double makes of it.
   - Percentiles are nearest-rank: the p-th percentile of n sorted values
     is the value at 1-based rank ceil(p * n / 100). That is what
     PostgreSQL's percentile_disc(p / 100.0) returns, so a query and this
     function agree; the median is the 50th percentile in this sense (the
     lower of the two middle values when n is even).
   - Months are calendar months in the report's time zone. This module owns
     the calendar (parsing, stepping, the local wall time at which a month
     starts); the store turns a local wall time into an instant with
     timezone(tz, local), which knows the zone's rules. */
#ifndef SURVEY_KPI_H
#define SURVEY_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- rates ------------------------------------------------------------ */

/* num of den items; absent when den is 0. */
typedef struct {
    int64_t num;
    int64_t den;
} kpi_rate_t;

/* True when the rate is over zero items (and must be shown as absent). */
bool kpi_rate_absent(kpi_rate_t rate);

/* The rate as tenths of a percent (or, the same thing, tenths of "per 100":
   escalations per 100 tickets), rounded half away from zero: 2 of 3 is
   667 (66.7 %). Returns false and leaves *tenths alone when absent or when
   the counts are inconsistent (negative, or num > den for a share). */
bool kpi_rate_tenths(kpi_rate_t rate, int64_t *tenths);

/* Like kpi_rate_tenths, but num may exceed den (escalations: a ticket can
   escalate at several levels, so 12 escalations over 10 tickets is 120.0
   per 100). */
bool kpi_per100_tenths(kpi_rate_t rate, int64_t *tenths);

/* n / d rounded to the nearest integer, half away from zero; d > 0. */
int64_t kpi_div_round(int64_t n, int64_t d);

/* ---- NPS -------------------------------------------------------------- */

/* The answers that gave a 0-10 recommendation score, by class. */
typedef struct {
    int64_t promoters;  /* 9 or 10 */
    int64_t passives;   /* 7 or 8 */
    int64_t detractors; /* 0 to 6 */
} kpi_nps_t;

/* The class of one 0-10 answer: +1 promoter, 0 passive, -1 detractor. */
int kpi_nps_class(int score);

/* Adds one 0-10 answer to the counts; returns -1 (and adds nothing) when
   score is outside 0-10. */
int kpi_nps_add(kpi_nps_t *nps, int score);

/* The number of answers counted. */
int64_t kpi_nps_answers(const kpi_nps_t *nps);

/* NPS = percentage of promoters minus percentage of detractors, in tenths,
   rounded half away from zero once (not each percentage apart):
   1000 * (P - D) / N. Returns false when there are no answers. */
bool kpi_nps_tenths(const kpi_nps_t *nps, int64_t *tenths);

/* ---- percentiles ----------------------------------------------------- */

/* The nearest-rank p-th percentile (0 < p <= 100) of n values sorted
   ascending. Returns false when n is 0 or p is out of range. */
bool kpi_percentile(const int64_t *sorted, size_t n, int p, int64_t *out);

/* Sorts values ascending in place (for kpi_percentile). */
void kpi_sort(int64_t *values, size_t n);

/* A cycle time over n durations (approval cycle time): the count, and
   the median and 90th percentile in the nearest-rank sense above, each
   converted from milliseconds to whole seconds rounded half away from
   zero (rounding after choosing the rank, which is the same as choosing
   among rounded values: rounding keeps the order). */
typedef struct {
    int64_t n;        /* durations counted */
    bool present;     /* n > 0: median_s and p90_s hold figures */
    int64_t median_s; /* rank ceil(n / 2): the lower middle when n is even */
    int64_t p90_s;    /* rank ceil(9 n / 10) */
} kpi_cycle_t;

/* Sorts ms (n durations in milliseconds, each >= 0) in place and fills
   out; over no durations out is absent (present false, figures 0).
   Returns -1 (out absent) when a duration is negative. */
int kpi_cycle(int64_t *ms, size_t n, kpi_cycle_t *out);

/* ---- calendar --------------------------------------------------------- */

#define KPI_YEAR_MIN 1970
#define KPI_YEAR_MAX 9999

/* A calendar month. */
typedef struct {
    int year;  /* KPI_YEAR_MIN .. KPI_YEAR_MAX */
    int month; /* 1 .. 12 */
} kpi_month_t;

/* A calendar date. */
typedef struct {
    int year;
    int month;
    int day;
} kpi_date_t;

/* Parses exactly "YYYY-MM" (month 01-12, year in range). Returns 0 or -1. */
int kpi_month_parse(const char *text, kpi_month_t *out);

/* Parses exactly "YYYY-MM-DD", a real date of the Gregorian calendar
   (2024-02-29 yes, 2025-02-29 and 2100-02-29 no). Returns 0 or -1. */
int kpi_date_parse(const char *text, kpi_date_t *out);

/* True in a Gregorian leap year. */
bool kpi_leap_year(int year);

/* Days in the month (28-31). */
int kpi_month_days(kpi_month_t month);

/* month moved by delta months (negative goes back); 2026-12 + 1 is
   2027-01. */
kpi_month_t kpi_month_add(kpi_month_t month, int delta);

/* How many months b is after a (b - a); 0 when equal. */
int kpi_month_diff(kpi_month_t a, kpi_month_t b);

/* -1, 0 or 1 as a is before, equal to or after b. */
int kpi_month_cmp(kpi_month_t a, kpi_month_t b);
int kpi_date_cmp(kpi_date_t a, kpi_date_t b);

/* The month a date falls in. */
kpi_month_t kpi_month_of(kpi_date_t date);

/* "YYYY-MM" into buf (at least 8 bytes). */
void kpi_month_format(kpi_month_t month, char *buf, size_t size);

/* The local wall time at which month begins, "YYYY-MM-01 00:00:00" (buf at
   least 20 bytes): its first instant in the report's zone is
   timezone(tz, this::timestamp). Month M ends where M+1 begins, so the
   end of a month is kpi_month_start(kpi_month_add(M, 1)). */
void kpi_month_start(kpi_month_t month, char *buf, size_t size);

/* The local wall time at which date begins, "YYYY-MM-DD 00:00:00". */
void kpi_date_start(kpi_date_t date, char *buf, size_t size);

#endif
