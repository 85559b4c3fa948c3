/* kefu-http-load — drives submits through kefu-gateway's POST /api/v1/tickets
   from C concurrent HTTP/1.1 connections kept alive (libcurl's multi
   interface, one thread), one request in flight on each, and reports
   throughput and per-request latency as key=value lines (tests/bench/README.md).

   Each connection signs in first (POST /api/v1/session) as the same staff
   member, so C connections hold C sessions, as C agents' browsers would
   (--sessions S shares S sessions round-robin instead). The bodies are
   kefu-load's: the same kinds, categories, channels, priorities (--mix),
   phones and summaries, and a unique Idempotency-Key per request.
   Exit status: 0 every submit answered 200, 1 otherwise, 2 usage. */
#include <czmq.h>
#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "envelope.h"

#define S_MAX_CODES 16
#define S_BODY_MAX 65536
#define S_HIST_US 10          /* --events: latency histogram bucket, us */
#define S_HIST_N 1000000      /* buckets: up to 10 s */
#define S_DEFERRED_MAX 200000 /* events that arrived before the bus saw them */

/* ---- options -------------------------------------------------------- */

typedef struct {
    const char *url; /* the gateway's base URL */
    const char *staff;
    const char *password;
    const char *project;
    const char *kind;
    char idem_prefix[48];
    long n;          /* submits to send; 0: until the duration ends */
    long duration_s; /* 0: until n are sent */
    long c;
    long sessions;
    long timeout_ms;
    const char *go_file; /* after signing in: FILE.ready, then wait for FILE */
    const char *sub;     /* --events: the bus's subscriber endpoint */
    bool events;         /* hold SSE streams instead of submitting */
    bool mix;
} s_opts_t;

/* One signed-in session: its cookie and CSRF token. */
typedef struct {
    char cookie[256]; /* "kefu_session=..." */
    char csrf[128];
} s_session_t;

/* One connection with its request in flight. */
typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    const s_session_t *session;
    char body[1024];
    char reply[S_BODY_MAX];
    size_t reply_len;
    char set_cookie[256];
    long index; /* the submit in flight, -1 none */
    int64_t start_us;
    /* --events: the event being read from the stream */
    char ev_type[64];
    char ev_data[8192];
    size_t ev_len;
    long ev_count;
    void *events; /* the run's s_events_t */
} s_conn_t;

/* What came back, tallied as it comes. */
typedef struct {
    long sent, acked, duplicates, errors;
    int64_t *latency_us;
    long latency_room;
    int codes[S_MAX_CODES]; /* HTTP status, or 0: no answer */
    long code_counts[S_MAX_CODES];
    char code_names[S_MAX_CODES][32];
    int ncodes;
} s_tally_t;

/* ---- the submit body (kefu-load's, tests/bench/load.c) ------------------ */

/* Writes submit i's JSON body into out (kefu-load's fields but idem, which
   travels in the Idempotency-Key header). */
static void s_fill_body(const s_opts_t *o, unsigned phone_base, long i, char *out, size_t size)
{
    kb_submit_t sub;
    kb_submit_fill(&sub, o->mix, o->kind, phone_base, i);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", sub.kind, "category",
                             sub.category, "channel", sub.channel, "priority", sub.priority,
                             "project", o->project, "phone", sub.phone, "summary", sub.summary);
    char *text = json_dumps(body, JSON_COMPACT);
    snprintf(out, size, "%s", text ? text : "{}");
    free(text);
    json_decref(body);
}

/* ---- libcurl callbacks --------------------------------------------------- */

static size_t s_on_body(char *data, size_t size, size_t count, void *arg)
{
    s_conn_t *conn = (s_conn_t *)arg;
    size_t len = size * count;
    size_t room = sizeof conn->reply - 1 - conn->reply_len;
    size_t take = len < room ? len : room;
    memcpy(conn->reply + conn->reply_len, data, take);
    conn->reply_len += take;
    conn->reply[conn->reply_len] = 0;
    return len;
}

/* Keeps the kefu_session cookie of a Set-Cookie header. */
static size_t s_on_header(char *data, size_t size, size_t count, void *arg)
{
    s_conn_t *conn = (s_conn_t *)arg;
    size_t len = size * count;
    static const char name[] = "set-cookie:";
    if (len > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        while (*v == ' ')
            v++;
        size_t n = strcspn(v, ";\r\n");
        if (strncmp(v, "kefu_session=", 13) == 0 && n < sizeof conn->set_cookie)
            snprintf(conn->set_cookie, n + 1, "%s", v);
    }
    return len;
}

