/* kefu — random secrets (token.h). */
#include "token.h"

#include <sodium.h>
#include <string.h>

static const char s_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void kf_token_encode(const unsigned char *bytes, const char *prefix, char *out)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    sodium_bin2base64(out + n, KF_TOKEN_CHARS + 1, bytes, KF_TOKEN_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int kf_token_new(const char *prefix, char *out)
{
    if (sodium_init() < 0)
        return -1;
    unsigned char bytes[KF_TOKEN_BYTES];
    randombytes_buf(bytes, sizeof bytes);
    kf_token_encode(bytes, prefix, out);
    sodium_memzero(bytes, sizeof bytes);
    return 0;
}

bool kf_token_shaped(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!text || len != n + KF_TOKEN_CHARS || strncmp(text, prefix, n) != 0)
        return false;
    for (size_t i = n; i < len; i++)
        if (!text[i] || !strchr(s_alphabet, text[i]))
            return false;
    /* 32 bytes are 256 bits; the last of 43 characters carries 4 of them
       and 2 zero bits: its index is a multiple of 4. */
    return (strchr(s_alphabet, text[len - 1]) - s_alphabet) % 4 == 0;
}
