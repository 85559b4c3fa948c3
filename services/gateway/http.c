/* kefu-gateway — libmicrohttpd glue: the daemon, connections and their
   deadlines, requests' bodies, answers and their headers (gw.h). */
#include "gw.h"

#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define S_HEAD_MAX 8192    /* bytes of a request's head (MHD's memory per connection) */
#define S_RECEIVE_MS 10000 /* for a request to arrive whole, from its connection or head */
#define S_IDLE_S 30        /* an idle keep-alive connection is closed after it */
#define S_BACKLOG 4096     /* connections waiting to be accepted */
#define S_CUT_EVERY_MS 500 /* how often the deadlines are looked at */

/* One open connection, for its deadline: MHD's own timeout is an idle
   timeout, which a client sending a byte a second never reaches. */
typedef struct {
    int fd;
    int64_t since; /* zclock_mono: connected, or its request's head arrived */
    bool idle;     /* between requests: MHD's idle timeout applies */
    bool waiting;  /* suspended for an answer: no deadline of its own */
    bool cut;
    void *handle; /* in gw->conns */
} gw_conn_t;

/* The connection record of conn. */
static gw_conn_t *s_conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? (gw_conn_t *)info->socket_context : NULL;
}

const char *gw_header(gw_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* ---- answers --------------------------------------------------------------- */

void gw_answer(gw_req_t *req, int status, json_t *body)
{
    req->status = status;
    free(req->answer);
    req->answer = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    req->state = GW_ANSWERED;
    if (req->suspended) {
        req->suspended = false;
        gw_conn_t *conn = s_conn_of(req->conn);
        if (conn) {
            conn->waiting = false;
            conn->since = zclock_mono();
        }
        MHD_resume_connection(req->conn);
    }
}

void gw_answer_error(gw_req_t *req, int status, const kf_error_t *err)
{
    json_t *body = json_object();
    json_object_set_new(body, "code", json_string(kf_err_name(err->code)));
    json_object_set_new(body, "message", json_string(err->message));
    json_object_set_new(body, "field", json_string(err->field));
    if (status == 0)
        status = err->code < KF_E_COUNT ? kf_model_errors[err->code].http : 500;
    kf_health_error(req->gw->health, err->code);
    gw_answer(req, status, body);
}

void gw_suspend(gw_req_t *req)
{
    req->state = GW_WAITING;
    req->suspended = true;
    gw_conn_t *conn = s_conn_of(req->conn);
    if (conn)
        conn->waiting = true;
    MHD_suspend_connection(req->conn);
}

bool gw_fresh(gw_req_t *req, const char *etag)
{
    const char *match = gw_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (!match)
        return false;
    if (strcmp(match, "*") == 0)
        return true;
    size_t len = strlen(etag);
    for (const char *p = strstr(match, etag); p; p = strstr(p + 1, etag))
        if ((p == match || p[-1] == ' ' || p[-1] == ',') &&
            (p[len] == '\0' || p[len] == ',' || p[len] == ' '))
            return true;
    return false;
}

/* What a console page may load: its own scripts, styles and images, and the
   API of its own origin; nothing inline, nothing from elsewhere. */
#define S_CONSOLE_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "           \
    "base-uri 'none'; form-action 'self'"
/* An API answer is data: it may load nothing at all. */
#define S_API_CSP "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/* Adds the headers every answer carries. */
static void s_headers(gw_req_t *req, struct MHD_Response *r)
{
    if (!req->file)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                req->content_type ? req->content_type
                                                  : "application/json; charset=utf-8");
    /* A console file or the labels (with their ETag) is revalidated on every
       load: a new build is seen at once. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            req->file || req->etag ? "no-cache" : "no-store");
    if (req->etag)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, req->etag);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Content-Security-Policy", req->file ? S_CONSOLE_CSP : S_API_CSP);
    if (req->gw->tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    if (req->cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, req->cookie);
    if (req->retry_after > 0) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", req->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (req->matched == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, req->match.allow);
}

/* Queues req's answer on its connection. */
static enum MHD_Result s_queue(gw_req_t *req)
{
    if (req->file) {
        bool fresh = gw_fresh(req, req->etag);
        struct MHD_Response *r = gw_web_response(req->file, fresh);
        if (!r)
            return MHD_NO;
        req->status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
        s_headers(req, r);
        enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned int)req->status, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (req->response) { /* a stream: no deadline, nothing buffered on the way */
        struct MHD_Response *stream = req->response;
        req->response = NULL;
        gw_conn_t *conn = s_conn_of(req->conn);
        if (conn)
            conn->waiting = true;
        s_headers(req, stream);
        MHD_add_response_header(stream, "X-Accel-Buffering", "no");
        enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned int)req->status, stream);
        MHD_destroy_response(stream);
        return rc;
    }
    char *text = req->answer;
    req->answer = NULL;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(text ? strlen(text) : 0, text ? text : (char *)"",
                                        text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    s_headers(req, r);
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned int)req->status, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- requests --------------------------------------------------------------- */