/* ---- requests --------------------------------------------------------------- */

/* Prepares conn's handle for one POST of body to path with headers. */
static void s_prepare(const s_opts_t *o, s_conn_t *conn, const char *path)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", o->url, path);
    CURL *e = conn->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, conn->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(conn->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, conn->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, conn);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, conn);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    conn->reply_len = 0;
    conn->reply[0] = 0;
}

/* Replaces conn's header list with the fixed ones and, when given, the
   session's cookie and CSRF token and an Idempotency-Key. */
static void s_headers(s_conn_t *conn, const s_session_t *session, const char *idem)
{
    char line[400];
    curl_slist_free_all(conn->headers);
    conn->headers = curl_slist_append(NULL, "Content-Type: application/json");
    conn->headers = curl_slist_append(conn->headers, "Expect:");
    if (session) {
        snprintf(line, sizeof line, "Cookie: %s", session->cookie);
        conn->headers = curl_slist_append(conn->headers, line);
        snprintf(line, sizeof line, "X-CSRF-Token: %s", session->csrf);
        conn->headers = curl_slist_append(conn->headers, line);
    }
    if (idem) {
        snprintf(line, sizeof line, "Idempotency-Key: %s", idem);
        conn->headers = curl_slist_append(conn->headers, line);
    }
}

/* Signs in once on conn (a blocking request); fills session. Returns 0, or
   -1 after saying why. */
static int s_sign_in(const s_opts_t *o, s_conn_t *conn, s_session_t *session)
{
    json_t *req = json_pack("{s:s, s:s}", "staff", o->staff, "password", o->password);
    char *text = json_dumps(req, JSON_COMPACT);
    snprintf(conn->body, sizeof conn->body, "%s", text);
    free(text);
    json_decref(req);
    s_headers(conn, NULL, NULL);
    s_prepare(o, conn, "/api/v1/session");
    conn->set_cookie[0] = 0;
    CURLcode rc = curl_easy_perform(conn->easy);
    long status = 0;
    curl_easy_getinfo(conn->easy, CURLINFO_RESPONSE_CODE, &status);
    json_t *reply = json_loads(conn->reply, 0, NULL);
    const char *csrf = json_string_value(json_object_get(reply, "csrf"));
    int result = 0;
    if (rc != CURLE_OK || status != 200 || !csrf || !conn->set_cookie[0]) {
        fprintf(stderr, "kefu-http-load: sign-in as %s failed: %s, HTTP %ld: %.200s\n", o->staff,
                curl_easy_strerror(rc), status, conn->reply);
        result = -1;
    } else {
        snprintf(session->cookie, sizeof session->cookie, "%s", conn->set_cookie);
        snprintf(session->csrf, sizeof session->csrf, "%s", csrf);
    }
    json_decref(reply);
    return result;
}

/* ---- tallying ---------------------------------------------------------------- */

/* Counts one failed submit under its status (0: no answer, named by curl). */
static void s_count_error(s_tally_t *t, int status, const char *name)
{
    int k = 0;
    while (k < t->ncodes && t->codes[k] != status)
        k++;
    if (k == t->ncodes && t->ncodes < S_MAX_CODES) {
        t->codes[k] = status;
        snprintf(t->code_names[k], sizeof t->code_names[k], "%s", name);
        t->ncodes++;
    }
    if (k < S_MAX_CODES)
        t->code_counts[k]++;
    t->errors++;
}

