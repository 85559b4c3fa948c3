/* kefu-gateway — its settings, life and loop, and the routes that send a
   request over the wire (gateway.h). */
#include "gw.h"
#include "kf_openapi.h"

#include <sys/resource.h>

#include "jsonmp.h"
#include "log.h"
#include "stop.h"

#define S_FD_RESERVE 64 /* descriptors kept for everything but HTTP connections */
#define S_MAX_QUERY 32  /* query parameters of one request */

const kf_setting_t gateway_settings[] = {
    KF_SETTINGS_COMMON,
    KF_SETTINGS_HEALTH(KF_METRICS_PORT_GATEWAY),
    KF_SET_INT("KEFU_HTTP_PORT", "8080", 1, 65535, "port the HTTP API listens on"),
    KF_SET_ADDRESS("KEFU_HTTP_BIND", "127.0.0.1",
                   "address the HTTP API listens on (0.0.0.0: every interface)"),
    KF_SET_PATH("KEFU_GATEWAY_CERT", "",
                "the gateway's certificate file (kefu-admin cert --gateway NAME --out FILE)"),
    KF_SET_STRING("KEFU_INTAKE", "tcp://127.0.0.1:7700",
                  "intake's endpoint (several: comma-separated)"),
    KF_SET_STRING("KEFU_APPROVAL", "tcp://127.0.0.1:7720",
                  "kefu-approval's endpoint (several: comma-separated)"),
    KF_SET_STRING("KEFU_SURVEY", "tcp://127.0.0.1:7710",
                  "kefu-survey's endpoint (several: comma-separated)"),
    KF_SET_INT("KEFU_SESSION_IDLE_S", "1800", 1, 86400,
               "a session ends after this long without a request (s)"),
    KF_SET_INT("KEFU_SESSION_MAX_S", "43200", 60, 2592000,
               "a session ends this long after its sign-in, whatever its use (s)"),
    KF_SET_INT("KEFU_GATEWAY_TIMEOUT_MS", "5000", 100, 600000,
               "a daemon's answer is awaited this long, then 503 unavailable (ms)"),
    KF_SET_INT("KEFU_HTTP_MAX_CONNS", "10000", 16, 1000000,
               "HTTP connections open at once (capped by the open-files limit)"),
    KF_SET_PATH("KEFU_TLS_CERT", "",
                "PEM certificate (chain) for HTTPS; with KEFU_TLS_KEY; empty: plain HTTP"),
    KF_SET_PATH("KEFU_TLS_KEY", "", "PEM private key of KEFU_TLS_CERT"),
    KF_SET_PATH("KEFU_WEB_DIR", "",
                "the web console's files (empty: services/gateway/web of the source it was built "
                "from; the image's: /usr/share/kefu/web); off: no console, the API only"),
    GW_EVENTS_SETTINGS,
    KF_SETTINGS_END};

/* ---- requests over the wire ------------------------------------------------------- */

typedef struct {
    gw_param_t params[S_MAX_QUERY];
    size_t count;
    bool over;
} s_query_t;

/* MHD's iterator over the query string's parameters. */
static enum MHD_Result s_on_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    s_query_t *q = (s_query_t *)cls;
    if (q->count == S_MAX_QUERY) {
        q->over = true;
        return MHD_NO;
    }
    q->params[q->count++] = (gw_param_t){key, value ? value : ""};
    return MHD_YES;
}

/* Sends req's request over the wire and suspends it until the reply. */
static void s_send(gw_req_t *req)
{
    kf_error_t err = {0};
    s_query_t query = {.count = 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, s_on_param, &query);
    if (query.over) {
        kf_error_set(&err, KF_E_TOO_LONG, "", "over %d query parameters", S_MAX_QUERY);
        gw_answer_error(req, 400, &err);
        return;
    }
    gw_input_t in = {.match = &req->match,
                     .query = query.params,
                     .nquery = query.count,
                     .content_type = gw_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
                     .body = req->body,
                     .body_size = req->body_size,
                     .idem = gw_header(req, "Idempotency-Key")};
    kf_body_t *body = NULL;
    int status = gw_request_fill(&in, &body, &err);
    if (status != 0) {
        gw_answer_error(req, status, &err);
        return;
    }
    const char *message = req->match.route->message;
    /* A bearer token goes only where the route's auth names its scope
       (gw_auth_check): the daemons cannot tell which request it came with. */
    const char *session = req->kit[0] ? req->kit : req->token;
    if (gw_wire_send(req->gw->wire, message, session, &body, req) != 0) {
        kf_body_destroy(&body);
        kf_error_set(&err, KF_E_UNAVAILABLE, "", "kefu-%s cannot be reached; try again",
                     gw_service_of(message));
        req->retry_after = 1;
        gw_answer_error(req, 503, &err);
        return;
    }
    kf_health_out(req->gw->health, message, 1);
    gw_suspend(req);
}

