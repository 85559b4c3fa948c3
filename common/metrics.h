/* kefu — a small metrics registry, rendered in Prometheus' text format.

   The registry belongs to one thread (the daemon's loop) and takes no
   locks: families are registered at start, series are found or created on
   first use, and kf_metrics_render writes the text exposition format
   version 0.0.4 (HELP and TYPE lines, escaped label values, cumulative
   histogram buckets with +Inf, _sum and _count).

   A family has at most two labels. Label values are bounded: a value that
   is not UTF-8 or is over KF_METRICS_MAX_VALUE bytes is recorded as
   "invalid", and a family keeps at most KF_METRICS_MAX_SERIES series,
   further combinations going to one series whose values are all "other",
   so that nothing a peer sends can grow the registry without bound. */
#ifndef KF_METRICS_H
#define KF_METRICS_H

#include <stddef.h>

#define KF_METRICS_MAX_SERIES 256 /* series in one family, besides "other" */
#define KF_METRICS_MAX_VALUE 128  /* bytes of one label value */
#define KF_METRICS_MAX_BUCKETS 32 /* finite bucket bounds of a histogram */

typedef struct kf_metrics kf_metrics_t;
typedef struct kf_metric kf_metric_t; /* one family: a name, its labels, its series */
typedef struct kf_series kf_series_t; /* one series: a family and label values */

/* The default histogram bounds, in seconds: 0.001 ... 10. */
extern const double kf_metrics_latency_bounds[];
extern const size_t kf_metrics_latency_count;

kf_metrics_t *kf_metrics_new(void);
void kf_metrics_destroy(kf_metrics_t **self_p);

/* Registers a family; label1 and label2 name its labels (NULL for fewer).
   The name must be a valid metric name not yet registered (asserted: a
   defect in kefu, not input). A family without labels starts with its one
   series at 0, so it is rendered before anything happened. */
kf_metric_t *kf_metrics_counter(kf_metrics_t *self, const char *name, const char *help,
                                const char *label1, const char *label2);
kf_metric_t *kf_metrics_gauge(kf_metrics_t *self, const char *name, const char *help,
                              const char *label1, const char *label2);
/* bounds: count strictly increasing finite upper bounds (at most
   KF_METRICS_MAX_BUCKETS); NULL means kf_metrics_latency_bounds. */
kf_metric_t *kf_metrics_histogram(kf_metrics_t *self, const char *name, const char *help,
                                  const double *bounds, size_t count, const char *label1,
                                  const char *label2);

/* The family registered as name, or NULL. */
kf_metric_t *kf_metrics_find(kf_metrics_t *self, const char *name);

/* The series of family self with these label values (NULL counts as "",
   values beyond the family's labels are ignored), created at 0 when new.
   The pointer stays valid as long as the registry: hot paths keep it. */
kf_series_t *kf_metric_at(kf_metric_t *self, const char *value1, const char *value2);

/* Counter: adds delta (a negative delta is ignored). Gauge: adds delta. */
void kf_series_add(kf_series_t *self, double delta);
/* Gauge: sets the value (ignored on a counter or histogram). */
void kf_series_set(kf_series_t *self, double value);
/* Histogram: records one observation (ignored on a counter or gauge). */
void kf_series_observe(kf_series_t *self, double value);
/* The value of a counter or gauge; a histogram's count. */
double kf_series_value(const kf_series_t *self);

/* Shorthands: kf_metric_at, then the operation. */
void kf_metric_inc(kf_metric_t *self, const char *value1, const char *value2);
void kf_metric_add(kf_metric_t *self, const char *value1, const char *value2, double delta);
void kf_metric_set(kf_metric_t *self, const char *value1, const char *value2, double value);
void kf_metric_observe(kf_metric_t *self, const char *value1, const char *value2, double value);

/* The sum over all series of a counter or gauge (a histogram's count). */
double kf_metric_total(const kf_metric_t *self);

/* The whole registry in the text exposition format, as a new string
   (caller frees); *size_p (when not NULL) gets its length. */
char *kf_metrics_render(const kf_metrics_t *self, size_t *size_p);

#endif
