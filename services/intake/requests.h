/* intake — decoding client requests into plain structs (pure, no I/O).
   Limits are those of proto/catalog.md. */
#ifndef INTAKE_REQUESTS_H
#define INTAKE_REQUESTS_H

#include <msgpack.h>
#include <stdint.h>

#include "kf_error.h"
#include "phone.h"

#define REQ_ACTOR_MAX 64

/* Who acts is never in a request: intake takes the actor from the key
   the request came with (common/auth.h) and fills actor itself. */
typedef struct {
    char idem[65]; /* "" when absent */
    char kind[16];
    char category[24];
    char channel[16];
    char priority[8];
    char project[33];
    char building[17]; /* "" when absent */
    char unit[17];
    char phone[KF_PHONE_MAX]; /* normalised */
    char name[65];
    char summary[201];
    char detail[4001];
} submit_req_t;

typedef struct {
    char actor[REQ_ACTOR_MAX + 1]; /* filled by intake from the request's key */
    char ticket[33];
    char to[REQ_ACTOR_MAX + 1]; /* transfer */
    char reason[501];           /* transfer */
    char note[2001];            /* respond, resolve */
} action_req_t;

typedef struct {
    char status[16];
    char owner[REQ_ACTOR_MAX + 1];
    char project[33];
    char kind[16];
    int64_t limit;
} list_req_t;

/* Each returns 0, or -1 with err naming the field and what is wrong. */
int req_parse_submit(const msgpack_object *body, submit_req_t *out, kf_error_t *err);
int req_parse_list(const msgpack_object *body, list_req_t *out, kf_error_t *err);
/* Parses ticket.show/respond/transfer/resolve; type says which fields apply. */
int req_parse_action(const char *type, const msgpack_object *body, action_req_t *out,
                     kf_error_t *err);

#endif
