/* kefu — fuzz target: kefu-approval's request decoders
   (services/approval/requests.c): areq_parse_open, areq_parse_list,
   areq_parse_show, areq_parse_decide, areq_parse_delegate,
   areq_parse_reassign.

   Input: one byte choosing the request type (its value modulo 5:
   approval.request, approval.list, approval.show, approval.decide,
   delegate.set), then the msgpack body, decoded inside an otherwise valid
   envelope of that type as kefu-approval decodes it (fz_env_with_body).
   delegate.clear has no body decoder: the daemon reads nothing of its body,
   so fuzz_envelope covers all it parses.

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names one of the type's fields with a field-level code
     (fz_field_error_ok);
   - an accepted request obeys proto/catalog.md, "Approvals": every string
     UTF-8 within its limit, required text not blank, optional text absent
     or not blank; `type` one of kf_request_types; `amount` a string of digits
     with at most two decimals whose value, computed here independently, is
     amount_fen, within 0.01 .. 100000000.00 yuan; `promised` exactly
     YYYY-MM-DD, a real date of 2000-2999; a list limit in 1..100 (50 when
     absent); request ids >= 1; decision approve or reject, a rejection
     with a comment, a comment blank never kept; a delegation's period
     non-empty and at most 366 days;
   - the other way round: an amount or a date the catalog allows is never
     refused as such;
   - decoding is deterministic. */
#include <string.h>

#include "fuzz.h"
#include "requests.h"
#include "rules.h"

enum { S_OPEN, S_LIST, S_SHOW, S_DECIDE, S_DELEGATE, S_REASSIGN, S_TYPES };

static const char *const s_types[S_TYPES] = {"approval.request", "approval.list",
                                             "approval.show",    "approval.decide",
                                             "delegate.set",     "approval.reassign"};

/* The fields each type reads: a refusal must name one of them. */
static const char *const s_open_fields[] = {"ticket", "type", "amount",     "reason", "promised",
                                            "policy", "idem", "allow_past", NULL};
static const char *const s_list_fields[] = {"limit", NULL};
static const char *const s_show_fields[] = {"request", NULL};
static const char *const s_decide_fields[] = {"request", "step", "decision",
                                              "comment", "idem", NULL};
static const char *const s_delegate_fields[] = {"delegate", "from", "to", "idem", NULL};
static const char *const s_reassign_fields[] = {"step", "to", "reason", "idem", NULL};
static const char *const *const s_fields[S_TYPES] = {s_open_fields,     s_list_fields,
                                                     s_show_fields,     s_decide_fields,
                                                     s_delegate_fields, s_reassign_fields};

/* What any decoder of these may produce, compared whole for determinism. */
typedef struct {
    areq_open_t open;
    int64_t number; /* list's limit or show's request */
    areq_decide_t decide;
    areq_delegate_t delegate;
    areq_reassign_t reassign;
} s_out_t;

/* The string value of key in body (not NUL-terminated), or NULL. */
static const char *s_raw_str(const msgpack_object *body, const char *key, size_t *size)
{
    const msgpack_object *obj = kf_map_get(body, key);
    if (!obj || obj->type != MSGPACK_OBJECT_STR)
        return NULL;
    *size = obj->via.str.size;
    return obj->via.str.ptr;
}

/* The catalog's amount, read independently of rules_amount_fen: digits,
   then optionally '.' and one or two digits; the value in fen, or -1 when
   the text is not of that form, -2 when its whole yuan alone are out of
   range (before they could overflow). */
static int64_t s_amount_fen(const char *s, size_t size)
{
    size_t i = 0;
    int64_t whole = 0, cents = 0;
    for (; i < size && s[i] >= '0' && s[i] <= '9'; i++) {
        whole = whole * 10 + (s[i] - '0');
        if (whole > RULES_AMOUNT_MAX_FEN)
            return -2;
    }
    if (i == 0)
        return -1;
    if (i < size) {
        if (s[i] != '.')
            return -1;
        size_t first = ++i;
        for (; i < size && s[i] >= '0' && s[i] <= '9'; i++)
            cents = cents * 10 + (s[i] - '0');
        if (i != size || i - first < 1 || i - first > 2)
            return -1;
        if (i - first == 1)
            cents *= 10;
    }
    return whole * 100 + cents;
}

/* True when s (size bytes) is exactly YYYY-MM-DD, a real date of 2000-2999. */
static bool s_date_ok(const char *s, size_t size)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (size != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] &&
           !(m == 2 && d == 29 && !leap);
}

