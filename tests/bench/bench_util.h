/* kefu benchmark tools — what kefu-load and kefu-http-load share: the
   clock, the submit's content (so both paths send the same submits), and
   the statistics and option helpers. */
#ifndef KEFU_BENCH_UTIL_H
#define KEFU_BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* One submit's content, as kefu-load has always sent it. */
typedef struct {
    const char *kind, *category, *channel, *priority;
    char phone[24];
    char summary[200];
} kb_submit_t;

/* Microseconds of the monotonic clock. */
int64_t kb_now_us(void);

/* The environment variable name's value, or def when unset or empty. */
const char *kb_env_or(const char *name, const char *def);

/* The first owner phone of a run, from its idempotency key prefix (FNV-1a):
   a run repeated with the same prefix sends the same content under each
   key, a retry rather than a conflict (a key belongs to its content). */
unsigned kb_phone_base(const char *prefix);

/* Fills submit i of a run: kind (or, with mix, kinds, categories, channels
   and priorities cycled so a long run gives every combination), phone
   139NNNNNNNN from phone_base, and a Chinese summary. */
void kb_submit_fill(kb_submit_t *out, bool mix, const char *kind, unsigned phone_base, long i);

/* qsort's comparison of int64_t. */
int kb_cmp_i64(const void *a, const void *b);

/* Nearest-rank percentile pct of count sorted values (us), in ms. */
double kb_pct_ms(const int64_t *sorted, long count, double pct);

/* Parses text as an integer in [min, max] into out; says what is wrong
   (as program's option name) and returns -1 otherwise. */
int kb_long_arg(const char *program, const char *name, const char *text, long min, long max,
                long *out);

#endif
