/* kefu — publishing after commit: the event rows a transaction wrote are
   kept here until its fate is known, then put on the bus (committed) or
   dropped (rolled back). An event is counted as sent (kf_health_out)
   only when the bus took it; one the bus did not take is made good by
   its consumers' catch-up from the store. */
#ifndef KF_OUTBOX_H
#define KF_OUTBOX_H

#include <czmq.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "health.h"

typedef struct kf_outbox kf_outbox_t;

/* An outbox that publishes on events (PUB, not owned) as src and counts
   on health (may be NULL). The event's KF_EVENT_COLUMNS start at column
   col of each kept row; rows whose column col is NULL carry no event. */
kf_outbox_t *kf_outbox_new(zsock_t *events, const char *src, kf_health_t *health, int col);
void kf_outbox_destroy(kf_outbox_t **self_p);

/* An outbox that publishes as self does (its socket, source, health,
   column and logging) but keeps rows of its own and has no hook: for the
   events of another transaction in flight at the same time (a lane's). */
kf_outbox_t *kf_outbox_twin(const kf_outbox_t *self);

/* Logs each event published (event.written) when on. */
void kf_outbox_set_log(kf_outbox_t *self, bool on);

/* Called at the end of every publish (committed true) and discard
   (false), for what a daemon keeps besides events until a transaction's
   fate is known (such as latencies to observe). */
typedef void(kf_outbox_hook_fn)(void *arg, bool committed);
void kf_outbox_set_hook(kf_outbox_t *self, kf_outbox_hook_fn *hook, void *arg);

/* Keeps res (taken; NULL is ignored) until publish or discard. */
void kf_outbox_keep(kf_outbox_t *self, PGresult *res);

/* Moves every row kept in from to self (a savepoint released: its events
   join those of the enclosing transaction). */
void kf_outbox_take(kf_outbox_t *self, kf_outbox_t *from);

/* The list the kept PGresults are on, for code that appends to a zlist. */
zlist_t *kf_outbox_rows(kf_outbox_t *self);

/* After commit: sends every kept event and forgets the rows. Returns how
   many the bus took. */
int kf_outbox_publish(kf_outbox_t *self);

/* After rollback: forgets the kept rows. */
void kf_outbox_discard(kf_outbox_t *self);

#endif
