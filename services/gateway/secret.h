/* kefu-gateway — the small pure pieces of sign-in: the session token, the
   session cookie, the CSRF token bound to a session, and the rules a new
   password must meet. No I/O; libsodium for randomness and hashing. */
#ifndef GW_SECRET_H
#define GW_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "kf_error.h"

#define GW_COOKIE "kefu_session"
#define GW_TOKEN_SIZE 44    /* base64url of 32 bytes (43) and its NUL */
#define GW_CSRF_SIZE 44     /* base64url of an HMAC-SHA256 (43) and its NUL */
#define GW_PASSWORD_MIN 10  /* characters (code points) of a password, at least */
#define GW_PASSWORD_MAX 128 /* bytes of a password, at most */

/* Initialises libsodium; -1 when it cannot be. */
int gw_secret_init(void);

/* A new session token: 32 random bytes as base64url without padding. */
void gw_token_new(char token[GW_TOKEN_SIZE]);

/* Copies the kefu_session cookie's value from a Cookie header into token:
   true when present and shaped like a token (43 base64url characters). */
bool gw_cookie_token(const char *header, char token[GW_TOKEN_SIZE]);

/* The CSRF token of a session: base64url(HMAC-SHA256 keyed by SHA-256 of
   the session token, over "kefu-csrf-v1"). */
void gw_csrf(const char *token, char csrf[GW_CSRF_SIZE]);

/* True when given (may be NULL) equals the session's CSRF token (in
   constant time). */
bool gw_csrf_ok(const char *token, const char *given);

/* Whether password may be staff's new one: valid UTF-8 without control
   characters, at least GW_PASSWORD_MIN characters, at most
   GW_PASSWORD_MAX bytes, not the staff id. 0, or -1 with err (bad_value,
   too_long or bad_utf8, field "new"). The same rules as kefu-admin passwd
   (to be made one function when both are merged). */
int gw_password_check(const char *staff, const char *password, kf_error_t *err);

#endif
