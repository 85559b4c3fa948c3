/* kefu client — times for people: milliseconds since the epoch shown in
   the local zone (TZ, which main defaults to Asia/Shanghai), and how a
   deadline stands. */
#ifndef KF_CLI_TIMEFMT_H
#define KF_CLI_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DD HH:MM:SS" in the local zone. */
void tf_local(int64_t ms, char *buf, size_t size);

/* A duration such as "2d 3h", "3h 20m", "5m 10s" or "12s". */
void tf_span(int64_t ms, char *buf, size_t size);

/* A deadline with how it stands, e.g. "2026-03-02 10:00:00 (in 3h 20m)",
   "... (overdue by 1d 2h)"; when done_ms is not 0 the work was done then:
   "... (met)" or "... (missed by 2h 5m)". */
void tf_deadline(int64_t due_ms, int64_t done_ms, int64_t now_ms, char *buf, size_t size);

/* Reads a time as people give it on the command line: YYYY-MM-DD (local
   midnight), 'YYYY-MM-DD HH:MM', now, or +N with s, m, h or d (from now),
   in the local zone, into ms since the epoch. Returns 0, or -1 when
   malformed. */
int tf_when(const char *text, int64_t *ms);

#endif
