/* intake — decoding client requests (see requests.h). */
#include "requests.h"

#include <ctype.h>
#include <string.h>

#include "catalog.h"
#include "envelope.h"

/* True when s holds something other than white space. */
static bool s_has_text(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

/* Reads a required string that must not be blank. */
static int s_get_text(const msgpack_object *body, const char *key, char *buf, size_t size,
                      kf_error_t *err)
{
    if (kf_get_str(body, key, true, buf, size, err) < 0)
        return -1;
    if (!s_has_text(buf))
        return kf_error_set(err, KF_E_BAD_VALUE, key, "%s must not be blank", key);
    return 0;
}

/* Reads an optional enumeration into buf ("" when absent). */
static int s_get_enum_opt(const msgpack_object *body, const char *key, const char *const *names,
                          char *buf, size_t size, kf_error_t *err)
{
    int index = 0;
    int rc = kf_get_enum(body, key, false, names, &index, err);
    if (rc < 0)
        return -1;
    snprintf(buf, size, "%s", rc == 1 ? names[index] : "");
    return 0;
}

static int s_get_enum_req(const msgpack_object *body, const char *key, const char *const *names,
                          char *buf, size_t size, kf_error_t *err)
{
    int index = 0;
    if (kf_get_enum(body, key, true, names, &index, err) < 0)
        return -1;
    snprintf(buf, size, "%s", names[index]);
    return 0;
}

static int s_get_opt(const msgpack_object *body, const char *key, char *buf, size_t size,
                     kf_error_t *err)
{
    buf[0] = 0;
    return kf_get_str(body, key, false, buf, size, err) < 0 ? -1 : 0;
}

/* The owner's unit: building and unit come together or not at all. */
static int s_get_unit(const msgpack_object *body, submit_req_t *out, kf_error_t *err)
{
    if (s_get_opt(body, "building", out->building, sizeof out->building, err) != 0 ||
        s_get_opt(body, "unit", out->unit, sizeof out->unit, err) != 0)
        return -1;
    if (!out->building[0] != !out->unit[0])
        return kf_error_set(err, KF_E_MISSING_FIELD, out->building[0] ? "unit" : "building",
                            "building and unit are given together");
    return 0;
}

int req_parse_submit(const msgpack_object *body, submit_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    char raw_phone[33];
    if (s_get_opt(body, "idem", out->idem, sizeof out->idem, err) != 0 ||
        s_get_enum_req(body, "kind", kf_kinds, out->kind, sizeof out->kind, err) != 0 ||
        s_get_enum_req(body, "category", kf_categories, out->category, sizeof out->category, err) !=
            0 ||
        s_get_enum_req(body, "channel", kf_channels, out->channel, sizeof out->channel, err) != 0 ||
        s_get_enum_opt(body, "priority", kf_priorities, out->priority, sizeof out->priority, err) !=
            0 ||
        s_get_text(body, "project", out->project, sizeof out->project, err) != 0 ||
        s_get_unit(body, out, err) != 0 ||
        s_get_text(body, "phone", raw_phone, sizeof raw_phone, err) != 0 ||
        s_get_opt(body, "name", out->name, sizeof out->name, err) != 0 ||
        s_get_text(body, "summary", out->summary, sizeof out->summary, err) != 0 ||
        s_get_opt(body, "detail", out->detail, sizeof out->detail, err) != 0)
        return -1;
    if (!out->priority[0])
        snprintf(out->priority, sizeof out->priority, "normal");
    if (kf_phone_normalise(raw_phone, out->phone) != 0)
        return kf_error_set(err, KF_E_BAD_VALUE, "phone", "phone must be " KF_PHONE_RULE);
    return 0;
}

int req_parse_list(const msgpack_object *body, list_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->limit = 50;
    if (s_get_enum_opt(body, "status", kf_statuses, out->status, sizeof out->status, err) != 0 ||
        s_get_opt(body, "owner", out->owner, sizeof out->owner, err) != 0 ||
        s_get_opt(body, "project", out->project, sizeof out->project, err) != 0 ||
        s_get_enum_opt(body, "kind", kf_kinds, out->kind, sizeof out->kind, err) != 0 ||
        kf_get_int(body, "limit", false, 1, 100, &out->limit, err) < 0)
        return -1;
    return 0;
}

int req_parse_action(const char *type, const msgpack_object *body, action_req_t *out,
                     kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (s_get_text(body, "ticket", out->ticket, sizeof out->ticket, err) != 0)
        return -1;
    if (strcmp(type, "ticket.transfer") == 0)
        return s_get_text(body, "to", out->to, sizeof out->to, err) != 0 ||
                       s_get_text(body, "reason", out->reason, sizeof out->reason, err) != 0
                   ? -1
                   : 0;
    if (strcmp(type, "ticket.respond") == 0 || strcmp(type, "ticket.resolve") == 0)
        return s_get_opt(body, "note", out->note, sizeof out->note, err);
    return 0;
}
