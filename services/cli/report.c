/* kefu client — `kefu report`: the KPIs of design.md over a month or a
   range, with their counts, from kefu-survey (KEFU_SURVEY); optionally
   broken down by project, department or kind, and drawn as a chart of the
   last 12 months (--chart FILE.svg). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "call.h"
#include "chart.h"
#include "cli.h"
#include "output.h"
#include "kf_model.h"
#include "table.h"

#define REPORT_CMD "report"
#define REPORT_TZ_MAX KF_LIM_TZ /* proto/model.json */
#define REPORT_BOUND_MAX 24     /* a date or a number of ms */
#define REPORT_KEY_MAX 128      /* bytes of a group key shown */
/* The wait for a report unless KEFU_TIMEOUT_MS or --timeout says otherwise:
   a year over a million tickets takes seconds, not the 5 s of a ticket
   command. */
#define REPORT_TIMEOUT_MS 60000
#define REPORT_CLIENT_DEFAULT_MS 5000 /* main's default (KEFU_TIMEOUT_MS) */

enum { F_MONTH, F_FROM, F_TO, F_BY, F_TZ, F_CHART, F_COUNT };

static const char *const s_by_names[] = {"project", "department", "kind", NULL};

static const struct option s_options[] = {{"month", required_argument, NULL, ARGS_OPT(F_MONTH)},
                                          {"from", required_argument, NULL, ARGS_OPT(F_FROM)},
                                          {"to", required_argument, NULL, ARGS_OPT(F_TO)},
                                          {"by", required_argument, NULL, ARGS_OPT(F_BY)},
                                          {"tz", required_argument, NULL, ARGS_OPT(F_TZ)},
                                          {"chart", required_argument, NULL, ARGS_OPT(F_CHART)},
                                          ARGS_GLOBAL_OPTIONS};

/* The options of one report. */
typedef struct {
    const char *values[F_COUNT];
    bool chart; /* --chart given, its path found writable */
} report_t;

static void s_help(FILE *out)
{
    fprintf(
        out,
        "Usage: kefu report [--month YYYY-MM | --from FROM --to TO] [--by "
        "project|department|kind]\n"
        "                   [--tz ZONE] [--chart FILE.svg] [--json]\n\n"
        "Every KPI of the design with its counts (numerator/denominator), from kefu-survey\n"
        "($KEFU_SURVEY, default tcp://127.0.0.1:7710):\n"
        "  first response within 24 h   complaints received in the period answered at most\n"
        "                               24 h after receipt; an unanswered one counts as a miss\n"
        "                               once its 24 h have passed, and is left out before\n"
        "  resolved within the month    complaints received in a month first resolved before\n"
        "                               the next month begins (当月解决率)\n"
        "  satisfaction                 survey answers recorded in the period scoring 4 or 5\n"
        "  NPS                          %% of 0-10 answers at 9-10 minus %% at 0-6, one decimal\n"
        "  approval cycle time          approval requests completed (approved or rejected) in\n"
        "                               the period: median and 90th percentile of request ->\n"
        "                               completion; also per step (from when the request\n"
        "                               reached the step's stage to its decision) and per\n"
        "                               approver (from when the step came to them to their\n"
        "                               decision; a step approved at its deadline counts for\n"
        "                               its approver)\n"
        "  escalations                  per 100 tickets received in the period, by level\n"
        "A rate over zero items is shown as absent, never as 0 %% or 100 %%; so is a cycle\n"
        "time over no requests. Percentiles are nearest-rank, not interpolated: of n\n"
        "durations sorted, the p-th percentile is the one at rank ceil(p * n / 100), so\n"
        "the median of an even count is the lower middle one (of 2, the shorter).\n\n"
        "Options:\n"
        "  --month YYYY-MM    a calendar month in the report's zone (default: this month)\n"
        "  --from FROM        start of a range, included: YYYY-MM-DD (local midnight)\n"
        "                     or milliseconds since the epoch\n"
        "  --to TO            end of the range, excluded: [FROM, TO)\n"
        "  --by B             break every KPI down by project, department or kind\n"
        "  --tz ZONE          the zone of months and dates (default: the store's kefu.tz,\n"
        "                     Asia/Shanghai)\n"
        "  --chart FILE.svg   also draw satisfaction and resolved-within-month per month\n"
        "                     (the 12 months ending with --month, or the range's months)\n"
        "                     against their targets (%d %%, %d %%) and baselines (%d %%, %d "
        "%%);\n"
        "                     a month not over yet is marked （未完）provisional. The Chinese\n"
        "                     text needs a CJK font where the SVG is viewed (it names Noto Sans\n"
        "                     CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei,\n"
        "                     PingFang SC); without one it shows as boxes. On Debian:\n"
        "                     apt-get install fonts-noto-cjk\n"
        "The wait for the reply is 60 s unless --timeout or KEFU_TIMEOUT_MS says.\n\n",
        KF_TARGET_SATISFACTION, KF_TARGET_RESOLVED_IN_MONTH, KF_BASELINE_SATISFACTION,
        KF_BASELINE_RESOLVED_IN_MONTH);
    args_global_help(out);
    fprintf(out, "\nExamples:\n"
                 "  kefu report --month 2026-03\n"
                 "  kefu report --month 2026-03 --by project --chart kpi.svg\n"
                 "  kefu report --from 2026-01-01 --to 2026-04-01 --json\n");
}

