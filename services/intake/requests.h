/* intake — decoding client requests into plain structs (pure, no I/O).
   Limits and enumerations are those of proto/model.json (kf_model.h). */
#ifndef INTAKE_REQUESTS_H
#define INTAKE_REQUESTS_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_error.h"
#include "kf_model.h"
#include "phone.h"

#define REQ_ACTOR_MAX KF_LIM_STAFF

/* Who acts is never in a request: intake takes the actor from the key
   the request came with (common/auth.h) and fills actor itself. */
typedef struct {
    char idem[KF_LIM_IDEM + 1]; /* "" when absent */
    char kind[KF_SIZE_KIND];
    char category[KF_SIZE_CATEGORY];
    char channel[KF_SIZE_CHANNEL];
    char priority[KF_SIZE_PRIORITY];
    char project[KF_LIM_PROJECT + 1];
    char building[KF_LIM_BUILDING + 1]; /* "" when absent */
    char unit[KF_LIM_UNIT + 1];
    char phone[KF_PHONE_MAX]; /* normalised */
    char name[KF_LIM_NAME + 1];
    char summary[KF_LIM_SUMMARY + 1];
    char detail[KF_LIM_DETAIL + 1];
} submit_req_t;

typedef struct {
    char actor[REQ_ACTOR_MAX + 1]; /* filled by intake from the request's key */
    char ticket[KF_LIM_TICKET + 1];
    char to[REQ_ACTOR_MAX + 1];     /* transfer */
    char reason[KF_LIM_REASON + 1]; /* transfer */
    char note[KF_LIM_NOTE + 1];     /* respond, resolve */
    char idem[KF_LIM_IDEM + 1];     /* respond, transfer, resolve; "" when none */
} action_req_t;

/* One end of a ticket.list time range: ms, or a date that the store turns
   into its local midnight (kefu.tz). Neither set: no bound. */
typedef struct {
    int64_t ms;    /* -1 when not given as ms */
    char date[11]; /* "YYYY-MM-DD", "" when not given as a date */
} req_bound_t;

/* Where a ticket.list page starts: after the ticket that came in at
   received_us (microseconds since the epoch) with internal id id. */
typedef struct {
    int64_t received_us;
    int64_t id; /* 0 when there is no cursor (the first page) */
} req_cursor_t;

#define REQ_LIST_MAX KF_LIM_LIST     /* tickets in one ticket.list page */
#define REQ_CURSOR_MAX KF_LIM_CURSOR /* bytes of a cursor on the wire */
#define REQ_MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

/* Bytes of q's words as ILIKE patterns: each byte escaped at worst, each
   word wrapped in % and followed by a space, and the NUL. */
#define REQ_PATTERNS_MAX (2 * KF_LIM_Q + 3 * KF_LIM_Q_WORDS + 1)

typedef struct {
    char status[KF_SIZE_STATUS];
    char owner[REQ_ACTOR_MAX + 1];
    char project[KF_LIM_PROJECT + 1];
    char kind[KF_SIZE_KIND];
    char department[KF_LIM_STAFF + 1]; /* the owners' department, "" when absent */
    char state[KF_SIZE_QUEUE_STATE];   /* queue_state, "" when absent */
    char phone[KF_PHONE_MAX];          /* normalised, "" when absent */
    char no[KF_LIM_TICKET + 1];        /* the ticket number, "" when absent */
    char patterns[REQ_PATTERNS_MAX];   /* q as ILIKE patterns, "" when absent */
    req_bound_t since;                 /* included */
    req_bound_t until;                 /* excluded */
    req_cursor_t cursor;
    int64_t limit;
} list_req_t;

/* owner.show: the owner found by phone. */
typedef struct {
    char phone[KF_PHONE_MAX]; /* normalised */
} owner_req_t;

/* staff.list: active staff by filters, a page at a time by staff id. */
typedef struct {
    char patterns[REQ_PATTERNS_MAX];   /* q as ILIKE patterns, "" when absent */
    char department[KF_LIM_STAFF + 1]; /* "" when absent */
    char role[KF_SIZE_ROLE];           /* "" when absent */
    char after[KF_LIM_CURSOR + 1];     /* the last staff id of the previous page, "" at first */
    int64_t limit;
} staff_req_t;

/* Each returns 0, or -1 with err naming the field and what is wrong. */
int req_parse_submit(const msgpack_object *body, submit_req_t *out, kf_error_t *err);
int req_parse_list(const msgpack_object *body, list_req_t *out, kf_error_t *err);
int req_parse_owner(const msgpack_object *body, owner_req_t *out, kf_error_t *err);
int req_parse_staff(const msgpack_object *body, staff_req_t *out, kf_error_t *err);
/* Parses ticket.show/respond/transfer/resolve; type says which fields apply. */
int req_parse_action(const char *type, const msgpack_object *body, action_req_t *out,
                     kf_error_t *err);

/* Writes the cursor of the page after a row (as ticket.list's `next`)
   into buf (REQ_CURSOR_MAX + 1 bytes); req_cursor_parse reads it back.
   The text is opaque to clients: they pass it back unchanged. */
void req_cursor_format(const req_cursor_t *cursor, char *buf, size_t size);
int req_cursor_parse(const char *text, req_cursor_t *out);

/* True when text could be a staff id (a staff.list cursor is the last id
   of a page): a lower-case letter, then lower-case letters, digits, '.',
   '_' or '-', at most KF_LIM_STAFF bytes in all (001_organisation.sql). */
bool req_staff_id_valid(const char *text);

/* Splits q into its words (separated by ASCII white space or the
   ideographic space U+3000) and writes each as an ILIKE pattern that finds
   it anywhere, literally (%word%, each backslash, % and _ escaped by a
   backslash),
   separated by single spaces, into out (REQ_PATTERNS_MAX bytes for a q of
   at most KF_LIM_Q bytes). Returns the number of words (0 when q is
   blank), or -1 when there are more than KF_LIM_Q_WORDS or out is too
   small. */
int req_q_patterns(const char *q, char *out, size_t size);

/* True when text is a real date "YYYY-MM-DD" of years 1970-9999. */
bool req_date_valid(const char *text);

#endif
