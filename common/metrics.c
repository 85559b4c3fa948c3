/* kefu — a small metrics registry in Prometheus' text format (metrics.h). */
#include "metrics.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "log.h"

const double kf_metrics_latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10};
const size_t kf_metrics_latency_count =
    sizeof kf_metrics_latency_bounds / sizeof kf_metrics_latency_bounds[0];

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_type_t;

struct kf_series {
    kf_metric_t *family;
    char *values[2];
    double value;     /* counter or gauge */
    uint64_t *counts; /* histogram: observations per bucket, the last one +Inf */
    uint64_t count;   /* histogram: observations */
    double sum;       /* histogram: their sum */
};

struct kf_metric {
    char *name;
    char *help;
    s_type_t type;
    char *labels[2];
    int nlabels;
    double *bounds; /* histogram: finite upper bounds */
    size_t nbounds;
    kf_series_t **series;
    size_t nseries;
    size_t capacity;
    kf_series_t *other; /* where combinations beyond the limit go */
};

struct kf_metrics {
    kf_metric_t **families;
    size_t count;
    size_t capacity;
};

/* ---- a growing text buffer --------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} s_buf_t;

static void s_reserve(s_buf_t *buf, size_t more)
{
    if (buf->len + more + 1 <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 1024;
    while (cap < buf->len + more + 1)
        cap *= 2;
    buf->data = (char *)realloc(buf->data, cap);
    assert(buf->data);
    buf->cap = cap;
}

static void s_put(s_buf_t *buf, const char *text, size_t len)
{
    s_reserve(buf, len);
    memcpy(buf->data + buf->len, text, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

static void s_puts(s_buf_t *buf, const char *text)
{
    s_put(buf, text, strlen(text));
}

static void s_printf(s_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_printf(s_buf_t *buf, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len < 0)
        return;
    s_reserve(buf, (size_t)len);
    va_start(args, fmt);
    vsnprintf(buf->data + buf->len, (size_t)len + 1, fmt, args);
    va_end(args);
    buf->len += (size_t)len;
}

/* ---- names and values ------------------------------------------------- */

/* True for a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, without colons, a
   label name. */
static bool s_valid_name(const char *name, bool colons)
{
    if (!name || !*name)
        return false;
    for (const char *c = name; *c; c++) {
        bool letter = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
                      (colons && *c == ':');
        if (!letter && !(c > name && *c >= '0' && *c <= '9'))
            return false;
    }
    return true;
}

/* A number as the format writes it: integers without a fraction, others
   in the shortest form that reads back the same, NaN and +Inf by name. */
static const char *s_number(double value, char *out, size_t size)
{
    if (isnan(value))
        snprintf(out, size, "NaN");
    else if (isinf(value))
        snprintf(out, size, "%s", value > 0 ? "+Inf" : "-Inf");
    else if (value > -1e15 && value < 1e15 && (double)(int64_t)value == value)
        snprintf(out, size, "%" PRId64, (int64_t)value);
    else {
        snprintf(out, size, "%.15g", value);
        if (strtod(out, NULL) != value)
            snprintf(out, size, "%.17g", value);
    }
    return out;
}

/* Appends text escaped for a HELP line (\\ and \n) or, with quotes, for a
   label value (also \"). */
static void s_escaped(s_buf_t *buf, const char *text, bool quotes)
{
    for (const char *c = text; *c; c++) {
        if (*c == '\\')
            s_puts(buf, "\\\\");
        else if (*c == '\n')
            s_puts(buf, "\\n");
        else if (quotes && *c == '"')
            s_puts(buf, "\\\"");
        else
            s_put(buf, c, 1);
    }
}

/* ---- the registry -------------------------------------------------------- */

kf_metrics_t *kf_metrics_new(void)
{
    kf_metrics_t *self = (kf_metrics_t *)calloc(1, sizeof(kf_metrics_t));
    assert(self);
    return self;
}

static void s_series_destroy(kf_series_t **self_p)
{
    kf_series_t *self = *self_p;
    if (!self)
        return;
    free(self->values[0]);
    free(self->values[1]);
    free(self->counts);
    free(self);
    *self_p = NULL;
}

static void s_family_destroy(kf_metric_t **self_p)
{
    kf_metric_t *self = *self_p;
    for (size_t i = 0; i < self->nseries; i++)
        s_series_destroy(&self->series[i]);
    s_series_destroy(&self->other);
    free(self->series);
    free(self->name);
    free(self->help);
    free(self->labels[0]);
    free(self->labels[1]);
    free(self->bounds);
    free(self);
    *self_p = NULL;
}

void kf_metrics_destroy(kf_metrics_t **self_p)
{
    assert(self_p);
    kf_metrics_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_family_destroy(&self->families[i]);
    free(self->families);
    free(self);
    *self_p = NULL;
}