/* Answers the OpenAPI document, generated from the model at build time. */
static void s_openapi(gw_req_t *req)
{
    req->status = 200;
    free(req->answer);
    req->answer = strdup(kf_openapi_json);
    req->state = GW_ANSWERED;
}

void gw_dispatch(gw_req_t *req)
{
    kf_error_t err = {0};
    if (req->file) { /* a file of the console: s_queue answers it */
        req->state = GW_ANSWERED;
        return;
    }
    if (req->matched != 200) {
        if (req->matched == 404)
            kf_error_set(&err, KF_E_NOT_FOUND, "", "no such route (see /api/v1/openapi.json)");
        else
            kf_error_set(&err, KF_E_BAD_VALUE, "", "%s is not allowed here (Allow: %s)",
                         req->method, req->match.allow);
        gw_answer_error(req, req->matched, &err);
        return;
    }
    const kf_model_route_t *route = req->match.route;
    if (!gw_auth_check(req))
        return;
    if (!route->handler) {
        s_send(req);
        if (req->state == GW_ANSWERED) /* refused before the wire */
            gw_token_used(req);
    } else if (strcmp(route->handler, "openapi") == 0)
        s_openapi(req);
    else if (strcmp(route->handler, "events") == 0)
        gw_events_open(req);
    else if (!gw_session_handle(req, route->handler) && !gw_calls_handle(req, route->handler) &&
             !gw_console_handle(req, route->handler)) {
        kf_error_set(&err, KF_E_NOT_FOUND, "", "%s is not served by this gateway", route->path);
        gw_answer_error(req, 404, &err);
    }
}

/* Answers req with the daemon's reply. */
static void s_on_reply(gw_req_t *req, kf_env_t *env)
{
    const msgpack_object *body = kf_env_body(env);
    kf_health_in(req->gw->health, kf_env_type(env), 1);
    if (strcmp(kf_env_type(env), "reply.ok") == 0) {
        gw_answer(req, 200, kf_json_from_msgpack(body));
        gw_token_used(req);
        return;
    }
    kf_error_t err = {.code = KF_E_INTERNAL};
    char code[32] = "";
    kf_get_str(body, "code", false, code, sizeof code, NULL);
    kf_get_str(body, "message", false, err.message, sizeof err.message, NULL);
    kf_get_str(body, "field", false, err.field, sizeof err.field, NULL);
    err.code = kf_err_from_name(code);
    if (err.code == KF_E_COUNT)
        err.code = KF_E_INTERNAL;
    if (err.code == KF_E_UNKNOWN_ACTOR)
        gw_session_forget(req); /* ended since it was last touched */
    if (err.code == KF_E_UNAVAILABLE)
        req->retry_after = 1;
    gw_answer_error(req, 0, &err);
    gw_token_used(req);
}

/* Answers req whose daemon did not answer in time, or that waits while
   the gateway stops. */
static void s_on_timeout(gw_req_t *req, bool stopping)
{
    kf_error_t err = {0};
    if (stopping)
        kf_error_set(&err, KF_E_UNAVAILABLE, "", "kefu-gateway is stopping; try again");
    else
        kf_error_set(&err, KF_E_UNAVAILABLE, "", "kefu-%s did not answer in time; try again",
                     gw_service_of(req->match.route->message));
    req->retry_after = 1;
    gw_answer_error(req, 503, &err);
    gw_token_used(req);
}

/* ---- life ------------------------------------------------------------------------------ */

/* Raises the open-files limit to its hard limit and caps the connection
   limit to what it allows. */
static void s_limits(gateway_t *self)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)self->max_conns + S_FD_RESERVE) {
        unsigned int capped =
            rl.rlim_cur > 2 * S_FD_RESERVE ? (unsigned int)(rl.rlim_cur - S_FD_RESERVE) : 16;
        kf_warn("gateway.conns_capped", "wanted=%u allowed=%u open_files=%llu", self->max_conns,
                capped, (unsigned long long)rl.rlim_cur);
        self->max_conns = capped;
    }
}

/* Reads the TLS files when both are named. -1 (on stderr) when one is
   named without the other or cannot be read. */