/* Records the outcome of conn's finished submit. */
static void s_finish(s_tally_t *t, s_conn_t *conn, CURLcode rc, int64_t now)
{
    long status = 0;
    curl_easy_getinfo(conn->easy, CURLINFO_RESPONSE_CODE, &status);
    char name[32];
    if (rc != CURLE_OK) {
        snprintf(name, sizeof name, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport");
        s_count_error(t, 0, name);
        return;
    }
    json_t *reply = json_loads(conn->reply, 0, NULL);
    const char *ticket = json_string_value(json_object_get(reply, "ticket"));
    if (status == 200 && ticket) {
        if (t->acked < t->latency_room)
            t->latency_us[t->acked] = now - conn->start_us;
        t->acked++;
        if (json_is_true(json_object_get(reply, "duplicate")))
            t->duplicates++;
    } else {
        const char *code = json_string_value(json_object_get(reply, "code"));
        snprintf(name, sizeof name, "%ld_%s", status, code ? code : "other");
        s_count_error(t, (int)status, name);
    }
    json_decref(reply);
}

/* ---- the run ------------------------------------------------------------------ */

typedef struct {
    const s_opts_t *o;
    CURLM *multi;
    s_conn_t *conns;
    long next;
    unsigned phone_base;
    int64_t end_us; /* duration mode: no new submit after it */
    s_tally_t tally;
} s_run_t;

/* Lets libcurl move every transfer on as far as it can without waiting. */
static void s_perform(CURLM *multi)
{
    int running = 0;
    curl_multi_perform(multi, &running);
}

/* The next transfer that has ended, or NULL. */
static CURLMsg *s_next_done(CURLM *multi)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)))
        if (msg->msg == CURLMSG_DONE)
            return msg;
    return NULL;
}

/* Starts the next submit on conn, if any is left. Returns true if started. */
static bool s_start_next(s_run_t *run, s_conn_t *conn)
{
    const s_opts_t *o = run->o;
    int64_t now = kb_now_us();
    if ((o->n > 0 && run->next >= o->n) || (o->duration_s > 0 && now >= run->end_us))
        return false;
    long i = run->next++;
    char idem[80];
    snprintf(idem, sizeof idem, "%s-%ld", o->idem_prefix, i);
    s_fill_body(o, run->phone_base, i, conn->body, sizeof conn->body);
    s_headers(conn, conn->session, idem);
    s_prepare(o, conn, "/api/v1/tickets");
    conn->index = i;
    conn->start_us = kb_now_us();
    run->tally.sent++;
    curl_multi_add_handle(run->multi, conn->easy);
    return true;
}

/* Runs every connection until the submits or the duration are used up.
   Returns the microseconds from the first send to the last answer. */
static int64_t s_drive(s_run_t *run)
{
    int64_t t0 = kb_now_us(), last = t0;
    run->end_us = t0 + run->o->duration_s * 1000000;
    int active = 0;
    for (long k = 0; k < run->o->c; k++)
        active += s_start_next(run, &run->conns[k]);
    while (active > 0) {
        s_perform(run->multi);
        for (CURLMsg *msg; (msg = s_next_done(run->multi));) {
            s_conn_t *conn = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&conn);
            CURLcode rc = msg->data.result;
            last = kb_now_us();
            curl_multi_remove_handle(run->multi, conn->easy);
            s_finish(&run->tally, conn, rc, last);
            conn->index = -1;
            active--;
            active += s_start_next(run, conn);
        }
        if (active > 0)
            curl_multi_poll(run->multi, NULL, 0, 100, NULL);
    }
    return last - t0;
}

/* ---- live events (--events): SSE streams and the bus ------------------------- */

/* What the streams received, against when the bus published it. */
typedef struct {
    pthread_mutex_t lock;
    zhashx_t *bus; /* "TYPE TICKET" -> int64_t* first seen on the bus, us */
    const char *endpoint;
    atomic_bool stop, ready;
    long bus_events;
    long sse_events, matched, heartbeats, early; /* early: before the bus had it */
    uint32_t *hist;                              /* bus -> stream latency, S_HIST_US buckets */
    char **deferred;                             /* keys of events seen before the bus */
    int64_t *deferred_at;
    long ndeferred;
} s_events_t;

