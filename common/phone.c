/* kefu — owners' phone numbers: normalisation and masking. */
#include "phone.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int kf_phone_normalise(const char *raw, char out[KF_PHONE_MAX])
{
    if (!raw || !out)
        return -1;
    /* Keep digits and '+', drop the separators people type; anything else
       is not a phone number. The bound stops long input early. */
    char kept[KF_PHONE_MAX + 8];
    size_t n = 0;
    for (const char *p = raw; *p; p++) {
        if (*p == ' ' || *p == '-' || *p == '.' || *p == '(' || *p == ')')
            continue;
        if (!((*p >= '0' && *p <= '9') || *p == '+'))
            return -1;
        if (n + 1 >= sizeof kept)
            return -1;
        kept[n++] = *p;
    }
    kept[n] = '\0';
    const char *digits = kept;
    if (strncmp(digits, "+86", 3) == 0)
        digits += 3;
    else if (strncmp(digits, "0086", 4) == 0)
        digits += 4;
    /* A second country code ('+86 0086 138…') is a typing slip, not a
       landline: refusing it keeps a normalised number normalising to
       itself, so an agent who types a stored number back finds its owner. */
    if (digits != kept && strncmp(digits, "0086", 4) == 0)
        return -1;
    size_t len = strlen(digits);
    if (len < 5 || len > 15)
        return -1;
    if (strspn(digits, "0123456789") != len)
        return -1; /* a '+' other than a leading +86 */
    /* Mainland mobiles are the only numbers that start with 1 and have
       exactly 11 digits; an 11-digit number otherwise, or a 1-number of
       another length, is a mistyped mobile, not a landline. */
    if ((len == 11) != (digits[0] == '1'))
        return -1;
    memcpy(out, digits, len + 1);
    return 0;
}

const char *kf_phone_mask(const char *phone, char *out, size_t size)
{
    if (!out || size == 0)
        return out;
    if (!phone)
        phone = "";
    size_t len = strlen(phone);
    /* Mainland mobiles show the carrier prefix and the last four digits as
       people read them back; anything shorter shows only the last two. */
    size_t head = len >= 11 ? 3 : 0;
    size_t tail = len >= 11 ? 4 : (len >= 2 ? 2 : len);
    if (len < 11 && len <= 2)
        tail = 0; /* nothing left to hide otherwise */
    size_t used = 0;
    for (size_t i = 0; i < len && used + 1 < size; i++) {
        bool shown = i < head || i >= len - tail;
        out[used++] = shown ? phone[i] : '*';
    }
    out[used] = '\0';
    return out;
}