static int s_tls(gateway_t *self)
{
    const char *cert = kf_config_str(gateway_settings, "KEFU_TLS_CERT");
    const char *key = kf_config_str(gateway_settings, "KEFU_TLS_KEY");
    if (!*cert && !*key)
        return 0;
    if (!*cert || !*key) {
        fprintf(stderr, "kefu-gateway: KEFU_TLS_CERT and KEFU_TLS_KEY go together\n");
        return -1;
    }
    zfile_t *fc = zfile_new(NULL, cert), *fk = zfile_new(NULL, key);
    zchunk_t *c = fc && zfile_input(fc) == 0 ? zfile_read(fc, 1 << 20, 0) : NULL;
    zchunk_t *k = fk && zfile_input(fk) == 0 ? zfile_read(fk, 1 << 20, 0) : NULL;
    if (c && k) {
        self->tls_cert = zchunk_strdup(c);
        self->tls_key = zchunk_strdup(k);
        self->tls = true;
    } else
        fprintf(stderr, "kefu-gateway: cannot read %s\n", c ? key : cert);
    zchunk_destroy(&c);
    zchunk_destroy(&k);
    zfile_destroy(&fc);
    zfile_destroy(&fk);
    return self->tls ? 0 : -1;
}

/* The settings a gateway runs with; -1 (on stderr) when one is bad. */
static int s_settings(gateway_t *self, long *timeout_ms)
{
    long port = 0, conns = 0;
    if (kf_config_int(gateway_settings, "KEFU_HTTP_PORT", &port) != 0 ||
        kf_config_int(gateway_settings, "KEFU_HTTP_MAX_CONNS", &conns) != 0 ||
        kf_config_int(gateway_settings, "KEFU_SESSION_IDLE_S", &self->idle_s) != 0 ||
        kf_config_int(gateway_settings, "KEFU_SESSION_MAX_S", &self->max_s) != 0 ||
        kf_config_int(gateway_settings, "KEFU_GATEWAY_TIMEOUT_MS", timeout_ms) != 0)
        return -1;
    self->port = (int)port;
    self->max_conns = (unsigned int)conns;
    return s_tls(self);
}

/* The gateway's own metrics. */
static void s_metrics(gateway_t *self)
{
    kf_metrics_t *m = kf_health_metrics(self->health);
    /* One family with the health endpoint's: route, and the status as code. */
    self->requests = kf_metrics_find(m, "kefu_http_requests_total");
    self->seconds = kf_metrics_histogram(m, "kefu_http_request_seconds",
                                         "seconds from a request's head to its answer, by route",
                                         NULL, 0, "route", NULL);
    self->open =
        kf_metrics_gauge(m, "kefu_http_connections_open", "HTTP connections open", NULL, NULL);
}

gateway_t *gateway_new(void)
{
    zsys_init();
    gateway_t *self = (gateway_t *)zmalloc(sizeof(gateway_t));
    long timeout_ms = 0;
    kf_error_t err = {0};
    if (gw_secret_init() != 0 || s_settings(self, &timeout_ms) != 0) {
        gateway_destroy(&self);
        return NULL;
    }
    s_limits(self);
    self->touched = zhashx_new();
    zhashx_set_destructor(self->touched, (zhashx_destructor_fn *)zstr_free);
    self->store =
        kf_store_new(kf_config_str(gateway_settings, "KEFU_DATABASE_URL"), "kefu-gateway");
    gw_session_prepare(self->store);
    gw_console_prepare(self->store);
    gw_calls_prepare(self);
    self->health = kf_health_new("gateway", gateway_settings, self->store);
    if (self->health)
        s_metrics(self);
    if (self->health)
        self->wire = gw_wire_new(gateway_settings, (int)timeout_ms, &err);
    if (self->health && !self->wire)
        fprintf(stderr, "kefu-gateway: %s: %s\n", err.field, err.message);
    if (self->wire)
        self->events = gw_events_new(gateway_settings, self->store, self->health);
    if (self->events)
        self->worker = gw_worker_new();
    const char *web = kf_config_str(gateway_settings, "KEFU_WEB_DIR");
    bool console = self->worker && !(web && strcmp(web, "off") == 0);
    if (console)
        self->web = gw_web_new(web && *web ? web : KEFU_WEB_DIR_DEFAULT);
    if (!self->worker || (console && !self->web) || gw_http_start(self) != 0) {
        gateway_destroy(&self);
        return NULL;
    }
    return self;
}