static void s_free_value(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

/* The ticket an event is about: its body's "ticket", else its corr. */
static void s_event_ticket(const kf_env_t *env, char *out, size_t size)
{
    kf_error_t err = {0};
    if (kf_get_str(kf_env_body(env), "ticket", true, out, size, &err) != 1)
        snprintf(out, size, "%s", kf_env_corr(env));
}

/* The bus subscriber: remembers when each (type, ticket) was first seen. */
static void *s_bus_thread(void *arg)
{
    s_events_t *ev = (s_events_t *)arg;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sub, 1000000);
    zsock_set_linger(sub, 0);
    zsock_set_subscribe(sub, "");
    if (zsock_connect(sub, "%s", ev->endpoint) != 0)
        fprintf(stderr, "kefu-http-load: cannot connect to the bus at %s\n", ev->endpoint);
    atomic_store(&ev->ready, true);
    zpoller_t *poller = zpoller_new(sub, NULL);
    while (!atomic_load(&ev->stop)) {
        if (!zpoller_wait(poller, 50))
            continue;
        zmsg_t *msg = zmsg_recv(sub);
        int64_t at = kb_now_us();
        kf_error_t err = {0};
        kf_env_t *env = msg ? kf_env_decode_msg(msg, &err) : NULL;
        zmsg_destroy(&msg);
        if (!env)
            continue;
        char ticket[64], key[160];
        s_event_ticket(env, ticket, sizeof ticket);
        snprintf(key, sizeof key, "%s %s", kf_env_type(env), ticket);
        kf_env_destroy(&env);
        pthread_mutex_lock(&ev->lock);
        ev->bus_events++;
        if (!zhashx_lookup(ev->bus, key)) {
            int64_t *value = (int64_t *)malloc(sizeof(int64_t));
            *value = at;
            zhashx_insert(ev->bus, key, value);
        }
        pthread_mutex_unlock(&ev->lock);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    return NULL;
}

static void s_hist_add(s_events_t *ev, int64_t us)
{
    long bucket = us < 0 ? 0 : (long)(us / S_HIST_US);
    ev->hist[bucket < S_HIST_N ? bucket : S_HIST_N] += 1;
}

/* One whole event read from a stream: its latency from the bus, now or
   (when the bus has not seen it yet) at the end. */
static void s_dispatch(s_events_t *ev, s_conn_t *conn)
{
    conn->ev_data[conn->ev_len] = 0;
    json_t *data = json_loads(conn->ev_data, 0, NULL);
    const char *ticket = json_string_value(json_object_get(data, "ticket"));
    int64_t now = kb_now_us();
    ev->sse_events++;
    conn->ev_count++;
    if (ticket) {
        char key[160];
        snprintf(key, sizeof key, "%s %s", conn->ev_type[0] ? conn->ev_type : "message", ticket);
        pthread_mutex_lock(&ev->lock);
        int64_t *at = (int64_t *)zhashx_lookup(ev->bus, key);
        if (at) {
            s_hist_add(ev, now - *at);
            ev->matched++;
        } else if (ev->ndeferred < S_DEFERRED_MAX) {
            ev->deferred[ev->ndeferred] = strdup(key);
            ev->deferred_at[ev->ndeferred++] = now;
            ev->early++;
        }
        pthread_mutex_unlock(&ev->lock);
    }
    json_decref(data);
    conn->ev_type[0] = 0;
    conn->ev_len = 0;
}

/* One line of a stream (text/event-stream: event:, data:, id:, a comment,
   or the empty line that ends an event). */
static void s_stream_line(s_events_t *ev, s_conn_t *conn, char *line)
{
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = 0;
    if (len == 0) {
        if (conn->ev_len > 0)
            s_dispatch(ev, conn);
        return;
    }
    if (line[0] == ':') {
        ev->heartbeats++;
        return;
    }
    const char *value = strchr(line, ':');
    value = value ? value + 1 + (value[1] == ' ') : line + len;
    if (strncmp(line, "event:", 6) == 0)
        snprintf(conn->ev_type, sizeof conn->ev_type, "%s", value);
    else if (strncmp(line, "data:", 5) == 0) {
        size_t n = strlen(value);
        if (conn->ev_len + n + 1 < sizeof conn->ev_data) {
            if (conn->ev_len > 0)
                conn->ev_data[conn->ev_len++] = '\n';
            memcpy(conn->ev_data + conn->ev_len, value, n);
            conn->ev_len += n;
        }
    }
}

/* libcurl's write callback for a stream: splits what came into lines. */
static size_t s_on_stream(char *data, size_t size, size_t count, void *arg)
{
    s_conn_t *conn = (s_conn_t *)arg;
    size_t len = size * count;
    s_on_body(data, size, count, conn);
    char *start = conn->reply, *nl;
    while ((nl = memchr(start, '\n', conn->reply_len - (size_t)(start - conn->reply)))) {
        *nl = 0;
        s_stream_line((s_events_t *)conn->events, conn, start);
        start = nl + 1;
    }
    size_t rest = conn->reply_len - (size_t)(start - conn->reply);
    if (rest == sizeof conn->reply - 1)
        rest = 0; /* a line longer than the buffer: dropped */
    memmove(conn->reply, start, rest);
    conn->reply_len = rest;
    conn->reply[rest] = 0;
    return len;
}

/* Opens conn's stream (GET /api/v1/events with its session's cookie). */
static void s_open_stream(s_run_t *run, s_conn_t *conn, s_events_t *ev)
{
    char url[512], cookie[300];
    snprintf(url, sizeof url, "%s/api/v1/events", run->o->url);
    snprintf(cookie, sizeof cookie, "Cookie: %s", conn->session->cookie);
    curl_slist_free_all(conn->headers);
    conn->headers = curl_slist_append(NULL, "Accept: text/event-stream");
    conn->headers = curl_slist_append(conn->headers, cookie);
    CURL *e = conn->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, conn->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_stream);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, conn);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, run->o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    conn->events = ev;
    conn->reply_len = 0;
    curl_multi_add_handle(run->multi, e);
}

