/* kefu — metrics and health over HTTP, and the heartbeat row (health.h). */
#include "health.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define S_OBSERVE_MS 5000 /* observer cadence of a daemon without heartbeat */
#define S_ERROR_MAX 300   /* bytes of the last error kept */

/* One HTTP connection on the STREAM socket. */
typedef struct {
    zframe_t *id; /* the STREAM socket's routing id of the peer */
    char buf[KF_HTTP_MAX_REQUEST];
    size_t len;
    int64_t since; /* zclock_mono when it connected */
    bool closing;  /* answered (or refused): waiting for the disconnect */
} s_conn_t;

struct kf_health {
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

    zsock_t *http; /* ZMQ_STREAM, NULL when off */
    int port;
    zhashx_t *conns; /* hex routing id -> s_conn_t */
    int64_t next_reap;

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

/* Binds the STREAM socket on bind:port. Returns 0 (with self->http NULL
   when the port is taken), or -1 when the address cannot be used. */
static int s_listen(kf_health_t *self, const char *bind, long port)
{
    bool v6 = strchr(bind, ':') != NULL;
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, v6 ? "tcp://[%s]:%ld" : "tcp://%s:%ld", bind, port);
    self->http = zsock_new(ZMQ_STREAM);
    assert(self->http);
    zsock_set_linger(self->http, 0);
    zsock_set_sndtimeo(self->http, 0);
    if (v6)
        zsock_set_ipv6(self->http, 1);
    if (zsock_bind(self->http, "%s", endpoint) >= 0) {
        self->port = (int)port;
        const char *host =
            strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0 || strcmp(bind, "*") == 0
                ? self->host
                : bind;
        snprintf(self->endpoint, sizeof self->endpoint,
                 v6 && host == bind ? "http://[%s]:%ld/metrics" : "http://%s:%ld/metrics", host,
                 port);
        return 0;
    }
    int error = zmq_errno();
    zsock_destroy(&self->http);
    if (error == EADDRINUSE) {
        kf_error("health.port_in_use",
                 "endpoint=%s reason=\"another process listens there; running without "
                 "/metrics and /health (give each instance its own KEFU_METRICS_PORT)\"",
                 endpoint);
        return 0;
    }
    fprintf(stderr, "KEFU_METRICS_BIND=%s, KEFU_METRICS_PORT=%ld: cannot listen on %s: %s\n", bind,
            port, endpoint, zmq_strerror(error));
    return -1;
}

