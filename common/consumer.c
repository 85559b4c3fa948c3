/* kefu — a consumer of events (see consumer.h). */
#include "consumer.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "envelope.h"
#include "log.h"
#include "stop.h"

/* A burst taken from the socket: the envelopes and their events. */
typedef struct {
    kf_env_t *envs[KF_CONSUMER_BURST_MAX];
    kf_event_t events[KF_CONSUMER_BURST_MAX];
    int count;
} s_burst_t;

/* A connection of its own on which bursts from the socket are applied:
   its COMMIT is sent without waiting, and the next burst is applied on
   another lane while the store flushes this one (kf_consumer_add_lane). */
typedef struct {
    kf_store_t *store;
    kf_outbox_t *outbox; /* the events of its burst, published once committed */
    void *arg;           /* given to apply_batch */
    bool committing;     /* its COMMIT is sent and not yet answered */
    uint64_t sent;       /* the order its COMMIT was sent in */
} s_lane_t;

struct kf_consumer {
    kf_consumer_spec_t spec;
    kf_store_t *store;
    zsock_t *in;
    kf_outbox_t *outbox;
    kf_health_t *health;
    int batch;
    char *handled; /* ",type,type," for the membership test */
    uint64_t bad;
    bool retrying;                  /* failed events to apply again after catch-up */
    char after[KF_FEED_AFTER_SIZE]; /* where that has got to */
    s_burst_t burst;                /* the one being applied; kept here, not allocated per ring */
    s_lane_t lanes[KF_CONSUMER_LANES_MAX];
    int lane_count;
    uint64_t sent; /* COMMITs sent on lanes so far */
};

/* Registers the statements of the feed and the consumer on store. */
static void s_prepare(kf_store_t *store)
{
    kf_feed_prepare(store);
    kf_store_statement(store, "consumer_events",
                       "SELECT " KF_EVENT_COLUMNS " FROM event WHERE id = ANY ($1::uuid[]) "
                       "AND type = ANY ($2::text[]) ORDER BY seq");
}

kf_consumer_t *kf_consumer_new(const kf_consumer_spec_t *spec, kf_store_t *store, zsock_t *in,
                               kf_outbox_t *outbox, kf_health_t *health, long batch)
{
    assert(spec->apply_batch);
    kf_consumer_t *self = (kf_consumer_t *)zmalloc(sizeof(kf_consumer_t));
    self->spec = *spec;
    self->store = store;
    s_prepare(store);
    self->in = in;
    self->outbox = outbox;
    self->health = health;
    self->batch = batch < 1                       ? 1
                  : batch > KF_CONSUMER_BURST_MAX ? KF_CONSUMER_BURST_MAX
                                                  : (int)batch;
    /* "{a,b}" -> ",a,b," */
    self->handled = strdup(spec->types);
    assert(self->handled);
    size_t len = strlen(self->handled);
    if (len >= 2) {
        self->handled[0] = ',';
        self->handled[len - 1] = ',';
    }
    return self;
}

kf_outbox_t *kf_consumer_add_lane(kf_consumer_t *self, const kf_lane_spec_t *spec)
{
    assert(self->lane_count < KF_CONSUMER_LANES_MAX && spec->prepare);
    s_lane_t *lane = &self->lanes[self->lane_count++];
    *lane = (s_lane_t){.store = kf_store_new(spec->url, spec->app_name),
                       .outbox = kf_outbox_twin(self->outbox),
                       .arg = spec->arg};
    s_prepare(lane->store);
    spec->prepare(lane->store);
    if (spec->on_commit)
        kf_outbox_set_hook(lane->outbox, spec->on_commit, spec->arg);
    return lane->outbox;
}

static bool s_settle(kf_consumer_t *self, s_lane_t *lane, bool wait);