/* Holds every stream open for the duration; counts those that ended early
   by their HTTP status. Returns how many were still open at the end. */
static long s_hold_streams(s_run_t *run, s_events_t *ev)
{
    for (long k = 0; k < run->o->c; k++)
        s_open_stream(run, &run->conns[k], ev);
    int64_t end = kb_now_us() + run->o->duration_s * 1000000;
    long open = run->o->c;
    while (kb_now_us() < end && open > 0) {
        s_perform(run->multi);
        for (CURLMsg *msg; (msg = s_next_done(run->multi));) {
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            char name[32];
            snprintf(name, sizeof name, "ended_%ld", status);
            s_count_error(&run->tally, (int)status, name);
            curl_multi_remove_handle(run->multi, msg->easy_handle);
            open--;
        }
        curl_multi_poll(run->multi, NULL, 0, 100, NULL);
    }
    for (long k = 0; k < run->o->c; k++)
        curl_multi_remove_handle(run->multi, run->conns[k].easy);
    return open;
}

/* Nearest-rank percentile of the histogram, in ms. */
static double s_hist_pct(const s_events_t *ev, long count, double pct)
{
    long rank = (long)((pct / 100.0) * (double)count + 0.999999), seen = 0;
    for (long b = 0; b <= S_HIST_N && count > 0; b++) {
        seen += ev->hist[b];
        if (seen >= rank)
            return (double)(b * S_HIST_US) / 1000.0;
    }
    return 0;
}

/* Runs --events: the bus subscriber, then C streams held for -d seconds. */
static int s_run_events(s_run_t *run)
{
    s_events_t ev = {.endpoint = run->o->sub};
    pthread_mutex_init(&ev.lock, NULL);
    ev.bus = zhashx_new();
    zhashx_set_destructor(ev.bus, s_free_value);
    ev.hist = (uint32_t *)calloc(S_HIST_N + 1, sizeof(uint32_t));
    ev.deferred = (char **)calloc(S_DEFERRED_MAX, sizeof(char *));
    ev.deferred_at = (int64_t *)calloc(S_DEFERRED_MAX, sizeof(int64_t));
    pthread_t bus;
    pthread_create(&bus, NULL, s_bus_thread, &ev);
    while (!atomic_load(&ev.ready))
        zclock_sleep(5);
    int64_t t0 = kb_now_us();
    long open = s_hold_streams(run, &ev);
    double held_s = (double)(kb_now_us() - t0) / 1e6;
    zclock_sleep(500); /* the bus's last events */
    atomic_store(&ev.stop, true);
    pthread_join(bus, NULL);
    for (long k = 0; k < ev.ndeferred; k++) {
        int64_t *at = (int64_t *)zhashx_lookup(ev.bus, ev.deferred[k]);
        if (at) {
            s_hist_add(&ev, ev.deferred_at[k] - *at);
            ev.matched++;
        }
        free(ev.deferred[k]);
    }
    long per_min = -1, per_max = 0;
    for (long k = 0; k < run->o->c; k++) {
        long n = run->conns[k].ev_count;
        per_min = per_min < 0 || n < per_min ? n : per_min;
        per_max = n > per_max ? n : per_max;
    }
    printf("streams=%ld\nstreams_open_at_end=%ld\n", run->o->c, open);
    for (int k = 0; k < run->tally.ncodes; k++)
        printf("streams.%s=%ld\n", run->tally.code_names[k], run->tally.code_counts[k]);
    printf("held_s=%.1f\nbus_events=%ld\nsse_events=%ld\n", held_s, ev.bus_events, ev.sse_events);
    printf("sse_events_per_s=%.1f\n", held_s > 0 ? (double)ev.sse_events / held_s : 0);
    printf("events_per_stream_min=%ld\nevents_per_stream_max=%ld\n", per_min, per_max);
    printf("matched=%ld\nbefore_bus=%ld\nheartbeats=%ld\n", ev.matched, ev.early, ev.heartbeats);
    printf("deliver_p50_ms=%.2f\n", s_hist_pct(&ev, ev.matched, 50));
    printf("deliver_p90_ms=%.2f\n", s_hist_pct(&ev, ev.matched, 90));
    printf("deliver_p99_ms=%.2f\n", s_hist_pct(&ev, ev.matched, 99));
    printf("deliver_max_ms=%.2f\n", s_hist_pct(&ev, ev.matched, 100));
    fflush(stdout);
    zhashx_destroy(&ev.bus);
    free(ev.hist);
    free(ev.deferred);
    free(ev.deferred_at);
    pthread_mutex_destroy(&ev.lock);
    return open == run->o->c && ev.sse_events > 0 ? 0 : 1;
}