/* 0 when path can be written (checked before the work is asked for, and
   without truncating a file that is there), -1 with errno. */
static int s_writable(const char *path)
{
    if (access(path, F_OK) == 0)
        return access(path, W_OK);
    FILE *probe = fopen(path, "w");
    if (!probe)
        return -1;
    fclose(probe);
    remove(path);
    return 0;
}

/* Parses and checks argv; returns ARGS_OK, ARGS_HELP or an exit code.
   Only the form of the options is checked here: months, dates and ranges
   are judged by kefu-survey, whose errors name the field. */
static int s_parse(cli_t *cli, int argc, char **argv, report_t *r)
{
    int rc = args_parse(cli, REPORT_CMD, argc, argv, s_options, s_help, r->values, F_COUNT);
    if (rc == ARGS_OK)
        rc = args_operands(cli, REPORT_CMD, argc, argv, 0, NULL);
    if (rc == ARGS_OK && r->values[F_BY])
        rc = args_enum(cli, REPORT_CMD, "by", r->values[F_BY], s_by_names);
    if (rc == ARGS_OK && r->values[F_MONTH])
        rc = args_text(cli, REPORT_CMD, "month", r->values[F_MONTH], KF_LIM_MONTH, true);
    if (rc == ARGS_OK && r->values[F_FROM])
        rc = args_text(cli, REPORT_CMD, "from", r->values[F_FROM], REPORT_BOUND_MAX, true);
    if (rc == ARGS_OK && r->values[F_TO])
        rc = args_text(cli, REPORT_CMD, "to", r->values[F_TO], REPORT_BOUND_MAX, true);
    if (rc == ARGS_OK && r->values[F_TZ])
        rc = args_text(cli, REPORT_CMD, "tz", r->values[F_TZ], REPORT_TZ_MAX, true);
    if (rc == ARGS_OK && r->values[F_CHART]) {
        if (s_writable(r->values[F_CHART]) != 0)
            rc = args_usage(cli, REPORT_CMD, "chart", "cannot write --chart '%s': %s",
                            r->values[F_CHART], strerror(errno));
        r->chart = rc == ARGS_OK;
    }
    if (rc == ARGS_OK)
        rc = args_cert(cli, REPORT_CMD);
    return rc;
}

/* Adds from or to: a number of ms when all digits, else the text. */
static void s_bound(kf_body_t *body, const char *key, const char *value)
{
    long long ms;
    char *end;
    if (value[0] >= '0' && value[0] <= '9' && strspn(value, "0123456789") == strlen(value)) {
        errno = 0;
        ms = strtoll(value, &end, 10);
        if (errno == 0) {
            kf_body_int(body, key, ms);
            return;
        }
    }
    kf_body_str(body, key, value);
}

