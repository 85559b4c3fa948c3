/* kefu — group commit for a request server (see group.h). */
#include "group.h"

#include <assert.h>
#include <poll.h>
#include <string.h>

#include "log.h"

#define S_DRAIN_MS 5000 /* longest a stop waits for the store to answer groups */

/* The requests of one group: places base .. base + max - 1. */
typedef struct {
    kf_group_entry_t *entries; /* max of them */
    int base;                  /* the place of entries[0] */
    int count;
} s_batch_t;

/* A store connection that commits one group at a time. */
typedef struct {
    kf_store_t *store;
    s_batch_t batch;   /* the group whose COMMIT is sent; count 0 when the lane is free */
    kf_outbox_t *kept; /* that group's events, published once it commits */
    uint64_t sent;     /* the order its group was sent in */
} s_lane_t;

struct kf_group {
    kf_group_spec_t spec;
    char what[48];      /* NAME.group, for the log */
    s_batch_t gathered; /* the group gathered, not yet run */
    s_lane_t *lanes;
    int lane_count;
    uint64_t sent; /* groups sent so far */
};

/* Gives batch max entries at places base ... */
static void s_batch_init(s_batch_t *batch, int max, int base)
{
    batch->entries = (kf_group_entry_t *)calloc((size_t)max, sizeof(kf_group_entry_t));
    assert(batch->entries);
    batch->base = base;
    batch->count = 0;
}

/* Frees what a batch that was never answered holds. */
static void s_batch_free(s_batch_t *batch)
{
    for (int i = 0; i < batch->count; i++) {
        kf_body_destroy(&batch->entries[i].reply);
        kf_request_clear(&batch->entries[i].req);
    }
    free(batch->entries);
}

kf_group_t *kf_group_new(const kf_group_spec_t *spec)
{
    assert(spec->max > 0 && spec->run && spec->outbox && spec->prepare);
    assert(spec->lanes >= 1 && spec->lanes <= KF_GROUP_LANES_MAX);
    kf_group_t *self = (kf_group_t *)zmalloc(sizeof(kf_group_t));
    self->spec = *spec;
    snprintf(self->what, sizeof self->what, "%s.group", spec->name);
    s_batch_init(&self->gathered, spec->max, 0);
    self->lane_count = spec->lanes;
    self->lanes = (s_lane_t *)calloc((size_t)spec->lanes, sizeof(s_lane_t));
    assert(self->lanes);
    for (int i = 0; i < spec->lanes; i++) {
        s_lane_t *lane = &self->lanes[i];
        lane->store = kf_store_new(spec->url, spec->app_name);
        spec->prepare(lane->store);
        s_batch_init(&lane->batch, spec->max, (i + 1) * spec->max);
        lane->kept = kf_outbox_twin(spec->outbox);
    }
    return self;
}

void kf_group_destroy(kf_group_t **self_p)
{
    assert(self_p);
    kf_group_t *self = *self_p;
    if (!self)
        return;
    s_batch_free(&self->gathered);
    for (int i = 0; i < self->lane_count; i++) {
        s_batch_free(&self->lanes[i].batch);
        kf_outbox_discard(self->lanes[i].kept);
        kf_outbox_destroy(&self->lanes[i].kept);
        kf_store_destroy(&self->lanes[i].store);
    }
    free(self->lanes);
    free(self);
    *self_p = NULL;
}

int kf_group_places(kf_group_t *self)
{
    return (self->lane_count + 1) * self->spec.max;
}

int kf_group_next(kf_group_t *self)
{
    return self->gathered.base + self->gathered.count;
}

kf_group_entry_t *kf_group_add(kf_group_t *self, kf_request_t *req)
{
    assert(self->gathered.count < self->spec.max);
    kf_group_entry_t *entry = &self->gathered.entries[self->gathered.count++];
    memset(entry, 0, sizeof *entry);
    kf_server_defer(req, &entry->req);
    entry->reply = kf_body_new();
    return entry;
}

bool kf_group_full(kf_group_t *self)
{
    return self->gathered.count >= self->spec.max;
}

/* ---- running a group on a lane ----------------------------------------- */

/* True when a request's refusal (err) ends the group's transaction. */
static bool s_ends_group(kf_group_t *self, s_lane_t *lane, const kf_error_t *err)
{
    if (err->code == KF_E_UNAVAILABLE)
        return true;
    if (self->spec.savepoints) /* the whole transaction is the victim */
        return strncmp(kf_store_sqlstate(lane->store), "40", 2) == 0;
    return err->code == KF_E_INTERNAL; /* the transaction is aborted */
}

/* Forgets what a run that was undone left. */
static void s_forget(kf_group_t *self)
{
    kf_outbox_discard(self->spec.outbox);
    if (self->spec.forget)
        self->spec.forget(self->spec.arg);
}

/* Runs sql (a savepoint's) when requests run under savepoints. */
static int s_savepoint(kf_group_t *self, s_lane_t *lane, const char *sql, kf_error_t *err)
{
    return self->spec.savepoints ? kf_store_run(lane->store, sql, err) : 0;
}