/* ---- statistics and output ------------------------------------------------------- */

/* Prints the figures, one key=value a line. */
static void s_print(const s_run_t *run, int64_t elapsed_us, int64_t signin_us)
{
    const s_tally_t *t = &run->tally;
    long nlat = t->acked < t->latency_room ? t->acked : t->latency_room;
    qsort(t->latency_us, (size_t)nlat, sizeof(int64_t), kb_cmp_i64);
    double elapsed_s = (double)elapsed_us / 1e6;
    printf("clients=%ld\n", run->o->c);
    printf("sessions=%ld\n", run->o->sessions);
    printf("signin_ms=%.1f\n", (double)signin_us / 1000);
    printf("sent=%ld\n", t->sent);
    printf("acked=%ld\n", t->acked);
    printf("duplicates=%ld\n", t->duplicates);
    printf("errors=%ld\n", t->errors);
    for (int k = 0; k < t->ncodes; k++)
        printf("errors.%s=%ld\n", t->code_names[k], t->code_counts[k]);
    printf("elapsed_ms=%.1f\n", elapsed_s * 1000);
    printf("ack_per_s=%.1f\n", elapsed_s > 0 ? (double)t->acked / elapsed_s : 0);
    printf("ack_p50_ms=%.2f\n", kb_pct_ms(t->latency_us, nlat, 50));
    printf("ack_p90_ms=%.2f\n", kb_pct_ms(t->latency_us, nlat, 90));
    printf("ack_p99_ms=%.2f\n", kb_pct_ms(t->latency_us, nlat, 99));
    printf("ack_max_ms=%.2f\n", kb_pct_ms(t->latency_us, nlat, 100));
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("load_cpu_ms=%.0f\n",
           (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
               (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000);
    fflush(stdout);
}

/* ---- usage and options ------------------------------------------------------------- */

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: kefu-http-load [options]\n"
        "Drives submits through kefu-gateway (POST /api/v1/tickets) from C HTTP/1.1\n"
        "connections kept alive, one request in flight on each, and reports throughput\n"
        "and latency as key=value lines (see tests/bench/README.md).\n\n"
        "  --url URL          the gateway (default $KEFU_GATEWAY_URL or http://127.0.0.1:8080)\n"
        "  -n N               submits to send (default 1000; 0 with -d: no limit)\n"
        "  -d SECONDS         send until SECONDS have passed (default 0: until N are sent)\n"
        "  -c C               connections, one request in flight each (default 1)\n"
        "  --sessions S       sign in S times and share the sessions round-robin over the\n"
        "                     connections (default C: each connection its own session)\n"
        "  --staff ID         who signs in (default $KEFU_STAFF or agent.li)\n"
        "  --password-env V   the environment variable holding the password (default\n"
        "                     KEFU_PASSWORD)\n"
        "  --project P        project code (default HZ-XH)\n"
        "  --kind K           kind of every submit (default complaint)\n"
        "  --mix              cycle kinds, categories, channels and priorities (kefu-load's)\n"
        "  --idem-prefix S    Idempotency-Key is S-INDEX (default a random prefix)\n"
        "  --timeout-ms T     per request (default 5000)\n"
        "  --go-file FILE     after signing in, create FILE.ready and wait (up to 10 min)\n"
        "                     until FILE exists, so a script can read the gateway's CPU\n"
        "                     time without the sign-ins' Argon2id\n"
        "  --help             this text\n\n"
        "Exit status: 0 every submit answered 200 with a ticket, 1 otherwise, 2 usage error.\n");
}

