/* kefu-gateway — tokens, cookie and CSRF (secret.h). */
#include "secret.h"

#include <sodium.h>
#include <string.h>

#include "token.h"

#define S_CSRF_CONTEXT "kefu-csrf-v1"

int gw_secret_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

bool gw_cookie_token(const char *header, char token[GW_TOKEN_SIZE])
{
    token[0] = '\0';
    const size_t nlen = strlen(GW_COOKIE);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > nlen && strncmp(p, GW_COOKIE, nlen) == 0 && p[nlen] == '=') {
            const char *value = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            if (!kf_token_shaped(value, vlen, ""))
                return false;
            memcpy(token, value, vlen);
            token[vlen] = '\0';
            return true;
        }
        p = end ? end + 1 : p + len;
    }
    return false;
}

void gw_csrf(const char *token, char csrf[GW_CSRF_SIZE])
{
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_hash_sha256(key, (const unsigned char *)token, strlen(token));
    crypto_auth_hmacsha256(mac, (const unsigned char *)S_CSRF_CONTEXT, strlen(S_CSRF_CONTEXT), key);
    sodium_bin2base64(csrf, GW_CSRF_SIZE, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(key, sizeof key);
}

bool gw_csrf_ok(const char *token, const char *given)
{
    char want[GW_CSRF_SIZE];
    gw_csrf(token, want);
    return given && strlen(given) == strlen(want) && sodium_memcmp(want, given, strlen(want)) == 0;
}
