/* kefu — certificates on the client's side (auth.h says how kefu uses
   CurveZMQ): loading a certificate file and making a socket a CURVE client
   with it. Needs no store, so the wire-only kefu client links it alone. */
#ifndef KF_AUTH_CLIENT_H
#define KF_AUTH_CLIENT_H

#include <czmq.h>

#include "kf_error.h"

#define KF_KEY_MAX 40 /* a z85 public key */

/* The certificate at path with its secret key, or NULL with err (field
   cert) saying what is wrong; what names whose certificate it is. */
zcert_t *kf_cert_load(const char *path, const char *what, kf_error_t *err);

/* Client side: makes sock (before connecting) a CURVE client with the
   certificate in path, trusting the server key in its "server-key"
   metadata (or server_key when not NULL or empty: a z85 key). Returns 0,
   or -1 with err naming the file and what is wrong with it. */
int kf_auth_client(zsock_t *sock, const char *path, const char *server_key, kf_error_t *err);

/* Connects sock to each endpoint of a comma-separated list: several
   instances of one daemon (kefu-approval scaled out), of which any answers.
   With more than one, requests go only to instances connected now, so a
   dead one is passed over rather than queued for. Returns 0, or -1 with err
   (bad_value, field endpoint) naming an endpoint that cannot be used. */
int kf_connect_list(zsock_t *sock, const char *endpoints, kf_error_t *err);

/* ---- a client's handshakes ----------------------------------------------
   What became of a client socket's connections, from libzmq's monitor. A
   connection whose handshake failed (a ZAP refusal, a peer without CURVE)
   is given up by libzmq for good: it never connects to that endpoint again
   (seen with libzmq 4.3.4), so a client that must reach a daemon again
   watches for it. */

/* A PAIR receiving the events (ZMQ_EVENT_* bits in events) of sock's
   connections, or NULL. */
zsock_t *kf_monitor_new(zsock_t *sock, int events);

/* Stops sock's monitor and destroys *monitor_p (sock may be NULL). */
void kf_monitor_destroy(zsock_t *sock, zsock_t **monitor_p);

/* Reads one event from monitor: its ZMQ_EVENT_* id (0 when none could be
   read), its value (for a ZAP refusal, the status: 400 final, others
   temporary) and, when endpoint_p is not NULL, its endpoint (caller
   frees). */
int kf_monitor_event(zsock_t *monitor, uint32_t *value, char **endpoint_p);

#endif