enum {
    O_URL = 256,
    O_SESSIONS,
    O_STAFF,
    O_PWENV,
    O_PROJECT,
    O_KIND,
    O_MIX,
    O_IDEM,
    O_TIMEOUT,
    O_GO,
    O_EVENTS,
    O_SUB
};

/* Applies one option. Returns 0, 1 after --help, or 2 on a usage error. */
static int s_option(int opt, const char *arg, const char *given, s_opts_t *o)
{
    switch (opt) {
    case 'n':
        return kb_long_arg("kefu-http-load", "-n", arg, 0, 100000000, &o->n) ? 2 : 0;
    case 'd':
        return kb_long_arg("kefu-http-load", "-d", arg, 0, 86400, &o->duration_s) ? 2 : 0;
    case 'c':
        return kb_long_arg("kefu-http-load", "-c", arg, 1, 4096, &o->c) ? 2 : 0;
    case O_SESSIONS:
        return kb_long_arg("kefu-http-load", "--sessions", arg, 1, 4096, &o->sessions) ? 2 : 0;
    case O_TIMEOUT:
        return kb_long_arg("kefu-http-load", "--timeout-ms", arg, 1, 3600000, &o->timeout_ms) ? 2
                                                                                              : 0;
    case O_GO:
        o->go_file = arg;
        return 0;
    case O_EVENTS:
        o->events = true;
        return 0;
    case O_SUB:
        o->sub = arg;
        return 0;
    case O_URL:
        o->url = arg;
        return 0;
    case O_STAFF:
        o->staff = arg;
        return 0;
    case O_PWENV:
        o->password = getenv(arg);
        return 0;
    case O_PROJECT:
        o->project = arg;
        return 0;
    case O_KIND:
        o->kind = arg;
        return 0;
    case O_MIX:
        o->mix = true;
        return 0;
    case O_IDEM:
        if (strlen(arg) == 0 || strlen(arg) > 40) {
            fprintf(stderr, "kefu-http-load: --idem-prefix must be 1-40 bytes\n");
            return 2;
        }
        snprintf(o->idem_prefix, sizeof o->idem_prefix, "%s", arg);
        return 0;
    case 'h':
        s_usage(stdout);
        return 1;
    default:
        fprintf(stderr, "kefu-http-load: unknown or incomplete option '%s' (try --help)\n", given);
        return 2;
    }
}

/* Returns 0, 1 after --help, or 2 on a usage error. */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option longs[] = {{"url", required_argument, NULL, O_URL},
                                          {"sessions", required_argument, NULL, O_SESSIONS},
                                          {"staff", required_argument, NULL, O_STAFF},
                                          {"password-env", required_argument, NULL, O_PWENV},
                                          {"project", required_argument, NULL, O_PROJECT},
                                          {"kind", required_argument, NULL, O_KIND},
                                          {"mix", no_argument, NULL, O_MIX},
                                          {"idem-prefix", required_argument, NULL, O_IDEM},
                                          {"timeout-ms", required_argument, NULL, O_TIMEOUT},
                                          {"go-file", required_argument, NULL, O_GO},
                                          {"events", no_argument, NULL, O_EVENTS},
                                          {"sub", required_argument, NULL, O_SUB},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    o->url = kb_env_or("KEFU_GATEWAY_URL", "http://127.0.0.1:8080");
    o->staff = kb_env_or("KEFU_STAFF", "agent.li");
    o->password = getenv("KEFU_PASSWORD");
    o->project = "HZ-XH";
    o->kind = "complaint";
    o->n = 1000;
    o->c = 1;
    o->timeout_ms = 5000;
    o->sub = kb_env_or("KEFU_BUS_SUB", "tcp://127.0.0.1:7702");
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "n:d:c:h", longs, NULL)) != -1) {
        int rc = s_option(opt, optarg, argv[optind - 1], o);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "kefu-http-load: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (o->events) {
        o->duration_s = o->duration_s ? o->duration_s : 30;
        o->sessions = o->sessions ? o->sessions : (o->c < 10 ? o->c : 10);
    }
    if (o->n == 0 && o->duration_s == 0) {
        fprintf(stderr, "kefu-http-load: -n 0 needs -d SECONDS\n");
        return 2;
    }
    if (!o->password || !o->password[0]) {
        fprintf(stderr, "kefu-http-load: no password (set KEFU_PASSWORD or --password-env)\n");
        return 2;
    }
    if (o->sessions == 0 || o->sessions > o->c)
        o->sessions = o->c;
    if (!o->idem_prefix[0]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(o->idem_prefix, sizeof o->idem_prefix, "http-%lx-%lx-%d", (long)ts.tv_sec,
                 (long)ts.tv_nsec, (int)getpid());
    }
    return 0;
}

