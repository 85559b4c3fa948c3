/* kefu — consuming the event outbox exactly once in effect.

   Events are rows of the store's event table, written in the same
   transaction as the change they announce. A consumer applies each event
   at most once: the feed records (consumer, event id) in processed_event
   in the same transaction as the effect. A consumer gives one way to apply
   events, set-based over a burst (kf_apply_batch_fn); where the feed
   applies an event alone (to retry it, or to isolate a bad one when a
   burst fails) it gives it as a burst of one.

   Catch-up never skips an event that committed late. Sequence numbers are
   not commit-ordered, so the cursor is not a sequence number: each event
   row carries the id of the transaction that wrote it, and a catch-up pass
   reads the events whose transaction ids lie in [horizon, xmin), where
   xmin = pg_snapshot_xmin(pg_current_snapshot()) is the oldest transaction
   still running. Every transaction below xmin has finished, and xmin never
   moves backwards, so the ranges of successive passes cover every
   committed event once. The new horizon is stored with the pass's effects
   in one transaction. */
#ifndef KF_FEED_H
#define KF_FEED_H

#include <stdint.h>

#include "kf_error.h"
#include "store.h"

/* One event as read from the store or the wire. */
typedef struct {
    int64_t seq;
    const char *id; /* UUID text */
    const char *type;
    const char *corr; /* ticket number, may be "" */
    const char *src;
    int64_t at;            /* ms since the epoch */
    const char *body_json; /* JSON object text; NULL when from the wire */
} kf_event_t;

/* The columns a query selects from the event table (or from a function
   returning event rows) for kf_event_from_row. */
#define KF_EVENT_COLUMNS "seq, id, type, corr, src, kefu_ms(at), body::text"

/* The event in row of res whose KF_EVENT_COLUMNS start at column col; its
   strings point into res. */
kf_event_t kf_event_from_row(const PGresult *res, int row, int col);

/* Which strings of events kf_event_array takes. */
typedef enum { KF_EVENT_ID, KF_EVENT_CORR } kf_event_field_t;

/* The ids or corrs of count events as the text of a PostgreSQL array
   (kf_store_array), for a uuid[] or text[] parameter. Caller frees. */
char *kf_event_array(const kf_event_t *events, int count, kf_event_field_t field);

/* Applies count events together inside the open transaction, set-based:
   how a consumer applies what it handles (a burst, or one event alone
   when the feed retries or isolates it). An event that cannot be applied
   gets its reason in errors[i] (code not KF_OK) and nothing of it is
   written; the others are applied. Returns 0, or -1 with err when the
   transaction cannot go on (store error); then it must have kept nothing
   for the outbox. */
typedef int(kf_apply_batch_fn)(kf_store_t *store, const kf_event_t *events, int count,
                               kf_error_t *errors, void *arg, kf_error_t *err);

/* Registers the feed's statements on store; call once before use. */
void kf_feed_prepare(kf_store_t *store);

/* Applies one event for consumer in its own transaction, at most once,
   with apply_batch (a burst of one). Returns 1 when applied now, 0 when it
   had been applied before, -1 on error or when apply_batch could not apply
   it (err says why; nothing of it is kept). */
int kf_feed_apply(kf_store_t *store, const char *consumer, const kf_event_t *ev,
                  kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err);

/* Applies count events for consumer in one transaction with apply_batch,
   each at most once: one statement marks them all, and those marked
   before (say, by catch-up) are left out before apply_batch sees them.
   An event apply_batch could not apply is marked failed (logged,
   feed.event_failed) as catch-up marks it. Returns how many were applied
   now, or -1 when the transaction failed (nothing of it is kept). */
int kf_feed_apply_batch(kf_store_t *store, const char *consumer, const kf_event_t *events,
                        int count, kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err);

/* The same, leaving the transaction open when it succeeds, for the caller
   to commit (kf_store_commit_send, kf_store_committed); rolled back when
   it returns -1. */
int kf_feed_apply_open(kf_store_t *store, const char *consumer, const kf_event_t *events, int count,
                       kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err);

/* Runs one catch-up pass over events whose type is in types (a PostgreSQL
   array literal such as "{ticket.submitted}"), reading about max_events of
   them (all events of one transaction go in the same pass). Events applied
   before (by the fast path) are skipped; an event whose apply fails with
   anything but unavailable is recorded as failed (logged) so it cannot
   block the feed. The pass's events are applied together with apply_batch
   (as kf_feed_apply_batch does) under a savepoint, and one by one (a burst
   of one each, under its own savepoint) only when that fails. Sets
   *applied to the number applied now. Returns the number of events read,
   0 when the consumer is up to date or another instance holds its cursor,
   -1 on store error (the pass is rolled back). Call again while it
   returns more than 0. */
int kf_feed_catch_up(kf_store_t *store, const char *consumer, const char *types, int max_events,
                     kf_apply_batch_fn *apply_batch, void *arg, int *applied, kf_error_t *err);

/* The size of kf_feed_retry_failed's cursor: an event id's text. */
#define KF_FEED_AFTER_SIZE 37

/* The cursor from which kf_feed_retry_failed starts: before every id. */
#define KF_FEED_AFTER_START "00000000-0000-0000-0000-000000000000"

/* Applies again, in one transaction, up to max_events of the events of
   types that consumer marked failed (kf_feed_catch_up), in event id order
   from after (a buffer of KF_FEED_AFTER_SIZE, KF_FEED_AFTER_START at
   first), for when what they lacked may have come (new rules), each alone
   with apply_batch (a burst of one). Each one
   it claims (FOR UPDATE SKIP LOCKED: instances share the work, none
   applies an event twice) is marked applied, or stays failed with the new
   reason; both are logged (feed.retried). Sets *applied and moves after
   past the events read. Returns the number read (less than max_events:
   none left), or -1 on store error (rolled back, after unchanged). */
int kf_feed_retry_failed(kf_store_t *store, const char *consumer, const char *types, int max_events,
                         char *after, kf_apply_batch_fn *apply_batch, void *arg, int *applied,
                         kf_error_t *err);

#endif
