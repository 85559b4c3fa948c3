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
#include "kf_model.h"

/* The limits (KF_LIM_*) and the request types of approval.request
   (kf_request_types) are generated from proto/model.json. */
#define AREQ_DELEGATE_MAX_MS (INT64_C(86400000) * KF_LIM_DELEGATE_DAYS) /* longest delegation */

/* approval.request: open a request on a ticket. */
typedef struct {
    char ticket[KF_LIM_TICKET + 1];
    char type[KF_SIZE_REQUEST_TYPE]; /* one of kf_request_types */
    int64_t amount_fen;              /* from `amount`, yuan text */
    char reason[KF_LIM_REASON + 1];  /* not blank */
    char promised[KF_LIM_DATE + 1];  /* YYYY-MM-DD */
    char policy[KF_LIM_POLICY + 1];  /* "" for the type's default */
    char idem[KF_LIM_IDEM + 1];      /* "" when not given */
    bool allow_past;                 /* a promised date already past is meant */
} areq_open_t;

/* approval.decide: approve or reject. */
typedef struct {
    int64_t request;
    int64_t step;                     /* 0 when not given */
    char outcome[KF_SIZE_DECISION];   /* approve or reject */
    char comment[KF_LIM_COMMENT + 1]; /* required (not blank) to reject */
    char idem[KF_LIM_IDEM + 1];       /* the idempotency key, "" when not given */
} areq_decide_t;

/* delegate.set: the actor's delegate during [from_ms, to_ms). */
typedef struct {
    char delegate[KF_LIM_STAFF + 1];
    int64_t from_ms, to_ms;
    char idem[KF_LIM_IDEM + 1]; /* the idempotency key, "" when not given */
} areq_delegate_t;

/* approval.reassign: move a pending step to someone else, with a reason. */
typedef struct {
    int64_t step;
    char to[KF_LIM_STAFF + 1];
    char reason[KF_LIM_REASON + 1]; /* not blank */
    char idem[KF_LIM_IDEM + 1];     /* the idempotency key, "" when not given */
} areq_reassign_t;

/* Each returns 0, or -1 with err naming the field and what is wrong. */
int areq_parse_open(const msgpack_object *body, areq_open_t *out, kf_error_t *err);
int areq_parse_list(const msgpack_object *body, int64_t *limit, kf_error_t *err);
int areq_parse_show(const msgpack_object *body, int64_t *request, kf_error_t *err);
int areq_parse_decide(const msgpack_object *body, areq_decide_t *out, kf_error_t *err);
int areq_parse_delegate(const msgpack_object *body, areq_delegate_t *out, kf_error_t *err);
int areq_parse_reassign(const msgpack_object *body, areq_reassign_t *out, kf_error_t *err);

#endif