/* Runs the lane's request i in the group's transaction; its events join
   the lane's when it is done. Returns 0, or -1 with err when the group
   cannot go on. */
static int s_run_in(kf_group_t *self, s_lane_t *lane, int i, kf_error_t *err)
{
    kf_group_entry_t *entry = &lane->batch.entries[i];
    if (s_savepoint(self, lane, "SAVEPOINT group_request", err) != 0)
        return -1;
    entry->rc = self->spec.run(self->spec.arg, lane->store, lane->batch.base + i, entry);
    if (entry->rc == 0) {
        kf_outbox_take(lane->kept, self->spec.outbox);
        return s_savepoint(self, lane, "RELEASE SAVEPOINT group_request", err);
    }
    s_forget(self);
    if (s_ends_group(self, lane, &entry->err)) {
        *err = entry->err;
        return -1;
    }
    return s_savepoint(self, lane, "ROLLBACK TO SAVEPOINT group_request", err);
}

/* How many lanes have a group (a COMMIT sent, or the one running). */
static int s_committing(kf_group_t *self)
{
    int count = 0;
    for (int i = 0; i < self->lane_count; i++)
        count += self->lanes[i].batch.count > 0;
    return count;
}

/* Runs the lane's group in one transaction and, when a request wrote
   something, sends its COMMIT without waiting. Returns 1 when the COMMIT
   is sent, 0 when there was nothing to commit, -1 with err (rolled
   back). */
static int s_run_group(kf_group_t *self, s_lane_t *lane, kf_error_t *err)
{
    int ran = 0, refused = 0, batch = 0;
    bool wrote = false;
    bool failed =
        kf_store_ready_now(lane->store, err) != 0 || kf_store_begin(lane->store, err) != 0;
    if (!failed && self->spec.run_batch) {
        batch = self->spec.run_batch(self->spec.arg, lane->store, lane->batch.base,
                                     lane->batch.entries, lane->batch.count, err);
        failed = batch < 0;
        if (batch == 1)
            kf_outbox_take(lane->kept, self->spec.outbox);
    }
    for (int i = 0; i < lane->batch.count && !failed; i++) {
        kf_group_entry_t *entry = &lane->batch.entries[i];
        if (entry->refused)
            continue;
        if (batch == 0)
            failed = s_run_in(self, lane, i, err) != 0;
        ran++;
        refused += entry->rc != 0;
        wrote |= entry->rc == 0 && entry->wrote;
    }
    /* committing: how many other lanes' commits this group overlapped */
    /* batch: the group ran in one call of the daemon's (run_batch) */
    kf_debug(self->what, "count=%d ran=%d refused=%d failed=%d lane=%d committing=%d batch=%d",
             lane->batch.count, ran, refused, failed, (int)(lane - self->lanes),
             s_committing(self) - 1, batch != 0);
    if (!failed && wrote && kf_store_commit_send(lane->store, err) == 0)
        return 1;
    kf_store_rollback(lane->store); /* ends a failed group, or one that wrote nothing */
    return failed || wrote ? -1 : 0;
}

/* Runs the lane's request i alone in its own transaction and publishes
   its events. */
static void s_run_one(kf_group_t *self, s_lane_t *lane, int i)
{
    kf_group_entry_t *entry = &lane->batch.entries[i];
    entry->wrote = false;
    entry->rc = kf_store_ready_now(lane->store, &entry->err) == 0 &&
                        kf_store_begin(lane->store, &entry->err) == 0
                    ? self->spec.run(self->spec.arg, lane->store, lane->batch.base + i, entry)
                    : -1;
    if (entry->rc == 0 && entry->wrote && kf_store_commit(lane->store, &entry->err) != 0)
        entry->rc = -1;
    kf_store_rollback(lane->store); /* a failure, or a request that wrote nothing */
    if (entry->rc == 0)
        kf_outbox_publish(self->spec.outbox);
    else
        s_forget(self);
}

/* After the lane's group failed (err): each request again alone, or
   refused with err when the store is unreachable. */
static void s_run_alone(kf_group_t *self, s_lane_t *lane, const kf_error_t *err)
{
    kf_outbox_discard(lane->kept);
    s_forget(self);
    for (int i = 0; i < lane->batch.count; i++) {
        kf_group_entry_t *entry = &lane->batch.entries[i];
        if (entry->refused)
            continue;
        kf_body_destroy(&entry->reply);
        entry->reply = kf_body_new();
        entry->rc = -1;
        entry->err = *err;
        if (err->code == KF_E_UNAVAILABLE)
            continue;
        memset(&entry->err, 0, sizeof entry->err);
        s_run_one(self, lane, i);
    }
}

/* Answers each request of the lane's group (its fate known) and frees
   the lane. */
static void s_answer(kf_group_t *self, s_lane_t *lane, kf_server_t *server)
{
    for (int i = 0; i < lane->batch.count; i++) {
        kf_group_entry_t *entry = &lane->batch.entries[i];
        if (self->spec.done)
            self->spec.done(self->spec.arg, lane->batch.base + i, entry);
        kf_server_answer(server, &entry->req, entry->rc, &entry->reply, &entry->err);
        kf_request_clear(&entry->req);
    }
    lane->batch.count = 0;
}