kf_metric_t *kf_metrics_find(kf_metrics_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->families[i]->name, name) == 0)
            return self->families[i];
    return NULL;
}

static kf_series_t *s_series_new(kf_metric_t *family, const char *value1, const char *value2)
{
    kf_series_t *self = (kf_series_t *)calloc(1, sizeof(kf_series_t));
    assert(self);
    self->family = family;
    const char *values[2] = {value1, value2};
    for (int i = 0; i < family->nlabels; i++)
        self->values[i] = strdup(values[i]);
    if (family->type == S_HISTOGRAM)
        self->counts = (uint64_t *)calloc(family->nbounds + 1, sizeof(uint64_t));
    return self;
}

static kf_metric_t *s_register(kf_metrics_t *self, s_type_t type, const char *name,
                               const char *help, const char *label1, const char *label2)
{
    /* Misuse is a defect in kefu: asserted (compiled out with NDEBUG). */
    bool valid = s_valid_name(name, true) && !kf_metrics_find(self, name) && (!label2 || label1);
    assert(valid);
    kf_metric_t *family = (kf_metric_t *)calloc(1, sizeof(kf_metric_t));
    assert(family);
    family->name = strdup(name);
    family->help = strdup(help ? help : "");
    family->type = type;
    const char *labels[2] = {label1, label2};
    for (int i = 0; i < 2 && labels[i]; i++) {
        /* "le" is the histogram's own; names starting __ are reserved. */
        valid = s_valid_name(labels[i], false) && strcmp(labels[i], "le") != 0 &&
                strncmp(labels[i], "__", 2) != 0;
        assert(valid);
        family->labels[i] = strdup(labels[i]);
        family->nlabels = i + 1;
    }
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 16;
        self->families =
            (kf_metric_t **)realloc(self->families, self->capacity * sizeof(kf_metric_t *));
        assert(self->families);
    }
    self->families[self->count++] = family;
    (void)valid;
    return family;
}

kf_metric_t *kf_metrics_counter(kf_metrics_t *self, const char *name, const char *help,
                                const char *label1, const char *label2)
{
    kf_metric_t *family = s_register(self, S_COUNTER, name, help, label1, label2);
    if (family->nlabels == 0)
        kf_metric_at(family, NULL, NULL);
    return family;
}

kf_metric_t *kf_metrics_gauge(kf_metrics_t *self, const char *name, const char *help,
                              const char *label1, const char *label2)
{
    kf_metric_t *family = s_register(self, S_GAUGE, name, help, label1, label2);
    if (family->nlabels == 0)
        kf_metric_at(family, NULL, NULL);
    return family;
}

kf_metric_t *kf_metrics_histogram(kf_metrics_t *self, const char *name, const char *help,
                                  const double *bounds, size_t count, const char *label1,
                                  const char *label2)
{
    if (!bounds) {
        bounds = kf_metrics_latency_bounds;
        count = kf_metrics_latency_count;
    }
    assert(count >= 1 && count <= KF_METRICS_MAX_BUCKETS);
    for (size_t i = 0; i < count; i++)
        assert(isfinite(bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1]));
    kf_metric_t *family = s_register(self, S_HISTOGRAM, name, help, label1, label2);
    family->bounds = (double *)malloc(count * sizeof(double));
    assert(family->bounds);
    memcpy(family->bounds, bounds, count * sizeof(double));
    family->nbounds = count;
    if (family->nlabels == 0)
        kf_metric_at(family, NULL, NULL);
    return family;
}

/* A label value as recorded: "" for NULL, "invalid" for one that is not
   UTF-8 or is too long. */
static const char *s_value(const char *value)
{
    if (!value)
        return "";
    size_t len = strlen(value);
    return len <= KF_METRICS_MAX_VALUE && kf_utf8_valid(value, len) ? value : "invalid";
}

kf_series_t *kf_metric_at(kf_metric_t *self, const char *value1, const char *value2)
{
    assert(self);
    const char *values[2] = {s_value(value1), s_value(value2)};
    for (size_t i = 0; i < self->nseries; i++) {
        kf_series_t *s = self->series[i];
        if ((self->nlabels < 1 || strcmp(s->values[0], values[0]) == 0) &&
            (self->nlabels < 2 || strcmp(s->values[1], values[1]) == 0))
            return s;
    }
    if (self->nseries >= KF_METRICS_MAX_SERIES) {
        if (!self->other) {
            kf_warn("metrics.too_many_series", "metric=%s limit=%d", self->name,
                    KF_METRICS_MAX_SERIES);
            self->other = s_series_new(self, "other", "other");
        }
        return self->other;
    }
    if (self->nseries == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 8;
        self->series =
            (kf_series_t **)realloc(self->series, self->capacity * sizeof(kf_series_t *));
        assert(self->series);
    }
    kf_series_t *s = s_series_new(self, values[0], values[1]);
    self->series[self->nseries++] = s;
    return s;
}

