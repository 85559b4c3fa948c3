/* kefu client — the KPI chart as SVG. */
#include "chart.h"

#include <string.h>

#include "kf_model.h"

/* Canvas and plot area, in SVG user units (pixels). */
#define C_W 1000
#define C_H 610
#define C_LEFT 100
#define C_RIGHT 875
#define C_TOP 140
#define C_BOTTOM 420
#define C_LABEL_GAP 15 /* least vertical distance between two line labels */

/* Chinese needs a CJK font; the viewer takes the first of these it has
   (Debian: fonts-noto-cjk gives the first; fonts-wqy-microhei the
   fifth; Windows has Microsoft YaHei, macOS PingFang SC). */
#define C_FONT                                                                                     \
    "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','WenQuanYi Micro Hei',"                \
    "'Microsoft YaHei','PingFang SC',sans-serif"
#define C_SAT_COLOUR "#1f5fbf" /* satisfaction: blue */
#define C_RES_COLOUR "#d2610a" /* resolved within the month: orange */
#define C_GRID_COLOUR "#e3e6ea"
#define C_TEXT_COLOUR "#222"
#define C_MUTED_COLOUR "#666"

/* One horizontal reference line and its label. */
typedef struct {
    int percent;
    const char *colour;
    bool target; /* dashed and strong; else a faint dotted baseline */
    char text[48];
    double label_y;
} s_ref_t;

/* The plot's vertical range, in percent. */
typedef struct {
    int lo, hi;
} s_scale_t;

/* Writes s with &, <, > and quotes escaped. */
static void s_xml(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static double s_y(const s_scale_t *scale, double percent)
{
    return C_BOTTOM - (percent - scale->lo) * (C_BOTTOM - C_TOP) / (scale->hi - scale->lo);
}

static double s_x(const chart_t *chart, size_t i)
{
    double slot = (double)(C_RIGHT - C_LEFT) / (double)chart->nmonths;
    return C_LEFT + (i + 0.5) * slot;
}

/* 0-100 %, or 50-100 % when every value and every reference line lies
   there: the differences that matter (70 % against 85 %) then take twice
   the height. The tick labels say where the axis starts. */
static s_scale_t s_scale(const chart_t *chart)
{
    s_scale_t scale = {50, 100};
    for (size_t i = 0; i < chart->nmonths; i++) {
        const chart_month_t *m = &chart->months[i];
        if ((m->satisfaction.present && m->satisfaction.tenths < 500) ||
            (m->resolved.present && m->resolved.tenths < 500))
            scale.lo = 0;
    }
    return scale;
}

/* Spreads the labels of the reference lines so that none overlap. */
static void s_spread(s_ref_t *refs, size_t n, const s_scale_t *scale)
{
    for (size_t i = 0; i < n; i++)
        refs[i].label_y = s_y(scale, refs[i].percent) + 4;
    /* Sorted top to bottom by a few passes (n is 4); then push down. */
    for (size_t pass = 0; pass < n; pass++)
        for (size_t i = 0; i + 1 < n; i++)
            if (refs[i].label_y > refs[i + 1].label_y) {
                s_ref_t tmp = refs[i];
                refs[i] = refs[i + 1];
                refs[i + 1] = tmp;
            }
    for (size_t i = 1; i < n; i++)
        if (refs[i].label_y - refs[i - 1].label_y < C_LABEL_GAP)
            refs[i].label_y = refs[i - 1].label_y + C_LABEL_GAP;
}

static void s_header(FILE *out, const chart_t *chart)
{
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"%s\" fill=\"%s\">\n"
            "<!-- The Chinese text needs a CJK font: on Debian, apt-get install fonts-noto-cjk "
            "(else it shows as boxes). -->\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            C_W, C_H, C_W, C_H, C_FONT, C_TEXT_COLOUR);
    fprintf(out,
            "<text x=\"%d\" y=\"40\" text-anchor=\"middle\" font-size=\"22\" "
            "font-weight=\"bold\">满意度与当月解决率 · Satisfaction and complaints resolved "
            "within the month</text>\n",
            C_W / 2);
    fprintf(out,
            "<text x=\"%d\" y=\"66\" text-anchor=\"middle\" font-size=\"14\" fill=\"%s\">%s – %s"
            " · 按自然月 per calendar month · 时区 time zone ",
            C_W / 2, C_MUTED_COLOUR, chart->months[0].month,
            chart->months[chart->nmonths - 1].month);
    s_xml(out, chart->tz ? chart->tz : "");
    fputs("</text>\n", out);
}

/* The legend: one swatch per series and per kind of reference line. */
static void s_legend(FILE *out)
{
    int y = 104;
    fprintf(out,
            "<g font-size=\"13\">\n"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
            "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/>"
            "<text x=\"%d\" y=\"%d\">满意度 satisfaction</text>\n",
            C_LEFT, y, C_LEFT + 28, y, C_SAT_COLOUR, C_LEFT + 14, y, C_SAT_COLOUR, C_LEFT + 34,
            y + 4);
    int x = C_LEFT + 200;
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
            "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/>"
            "<text x=\"%d\" y=\"%d\">当月解决率 resolved within the month</text>\n",
            x, y, x + 28, y, C_RES_COLOUR, x + 14, y, C_RES_COLOUR, x + 34, y + 4);
    x += 310;
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\" stroke-width=\"1.6\" "
            "stroke-dasharray=\"7 4\"/><text x=\"%d\" y=\"%d\">目标 target</text>\n",
            x, y, x + 26, y, x + 32, y + 4);
    x += 120;
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\" stroke-width=\"1.2\" "
            "stroke-dasharray=\"2 3\" opacity=\"0.5\"/><text x=\"%d\" y=\"%d\" fill=\"%s\">"
            "基线 baseline</text>\n</g>\n",
            x, y, x + 26, y, x + 32, y + 4, C_MUTED_COLOUR);
}

