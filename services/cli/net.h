/* kefu client — one request/reply exchange with intake over a DEALER
   socket: send [type, envelope], wait with a deadline, keep only the reply
   whose corr names a request sent on this connection.

   What the CurveZMQ handshake tells (proto/security.md): only a daemon's
   refusal of the certificate (ZAP status 400) is final. A daemon that
   could not check it (ZAP 500) is temporary, and so is a connection that
   closes before its handshake completes: the daemon may be restarting
   (ZeroMQ reconnects by itself), or the certificate names another
   server's key, which the daemon shows only by closing. */
#ifndef KF_CLI_NET_H
#define KF_CLI_NET_H

#include "envelope.h"

typedef struct net net_t;

/* How a call ended. */
typedef enum {
    NET_REPLY,     /* *reply_p holds the decoded reply */
    NET_TIMEOUT,   /* nothing matching arrived before the deadline */
    NET_BAD_REPLY, /* a reply arrived that does not decode; err says why */
    NET_FAILED,    /* the request could not be sent; err says why */
    NET_REFUSED,   /* the daemon refused the certificate (unknown_actor) or could not
                      check it (unavailable) at the handshake; err says which */
    NET_DROPPED    /* the deadline passed with no connection up, after connections
                      closed during the handshake; err (unavailable) says how often */
} net_status_t;

/* Connects a DEALER (linger 0) to endpoint (or to each of a comma-separated
   list of instances, any of which may answer) as a CURVE client with the
   certificate in cert (common/auth.h). Returns NULL with err filled when
   the endpoint is not valid or the certificate cannot be used. */
net_t *net_new(const char *endpoint, const char *cert, kf_error_t *err);
void net_destroy(net_t **self_p);

/* Sends a request of type with body (ownership taken) and corr (may be
   NULL), then waits up to timeout_ms for its reply. A reply to an earlier
   request on the same connection also counts: a retry resends the same
   request, so its first answer is as good as the second. With resend (a
   request that is safe to repeat, such as a submit with its idempotency
   key), a request that may have gone down with a connection is sent again,
   unchanged, as soon as a new handshake succeeds, rather than waiting for
   the deadline. */
net_status_t net_call(net_t *self, const char *type, const char *corr, kf_body_t **body_p,
                      bool resend, int timeout_ms, kf_env_t **reply_p, kf_error_t *err);

#endif
