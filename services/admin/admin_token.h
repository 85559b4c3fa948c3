/* kefu-admin — integration tokens (`kefu-admin token`, migration 020,
   proto/security.md): their format, apart from the store so that
   tests/unit can check it. A token is "kit_" and the 43 characters of
   base64url (no padding) of 32 random bytes: 47 characters of
   [A-Za-z0-9_-], which also has the shape of a web session token
   (kf_session_token_ok), so it travels as the envelope's "session". */
#ifndef KF_ADMIN_TOKEN_H
#define KF_ADMIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define ADM_TOKEN_PREFIX "kit_"
#define ADM_TOKEN_BYTES 32 /* random bytes */
#define ADM_TOKEN_LEN 47   /* characters: the prefix and 43 of base64url */

/* The token of bytes (ADM_TOKEN_BYTES) into out (ADM_TOKEN_LEN + 1). */
void adm_token_encode(const unsigned char *bytes, char *out);

/* A new random token into out (ADM_TOKEN_LEN + 1). Returns 0, or -1 when
   libsodium cannot start. */
int adm_token_new(char *out);

/* Whether text has the shape of a token (not whether one exists). */
bool adm_token_ok(const char *text);

/* Whether name may name a token: [a-z][a-z0-9._-]{0,63}. */
bool adm_token_name_ok(const char *name);

/* Adds scope (calls or submit) to the set in *scopes (ADM_SCOPE_* bits).
   Returns 0, or -1 when scope is neither. */
enum { ADM_SCOPE_CALLS = 1, ADM_SCOPE_SUBMIT = 2 };
int adm_token_scope(const char *scope, unsigned *scopes);

/* The scopes as a PostgreSQL array literal ("{calls,submit}") into out. */
void adm_token_scopes_sql(unsigned scopes, char *out, size_t size);

#endif
