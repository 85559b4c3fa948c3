/* kefu — metrics and health over HTTP, and the heartbeat row (health.h). */
#include "health.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define S_OBSERVE_MS 5000 /* observer cadence of a daemon without heartbeat */
#define S_ERROR_MAX 300   /* bytes of the last error kept */

/* One open HTTP connection, for its deadline (MHD's own timeout is an idle
   timeout, which a client sending a byte a second never reaches). */
typedef struct {
    struct MHD_Connection *conn; /* NULL: a free slot */
    int fd;
    int64_t since; /* zclock_mono when it connected */
    bool cut;      /* past its deadline: shut down, waiting for MHD to close it */
} s_conn_t;

struct kf_health {
    int http_fd; /* MHD's epoll descriptor, for the daemon's loop (kf_health_fd) */
    char daemon[32];
    char instance[300]; /* host:pid */
    char host[256];
    char endpoint[300]; /* http://host:port/metrics, "" when off */
    int64_t started_ms; /* wall clock */
    int64_t started_mono;
    kf_store_t *store; /* the daemon's; NULL for a daemon without one */
    bool store_ok;     /* the last heartbeat was written */
    long heartbeat_ms;
    int64_t next_beat;
    kf_health_observe_fn *observe;
    void *observe_arg;

    struct MHD_Daemon *http; /* NULL when off */
    int port;
    s_conn_t conns[KF_HTTP_MAX_CONNS];
    int open; /* connections in conns */

    kf_metrics_t *metrics;
    kf_metric_t *events;   /* kefu_events_total{type,direction} */
    kf_metric_t *errors;   /* kefu_errors_total{code} */
    kf_metric_t *uptime;   /* kefu_uptime_seconds */
    kf_metric_t *store_up; /* kefu_store_up, with a store */
    kf_metric_t *backlog;  /* kefu_outbox_backlog, once set */
    kf_metric_t *beats;    /* kefu_heartbeats_total{outcome} */
    kf_metric_t *requests; /* kefu_http_requests_total{route,code} */
    int64_t events_in, events_out, error_count;
    int64_t backlog_value; /* -1: unknown */
    char last_error[S_ERROR_MAX];
    int64_t last_error_ms; /* 0: none */
};

/* ---- settings ------------------------------------------------------------ */

static bool s_has(const kf_setting_t *table, const char *name)
{
    for (const kf_setting_t *s = table; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return true;
    return false;
}

/* Prepared on every connection of the daemon's store. */
static void s_prepare(kf_store_t *store)
{
    kf_store_statement(
        store, "kf_health_beat",
        "INSERT INTO daemon_instance AS d (instance, name, host, pid, version, started_at, "
        "heartbeat_ms, events_in, events_out, errors, backlog, last_error, last_error_at, "
        "metrics, last_seen, stopped_at) VALUES ($1, $2, $3, $4::int, $5, "
        "to_timestamp($6::bigint / 1000.0), $7::int, $8::bigint, $9::bigint, $10::bigint, "
        "$11::bigint, $12, to_timestamp($13::bigint / 1000.0), $14, now(), "
        "CASE WHEN $15::boolean THEN now() END) "
        "ON CONFLICT (instance) DO UPDATE SET name = EXCLUDED.name, host = EXCLUDED.host, "
        "pid = EXCLUDED.pid, version = EXCLUDED.version, started_at = EXCLUDED.started_at, "
        "heartbeat_ms = EXCLUDED.heartbeat_ms, events_in = EXCLUDED.events_in, "
        "events_out = EXCLUDED.events_out, errors = EXCLUDED.errors, "
        "backlog = EXCLUDED.backlog, last_error = EXCLUDED.last_error, "
        "last_error_at = EXCLUDED.last_error_at, metrics = EXCLUDED.metrics, "
        "last_seen = EXCLUDED.last_seen, stopped_at = EXCLUDED.stopped_at");
}

static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls);
static void s_on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                            enum MHD_ConnectionNotificationCode code);

/* Opens the listening socket on bind:port ourselves, so that a port in use
   is told apart from a bad address. Returns the socket, -2 when the port
   is in use, or -1 (named on stderr) when the address cannot be used. */
