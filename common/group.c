/* kefu — group commit for a request server (see group.h). */
#include "group.h"

#include <assert.h>
#include <string.h>

#include "log.h"

struct kf_group {
    kf_group_spec_t spec;
    kf_store_t *store;
    char what[48]; /* NAME.group, for the log */
    kf_group_entry_t *entries;
    int count;
};

kf_group_t *kf_group_new(const kf_group_spec_t *spec, kf_store_t *store)
{
    assert(spec->max > 0 && spec->run && spec->outbox && spec->kept);
    kf_group_t *self = (kf_group_t *)zmalloc(sizeof(kf_group_t));
    self->spec = *spec;
    self->store = store;
    snprintf(self->what, sizeof self->what, "%s.group", spec->name);
    self->entries = (kf_group_entry_t *)calloc((size_t)spec->max, sizeof(kf_group_entry_t));
    assert(self->entries);
    return self;
}

void kf_group_destroy(kf_group_t **self_p)
{
    assert(self_p);
    kf_group_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->count; i++) {
        kf_body_destroy(&self->entries[i].reply);
        kf_request_clear(&self->entries[i].req);
    }
    free(self->entries);
    free(self);
    *self_p = NULL;
}

int kf_group_next(kf_group_t *self)
{
    return self->count;
}

kf_group_entry_t *kf_group_add(kf_group_t *self, kf_request_t *req)
{
    assert(self->count < self->spec.max);
    kf_group_entry_t *entry = &self->entries[self->count++];
    memset(entry, 0, sizeof *entry);
    kf_server_defer(req, &entry->req);
    entry->reply = kf_body_new();
    return entry;
}

bool kf_group_full(kf_group_t *self)
{
    return self->count >= self->spec.max;
}

/* True when a request's refusal (err) ends the group's transaction. */
static bool s_ends_group(kf_group_t *self, const kf_error_t *err)
{
    if (err->code == KF_E_UNAVAILABLE)
        return true;
    if (self->spec.savepoints) /* the whole transaction is the victim */
        return strncmp(kf_store_sqlstate(self->store), "40", 2) == 0;
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
static int s_savepoint(kf_group_t *self, const char *sql, kf_error_t *err)
{
    return self->spec.savepoints ? kf_store_run(self->store, sql, err) : 0;
}

/* Runs request i in the group's transaction; its events join the
   group's when it is done. Returns 0, or -1 with err when the group
   cannot go on. */
static int s_run_in(kf_group_t *self, int i, kf_error_t *err)
{
    kf_group_entry_t *entry = &self->entries[i];
    if (s_savepoint(self, "SAVEPOINT group_request", err) != 0)
        return -1;
    entry->rc = self->spec.run(self->spec.arg, i, entry);
    if (entry->rc == 0) {
        kf_outbox_take(self->spec.kept, self->spec.outbox);
        return s_savepoint(self, "RELEASE SAVEPOINT group_request", err);
    }
    s_forget(self);
    if (s_ends_group(self, &entry->err)) {
        *err = entry->err;
        return -1;
    }
    return s_savepoint(self, "ROLLBACK TO SAVEPOINT group_request", err);
}

/* Runs the group in one transaction, committed when a request wrote
   something. Returns 0, or -1 with err (rolled back). */
static int s_run_group(kf_group_t *self, kf_error_t *err)
{
    int ran = 0, refused = 0;
    bool wrote = false;
    bool failed =
        kf_store_ready_now(self->store, err) != 0 || kf_store_begin(self->store, err) != 0;
    for (int i = 0; i < self->count && !failed; i++) {
        kf_group_entry_t *entry = &self->entries[i];
        if (entry->refused)
            continue;
        failed = s_run_in(self, i, err) != 0;
        ran++;
        refused += entry->rc != 0;
        wrote |= entry->rc == 0 && entry->wrote;
    }
    if (!failed && wrote && kf_store_commit(self->store, err) != 0)
        failed = true;
    kf_store_rollback(self->store); /* ends a failed group, or one that wrote nothing */
    kf_debug(self->what, "count=%d ran=%d refused=%d failed=%d", self->count, ran, refused, failed);
    return failed ? -1 : 0;
}

/* Runs request i alone in its own transaction and publishes its events. */
static void s_run_one(kf_group_t *self, int i)
{
    kf_group_entry_t *entry = &self->entries[i];
    entry->wrote = false;
    entry->rc = kf_store_ready_now(self->store, &entry->err) == 0 &&
                        kf_store_begin(self->store, &entry->err) == 0
                    ? self->spec.run(self->spec.arg, i, entry)
                    : -1;
    if (entry->rc == 0 && entry->wrote && kf_store_commit(self->store, &entry->err) != 0)
        entry->rc = -1;
    kf_store_rollback(self->store); /* a failure, or a request that wrote nothing */
    if (entry->rc == 0)
        kf_outbox_publish(self->spec.outbox);
    else
        s_forget(self);
}

/* After a failed group (err): each request again alone, or refused with
   err when the store is unreachable. */
static void s_run_alone(kf_group_t *self, const kf_error_t *err)
{
    kf_outbox_discard(self->spec.kept);
    s_forget(self);
    for (int i = 0; i < self->count; i++) {
        kf_group_entry_t *entry = &self->entries[i];
        if (entry->refused)
            continue;
        kf_body_destroy(&entry->reply);
        entry->reply = kf_body_new();
        entry->rc = -1;
        entry->err = *err;
        if (err->code == KF_E_UNAVAILABLE)
            continue;
        memset(&entry->err, 0, sizeof entry->err);
        s_run_one(self, i);
    }
}

void kf_group_flush(kf_group_t *self, kf_server_t *server)
{
    if (self->count == 0)
        return;
    kf_error_t err = {0};
    if (s_run_group(self, &err) != 0)
        s_run_alone(self, &err);
    else
        kf_outbox_publish(self->spec.kept);
    for (int i = 0; i < self->count; i++) {
        kf_group_entry_t *entry = &self->entries[i];
        if (self->spec.done)
            self->spec.done(self->spec.arg, i, entry);
        kf_server_answer(server, &entry->req, entry->rc, &entry->reply, &entry->err);
        kf_request_clear(&entry->req);
    }
    self->count = 0;
}