void kf_consumer_destroy(kf_consumer_t **self_p)
{
    assert(self_p);
    kf_consumer_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->lane_count; i++) { /* what committed is published */
        if (self->lanes[i].committing)
            s_settle(self, &self->lanes[i], true);
        kf_outbox_destroy(&self->lanes[i].outbox);
        kf_store_destroy(&self->lanes[i].store);
    }
    free(self->handled);
    free(self);
    *self_p = NULL;
}

uint64_t kf_consumer_bad_messages(kf_consumer_t *self)
{
    return self->bad;
}

/* True when the consumer handles events of type. */
static bool s_handles(kf_consumer_t *self, const char *type)
{
    char key[128];
    if (snprintf(key, sizeof key, ",%s,", type) >= (int)sizeof key)
        return false;
    return strstr(self->handled, key) != NULL;
}

/* True when text looks like a UUID (so that it can go into a uuid[]). */
static bool s_is_uuid(const char *text)
{
    if (strlen(text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
            return false;
    }
    return true;
}

/* Counts and logs a message that cannot be used. */
static void s_bad(kf_consumer_t *self, const char *what, kf_err_t code, const char *field,
                  const char *type)
{
    self->bad++;
    kf_health_error(self->health, code);
    kf_warn(what, "code=%s field=%s type=%s count=%" PRIu64, kf_err_name(code), field,
            type ? type : "-", self->bad);
}

/* Decodes one message from the socket; NULL when it is not an event the
   consumer handles (counted and logged). A SUB socket's prefix match may
   bring a neighbouring type: that is dropped without a word. */
static kf_env_t *s_take_one(kf_consumer_t *self)
{
    zmsg_t *msg = zmsg_recv(self->in);
    if (!msg)
        return NULL;
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    if (!env) {
        s_bad(self, "work.bad_message", err.code, err.field, NULL);
        return NULL;
    }
    const char *type = kf_env_type(env);
    if (!s_handles(self, type)) {
        if (zsock_type(self->in) != ZMQ_SUB)
            s_bad(self, "work.unexpected", KF_E_UNKNOWN_TYPE, "type", type);
    } else if (self->spec.reread && !s_is_uuid(kf_env_id(env)))
        s_bad(self, "work.bad_message", KF_E_BAD_VALUE, "id", type);
    else {
        kf_health_in(self->health, type, 1);
        return env;
    }
    kf_env_destroy(&env);
    return NULL;
}

/* Takes the messages that have arrived, up to a batch, into burst. */
static void s_take(kf_consumer_t *self, s_burst_t *burst)
{
    burst->count = 0;
    do {
        kf_env_t *env = s_take_one(self);
        if (!env)
            continue;
        burst->envs[burst->count] = env;
        burst->events[burst->count++] = (kf_event_t){.seq = kf_env_seq(env),
                                                     .id = kf_env_id(env),
                                                     .type = kf_env_type(env),
                                                     .corr = kf_env_corr(env),
                                                     .src = kf_env_src(env),
                                                     .at = kf_env_at(env)};
    } while (burst->count < self->batch && (zsock_events(self->in) & ZMQ_POLLIN));
}

/* Applies count events one by one on lane (after their burst failed with
   err), each in its own transaction, so one bad event cannot hold up the
   rest. Publishes what committed, drops what did not. */
static void s_apply_alone(kf_consumer_t *self, const s_lane_t *lane, const kf_event_t *events,
                          int count, kf_error_t *err)
{
    const kf_consumer_spec_t *spec = &self->spec;
    for (int i = 0; i < count && err->code != KF_E_UNAVAILABLE; i++) {
        if (kf_feed_apply(lane->store, spec->name, &events[i], spec->apply_batch, lane->arg, err) >=
            0) {
            kf_outbox_publish(lane->outbox);
            continue;
        }
        kf_outbox_discard(lane->outbox);
        kf_warn("work.deferred", "event_id=%s ticket=%s code=%s reason=\"left for catch-up\"",
                events[i].id, events[i].corr, kf_err_name(err->code));
        kf_health_fault(self->health, spec->name, err);
    }
}

/* Ends the burst whose COMMIT lane sent once its answer has come (wait:
   blocks for it): publishes its events when it committed; when it did not,
   they are left for catch-up (it marked none of them processed). False
   while the answer is incomplete. */
static bool s_settle(kf_consumer_t *self, s_lane_t *lane, bool wait)
{
    kf_error_t err = {0};
    int rc = kf_store_committed(lane->store, wait, &err);
    if (rc == 1)
        return false;
    lane->committing = false;
    if (rc == 0) {
        kf_outbox_publish(lane->outbox);
        return true;
    }
    kf_outbox_discard(lane->outbox);
    kf_warn("work.deferred", "consumer=%s code=%s reason=\"the commit failed; left for catch-up\"",
            self->spec.name, kf_err_name(err.code));
    kf_health_fault(self->health, self->spec.name, &err);
    return true;
}

/* A lane to apply the next burst on: a free one, else the oldest once its
   COMMIT is answered. */
static s_lane_t *s_free_lane(kf_consumer_t *self)
{
    s_lane_t *oldest = NULL;
    for (int i = 0; i < self->lane_count; i++) {
        s_lane_t *lane = &self->lanes[i];
        if (!lane->committing || s_settle(self, lane, false))
            return lane;
        if (!oldest || lane->sent < oldest->sent)
            oldest = lane;
    }
    s_settle(self, oldest, true);
    return oldest;
}

/* Applies count events in one transaction; one by one when that fails.
   On a lane of its own, the COMMIT is only sent (s_settle publishes);
   without lanes, on the consumer's store, what committed is published and
   what did not dropped. */
static void s_apply(kf_consumer_t *self, const kf_event_t *events, int count)
{
    const kf_consumer_spec_t *spec = &self->spec;
    s_lane_t own = {.store = self->store, .outbox = self->outbox, .arg = spec->arg};
    s_lane_t *lane = self->lane_count ? s_free_lane(self) : &own;
    kf_error_t err = {0};
    if (kf_store_ready(lane->store, &err) != 0)
        return; /* left for catch-up */
    if (lane == &own) {
        if (kf_feed_apply_batch(lane->store, spec->name, events, count, spec->apply_batch,
                                lane->arg, &err) >= 0) {
            kf_outbox_publish(lane->outbox);
            return;
        }
    } else if (kf_feed_apply_open(lane->store, spec->name, events, count, spec->apply_batch,
                                  lane->arg, &err) >= 0) {
        if (kf_store_commit_send(lane->store, &err) == 0) {
            lane->committing = true;
            lane->sent = ++self->sent;
            return;
        }
        kf_store_rollback(lane->store);
    }
    kf_outbox_discard(lane->outbox);
    s_apply_alone(self, lane, events, count, &err);
}

/* Reads the burst's events back from the store and applies them. */
static void s_apply_reread(kf_consumer_t *self, const s_burst_t *burst)
{
    char *ids = kf_event_array(burst->events, burst->count, KF_EVENT_ID);
    kf_error_t err = {0};
    const char *params[] = {ids, self->spec.types};
    PGresult *rows = kf_store_exec(self->store, "consumer_events", 2, params, &err);
    free(ids);
    if (!rows)
        return;
    int n = PQntuples(rows);
    kf_event_t *events = (kf_event_t *)calloc((size_t)n + 1, sizeof(kf_event_t));
    assert(events);
    for (int i = 0; i < n; i++)
        events[i] = kf_event_from_row(rows, i, 0);
    if (n > 0)
        s_apply(self, events, n);
    free(events);
    PQclear(rows);
}

void kf_consumer_on_socket(kf_consumer_t *self)
{
    s_burst_t *burst = &self->burst;
    s_take(self, burst);
    if (burst->count > 0 && self->spec.reread) {
        if (kf_store_ready(self->store, NULL) == 0)
            s_apply_reread(self, burst);
    } else if (burst->count > 0)
        s_apply(self, burst->events, burst->count);
    for (int i = 0; i < burst->count; i++)
        kf_env_destroy(&burst->envs[i]);
}

int kf_consumer_poll(kf_consumer_t *self, kf_pollset_t *set)
{
    int committing = 0;
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].committing) {
            kf_pollset_fd(set, kf_store_socket(self->lanes[i].store));
            committing++;
        }
    return self->lane_count > 0 && committing == self->lane_count ? -1
                                                                  : kf_pollset_sock(set, self->in);
}