static kf_body_t *s_body(const cli_t *cli, const void *arg)
{
    const report_t *r = (const report_t *)arg;
    kf_body_t *body = call_body(cli);
    if (r->values[F_MONTH])
        kf_body_str(body, "month", r->values[F_MONTH]);
    if (r->values[F_FROM])
        s_bound(body, "from", r->values[F_FROM]);
    if (r->values[F_TO])
        s_bound(body, "to", r->values[F_TO]);
    if (r->values[F_BY])
        kf_body_str(body, "by", r->values[F_BY]);
    if (r->values[F_TZ])
        kf_body_str(body, "tz", r->values[F_TZ]);
    if (r->chart)
        kf_body_bool(body, "series", true);
    return body;
}

/* ---- reading the reply -------------------------------------------------- */

/* A figure as the reply has it: num of den, and its value (percent, per
   100 or NPS) when present. */
typedef struct {
    bool ok;      /* the map was there and well-formed */
    bool present; /* value not nil */
    double value;
    int64_t num, den;
} s_fig_t;

/* Reads map[key] = {num?, den, <value_key>}. */
static s_fig_t s_fig(const msgpack_object *map, const char *key, const char *value_key)
{
    s_fig_t fig = {false, false, 0, 0, 0};
    const msgpack_object *obj = kf_map_get(map, key);
    if (!obj || obj->type != MSGPACK_OBJECT_MAP || !call_int(obj, "den", &fig.den))
        return fig;
    call_int(obj, "num", &fig.num);
    fig.ok = true;
    const msgpack_object *v = kf_map_get(obj, value_key);
    if (v && (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32)) {
        fig.present = true;
        fig.value = v->via.f64;
    } else if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        fig.present = true;
        fig.value = (double)v->via.u64;
    } else if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        fig.present = true;
        fig.value = (double)v->via.i64;
    }
    return fig;
}

/* "60.0 %" (unit "%"), "16.7" (unit ""), or "absent". */
static void s_value(const s_fig_t *fig, const char *unit, char *buf, size_t size)
{
    if (!fig->ok)
        snprintf(buf, size, "?");
    else if (!fig->present)
        snprintf(buf, size, "absent");
    else
        snprintf(buf, size, "%.1f%s%s", fig->value, unit[0] ? " " : "", unit);
}

/* "3 / 5". */
static void s_count(const s_fig_t *fig, char *buf, size_t size)
{
    if (!fig->ok)
        snprintf(buf, size, "?");
    else
        snprintf(buf, size, "%lld / %lld", (long long)fig->num, (long long)fig->den);
}

