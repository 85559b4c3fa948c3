/* kefu — a consumer of events: the one loop the router, survey and
   notifier share. It takes a burst of messages from its socket (the
   doorbell), decodes them, applies all the events it handles set-based
   in one store transaction (kf_feed_apply_batch) and, when that fails,
   one by one, each as a burst of one (kf_feed_apply), so one bad event
   cannot hold up the rest; what still fails is left for catch-up, which
   reads the store under one time budget (KF_DUTY_BUDGET_MS). The events
   an apply wrote are kept in the outbox and published only after their
   transaction committed.

   A daemon may add lanes (kf_consumer_add_lane): connections on which
   bursts are applied while the store flushes the last burst's commit.

   A daemon gives only what is its own: the consumer's name, the event
   types, and how to apply a burst of them (kf_apply_batch_fn, feed.h),
   which also serves for one event alone. */
#ifndef KF_CONSUMER_H
#define KF_CONSUMER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "feed.h"
#include "health.h"
#include "outbox.h"
#include "pollset.h"
#include "store.h"

/* Longest a consumer's catch-up (or any periodic duty: a deadline scan,
   sending due surveys) holds up fresh work, in ms: one budget for every
   daemon. */
#define KF_DUTY_BUDGET_MS 200

/* One slice of a duty: true when it did a full batch (there may be
   more). */
typedef bool(kf_slice_fn)(void *arg);

/* The moment a duty that starts now must yield by. */
int64_t kf_duty_deadline(void);

/* Runs slice again while it says there may be more, until deadline or a
   stop request. Returns true when there may be more. */
bool kf_duty_run(kf_slice_fn *slice, void *arg, int64_t deadline);

/* Most events taken from the socket in one burst. */
#define KF_CONSUMER_BURST_MAX 1000

typedef struct {
    const char *name;  /* the consumer, in processed_event and the cursor */
    const char *types; /* PostgreSQL array literal of the types, "{a,b}" */
    /* Required: applies a burst set-based (feed.h); the doorbell and
       catch-up give it whole bursts, and single events (a burst of one) to
       retry failed events and to isolate a bad one when a burst fails. */
    kf_apply_batch_fn *apply_batch;
    void *arg;
    /* Read the events back from the store by id before applying them:
       the bus is news, the store the record (a forged message changes
       nothing). Otherwise the envelope's fields are applied (body_json
       NULL). */
    bool reread;
} kf_consumer_spec_t;

typedef struct kf_consumer kf_consumer_t;

/* A consumer reading in (PULL or SUB, not owned), applying on store
   (where it registers the statements of the feed and its own), publishing
   through outbox and counting on health; batch is the most events per
   transaction (up to KF_CONSUMER_BURST_MAX). */
kf_consumer_t *kf_consumer_new(const kf_consumer_spec_t *spec, kf_store_t *store, zsock_t *in,
                               kf_outbox_t *outbox, kf_health_t *health, long batch);
void kf_consumer_destroy(kf_consumer_t **self_p);

/* Most lanes of a consumer. */
#define KF_CONSUMER_LANES_MAX 8

/* What a lane is made of (kf_consumer_add_lane). */
typedef struct {
    const char *url;      /* the store's libpq URL */
    const char *app_name; /* the lane's name in pg_stat_activity */
    /* Registers the statements apply_batch runs on the lane's store
       (the consumer registers its own). */
    void (*prepare)(kf_store_t *store);
    kf_outbox_hook_fn *on_commit; /* may be NULL: called with arg after each transaction */
    void *arg;                    /* given to apply_batch instead of spec->arg, and to on_commit */
} kf_lane_spec_t;

/* Adds a lane: a store connection of its own on which bursts from the
   socket are applied. Its COMMIT is sent without waiting, and the next
   burst is applied on another lane while the store flushes it (issue 16,
   item 2: overlap instead of waiting); the events apply_batch keeps in the
   lane's outbox (a twin of the consumer's, returned) are published once
   their transaction committed. A burst whose COMMIT fails is left for
   catch-up. Without lanes, bursts are applied on the consumer's store one
   at a time; the consumer's store serves catch-up either way. The
   consumer owns the lane's store and outbox. */
kf_outbox_t *kf_consumer_add_lane(kf_consumer_t *self, const kf_lane_spec_t *spec);

/* Takes what the socket brought (up to a batch) and applies it. */
void kf_consumer_on_socket(kf_consumer_t *self);

/* Adds to set what the daemon's loop waits on for the consumer: its
   socket, and the connections of the lanes whose COMMIT is awaited.
   Returns the socket's index, or -1 when it is left out because every
   lane's COMMIT is awaited: the next burst gathers there meanwhile
   instead of going out small. */
int kf_consumer_poll(kf_consumer_t *self, kf_pollset_t *set);

/* After each wait: publishes the events of the lanes whose COMMIT was
   answered (nothing to do without lanes). */
void kf_consumer_on_store(kf_consumer_t *self);

/* Applies from the store what the socket missed, for at most
   KF_DUTY_BUDGET_MS, then (once caught up) the failed events asked for by
   kf_consumer_retry_failed. Returns true when there is more to do. */
bool kf_consumer_catch_up(kf_consumer_t *self);

/* Asks the next catch-ups to apply again, once each, every event this
   consumer marked failed (kf_feed_retry_failed): call it when what they
   lacked may have come, e.g. the rules changed. Cheap when there are
   none. */
void kf_consumer_retry_failed(kf_consumer_t *self);

/* Messages from the socket that did not decode or were not usable. */
uint64_t kf_consumer_bad_messages(kf_consumer_t *self);

#endif