/* Grid, tick labels and the axis titles. */
static void s_axes(FILE *out, const chart_t *chart, const s_scale_t *scale)
{
    fputs("<g font-size=\"12\">\n", out);
    for (int p = scale->lo; p <= scale->hi; p += 10) {
        double y = s_y(scale, p);
        fprintf(out,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">%d%%</text>\n",
                C_LEFT, y, C_RIGHT, y, C_GRID_COLOUR, C_LEFT - 8, y + 4, C_MUTED_COLOUR, p);
    }
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
            C_LEFT, C_TOP, C_LEFT, C_BOTTOM, C_LEFT, C_BOTTOM, C_RIGHT, C_BOTTOM);
    /* Month labels; with many months, every k-th. */
    size_t every = (chart->nmonths + 11) / 12;
    for (size_t i = 0; i < chart->nmonths; i++) {
        double x = s_x(chart, i);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>", x,
                C_BOTTOM, x, C_BOTTOM + 5);
        if (i % every == 0)
            fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x,
                    C_BOTTOM + 20, chart->months[i].month);
        fputc('\n', out);
    }
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" fill=\"%s\">"
            "月份 month</text>\n",
            (C_LEFT + C_RIGHT) / 2, C_BOTTOM + 40, C_MUTED_COLOUR);
    fprintf(out,
            "<text transform=\"translate(%d %d) rotate(-90)\" text-anchor=\"middle\" "
            "font-size=\"13\" fill=\"%s\">百分比 percent (%%)</text>\n</g>\n",
            C_LEFT - 58, (C_TOP + C_BOTTOM) / 2, C_MUTED_COLOUR);
}

/* Targets (dashed) and baselines (faint, dotted), labelled at the right. */
static void s_references(FILE *out, const s_scale_t *scale)
{
    /* The three-year targets and their baselines: proto/model.json "targets". */
    s_ref_t refs[] = {
        {KF_TARGET_SATISFACTION, C_SAT_COLOUR, true, "", 0},
        {KF_TARGET_RESOLVED_IN_MONTH, C_RES_COLOUR, true, "", 0},
        {KF_BASELINE_SATISFACTION, C_SAT_COLOUR, false, "", 0},
        {KF_BASELINE_RESOLVED_IN_MONTH, C_RES_COLOUR, false, "", 0},
    };
    size_t n = sizeof refs / sizeof refs[0];
    for (size_t i = 0; i < n; i++)
        snprintf(refs[i].text, sizeof refs[i].text, "%s %d%%",
                 refs[i].target ? "目标 target" : "基线 baseline", refs[i].percent);
    s_spread(refs, n, scale);
    fputs("<g font-size=\"11\">\n", out);
    for (size_t i = 0; i < n; i++) {
        double y = s_y(scale, refs[i].percent);
        fprintf(out,
                "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" %s/>"
                "<text x=\"%d\" y=\"%.1f\" fill=\"%s\"%s>%s</text>\n",
                refs[i].target ? "target" : "baseline", C_LEFT, y, C_RIGHT, y, refs[i].colour,
                refs[i].target ? "stroke-width=\"1.6\" stroke-dasharray=\"7 4\""
                               : "stroke-width=\"1.2\" stroke-dasharray=\"2 3\" opacity=\"0.45\"",
                C_RIGHT + 6, refs[i].label_y, refs[i].colour,
                refs[i].target ? "" : " opacity=\"0.7\"", refs[i].text);
    }
    fputs("</g>\n", out);
}