static int s_socket(const char *bind_to, long port, const char *endpoint)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    char service[16];
    snprintf(service, sizeof service, "%ld", port);
    bool any = strcmp(bind_to, "*") == 0;
    int rc = getaddrinfo(any ? NULL : bind_to, service, &hints, &found);
    if (rc != 0) {
        fprintf(stderr, "KEFU_METRICS_BIND=%s, KEFU_METRICS_PORT=%ld: cannot listen on %s: %s\n",
                bind_to, port, endpoint, gai_strerror(rc));
        return -1;
    }
    int error = 0, fd = -1;
    for (struct addrinfo *ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, KF_HTTP_MAX_CONNS) != 0) {
            error = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd >= 0)
        return fd;
    if (error == EADDRINUSE)
        return -2;
    fprintf(stderr, "KEFU_METRICS_BIND=%s, KEFU_METRICS_PORT=%ld: cannot listen on %s: %s\n",
            bind_to, port, endpoint, strerror(error));
    return -1;
}

/* Starts the HTTP endpoint on bind:port. Returns 0 (with self->http NULL
   when the port is taken), or -1 when the address cannot be used. */
static int s_listen(kf_health_t *self, const char *bind_to, long port)
{
    if (!bind_to)
        return -1; /* never: a declared setting has a value (tells the compiler) */
    bool v6 = strchr(bind_to, ':') != NULL;
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, v6 ? "tcp://[%s]:%ld" : "tcp://%s:%ld", bind_to, port);
    int fd = s_socket(bind_to, port, endpoint);
    if (fd == -2) {
        kf_error("health.port_in_use",
                 "endpoint=%s reason=\"another process listens there; running without "
                 "/metrics and /health (give each instance its own KEFU_METRICS_PORT)\"",
                 endpoint);
        return 0;
    }
    if (fd < 0)
        return -1;
    /* No thread of MHD's own: the daemon's loop runs it (kf_health_serve_fd,
       kf_health_tick), so /health answers only while that loop turns, and
       the metrics are read by the thread that writes them. */
    self->http = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, s_on_request, self,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)KF_HTTP_MAX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)(KF_HTTP_TIMEOUT_MS / 1000), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)KF_HTTP_MAX_REQUEST, MHD_OPTION_NOTIFY_CONNECTION, s_on_connection, self,
        MHD_OPTION_EXTERNAL_LOGGER, kf_health_mhd_log, (void *)"health.http_error", MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self->http ? MHD_get_daemon_info(self->http, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        fprintf(stderr, "KEFU_METRICS_BIND=%s, KEFU_METRICS_PORT=%ld: cannot serve HTTP on %s\n",
                bind_to, port, endpoint);
        if (self->http)
            MHD_stop_daemon(self->http);
        else
            close(fd);
        self->http = NULL;
        return -1;
    }
    self->http_fd = info->epoll_fd;
    self->port = (int)port;
    const char *host =
        strcmp(bind_to, "0.0.0.0") == 0 || strcmp(bind_to, "::") == 0 || strcmp(bind_to, "*") == 0
            ? self->host
            : bind_to;
    snprintf(self->endpoint, sizeof self->endpoint,
             v6 && host == bind_to ? "http://[%s]:%ld/metrics" : "http://%s:%ld/metrics", host,
             port);
    return 0;
}

static void s_register_metrics(kf_health_t *self)
{
    kf_metrics_t *m = self->metrics;
    kf_metric_set(kf_metrics_gauge(m, "kefu_build_info", "the daemon and its version, always 1",
                                   "daemon", "version"),
                  self->daemon, KEFU_VERSION, 1);
    kf_metric_set(kf_metrics_gauge(m, "process_start_time_seconds",
                                   "when the process started, seconds since the epoch", NULL, NULL),
                  NULL, NULL, (double)self->started_ms / 1000.0);
    self->uptime =
        kf_metrics_gauge(m, "kefu_uptime_seconds", "seconds since the daemon started", NULL, NULL);
    self->events =
        kf_metrics_counter(m, "kefu_events_total",
                           "messages taken in (requests, work, events) and events sent out, "
                           "by type",
                           "type", "direction");
    self->errors =
        kf_metrics_counter(m, "kefu_errors_total",
                           "errors by code: refused requests, bad input, faults", "code", NULL);
    if (self->store) {
        self->store_up = kf_metrics_gauge(
            m, "kefu_store_up", "1 while the store is connected and the last heartbeat was written",
            NULL, NULL);
        self->beats =
            kf_metrics_counter(m, "kefu_heartbeats_total",
                               "heartbeats of this instance into daemon_instance", "outcome", NULL);
        kf_metric_add(self->beats, "ok", NULL, 0);
        kf_metric_add(self->beats, "failed", NULL, 0);
    }
    self->requests =
        kf_metrics_counter(m, "kefu_http_requests_total",
                           "requests to the metrics endpoint by route and status", "route", "code");
}