static void s_check_open(const msgpack_object *body, const areq_open_t *r)
{
    FZ_CHECK(fz_cstr_ok(r->ticket, sizeof r->ticket, KF_LIM_TICKET) && !fz_blank(r->ticket));
    FZ_CHECK(fz_in(r->type, kf_request_types));
    FZ_CHECK(fz_cstr_ok(r->reason, sizeof r->reason, KF_LIM_REASON) && !fz_blank(r->reason));
    FZ_CHECK(fz_cstr_ok(r->policy, sizeof r->policy, KF_LIM_POLICY));
    FZ_CHECK(r->policy[0] == '\0' || !fz_blank(r->policy));
    FZ_CHECK(fz_cstr_ok(r->idem, sizeof r->idem, KF_LIM_IDEM));
    FZ_CHECK(r->idem[0] == '\0' || !fz_blank(r->idem));
    FZ_CHECK(r->amount_fen >= 1 && r->amount_fen <= RULES_AMOUNT_MAX_FEN);
    size_t size = 0;
    const char *amount = s_raw_str(body, "amount", &size);
    FZ_CHECK(amount && size <= KF_LIM_AMOUNT && s_amount_fen(amount, size) == r->amount_fen);
    const char *promised = s_raw_str(body, "promised", &size);
    FZ_CHECK(promised && s_date_ok(promised, size));
    FZ_CHECK(fz_cstr_ok(r->promised, sizeof r->promised, 10) &&
             memcmp(r->promised, promised, 10) == 0);
}

/* An amount or date the catalog allows is not what a refusal is about. */
static void s_check_open_refusal(const msgpack_object *body, const kf_error_t *err)
{
    size_t size = 0;
    const char *amount = s_raw_str(body, "amount", &size);
    if (strcmp(err->field, "amount") == 0 && amount && size <= KF_LIM_AMOUNT &&
        memchr(amount, '\0', size) == NULL) {
        int64_t fen = s_amount_fen(amount, size);
        FZ_CHECK(!(fen >= 1 && fen <= RULES_AMOUNT_MAX_FEN));
    }
    const char *promised = s_raw_str(body, "promised", &size);
    if (strcmp(err->field, "promised") == 0 && promised)
        FZ_CHECK(!s_date_ok(promised, size));
}

static void s_check_decide(const areq_decide_t *r)
{
    FZ_CHECK(r->request >= 1 && r->step >= 0);
    FZ_CHECK(strcmp(r->outcome, "approve") == 0 || strcmp(r->outcome, "reject") == 0);
    FZ_CHECK(fz_cstr_ok(r->comment, sizeof r->comment, KF_LIM_COMMENT));
    FZ_CHECK(r->comment[0] == '\0' || !fz_blank(r->comment));
    FZ_CHECK(strcmp(r->outcome, "reject") != 0 || r->comment[0] != '\0');
}

static void s_check_delegate(const areq_delegate_t *r)
{
    FZ_CHECK(fz_cstr_ok(r->delegate, sizeof r->delegate, KF_LIM_STAFF) && !fz_blank(r->delegate));
    FZ_CHECK(r->from_ms >= 0 && r->to_ms > r->from_ms);
    FZ_CHECK(r->to_ms - r->from_ms <= AREQ_DELEGATE_MAX_MS);
}

static void s_check_reassign(const areq_reassign_t *r)
{
    FZ_CHECK(r->step >= 1);
    FZ_CHECK(fz_cstr_ok(r->to, sizeof r->to, KF_LIM_STAFF) && !fz_blank(r->to));
    FZ_CHECK(fz_cstr_ok(r->reason, sizeof r->reason, KF_LIM_REASON) && !fz_blank(r->reason));
}

/* Runs the decoder of kind on body into out; returns its status. */
static int s_parse(int kind, const msgpack_object *body, s_out_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    switch (kind) {
    case S_OPEN:
        return areq_parse_open(body, &out->open, err);
    case S_LIST:
        return areq_parse_list(body, &out->number, err);
    case S_SHOW:
        return areq_parse_show(body, &out->number, err);
    case S_DECIDE:
        return areq_parse_decide(body, &out->decide, err);
    case S_REASSIGN:
        return areq_parse_reassign(body, &out->reassign, err);
    default:
        return areq_parse_delegate(body, &out->delegate, err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % S_TYPES;
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body(s_types[kind], data + 1, size - 1, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    const msgpack_object *body = kf_env_body(env);
    static s_out_t out, again;
    int rc = s_parse(kind, body, &out, &err);
    if (rc == 0) {
        switch (kind) {
        case S_OPEN:
            s_check_open(body, &out.open);
            break;
        case S_LIST:
            FZ_CHECK(out.number >= 1 && out.number <= KF_LIM_LIST);
            FZ_CHECK(kf_map_get(body, "limit") != NULL || out.number == KF_LIM_LIST_DEFAULT);
            break;
        case S_SHOW:
            FZ_CHECK(out.number >= 1);
            break;
        case S_DECIDE:
            s_check_decide(&out.decide);
            break;
        case S_REASSIGN:
            s_check_reassign(&out.reassign);
            break;
        default:
            s_check_delegate(&out.delegate);
        }
    } else {
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err) && fz_in(err.field, s_fields[kind]));
        if (kind == S_OPEN)
            s_check_open_refusal(body, &err);
    }
    kf_error_t err2 = {0};
    FZ_CHECK(s_parse(kind, body, &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&out, &again, sizeof out) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
