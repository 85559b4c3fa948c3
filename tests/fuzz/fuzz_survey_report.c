/* kefu — fuzz target: the decoder of kefu-survey's `report` request,
   report_parse (services/survey/report.c).

   Input: the msgpack body of a `report` request, decoded inside an
   otherwise valid envelope as kefu-survey decodes it (fz_env_with_body).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names one of the request's fields with a field-level code
     (fz_field_error_ok);
   - an accepted request obeys proto/catalog.md, "report": a month is the
     body's `YYYY-MM` (month 01-12, year 1970-9999); never a month and a
     range together; a range has both ends, each milliseconds in
     0 .. REPORT_MS_MAX or the body's `YYYY-MM-DD`, a real date of
     1970-9999; ends of one form are in order (from < to); without a range
     neither end is in the body; `by` is a breakdown exactly when the body
     names one; a tz is UTF-8 within 64 bytes, "UTC" or a zone name (a
     '/', letters, digits, "_+-", no empty part);
   - the other way round: a well-formed month alone is never refused;
   - decoding is deterministic. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "kpi.h"
#include "report.h"

static const char *const s_fields[] = {"body", "month", "from", "to", "by", "tz", "series", NULL};

/* True when body has key with a value other than nil. */
static bool s_has(const msgpack_object *body, const char *key)
{
    const msgpack_object *obj = kf_map_get(body, key);
    return obj && obj->type != MSGPACK_OBJECT_NIL;
}

/* True when the body's key is the string text exactly. */
static bool s_is_str(const msgpack_object *body, const char *key, const char *text)
{
    const msgpack_object *obj = kf_map_get(body, key);
    return obj && obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == strlen(text) &&
           memcmp(obj->via.str.ptr, text, obj->via.str.size) == 0;
}

static void s_check_bound(const msgpack_object *body, const char *key, const report_bound_t *b)
{
    if (b->is_ms) {
        FZ_CHECK(b->ms >= 0 && b->ms <= REPORT_MS_MAX);
        const msgpack_object *obj = kf_map_get(body, key);
        FZ_CHECK(obj && (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                         obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER));
        return;
    }
    kpi_date_t d = b->date;
    FZ_CHECK(d.year >= KPI_YEAR_MIN && d.year <= KPI_YEAR_MAX && d.month >= 1 && d.month <= 12);
    FZ_CHECK(d.day >= 1 && d.day <= kpi_month_days((kpi_month_t){d.year, d.month}));
    char text[48];
    snprintf(text, sizeof text, "%04d-%02d-%02d", d.year, d.month, d.day);
    FZ_CHECK(s_is_str(body, key, text));
}

/* True when s is what the catalog calls a zone name. */
static bool s_zone_name(const char *s)
{
    if (strcmp(s, "UTC") == 0)
        return true;
    if (!strchr(s, '/') || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '+' || *p == '-' || *p == '/';
        if (!ok || (*p == '/' && (p[1] == '/' || p[1] == '\0')))
            return false;
    }
    return true;
}

static void s_check(const msgpack_object *body, const report_req_t *r)
{
    FZ_CHECK(!(r->has_month && r->has_range));
    if (r->has_month) {
        FZ_CHECK(r->month.year >= KPI_YEAR_MIN && r->month.year <= KPI_YEAR_MAX);
        FZ_CHECK(r->month.month >= 1 && r->month.month <= 12);
        char text[32];
        snprintf(text, sizeof text, "%04d-%02d", r->month.year, r->month.month);
        FZ_CHECK(s_is_str(body, "month", text));
    } else
        FZ_CHECK(!s_has(body, "month"));
    if (r->has_range) {
        s_check_bound(body, "from", &r->from);
        s_check_bound(body, "to", &r->to);
        if (r->from.is_ms && r->to.is_ms)
            FZ_CHECK(r->from.ms < r->to.ms);
        if (!r->from.is_ms && !r->to.is_ms)
            FZ_CHECK(kpi_date_cmp(r->from.date, r->to.date) < 0);
    } else
        FZ_CHECK(!s_has(body, "from") && !s_has(body, "to"));
    FZ_CHECK(r->by >= REPORT_BY_NONE && r->by <= REPORT_BY_KIND);
    FZ_CHECK((r->by != REPORT_BY_NONE) == s_has(body, "by"));
    FZ_CHECK(r->by == REPORT_BY_NONE || s_is_str(body, "by", kf_report_by[r->by]));
    FZ_CHECK(fz_cstr_ok(r->tz, sizeof r->tz, REPORT_TZ_MAX));
    FZ_CHECK(r->tz[0] == '\0' || s_zone_name(r->tz));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body("report", data, size, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    const msgpack_object *body = kf_env_body(env);
    static report_req_t req, again;
    int rc = report_parse(body, &req, &err);
    if (rc == 0)
        s_check(body, &req);
    else {
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err) && fz_in(err.field, s_fields));
        /* A month alone that the catalog allows is never the problem. */
        const msgpack_object *month = kf_map_get(body, "month");
        kpi_month_t m;
        char text[8];
        if (strcmp(err.field, "month") == 0 && month && month->type == MSGPACK_OBJECT_STR &&
            month->via.str.size == 7) {
            memcpy(text, month->via.str.ptr, 7);
            text[7] = '\0';
            FZ_CHECK(kpi_month_parse(text, &m) != 0 || s_has(body, "from"));
        }
    }
    kf_error_t err2 = {0};
    FZ_CHECK(report_parse(body, &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
