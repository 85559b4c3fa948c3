/* kefu-gateway — live events: GET /api/v1/events as Server-Sent Events
   (events.h). */
#include "events.h"
#include "gw.h"
#include "visible.h"

#include <inttypes.h>
#include <string.h>

#include "bus.h"
#include "kf_model.h"
#include "log.h"

#define S_PAGE 500                /* events read from the outbox at once */
#define S_POLL_MS 1000            /* the outbox is read this often when the bus is quiet */
#define S_BEAT_EVERY_MS 250       /* how often the heartbeats are looked at */
#define S_UNSENT_MAX (256 * 1024) /* a stream with more unsent is closed (it reconnects) */
#define S_BLOCK 4096              /* what MHD asks of a stream at once */
#define S_BURST 1000              /* bus messages taken at once */
#define S_RETRY_MS 3000           /* the browser reconnects after this (the retry field) */
#define S_CATCHUP_MAX "10000"     /* events a reconnect may catch up on, at most */

/* A place in the outbox: events are read and passed in (xid, seq) order. */
typedef struct {
    uint64_t xid;
    int64_t seq;
} s_pos_t;

/* One open event stream. */
typedef struct {
    gw_events_t *owner;
    struct MHD_Connection *conn;
    bool suspended; /* in s_read, for want of something to send */
    bool closing;   /* ends once its buffer is sent */
    char staff[KF_LIM_STAFF + 1];
    char role[16];
    char department[40];
    char heads[256];
    char token[GW_TOKEN_SIZE]; /* for the session re-check */
    s_pos_t pos;               /* the last event passed (sent or not visible) */
    char *buf;                 /* unsent: buf[off..len) */
    size_t len, cap, off;
    int64_t last_write; /* zclock_mono */
    void *handle;       /* in owner->streams */
} s_stream_t;

struct gw_events {
    kf_store_t *store;
    kf_health_t *health;
    zsock_t *sub;
    zlistx_t *streams;
    long max_streams, heartbeat_s, recheck_s;
    bool dirty; /* the bus rang, or a full page was read: read again */
    bool head_known;
    s_pos_t head; /* the furthest position read: where a new stream starts */
    int64_t next_poll, next_beat, next_recheck;
    char *types; /* PostgreSQL array literal of the model's events */
    kf_metric_t *open;
};

/* True when a is before b. */
static bool s_before(s_pos_t a, s_pos_t b)
{
    return a.xid < b.xid || (a.xid == b.xid && a.seq < b.seq);
}

