/* kefu-gateway — the small pure pieces of sign-in: the session token, the
   session cookie and the CSRF token bound to a session. No I/O; libsodium
   for randomness and hashing. (The rules of a new password are
   kf_password_check, common/auth.h, shared with kefu-admin passwd.) */
#ifndef GW_SECRET_H
#define GW_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h" /* KF_PASSWORD_MAX */
#include "token.h"

#define GW_COOKIE "kefu_session"
#define GW_TOKEN_SIZE (KF_TOKEN_CHARS + 1) /* a session token (token.h) and its NUL */
#define GW_CSRF_SIZE 44                    /* base64url of an HMAC-SHA256 (43) and its NUL */

/* Initialises libsodium; -1 when it cannot be. */
int gw_secret_init(void);

/* Copies the kefu_session cookie's value from a Cookie header into token:
   true when present and shaped like a token (43 base64url characters). */
bool gw_cookie_token(const char *header, char token[GW_TOKEN_SIZE]);

/* The CSRF token of a session: base64url(HMAC-SHA256 keyed by SHA-256 of
   the session token, over "kefu-csrf-v1"). */
void gw_csrf(const char *token, char csrf[GW_CSRF_SIZE]);

/* True when given (may be NULL) equals the session's CSRF token (in
   constant time). */
bool gw_csrf_ok(const char *token, const char *given);

#endif
