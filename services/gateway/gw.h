/* kefu-gateway — what its modules share inside the daemon: the gateway's
   state and one HTTP request's. Not for use outside services/gateway. */
#ifndef GW_H
#define GW_H

#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "events.h"
#include "gateway.h"
#include "health.h"
#include "request.h"
#include "secret.h"
#include "store.h"
#include "web.h"
#include "wire.h"
#include "worker.h"

#define GW_KIT_SIZE (KF_KIT_LEN + 1) /* an integration token (token.h) and its NUL */

typedef enum {
    GW_RECEIVING, /* the head or the body is arriving */
    GW_WAITING,   /* suspended: for a reply, the worker */
    GW_ANSWERED   /* the answer is ready to queue */
} gw_state_t;

/* One HTTP request, from its head to its answer. */
typedef struct {
    gateway_t *gw;
    struct MHD_Connection *conn;
    gw_match_t match;
    int matched; /* gw_route_match's 200, 404 or 405 */
    char method[8];
    const char *pattern; /* the route's path, or "other": logs and metrics */
    int64_t started;     /* zclock_usecs */
    char *body;          /* POST: what arrived */
    size_t body_size;
    bool body_over; /* more than GW_MAX_BODY arrived (not kept) */
    gw_state_t state;
    bool suspended;
    /* the session */
    char token[GW_TOKEN_SIZE]; /* "" when none */
    char kit[GW_KIT_SIZE];     /* an integration token (Authorization: Bearer), "" when none */
    char staff[KF_LIM_STAFF + 1];
    char session_id[24];
    bool must_change;
    char address[64];
    /* the answer */
    int status;
    char *answer; /* JSON text, NULL for none (204) */
    char cookie[200];
    int retry_after; /* seconds, 0: none */
    gw_job_t *job;   /* at the worker */
    /* an answer made elsewhere (an event stream), queued as it is */
    struct MHD_Response *response;
    const char *content_type; /* NULL: JSON */
    const gw_file_t *file;    /* a file of the console, answered as it is */
    const char *etag;         /* NULL: none and Cache-Control no-store; else no-cache */
} gw_req_t;

struct gateway {
    int http_fd; /* MHD's epoll descriptor, for the poller */
    struct MHD_Daemon *http;
    bool tls;
    int port;
    unsigned int max_conns;
    long idle_s, max_s; /* session expiry */
    kf_store_t *store;
    kf_health_t *health;
    gw_wire_t *wire;
    gw_worker_t *worker;
    int jobs;          /* at the worker */
    zhashx_t *touched; /* SHA-256 hex of a token -> its last touch (zclock_mono, in a string) */
    zlistx_t *conns;   /* open connections (gw_conn_t), for their deadlines */
    int64_t next_cut;  /* when the deadlines are looked at next */
    kf_metric_t *requests, *seconds, *open;
    char *tls_cert, *tls_key; /* PEM, when TLS */
    zsock_t *calls_pub;       /* PUB to the bus: calls.c rings it after a call changed */
    gw_events_t *events;      /* the live event streams */
    gw_web_t *web;            /* the console's files; NULL: no console */
};

/* ---- http.c ---- */
/* Starts libmicrohttpd on KEFU_HTTP_BIND:KEFU_HTTP_PORT; -1 (on stderr). */
int gw_http_start(gateway_t *gw);
void gw_http_stop(gateway_t *gw);
/* Cuts connections past their deadline and runs MHD's timeouts. */
void gw_http_tick(gateway_t *gw);
/* Sets req's answer: status and body (taken; NULL: none), and resumes
   its connection when suspended. */
void gw_answer(gw_req_t *req, int status, json_t *body);
/* The answer of an error: {code, message, field} with status (0: the
   code's own). */
void gw_answer_error(gw_req_t *req, int status, const kf_error_t *err);
/* Suspends req's connection until gw_answer. */
void gw_suspend(gw_req_t *req);
/* A request header, or NULL. */
const char *gw_header(gw_req_t *req, const char *name);

/* True when req's If-None-Match names etag (or is *): the client holds it. */
bool gw_fresh(gw_req_t *req, const char *etag);

/* ---- gateway.c ---- */
/* Serves req once it arrived whole. */
void gw_dispatch(gw_req_t *req);

/* ---- session.c ---- */
void gw_session_prepare(kf_store_t *store);
/* Runs a prepared statement, connecting first when needed; NULL with err
   (counted on health) when the store fails. */
PGresult *gw_store_exec(kf_store_t *store, kf_health_t *health, const char *name, int n,
                        const char *const *params, kf_error_t *err);
/* For a route with auth=session: checks the cookie, the CSRF token and
   the session (touched at most every 30 s). True to go on; false when req
   is answered (401, 403, 503). */
bool gw_session_check(gw_req_t *req);
/* The gateway's own handlers (signin, whoami, signout, password); false
   when name is none of them. */
bool gw_session_handle(gw_req_t *req, const char *name);
/* A job back from the worker. */
void gw_session_job_done(gateway_t *gw, gw_job_t *job);
/* Forgets the last touch of req's session (it is no longer open). */
void gw_session_forget(gw_req_t *req);
/* For a gateway handler on a session route: fills req->staff from the
   session (touched at most every 30 s). True to go on; false when req is
   answered (401, 403 for a password to change, 503). */
bool gw_session_staff(gw_req_t *req);
/* Runs a prepared statement; NULL with err (unavailable) when the store
   fails. */
PGresult *gw_exec(gateway_t *gw, const char *name, int n, const char *const *params,
                  kf_error_t *err);
/* Answers 503 for a store that failed. */
void gw_unavailable(gw_req_t *req, kf_error_t *err);

/* ---- calls.c: integration tokens and the phone system's calls ---- */
/* Registers the statements of tokens and calls; connects calls_pub. */
void gw_calls_prepare(gateway_t *gw);
/* Checks req's credential as its route's auth says (none, session,
   token:SCOPE, session|token:SCOPE). True to go on; false when req is
   answered (401, 403, 503). */
bool gw_auth_check(gw_req_t *req);
/* The call handlers (call_event, calls_list, call_callback); false when
   name is none of them. */
bool gw_calls_handle(gw_req_t *req, const char *name);
/* Logs the use of req's integration token on a route that forwards it
   (submit), once req is answered. Nothing for a request without one. */
void gw_token_used(gw_req_t *req);

/* ---- console.c: what the console reads of the gateway itself ---- */
/* Registers the statements of the console handlers. */
void gw_console_prepare(kf_store_t *store);
/* The console handlers (labels, status); false when name is none of
   them. */
bool gw_console_handle(gw_req_t *req, const char *name);

/* ---- events.c ---- */
/* GET /api/v1/events: opens an event stream for req's session. */
void gw_events_open(gw_req_t *req);

#endif