static void s_conn_destroy(void **item)
{
    s_conn_t *conn = (s_conn_t *)*item;
    zframe_destroy(&conn->id);
    free(conn);
    *item = NULL;
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
    const char *bind = kf_config_str(settings, "KEFU_METRICS_BIND");
    if (!bind || !*bind || strlen(bind) > 200 || strpbrk(bind, "/[] \t")) {
        fprintf(stderr, "KEFU_METRICS_BIND=%s: not an address (e.g. 127.0.0.1 or 0.0.0.0)\n",
                bind ? bind : "");
        return NULL;
    }
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
    self->conns = zhashx_new();
    zhashx_set_destructor(self->conns, s_conn_destroy);
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

void kf_health_tick(kf_health_t *self)
{
    int64_t now = zclock_mono();
    if (now >= self->next_reap && zhashx_size(self->conns) > 0) {
        /* Connections that never sent a whole request, or never went away
           after their answer, are closed. */
        zlistx_t *keys = zhashx_keys(self->conns);
        for (char *key = (char *)zlistx_first(keys); key; key = (char *)zlistx_next(keys)) {
            s_conn_t *conn = (s_conn_t *)zhashx_lookup(self->conns, key);
            if (now - conn->since < KF_HTTP_TIMEOUT_MS)
                continue;
            if (!conn->closing) {
                zmsg_t *close = zmsg_new();
                zmsg_append(close, &(zframe_t *){zframe_dup(conn->id)});
                zmsg_append(close, &(zframe_t *){zframe_new_empty()});
                if (zmsg_send(&close, self->http) != 0)
                    zmsg_destroy(&close);
            }
            zhashx_delete(self->conns, key);
        }
        zlistx_destroy(&keys);
        self->next_reap = now + 500;
    }
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
    if (zhashx_size(self->conns) > 0 && left > 500)
        left = 500; /* connections to time out */
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

/* True for a byte that may appear in a request head (besides CR and LF). */
static bool s_text_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Parses the request line [line, end) (without its line break) into
   method and path (without the query); with method NULL, only checks it. */
static int s_request_line(const char *line, const char *end, char *method, size_t method_size,
                          char *path, size_t path_size)
{
    const char *sp1 = memchr(line, ' ', (size_t)(end - line));
    if (!sp1 || sp1 == line || sp1 - line > 15)
        return 400;
    for (const char *c = line; c < sp1; c++)
        if (*c < 'A' || *c > 'Z')
            return 400;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2 || sp2 == target || *target != '/')
        return 400;
    for (const char *c = target; c < sp2; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return 400;
    const char *version = sp2 + 1;
    if (end - version != 8 ||
        (memcmp(version, "HTTP/1.0", 8) != 0 && memcmp(version, "HTTP/1.1", 8) != 0))
        return 400;
    if (!method)
        return 200;
    const char *query = memchr(target, '?', (size_t)(sp2 - target));
    size_t path_len = (size_t)((query ? query : sp2) - target);
    if ((size_t)(sp1 - line) >= method_size || path_len >= path_size)
        return 400; /* no route is that long: refuse rather than truncate */
    memcpy(method, line, (size_t)(sp1 - line));
    method[sp1 - line] = '\0';
    memcpy(path, target, path_len);
    path[path_len] = '\0';
    return 200;
}

int kf_http_parse(const char *data, size_t size, char *method, size_t method_size, char *path,
                  size_t path_size)
{
    /* Walk the lines seen so far: each must be text; a header line needs a
       name and a colon; an empty line ends the head. */
    const char *p = data, *stop = data + size;
    int line_no = 0;
    while (p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        const char *end = nl ? nl : stop;
        /* A CR is allowed only right before the LF (or at the end of what
           has arrived, where the LF may follow). */
        const char *text_end = end > p && end[-1] == '\r' ? end - 1 : end;
        for (const char *c = p; c < text_end; c++)
            if (!s_text_byte((unsigned char)*c))
                return 400;
        if (!nl)
            break; /* an incomplete line: wait for more */
        if (text_end == p) {
            /* The blank line: the head is complete. */
            if (line_no == 0)
                return 400;
            const char *line_end = memchr(data, '\n', size);
            if (line_end > data && line_end[-1] == '\r')
                line_end--;
            return s_request_line(data, line_end, method, method_size, path, path_size);
        }
        if (line_no == 0) {
            /* Check the request line as soon as it is complete, so that
               garbage is refused without waiting for the blank line. */
            if (s_request_line(p, text_end, NULL, 0, NULL, 0) != 200)
                return 400;
        } else {
            const char *colon = memchr(p, ':', (size_t)(text_end - p));
            if (!colon || colon == p)
                return 400;
            for (const char *c = p; c < colon; c++)
                if (*c == ' ' || *c == '\t')
                    return 400;
        }
        line_no++;
        p = nl + 1;
    }
    return size >= KF_HTTP_MAX_REQUEST ? 431 : 0;
}

/* The reason phrase of a status this endpoint sends. */
static const char *s_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Service Unavailable";
    }
}

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

/* The whole HTTP response to method and path (or to a bad request when
   status is already an error), as a new string; *size_p its length. */
