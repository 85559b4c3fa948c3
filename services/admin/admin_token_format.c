/* kefu-admin — the format of integration tokens (admin_token.h). */
#include <stdio.h>
#include <string.h>

#include "admin_token.h"

bool adm_token_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 64 || name[0] < 'a' || name[0] > 'z')
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int adm_token_scope(const char *scope, unsigned *scopes)
{
    if (strcmp(scope, "calls") == 0)
        *scopes |= ADM_SCOPE_CALLS;
    else if (strcmp(scope, "submit") == 0)
        *scopes |= ADM_SCOPE_SUBMIT;
    else
        return -1;
    return 0;
}

void adm_token_scopes_sql(unsigned scopes, char *out, size_t size)
{
    snprintf(out, size, "{%s%s%s}", scopes & ADM_SCOPE_CALLS ? "calls" : "",
             (scopes & ADM_SCOPE_CALLS) && (scopes & ADM_SCOPE_SUBMIT) ? "," : "",
             scopes & ADM_SCOPE_SUBMIT ? "submit" : "");
}
