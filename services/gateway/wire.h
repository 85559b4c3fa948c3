/* kefu-gateway — the wire side: one DEALER per daemon (intake, approval,
   survey), each a CurveZMQ client with the gateway's certificate, made
   anew when a daemon refused its handshake; requests in flight by id, each
   with its deadline. Never blocks: a request is queued and its reply (or
   its deadline) comes back through the loop. */
#ifndef GW_WIRE_H
#define GW_WIRE_H

#include <czmq.h>

#include "config.h"
#include "envelope.h"
#include "pollset.h"

typedef struct gw_wire gw_wire_t;

/* Connects to KEFU_INTAKE, KEFU_APPROVAL and KEFU_SURVEY with the
   certificate KEFU_GATEWAY_CERT; timeout_ms is each request's deadline.
   NULL with err when a setting or the certificate is wrong. */
gw_wire_t *gw_wire_new(const kf_setting_t *settings, int timeout_ms, kf_error_t *err);
void gw_wire_destroy(gw_wire_t **self_p);

/* Adds the sockets to the loop's set. Before every wait: gw_wire_tick may
   replace them. */
void gw_wire_attach(gw_wire_t *self, kf_pollset_t *set);

/* After every wait: takes the handshake events set's wait found, and
   replaces a socket whose handshake failed once its back-off is over. */
void gw_wire_tick(gw_wire_t *self, const kf_pollset_t *set);

/* Sends message with *body_p (taken) in session on behalf of arg, which
   the reply or the deadline hands back. 0, or -1 when it cannot be
   queued. */
int gw_wire_send(gw_wire_t *self, const char *message, const char *session, kf_body_t **body_p,
                 void *arg);

/* When one of the sockets was ready at set's last wait, takes one message
   from the first such and returns true; *arg_p is the arg of the request
   it answers (NULL for a stale or broken reply) and *reply_p the decoded
   reply. */
bool gw_wire_recv(gw_wire_t *self, const kf_pollset_t *set, void **arg_p, kf_env_t **reply_p);

/* The arg of one request whose deadline is at or before now (zclock_mono;
   INT64_MAX: any request), forgotten; or NULL. */
void *gw_wire_expired(gw_wire_t *self, int64_t now);

/* Milliseconds to the nearest deadline or replacement, at most max_ms. */
int gw_wire_wait_ms(gw_wire_t *self, int max_ms);

#endif
