/* kefu — what an operator sees of a daemon: metrics, health, heartbeat.

   One kf_health object per daemon, owned by the daemon's thread and
   served from the daemon's own loop (no thread of its own, so /health
   answers only while the daemon's loop turns):
   - an HTTP endpoint on KEFU_METRICS_PORT (libmicrohttpd, run by the
     daemon's loop through its epoll descriptor): GET
     /metrics answers the registry in Prometheus' text format 0.0.4; GET
     /health answers 200 with {"status":"ok","daemon","instance",
     "version","uptime_s","store":"up"} while the daemon runs and its
     store is reachable, 503 with "store":"down" when it is not (a daemon
     without a store leaves "store" out and answers 200); anything else
     404, another method on those paths 405 (with Allow; a body is not
     read), a malformed request or one whose head does not fit in
     KF_HTTP_MAX_REQUEST bytes an error from libmicrohttpd (400, 414 or
     431). Every answer closes the connection; at most KF_HTTP_MAX_CONNS
     connections are open at once, and one still open KF_HTTP_TIMEOUT_MS
     after it connected is cut, however slowly it keeps sending. Sends
     never block.
   - a heartbeat row in the store's daemon_instance table, upserted every
     KEFU_HEARTBEAT_MS (instance host:pid, version, start, events in and
     out, errors, backlog, last error, metrics endpoint), which is how
     `kefu-admin status` finds every instance. The heartbeat's write also probes
     the store for /health. A clean stop (kf_health_destroy) marks the row
     stopped.

   Adopting it in a daemon (see README.md, "Health and metrics"):
     settings:  KF_SETTINGS_COMMON, KF_SETTINGS_HEALTH(KF_METRICS_PORT_X), ...
     start:     self->health = kf_health_new("x", settings, self->store);  (NULL: exit 1)
     poll:      int http = kf_pollset_fd(&set, kf_health_fd(self->health));  (pollset.h)
     loop:      kf_pollset_wait(&set, kf_health_wait_ms(self->health, ms));
                if (kf_pollset_ready(&set, http)) kf_health_serve_fd(self->health);
                ...the daemon's own...
                kf_health_tick(self->health);   (between transactions, never inside one)
     counting:  kf_health_in / kf_health_out / kf_health_error / kf_health_fault
     stop:      kf_health_destroy(&self->health);   (before kf_store_destroy) */
#ifndef KF_HEALTH_H
#define KF_HEALTH_H

#include <czmq.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "kf_error.h"
#include "metrics.h"
#include "pollset.h"
#include "store.h"

/* Each daemon's default metrics port, so one host can run one of each. */
#define KF_METRICS_PORT_BUS "9101"
#define KF_METRICS_PORT_INTAKE "9102"
#define KF_METRICS_PORT_ROUTER "9103"
#define KF_METRICS_PORT_APPROVAL "9104"
#define KF_METRICS_PORT_NOTIFIER "9105"
#define KF_METRICS_PORT_SURVEY "9106"
#define KF_METRICS_PORT_GATEWAY "9107"

/* The HTTP endpoint's settings, for a daemon's table (the bus's). */
#define KF_SETTINGS_METRICS(port)                                                                  \
    KF_SET_INT("KEFU_METRICS_PORT", port, 0, 65535,                                                \
               "HTTP port of GET /metrics and GET /health (0: off)"),                              \
        KF_SET_ADDRESS("KEFU_METRICS_BIND", "127.0.0.1",                                           \
                       "address the metrics port listens on (0.0.0.0: every interface)")

/* The endpoint's and the heartbeat's settings, for a daemon with a store. */
#define KF_SETTINGS_HEALTH(port)                                                                   \
    KF_SETTINGS_METRICS(port), KF_SET_INT("KEFU_HEARTBEAT_MS", "5000", 100, 600000,                \
                                          "how often this instance records itself in "             \
                                          "daemon_instance (ms)")

#define KF_HTTP_MAX_REQUEST 8192 /* bytes of memory per connection for its request's head */
#define KF_HTTP_MAX_CONNS 64     /* connections served at once */
#define KF_HTTP_TIMEOUT_MS 5000  /* for a connection, from its connect to its close */

typedef struct kf_health kf_health_t;

/* Reads KEFU_METRICS_PORT, KEFU_METRICS_BIND and (when in the table)
   KEFU_HEARTBEAT_MS from settings, registers the standard metrics and,
   when store is not NULL, the heartbeat's statements on it. A bad setting
   or an address that cannot be bound is named on stderr and gives NULL; a
   port already in use (a second instance on the same host) is logged and
   the daemon goes on without the endpoint. */
kf_health_t *kf_health_new(const char *daemon, const kf_setting_t *settings, kf_store_t *store);

/* Marks the instance stopped in the store (when connected), closes the
   endpoint and frees everything. */
void kf_health_destroy(kf_health_t **self_p);

/* The registry, for the daemon's own metrics. */
kf_metrics_t *kf_health_metrics(kf_health_t *self);

/* The endpoint's descriptor (libmicrohttpd's epoll descriptor), for the
   daemon's loop to wait on (kf_pollset_fd); -1 when the endpoint is off. */
int kf_health_fd(kf_health_t *self);

/* Serves what arrived on the endpoint's descriptor. */
void kf_health_serve_fd(kf_health_t *self);

/* Does what is due: cuts connections past their deadline, runs the HTTP
   endpoint's timeouts and, every
   KEFU_HEARTBEAT_MS, calls the observer and writes the heartbeat. Call it
   on every turn of the loop, outside any transaction. */
void kf_health_tick(kf_health_t *self);

/* How long the daemon's poller may wait so that the next tick is on time:
   max_ms, or less when a heartbeat is due sooner (never negative). */
int kf_health_wait_ms(kf_health_t *self, int max_ms);

/* Called just before each heartbeat, to refresh gauges that need a query
   (backlog, lag). */
typedef void(kf_health_observe_fn)(kf_health_t *health, void *arg);
void kf_health_set_observer(kf_health_t *self, kf_health_observe_fn *fn, void *arg);

/* Counts count messages of type taken in / sent out:
   kefu_events_total{type, direction="in"|"out"} and the heartbeat's
   events_in / events_out. */
void kf_health_in(kf_health_t *self, const char *type, int count);
void kf_health_out(kf_health_t *self, const char *type, int count);

/* Counts an error by code (kefu_errors_total{code}): a peer's bad input,
   a refused request. */
void kf_health_error(kf_health_t *self, kf_err_t code);

/* Counts an error and keeps it as the instance's last error ("what: code:
   message"): a fault of the daemon or its store, not of a peer. */
void kf_health_fault(kf_health_t *self, const char *what, const kf_error_t *err);

/* Sets the work waiting for this daemon (kefu_outbox_backlog and the
   heartbeat's backlog); a negative value means unknown. */
void kf_health_backlog(kf_health_t *self, int64_t backlog);

/* libmicrohttpd's error messages (a malformed request, a refused
   connection) as debug lines named event (a string): they are a peer's
   doing, not the daemon's. For MHD_OPTION_EXTERNAL_LOGGER. */
void kf_health_mhd_log(void *event, const char *format, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The instance id (host:pid) and the port the endpoint listens on (0 when
   off). */
const char *kf_health_instance(kf_health_t *self);
int kf_health_port(kf_health_t *self);

#endif
