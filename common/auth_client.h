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

#endif