void kf_consumer_on_store(kf_consumer_t *self)
{
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].committing)
            s_settle(self, &self->lanes[i], false);
}

/* Applies a burst the catch-up read (or one event of it, retried or
   isolated) and counts what it applied as taken in. */
static int s_apply_batch_counted(kf_store_t *store, const kf_event_t *events, int count,
                                 kf_error_t *errors, void *arg, kf_error_t *err)
{
    kf_consumer_t *self = (kf_consumer_t *)arg;
    int rc = self->spec.apply_batch(store, events, count, errors, self->spec.arg, err);
    for (int i = 0; rc == 0 && i < count; i++)
        if (errors[i].code == KF_OK)
            kf_health_in(self->health, events[i].type, 1);
    return rc;
}

int64_t kf_duty_deadline(void)
{
    return zclock_mono() + KF_DUTY_BUDGET_MS;
}

bool kf_duty_run(kf_slice_fn *slice, void *arg, int64_t deadline)
{
    bool more;
    do
        more = slice(arg);
    while (more && !kf_stop_requested() && zclock_mono() < deadline);
    return more;
}

/* One catch-up pass; true when it read events (there may be more). */
static bool s_catch_up_pass(void *arg)
{
    kf_consumer_t *self = (kf_consumer_t *)arg;
    const kf_consumer_spec_t *spec = &self->spec;
    kf_error_t err = {0};
    int applied = 0;
    int read = kf_feed_catch_up(self->store, spec->name, spec->types, self->batch,
                                s_apply_batch_counted, self, &applied, &err);
    if (read < 0) {
        kf_outbox_discard(self->outbox);
        kf_health_fault(self->health, "catch-up", &err);
    } else
        kf_outbox_publish(self->outbox);
    if (applied > 0)
        kf_info("catchup.applied", "consumer=%s events=%d", spec->name, applied);
    return read > 0;
}