/* A local time in zone tz (the report's), "YYYY-MM-DD HH:MM". */
static void s_when(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    if (!localtime_r(&secs, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, size, "@%lld ms", (long long)ms);
}

/* Prints the period line: "2026-03 (Asia/Shanghai): 2026-03-01 00:00:00
   to 2026-04-01 00:00:00, 7 tickets received". Times are shown in the
   report's zone, which the client switches to for this. */
static void s_period(const msgpack_object *body, const msgpack_object *total)
{
    const msgpack_object *period = kf_map_get(body, "period");
    char tz[REPORT_TZ_MAX + 1] = "", month[16] = "", from[32] = "?", to[32] = "?", now[32] = "?";
    int64_t v;
    bool complete = true;
    if (period && period->type == MSGPACK_OBJECT_MAP) {
        call_str(period, "tz", tz, sizeof tz);
        call_str(period, "month", month, sizeof month);
        if (tz[0]) {
            setenv("TZ", tz, 1);
            tzset();
        }
        if (call_int(period, "from", &v))
            s_when(v, from, sizeof from);
        if (call_int(period, "to", &v))
            s_when(v, to, sizeof to);
        if (call_int(period, "now", &v))
            s_when(v, now, sizeof now);
        const msgpack_object *c = kf_map_get(period, "complete");
        complete = !c || c->type != MSGPACK_OBJECT_BOOLEAN || c->via.boolean;
    }
    int64_t tickets = 0;
    call_int(total, "tickets", &tickets);
    printf("KPI report 指标报告  %s%s[%s, %s)  (%s)\n", month, month[0] ? "  " : "", from, to,
           tz[0] ? tz : "?");
    printf("%lld tickets received in the period; as of %s%s\n\n", (long long)tickets, now,
           complete ? "" : " — the period is not over: figures are provisional");
}

/* A duration of secs in a unit that fits it: "6 s" under a minute, "12 min"
   (whole minutes) under an hour, "3.5 h" under two days, else "2.1 d". */
static void s_duration(int64_t secs, char *buf, size_t size)
{
    if (secs < 60)
        snprintf(buf, size, "%lld s", (long long)secs);
    else if ((secs + 30) / 60 < 60)
        snprintf(buf, size, "%lld min", (long long)((secs + 30) / 60));
    else if (secs < 48 * 3600)
        snprintf(buf, size, "%.1f h", secs / 3600.0);
    else
        snprintf(buf, size, "%.1f d", secs / 86400.0);
}

/* map[key] as a duration (s_duration), or "absent" when the figure is nil. */
static void s_span(const msgpack_object *map, const char *key, char *buf, size_t size)
{
    int64_t s;
    if (call_int(map, key, &s))
        s_duration(s, buf, size);
    else
        snprintf(buf, size, "absent");
}

/* The approval cycle time per step or per approver (ap[key], each entry
   named by name_key), under a header; nothing when there are none. */
static void s_print_cycles(const msgpack_object *ap, const char *key, const char *name_key,
                           const char *header)
{
    const msgpack_object *rows = ap ? kf_map_get(ap, key) : NULL;
    if (!rows || rows->type != MSGPACK_OBJECT_ARRAY || rows->via.array.size == 0)
        return;
    const char *headers[] = {header, "DECIDED", "MEDIAN", "90TH PERCENTILE"};
    table_t *table = table_new(headers, 4);
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *r = &rows->via.array.ptr[i];
        char name[REPORT_KEY_MAX] = "?", den[24] = "?", med[32], p90[32];
        int64_t n;
        if (r->type != MSGPACK_OBJECT_MAP)
            continue;
        call_str(r, name_key, name, sizeof name);
        if (call_int(r, "den", &n))
            snprintf(den, sizeof den, "%lld", (long long)n);
        s_span(r, "median_s", med, sizeof med);
        s_span(r, "p90_s", p90, sizeof p90);
        const char *row[] = {name, den, med, p90};
        table_add(table, row);
    }
    printf("\n");
    table_print(table, stdout, 60);
    table_destroy(&table);
    char omitted_key[32];
    int64_t omitted = 0;
    snprintf(omitted_key, sizeof omitted_key, "%s_omitted", key);
    if (call_int(ap, omitted_key, &omitted) && omitted > 0)
        printf("... and %lld with fewer decisions not shown\n", (long long)omitted);
}

/* The row of the approval cycle time (ap: the total's approval_cycle). */
static void s_row_approval(table_t *table, const msgpack_object *ap)
{
    char value[32], count[48], note[160];
    char absent[128] = "";
    int64_t med, p90, den = 0;
    if (ap && call_str(ap, "absent", absent, sizeof absent) && absent[0]) {
        call_int(ap, "den", &den);
        snprintf(value, sizeof value, "absent");
        snprintf(count, sizeof count, "%lld requests", (long long)den);
        snprintf(note, sizeof note, "%s", absent);
    } else if (ap && call_int(ap, "median_s", &med) && call_int(ap, "p90_s", &p90)) {
        char p90_text[32];
        call_int(ap, "den", &den);
        s_duration(med, value, sizeof value);
        s_duration(p90, p90_text, sizeof p90_text);
        snprintf(count, sizeof count, "%lld requests", (long long)den);
        snprintf(note, sizeof note, "median; 90th percentile %s; completed in the period",
                 p90_text);
    } else {
        snprintf(value, sizeof value, "?");
        count[0] = note[0] = '\0';
    }
    const char *row_ap[] = {"审批周期 approval cycle time", value, count, note};
    table_add(table, row_ap);
}

