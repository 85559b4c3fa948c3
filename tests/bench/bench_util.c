/* kefu benchmark tools — shared helpers (bench_util.h). */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "catalog.h"

static const char *const s_summaries[] = {
    "卫生间漏水，楼下天花板有水渍",
    "客厅墙面开裂",
    "暖气不热",
    "窗户关不严，漏风",
    "厨房插座没电",
    "水管滴水",
    "物业保洁不到位",
    "销售承诺的车位没有兑现",
    "户型设计与样板间不符",
    "其他问题",
};

int64_t kb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *kb_env_or(const char *name, const char *def)
{
    const char *value = getenv(name);
    return value && value[0] ? value : def;
}

unsigned kb_phone_base(const char *prefix)
{
    uint32_t hash = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)prefix; *p; p++)
        hash = (hash ^ *p) * 16777619u;
    return (unsigned)(hash % 100000000u);
}

void kb_submit_fill(kb_submit_t *out, bool mix, const char *kind, unsigned phone_base, long i)
{
    out->kind = kind;
    out->category = "leak";
    out->channel = "phone";
    out->priority = "normal";
    int sum = 0;
    if (mix) {
        /* Coprime cycle lengths (5, 10 is not, so offset by i / 5) give
           every combination over a long run. */
        out->kind = kf_kinds[i % 5];
        sum = (int)((i + i / 5) % 10);
        out->category = kf_categories[sum];
        out->channel = kf_channels[i % 6];
        out->priority = kf_priorities[i % 3];
    }
    snprintf(out->phone, sizeof out->phone, "139%08u",
             (unsigned)((phone_base + (unsigned long)i) % 100000000UL));
    snprintf(out->summary, sizeof out->summary, "%s (bench %ld)", s_summaries[sum], i);
}

int kb_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

double kb_pct_ms(const int64_t *sorted, long count, double pct)
{
    if (count == 0)
        return 0;
    long rank = (long)((pct / 100.0) * (double)count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    return (double)sorted[rank - 1] / 1000.0;
}

int kb_long_arg(const char *program, const char *name, const char *text, long min, long max,
                long *out)
{
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (!text[0] || *end || value < min || value > max) {
        fprintf(stderr, "%s: %s must be an integer in [%ld, %ld], not '%s'\n", program, name, min,
                max, text);
        return -1;
    }
    *out = value;
    return 0;
}