static char *s_respond(kf_health_t *self, int status, const char *method, const char *path,
                       size_t *size_p)
{
    const char *route = "other", *type = "text/plain; charset=utf-8", *allow = NULL;
    char *body = NULL;
    bool head = false;
    if (status == 200) {
        bool metrics = strcmp(path, "/metrics") == 0, health = strcmp(path, "/health") == 0;
        head = strcmp(method, "HEAD") == 0;
        route = metrics ? "metrics" : health ? "health" : "other";
        if (!metrics && !health)
            status = 404;
        else if (!head && strcmp(method, "GET") != 0) {
            status = 405;
            allow = "Allow: GET, HEAD\r\n";
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
    }
    if (!body) {
        char text[128];
        snprintf(text, sizeof text, "%d %s\n", status, s_reason(status));
        body = strdup(text);
    }
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    kf_metric_inc(self->requests, route, code);
    size_t body_len = strlen(body);
    size_t cap = body_len + 512;
    char *response = (char *)malloc(cap);
    assert(response);
    int len = snprintf(response, cap,
                       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                       "%sCache-Control: no-store\r\nConnection: close\r\n\r\n",
                       status, s_reason(status), type, body_len, allow ? allow : "");
    if (!head) {
        memcpy(response + len, body, body_len);
        len += (int)body_len;
    }
    free(body);
    *size_p = (size_t)len;
    return response;
}

/* Sends data (may be NULL) then the empty frame that closes the
   connection; both without blocking. */
static void s_send_close(kf_health_t *self, zframe_t *id, const char *data, size_t size)
{
    if (data) {
        zmsg_t *msg = zmsg_new();
        zmsg_append(msg, &(zframe_t *){zframe_dup(id)});
        zmsg_addmem(msg, data, size);
        if (zmsg_send(&msg, self->http) != 0)
            zmsg_destroy(&msg);
    }
    zmsg_t *close = zmsg_new();
    zmsg_append(close, &(zframe_t *){zframe_dup(id)});
    zmsg_append(close, &(zframe_t *){zframe_new_empty()});
    if (zmsg_send(&close, self->http) != 0)
        zmsg_destroy(&close);
}

/* Handles one [id, data] message of the STREAM socket. */
static void s_on_stream(kf_health_t *self, zmsg_t *msg)
{
    zframe_t *id = zmsg_first(msg);
    zframe_t *data = zmsg_next(msg);
    if (!id || !data)
        return;
    char *key = zframe_strhex(id);
    s_conn_t *conn = (s_conn_t *)zhashx_lookup(self->conns, key);
    if (zframe_size(data) == 0) {
        /* A connection opened, or one closed (by the peer, or after our
           answer). */
        if (conn)
            zhashx_delete(self->conns, key);
        else if (zhashx_size(self->conns) >= KF_HTTP_MAX_CONNS)
            s_send_close(self, id, NULL, 0);
        else {
            conn = (s_conn_t *)zmalloc(sizeof(s_conn_t));
            conn->id = zframe_dup(id);
            conn->since = zclock_mono();
            zhashx_insert(self->conns, key, conn);
        }
        free(key);
        return;
    }
    free(key);
    if (!conn || conn->closing)
        return; /* bytes after the request, or from a connection we refused */
    size_t take = zframe_size(data);
    bool overflow = take > KF_HTTP_MAX_REQUEST - conn->len;
    if (overflow)
        take = KF_HTTP_MAX_REQUEST - conn->len;
    memcpy(conn->buf + conn->len, zframe_data(data), take);
    conn->len += take;
    char method[16], path[256];
    int status = kf_http_parse(conn->buf, conn->len, method, sizeof method, path, sizeof path);
    if (status == 0 && overflow)
        status = 431;
    if (status == 0)
        return;
    if (status != 200)
        kf_debug("health.bad_request", "status=%d bytes=%zu", status, conn->len);
    size_t size = 0;
    char *response = s_respond(self, status, method, path, &size);
    s_send_close(self, conn->id, response, size);
    free(response);
    conn->closing = true;
}

void kf_health_attach(kf_health_t *self, zpoller_t *poller)
{
    if (self && self->http)
        zpoller_add(poller, self->http);
}

bool kf_health_serve(kf_health_t *self, void *which)
{
    if (!self || !self->http || which != self->http)
        return false;
    /* Take what has arrived, but a bounded amount per turn, so the
       daemon's own sockets are not starved. */
    for (int i = 0; i < 64 && (zsock_events(self->http) & ZMQ_POLLIN); i++) {
        zmsg_t *msg = zmsg_recv(self->http);
        if (!msg)
            break;
        s_on_stream(self, msg);
        zmsg_destroy(&msg);
    }
    return true;
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
    zhashx_destroy(&self->conns);
    zsock_destroy(&self->http);
    kf_metrics_destroy(&self->metrics);
    free(self);
    *self_p = NULL;
}