/* The vertical report of the total: one line per KPI. */
static void s_print_total(const msgpack_object *total)
{
    static const char *const headers[] = {"KPI 指标", "VALUE", "NUM / DEN", "NOTE"};
    table_t *table = table_new(headers, 4);
    char value[32], count[48], note[160];

    s_fig_t fr = s_fig(total, "first_response_24h", "percent");
    s_value(&fr, "%", value, sizeof value);
    s_count(&fr, count, sizeof count);
    const msgpack_object *fro = kf_map_get(total, "first_response_24h");
    int64_t pending = 0;
    note[0] = '\0';
    if (fro && call_int(fro, "pending", &pending) && pending > 0)
        snprintf(note, sizeof note, "%lld still within their 24 h, left out", (long long)pending);
    const char *row_fr[] = {"首次响应率 first response ≤ 24 h", value, count, note};
    table_add(table, row_fr);

    s_fig_t rm = s_fig(total, "resolved_in_month", "percent");
    s_value(&rm, "%", value, sizeof value);
    s_count(&rm, count, sizeof count);
    char goal[48];
    snprintf(goal, sizeof goal, "target %d %%, baseline %d %%", KF_TARGET_RESOLVED_IN_MONTH,
             KF_BASELINE_RESOLVED_IN_MONTH);
    const char *row_rm[] = {"当月解决率 resolved within the month", value, count, goal};
    table_add(table, row_rm);

    s_fig_t sat = s_fig(total, "satisfaction", "percent");
    s_value(&sat, "%", value, sizeof value);
    s_count(&sat, count, sizeof count);
    char sat_goal[48];
    snprintf(sat_goal, sizeof sat_goal, "target %d %%, baseline %d %%", KF_TARGET_SATISFACTION,
             KF_BASELINE_SATISFACTION);
    const char *row_sat[] = {"满意度 satisfaction (4-5 of 5)", value, count, sat_goal};
    table_add(table, row_sat);

    s_fig_t nps = s_fig(total, "nps", "score");
    s_value(&nps, "", value, sizeof value);
    const msgpack_object *npso = kf_map_get(total, "nps");
    int64_t p = 0, pa = 0, d = 0;
    if (npso) {
        call_int(npso, "promoters", &p);
        call_int(npso, "passives", &pa);
        call_int(npso, "detractors", &d);
    }
    snprintf(count, sizeof count, "%lld answers", (long long)nps.den);
    snprintf(note, sizeof note, "%lld promoters (9-10), %lld passives, %lld detractors (0-6)",
             (long long)p, (long long)pa, (long long)d);
    const char *row_nps[] = {"净推荐值 NPS", value, count, note};
    table_add(table, row_nps);

    const msgpack_object *ap = kf_map_get(total, "approval_cycle");
    s_row_approval(table, ap);

    const msgpack_object *esc = kf_map_get(total, "escalations");
    static const char *const levels[][2] = {{"all", "升级 escalations per 100 tickets"},
                                            {"level_1", "  level 1 (owner's manager)"},
                                            {"level_2", "  level 2 (department head)"},
                                            {"level_3", "  level 3 (project GM)"}};
    for (size_t i = 0; i < 4; i++) {
        s_fig_t e = s_fig(esc, levels[i][0], "per_100");
        s_value(&e, "", value, sizeof value);
        s_count(&e, count, sizeof count);
        const char *row[] = {levels[i][1], value, count, i == 0 ? "escalations / tickets" : ""};
        table_add(table, row);
    }
    table_print(table, stdout, 200);
    table_destroy(&table);
    s_print_cycles(ap, "steps", "label", "审批环节 STEP");
    s_print_cycles(ap, "approvers", "staff", "审批人 APPROVER");
}

/* A compact cell: "60.0 % (3/5)", "absent (0)". */
static void s_cell(const s_fig_t *fig, const char *unit, char *buf, size_t size)
{
    if (!fig->ok)
        snprintf(buf, size, "?");
    else if (!fig->present)
        snprintf(buf, size, "absent (0)");
    else if (fig->num || strcmp(unit, "") != 0)
        snprintf(buf, size, "%.1f%s (%lld/%lld)", fig->value, unit, (long long)fig->num,
                 (long long)fig->den);
    else
        snprintf(buf, size, "%.1f (%lld)", fig->value, (long long)fig->den);
}