/* Registers the statements. */
static void s_prepare(kf_store_t *store)
{
    kf_store_statement(store, "gw_ev_viewer",
                       "SELECT v.staff_id, v.role, s.department_id, v.must_change, "
                       "coalesce((SELECT string_agg(d.id, ',') FROM department d "
                       "WHERE d.head_id = v.staff_id), '') "
                       "FROM kefu_session_touch($1) v JOIN staff s ON s.id = v.staff_id");
    /* The event a catch-up starts after: the one named, or the one
       S_CATCHUP_MAX before the last when it is older (cut). */
    kf_store_statement(store, "gw_ev_at",
                       "SELECT xid::text, seq, seq > $1::bigint FROM event WHERE seq = "
                       "greatest($1::bigint, (SELECT max(seq) FROM event) - $2::bigint)");
    kf_store_statement(store, "gw_ev_xmin", "SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
    /* Below xmin every transaction has finished (feed.h): an event that
       commits later has a larger xid than any read here. */
    kf_store_statement(
        store, "gw_ev_read",
        "SELECT e.seq, e.xid::text, e.type, e.body::text, t.department_id, t.owner_id, "
        "t.created_by, fs.department_id, r.requested_by FROM event e "
        "LEFT JOIN ticket t ON e.corr <> '' AND t.no = e.corr "
        "LEFT JOIN staff fs ON e.type IN ('ticket.transferred', 'ticket.reopened') "
        "AND fs.id = e.body->>'from' "
        "LEFT JOIN approval_request r ON r.id = CASE WHEN e.type LIKE 'approval.%' AND "
        "jsonb_typeof(e.body->'request') = 'number' THEN (e.body->>'request')::numeric::bigint "
        "END "
        "WHERE e.type = ANY ($3::text[]) AND e.xid >= $1::xid8 "
        "AND (e.xid > $1::xid8 OR e.seq > $2::bigint) "
        "AND e.xid < pg_snapshot_xmin(pg_current_snapshot()) "
        "ORDER BY e.xid, e.seq LIMIT $4::int");
    kf_store_statement(store, "gw_ev_ended",
                       "SELECT u.i FROM unnest($1::text[]) WITH ORDINALITY AS u(tok, i) "
                       "WHERE (SELECT v.session_id FROM kefu_session_valid(u.tok) v) IS NULL");
}

/* gw_store_exec on the events' store. */
static PGresult *s_exec(gw_events_t *self, const char *name, int n, const char *const *params,
                        kf_error_t *err)
{
    return gw_store_exec(self->store, self->health, name, n, params, err);
}

/* The list's destructor. */
static void s_stream_free(void **item)
{
    s_stream_t *s = (s_stream_t *)*item;
    if (s) {
        sodium_memzero(s->token, sizeof s->token);
        free(s->buf);
        free(s);
    }
    *item = NULL;
}

gw_events_t *gw_events_new(const kf_setting_t *table, kf_store_t *store, kf_health_t *health)
{
    gw_events_t *self = (gw_events_t *)zmalloc(sizeof(gw_events_t));
    if (kf_config_int(table, "KEFU_SSE_MAX_STREAMS", &self->max_streams) != 0 ||
        kf_config_int(table, "KEFU_SSE_HEARTBEAT_S", &self->heartbeat_s) != 0 ||
        kf_config_int(table, "KEFU_SSE_RECHECK_S", &self->recheck_s) != 0) {
        free(self);
        return NULL;
    }
    static const char *const topics[] = {"ticket.", "approval.", "call.", NULL};
    self->sub = kf_bus_subscriber(table, topics);
    self->store = store;
    self->health = health;
    self->streams = zlistx_new();
    zlistx_set_destructor(self->streams, s_stream_free);
    int count = 0;
    while (kf_model_events[count])
        count++;
    self->types = kf_store_array(kf_model_events, count);
    self->open = kf_metrics_gauge(kf_health_metrics(health), "kefu_sse_streams_open",
                                  "event streams (GET /api/v1/events) open", NULL, NULL);
    s_prepare(store);
    return self;
}

void gw_events_destroy(gw_events_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_events_t *self = *self_p;
    zlistx_destroy(&self->streams);
    zsock_destroy(&self->sub);
    free(self->types);
    free(self);
    *self_p = NULL;
}

zsock_t *gw_events_sock(gw_events_t *self)
{
    return self->sub;
}

void gw_events_on_bus(gw_events_t *self)
{
    for (int i = 0; i < S_BURST && (zsock_events(self->sub) & ZMQ_POLLIN); i++) {
        zmsg_t *msg = zmsg_recv(self->sub);
        zmsg_destroy(&msg);
    }
    self->dirty = true;
}

/* ---- one stream ------------------------------------------------------------------ */

/* Resumes s's connection when it waits for something to send. */
static void s_wake(s_stream_t *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* Ends s once what it has is sent. */
static void s_close(s_stream_t *s, const char *why)
{
    if (!s->closing)
        kf_info("gateway.stream_closed", "staff=%s reason=%s", s->staff, why);
    s->closing = true;
    s_wake(s);
}

/* Queues n bytes of text on s; a stream over S_UNSENT_MAX is closed (its
   browser reconnects with Last-Event-ID and catches up). */
static void s_append(s_stream_t *s, const char *text, size_t n)
{
    if (s->closing)
        return;
    if (s->len - s->off + n > S_UNSENT_MAX) {
        s->len = s->off = 0;
        s_close(s, "slow_reader");
        return;
    }
    if (s->off > 0) {
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->buf = (char *)realloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, text, n);
    s->len += n;
    s->last_write = zclock_mono();
    s_wake(s);
}

/* MHD's reader of a stream: what is unsent, or a suspension until there
   is some (never a busy loop), or the end. */
static ssize_t s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    s_stream_t *s = (s_stream_t *)cls;
    if (s->len > s->off) {
        size_t n = s->len - s->off < max ? s->len - s->off : max;
        memcpy(buf, s->buf + s->off, n);
        s->off += n;
        if (s->off == s->len)
            s->off = s->len = 0;
        return (ssize_t)n;
    }
    if (s->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    return 0;
}

/* MHD's notice that a stream's response is done with: forgets it. */
static void s_gone(void *cls)
{
    s_stream_t *s = (s_stream_t *)cls;
    gw_events_t *self = s->owner;
    zlistx_delete(self->streams, s->handle); /* frees s */
    kf_metric_set(self->open, NULL, NULL, (double)zlistx_size(self->streams));
}

/* ---- opening a stream ------------------------------------------------------------ */

/* Answers an error of code with field and message. */
static void s_refuse(gw_req_t *req, int status, kf_err_t code, const char *field,
                     const char *message)
{
    kf_error_t err = {0};
    kf_error_set(&err, code, field, "%s", message);
    gw_answer_error(req, status, &err);
}

/* Reads the Last-Event-ID header (or ?last_event_id=) into *seq (-1 when
   absent). False when it is not a seq. */
static bool s_last_id(gw_req_t *req, int64_t *seq)
{
    const char *v = gw_header(req, "Last-Event-ID");
    if (!v)
        v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "last_event_id");
    *seq = -1;
    if (!v)
        return true;
    size_t n = strlen(v);
    if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
        return false;
    *seq = strtoll(v, NULL, 10);
    return true;
}

/* Loads the viewer of req's session into s: false when req is answered
   (401, 403, 503). */
static bool s_viewer(gw_events_t *self, gw_req_t *req, s_stream_t *s)
{
    kf_error_t err = {0};
    const char *params[] = {req->token};
    PGresult *res = s_exec(self, "gw_ev_viewer", 1, params, &err);
    if (!res) {
        req->retry_after = 1;
        s_refuse(req, 503, KF_E_UNAVAILABLE, "", "the store cannot be reached; try again");
        return false;
    }
    bool open = PQntuples(res) == 1, must_change = open && PQgetvalue(res, 0, 3)[0] == 't';
    if (open) {
        snprintf(s->staff, sizeof s->staff, "%s", PQgetvalue(res, 0, 0));
        snprintf(s->role, sizeof s->role, "%s", PQgetvalue(res, 0, 1));
        snprintf(s->department, sizeof s->department, "%s", PQgetvalue(res, 0, 2));
        snprintf(s->heads, sizeof s->heads, "%s", PQgetvalue(res, 0, 4));
        snprintf(req->staff, sizeof req->staff, "%s", s->staff);
    }
    PQclear(res);
    if (!open) {
        gw_session_forget(req);
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "",
                 "no open session: sign in (POST /api/v1/session)");
    } else if (must_change)
        s_refuse(req, 403, KF_E_FORBIDDEN, "",
                 "the password must be changed first (POST /api/v1/session/password)");
    return open && !must_change;
}