void gateway_destroy(gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gateway_t *self = *self_p;
    gw_http_stop(self);
    gw_events_destroy(&self->events); /* after the streams' responses are gone */
    gw_worker_destroy(&self->worker);
    gw_web_destroy(&self->web);
    gw_wire_destroy(&self->wire);
    kf_health_destroy(&self->health);
    kf_store_destroy(&self->store);
    zsock_destroy(&self->calls_pub);
    zhashx_destroy(&self->touched);
    free(self->tls_cert);
    free(self->tls_key);
    free(self);
    *self_p = NULL;
}

/* The indexes of what gateway_run waits on in its pollset. */
typedef struct {
    int worker, http, events, health;
} s_polled_t;

/* Serves what the last wait of set found ready. */
static void s_serve(gateway_t *self, const kf_pollset_t *set, const s_polled_t *polled)
{
    void *arg = NULL;
    kf_env_t *reply = NULL;
    if (kf_pollset_ready(set, polled->worker)) {
        gw_job_t *job = gw_worker_take(self->worker);
        if (job)
            gw_session_job_done(self, job);
    }
    if (kf_pollset_ready(set, polled->http))
        MHD_run(self->http);
    if (kf_pollset_ready(set, polled->events))
        gw_events_on_bus(self->events);
    if (gw_wire_recv(self->wire, set, &arg, &reply)) {
        if (arg)
            s_on_reply((gw_req_t *)arg, reply);
        kf_env_destroy(&reply);
    }
    if (kf_pollset_ready(set, polled->health))
        kf_health_serve_fd(self->health);
}

/* At the stop: answers every request still waiting (503 for those at a
   daemon, the worker's own answer for those at it) and sends the answers,
   since libmicrohttpd cannot stop with connections suspended. Returns how
   many were turned away. */
static int s_drain(gateway_t *self)
{
    int answered = 0;
    void *waiting;
    while ((waiting = gw_wire_expired(self->wire, INT64_MAX))) {
        s_on_timeout((gw_req_t *)waiting, true);
        answered++;
    }
    /* A job takes a fraction of a second; a signal may cut a wait short. */
    zmq_pollitem_t worker = {zsock_resolve(gw_worker_sock(self->worker)), 0, ZMQ_POLLIN, 0};
    for (int tries = 0; self->jobs > 0 && tries < 50; tries++) {
        if (zmq_poll(&worker, 1, 100) <= 0)
            continue;
        gw_job_t *job = gw_worker_take(self->worker);
        if (job)
            gw_session_job_done(self, job);
    }
    gw_events_close_all(self->events);
    MHD_run(self->http); /* resumes them */
    MHD_run(self->http); /* sends what it can */
    return answered;
}

int gateway_run(gateway_t *self)
{
    kf_store_ready(self->store, NULL);
    kf_info("gateway.started", "version=%s url=http%s://%s:%d max_conns=%u", KEFU_VERSION,
            self->tls ? "s" : "", kf_config_str(gateway_settings, "KEFU_HTTP_BIND"), self->port,
            self->max_conns);
    while (!kf_stop_requested()) {
        kf_pollset_t set = {0}; /* anew each pass: the wire may replace its sockets */
        s_polled_t polled = {.worker = kf_pollset_sock(&set, gw_worker_sock(self->worker)),
                             .http = kf_pollset_fd(&set, self->http_fd),
                             .events = kf_pollset_sock(&set, gw_events_sock(self->events))};
        gw_wire_attach(self->wire, &set);
        polled.health = kf_pollset_fd(&set, kf_health_fd(self->health));
        int wait = gw_events_wait_ms(
            self->events, gw_wire_wait_ms(self->wire, kf_health_wait_ms(self->health, 500)));
        MHD_UNSIGNED_LONG_LONG due = 0;
        if (MHD_get_timeout(self->http, &due) == MHD_YES && due < (MHD_UNSIGNED_LONG_LONG)wait)
            wait = (int)due;
        if (kf_pollset_wait(&set, wait) > 0)
            s_serve(self, &set, &polled);
        gw_wire_tick(self->wire, &set);
        void *late;
        while ((late = gw_wire_expired(self->wire, zclock_mono())))
            s_on_timeout((gw_req_t *)late, false);
        gw_events_tick(self->events);
        gw_http_tick(self); /* also serves connections just resumed */
        kf_health_tick(self->health);
    }
    int answered = s_drain(self);
    kf_info("gateway.stopped", "reason=%s turned_away=%d", "signal", answered);
    return 0;
}