/* Adds one group (or the total, named label) as a row of the wide table. */
static void s_group_row(table_t *table, const char *label, const msgpack_object *g)
{
    char tickets[24] = "?", fr[48], rm[48], sat[48], nps[48], esc[4][48], ap[64] = "?";
    int64_t n;
    if (call_int(g, "tickets", &n))
        snprintf(tickets, sizeof tickets, "%lld", (long long)n);
    s_fig_t f = s_fig(g, "first_response_24h", "percent");
    s_cell(&f, "%", fr, sizeof fr);
    f = s_fig(g, "resolved_in_month", "percent");
    s_cell(&f, "%", rm, sizeof rm);
    f = s_fig(g, "satisfaction", "percent");
    s_cell(&f, "%", sat, sizeof sat);
    f = s_fig(g, "nps", "score");
    s_cell(&f, "", nps, sizeof nps);
    const msgpack_object *e = kf_map_get(g, "escalations");
    static const char *const keys[] = {"all", "level_1", "level_2", "level_3"};
    for (int i = 0; i < 4; i++) {
        f = s_fig(e, keys[i], "per_100");
        if (!f.ok)
            snprintf(esc[i], sizeof esc[i], "?");
        else if (!f.present)
            snprintf(esc[i], sizeof esc[i], "absent");
        else
            snprintf(esc[i], sizeof esc[i], "%.1f (%lld)", f.value, (long long)f.num);
    }
    const msgpack_object *apo = kf_map_get(g, "approval_cycle");
    int64_t den, med, p90;
    if (apo && call_int(apo, "den", &den)) {
        if (call_int(apo, "median_s", &med) && call_int(apo, "p90_s", &p90)) {
            char med_text[24], p90_text[24];
            s_duration(med, med_text, sizeof med_text);
            s_duration(p90, p90_text, sizeof p90_text);
            snprintf(ap, sizeof ap, "%s / %s (%lld)", med_text, p90_text, (long long)den);
        } else
            snprintf(ap, sizeof ap, "absent (%lld)", (long long)den);
    }
    const char *row[] = {label, tickets, fr, rm, sat, nps, ap, esc[0], esc[1], esc[2], esc[3]};
    table_add(table, row);
}