/* The client's address as text. */
static void s_address(struct MHD_Connection *conn, char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    socklen_t len = info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                             : sizeof(struct sockaddr_in);
    if (getnameinfo(info->client_addr, len, buf, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, size, "unknown");
}

/* A new request whose head arrived. */
static gw_req_t *s_req_new(gateway_t *gw, struct MHD_Connection *conn, const char *url,
                           const char *method)
{
    gw_req_t *req = (gw_req_t *)zmalloc(sizeof(gw_req_t));
    req->gw = gw;
    req->conn = conn;
    req->started = zclock_usecs();
    snprintf(req->method, sizeof req->method, "%s", method);
    req->matched = gw_route_match(method, url, &req->match);
    req->pattern = req->match.route ? req->match.route->path : "other";
    if (req->matched == 404 && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
        strncmp(url, "/api/", 5) != 0 && (req->file = gw_web_find(gw->web, url))) {
        req->pattern = "console";
        req->etag = gw_web_etag(req->file);
    }
    if (req->matched == 405) { /* the path is known: name it */
        gw_match_t any;
        for (const kf_model_route_t *r = kf_model_routes; r->method; r++)
            if (gw_route_match(r->method, url, &any) == 200) {
                req->pattern = any.route->path;
                break;
            }
    }
    s_address(conn, req->address, sizeof req->address);
    gw_conn_t *c = s_conn_of(conn);
    if (c) {
        c->idle = false;
        c->since = zclock_mono();
    }
    return req;
}

/* Takes a piece of a POST body, dropping it once the body is over the
   limit. */
static void s_take(gw_req_t *req, const char *data, size_t size)
{
    if (req->body_over || req->body_size + size > GW_MAX_BODY) {
        req->body_over = true;
        free(req->body);
        req->body = NULL;
        req->body_size = 0;
        return;
    }
    req->body = (char *)realloc(req->body, req->body_size + size + 1);
    memcpy(req->body + req->body_size, data, size);
    req->body_size += size;
    req->body[req->body_size] = '\0';
}

/* Answers 413 for a body over GW_MAX_BODY. */
static void s_too_big(gw_req_t *req)
{
    kf_error_t err = {0};
    kf_error_set(&err, KF_E_TOO_LONG, "", "the body is over %d bytes", GW_MAX_BODY);
    gw_answer_error(req, 413, &err);
}

/* True when the declared Content-Length is over the limit. */
static bool s_declared_too_big(gw_req_t *req)
{
    const char *length = gw_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return length && strtoull(length, NULL, 10) > GW_MAX_BODY;
}

/* MHD's handler: called when the head arrived, for each piece of the body,
   once the body is whole, and again after a resume. */
static enum MHD_Result s_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    (void)version;
    gw_req_t *req = (gw_req_t *)*req_cls;
    if (!req) {
        req = s_req_new((gateway_t *)cls, conn, url, method);
        *req_cls = req;
        if (!s_declared_too_big(req))
            return MHD_YES;
        s_too_big(req); /* refused without reading it */
        return s_queue(req);
    }
    if (req->state == GW_RECEIVING && *upload_data_size > 0) {
        /* A chunked body over the limit is dropped as it comes (libmicrohttpd
           cannot answer in the middle of a body), within the connection's
           deadline. */
        s_take(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->state == GW_RECEIVING && req->body_over)
        s_too_big(req);
    else if (req->state == GW_RECEIVING)
        gw_dispatch(req);
    if (req->state == GW_ANSWERED)
        return s_queue(req);
    return MHD_YES; /* suspended */
}

/* MHD's notice that a request ended (answered, or its connection gone):
   logs and counts it, frees it. */
static void s_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode code)
{
    gateway_t *gw = (gateway_t *)cls;
    gw_req_t *req = (gw_req_t *)*req_cls;
    gw_conn_t *c = s_conn_of(conn);
    if (c) {
        c->idle = true;
        c->since = zclock_mono();
    }
    if (!req)
        return;
    double seconds = (double)(zclock_usecs() - req->started) / 1e6;
    int status = code == MHD_REQUEST_TERMINATED_COMPLETED_OK ? req->status : 0;
    char label[8];
    snprintf(label, sizeof label, "%d", status);
    kf_metric_inc(gw->requests, req->pattern, label);
    kf_metric_observe(gw->seconds, req->pattern, NULL, seconds);
    kf_info("gateway.request", "method=%s route=%s status=%d ms=%.1f staff=%s", req->method,
            req->pattern, status, seconds * 1000, req->staff[0] ? req->staff : "-");
    if (req->job) /* never: a connection at the worker stays suspended */
        req->job->arg = NULL;
    if (req->response)
        MHD_destroy_response(req->response);
    free(req->body);
    free(req->answer);
    sodium_memzero(req->token, sizeof req->token);
    free(req);
    *req_cls = NULL;
}