void kf_series_add(kf_series_t *self, double delta)
{
    if (!self || self->family->type == S_HISTOGRAM)
        return;
    if (self->family->type == S_COUNTER && !(delta >= 0))
        return; /* a counter only goes up */
    self->value += delta;
}

void kf_series_set(kf_series_t *self, double value)
{
    if (self && self->family->type == S_GAUGE)
        self->value = value;
}

void kf_series_observe(kf_series_t *self, double value)
{
    if (!self || self->family->type != S_HISTOGRAM || isnan(value))
        return;
    const kf_metric_t *family = self->family;
    size_t bucket = 0;
    while (bucket < family->nbounds && value > family->bounds[bucket])
        bucket++;
    self->counts[bucket]++;
    self->count++;
    self->sum += value;
}

double kf_series_value(const kf_series_t *self)
{
    if (!self)
        return 0;
    return self->family->type == S_HISTOGRAM ? (double)self->count : self->value;
}

void kf_metric_inc(kf_metric_t *self, const char *value1, const char *value2)
{
    kf_series_add(kf_metric_at(self, value1, value2), 1);
}

void kf_metric_add(kf_metric_t *self, const char *value1, const char *value2, double delta)
{
    kf_series_add(kf_metric_at(self, value1, value2), delta);
}

void kf_metric_set(kf_metric_t *self, const char *value1, const char *value2, double value)
{
    kf_series_set(kf_metric_at(self, value1, value2), value);
}

void kf_metric_observe(kf_metric_t *self, const char *value1, const char *value2, double value)
{
    kf_series_observe(kf_metric_at(self, value1, value2), value);
}

double kf_metric_total(const kf_metric_t *self)
{
    double total = 0;
    for (size_t i = 0; i < self->nseries; i++)
        total += kf_series_value(self->series[i]);
    return total + kf_series_value(self->other);
}

/* ---- rendering ----------------------------------------------------------- */

/* Appends {l1="v1",l2="v2"} (with le="..." last when given), or nothing
   for a series without labels. */
static void s_labels(s_buf_t *buf, const kf_series_t *series, const char *le)
{
    const kf_metric_t *family = series->family;
    if (family->nlabels == 0 && !le)
        return;
    s_puts(buf, "{");
    for (int i = 0; i < family->nlabels; i++) {
        s_printf(buf, "%s%s=\"", i ? "," : "", family->labels[i]);
        s_escaped(buf, series->values[i], true);
        s_puts(buf, "\"");
    }
    if (le)
        s_printf(buf, "%sle=\"%s\"", family->nlabels ? "," : "", le);
    s_puts(buf, "}");
}

static void s_render_series(s_buf_t *buf, const kf_series_t *series)
{
    const kf_metric_t *family = series->family;
    char number[64], le[64];
    if (family->type != S_HISTOGRAM) {
        s_puts(buf, family->name);
        s_labels(buf, series, NULL);
        s_printf(buf, " %s\n", s_number(series->value, number, sizeof number));
        return;
    }
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= family->nbounds; b++) {
        cumulative += series->counts[b];
        s_number(b < family->nbounds ? family->bounds[b] : INFINITY, le, sizeof le);
        s_printf(buf, "%s_bucket", family->name);
        s_labels(buf, series, le);
        s_printf(buf, " %" PRIu64 "\n", cumulative);
    }
    s_printf(buf, "%s_sum", family->name);
    s_labels(buf, series, NULL);
    s_printf(buf, " %s\n", s_number(series->sum, number, sizeof number));
    s_printf(buf, "%s_count", family->name);
    s_labels(buf, series, NULL);
    s_printf(buf, " %" PRIu64 "\n", series->count);
}

char *kf_metrics_render(const kf_metrics_t *self, size_t *size_p)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    s_buf_t buf = {NULL, 0, 0};
    s_reserve(&buf, 0);
    buf.data[0] = '\0';
    for (size_t i = 0; i < self->count; i++) {
        const kf_metric_t *family = self->families[i];
        s_printf(&buf, "# HELP %s ", family->name);
        s_escaped(&buf, family->help, false);
        s_printf(&buf, "\n# TYPE %s %s\n", family->name, types[family->type]);
        for (size_t j = 0; j < family->nseries; j++)
            s_render_series(&buf, family->series[j]);
        if (family->other)
            s_render_series(&buf, family->other);
    }
    if (size_p)
        *size_p = buf.len;
    return buf.data;
}