/* The months not over yet: a shaded column labelled （未完）provisional
   above the plot, drawn under the grid and the series. */
static void s_provisional(FILE *out, const chart_t *chart)
{
    double slot = (double)(C_RIGHT - C_LEFT) / (double)chart->nmonths;
    for (size_t i = 0; i < chart->nmonths; i++) {
        if (!chart->months[i].provisional)
            continue;
        double x = s_x(chart, i);
        fprintf(out,
                "<g class=\"provisional\" data-month=\"%s\"><rect x=\"%.1f\" y=\"%d\" "
                "width=\"%.1f\" height=\"%d\" fill=\"#f2f3f5\"/>"
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\" "
                "fill=\"%s\">（未完）</text><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                "font-size=\"10\" fill=\"%s\">provisional</text></g>\n",
                chart->months[i].month, x - slot / 2, C_TOP, slot, C_BOTTOM - C_TOP, x, C_TOP - 18,
                C_MUTED_COLOUR, x, C_TOP - 6, C_MUTED_COLOUR);
    }
}

/* The value of month i of one series (0 satisfaction, 1 resolved). */
static const chart_value_t *s_value(const chart_t *chart, size_t i, int series)
{
    return series == 0 ? &chart->months[i].satisfaction : &chart->months[i].resolved;
}

/* One series: a line through each run of months with a value (broken
   where a month has none), a dot and its value at each month; a
   provisional month's dot is hollow and the line into it dashed. */
static void s_series(FILE *out, const chart_t *chart, const s_scale_t *scale, int series)
{
    const char *colour = series == 0 ? C_SAT_COLOUR : C_RES_COLOUR;
    const char *name = series == 0 ? "satisfaction" : "resolved";
    fprintf(out, "<g class=\"series %s\">\n", name);
    for (size_t i = 0; i < chart->nmonths;) {
        if (!s_value(chart, i, series)->present) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < chart->nmonths && s_value(chart, end, series)->present)
            end++;
        for (size_t k = i; k + 1 < end; k++) {
            bool dashed = chart->months[k].provisional || chart->months[k + 1].provisional;
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2.5\"%s/>\n",
                    s_x(chart, k), s_y(scale, s_value(chart, k, series)->tenths / 10.0),
                    s_x(chart, k + 1), s_y(scale, s_value(chart, k + 1, series)->tenths / 10.0),
                    colour, dashed ? " stroke-dasharray=\"6 4\"" : "");
        }
        i = end;
    }
    for (size_t i = 0; i < chart->nmonths; i++) {
        const chart_value_t *v = s_value(chart, i, series);
        if (!v->present)
            continue;
        const chart_value_t *other = s_value(chart, i, 1 - series);
        /* The higher of the two points of a month is labelled above, the
           lower below, so the labels do not collide. */
        bool above = !other->present || v->tenths > other->tenths ||
                     (v->tenths == other->tenths && series == 0);
        double x = s_x(chart, i), y = s_y(scale, v->tenths / 10.0);
        bool provisional = chart->months[i].provisional;
        fprintf(out,
                "<circle class=\"point %s%s\" data-month=\"%s\" cx=\"%.1f\" cy=\"%.1f\" "
                "r=\"4.5\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"><title>%s %s: "
                "%lld.%lld%% (%lld/%lld)%s</title></circle>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                "font-weight=\"bold\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"3\" "
                "paint-order=\"stroke\">%lld.%lld</text>\n",
                name, provisional ? " provisional" : "", chart->months[i].month, x, y,
                provisional ? "#fff" : colour, provisional ? colour : "#fff",
                provisional ? "2" : "1.5", chart->months[i].month, name,
                (long long)(v->tenths / 10), (long long)(v->tenths % 10), (long long)v->num,
                (long long)v->den, provisional ? " （未完）provisional" : "", x,
                above ? y - 10 : y + 20, colour, (long long)(v->tenths / 10),
                (long long)(v->tenths % 10));
    }
    fputs("</g>\n", out);
}