/* ---- connections --------------------------------------------------------------- */

/* MHD's notice of a connection opened or closed. */
static void s_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    gateway_t *gw = (gateway_t *)cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        gw_conn_t *c = (gw_conn_t *)*socket_context;
        if (c)
            zlistx_delete(gw->conns, c->handle); /* frees c */
        *socket_context = NULL;
        kf_metric_set(gw->open, NULL, NULL, (double)zlistx_size(gw->conns));
        return;
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    gw_conn_t *c = (gw_conn_t *)zmalloc(sizeof(gw_conn_t));
    c->fd = info ? info->connect_fd : -1;
    c->since = zclock_mono();
    c->handle = zlistx_add_end(gw->conns, c);
    *socket_context = c;
    kf_metric_set(gw->open, NULL, NULL, (double)zlistx_size(gw->conns));
}

void gw_http_tick(gateway_t *gw)
{
    int64_t now = zclock_mono();
    if (now >= gw->next_cut) {
        gw->next_cut = now + S_CUT_EVERY_MS;
        for (gw_conn_t *c = (gw_conn_t *)zlistx_first(gw->conns); c;
             c = (gw_conn_t *)zlistx_next(gw->conns)) {
            int64_t limit = c->idle ? S_IDLE_S * 1000 + S_RECEIVE_MS : S_RECEIVE_MS;
            if (c->cut || c->waiting || c->fd < 0 || now - c->since < limit)
                continue;
            /* Shut down, not closed: the descriptor stays MHD's, which sees
               the end and frees the connection in MHD_run. */
            kf_debug("gateway.http_cut", "after_ms=%" PRId64, now - c->since);
            shutdown(c->fd, SHUT_RDWR);
            c->cut = true;
        }
    }
    MHD_run(gw->http);
}

/* The connection list's destructor. */
static void s_conn_free(void **item)
{
    free(*item);
    *item = NULL;
}

/* Fills addr with bind:port (an IP address or a host name); false when it
   cannot be resolved. */
static bool s_sockaddr(const char *bind, int port, struct sockaddr_storage *addr, bool *v6)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(bind, service, &hints, &found) != 0 || !found)
        return false;
    memset(addr, 0, sizeof *addr);
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    *v6 = found->ai_family == AF_INET6;
    freeaddrinfo(found);
    return true;
}

int gw_http_start(gateway_t *gw)
{
    const char *bind = kf_config_str(gateway_settings, "KEFU_HTTP_BIND");
    struct sockaddr_storage addr;
    bool v6 = false;
    if (!s_sockaddr(bind, gw->port, &addr, &v6)) {
        fprintf(stderr, "kefu-gateway: KEFU_HTTP_BIND=%s: no such address\n", bind);
        return -1;
    }
    gw->conns = zlistx_new();
    zlistx_set_destructor(gw->conns, s_conn_free);
    unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                         (v6 ? MHD_USE_IPv6 : 0) | (gw->tls ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {gw->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, gw->tls_cert},
        {gw->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, gw->tls_key},
        {MHD_OPTION_END, 0, NULL}};
    gw->http = MHD_start_daemon(
        flags, (uint16_t)gw->port, NULL, NULL, s_on_access, gw, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, gw->max_conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)S_IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)S_HEAD_MAX, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)S_BACKLOG,
        MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, gw, MHD_OPTION_NOTIFY_CONNECTION,
        s_on_connection, gw, MHD_OPTION_EXTERNAL_LOGGER, kf_health_mhd_log,
        (void *)"gateway.http_error", MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        gw->http ? MHD_get_daemon_info(gw->http, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        fprintf(stderr,
                "kefu-gateway: cannot serve HTTP%s on %s port %d (in use, or a bad "
                "certificate or key)\n",
                gw->tls ? "S" : "", bind, gw->port);
        return -1;
    }
    gw->http_fd = info->epoll_fd;
    return 0;
}

void gw_http_stop(gateway_t *gw)
{
    if (gw->http)
        MHD_stop_daemon(gw->http);
    gw->http = NULL;
    zlistx_destroy(&gw->conns);
}
