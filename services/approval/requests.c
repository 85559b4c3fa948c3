/* approval — decoding requests (see requests.h). */
#include "requests.h"

#include <string.h>

#include "envelope.h"
#include "rules.h"

int areq_parse_open(const msgpack_object *body, areq_open_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    char amount[KF_LIM_AMOUNT + 1];
    int type = 0;
    const msgpack_object *raw = kf_map_get(body, "amount");
    if (raw &&
        (raw->type == MSGPACK_OBJECT_POSITIVE_INTEGER || raw->type == MSGPACK_OBJECT_FLOAT64 ||
         raw->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || raw->type == MSGPACK_OBJECT_FLOAT32))
        return kf_error_set(err, KF_E_WRONG_TYPE, "amount",
                            "amount is a string of yuan such as \"80000.00\", not a number");
    if (kf_get_text(body, "ticket", true, out->ticket, sizeof out->ticket, err) < 0 ||
        kf_get_enum(body, "type", true, kf_request_types, &type, err) < 0 ||
        kf_get_str(body, "amount", true, amount, sizeof amount, err) < 0 ||
        rules_amount_fen(amount, &out->amount_fen, err) != 0 ||
        kf_get_text(body, "reason", true, out->reason, sizeof out->reason, err) < 0 ||
        kf_get_str(body, "promised", true, out->promised, sizeof out->promised, err) < 0 ||
        rules_date(out->promised, "promised", err) != 0 ||
        kf_get_text(body, "policy", false, out->policy, sizeof out->policy, err) < 0 ||
        kf_get_text(body, "idem", false, out->idem, sizeof out->idem, err) < 0 ||
        kf_get_bool(body, "allow_past", false, &out->allow_past, err) < 0)
        return -1;
    snprintf(out->type, sizeof out->type, "%s", kf_request_types[type]);
    return 0;
}

int areq_parse_list(const msgpack_object *body, int64_t *limit, kf_error_t *err)
{
    *limit = KF_LIM_LIST_DEFAULT;
    return kf_get_int(body, "limit", false, 1, KF_LIM_LIST, limit, err) < 0 ? -1 : 0;
}

int areq_parse_show(const msgpack_object *body, int64_t *request, kf_error_t *err)
{
    return kf_get_int(body, "request", true, 1, INT64_MAX, request, err) < 0 ? -1 : 0;
}

int areq_parse_decide(const msgpack_object *body, areq_decide_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    int outcome = 0;
    if (kf_get_int(body, "request", true, 1, INT64_MAX, &out->request, err) < 0 ||
        kf_get_int(body, "step", false, 1, INT64_MAX, &out->step, err) < 0 ||
        kf_get_enum(body, "decision", true, kf_decisions, &outcome, err) < 0 ||
        kf_get_str(body, "comment", false, out->comment, sizeof out->comment, err) < 0 ||
        kf_get_str(body, "idem", false, out->idem, sizeof out->idem, err) < 0)
        return -1;
    snprintf(out->outcome, sizeof out->outcome, "%s", kf_decisions[outcome]);
    if (!kf_has_text(out->comment))
        out->comment[0] = '\0';
    if (strcmp(out->outcome, "reject") == 0 && !out->comment[0])
        return kf_error_set(err, KF_E_MISSING_FIELD, "comment",
                            "a rejection needs its reason in comment");
    return 0;
}

int areq_parse_delegate(const msgpack_object *body, areq_delegate_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (kf_get_text(body, "delegate", true, out->delegate, sizeof out->delegate, err) < 0 ||
        kf_get_int(body, "from", true, 0, INT64_MAX, &out->from_ms, err) < 0 ||
        kf_get_int(body, "to", true, 0, INT64_MAX, &out->to_ms, err) < 0 ||
        kf_get_str(body, "idem", false, out->idem, sizeof out->idem, err) < 0)
        return -1;
    if (out->to_ms <= out->from_ms)
        return kf_error_set(err, KF_E_BAD_VALUE, "to", "the period must end after it starts");
    if (out->to_ms - out->from_ms > AREQ_DELEGATE_MAX_MS)
        return kf_error_set(err, KF_E_BAD_VALUE, "to", "a delegation lasts at most 366 days");
    return 0;
}

int areq_parse_reassign(const msgpack_object *body, areq_reassign_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (kf_get_int(body, "step", true, 1, INT64_MAX, &out->step, err) < 0 ||
        kf_get_text(body, "to", true, out->to, sizeof out->to, err) < 0 ||
        kf_get_text(body, "reason", true, out->reason, sizeof out->reason, err) < 0 ||
        kf_get_str(body, "idem", false, out->idem, sizeof out->idem, err) < 0)
        return -1;
    return 0;
}
