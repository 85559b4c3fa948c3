/* kefu — owners' phone numbers: normalisation and masking. */
#ifndef KF_PHONE_H
#define KF_PHONE_H

#include <stddef.h>

#define KF_PHONE_MAX 20 /* bytes of a normalised number, NUL included */

/* Normalises a phone number as people type it: spaces, dashes, dots and
   parentheses go; a +86 or 0086 prefix goes; what remains must be 5 to 15
   digits; a number starting with 1 is a mainland mobile and has exactly
   11 digits, and an 11-digit number starts with 1. Writes the
   digits into out (KF_PHONE_MAX bytes). Returns 0, or -1 when invalid. */
/* The rule above in words, for error messages. */
#define KF_PHONE_RULE                                                                              \
    "5 to 15 digits, optionally after +86; a mobile has 11 digits and starts with 1"

int kf_phone_normalise(const char *raw, char out[KF_PHONE_MAX]);

/* Masks a number for logs: 13800138000 -> 138****8000; short numbers keep
   only their last two digits. Returns out. */
const char *kf_phone_mask(const char *phone, char *out, size_t size);

#endif
