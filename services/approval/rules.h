/* approval — how amounts and dates must be written (pure, no I/O). Whether
   a stage is done and whether a request can still finish by its promised
   date, the store decides itself (migrations 035 and 037). */
#ifndef APPROVAL_RULES_H
#define APPROVAL_RULES_H

#include <stdint.h>

#include "kf_error.h"

#define RULES_AMOUNT_MAX_FEN INT64_C(10000000000) /* 100,000,000.00 yuan */

/* Reads an amount in yuan written as digits with at most two decimals
   ("80000", "80000.5", "80000.50") into fen, 1 fen to 100,000,000.00
   yuan. Anything else (a currency sign or code, a thousands separator, a
   sign, an exponent, spaces, three decimals) is bad_value. */
int rules_amount_fen(const char *text, int64_t *fen, kf_error_t *err);

/* Writes fen as yuan with two decimals ("80000.00") into buf. */
void rules_amount_text(int64_t fen, char *buf, size_t size);

/* Checks a calendar date written YYYY-MM-DD (years 2000-2999). */
int rules_date(const char *text, const char *field, kf_error_t *err);

#endif
