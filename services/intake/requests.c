/* intake — decoding client requests (see requests.h). */
#include "requests.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "envelope.h"

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
    char raw_phone[KF_LIM_PHONE + 1];
    if (s_get_opt(body, "idem", out->idem, sizeof out->idem, err) != 0 ||
        s_get_enum_req(body, "kind", kf_kinds, out->kind, sizeof out->kind, err) != 0 ||
        s_get_enum_req(body, "category", kf_categories, out->category, sizeof out->category, err) !=
            0 ||
        s_get_enum_req(body, "channel", kf_channels, out->channel, sizeof out->channel, err) != 0 ||
        s_get_enum_opt(body, "priority", kf_priorities, out->priority, sizeof out->priority, err) !=
            0 ||
        kf_get_text(body, "project", true, out->project, sizeof out->project, err) < 0 ||
        s_get_unit(body, out, err) != 0 ||
        kf_get_text(body, "phone", true, raw_phone, sizeof raw_phone, err) < 0 ||
        s_get_opt(body, "name", out->name, sizeof out->name, err) != 0 ||
        kf_get_text(body, "summary", true, out->summary, sizeof out->summary, err) < 0 ||
        s_get_opt(body, "detail", out->detail, sizeof out->detail, err) != 0)
        return -1;
    if (!out->priority[0])
        snprintf(out->priority, sizeof out->priority, "normal");
    if (kf_phone_normalise(raw_phone, out->phone) != 0)
        return kf_error_set(err, KF_E_BAD_VALUE, "phone", "phone must be " KF_PHONE_RULE);
    return 0;
}

/* Reads an owner's phone (required or not) as submit takes it and
   normalises it into out; "" when absent and optional. */
static int s_get_phone(const msgpack_object *body, bool required, char out[KF_PHONE_MAX],
                       kf_error_t *err)
{
    char raw[KF_LIM_PHONE + 1];
    out[0] = '\0';
    int rc = required ? kf_get_text(body, "phone", true, raw, sizeof raw, err)
                      : kf_get_str(body, "phone", false, raw, sizeof raw, err);
    if (rc < 0)
        return -1;
    if (!required && !raw[0])
        return 0;
    if (kf_phone_normalise(raw, out) != 0)
        return kf_error_set(err, KF_E_BAD_VALUE, "phone",
                            "phone must be 5 to 15 digits (an 11-digit mobile starts with 1)");
    return 0;
}

