/* kefu-admin — integration tokens (`kefu-admin token`, migration 020,
   proto/security.md): their names and scopes, apart from the store so
   that tests/unit can check them. The token itself is common/token.h's,
   with the prefix KF_KIT_PREFIX. */
#ifndef KF_ADMIN_TOKEN_H
#define KF_ADMIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* Whether name may name a token: [a-z][a-z0-9._-]{0,63}. */
bool adm_token_name_ok(const char *name);

/* Adds scope (calls or submit) to the set in *scopes (ADM_SCOPE_* bits).
   Returns 0, or -1 when scope is neither. */
enum { ADM_SCOPE_CALLS = 1, ADM_SCOPE_SUBMIT = 2 };
int adm_token_scope(const char *scope, unsigned *scopes);

/* The scopes as a PostgreSQL array literal ("{calls,submit}") into out. */
void adm_token_scopes_sql(unsigned scopes, char *out, size_t size);

#endif
