/* notifier — when a message may go: quiet hours for owners and the
   backoff between attempts. Pure arithmetic, unit-tested
   (tests/unit/test_notifier_schedule.c). */
#ifndef NOTIFIER_SCHEDULE_H
#define NOTIFIER_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

/* A daily window of local time, [start, end), in minutes after midnight.
   A window whose start is after its end runs across midnight (22:00-08:00). */
typedef struct {
    bool enabled;
    int start_min;
    int end_min;
} quiet_hours_t;

/* Parses "HH:MM-HH:MM" (24-hour clock), or "off" / "" for no quiet hours.
   Start and end must differ. Returns 0, or -1 when text is not such. */
int quiet_parse(const char *text, quiet_hours_t *out);

/* The earliest time, in seconds since the epoch, at which a message held
   by the quiet hours q may go when it is now: now itself outside the
   window, else the window's next end (in the process's local time zone,
   TZ; mktime normalises month and year ends). */
int64_t quiet_release(const quiet_hours_t *q, int64_t now);

/* Exponential backoff: the delay after the n-th failed attempt is
   base_ms * factor^(n-1), never more than cap_ms. */
typedef struct {
    int64_t base_ms;
    int64_t factor;
    int64_t cap_ms;
} backoff_t;

/* The delay in ms before the attempt that follows failed attempt number
   attempt (1 for the first). Never overflows: stops growing at cap_ms. */
int64_t backoff_delay(const backoff_t *b, int attempt);

#endif