/* With --go-file: says the sessions are open and waits for the word to go.
   Returns 0, or -1 when it never came. */
static int s_wait_go(const char *file)
{
    char ready[1024];
    snprintf(ready, sizeof ready, "%s.ready", file);
    FILE *f = fopen(ready, "w");
    if (!f) {
        fprintf(stderr, "kefu-http-load: cannot write %s\n", ready);
        return -1;
    }
    fclose(f);
    for (int k = 0; k < 60000; k++) {
        if (access(file, F_OK) == 0)
            return 0;
        struct timespec pause = {0, 10000000};
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "kefu-http-load: %s never appeared\n", file);
    return -1;
}

/* ---- main ---------------------------------------------------------------------- */

/* Makes the connections and signs the sessions in. Returns 0 or -1. */
static int s_open(s_run_t *run, s_session_t *sessions)
{
    const s_opts_t *o = run->o;
    for (long k = 0; k < o->c; k++) {
        s_conn_t *conn = &run->conns[k];
        conn->index = -1;
        if (k < o->sessions) {
            /* A handle of its own, so the sign-in's connection closes with
               it: the multi handle keeps C connections, no more. */
            conn->easy = curl_easy_init();
            int signed_in = s_sign_in(o, conn, &sessions[k]);
            curl_easy_cleanup(conn->easy);
            conn->easy = NULL;
            if (signed_in != 0)
                return -1;
        }
        conn->easy = curl_easy_init();
        curl_easy_setopt(conn->easy, CURLOPT_PRIVATE, conn);
        conn->session = &sessions[k % o->sessions];
    }
    return 0;
}

int main(int argc, char **argv)
{
    s_opts_t opts = {0};
    int rc = s_parse(argc, argv, &opts);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    /* A thousand streams need a thousand descriptors. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    zsys_init();
    zsys_set_logstream(NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s_run_t run = {.o = &opts};
    run.conns = (s_conn_t *)calloc((size_t)opts.c, sizeof(s_conn_t));
    s_session_t *sessions = (s_session_t *)calloc((size_t)opts.sessions, sizeof(s_session_t));
    run.phone_base = kb_phone_base(opts.idem_prefix);
    run.tally.latency_room = opts.n > 0 ? opts.n : 10000000;
    run.tally.latency_us = (int64_t *)calloc((size_t)run.tally.latency_room, sizeof(int64_t));
    run.multi = curl_multi_init();
    curl_multi_setopt(run.multi, CURLMOPT_MAXCONNECTS, opts.c);
    int64_t s0 = kb_now_us();
    int status = 1;
    if (s_open(&run, sessions) == 0 && (!opts.go_file || s_wait_go(opts.go_file) == 0)) {
        int64_t signin_us = kb_now_us() - s0;
        if (opts.events) {
            printf("signin_ms=%.1f\n", (double)signin_us / 1000);
            status = s_run_events(&run);
        } else {
            int64_t elapsed = s_drive(&run);
            s_print(&run, elapsed, signin_us);
            status = run.tally.errors == 0 && run.tally.acked > 0 ? 0 : 1;
        }
    }
    for (long k = 0; k < opts.c; k++) {
        curl_easy_cleanup(run.conns[k].easy);
        curl_slist_free_all(run.conns[k].headers);
    }
    curl_multi_cleanup(run.multi);
    curl_global_cleanup();
    free(run.tally.latency_us);
    free(sessions);
    free(run.conns);
    return status;
}
