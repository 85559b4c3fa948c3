/* notifier — quiet hours and backoff (see schedule.h). */
#include "schedule.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Reads "HH:MM" at text into minutes after midnight; returns the number of
   bytes read (5) or -1. */
static int s_clock(const char *text, int *minutes)
{
    if (strlen(text) < 5 || text[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (text[i] < '0' || text[i] > '9'))
            return -1;
    int hours = (text[0] - '0') * 10 + (text[1] - '0');
    int mins = (text[3] - '0') * 10 + (text[4] - '0');
    if (hours > 23 || mins > 59)
        return -1;
    *minutes = hours * 60 + mins;
    return 5;
}

int quiet_parse(const char *text, quiet_hours_t *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text || strcmp(text, "off") == 0)
        return 0;
    int start, end;
    if (strlen(text) != 11 || text[5] != '-' || s_clock(text, &start) < 0 ||
        s_clock(text + 6, &end) < 0 || start == end)
        return -1;
    out->enabled = true;
    out->start_min = start;
    out->end_min = end;
    return 0;
}

int64_t quiet_release(const quiet_hours_t *q, int64_t now)
{
    if (!q->enabled)
        return now;
    time_t t = (time_t)now;
    struct tm local;
    if (!localtime_r(&t, &local))
        return now;
    int minute = local.tm_hour * 60 + local.tm_min;
    bool across_midnight = q->start_min > q->end_min;
    bool quiet = across_midnight ? (minute >= q->start_min || minute < q->end_min)
                                 : (minute >= q->start_min && minute < q->end_min);
    if (!quiet)
        return now;
    /* The evening part of a window across midnight ends tomorrow morning. */
    if (across_midnight && minute >= q->start_min)
        local.tm_mday += 1;
    local.tm_hour = q->end_min / 60;
    local.tm_min = q->end_min % 60;
    local.tm_sec = 0;
    local.tm_isdst = -1;
    time_t release = mktime(&local);
    return release == (time_t)-1 ? now : (int64_t)release;
}

int64_t backoff_delay(const backoff_t *b, int attempt)
{
    int64_t delay = b->base_ms > 0 ? b->base_ms : 0;
    for (int i = 1; i < attempt && delay < b->cap_ms; i++) {
        if (b->factor > 1 && delay > b->cap_ms / b->factor) {
            delay = b->cap_ms; /* the next step would pass the cap (or overflow) */
            break;
        }
        delay *= b->factor > 1 ? b->factor : 1;
    }
    return delay < b->cap_ms ? delay : b->cap_ms;
}