/* One pass applying failed events again; true when it read a full batch
   (there may be more). A store error leaves the rest for the next call. */
static bool s_retry_pass(void *arg)
{
    kf_consumer_t *self = (kf_consumer_t *)arg;
    const kf_consumer_spec_t *spec = &self->spec;
    kf_error_t err = {0};
    int applied = 0;
    int read = kf_feed_retry_failed(self->store, spec->name, spec->types, self->batch, self->after,
                                    s_apply_batch_counted, self, &applied, &err);
    if (read < 0) {
        kf_outbox_discard(self->outbox);
        kf_health_fault(self->health, "retry of failed events", &err);
        return false;
    }
    kf_outbox_publish(self->outbox);
    if (read > 0)
        kf_info("catchup.retried", "consumer=%s events=%d applied=%d", spec->name, read, applied);
    self->retrying = read >= self->batch;
    return self->retrying;
}

void kf_consumer_retry_failed(kf_consumer_t *self)
{
    self->retrying = true;
    snprintf(self->after, sizeof self->after, "%s", KF_FEED_AFTER_START);
}

bool kf_consumer_catch_up(kf_consumer_t *self)
{
    int64_t deadline = kf_duty_deadline();
    bool more = kf_duty_run(s_catch_up_pass, self, deadline);
    if (!more && self->retrying)
        more = kf_duty_run(s_retry_pass, self, deadline);
    return more;
}