/* The breakdown: a row per group under the total. */
static void s_print_groups(const msgpack_object *body, const msgpack_object *total, const char *by)
{
    char header[32];
    snprintf(header, sizeof header, "%s", by);
    for (char *c = header; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
    const char *headers[] = {header,
                             "TICKETS",
                             "RESPONSE ≤24H",
                             "RESOLVED IN MONTH",
                             "SATISFIED",
                             "NPS (n)",
                             "APPROVAL (n)",
                             "ESC/100 (n)",
                             "L1",
                             "L2",
                             "L3"};
    table_t *table = table_new(headers, 11);
    s_group_row(table, "(all)", total);
    const msgpack_object *groups = kf_map_get(body, "groups");
    for (uint32_t i = 0;
         groups && groups->type == MSGPACK_OBJECT_ARRAY && i < groups->via.array.size; i++) {
        const msgpack_object *g = &groups->via.array.ptr[i];
        if (g->type != MSGPACK_OBJECT_MAP)
            continue;
        char key[REPORT_KEY_MAX];
        if (!call_str(g, "key", key, sizeof key))
            snprintf(key, sizeof key, "(none)");
        s_group_row(table, key, g);
    }
    table_print(table, stdout, 40);
    table_destroy(&table);
    int64_t omitted = 0;
    if (call_int(body, "groups_omitted", &omitted) && omitted > 0)
        printf("... and %lld smaller groups not shown (the largest %u are)\n", (long long)omitted,
               groups ? groups->via.array.size : 0);
    printf("\nRESPONSE ≤24H: complaints answered within 24 h; RESOLVED IN MONTH: complaints first\n"
           "resolved before their month ends; SATISFIED: answers scoring 4-5; NPS (n): score "
           "(answers);\n"
           "APPROVAL (n): median / 90th percentile of the approval cycle time (requests\n"
           "completed); ESC/100: escalations per 100 tickets (count), by level.\n"
           "\"absent (0)\": no items.\n");
}

/* ---- the chart ------------------------------------------------------------ */

/* A chart value from a series figure. */
static chart_value_t s_chart_value(const msgpack_object *month, const char *key)
{
    s_fig_t fig = s_fig(month, key, "percent");
    chart_value_t v = {fig.ok && fig.present, 0, fig.num, fig.den};
    if (v.present)
        v.tenths = (int64_t)(fig.value * 10.0 + (fig.value < 0 ? -0.5 : 0.5));
    return v;
}

/* Draws the reply's series into r->chart. */
static int s_chart(const cli_t *cli, const msgpack_object *body, report_t *r)
{
    const msgpack_object *series = kf_map_get(body, "series");
    if (!series || series->type != MSGPACK_OBJECT_ARRAY || series->via.array.size == 0 ||
        series->via.array.size > CHART_MONTHS_MAX)
        return call_missing(cli, "report", "series");
    chart_month_t months[CHART_MONTHS_MAX];
    size_t n = series->via.array.size;
    /* A month that ends after the report's now is not over: provisional. */
    const msgpack_object *period = kf_map_get(body, "period");
    int64_t now = 0, to;
    bool has_now = period && call_int(period, "now", &now);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *m = &series->via.array.ptr[i];
        memset(&months[i], 0, sizeof months[i]);
        if (m->type != MSGPACK_OBJECT_MAP ||
            !call_str(m, "month", months[i].month, sizeof months[i].month))
            return call_missing(cli, "report", "series.month");
        months[i].satisfaction = s_chart_value(m, "satisfaction");
        months[i].resolved = s_chart_value(m, "resolved_in_month");
        months[i].provisional = has_now && call_int(m, "to", &to) && now < to;
    }
    char tz[REPORT_TZ_MAX + 1] = "";
    if (period)
        call_str(period, "tz", tz, sizeof tz);
    chart_t chart = {tz, months, n};
    FILE *out = fopen(r->values[F_CHART], "w");
    int rc = out ? chart_write_svg(out, &chart) : -1;
    if (out && fclose(out) != 0)
        rc = -1;
    if (rc != 0) {
        out_local_error(cli, "usage", "chart", "writing the chart to '%s' failed",
                        r->values[F_CHART]);
        return CLI_EXIT_USAGE;
    }
    fprintf(cli->json ? stderr : stdout, "%sChart written to %s (%zu months, %s to %s).\n",
            cli->json ? "kefu: " : "\n", r->values[F_CHART], n, months[0].month,
            months[n - 1].month);
    return CLI_EXIT_OK;
}

/* Prints the report of the reply. */
static int s_print(const cli_t *cli, const kf_env_t *reply, report_t *r)
{
    const msgpack_object *body = kf_env_body(reply);
    const msgpack_object *total = kf_map_get(body, "total");
    if (!total || total->type != MSGPACK_OBJECT_MAP)
        return call_missing(cli, "report", "total");
    if (!cli->json) {
        s_period(body, total);
        char by[32] = "";
        if (call_str(body, "by", by, sizeof by) && by[0])
            s_print_groups(body, total, by);
        else
            s_print_total(total);
    }
    if (r->chart)
        return s_chart(cli, body, r);
    return CLI_EXIT_OK;
}

int cmd_report(cli_t *cli, int argc, char **argv)
{
    report_t r;
    memset(&r, 0, sizeof r);
    const char *env_timeout = getenv("KEFU_TIMEOUT_MS");
    if ((!env_timeout || !env_timeout[0]) && cli->timeout_ms == REPORT_CLIENT_DEFAULT_MS)
        cli->timeout_ms = REPORT_TIMEOUT_MS; /* --timeout after the command still wins */
    int rc = s_parse(cli, argc, argv, &r);
    if (rc == ARGS_OK) {
        cli_use_survey(cli);
        call_t call = {.type = "report", .build = s_body, .arg = &r};
        kf_env_t *reply = NULL;
        rc = call_run(cli, &call, &reply);
        if (rc == CLI_EXIT_OK)
            rc = s_print(cli, reply, &r);
        kf_env_destroy(&reply);
    }
    return rc == ARGS_HELP ? CLI_EXIT_OK : rc;
}