kf_health_t *kf_health_new(const char *daemon, const kf_setting_t *settings, kf_store_t *store)
{
    assert(daemon && settings);
    long port = 0, heartbeat = S_OBSERVE_MS;
    if (kf_config_int(settings, "KEFU_METRICS_PORT", &port) != 0)
        return NULL;
    if (s_has(settings, "KEFU_HEARTBEAT_MS") &&
        kf_config_int(settings, "KEFU_HEARTBEAT_MS", &heartbeat) != 0)
        return NULL;
    const char *bind = kf_config_str(settings, "KEFU_METRICS_BIND"); /* checked: KF_SET_ADDRESS */
    zsys_init();
    kf_health_t *self = (kf_health_t *)zmalloc(sizeof(kf_health_t));
    assert(self);
    snprintf(self->daemon, sizeof self->daemon, "%s", daemon);
    if (gethostname(self->host, sizeof self->host - 1) != 0 || !self->host[0])
        snprintf(self->host, sizeof self->host, "localhost");
    snprintf(self->instance, sizeof self->instance, "%s:%d", self->host, (int)getpid());
    self->started_ms = zclock_time();
    self->started_mono = zclock_mono();
    self->store = store;
    self->heartbeat_ms = heartbeat;
    self->backlog_value = -1;
    self->http_fd = -1;
    self->metrics = kf_metrics_new();
    s_register_metrics(self);
    if (port > 0 && s_listen(self, bind, port) != 0) {
        self->store = NULL; /* nothing to mark stopped */
        kf_health_destroy(&self);
        return NULL;
    }
    if (store)
        s_prepare(store);
    kf_info("health.started", "instance=%s metrics=%s heartbeat_ms=%ld", self->instance,
            self->endpoint[0] ? self->endpoint : "off", store ? heartbeat : 0L);
    return self;
}

/* ---- heartbeat ------------------------------------------------------------ */