bool req_date_valid(const char *text)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)text[i]))
            return false;
    int year = atoi(text), month = atoi(text + 5), day = atoi(text + 8);
    if (year < 1970 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

/* Reads since or until: an integer of ms, or a date 'YYYY-MM-DD'. */
static int s_get_bound(const msgpack_object *body, const char *key, req_bound_t *out,
                       kf_error_t *err)
{
    out->ms = -1;
    out->date[0] = '\0';
    const msgpack_object *obj = kf_map_get(body, key);
    if (!obj || obj->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
        obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return kf_get_int(body, key, true, 0, REQ_MS_MAX, &out->ms, err) < 0 ? -1 : 0;
    if (obj->type != MSGPACK_OBJECT_STR)
        return kf_error_set(err, KF_E_WRONG_TYPE, key,
                            "%s must be milliseconds since the epoch or a date 'YYYY-MM-DD'", key);
    char text[16];
    if (kf_get_str(body, key, true, text, sizeof text, err) < 0 || !req_date_valid(text))
        return kf_error_set(err, KF_E_BAD_VALUE, key,
                            "%s must be a date 'YYYY-MM-DD' (a real one, year 1970-9999) or "
                            "milliseconds since the epoch",
                            key);
    memcpy(out->date, text, sizeof out->date); /* 10 bytes and the NUL */
    return 0;
}

/* The largest received_us a cursor may hold: the end of year 9999. */
#define S_CURSOR_US_MAX (REQ_MS_MAX * 1000 + 999)

void req_cursor_format(const req_cursor_t *cursor, char *buf, size_t size)
{
    snprintf(buf, size, "%lld.%lld", (long long)cursor->received_us, (long long)cursor->id);
}

/* Reads 1 to 19 decimal digits at *p up to stop into out, moving *p
   past them; -1 unless the digits are all there is before stop. */
static int s_cursor_part(const char **p, char stop, int64_t *out)
{
    size_t n = strspn(*p, "0123456789");
    if (n == 0 || n > 19 || (*p)[n] != stop)
        return -1;
    char digits[20];
    memcpy(digits, *p, n);
    digits[n] = '\0';
    errno = 0;
    unsigned long long value = strtoull(digits, NULL, 10);
    if (errno != 0 || value > INT64_MAX)
        return -1;
    *out = (int64_t)value;
    *p += n + (stop ? 1 : 0);
    return 0;
}

int req_cursor_parse(const char *text, req_cursor_t *out)
{
    req_cursor_t cursor = {0, 0};
    const char *p = text;
    if (s_cursor_part(&p, '.', &cursor.received_us) != 0 ||
        s_cursor_part(&p, '\0', &cursor.id) != 0 || cursor.received_us > S_CURSOR_US_MAX ||
        cursor.id < 1)
        return -1;
    *out = cursor;
    return 0;
}

/* The length of the word separator at p (ASCII white space: 1, the
   ideographic space U+3000: 3), or 0 when p starts no separator. */
static size_t s_separator(const char *p)
{
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
        return 1;
    return strncmp(p, "\xe3\x80\x80", 3) == 0 ? 3 : 0; /* stops at a NUL */
}

int req_q_patterns(const char *q, char *out, size_t size)
{
    size_t used = 0;
    int words = 0;
    const char *p = q;
    if (size == 0)
        return -1;
    out[0] = '\0';
    while (*p) {
        size_t sep = s_separator(p);
        if (sep) {
            p += sep;
            continue;
        }
        if (++words > KF_LIM_Q_WORDS || used + 2 > size)
            return -1;
        if (used)
            out[used - 1] = ' '; /* the NUL of the previous word */
        out[used++] = '%';
        for (; *p && !s_separator(p); p++) {
            bool special = *p == '%' || *p == '_' || *p == '\\';
            if (used + (special ? 2 : 1) + 2 > size)
                return -1;
            if (special)
                out[used++] = '\\';
            out[used++] = *p;
        }
        out[used++] = '%';
        out[used++] = '\0';
    }
    return words;
}

/* Reads q, words to look for, into patterns (REQ_PATTERNS_MAX bytes). */
static int s_get_q(const msgpack_object *body, char patterns[REQ_PATTERNS_MAX], kf_error_t *err)
{
    char q[KF_LIM_Q + 1];
    if (s_get_opt(body, "q", q, sizeof q, err) != 0)
        return -1;
    if (req_q_patterns(q, patterns, REQ_PATTERNS_MAX) < 0)
        return kf_error_set(err, KF_E_BAD_VALUE, "q",
                            "q holds more than %d words; give fewer, the most telling ones",
                            KF_LIM_Q_WORDS);
    return 0;
}

int req_parse_list(const msgpack_object *body, list_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->limit = KF_LIM_LIST_DEFAULT;
    char cursor[REQ_CURSOR_MAX + 1];
    if (s_get_enum_opt(body, "status", kf_statuses, out->status, sizeof out->status, err) != 0 ||
        s_get_opt(body, "owner", out->owner, sizeof out->owner, err) != 0 ||
        s_get_opt(body, "project", out->project, sizeof out->project, err) != 0 ||
        s_get_enum_opt(body, "kind", kf_kinds, out->kind, sizeof out->kind, err) != 0 ||
        s_get_opt(body, "department", out->department, sizeof out->department, err) != 0 ||
        s_get_enum_opt(body, "state", kf_queue_state_names, out->state, sizeof out->state, err) !=
            0 ||
        s_get_phone(body, false, out->phone, err) != 0 ||
        s_get_opt(body, "no", out->no, sizeof out->no, err) != 0 ||
        s_get_q(body, out->patterns, err) != 0 ||
        s_get_bound(body, "since", &out->since, err) != 0 ||
        s_get_bound(body, "until", &out->until, err) != 0 ||
        s_get_opt(body, "cursor", cursor, sizeof cursor, err) != 0 ||
        kf_get_int(body, "limit", false, 1, REQ_LIST_MAX, &out->limit, err) < 0)
        return -1;
    if (cursor[0] && req_cursor_parse(cursor, &out->cursor) != 0)
        return kf_error_set(err, KF_E_BAD_VALUE, "cursor",
                            "cursor is not one intake gave: pass a reply's `next` back unchanged");
    bool both_ms = out->since.ms >= 0 && out->until.ms >= 0;
    bool both_dates = out->since.date[0] && out->until.date[0];
    if ((both_ms && out->since.ms >= out->until.ms) ||
        (both_dates && strcmp(out->since.date, out->until.date) >= 0))
        return kf_error_set(err, KF_E_BAD_VALUE, "until",
                            "the range [since, until) is empty: until must come after since");
    return 0;
}

bool req_staff_id_valid(const char *text)
{
    size_t len = strlen(text);
    return len >= 1 && len <= KF_LIM_STAFF && text[0] >= 'a' && text[0] <= 'z' &&
           strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

int req_parse_staff(const msgpack_object *body, staff_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->limit = KF_LIM_LIST_DEFAULT;
    if (s_get_q(body, out->patterns, err) != 0 ||
        s_get_opt(body, "department", out->department, sizeof out->department, err) != 0 ||
        s_get_enum_opt(body, "role", kf_roles, out->role, sizeof out->role, err) != 0 ||
        s_get_opt(body, "cursor", out->after, sizeof out->after, err) != 0 ||
        kf_get_int(body, "limit", false, 1, REQ_LIST_MAX, &out->limit, err) < 0)
        return -1;
    if (out->after[0] && !req_staff_id_valid(out->after))
        return kf_error_set(err, KF_E_BAD_VALUE, "cursor",
                            "cursor is not one intake gave: pass a reply's `next` back unchanged");
    return 0;
}

int req_parse_owner(const msgpack_object *body, owner_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    return s_get_phone(body, true, out->phone, err);
}

int req_parse_action(const char *type, const msgpack_object *body, action_req_t *out,
                     kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (kf_get_text(body, "ticket", true, out->ticket, sizeof out->ticket, err) < 0)
        return -1;
    if (strcmp(type, "ticket.show") != 0 &&
        kf_get_text(body, "idem", false, out->idem, sizeof out->idem, err) < 0)
        return -1;
    if (strcmp(type, "ticket.transfer") == 0)
        return kf_get_text(body, "to", true, out->to, sizeof out->to, err) < 0 ||
                       kf_get_text(body, "reason", true, out->reason, sizeof out->reason, err) < 0
                   ? -1
                   : 0;
    if (strcmp(type, "ticket.respond") == 0 || strcmp(type, "ticket.resolve") == 0)
        return s_get_opt(body, "note", out->note, sizeof out->note, err);
    return 0;
}
