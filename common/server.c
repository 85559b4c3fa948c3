/* kefu — a request server (see server.h). */
#include "server.h"

#include <assert.h>
#include <malloc.h>
#include <string.h>

#include "log.h"
#include "stop.h"

#define S_TIMED_MAX 4 /* request types timed per server */
/* kf_server_idle: how often it looks, and how much more memory must lie
   free in the heap than after the last trim for it to trim again. */
#define S_TRIM_EVERY_MS 1000
#define S_TRIM_SLACK (1u << 20)

struct kf_server {
    kf_server_spec_t spec;
    zsock_t *clients;
    kf_store_t *store;
    kf_health_t *health;
    struct {
        const char *type;
        kf_metric_t *histogram;
    } timed[S_TIMED_MAX];
    int timed_count;
    int64_t looked_at;      /* kf_server_idle's last look */
    size_t free_after_trim; /* the heap's free bytes after its last trim (or since, the least) */
};

kf_server_t *kf_server_new(const kf_server_spec_t *spec, kf_store_t *store, kf_health_t *health,
                           kf_auth_t *auth, const char *endpoint)
{
    zsock_t *clients = zsock_new(ZMQ_ROUTER);
    kf_auth_serve(auth, clients);
    zsock_set_linger(clients, 0);
    sigset_t old; /* a stop arriving now waits for the bind's outcome */
    kf_stop_hold(&old);
    int rc = zsock_bind(clients, "%s", endpoint);
    kf_stop_release(&old);
    if (rc < 0) {
        char what[64];
        snprintf(what, sizeof what, "%s.bind_failed", spec->daemon);
        kf_error(what, "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&clients);
        return NULL;
    }
    kf_server_t *self = (kf_server_t *)zmalloc(sizeof(kf_server_t));
    self->spec = *spec;
    self->clients = clients;
    self->store = store;
    self->health = health;
    return self;
}

void kf_server_destroy(kf_server_t **self_p)
{
    assert(self_p);
    kf_server_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->clients);
    free(self);
    *self_p = NULL;
}

zsock_t *kf_server_socket(kf_server_t *self)
{
    return self->clients;
}

void kf_server_time(kf_server_t *self, const char *type, kf_metric_t *histogram)
{
    assert(self->timed_count < S_TIMED_MAX);
    self->timed[self->timed_count].type = type;
    self->timed[self->timed_count++].histogram = histogram;
}

/* Observes req's time to its reply when its type is timed. */
static void s_observe(kf_server_t *self, const kf_request_t *req)
{
    const char *type = kf_env_type(req->env);
    for (int i = 0; i < self->timed_count; i++)
        if (strcmp(self->timed[i].type, type) == 0)
            kf_metric_observe(self->timed[i].histogram, NULL, NULL,
                              (double)(zclock_usecs() - req->arrived) / 1e6);
}

void kf_server_answer(kf_server_t *self, kf_request_t *req, int rc, kf_body_t **reply_p,
                      const kf_error_t *err)
{
    const char *src = self->spec.src;
    if (rc == 0) {
        kf_reply_ok(self->clients, req, src, reply_p);
        s_observe(self, req);
        return;
    }
    if (reply_p)
        kf_body_destroy(reply_p);
    kf_reply_error(self->clients, req, src, err);
    const char *type = req->env ? kf_env_type(req->env) : "-";
    char message[240];
    kf_info("request.refused", "type=%s code=%s field=%s message=%s", type, kf_err_name(err->code),
            err->field, kf_log_quote(err->message, message, sizeof message));
    if (err->code == KF_E_UNAVAILABLE || err->code == KF_E_INTERNAL)
        kf_health_fault(self->health, type, err);
    else
        kf_health_error(self->health, err->code);
}

void kf_server_defer(kf_request_t *req, kf_request_t *to)
{
    *to = *req;
    memset(req, 0, sizeof *req);
}

/* The route of type, or NULL. */
static const kf_route_t *s_route(kf_server_t *self, const char *type)
{
    for (const kf_route_t *route = self->spec.routes; route->type; route++)
        if (strcmp(route->type, type) == 0)
            return route;
    return NULL;
}

/* Serves one decoded request into reply. */
static int s_dispatch(kf_server_t *self, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    const char *type = kf_env_type(req->env);
    const kf_route_t *route = s_route(self, type);
    /* A client waits: try the store at once rather than after the idle
       back-off, which grows to 5 s while the store is down. */
    if ((!route || !route->own_store) && kf_store_ready_now(self->store, err) != 0)
        return -1;
    if (!route)
        return kf_error_set(err, KF_E_UNKNOWN_TYPE, "type", "%s does not serve %s", self->spec.name,
                            type);
    int rc = route->handler(self->spec.arg, req, reply, err);
    if (self->spec.outbox && rc == 0)
        kf_outbox_publish(self->spec.outbox);
    else if (self->spec.outbox && rc < 0)
        kf_outbox_discard(self->spec.outbox);
    return rc;
}

/* Serves one request taken off the socket, and clears it. */
static void s_serve(kf_server_t *self, kf_request_t *req)
{
    if (!req->env) {
        kf_warn("request.bad", "code=%s field=%s", kf_err_name(req->err.code), req->err.field);
        kf_health_error(self->health, req->err.code);
        kf_reply_error(self->clients, req, self->spec.src, &req->err);
        kf_request_clear(req);
        return;
    }
    kf_health_in(self->health, kf_env_type(req->env), 1);
    kf_error_t err = {0};
    kf_body_t *reply = kf_body_new();
    int rc = s_dispatch(self, req, reply, &err);
    if (rc == KF_SERVER_DEFERRED)
        kf_body_destroy(&reply);
    else
        kf_server_answer(self, req, rc, &reply, &err);
    kf_request_clear(req);
}

void kf_server_on_socket(kf_server_t *self)
{
    const kf_server_spec_t *spec = &self->spec;
    int taken = 0;
    do {
        kf_request_t req;
        if (kf_request_recv(self->clients, &req) != 0)
            break;
        s_serve(self, &req);
    } while (++taken < spec->burst && !(spec->full && spec->full(spec->arg)) &&
             (zsock_events(self->clients) & ZMQ_POLLIN));
    if (spec->flush)
        spec->flush(spec->arg);
}

/* Each client connection costs libzmq some 36-38 KiB across its threads'
   malloc arenas, freed when it closes (with or without a request sent);
   without a trim the resident size stays at the peak of connections. The
   heap's free bytes (mallinfo2, all arenas) tell when there is something
   to hand back, whatever freed it. */
void kf_server_idle(kf_server_t *self)
{
    int64_t now = zclock_mono();
    if (now - self->looked_at < S_TRIM_EVERY_MS)
        return;
    self->looked_at = now;
    size_t free_bytes = mallinfo2().fordblks;
    if (free_bytes < self->free_after_trim + S_TRIM_SLACK) {
        if (free_bytes < self->free_after_trim)
            self->free_after_trim = free_bytes;
        return;
    }
    malloc_trim(0);
    self->free_after_trim = mallinfo2().fordblks;
}

int kf_server_stop(kf_server_t *self)
{
    int count = kf_turn_away(self->clients, self->spec.src, self->spec.name);
    /* The replies of the last burst may still be queued: let them reach
       their clients (bounded) rather than drop them at close. */
    zsock_set_linger(self->clients, 1000);
    return count;
}
