/* kefu — group commit for a request server (server.h): the
   state-changing requests that arrive together are written in one store
   transaction (one WAL flush for all), then each is answered and their
   events are published, only after that commit.

   A daemon's handler takes its request into the group being gathered
   (kf_group_add), decoding it into its own state at the same place
   (kf_group_next) and returning KF_SERVER_DEFERRED; a request it refuses
   before it runs (its sender unknown, its body bad) is marked refused and
   is answered with the group. The server's flush calls kf_group_flush.

   The group commits on lanes: spec->lanes store connections of its own,
   each with the daemon's statements prepared (spec->prepare). A gathered
   group runs on a free lane, each request with the daemon's run function
   on that lane's store inside one transaction; its COMMIT is sent without
   waiting, and the daemon's loop goes on taking requests (it polls the
   committing lanes, kf_group_poll, and calls kf_group_flush when it
   wakes) while the store flushes. When the COMMIT's answer comes, that
   group's requests are answered and its own events published (each lane
   keeps its group's events until its own commit). Meanwhile the next
   group runs on another lane; when every lane is committing, requests are
   gathered until the group is full, and then the oldest lane is waited
   for. So the store writes one group while the daemon gathers the next
   and answers the last, and no request is answered before the
   transaction that wrote it committed.

   Places: the group gathered and the group of each lane hold distinct
   places (kf_group_places in all), so the daemon's state at a place is
   never reused while the lane holding it is still committing.

   A group the daemon can run at once (spec run_batch) runs in one call
   on the lane's store, with no savepoints of the group's: the store undoes
   a refused request's own work itself. Otherwise:
   a refusal undoes its own work only: under a savepoint each (spec
   savepoints), or, without, because run refuses before it writes. When the
   store fails the group (it is unreachable, or with savepoints chose the
   transaction as a deadlock's or serialisation failure's victim, or
   with spec run_batch any error of the group's statement, or
   without savepoints any store error, which aborts the transaction, or the
   COMMIT failed), each request runs again alone in its own transaction on
   the lane, as if it had come alone; when the store is unreachable each is
   refused `unavailable`. */
#ifndef KF_GROUP_H
#define KF_GROUP_H

#include <stdbool.h>

#include "outbox.h"
#include "pollset.h"
#include "server.h"
#include "store.h"

#define KF_GROUP_LANES_MAX 8 /* most store connections committing groups */

/* One request of a group: what every daemon's requests share. */
typedef struct {
    kf_request_t req; /* moved in by kf_group_add */
    bool refused;     /* refused before it ran (err says why): never run */
    bool wrote;       /* run wrote something to commit (a retry's stored answer did not) */
    int rc;           /* 0: done, reply holds the answer; -1: refused with err */
    kf_body_t *reply; /* the answer, kept for after the commit */
    kf_error_t err;
} kf_group_entry_t;

/* Runs the request at place i (entry, and the daemon's own state at place
   i) inside the transaction open on store (the lane's): fills
   entry->reply and sets entry->wrote, keeping the events it writes in the
   group's outbox. Returns 0, or -1 with entry->err (nothing of it kept). */
typedef int(kf_group_run_fn)(void *arg, kf_store_t *store, int i, kf_group_entry_t *entry);

/* Called for the request at place i once its fate is known, before its
   answer: to log what a done one did (entry->rc 0) and free what the
   daemon holds at place i. */
typedef void(kf_group_done_fn)(void *arg, int i, const kf_group_entry_t *entry);

/* Runs the count requests of a group at once (entries, at places base ..
   base + count - 1; those refused before they ran are skipped) inside the
   transaction open on store, with no savepoint of the group's: a request
   the store refuses must undo its own work only (in the store's own
   subtransaction). Returns 1 when it ran them (each entry's rc, reply, err
   and wrote filled, their events kept in the group's outbox), 0 when it
   leaves them to run one by one (run), or -1 with err when the group's
   transaction is lost (each request runs again alone). */
typedef int(kf_group_batch_fn)(void *arg, kf_store_t *store, int base, kf_group_entry_t *entries,
                               int count, kf_error_t *err);

typedef struct {
    const char *name;     /* in the log: NAME.group */
    int max;              /* most requests in a group */
    int lanes;            /* store connections committing groups at once, 1..KF_GROUP_LANES_MAX */
    const char *url;      /* the store's libpq URL */
    const char *app_name; /* the lanes' name in pg_stat_activity */
    void (*prepare)(kf_store_t *store); /* registers run's statements on a lane's store */
    /* Each request runs under a savepoint, so that a refusal by the store
       undoes its own work and the group goes on; without, run must refuse
       before it writes, and a store error ends the group. */
    bool savepoints;
    kf_group_run_fn *run;
    kf_group_batch_fn *run_batch; /* may be NULL: each request with run */
    kf_group_done_fn *done;       /* may be NULL */
    void (*forget)(void *arg);    /* after a run is undone: drops what it left
                                     besides its events; may be NULL */
    void *arg;                    /* given to run, run_batch, done and forget */
    /* Where run keeps its events; each lane keeps its group's in a twin
       of it (kf_outbox_twin) until that group commits. */
    kf_outbox_t *outbox;
} kf_group_spec_t;

typedef struct kf_group kf_group_t;

/* A group with spec->lanes lanes, not connected yet. */
kf_group_t *kf_group_new(const kf_group_spec_t *spec);

/* Answers nothing: at the stop, call kf_group_drain first. */
void kf_group_destroy(kf_group_t **self_p);

/* How many places there are (0 .. places - 1): what the daemon's state by
   place needs. */
int kf_group_places(kf_group_t *self);

/* The place the next request added takes. */
int kf_group_next(kf_group_t *self);

/* Takes req into the group gathered (kf_server_defer; req is left empty).
   Returns its entry: not refused, rc 0, an empty reply. The group must
   not be full. */
kf_group_entry_t *kf_group_add(kf_group_t *self, kf_request_t *req);

/* True when the group gathered is full (its burst ends there). */
bool kf_group_full(kf_group_t *self);

/* After every burst and whenever the loop wakes: answers the groups whose
   COMMIT has been answered, and runs the group gathered on a free lane
   (when none is free and the group is full, after waiting for the oldest
   lane). */
void kf_group_flush(kf_group_t *self, kf_server_t *server);

/* Adds the store sockets of the committing lanes to set, so that the
   loop wakes when a COMMIT is answered. */
void kf_group_poll(kf_group_t *self, kf_pollset_t *set);

/* At the stop: runs the group gathered and answers every group, waiting
   for the store up to 5 s; what the store has not answered by then is
   answered `unavailable` (whether it committed is not known; a retry
   with its key finds out). */
void kf_group_drain(kf_group_t *self, kf_server_t *server);

#endif