/* Writes the heartbeat row; stopped marks the instance stopped. */
static void s_beat(kf_health_t *self, bool stopped)
{
    char pid[16], started[24], hb[16], in[24], out[24], errors[24], backlog[24], error_at[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(started, sizeof started, "%" PRId64, self->started_ms);
    snprintf(hb, sizeof hb, "%ld", self->heartbeat_ms);
    snprintf(in, sizeof in, "%" PRId64, self->events_in);
    snprintf(out, sizeof out, "%" PRId64, self->events_out);
    snprintf(errors, sizeof errors, "%" PRId64, self->error_count);
    snprintf(backlog, sizeof backlog, "%" PRId64, self->backlog_value);
    snprintf(error_at, sizeof error_at, "%" PRId64, self->last_error_ms);
    const char *params[] = {self->instance,
                            self->daemon,
                            self->host,
                            pid,
                            KEFU_VERSION,
                            started,
                            hb,
                            in,
                            out,
                            errors,
                            self->backlog_value >= 0 ? backlog : NULL,
                            self->last_error_ms ? self->last_error : NULL,
                            self->last_error_ms ? error_at : NULL,
                            self->endpoint[0] ? self->endpoint : NULL,
                            stopped ? "true" : "false"};
    kf_error_t err = {0};
    PGresult *res = NULL;
    if (kf_store_ready(self->store, &err) == 0)
        res = kf_store_exec(self->store, "kf_health_beat", 15, params, &err);
    bool was_ok = self->store_ok;
    self->store_ok = res != NULL;
    PQclear(res);
    kf_metric_inc(self->beats, self->store_ok ? "ok" : "failed", NULL);
    if (!self->store_ok) {
        if (was_ok)
            kf_warn("health.heartbeat_failed", "instance=%s code=%s", self->instance,
                    kf_err_name(err.code));
        kf_health_fault(self, "heartbeat", &err);
    }
}

/* Runs MHD when something of its own is due (a timeout, a connection it
   has more to do for), and cuts connections past their deadline. */
static void s_http_tick(kf_health_t *self, int64_t now)
{
    if (!self->http)
        return;
    for (int i = 0; i < KF_HTTP_MAX_CONNS && self->open > 0; i++) {
        s_conn_t *conn = &self->conns[i];
        if (conn->conn && !conn->cut && now - conn->since >= KF_HTTP_TIMEOUT_MS) {
            /* Shut down, not closed: the descriptor stays MHD's, which sees
               the end and frees the connection in MHD_run. */
            kf_debug("health.http_timeout", "after_ms=%" PRId64, now - conn->since);
            shutdown(conn->fd, SHUT_RDWR);
            conn->cut = true;
        }
    }
    MHD_UNSIGNED_LONG_LONG due = 0;
    if (MHD_get_timeout(self->http, &due) == MHD_YES && due == 0)
        MHD_run(self->http);
}

void kf_health_tick(kf_health_t *self)
{
    int64_t now = zclock_mono();
    s_http_tick(self, now);
    if (now < self->next_beat)
        return;
    self->next_beat = now + self->heartbeat_ms;
    if (self->observe)
        self->observe(self, self->observe_arg);
    if (self->store)
        s_beat(self, false);
}

int kf_health_wait_ms(kf_health_t *self, int max_ms)
{
    if (!self)
        return max_ms;
    int64_t left = self->next_beat - zclock_mono();
    if (self->open > 0 && left > 500)
        left = 500; /* connections to cut at their deadline */
    MHD_UNSIGNED_LONG_LONG due = 0;
    if (self->http && MHD_get_timeout(self->http, &due) == MHD_YES && (int64_t)due < left)
        left = (int64_t)due;
    return left <= 0 ? 0 : left < max_ms ? (int)left : max_ms;
}

void kf_health_set_observer(kf_health_t *self, kf_health_observe_fn *fn, void *arg)
{
    self->observe = fn;
    self->observe_arg = arg;
}

/* ---- counting ------------------------------------------------------------- */

void kf_health_in(kf_health_t *self, const char *type, int count)
{
    if (!self || count <= 0)
        return;
    kf_metric_add(self->events, type, "in", count);
    self->events_in += count;
}

void kf_health_out(kf_health_t *self, const char *type, int count)
{
    if (!self || count <= 0)
        return;
    kf_metric_add(self->events, type, "out", count);
    self->events_out += count;
}

void kf_health_error(kf_health_t *self, kf_err_t code)
{
    if (!self)
        return;
    kf_metric_inc(self->errors, kf_err_name(code), NULL);
    self->error_count++;
}

void kf_health_fault(kf_health_t *self, const char *what, const kf_error_t *err)
{
    if (!self || !err)
        return;
    kf_health_error(self, err->code);
    snprintf(self->last_error, sizeof self->last_error, "%s: %s: %s", what, kf_err_name(err->code),
             err->message);
    self->last_error_ms = zclock_time();
}

void kf_health_backlog(kf_health_t *self, int64_t backlog)
{
    if (!self)
        return;
    if (!self->backlog)
        self->backlog =
            kf_metrics_gauge(self->metrics, "kefu_outbox_backlog",
                             "events in the outbox this daemon has not processed yet", NULL, NULL);
    self->backlog_value = backlog < 0 ? -1 : backlog;
    kf_metric_set(self->backlog, NULL, NULL, backlog < 0 ? NAN : (double)backlog);
}

kf_metrics_t *kf_health_metrics(kf_health_t *self)
{
    return self->metrics;
}

const char *kf_health_instance(kf_health_t *self)
{
    return self->instance;
}

int kf_health_port(kf_health_t *self)
{
    return self->http ? self->port : 0;
}

/* ---- HTTP ------------------------------------------------------------------- */

/* The /health body; sets *status to 200 or 503. */
static char *s_health_body(kf_health_t *self, int *status)
{
    bool store_up = !self->store || (self->store_ok && kf_store_connected(self->store));
    json_t *body = json_object();
    json_object_set_new(body, "status", json_string(store_up ? "ok" : "unavailable"));
    json_object_set_new(body, "daemon", json_string(self->daemon));
    json_object_set_new(body, "instance", json_string(self->instance));
    json_object_set_new(body, "version", json_string(KEFU_VERSION));
    json_object_set_new(body, "uptime_s",
                        json_integer((zclock_mono() - self->started_mono) / 1000));
    if (self->store)
        json_object_set_new(body, "store", json_string(store_up ? "up" : "down"));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    *status = store_up ? 200 : 503;
    return text;
}

/* The answer to method on path: status, body (a new string), its type,
   and whether it needs an Allow header. Counts the request. */
static char *s_answer(kf_health_t *self, const char *method, const char *path, int *status_p,
                      const char **type_p, bool *allow_p)
{
    bool metrics = strcmp(path, "/metrics") == 0, health = strcmp(path, "/health") == 0;
    const char *route = metrics ? "metrics" : health ? "health" : "other";
    const char *type = "text/plain; charset=utf-8";
    char *body = NULL;
    int status = 200;
    *allow_p = false;
    if (!metrics && !health)
        status = MHD_HTTP_NOT_FOUND;
    else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
             strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        *allow_p = true;
    } else if (metrics) {
        kf_metric_set(self->uptime, NULL, NULL,
                      (double)(zclock_mono() - self->started_mono) / 1000.0);
        if (self->store)
            kf_metric_set(self->store_up, NULL, NULL,
                          self->store_ok && kf_store_connected(self->store) ? 1 : 0);
        body = kf_metrics_render(self->metrics, NULL);
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        body = s_health_body(self, &status);
        type = "application/json";
    }
    if (!body) {
        const char *reason = MHD_get_reason_phrase_for((unsigned int)status);
        size_t size = strlen(reason) + 8;
        body = (char *)malloc(size);
        assert(body);
        snprintf(body, size, "%d %s\n", status, reason);
    }
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    kf_metric_inc(self->requests, route, code);
    *status_p = status;
    *type_p = type;
    return body;
}