/* A count short enough for a month's column: 9654, 28.9k, 123k, 4.6M. */
static const char *s_count(int64_t n, char *buf, size_t size)
{
    if (n < 10000)
        snprintf(buf, size, "%lld", (long long)n);
    else if (n < 100000)
        snprintf(buf, size, "%.1fk", n / 1000.0);
    else if (n < 10000000)
        snprintf(buf, size, "%.0fk", n / 1000.0);
    else
        snprintf(buf, size, "%.1fM", n / 1000000.0);
    return buf;
}

/* The figures under the axis: value and count per month, "无数据 n/a" for a
   month without items (only when the months fit one label each). */
static void s_table(FILE *out, const chart_t *chart)
{
    if (chart->nmonths > 12)
        return;
    int rows_y[2] = {C_BOTTOM + 66, C_BOTTOM + 100};
    const char *labels[2][2] = {{"满意度", "satisfaction"}, {"当月解决率", "resolved in month"}};
    const char *colours[2] = {C_SAT_COLOUR, C_RES_COLOUR};
    fputs("<g font-size=\"12\">\n", out);
    for (int s = 0; s < 2; s++) {
        fprintf(out,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"%s\" font-weight=\"bold\">%s"
                "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"%s\" "
                "font-size=\"10\">%s</text>\n",
                C_LEFT - 8, rows_y[s], colours[s], labels[s][0], C_LEFT - 8, rows_y[s] + 13,
                colours[s], labels[s][1]);
        for (size_t i = 0; i < chart->nmonths; i++) {
            const chart_value_t *v = s_value(chart, i, s);
            double x = s_x(chart, i);
            char num[24], den[24];
            if (v->present)
                fprintf(out,
                        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">"
                        "%lld.%lld%%</text><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                        "font-size=\"10\" fill=\"%s\">%s/%s</text>\n",
                        x, rows_y[s], colours[s], (long long)(v->tenths / 10),
                        (long long)(v->tenths % 10), x, rows_y[s] + 13, C_MUTED_COLOUR,
                        s_count(v->num, num, sizeof num), s_count(v->den, den, sizeof den));
            else
                fprintf(out,
                        "<text class=\"absent\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                        "fill=\"#999\" font-size=\"11\">无数据</text><text x=\"%.1f\" y=\"%d\" "
                        "text-anchor=\"middle\" font-size=\"10\" fill=\"#999\">n/a</text>\n",
                        x, rows_y[s], x, rows_y[s] + 13);
        }
    }
    fputs("</g>\n", out);
}

static void s_footer(FILE *out, const chart_t *chart)
{
    for (size_t i = 0; i < chart->nmonths; i++)
        if (chart->months[i].provisional) {
            fprintf(out,
                    "<text class=\"provisional-note\" x=\"%d\" y=\"%d\" font-size=\"11\" "
                    "fill=\"%s\">（未完）本月尚未结束，数字为暂定 · Provisional: the month is not "
                    "over yet; its figures will still change.</text>\n",
                    24, C_H - 62, C_MUTED_COLOUR);
            break;
        }
    fprintf(out,
            "<g font-size=\"11\" fill=\"%s\">\n"
            "<text x=\"%d\" y=\"%d\">满意度：当月记录的回访中评分为 4 或 5 的比例 · Satisfaction: "
            "share of the survey answers recorded in the month that score 4 or 5.</text>\n"
            "<text x=\"%d\" y=\"%d\">当月解决率：当月收到的投诉在下月第一刻前首次解决的比例 · "
            "Resolved in month: share of the month's complaints first resolved before the next "
            "month begins.</text>\n"
            "<text x=\"%d\" y=\"%d\">无数据的月份留空，不按 0%% 计 · A month with no answers or "
            "no complaints is left blank, not drawn as 0%%.</text>\n</g>\n",
            C_MUTED_COLOUR, 24, C_H - 46, 24, C_H - 30, 24, C_H - 14);
}

int chart_write_svg(FILE *out, const chart_t *chart)
{
    if (!chart || chart->nmonths == 0 || chart->nmonths > CHART_MONTHS_MAX)
        return -1;
    s_scale_t scale = s_scale(chart);
    s_header(out, chart);
    s_legend(out);
    s_provisional(out, chart);
    s_axes(out, chart, &scale);
    s_references(out, &scale);
    s_series(out, chart, &scale, 1);
    s_series(out, chart, &scale, 0);
    s_table(out, chart);
    s_footer(out, chart);
    fputs("</svg>\n", out);
    return ferror(out) ? -1 : 0;
}