/* The position a stream starts from: just after the event numbered seq,
   when it exists and is at most S_CATCHUP_MAX events back; else where the
   reader is now. Returns 0, 1 when the stream misses events (*why says
   why), -1 when the store fails. */
static int s_start(gw_events_t *self, int64_t seq, s_pos_t *pos, const char **why)
{
    kf_error_t err = {0};
    int missed = 0;
    if (seq >= 0) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, seq);
        const char *params[] = {text, S_CATCHUP_MAX};
        PGresult *res = s_exec(self, "gw_ev_at", 2, params, &err);
        if (!res)
            return -1;
        bool found = PQntuples(res) == 1;
        if (found) {
            *pos = (s_pos_t){strtoull(PQgetvalue(res, 0, 0), NULL, 10),
                             strtoll(PQgetvalue(res, 0, 1), NULL, 10)};
            missed = PQgetvalue(res, 0, 2)[0] == 't';
            *why = "too_far_behind";
        }
        PQclear(res);
        if (found)
            return missed;
        *why = "unknown_id";
        missed = 1;
    }
    if (!self->head_known) {
        PGresult *res = s_exec(self, "gw_ev_xmin", 0, NULL, &err);
        if (!res)
            return -1;
        self->head = (s_pos_t){strtoull(PQgetvalue(res, 0, 0), NULL, 10), 0};
        self->head_known = true;
        PQclear(res);
    }
    *pos = self->head;
    return missed;
}

