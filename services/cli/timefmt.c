/* kefu clients — local times and deadlines. */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "envelope.h"

#define TF_SECOND 1000LL
#define TF_MINUTE (60 * TF_SECOND)
#define TF_HOUR (60 * TF_MINUTE)
#define TF_DAY (24 * TF_HOUR)

void tf_local(int64_t ms, char *buf, size_t size)
{
    /* Floor division, so times before 1970 still round down. */
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    if (!localtime_r(&secs, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, size, "@%lld ms", (long long)ms);
}

void tf_span(int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        ms = -ms;
    long long d = ms / TF_DAY, h = ms % TF_DAY / TF_HOUR;
    long long m = ms % TF_HOUR / TF_MINUTE, s = ms % TF_MINUTE / TF_SECOND;
    if (d > 0)
        snprintf(buf, size, "%lldd %lldh", d, h);
    else if (h > 0)
        snprintf(buf, size, "%lldh %lldm", h, m);
    else if (m > 0)
        snprintf(buf, size, "%lldm %llds", m, s);
    else
        snprintf(buf, size, "%llds", s);
}

void tf_deadline(int64_t due_ms, int64_t done_ms, int64_t now_ms, char *buf, size_t size)
{
    char when[32], span[32];
    tf_local(due_ms, when, sizeof when);
    if (done_ms != 0) {
        tf_span(done_ms - due_ms, span, sizeof span);
        if (done_ms <= due_ms)
            snprintf(buf, size, "%s (met)", when);
        else
            snprintf(buf, size, "%s (missed by %s)", when, span);
        return;
    }
    tf_span(due_ms - now_ms, span, sizeof span);
    if (due_ms >= now_ms)
        snprintf(buf, size, "%s (in %s)", when, span);
    else
        snprintf(buf, size, "%s (overdue by %s)", when, span);
}

int tf_when(const char *text, int64_t *ms)
{
    int64_t now = kf_now_ms();
    long n;
    char unit, rest;
    if (strcmp(text, "now") == 0) {
        *ms = now;
        return 0;
    }
    if (sscanf(text, "+%ld%c%c", &n, &unit, &rest) == 2 && n >= 0 && n <= 400L * 86400) {
        int64_t scale = unit == 's'   ? 1
                        : unit == 'm' ? 60
                        : unit == 'h' ? 3600
                        : unit == 'd' ? 86400
                                      : 0;
        if (!scale)
            return -1;
        *ms = now + (int64_t)n * scale * 1000;
        return 0;
    }
    struct tm tm = {0};
    const char *end = strptime(text, "%Y-%m-%d", &tm);
    if (end && *end == ' ')
        end = strptime(end + 1, "%H:%M", &tm);
    if (!end || *end)
        return -1;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}
