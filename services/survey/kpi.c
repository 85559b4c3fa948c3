/* kefu-survey — the arithmetic of the KPIs. */
#include "kpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rates ------------------------------------------------------------ */

int64_t kpi_div_round(int64_t n, int64_t d)
{
    /* Half away from zero: add half the divisor to the magnitude. */
    if (n >= 0)
        return (2 * n + d) / (2 * d);
    return -((2 * -n + d) / (2 * d));
}

bool kpi_rate_absent(kpi_rate_t rate)
{
    return rate.den == 0;
}

bool kpi_per100_tenths(kpi_rate_t rate, int64_t *tenths)
{
    /* Counts beyond 2^52 would overflow 1000 * num; no store holds that many. */
    if (rate.den <= 0 || rate.num < 0 || rate.num > (INT64_C(1) << 52))
        return false;
    *tenths = kpi_div_round(1000 * rate.num, rate.den);
    return true;
}

bool kpi_rate_tenths(kpi_rate_t rate, int64_t *tenths)
{
    if (rate.num > rate.den)
        return false;
    return kpi_per100_tenths(rate, tenths);
}

/* ---- NPS -------------------------------------------------------------- */

int kpi_nps_class(int score)
{
    if (score >= 9)
        return 1;
    return score >= 7 ? 0 : -1;
}

int kpi_nps_add(kpi_nps_t *nps, int score)
{
    if (score < 0 || score > 10)
        return -1;
    int class = kpi_nps_class(score);
    if (class > 0)
        nps->promoters++;
    else if (class == 0)
        nps->passives++;
    else
        nps->detractors++;
    return 0;
}

int64_t kpi_nps_answers(const kpi_nps_t *nps)
{
    return nps->promoters + nps->passives + nps->detractors;
}

bool kpi_nps_tenths(const kpi_nps_t *nps, int64_t *tenths)
{
    int64_t n = kpi_nps_answers(nps);
    if (n <= 0 || nps->promoters < 0 || nps->passives < 0 || nps->detractors < 0 ||
        n > (INT64_C(1) << 52))
        return false;
    *tenths = kpi_div_round(1000 * (nps->promoters - nps->detractors), n);
    return true;
}

/* ---- percentiles ----------------------------------------------------- */

bool kpi_percentile(const int64_t *sorted, size_t n, int p, int64_t *out)
{
    if (n == 0 || p <= 0 || p > 100)
        return false;
    /* Rank ceil(p * n / 100), 1-based. */
    size_t rank = ((size_t)p * n + 99) / 100;
    *out = sorted[rank - 1];
    return true;
}

/* qsort's comparison of two int64_t. */
static int s_cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void kpi_sort(int64_t *values, size_t n)
{
    if (n > 1)
        qsort(values, n, sizeof values[0], s_cmp_int64);
}

int kpi_cycle(int64_t *ms, size_t n, kpi_cycle_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (ms[i] < 0)
            return -1;
    kpi_sort(ms, n);
    int64_t median, p90;
    if (!kpi_percentile(ms, n, 50, &median) || !kpi_percentile(ms, n, 90, &p90))
        return 0;
    out->n = (int64_t)n;
    out->present = true;
    out->median_s = kpi_div_round(median, 1000);
    out->p90_s = kpi_div_round(p90, 1000);
    return 0;
}

/* ---- calendar --------------------------------------------------------- */

/* Reads exactly width ASCII digits at text into *out. */
static bool s_digits(const char *text, int width, int *out)
{
    int value = 0;
    for (int i = 0; i < width; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return true;
}

int kpi_month_parse(const char *text, kpi_month_t *out)
{
    kpi_month_t m;
    if (!text || strlen(text) != 7 || text[4] != '-' || !s_digits(text, 4, &m.year) ||
        !s_digits(text + 5, 2, &m.month))
        return -1;
    if (m.year < KPI_YEAR_MIN || m.year > KPI_YEAR_MAX || m.month < 1 || m.month > 12)
        return -1;
    *out = m;
    return 0;
}

bool kpi_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int kpi_month_days(kpi_month_t month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month.month == 2 && kpi_leap_year(month.year))
        return 29;
    return days[(month.month - 1) % 12];
}

int kpi_date_parse(const char *text, kpi_date_t *out)
{
    kpi_date_t d;
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-' ||
        !s_digits(text, 4, &d.year) || !s_digits(text + 5, 2, &d.month) ||
        !s_digits(text + 8, 2, &d.day))
        return -1;
    if (d.year < KPI_YEAR_MIN || d.year > KPI_YEAR_MAX || d.month < 1 || d.month > 12 ||
        d.day < 1 || d.day > kpi_month_days((kpi_month_t){d.year, d.month}))
        return -1;
    *out = d;
    return 0;
}

kpi_month_t kpi_month_add(kpi_month_t month, int delta)
{
    /* Count months from year 0 so that negative steps floor correctly. */
    int index = month.year * 12 + (month.month - 1) + delta;
    kpi_month_t out = {index / 12, index % 12 + 1};
    return out;
}

int kpi_month_diff(kpi_month_t a, kpi_month_t b)
{
    return (b.year * 12 + b.month) - (a.year * 12 + a.month);
}

int kpi_month_cmp(kpi_month_t a, kpi_month_t b)
{
    int diff = kpi_month_diff(b, a);
    return (diff > 0) - (diff < 0);
}

int kpi_date_cmp(kpi_date_t a, kpi_date_t b)
{
    long x = (long)a.year * 10000 + a.month * 100 + a.day;
    long y = (long)b.year * 10000 + b.month * 100 + b.day;
    return (x > y) - (x < y);
}

kpi_month_t kpi_month_of(kpi_date_t date)
{
    kpi_month_t month = {date.year, date.month};
    return month;
}

void kpi_month_format(kpi_month_t month, char *buf, size_t size)
{
    snprintf(buf, size, "%04d-%02d", month.year, month.month);
}

void kpi_month_start(kpi_month_t month, char *buf, size_t size)
{
    snprintf(buf, size, "%04d-%02d-01 00:00:00", month.year, month.month);
}

void kpi_date_start(kpi_date_t date, char *buf, size_t size)
{
    snprintf(buf, size, "%04d-%02d-%02d 00:00:00", date.year, date.month, date.day);
}
