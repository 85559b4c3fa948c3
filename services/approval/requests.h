/* approval — decoding kefu-approval's requests into plain structs (pure,
   no I/O). Fields and limits are those of proto/catalog.md, section
   "Approvals". Who acts is never in a body: it is the holder of the
   connection's certificate (common/auth.h). */
#ifndef APPROVAL_REQUESTS_H
#define APPROVAL_REQUESTS_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "kf_error.h"

#define AREQ_TICKET_MAX 32
#define AREQ_AMOUNT_MAX 20
#define AREQ_REASON_MAX 500
#define AREQ_POLICY_MAX 32
#define AREQ_IDEM_MAX 64
#define AREQ_COMMENT_MAX 1000
#define AREQ_STAFF_MAX 64
#define AREQ_LIST_MAX 100
#define AREQ_LIST_DEFAULT 50
#define AREQ_DELEGATE_MAX_MS (INT64_C(366) * 86400 * 1000) /* a delegation's longest period */

/* The request types of approval.request. */
extern const char *const areq_types[];

/* approval.request: open a request on a ticket. */
typedef struct {
    char ticket[AREQ_TICKET_MAX + 1];
    char type[24];                    /* one of areq_types */
    int64_t amount_fen;               /* from `amount`, yuan text */
    char reason[AREQ_REASON_MAX + 1]; /* not blank */
    char promised[11];                /* YYYY-MM-DD */
    char policy[AREQ_POLICY_MAX + 1]; /* "" for the type's default */
    char idem[AREQ_IDEM_MAX + 1];     /* "" when not given */
    bool allow_past;                  /* a promised date already past is meant */
} areq_open_t;

/* approval.decide: approve or reject. */
typedef struct {
    int64_t request;
    int64_t step;                       /* 0 when not given */
    char outcome[8];                    /* approve or reject */
    char comment[AREQ_COMMENT_MAX + 1]; /* required (not blank) to reject */
} areq_decide_t;

/* delegate.set: the actor's delegate during [from_ms, to_ms). */
typedef struct {
    char delegate[AREQ_STAFF_MAX + 1];
    int64_t from_ms, to_ms;
} areq_delegate_t;

/* approval.reassign: move a pending step to someone else, with a reason. */
typedef struct {
    int64_t step;
    char to[AREQ_STAFF_MAX + 1];
    char reason[AREQ_REASON_MAX + 1]; /* not blank */
} areq_reassign_t;

/* Each returns 0, or -1 with err naming the field and what is wrong. */
int areq_parse_open(const msgpack_object *body, areq_open_t *out, kf_error_t *err);
int areq_parse_list(const msgpack_object *body, int64_t *limit, kf_error_t *err);
int areq_parse_show(const msgpack_object *body, int64_t *request, kf_error_t *err);
int areq_parse_decide(const msgpack_object *body, areq_decide_t *out, kf_error_t *err);
int areq_parse_delegate(const msgpack_object *body, areq_delegate_t *out, kf_error_t *err);
int areq_parse_reassign(const msgpack_object *body, areq_reassign_t *out, kf_error_t *err);

#endif