/* Ends the lane's group once its COMMIT is answered (wait: blocks for
   the answer): publishes its events or, when the COMMIT failed, runs each
   request alone; then answers them. False while the COMMIT is pending. */
static bool s_lane_end(kf_group_t *self, s_lane_t *lane, kf_server_t *server, bool wait)
{
    kf_error_t err = {0};
    int rc = kf_store_committed(lane->store, wait, &err);
    if (rc == 1)
        return false;
    if (rc == 0)
        kf_outbox_publish(lane->kept);
    else
        s_run_alone(self, lane, &err);
    s_answer(self, lane, server);
    return true;
}

/* Runs the group gathered on the free lane; it stays there until its
   COMMIT is answered, or is answered now when it ends at once (nothing to
   commit, or it failed). */
static void s_send(kf_group_t *self, s_lane_t *lane, kf_server_t *server)
{
    s_batch_t free_batch = lane->batch; /* the lane's places go to the next group */
    lane->batch = self->gathered;
    self->gathered = free_batch;
    lane->sent = ++self->sent;
    kf_error_t err = {0};
    int rc = s_run_group(self, lane, &err);
    if (rc == 1)
        return;
    if (rc == 0)
        kf_outbox_publish(lane->kept);
    else
        s_run_alone(self, lane, &err);
    s_answer(self, lane, server);
}

/* A free lane, or NULL when every lane is committing. */
static s_lane_t *s_free_lane(kf_group_t *self)
{
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].batch.count == 0)
            return &self->lanes[i];
    return NULL;
}

/* The lane whose group was sent first (every lane is committing). */
static s_lane_t *s_oldest_lane(kf_group_t *self)
{
    s_lane_t *oldest = &self->lanes[0];
    for (int i = 1; i < self->lane_count; i++)
        if (self->lanes[i].sent < oldest->sent)
            oldest = &self->lanes[i];
    return oldest;
}

void kf_group_flush(kf_group_t *self, kf_server_t *server)
{
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].batch.count)
            s_lane_end(self, &self->lanes[i], server, false);
    if (self->gathered.count == 0)
        return;
    s_lane_t *lane = s_free_lane(self);
    if (!lane && !kf_group_full(self))
        return; /* gather more while the lanes commit */
    if (!lane) {
        lane = s_oldest_lane(self);
        s_lane_end(self, lane, server, true);
    }
    s_send(self, lane, server);
}

void kf_group_poll(kf_group_t *self, kf_pollset_t *set)
{
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].batch.count)
            kf_pollset_fd(set, kf_store_socket(self->lanes[i].store));
}

/* ---- the stop ----------------------------------------------------------- */

/* Waits, until deadline (zclock_mono), for the lane's COMMIT and answers
   its group; false when the deadline came first. */
static bool s_lane_wait(kf_group_t *self, s_lane_t *lane, kf_server_t *server, int64_t deadline)
{
    while (lane->batch.count && !s_lane_end(self, lane, server, false)) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            return false;
        struct pollfd ready = {.fd = kf_store_socket(lane->store), .events = POLLIN};
        poll(&ready, 1, (int)(left > 100 ? 100 : left));
    }
    return true;
}

/* Answers each request of batch `unavailable` and empties it. */
static void s_abandon(kf_group_t *self, s_batch_t *batch, kf_server_t *server)
{
    kf_error_t err;
    kf_error_set(&err, KF_E_UNAVAILABLE, "", "stopping before the store answered; retry");
    for (int i = 0; i < batch->count; i++) {
        kf_group_entry_t *entry = &batch->entries[i];
        if (self->spec.done) {
            entry->rc = -1;
            entry->err = err;
            self->spec.done(self->spec.arg, batch->base + i, entry);
        }
        kf_body_destroy(&entry->reply);
        kf_server_answer(server, &entry->req, -1, NULL, &err);
        kf_request_clear(&entry->req);
    }
    if (batch->count)
        kf_warn("group.abandoned", "group=%s requests=%d", self->what, batch->count);
    batch->count = 0;
}

void kf_group_drain(kf_group_t *self, kf_server_t *server)
{
    int64_t deadline = zclock_mono() + S_DRAIN_MS;
    if (self->gathered.count) {
        s_lane_t *lane = s_free_lane(self);
        if (!lane) {
            lane = s_oldest_lane(self);
            s_lane_wait(self, lane, server, deadline);
        }
        if (lane->batch.count == 0)
            s_send(self, lane, server);
    }
    for (int i = 0; i < self->lane_count; i++) {
        s_lane_t *lane = &self->lanes[i];
        if (s_lane_wait(self, lane, server, deadline))
            continue;
        kf_outbox_discard(lane->kept); /* the consumers' catch-up finds them if committed */
        s_abandon(self, &lane->batch, server);
    }
    s_abandon(self, &self->gathered, server); /* no lane came free in time */
}