/* Makes s's response: an endless text/event-stream. */
static bool s_respond(gw_req_t *req, s_stream_t *s)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, S_BLOCK, s_read, s, s_gone);
    if (!r)
        return false;
    req->response = r;
    req->content_type = "text/event-stream; charset=utf-8";
    req->status = 200;
    req->state = GW_ANSWERED;
    return true;
}

void gw_events_open(gw_req_t *req)
{
    gw_events_t *self = req->gw->events;
    int64_t seq = -1;
    if ((long)zlistx_size(self->streams) >= self->max_streams) {
        req->retry_after = 5;
        s_refuse(req, 503, KF_E_UNAVAILABLE, "", "too many event streams; try again");
        return;
    }
    if (!s_last_id(req, &seq)) {
        s_refuse(req, 400, KF_E_BAD_VALUE, "last_event_id",
                 "Last-Event-ID must be the id of an event (digits)");
        return;
    }
    s_stream_t *s = (s_stream_t *)zmalloc(sizeof(s_stream_t));
    const char *why = "";
    int missed = -1;
    if (!s_viewer(self, req, s) || (missed = s_start(self, seq, &s->pos, &why)) < 0) {
        if (req->state != GW_ANSWERED) {
            req->retry_after = 1;
            s_refuse(req, 503, KF_E_UNAVAILABLE, "", "the store cannot be reached; try again");
        }
        free(s);
        return;
    }
    s->owner = self;
    s->conn = req->conn;
    snprintf(s->token, sizeof s->token, "%s", req->token);
    char hello[160];
    int n = snprintf(hello, sizeof hello, ": kefu events\nretry: %d\n\n", S_RETRY_MS);
    if (missed) /* the client reloads what it shows */
        n += snprintf(hello + n, sizeof hello - (size_t)n,
                      "event: kefu.reset\ndata: {\"reason\":\"%s\"}\n\n", why);
    s_append(s, hello, (size_t)n);
    if (!s_respond(req, s)) {
        s_stream_free((void **)&s);
        s_refuse(req, 500, KF_E_INTERNAL, "", "cannot open the stream");
        return;
    }
    s->handle = zlistx_add_end(self->streams, s);
    kf_metric_set(self->open, NULL, NULL, (double)zlistx_size(self->streams));
    kf_info("gateway.stream_opened", "staff=%s after=%" PRId64, s->staff, seq);
    self->dirty = true; /* its catch-up starts now */
}

/* ---- the reader ------------------------------------------------------------------ */

/* The lowest position among the streams. */
static s_pos_t s_lowest(gw_events_t *self)
{
    s_pos_t low = {UINT64_MAX, INT64_MAX};
    for (s_stream_t *s = (s_stream_t *)zlistx_first(self->streams); s;
         s = (s_stream_t *)zlistx_next(self->streams))
        if (s_before(s->pos, low))
            low = s->pos;
    return low;
}

