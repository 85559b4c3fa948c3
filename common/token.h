/* kefu — the random secrets people and machines present: web session
   tokens (the gateway's cookie) and integration tokens ("kit_...", kefu-admin
   token). A token is an optional prefix and the 43 base64url characters
   (no padding) of 32 random bytes; the store keeps only its SHA-256
   (proto/security.md). Every token has the shape kf_session_token_ok
   accepts, so each travels as the envelope's "session". */
#ifndef KF_TOKEN_H
#define KF_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define KF_TOKEN_BYTES 32    /* random bytes */
#define KF_TOKEN_CHARS 43    /* their base64url */
#define KF_KIT_PREFIX "kit_" /* an integration token's */
#define KF_KIT_LEN 47        /* an integration token's characters */

/* The token of bytes (KF_TOKEN_BYTES) after prefix into out
   (strlen(prefix) + KF_TOKEN_CHARS + 1 bytes). */
void kf_token_encode(const unsigned char *bytes, const char *prefix, char *out);
/* A new random token into out (as kf_token_encode). Returns 0, or -1
   when libsodium cannot start. */
int kf_token_new(const char *prefix, char *out);
/* Whether the len bytes at text have the shape of a token with prefix
   (not whether one exists): the prefix, 43 base64url characters, and a
   last character whose two unused bits are zero. */
bool kf_token_shaped(const char *text, size_t len, const char *prefix);

#endif
