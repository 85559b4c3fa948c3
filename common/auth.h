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

   A web session (kefu-gateway, proto/security.md): a request that a
   gateway sends for a signed-in person carries the session token in the
   envelope's "session" key. kf_request_recv then makes req->key the
   credential "GATEWAYKEY TOKEN" (kf_cred_compose), which kefu_key_actor
   resolves to the session's staff member only when GATEWAYKEY is a
   registered, unrevoked gateway key and the session is open; the gateway's
   key alone is no one, and the same session over a staff certificate is no
   one either. The ZAP handler admits gateway keys (kefu_key_admitted).

   A certificate file is czmq's zcert format holding both keys (mode 0600).
   A client's also carries metadata: "staff" (whom it was issued to) and
   "server-key" (the public key of the daemons' certificate), so a client
   needs one file and nothing else. A gateway's carries "gateway" (its name
   in table gateway_key) instead of "staff". */
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

/* A web session token: 16-64 characters of base64url ([A-Za-z0-9_-]); the
   gateway makes 43 (32 random bytes). */
#define KF_SESSION_MIN 16
#define KF_SESSION_MAX 64
/* A request's credential (req->key): a CURVE key, or "KEY TOKEN". */
#define KF_CRED_MAX (KF_KEY_MAX + 1 + KF_SESSION_MAX)

/* Whether token has the shape of a session token (it says nothing of
   whether such a session exists). */
bool kf_session_token_ok(const char *token);

/* The credential of a request into cred (at least KF_CRED_MAX + 1 bytes):
   key alone without a session, "KEY SESSION" with one, "" without a key
   (no certificate: no one, whatever the session). Returns 0, or -1 with
   err bad_value (field session) when session is not a token's shape. */
int kf_cred_compose(char *cred, size_t size, const char *key, const char *session, kf_error_t *err);

/* The rules of a staff password (kefu-admin passwd, the gateway's change
   of password): valid UTF-8, at least KF_PASSWORD_MIN characters, at most
   KF_PASSWORD_MAX bytes, not the staff id itself. Returns 0, or -1 with
   err (field password): bad_utf8, or bad_value saying which rule. */
#define KF_PASSWORD_MIN 10  /* characters */
#define KF_PASSWORD_MAX 128 /* bytes */
int kf_password_check(const char *staff, const char *password, kf_error_t *err);

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

/* Looks the holder of key (a credential, KF_CRED_MAX) up: their staff id into staff (at least 65
   bytes) and role into role (at least 16 bytes; may be NULL). Returns 0,
   or -1 with err: unknown_actor (no key, not registered, revoked, the
   staff member is inactive, or the session is not open), or the store's
   error. */
int kf_auth_actor(kf_store_t *store, const char *key, char *staff, char *role, kf_error_t *err);

/* The role of staff member id into role (size bytes) when they are active.
   Returns 0, or -1 with err: unknown_actor (field actor) when id is not
   active staff, or the store's error. */
int kf_auth_role(kf_store_t *store, const char *id, char *role, size_t size, kf_error_t *err);

#endif
