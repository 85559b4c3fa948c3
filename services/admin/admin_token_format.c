/* kefu-admin — the format of integration tokens (admin_token.h). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "admin_token.h"

void adm_token_encode(const unsigned char *bytes, char *out)
{
    memcpy(out, ADM_TOKEN_PREFIX, sizeof ADM_TOKEN_PREFIX - 1);
    sodium_bin2base64(out + sizeof ADM_TOKEN_PREFIX - 1,
                      ADM_TOKEN_LEN - (sizeof ADM_TOKEN_PREFIX - 1) + 1, bytes, ADM_TOKEN_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int adm_token_new(char *out)
{
    if (sodium_init() < 0)
        return -1;
    unsigned char bytes[ADM_TOKEN_BYTES];
    randombytes_buf(bytes, sizeof bytes);
    adm_token_encode(bytes, out);
    sodium_memzero(bytes, sizeof bytes);
    return 0;
}

bool adm_token_ok(const char *text)
{
    if (!text || strlen(text) != ADM_TOKEN_LEN ||
        strncmp(text, ADM_TOKEN_PREFIX, sizeof ADM_TOKEN_PREFIX - 1) != 0)
        return false;
    const char *rest = text + sizeof ADM_TOKEN_PREFIX - 1;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (strspn(rest, alphabet) != strlen(rest))
        return false;
    /* 32 bytes are 256 bits; the last of 43 characters carries 4 of them
       and 2 zero bits: its index is a multiple of 4. */
    return (strchr(alphabet, rest[42]) - alphabet) % 4 == 0;
}

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
