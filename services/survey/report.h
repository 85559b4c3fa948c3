/* kefu-survey — the `report` request: every KPI of design.md ("KPI
   definitions") over a period, with its counts, optionally broken down by
   project, department or ticket kind, and optionally as a per-month series
   (for `kefu report --chart`). The wire contract is proto/catalog.md,
   section "report".

   kefu-survey's loop calls report_prepare once for its store and
   report_serve for each `report` request. The figures come from the store
   in one statement per source (tickets, escalations, survey answers,
   approval requests, and their steps for the per-step and per-approver
   cycle times); kpi.h does the arithmetic, percentiles included. */
#ifndef SURVEY_REPORT_H
#define SURVEY_REPORT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "envelope.h"
#include "kf_error.h"
#include "kpi.h"
#include "store.h"

#define REPORT_TZ_MAX KF_LIM_TZ         /* bytes in a time-zone name */
#define REPORT_SERIES_MAX 36            /* months in a series */
#define REPORT_SERIES_MONTHS 12         /* months in a series for one month: M-11 .. M */
#define REPORT_GROUPS_MAX 64            /* groups in a reply (the 64 KiB frame) */
#define REPORT_MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

/* What a breakdown is by. */
typedef enum {
    REPORT_BY_NONE = -1,
    REPORT_BY_PROJECT = 0,
    REPORT_BY_DEPARTMENT,
    REPORT_BY_KIND
} report_by_t;

/* The names of report_by_t from 0 are kf_report_by (kf_model.h), the
   wire's `by`, in this order. */

/* One end of a range: epoch milliseconds, or a date (its local midnight). */
typedef struct {
    bool is_ms;
    int64_t ms;
    kpi_date_t date;
} report_bound_t;

/* A decoded `report` request. */
typedef struct {
    bool has_month; /* month given */
    kpi_month_t month;
    bool has_range; /* from and to given */
    report_bound_t from;
    report_bound_t to;
    report_by_t by;
    char tz[REPORT_TZ_MAX + 1]; /* "" for the store's kefu.tz */
    bool series;                /* add the per-month series */
} report_req_t;

/* Decodes and checks a request body (pure: no store). Returns 0, or -1
   with err naming the field: month not YYYY-MM (bad_value), from or to
   not ms or YYYY-MM-DD, from >= to when both are of one form, month
   together with from/to, from without to (missing_field), an unknown by,
   a tz that is not a zone name. */
int report_parse(const msgpack_object *body, report_req_t *out, kf_error_t *err);

/* Registers the report's named statements on store (call once). */
void report_prepare(kf_store_t *store);

/* Serves one `report` request: decodes body, runs the queries and fills
   reply (an empty body the caller owns and sends as reply.ok) for actor,
   whom the caller has authenticated (logged with the report). Returns 0,
   or -1 with err: the parse errors above, bad_value for an unknown tz or
   an empty range, unavailable or internal from the store. */
int report_serve(kf_store_t *store, const char *actor, const msgpack_object *body, kf_body_t *reply,
                 kf_error_t *err);

#endif
