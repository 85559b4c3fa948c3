/* kefu client — the picture of `kefu report --chart FILE.svg`: satisfaction
   and complaints resolved within the month, per month, against their
   targets (85 %, 90 %) and the baselines they start from (70 %, 73 %), as
   a self-contained SVG a manager reads at a glance. Titles are in Chinese
   and English. A month without items has no value: its point is missing
   and its line is broken there (a gap, never a zero). A month that is not
   over yet is provisional: its column is shaded and labelled （未完）
   provisional, its points hollow and reached by a dashed line.

   The text is drawn in the first of a list of CJK fonts the viewer has
   (font-family: Noto Sans CJK SC, Source Han Sans SC, ..., sans-serif):
   without any, Chinese shows as boxes; on Debian install fonts-noto-cjk. */
#ifndef KF_CLI_CHART_H
#define KF_CLI_CHART_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CHART_MONTHS_MAX 36

/* One of the two figures of one month. */
typedef struct {
    bool present;   /* false when over zero items */
    int64_t tenths; /* the percentage in tenths (857 is 85.7 %) */
    int64_t num, den;
} chart_value_t;

/* One month: its label and its two figures. */
typedef struct {
    char month[8]; /* "YYYY-MM" */
    chart_value_t satisfaction;
    chart_value_t resolved; /* complaints resolved within the month */
    bool provisional;       /* the month is not over: its figures will still change */
} chart_month_t;

/* What to draw. */
typedef struct {
    const char *tz; /* the report's time zone, for the subtitle */
    const chart_month_t *months;
    size_t nmonths; /* 1 .. CHART_MONTHS_MAX */
} chart_t;

/* Writes the chart as SVG to out. Returns 0, or -1 when out failed or
   there is nothing to draw. */
int chart_write_svg(FILE *out, const chart_t *chart);

#endif