/* MHD's handler of a request whose head has arrived: answers at once,
   without reading a body (MHD then closes the connection). */
static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
    (void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;
    kf_health_t *self = (kf_health_t *)cls;
    int status = 0;
    const char *type = NULL;
    bool allow = false;
    char *body = s_answer(self, method, url, &status, &type, &allow);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(body);
        return MHD_NO; /* MHD closes the connection */
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    if (allow)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result result = MHD_queue_response(connection, (unsigned int)status, response);
    MHD_destroy_response(response);
    return result;
}

/* MHD's notice of a connection opened or closed: keeps conns, for the
   deadline of each. */
static void s_on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    kf_health_t *self = (kf_health_t *)cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        s_conn_t *conn = (s_conn_t *)*socket_context;
        if (conn) {
            memset(conn, 0, sizeof *conn);
            self->open--;
        }
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    /* MHD keeps to KF_HTTP_MAX_CONNS, so a slot is free. */
    for (int i = 0; info && i < KF_HTTP_MAX_CONNS; i++) {
        s_conn_t *conn = &self->conns[i];
        if (!conn->conn) {
            conn->conn = connection;
            conn->fd = info->connect_fd;
            conn->since = zclock_mono();
            conn->cut = false;
            self->open++;
            *socket_context = conn;
            return;
        }
    }
}

void kf_health_mhd_log(void *event, const char *format, va_list ap)
{
    char text[256];
    vsnprintf(text, sizeof text, format, ap);
    for (char *c = text; *c; c++)
        if (*c == '"' || *c == '\n' || *c == '\r')
            *c = *c == '"' ? '\'' : ' ';
    kf_debug((const char *)event, "reason=\"%s\"", text);
}

int kf_health_fd(kf_health_t *self)
{
    return self && self->http ? self->http_fd : -1;
}

void kf_health_serve_fd(kf_health_t *self)
{
    if (self && self->http)
        MHD_run(self->http);
}

void kf_health_destroy(kf_health_t **self_p)
{
    assert(self_p);
    kf_health_t *self = *self_p;
    if (!self)
        return;
    /* Only with a live connection: a stop must not wait on a dead store. */
    if (self->store && kf_store_connected(self->store))
        s_beat(self, true);
    if (self->http)
        MHD_stop_daemon(self->http); /* closes its connections and the listening socket */
    kf_metrics_destroy(&self->metrics);
    free(self);
    *self_p = NULL;
}
