/* kefu — publishing after commit (see outbox.h). */
#include "outbox.h"

#include <assert.h>

#include "bus.h"
#include "feed.h"
#include "log.h"

struct kf_outbox {
    zsock_t *events;
    char src[32];
    kf_health_t *health;
    int col;
    bool log;
    zlist_t *rows; /* PGresults */
    kf_outbox_hook_fn *hook;
    void *hook_arg;
};

kf_outbox_t *kf_outbox_new(zsock_t *events, const char *src, kf_health_t *health, int col)
{
    kf_outbox_t *self = (kf_outbox_t *)zmalloc(sizeof(kf_outbox_t));
    self->events = events;
    snprintf(self->src, sizeof self->src, "%s", src);
    self->health = health;
    self->col = col;
    self->rows = zlist_new();
    return self;
}

kf_outbox_t *kf_outbox_twin(const kf_outbox_t *self)
{
    kf_outbox_t *twin = kf_outbox_new(self->events, self->src, self->health, self->col);
    twin->log = self->log;
    return twin;
}

void kf_outbox_destroy(kf_outbox_t **self_p)
{
    assert(self_p);
    kf_outbox_t *self = *self_p;
    if (!self)
        return;
    self->hook = NULL; /* its owner may be half gone */
    kf_outbox_discard(self);
    zlist_destroy(&self->rows);
    free(self);
    *self_p = NULL;
}

void kf_outbox_set_log(kf_outbox_t *self, bool on)
{
    self->log = on;
}

void kf_outbox_set_hook(kf_outbox_t *self, kf_outbox_hook_fn *hook, void *arg)
{
    self->hook = hook;
    self->hook_arg = arg;
}

void kf_outbox_keep(kf_outbox_t *self, PGresult *res)
{
    if (res)
        zlist_append(self->rows, res);
}

void kf_outbox_take(kf_outbox_t *self, kf_outbox_t *from)
{
    for (void *res = zlist_pop(from->rows); res; res = zlist_pop(from->rows))
        zlist_append(self->rows, res);
}

zlist_t *kf_outbox_rows(kf_outbox_t *self)
{
    return self->rows;
}

int kf_outbox_publish(kf_outbox_t *self)
{
    int sent = 0;
    for (PGresult *res = (PGresult *)zlist_pop(self->rows); res;
         res = (PGresult *)zlist_pop(self->rows)) {
        for (int i = 0; i < PQntuples(res); i++) {
            if (PQgetisnull(res, i, self->col))
                continue;
            kf_event_t ev = kf_event_from_row(res, i, self->col);
            if (self->log)
                kf_info("event.written", "type=%s ticket=%s event_id=%s", ev.type, ev.corr, ev.id);
            if (kf_bus_send_event(self->events, &ev, self->src) != 0)
                continue;
            sent++;
            if (self->health)
                kf_health_out(self->health, ev.type, 1);
        }
        PQclear(res);
    }
    if (self->hook)
        self->hook(self->hook_arg, true);
    return sent;
}

void kf_outbox_discard(kf_outbox_t *self)
{
    for (PGresult *res = (PGresult *)zlist_pop(self->rows); res;
         res = (PGresult *)zlist_pop(self->rows))
        PQclear(res);
    if (self->hook)
        self->hook(self->hook_arg, false);
}
