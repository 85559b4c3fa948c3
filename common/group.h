/* kefu — group commit for a request server (server.h): the
   state-changing requests one burst brought are written in one store
   transaction (one WAL flush for all), then each is answered and their
   events are published, only after the commit.

   A daemon's handler takes its request into the group (kf_group_add),
   decoding it into its own state at the same place (kf_group_next) and
   returning KF_SERVER_DEFERRED; a request it refuses before it runs (its
   sender unknown, its body bad) is marked refused and is answered with the
   group. The server's flush calls kf_group_flush, which runs each
   request with the daemon's run function inside the group's transaction.
   A refusal undoes its own work only: under a savepoint each (spec
   savepoints), or, without, because run refuses before it writes. When the
   store fails the group (it is unreachable, or with savepoints chose the
   transaction as a deadlock's or serialisation failure's victim, or
   without savepoints any store error, which aborts the transaction), each
   request runs again alone in its own transaction, as if it had come
   alone; when the store is unreachable each is refused `unavailable`. */
#ifndef KF_GROUP_H
#define KF_GROUP_H

#include <stdbool.h>

#include "outbox.h"
#include "server.h"
#include "store.h"

/* One request of a group: what every daemon's requests share. */
typedef struct {
    kf_request_t req; /* moved in by kf_group_add */
    bool refused;     /* refused before it ran (err says why): never run */
    bool wrote;       /* run wrote something to commit (a retry's stored answer did not) */
    int rc;           /* 0: done, reply holds the answer; -1: refused with err */
    kf_body_t *reply; /* the answer, kept for after the commit */
    kf_error_t err;
} kf_group_entry_t;

/* Runs request i (entry, and the daemon's own state at place i) inside
   the open transaction: fills entry->reply and sets entry->wrote, keeping
   the events it writes in the group's outbox. Returns 0, or -1 with
   entry->err (nothing of it kept). */
typedef int(kf_group_run_fn)(void *arg, int i, kf_group_entry_t *entry);

/* Called for each request once its fate is known, before its answer: to
   log what a done one did (entry->rc 0) and free what the daemon holds
   at place i. */
typedef void(kf_group_done_fn)(void *arg, int i, const kf_group_entry_t *entry);

typedef struct {
    const char *name; /* in the log: NAME.group */
    int max;          /* most requests in a group (places 0 .. max - 1) */
    /* Each request runs under a savepoint, so that a refusal by the store
       undoes its own work and the group goes on; without, run must refuse
       before it writes, and a store error ends the group. */
    bool savepoints;
    kf_group_run_fn *run;
    kf_group_done_fn *done;    /* may be NULL */
    void (*forget)(void *arg); /* after a run is undone: drops what it left
                                  besides its events; may be NULL */
    void *arg;                 /* given to run, done and forget */
    kf_outbox_t *outbox;       /* where run keeps its events */
    kf_outbox_t *kept;         /* the events of the requests done in the group's
                                  transaction, until it commits: the group's own */
} kf_group_spec_t;

typedef struct kf_group kf_group_t;

/* A group on store; spec->max places. */
kf_group_t *kf_group_new(const kf_group_spec_t *spec, kf_store_t *store);
void kf_group_destroy(kf_group_t **self_p);

/* The place the next request added takes. */
int kf_group_next(kf_group_t *self);

/* Takes req into the group (kf_server_defer; req is left empty). Returns
   its entry: not refused, rc 0, an empty reply. The group must not be
   full. */
kf_group_entry_t *kf_group_add(kf_group_t *self, kf_request_t *req);

/* True when the group is full (its burst ends there). */
bool kf_group_full(kf_group_t *self);

/* Runs the group (see above), answers each request on server and
   publishes the events of those done; empties the group. */
void kf_group_flush(kf_group_t *self, kf_server_t *server);

#endif
