/* kefu — a request server: the one request-serving loop intake, approval
   and survey share. It binds the daemon's ROUTER socket (CURVE by
   auth.h), takes a burst of requests with the envelope checks of
   kf_request_recv, makes sure the store can be used, dispatches each
   request by its type through the daemon's table, replies reply.ok or
   reply.error (counted on the daemon's health), and at the stop answers
   the requests still queued with `unavailable`.

   A handler may defer its reply (group commit: intake's submits,
   survey's answers): it moves the request out (kf_server_defer) and
   returns KF_SERVER_DEFERRED; the daemon's flush, called after every
   burst, writes the group and answers each request with
   kf_server_answer. */
#ifndef KF_SERVER_H
#define KF_SERVER_H

#include <czmq.h>
#include <stdbool.h>

#include "auth.h"
#include "health.h"
#include "outbox.h"
#include "sock.h"
#include "store.h"

/* A handler's return when it took the request over to answer later. */
#define KF_SERVER_DEFERRED 1

/* Serves req (decoded; req->env set) into reply. Returns 0 (reply.ok
   with reply), -1 with err (reply.error), or KF_SERVER_DEFERRED. */
typedef int(kf_handler_fn)(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err);

/* One entry of a dispatch table; the table ends with {NULL}. */
typedef struct {
    const char *type;
    kf_handler_fn *handler;
    /* The handler checks the store itself (after its own checks of the
       request); otherwise a store that cannot be used refuses the
       request before the handler is called. */
    bool own_store;
} kf_route_t;

typedef struct {
    const char *daemon; /* as in logs: "intake" (intake.bind_failed) */
    const char *name;   /* as clients read it: "kefu-approval does not serve x" */
    const char *src;    /* the replies' src */
    const kf_route_t *routes;
    void *arg;                /* given to the handlers and flush */
    void (*flush)(void *arg); /* after every burst, for deferred replies; may be NULL */
    bool (*full)(void *arg);  /* true ends a burst early (a full group); may be NULL */
    int burst;                /* most requests taken in one go */
    kf_outbox_t *outbox;      /* published after a handler's success, dropped after
                                 its failure; may be NULL */
} kf_server_spec_t;

typedef struct kf_server kf_server_t;

/* Binds a ROUTER socket served by auth at endpoint. NULL (logged as
   DAEMON.bind_failed) when it cannot be bound. */
kf_server_t *kf_server_new(const kf_server_spec_t *spec, kf_store_t *store, kf_health_t *health,
                           kf_auth_t *auth, const char *endpoint);
void kf_server_destroy(kf_server_t **self_p);

/* The ROUTER socket, for the daemon's poller. */
zsock_t *kf_server_socket(kf_server_t *self);

/* Observes, on histogram, the seconds from the arrival of each request
   of type to its successful reply. */
void kf_server_time(kf_server_t *self, const char *type, kf_metric_t *histogram);

/* Takes the requests that have arrived (up to a burst), serves them, then
   calls the flush. */
void kf_server_on_socket(kf_server_t *self);

/* Call when the daemon's poll found nothing to do: at most once a second,
   when the heap holds a MiB more free memory than after the last trim
   (closed client connections, a burst of requests), hands it back to the
   system (malloc_trim). */
void kf_server_idle(kf_server_t *self);

/* Moves req into to (for a deferred reply); req is left empty. */
void kf_server_defer(kf_request_t *req, kf_request_t *to);

/* Answers req: reply.ok with *reply_p when rc is 0, else reply.error with
   err (logged and counted). Takes *reply_p (reply_p may be NULL for a
   refusal); does not clear req. */
void kf_server_answer(kf_server_t *self, kf_request_t *req, int rc, kf_body_t **reply_p,
                      const kf_error_t *err);

/* At the stop: answers what is still queued `unavailable` ("NAME is
   stopping; retry") and lets the last replies reach their clients
   (bounded). Returns how many were turned away. */
int kf_server_stop(kf_server_t *self);

#endif
