/* kefu — requests and replies over a ROUTER socket (the bus: bus.h). */
#ifndef KF_SOCK_H
#define KF_SOCK_H

#include <czmq.h>

#include "auth.h"
#include "envelope.h"
#include "feed.h"

/* A request taken off a ROUTER socket: the routing frames to answer on
   and the decoded envelope (NULL when it did not decode, with err). */
typedef struct {
    zmsg_t *route; /* identity, plus the empty delimiter of a REQ peer */
    kf_env_t *env;
    kf_error_t err;
    char key[KF_CRED_MAX + 1]; /* the peer's CURVE key (z85), "" without one, or
                                  "KEY SESSION" when the envelope carries a
                                  session (kf_cred_compose, auth.h) */
    char id[KF_MAX_ID + 1];    /* the request's id, also when env is NULL but the id
                                  could be read (kf_env_peek_id); "" otherwise */
    int64_t arrived;           /* when it was taken off the socket (zclock_usecs) */
} kf_request_t;

/* Receives one request from a ROUTER socket. Returns 0 (req->env may be
   NULL when the frames were bad or the session is not a token's shape,
   req->err says why), -1 when interrupted. */
int kf_request_recv(zsock_t *router, kf_request_t *req);
void kf_request_clear(kf_request_t *req);

/* Replies reply.ok with body (ownership taken; NULL for empty). Every
   reply's corr is req->id. */
int kf_reply_ok(zsock_t *router, kf_request_t *req, const char *src, kf_body_t **body_p);
/* Replies reply.error with {code, message, field}. */
int kf_reply_error(zsock_t *router, kf_request_t *req, const char *src, const kf_error_t *err);

/* On stop: answers `unavailable` ("NAME is stopping; retry") to the
   requests that arrived on router but were not taken, so that their
   clients retry at once (another instance, or this one restarted)
   instead of waiting for their timeout. Returns how many. */
int kf_turn_away(zsock_t *router, const char *src, const char *name);

#endif