/* A column, NULL when it is SQL NULL. */
static const char *s_col(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Passes row of res (an event) to every stream behind it, sending it to
   those that may see it. */
static void s_fan_out(gw_events_t *self, const PGresult *res, int row)
{
    s_pos_t at = {strtoull(PQgetvalue(res, row, 1), NULL, 10),
                  strtoll(PQgetvalue(res, row, 0), NULL, 10)};
    json_t *body = json_loads(PQgetvalue(res, row, 3), 0, NULL);
    gw_event_facts_t ev = {.type = PQgetvalue(res, row, 2),
                           .body = body,
                           .ticket_dept = s_col(res, row, 4),
                           .ticket_owner = s_col(res, row, 5),
                           .ticket_creator = s_col(res, row, 6),
                           .from_dept = s_col(res, row, 7),
                           .requester = s_col(res, row, 8)};
    char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
    size_t size = data ? strlen(data) + strlen(ev.type) + 64 : 0;
    char *text = data ? (char *)malloc(size) : NULL;
    int n = text ? snprintf(text, size, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", at.seq, ev.type,
                            data)
                 : -1;
    for (s_stream_t *s = (s_stream_t *)zlistx_first(self->streams); s;
         s = (s_stream_t *)zlistx_next(self->streams)) {
        if (!s_before(s->pos, at))
            continue;
        s->pos = at;
        gw_viewer_t viewer = {s->staff, s->role, s->department, s->heads};
        if (n > 0 && gw_event_visible(&viewer, &ev))
            s_append(s, text, (size_t)n);
    }
    if (s_before(self->head, at))
        self->head = at;
    free(text);
    free(data);
    json_decref(body);
}

/* Reads one page of the outbox from the lowest stream's position and
   fans it out. */
static void s_read_page(gw_events_t *self)
{
    int64_t now = zclock_mono();
    if (!self->dirty && now < self->next_poll)
        return;
    self->dirty = false;
    self->next_poll = now + S_POLL_MS;
    if (zlistx_size(self->streams) == 0) {
        self->head_known = false; /* a new stream asks the store where now is */
        return;
    }
    s_pos_t low = s_lowest(self);
    char xid[24], seq[24], page[16];
    snprintf(xid, sizeof xid, "%" PRIu64, low.xid);
    snprintf(seq, sizeof seq, "%" PRId64, low.seq);
    snprintf(page, sizeof page, "%d", S_PAGE);
    const char *params[] = {xid, seq, self->types, page};
    kf_error_t err = {0};
    PGresult *res = s_exec(self, "gw_ev_read", 4, params, &err);
    if (!res)
        return; /* tried again at the next poll */
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        s_fan_out(self, res, i);
    PQclear(res);
    self->dirty = rows == S_PAGE; /* there may be more */
}

/* Sends a heartbeat on every stream quiet for heartbeat_s. */
static void s_beat(gw_events_t *self, int64_t now)
{
    static const char beat[] = ": hb\n\n";
    for (s_stream_t *s = (s_stream_t *)zlistx_first(self->streams); s;
         s = (s_stream_t *)zlistx_next(self->streams))
        if (now - s->last_write >= self->heartbeat_s * 1000)
            s_append(s, beat, sizeof beat - 1);
}

/* Closes the streams whose session ended (signed out, revoked, expired,
   staff member made inactive): one statement for all of them. */
static void s_recheck(gw_events_t *self)
{
    size_t count = zlistx_size(self->streams);
    if (count == 0)
        return;
    s_stream_t **all = (s_stream_t **)calloc(count, sizeof *all);
    const char **items = (const char **)calloc(count, sizeof *items);
    size_t i = 0;
    for (s_stream_t *s = (s_stream_t *)zlistx_first(self->streams); s;
         s = (s_stream_t *)zlistx_next(self->streams), i++) {
        all[i] = s;
        items[i] = s->token;
    }
    char *tokens = kf_store_array(items, (int)count);
    free(items);
    const char *params[] = {tokens};
    kf_error_t err = {0};
    PGresult *res = s_exec(self, "gw_ev_ended", 1, params, &err);
    if (!res)
        kf_warn("gateway.stream_recheck_failed", "code=%s message=%s", kf_err_name(err.code),
                err.message);
    for (int row = 0; res && row < PQntuples(res); row++) {
        long which = atol(PQgetvalue(res, row, 0));
        if (which >= 1 && (size_t)which <= count)
            s_close(all[which - 1], "session_ended");
    }
    PQclear(res);
    sodium_memzero(tokens, strlen(tokens)); /* session tokens: not left in freed memory */
    free(tokens);
    free(all);
}

void gw_events_tick(gw_events_t *self)
{
    s_read_page(self);
    int64_t now = zclock_mono();
    if (now >= self->next_beat) {
        self->next_beat = now + S_BEAT_EVERY_MS;
        s_beat(self, now);
    }
    if (now >= self->next_recheck) {
        self->next_recheck = now + self->recheck_s * 1000;
        s_recheck(self);
    }
}

int gw_events_wait_ms(gw_events_t *self, int wait)
{
    if (self->dirty)
        return 0;
    if (zlistx_size(self->streams) > 0 && wait > S_BEAT_EVERY_MS)
        return S_BEAT_EVERY_MS;
    return wait;
}

void gw_events_close_all(gw_events_t *self)
{
    for (s_stream_t *s = (s_stream_t *)zlistx_first(self->streams); s;
         s = (s_stream_t *)zlistx_next(self->streams))
        s_close(s, "stopping");
}
