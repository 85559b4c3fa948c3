/* kefu — who is at the other end of a client socket: CurveZMQ certificates.

   Every client socket (intake, approval, kefu-survey) is a CURVE server.
   A client presents a certificate that an operator issued to one staff
   member (`kefu-admin cert STAFF --out FILE`, table staff_cert); the
   daemon takes the actor from the key, never from the request:
   - at the handshake, the ZAP handler (a thread of the daemon with its own
     store connection) admits only a registered, unrevoked key of an active
     staff member, and gives the connection the key (z85) as its User-Id;
   - on every request, kf_request_recv copies that key into req->key and
     the daemon looks the actor up again in the statement that does the
     work (kf_auth_actor, or its own join on staff_cert), so a revoked
     certificate stops working at once, also on a connection that is open.

   Why not czmq's zauth actor: its CURVE check reads public keys from a
   directory (or admits any key), one per host; kefu's registry is the
   store, shared by every instance on every host, where issuing and
   revoking are transactions and take effect at once. The handler here
   speaks the same ZAP protocol (RFC 27) that zauth implements.

   A certificate file is czmq's zcert format holding both keys (mode 0600).
   A client's also carries metadata: "staff" (whom it was issued to) and
   "server-key" (the public key of the daemons' certificate), so a client
   needs one file and nothing else. */
#ifndef KF_AUTH_H
#define KF_AUTH_H

#include <czmq.h>
#include <stdbool.h>

#include "auth_client.h"
#include "config.h"
#include "kf_error.h"
#include "store.h"

/* The daemons' certificate, for a daemon's settings table. */
#define KF_SETTINGS_CURVE                                                                          \
    KF_SET_PATH("KEFU_CURVE_CERT", "/etc/kefu/server.cert",                                        \
                "the daemons' CurveZMQ certificate, secret key included (kefu-admin server-cert)")

typedef struct kf_auth kf_auth_t;

/* Loads the certificate named by KEFU_CURVE_CERT in table and starts the
   ZAP handler, which checks keys against the store at KEFU_DATABASE_URL.
   Returns NULL after printing what is wrong (no such file, no secret key,
   the handler cannot start): the daemon then exits 1. One per process. */
kf_auth_t *kf_auth_new(const kf_setting_t *table, const char *app_name);
void kf_auth_destroy(kf_auth_t **self_p);

/* Makes sock a CURVE server with the certificate; call before binding. */
void kf_auth_serve(kf_auth_t *self, zsock_t *sock);

/* Registers the statement kf_auth_actor uses; call where the daemon
   registers its own statements. */
void kf_auth_prepare(kf_store_t *store);

/* Looks the holder of key up: their staff id into staff (at least 65
   bytes) and role into role (at least 16 bytes; may be NULL). Returns 0,
   or -1 with err: unknown_actor (no key, not registered, revoked, or the
   staff member is inactive), or the store's error. */
int kf_auth_actor(kf_store_t *store, const char *key, char *staff, char *role, kf_error_t *err);

/* The role of staff member id into role (size bytes) when they are active.
   Returns 0, or -1 with err: unknown_actor (field actor) when id is not
   active staff, or the store's error. */
int kf_auth_role(kf_store_t *store, const char *id, char *role, size_t size, kf_error_t *err);

#endif
