/* kefu — fuzz target: intake's list decoders, req_parse_list (ticket.list)
   and req_parse_staff (staff.list) (services/intake/requests.c).

   Input: a msgpack body, decoded inside an otherwise valid envelope as
   intake decodes it (fz_env_with_body), once as a `ticket.list` and once
   as a `staff.list` (their fields overlap: q, department, limit, cursor).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names one of the request's fields with a field-level code
     (fz_field_error_ok);
   - an accepted ticket.list has a status, kind and state (queue_state) from
     the catalog or empty, UTF-8 strings within their limits (department
     too), a limit in 1..100;
     a phone empty or normalised (5 to 15 digits); each of since and until at most one of ms (0 to
   year 9999) and a real date, a range of one form not empty; a cursor absent (id 0) or one whose
   text req_cursor_format writes and req_cursor_parse reads back to the same place; a number
   within its limit; the words of q as 0 to 8 patterns %word%, single spaces between them, no
   white space inside, every %, _ and backslash inside a word escaped;
   - an accepted staff.list has a role from the catalog or empty, a
     department within its limit, q's patterns as above, a limit in
     1..100, a cursor empty or a staff id;
   - decoding is deterministic. */
#include <string.h>

#include "catalog.h"
#include "fuzz.h"
#include "requests.h"

/* Checks req_q_patterns' output: "%w%" patterns, one space apart, at
   most KF_LIM_Q_WORDS, every metacharacter of a word escaped. */
static void s_check_patterns(const char *p)
{
    int words = 0;
    while (*p) {
        FZ_CHECK(*p == '%');
        words++;
        p++;
        size_t n = 0;
        for (; *p && !(*p == '%' && (p[1] == ' ' || p[1] == '\0')); p++, n++) {
            FZ_CHECK(*p != ' ' && *p != '\t' && *p != '\n' && *p != '_' && *p != '%');
            if (*p == '\\') {
                p++;
                FZ_CHECK(*p == '\\' || *p == '%' || *p == '_');
            }
        }
        FZ_CHECK(n > 0 && *p == '%');
        p++;
        if (*p == ' ')
            FZ_CHECK(*++p == '%');
    }
    FZ_CHECK(words <= KF_LIM_Q_WORDS);
}

/* The fields each request reads: a refusal must name one of them. */
static const char *const s_list_fields[] = {"status", "owner", "project", "kind", "department",
                                            "state",  "phone", "no",      "q",    "since",
                                            "until",  "limit", "cursor",  NULL};
static const char *const s_staff_fields[] = {"q", "department", "role", "limit", "cursor", NULL};

static void s_check(const list_req_t *r)
{
    FZ_CHECK(r->status[0] == '\0' || fz_in(r->status, kf_statuses));
    FZ_CHECK(fz_cstr_ok(r->owner, sizeof r->owner, KF_LIM_STAFF));
    FZ_CHECK(fz_cstr_ok(r->project, sizeof r->project, KF_LIM_PROJECT));
    FZ_CHECK(r->kind[0] == '\0' || fz_in(r->kind, kf_kinds));
    FZ_CHECK(fz_cstr_ok(r->department, sizeof r->department, KF_LIM_STAFF));
    FZ_CHECK(r->state[0] == '\0' || fz_in(r->state, kf_queue_state_names));
    FZ_CHECK(r->limit >= 1 && r->limit <= KF_LIM_LIST);
    if (r->phone[0]) {
        size_t len = strlen(r->phone);
        FZ_CHECK(len >= 5 && len <= 15 && strspn(r->phone, "0123456789") == len);
    }
    const req_bound_t *bounds[] = {&r->since, &r->until};
    for (int i = 0; i < 2; i++) {
        const req_bound_t *b = bounds[i];
        FZ_CHECK(b->ms >= -1 && b->ms <= REQ_MS_MAX);
        FZ_CHECK(fz_cstr_ok(b->date, sizeof b->date, 10));
        FZ_CHECK(!(b->ms >= 0 && b->date[0]));
        FZ_CHECK(!b->date[0] || req_date_valid(b->date));
    }
    FZ_CHECK(!(r->since.ms >= 0 && r->until.ms >= 0) || r->since.ms < r->until.ms);
    FZ_CHECK(!(r->since.date[0] && r->until.date[0]) || strcmp(r->since.date, r->until.date) < 0);
    FZ_CHECK(fz_cstr_ok(r->no, sizeof r->no, KF_LIM_TICKET));
    FZ_CHECK(fz_cstr_ok(r->patterns, sizeof r->patterns, REQ_PATTERNS_MAX - 1));
    s_check_patterns(r->patterns);
    FZ_CHECK(r->cursor.id >= 0 && r->cursor.received_us >= 0);
    if (r->cursor.id > 0) {
        char text[REQ_CURSOR_MAX + 1];
        req_cursor_t back;
        req_cursor_format(&r->cursor, text, sizeof text);
        FZ_CHECK(req_cursor_parse(text, &back) == 0);
        FZ_CHECK(back.id == r->cursor.id && back.received_us == r->cursor.received_us);
    } else
        FZ_CHECK(r->cursor.received_us == 0);
}

static void s_check_staff(const staff_req_t *r)
{
    FZ_CHECK(fz_cstr_ok(r->patterns, sizeof r->patterns, REQ_PATTERNS_MAX - 1));
    s_check_patterns(r->patterns);
    FZ_CHECK(fz_cstr_ok(r->department, sizeof r->department, KF_LIM_STAFF));
    FZ_CHECK(r->role[0] == '\0' || fz_in(r->role, kf_roles));
    FZ_CHECK(r->limit >= 1 && r->limit <= KF_LIM_LIST);
    FZ_CHECK(fz_cstr_ok(r->after, sizeof r->after, KF_LIM_CURSOR));
    FZ_CHECK(r->after[0] == '\0' || req_staff_id_valid(r->after));
}

/* Decodes the body as a staff.list, checks the result, and again. */
static void s_staff(const uint8_t *data, size_t size)
{
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body("staff.list", data, size, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return;
    }
    staff_req_t req, again;
    int rc = req_parse_staff(kf_env_body(env), &req, &err);
    if (rc == 0)
        s_check_staff(&req);
    else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err) && fz_in(err.field, s_staff_fields));
    kf_error_t err2 = {0};
    FZ_CHECK(req_parse_staff(kf_env_body(env), &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body("ticket.list", data, size, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    list_req_t req, again;
    int rc = req_parse_list(kf_env_body(env), &req, &err);
    if (rc == 0)
        s_check(&req);
    else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err) && fz_in(err.field, s_list_fields));
    kf_error_t err2 = {0};
    FZ_CHECK(req_parse_list(kf_env_body(env), &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    s_staff(data, size);
    return 0;
}
