/* intake — the ROUTER loop, group commit of submits, ticket commands. */
#include "intake.h"

#include <assert.h>
#include <czmq.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "auth.h"
#include "bus.h"
#include "envelope.h"
#include "feed.h"
#include "health.h"
#include "idem.h"
#include "log.h"
#include "stop.h"
#include "phone.h"
#include "requests.h"
#include "server.h"
#include "sock.h"
#include "store.h"

#define S_SRC "intake"
#define S_BURST 1000    /* most requests taken in one go */
#define S_DRAIN_MS 5000 /* longest a stop waits for the store to answer groups */
#define S_LANES_MAX 8   /* most store connections writing groups */

const kf_setting_t intake_settings[] = {
    KF_SETTINGS_COMMON,
    KF_SETTINGS_HEALTH(KF_METRICS_PORT_INTAKE),
    KF_SETTINGS_CURVE,
    KF_SET_ENDPOINT("KEFU_INTAKE_BIND", "tcp://127.0.0.1:7700",
                    "endpoint intake binds for clients (tcp://*:7700: every interface)"),
    KF_SET_INT("KEFU_INTAKE_BATCH", "64", 1, 1000,
               "most submits written in one transaction (group commit)"),
    KF_SET_INT("KEFU_INTAKE_CONNECTIONS", "2", 1, S_LANES_MAX,
               "store connections writing groups of submits at the same time"),
    KF_SETTINGS_END};

/* One submit waiting for the group commit. */
typedef struct {
    kf_request_t req;
    submit_req_t sub;
    PGresult *res;  /* the result holding its row, once written */
    int row;        /* its row in res */
    kf_error_t err; /* why it was not written */
} s_pending_t;

/* A store connection that writes one group of submits at a time, its
   transaction sent without waiting so the loop gathers the next group (on
   another lane) and answers the last while the store writes this one. */
typedef struct {
    kf_store_t *store;
    s_pending_t *batch; /* the group written (batch_max slots) */
    int size;           /* its submits; 0 when the lane is free */
    zlist_t *results;   /* the group's PGresults, freed when it is answered */
    int fd;             /* the connection's socket, polled while the group is written */
    uint64_t sent;      /* the order the group was sent in */
} s_lane_t;

struct intake {
    kf_store_t *store;   /* reads and ticket commands */
    kf_server_t *server; /* the clients */
    bool running;        /* the loop polls the lanes (intake_run) */
    zsock_t *events;     /* PUB, connected to the bus */
    zsock_t *work;       /* PUSH, connected to the bus */
    s_pending_t *batch;  /* the group gathered, not yet sent */
    int batch_max;
    int batch_size;
    s_lane_t *lanes; /* KEFU_INTAKE_CONNECTIONS of them */
    int lane_count;
    uint64_t sent; /* groups sent so far */
    kf_health_t *health;
    kf_auth_t *auth;
    kf_metric_t *submit_seconds; /* arrival -> commit of each stored submit */
};

/* ---- statements ------------------------------------------------------ */

/* A ticket t is open: not resolved or closed (queue_state `open`). */
#define S_OPEN "t.status NOT IN ('resolved', 'closed')"
/* How ticket t stands now against its first-response and its resolution
   deadline (deadline_state, 019_reads.sql): two columns. */
#define S_DEADLINE_STATES                                                                          \
    "kefu_deadline_state(t.responded_at, t.first_response_due, clock_timestamp()), "               \
    "kefu_deadline_state(t.resolved_at, t.resolve_due, clock_timestamp())"
/* ticket.list's queue ($14, queue_state): open; overdue, open with a
   deadline passed unmet; escalated, open at level 1 or more. */
#define S_LIST_STATE                                                                               \
    "($14::text IS NULL OR (" S_OPEN " AND ($14 <> 'overdue' OR 'overdue' IN (" S_DEADLINE_STATES  \
    ")) AND ($14 <> 'escalated' OR t.escalation_level >= 1)))"
/* Approval requests r of tickets t, as owner.show and ticket.show list
   them (s_approval_cols); no is the ticket number's column or NULL. */
#define S_APPROVALS_SELECT(no)                                                                     \
    "SELECT r.id, " no ", r.request_type, kefu_yuan(r.amount_fen), r.amount_fen, r.status, "       \
    "r.stage, r.promised_date::text, kefu_ms(r.promised_at), kefu_ms(r.requested_at), "            \
    "kefu_ms(r.at_risk_at), kefu_ms(r.completed_at) FROM approval_request r "                      \
    "JOIN ticket t ON t.id = r.ticket_id WHERE "

/* Registers the statements of ticket.list, staff.list, department.list and
   owner.show. */
static void s_prepare_reads(kf_store_t *store)
{
    /* ticket.list, newest first by (received_at, id), a page after the
       cursor ($10, $11); $12 the words of the summary as ILIKE patterns
       separated by spaces (requests.h); $13 the owners' department, $14
       the queue (S_LIST_STATE). One statement with the phone, one with the
       number, one with a queue and one with none of them, so each plan can
       use its own index (014_owner_lookup.sql; the number's is unique;
       023_queues.sql, the open tickets'). The owner's name and department
       are subqueries, not a join: with a join the generic plan gathered
       every ticket of every staff member and sorted them (023_queues.sql). */
#define S_LIST_SELECT                                                                              \
    "SELECT t.no, t.kind, t.category, t.priority, t.status, t.project_id, t.owner_id, "            \
    "(SELECT name FROM staff WHERE id = t.owner_id), t.department_id, t.escalation_level, "        \
    "t.summary, kefu_ms(t.received_at), kefu_ms(t.resolve_due), kefu_ms(t.first_response_due), "   \
    "kefu_ms(t.responded_at), kefu_ms(t.resolved_at), " S_DEADLINE_STATES                          \
    ", kefu_us(t.received_at), t.id FROM ticket t WHERE "
#define S_LIST_FILTERS                                                                             \
    "($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR t.owner_id = $2) AND "           \
    "($3::text IS NULL OR t.project_id = $3) AND ($4::text IS NULL OR t.kind = $4) AND "           \
    "($12::text IS NULL OR t.summary ILIKE ALL (string_to_array($12::text, ' '))) AND "            \
    "($13::text IS NULL OR t.owner_id IN (SELECT id FROM staff WHERE department_id = $13)) "       \
    "AND " S_LIST_STATE " AND "                                                                    \
    "t.received_at >= kefu_bound($6::bigint, $7::date, '-infinity') AND "                          \
    "t.received_at < kefu_bound($8::bigint, $9::date, 'infinity') AND "                            \
    "(t.received_at, t.id) < (coalesce(kefu_us_ts($10::bigint), 'infinity'), "                     \
    "coalesce($11::bigint, 0)) ORDER BY t.received_at DESC, t.id DESC LIMIT $5::int"
    kf_store_statement(store, "list", S_LIST_SELECT S_LIST_FILTERS);
    kf_store_statement(store, "list_open", S_LIST_SELECT S_OPEN " AND " S_LIST_FILTERS);
    kf_store_statement(store, "list_phone",
                       S_LIST_SELECT "t.homeowner_id = (SELECT id FROM homeowner WHERE phone = "
                                     "$15) AND " S_LIST_FILTERS);
    kf_store_statement(store, "list_no",
                       S_LIST_SELECT
                       "t.no = $15 AND ($16::text IS NULL OR t.homeowner_id = "
                       "(SELECT id FROM homeowner WHERE phone = $16)) AND " S_LIST_FILTERS);
    /* owner.show: the owner, the units, the tickets open first with how
       each stands against its deadlines, the open approval requests (the
       nearest promise first) and the survey answers (the latest first). */
    kf_store_statement(store, "owner",
                       "SELECT phone, name, lang, segment, kefu_ms(created_at), id FROM homeowner "
                       "WHERE phone = $1");
    kf_store_statement(store, "owner_units",
                       "SELECT u.project_id, u.building, u.unit_no FROM homeowner_unit hu "
                       "JOIN unit u ON u.id = hu.unit_id WHERE hu.homeowner_id = $1::bigint "
                       "ORDER BY u.project_id, u.building, u.unit_no LIMIT $2::int");
    kf_store_statement(
        store, "owner_tickets",
        "SELECT t.no, t.kind, t.category, t.status, t.priority, t.project_id, t.owner_id, "
        "s.name, t.department_id, kefu_ms(t.received_at), kefu_ms(t.first_response_due), "
        "kefu_ms(t.resolve_due), kefu_ms(t.responded_at), "
        "kefu_ms(t.resolved_at), " S_DEADLINE_STATES
        ", t.summary, count(*) OVER (), count(*) FILTER (WHERE " S_OPEN ") OVER () "
        "FROM ticket t JOIN staff s ON s.id = t.owner_id WHERE t.homeowner_id = $1::bigint "
        "ORDER BY NOT (" S_OPEN "), t.received_at DESC, t.id DESC LIMIT $2::int");
    kf_store_statement(store, "owner_approvals",
                       S_APPROVALS_SELECT("t.no") "t.homeowner_id = $1::bigint AND r.status = "
                                                  "'pending' ORDER BY r.promised_at, r.id "
                                                  "LIMIT $2::int");
    /* staff.list: active staff by id, a page after $4; $1 the words as
       ILIKE patterns (each must occur in the id or the name: no word holds
       the space between them). */
    kf_store_statement(store, "staff_list",
                       "SELECT s.id, s.name, s.department_id, s.role FROM staff s WHERE s.active "
                       "AND ($1::text IS NULL OR s.id || ' ' || s.name ILIKE ALL "
                       "(string_to_array($1::text, ' '))) AND ($2::text IS NULL OR "
                       "s.department_id = $2) AND ($3::text IS NULL OR s.role = $3) AND "
                       "s.id > coalesce($4::text, '') ORDER BY s.id LIMIT $5::int");
    /* department.list: every department by id, one more than it shows. */
    kf_store_statement(store, "department_list",
                       "SELECT id, name, name_zh, head_id FROM department ORDER BY id "
                       "LIMIT $1::int");
    kf_store_statement(store, "owner_surveys",
                       "SELECT s.id, t.no, s.kind, s.milestone, s.score, s.nps, "
                       "kefu_ms(s.answered_at) FROM survey s LEFT JOIN ticket t ON t.id = "
                       "s.ticket_id WHERE s.homeowner_id = $1::bigint AND s.answered_at IS NOT "
                       "NULL ORDER BY s.answered_at DESC, s.id DESC LIMIT $2::int");
}

/* Registers the statements of a lane, which writes submits. */
static void s_prepare_submits(kf_store_t *store)
{
    /* The actor of each submit is looked up from its key in the same
       statement, so a revoked certificate is refused at once. */
    kf_store_statement(store, "submit_batch",
                       "SELECT * FROM kefu_submit_batch(kefu_key_actors($1::jsonb), $2)");
    kf_store_statement(
        store, "submit",
        "SELECT 0, * FROM kefu_submit($1, (SELECT staff_id FROM kefu_key_actor($2)), "
        "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)");
}

/* Registers every statement of reads and ticket commands. */
static void s_prepare(kf_store_t *store)
{
    kf_store_statement(
        store, "show",
        "SELECT t.no, t.kind, t.category, t.channel, t.priority, t.status, t.project_id, "
        "u.building, u.unit_no, t.summary, t.detail, h.phone, h.name, t.owner_id, s.name, "
        "t.department_id, t.responsible_id, t.escalation_level, kefu_ms(t.received_at), "
        "kefu_ms(t.first_response_due), kefu_ms(t.resolve_due), kefu_ms(t.responded_at), "
        "kefu_ms(t.resolved_at), " S_DEADLINE_STATES ", t.id "
        "FROM ticket t JOIN homeowner h ON h.id = t.homeowner_id "
        "JOIN staff s ON s.id = t.owner_id LEFT JOIN unit u ON u.id = t.unit_id "
        "WHERE t.no = $1");
    kf_store_statement(store, "ticket_approvals",
                       S_APPROVALS_SELECT("NULL::text") "r.ticket_id = $1::bigint "
                                                        "ORDER BY r.requested_at DESC, r.id DESC "
                                                        "LIMIT $2::int");
    kf_store_statement(store, "history",
                       "SELECT kefu_ms(h.at), h.action, h.actor, "
                       "(SELECT name FROM staff WHERE id = h.actor), h.from_owner, "
                       "(SELECT name FROM staff WHERE id = h.from_owner), h.to_owner, "
                       "(SELECT name FROM staff WHERE id = h.to_owner), h.reason, h.note, "
                       "h.level FROM ticket_history h WHERE h.ticket_id = $1::bigint "
                       "ORDER BY h.id");
    s_prepare_reads(store);
    kf_auth_prepare(store);
    kf_idem_prepare(store);
    kf_store_statement(store, "lock",
                       "SELECT id, status, owner_id, responsible_id, routed_at IS NOT NULL "
                       "FROM ticket WHERE no = $1 FOR UPDATE");
    kf_store_statement(store, "respond",
                       "SELECT " KF_EVENT_COLUMNS " FROM kefu_respond($1::bigint, $2, $3, $4)");
    kf_store_statement(store, "transfer",
                       "SELECT " KF_EVENT_COLUMNS
                       " FROM kefu_transfer($1::bigint, $2, $3, $4, $5)");
    kf_store_statement(store, "resolve",
                       "SELECT " KF_EVENT_COLUMNS " FROM kefu_resolve($1::bigint, $2, $3, $4)");
}

/* ---- helpers ------------------------------------------------------------ */

/* A column of a result and how it goes into a reply body. */
typedef struct {
    const char *name;
    char kind; /* 's' string, 'i' integer, 'b' boolean */
} s_col_t;

/* Puts the non-NULL columns of one row into body. */
static void s_put_row(kf_body_t *body, PGresult *res, int row, const s_col_t *cols, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        if (PQgetisnull(res, row, i))
            continue;
        const char *value = PQgetvalue(res, row, i);
        if (cols[i].kind == 'i')
            kf_body_int(body, cols[i].name, strtoll(value, NULL, 10));
        else if (cols[i].kind == 'b')
            kf_body_bool(body, cols[i].name, value[0] == 't');
        else
            kf_body_str(body, cols[i].name, value);
    }
}

/* Announces a committed event: news on the bus, and work for the router. */
static void s_announce(intake_t *self, const kf_event_t *ev, bool work)
{
    zmsg_t *news = kf_event_msg(ev, S_SRC);
    if (work && news) {
        zmsg_t *job = zmsg_dup(news);
        kf_bus_send(self->work, &job);
    }
    if (kf_bus_send(self->events, &news) == 0)
        kf_health_out(self->health, ev->type, 1);
}

static const char *s_opt(const char *value)
{
    return value && value[0] ? value : NULL;
}

/* Replies reply.error (logged and counted by the server). */
static void s_refuse(intake_t *self, kf_request_t *req, const kf_error_t *err)
{
    kf_server_answer(self->server, req, -1, NULL, err);
}

/* ---- submit: group commit -------------------------------------------- */

/* Columns of a submit result row (kefu_submit_batch, or kefu_submit with a
   leading 0 in place of ord). */
enum {
    S_ORD,
    S_NO,
    S_DUPLICATE,
    S_STATUS,
    S_RECEIVED,
    S_OWNER,
    S_ERR_CODE,
    S_ERR_FIELD,
    S_EV_SEQ,
    S_EV_ID,
    S_EV_AT,
    S_EV_BODY
};

/* Keeps res until the lane's group is answered; returns it. */
static PGresult *s_keep(s_lane_t *lane, PGresult *res)
{
    if (res)
        zlist_append(lane->results, res);
    return res;
}

/* Frees the lane's group once answered: the lane is free again. */
static void s_lane_clear(s_lane_t *lane)
{
    for (PGresult *res = (PGresult *)zlist_pop(lane->results); res;
         res = (PGresult *)zlist_pop(lane->results))
        PQclear(res);
    for (int i = 0; i < lane->size; i++) {
        kf_request_clear(&lane->batch[i].req);
        lane->batch[i].res = NULL;
    }
    lane->size = 0;
}

/* Adds key: value to obj unless value is empty (absent). */
static void s_json_set(json_t *obj, const char *key, const char *value)
{
    if (value && value[0])
        json_object_set_new(obj, key, json_string(value));
}

/* The submits batch[from, to) as kefu_submit_batch's JSON array. */
static char *s_batch_json(const s_pending_t *batch, int from, int to)
{
    json_t *items = json_array();
    for (int i = from; i < to; i++) {
        const submit_req_t *s = &batch[i].sub;
        json_t *item = json_object();
        s_json_set(item, "idem", s->idem);
        s_json_set(item, "key", batch[i].req.key);
        s_json_set(item, "kind", s->kind);
        s_json_set(item, "category", s->category);
        s_json_set(item, "channel", s->channel);
        s_json_set(item, "priority", s->priority);
        s_json_set(item, "project", s->project);
        s_json_set(item, "building", s->building);
        s_json_set(item, "unit", s->unit);
        s_json_set(item, "phone", s->phone);
        s_json_set(item, "name", s->name);
        s_json_set(item, "summary", s->summary);
        s_json_set(item, "detail", s->detail);
        json_array_append_new(items, item);
    }
    char *text = json_dumps(items, JSON_COMPACT);
    json_decref(items);
    return text;
}

/* Writes one submit on its own; used for a key that another transaction
   committed while the group's statement ran, which this statement can now
   see. */
static int s_write_one(s_lane_t *lane, s_pending_t *p, kf_error_t *err)
{
    const submit_req_t *s = &p->sub;
    const char *params[] = {s_opt(s->idem),   p->req.key,  s->kind,        s->category,
                            s->channel,       s->priority, s->project,     s_opt(s->building),
                            s_opt(s->unit),   s->phone,    s_opt(s->name), s->summary,
                            s_opt(s->detail), S_SRC};
    p->res = s_keep(lane, kf_store_exec(lane->store, "submit", 14, params, err));
    p->row = 0;
    return p->res ? 0 : -1;
}

/* Takes the rows res of kefu_submit_batch for the lane's submits from
   `from` on: each submit's row, or its own write when its key was taken by
   another transaction meanwhile (its row has neither ticket nor error).
   -1 when such a write fails (that submit keeps why in its err). */
static int s_take_rows(s_lane_t *lane, int from, PGresult *res)
{
    s_keep(lane, res);
    int rc = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        s_pending_t *p = &lane->batch[from + atoi(PQgetvalue(res, row, S_ORD)) - 1];
        p->res = res;
        p->row = row;
        if (PQgetisnull(p->res, row, S_NO) && PQgetisnull(p->res, row, S_ERR_CODE) &&
            s_write_one(lane, p, &p->err) != 0)
            rc = -1;
    }
    return rc;
}

/* Writes the lane's submit i in a transaction of its own, waiting for it
   (after its group failed); why it failed goes into its err. */
static void s_write_alone(s_lane_t *lane, int i)
{
    s_pending_t *p = &lane->batch[i];
    if (kf_store_begin(lane->store, &p->err) != 0)
        return;
    char *items = s_batch_json(lane->batch, i, i + 1);
    const char *params[] = {items, S_SRC};
    PGresult *res = kf_store_exec(lane->store, "submit_batch", 2, params, &p->err);
    free(items);
    if (!res || s_take_rows(lane, i, res) != 0 || kf_store_commit(lane->store, &p->err) != 0) {
        kf_store_rollback(lane->store);
        p->res = NULL;
    }
}

/* Answers one written submit and announces its event. */
static void s_answer_submit(intake_t *self, s_pending_t *p)
{
    PGresult *res = p->res;
    int row = p->row;
    if (!PQgetisnull(res, row, S_ERR_CODE)) {
        kf_error_t err;
        const char *field = PQgetvalue(res, row, S_ERR_FIELD);
        const submit_req_t *s = &p->sub;
        if (strcmp(field, "actor") == 0)
            kf_error_set(&err, KF_E_UNKNOWN_ACTOR, "cert",
                         "the certificate is not registered, has been revoked, or its holder "
                         "is not active staff");
        else if (strcmp(field, "idem") == 0) {
            /* The key is the sender's, and it came with other content. */
            kf_error_set(&err, KF_E_CONFLICT, field,
                         "idempotency key %s was already used for %s with different content",
                         s->idem, PQgetvalue(res, row, S_NO));
            kf_info("submit.conflict", "ticket=%s", PQgetvalue(res, row, S_NO));
        } else if (strcmp(field, "project") == 0)
            kf_error_set(&err, KF_E_NOT_FOUND, field, "no project %s", s->project);
        else
            kf_error_set(&err, KF_E_NOT_FOUND, field, "no unit %s-%s in project %s", s->building,
                         s->unit, s->project);
        s_refuse(self, &p->req, &err);
        return;
    }
    kf_body_t *body = kf_body_new();
    bool duplicate = PQgetvalue(res, row, S_DUPLICATE)[0] == 't';
    kf_body_str(body, "ticket", PQgetvalue(res, row, S_NO));
    kf_body_bool(body, "duplicate", duplicate);
    kf_body_str(body, "status", PQgetvalue(res, row, S_STATUS));
    kf_body_int(body, "received_at", strtoll(PQgetvalue(res, row, S_RECEIVED), NULL, 10));
    kf_body_str(body, "owner", PQgetvalue(res, row, S_OWNER));
    kf_server_answer(self->server, &p->req, 0, &body, NULL);
    char masked[24];
    kf_info("submit.accepted", "ticket=%s duplicate=%d kind=%s phone=%s",
            PQgetvalue(res, row, S_NO), duplicate, p->sub.kind,
            kf_phone_mask(p->sub.phone, masked, sizeof masked));
    if (!duplicate) {
        kf_event_t ev = {.seq = strtoll(PQgetvalue(res, row, S_EV_SEQ), NULL, 10),
                         .id = PQgetvalue(res, row, S_EV_ID),
                         .type = "ticket.submitted",
                         .corr = PQgetvalue(res, row, S_NO),
                         .src = S_SRC,
                         .at = strtoll(PQgetvalue(res, row, S_EV_AT), NULL, 10),
                         .body_json = PQgetvalue(res, row, S_EV_BODY)};
        s_announce(self, &ev, true);
    }
}

/* Answers every submit of the lane's group, written or refused, and
   frees the lane. */
static void s_answer_group(intake_t *self, s_lane_t *lane)
{
    int64_t committed = zclock_usecs();
    for (int i = 0; i < lane->size; i++) {
        s_pending_t *p = &lane->batch[i];
        if (p->res) {
            if (PQgetisnull(p->res, p->row, S_ERR_CODE)) /* stored, or known already */
                kf_metric_observe(self->submit_seconds, NULL, NULL,
                                  (double)(committed - p->req.arrived) / 1e6);
            s_answer_submit(self, p);
        } else
            s_refuse(self, &p->req, &p->err);
    }
    s_lane_clear(lane);
}

/* The lane's group failed with err: nothing of it was written. When the
   store refused it for a reason other than being unreachable, each submit
   is written in its own transaction so one cannot sink the rest. */
static void s_group_failed(s_lane_t *lane, const kf_error_t *err)
{
    for (int i = 0; i < lane->size; i++) {
        lane->batch[i].res = NULL;
        lane->batch[i].err = *err;
    }
    if (err->code == KF_E_UNAVAILABLE)
        kf_warn("submit.unavailable", "refused=%d", lane->size);
    else
        for (int i = 0; i < lane->size; i++)
            s_write_alone(lane, i);
}

/* Ends the lane's group once the store's answer is complete, that is once
   its transaction has ended, and answers its clients (wait: blocks for
   the answer). False while the group is still being written. */
static bool s_lane_done(intake_t *self, s_lane_t *lane, bool wait)
{
    PGresult *res = NULL;
    kf_error_t err = {0};
    int rc = kf_store_receive(lane->store, wait, &res, &err);
    if (rc == 1)
        return false;
    if (rc == 0)
        s_take_rows(lane, 0, res); /* committed: a failed write of its own refuses one */
    else
        s_group_failed(lane, &err);
    s_answer_group(self, lane);
    return true;
}

/* Sends the gathered group on the free lane as one statement, its own
   transaction, without waiting for it (the loop polls the lane). */
static void s_send(intake_t *self, s_lane_t *lane)
{
    s_pending_t *free_slots = lane->batch;
    lane->batch = self->batch;
    lane->size = self->batch_size;
    self->batch = free_slots;
    self->batch_size = 0;
    lane->sent = ++self->sent;
    kf_error_t err = {0};
    int rc = kf_store_ready_now(lane->store, &err);
    if (rc == 0) {
        char *items = s_batch_json(lane->batch, 0, lane->size);
        const char *params[] = {items, S_SRC};
        rc = kf_store_send(lane->store, "submit_batch", 2, params, &err);
        free(items);
    }
    if (rc != 0) {
        s_group_failed(lane, &err);
        s_answer_group(self, lane);
        return;
    }
    lane->fd = kf_store_socket(lane->store);
    if (!self->running)
        s_lane_done(self, lane, true);
}

/* A free lane, or NULL when every lane writes a group. */
static s_lane_t *s_free_lane(intake_t *self)
{
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].size == 0)
            return &self->lanes[i];
    return NULL;
}

/* The lane whose group was sent first (every lane is writing one). */
static s_lane_t *s_oldest_lane(intake_t *self)
{
    s_lane_t *oldest = &self->lanes[0];
    for (int i = 1; i < self->lane_count; i++)
        if (self->lanes[i].sent < oldest->sent)
            oldest = &self->lanes[i];
    return oldest;
}

/* After every burst and every answer of the store: answers the groups the
   store has written, and sends the gathered group when a lane is free, or
   when the group is full after waiting for the oldest lane. Each client is
   answered only after the transaction that stored its submit committed. */
static void s_flush(void *arg)
{
    intake_t *self = (intake_t *)arg;
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].size)
            s_lane_done(self, &self->lanes[i], false);
    if (self->batch_size == 0)
        return;
    s_lane_t *lane = s_free_lane(self);
    if (!lane && self->batch_size < self->batch_max)
        return; /* gather more while the lanes write */
    if (!lane) {
        lane = s_oldest_lane(self);
        s_lane_done(self, lane, true);
    }
    s_send(self, lane);
}

/* Queues a submit for the next group commit; takes over req. */
static int s_queue_submit(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    (void)reply;
    intake_t *self = (intake_t *)arg;
    s_pending_t *p = &self->batch[self->batch_size];
    if (req_parse_submit(kf_env_body(req->env), &p->sub, err) != 0)
        return -1;
    kf_server_defer(req, &p->req);
    p->res = NULL;
    self->batch_size++;
    return KF_SERVER_DEFERRED;
}

/* ---- ticket commands ---------------------------------------------------- */

/* Formats an int64 parameter into buf; NULL (SQL NULL) when absent. */
static const char *s_int_param(int64_t value, bool present, char *buf, size_t size)
{
    if (!present)
        return NULL;
    snprintf(buf, size, "%lld", (long long)value);
    return buf;
}

/* Nests at most max rows of res as an array of maps under key; when res
   holds more (it was asked for max + 1), more_key says so (when given). */
static int s_put_rows(kf_body_t *body, const char *key, const char *more_key, PGresult *res,
                      int max, const s_col_t *cols, int ncols)
{
    int rows = PQntuples(res);
    if (more_key)
        kf_body_bool(body, more_key, rows > max);
    if (rows > max)
        rows = max;
    kf_body_t **items = (kf_body_t **)calloc((size_t)rows + 1, sizeof(kf_body_t *));
    for (int i = 0; i < rows; i++) {
        items[i] = kf_body_new();
        s_put_row(items[i], res, i, cols, ncols);
    }
    kf_body_array(body, key, items, (size_t)rows);
    free(items);
    return rows;
}

/* The columns of S_APPROVALS_SELECT: owner.show takes the first 11 (its
   requests are pending), ticket.show all (its ticket column is NULL). */
static const s_col_t s_approval_cols[] = {
    {"request", 'i'},     {"ticket", 's'},       {"type", 's'},       {"amount", 's'},
    {"amount_fen", 'i'},  {"status", 's'},       {"stage", 'i'},      {"promised", 's'},
    {"promised_at", 'i'}, {"requested_at", 'i'}, {"at_risk_at", 'i'}, {"completed_at", 'i'}};
#define S_APPROVAL_COLS 12

/* Answers ticket.show: the ticket, its history and its approval requests. */
static int s_show(intake_t *self, kf_body_t *body, const action_req_t *act, kf_error_t *err)
{
    static const s_col_t ticket_cols[] = {{"ticket", 's'},      {"kind", 's'},
                                          {"category", 's'},    {"channel", 's'},
                                          {"priority", 's'},    {"status", 's'},
                                          {"project", 's'},     {"building", 's'},
                                          {"unit", 's'},        {"summary", 's'},
                                          {"detail", 's'},      {"phone", 's'},
                                          {"customer", 's'},    {"owner", 's'},
                                          {"owner_name", 's'},  {"department", 's'},
                                          {"responsible", 's'}, {"escalation_level", 'i'},
                                          {"received_at", 'i'}, {"first_response_due", 'i'},
                                          {"resolve_due", 'i'}, {"responded_at", 'i'},
                                          {"resolved_at", 'i'}, {"first_response", 's'},
                                          {"resolution", 's'}};
    static const s_col_t history_cols[] = {
        {"at", 'i'},     {"action", 's'},    {"actor", 's'}, {"actor_name", 's'},
        {"from", 's'},   {"from_name", 's'}, {"to", 's'},    {"to_name", 's'},
        {"reason", 's'}, {"note", 's'},      {"level", 'i'}};
    enum { C_ID = 25 };
    const char *params[] = {act->ticket};
    PGresult *ticket = kf_store_exec(self->store, "show", 1, params, err);
    if (!ticket)
        return -1;
    if (PQntuples(ticket) == 0) {
        PQclear(ticket);
        return kf_error_set(err, KF_E_NOT_FOUND, "ticket", "no ticket %s", act->ticket);
    }
    char max[16];
    snprintf(max, sizeof max, "%d", KF_LIM_TICKET_APPROVALS + 1);
    const char *id[] = {PQgetvalue(ticket, 0, C_ID), max};
    PGresult *history = kf_store_exec(self->store, "history", 1, id, err);
    PGresult *approvals =
        history ? kf_store_exec(self->store, "ticket_approvals", 2, id, err) : NULL;
    if (approvals) {
        s_put_row(body, ticket, 0, ticket_cols, C_ID);
        s_put_rows(body, "history", NULL, history, PQntuples(history), history_cols, 11);
        s_put_rows(body, "approvals", "approvals_more", approvals, KF_LIM_TICKET_APPROVALS,
                   s_approval_cols, S_APPROVAL_COLS);
    }
    PQclear(ticket);
    PQclear(history);
    PQclear(approvals);
    return approvals ? 0 : -1;
}

/* Answers ticket.list: one page, and `next` when more rows follow. */
static int s_list(intake_t *self, kf_body_t *body, const list_req_t *list, kf_error_t *err)
{
    static const s_col_t cols[] = {{"ticket", 's'},         {"kind", 's'},
                                   {"category", 's'},       {"priority", 's'},
                                   {"status", 's'},         {"project", 's'},
                                   {"owner", 's'},          {"owner_name", 's'},
                                   {"department", 's'},     {"escalation_level", 'i'},
                                   {"summary", 's'},        {"received_at", 'i'},
                                   {"resolve_due", 'i'},    {"first_response_due", 'i'},
                                   {"responded_at", 'i'},   {"resolved_at", 'i'},
                                   {"first_response", 's'}, {"resolution", 's'}};
    enum { C_US = 18, C_ID = 19 };
    /* One row more than asked says whether there is a next page. */
    char limit[24], since[24], until[24], after_us[24], after_id[24];
    bool cursor = list->cursor.id > 0;
    const char *params[] = {
        s_opt(list->status),
        s_opt(list->owner),
        s_opt(list->project),
        s_opt(list->kind),
        s_int_param(list->limit + 1, true, limit, sizeof limit),
        s_int_param(list->since.ms, list->since.ms >= 0, since, sizeof since),
        s_opt(list->since.date),
        s_int_param(list->until.ms, list->until.ms >= 0, until, sizeof until),
        s_opt(list->until.date),
        s_int_param(list->cursor.received_us, cursor, after_us, sizeof after_us),
        s_int_param(list->cursor.id, cursor, after_id, sizeof after_id),
        s_opt(list->patterns),
        s_opt(list->department),
        s_opt(list->state),
        NULL,
        s_opt(list->phone)};
    /* By number: list_no takes it as $15 and the phone as $16; else the
       phone, when given, is $15; else a queue has its own statement. */
    const char *statement = list->state[0] ? "list_open" : "list";
    int nparams = 14;
    if (list->no[0]) {
        statement = "list_no";
        params[14] = list->no;
        nparams = 16;
    } else if (list->phone[0]) {
        statement = "list_phone";
        params[14] = list->phone;
        nparams = 15;
    }
    PGresult *res = kf_store_exec(self->store, statement, nparams, params, err);
    if (!res)
        return -1;
    bool more = PQntuples(res) > list->limit;
    int rows = s_put_rows(body, "tickets", NULL, res, (int)list->limit, cols, C_US);
    kf_body_int(body, "count", rows);
    if (more) {
        req_cursor_t last = {.received_us = strtoll(PQgetvalue(res, rows - 1, C_US), NULL, 10),
                             .id = strtoll(PQgetvalue(res, rows - 1, C_ID), NULL, 10)};
        char next[REQ_CURSOR_MAX + 1];
        req_cursor_format(&last, next, sizeof next);
        kf_body_str(body, "next", next);
    }
    PQclear(res);
    return 0;
}

/* Answers staff.list: one page of active staff by id, and `next` (the
   last id of the page) when more follow. */
static int s_staff(intake_t *self, kf_body_t *body, const staff_req_t *staff, kf_error_t *err)
{
    static const s_col_t cols[] = {
        {"staff", 's'}, {"name", 's'}, {"department", 's'}, {"role", 's'}};
    char limit[24];
    const char *params[] = {s_opt(staff->patterns), s_opt(staff->department), s_opt(staff->role),
                            s_opt(staff->after),
                            s_int_param(staff->limit + 1, true, limit, sizeof limit)};
    PGresult *res = kf_store_exec(self->store, "staff_list", 5, params, err);
    if (!res)
        return -1;
    bool more = PQntuples(res) > staff->limit;
    int rows = s_put_rows(body, "staff", NULL, res, (int)staff->limit, cols, 4);
    kf_body_int(body, "count", rows);
    if (more)
        kf_body_str(body, "next", PQgetvalue(res, rows - 1, 0));
    PQclear(res);
    return 0;
}

/* Answers department.list: the departments by id, at most
   KF_LIM_DEPARTMENTS, and whether there are more. */
static int s_departments(intake_t *self, kf_body_t *body, kf_error_t *err)
{
    static const s_col_t cols[] = {
        {"department", 's'}, {"name", 's'}, {"name_zh", 's'}, {"head", 's'}};
    char limit[24];
    const char *params[] = {s_int_param(KF_LIM_DEPARTMENTS + 1, true, limit, sizeof limit)};
    PGresult *res = kf_store_exec(self->store, "department_list", 1, params, err);
    if (!res)
        return -1;
    s_put_rows(body, "departments", "more", res, KF_LIM_DEPARTMENTS, cols, 4);
    PQclear(res);
    return 0;
}

/* One part of an owner.show reply: its statement, the most rows it
   shows, where they go and how. */
typedef struct {
    const char *statement;
    int max;
    bool ask_more; /* ask for max + 1 rows, to say whether there are more */
    const char *key, *more_key;
    const s_col_t *cols;
    int ncols;
} s_owner_part_t;

static const s_col_t s_unit_cols[] = {{"project", 's'}, {"building", 's'}, {"unit", 's'}};
static const s_col_t s_owner_ticket_cols[] = {{"ticket", 's'},
                                              {"kind", 's'},
                                              {"category", 's'},
                                              {"status", 's'},
                                              {"priority", 's'},
                                              {"project", 's'},
                                              {"owner", 's'},
                                              {"owner_name", 's'},
                                              {"department", 's'},
                                              {"received_at", 'i'},
                                              {"first_response_due", 'i'},
                                              {"resolve_due", 'i'},
                                              {"responded_at", 'i'},
                                              {"resolved_at", 'i'},
                                              {"first_response", 's'},
                                              {"resolution", 's'},
                                              {"summary", 's'}};
static const s_col_t s_survey_cols[] = {{"survey", 'i'},     {"ticket", 's'}, {"kind", 's'},
                                        {"milestone", 's'},  {"score", 'i'},  {"nps", 'i'},
                                        {"answered_at", 'i'}};

enum { S_PART_UNITS, S_PART_TICKETS, S_PART_APPROVALS, S_PART_SURVEYS, S_PARTS };
static const s_owner_part_t s_owner_parts[S_PARTS] = {
    {"owner_units", KF_LIM_OWNER_UNITS, true, "units", "units_more", s_unit_cols, 3},
    {"owner_tickets", KF_LIM_OWNER_TICKETS, false, "tickets", NULL, s_owner_ticket_cols, 17},
    {"owner_approvals", KF_LIM_OWNER_APPROVALS, true, "approvals", "approvals_more",
     s_approval_cols, S_APPROVAL_COLS - 1},
    {"owner_surveys", KF_LIM_OWNER_SURVEYS, true, "surveys", "surveys_more", s_survey_cols, 7}};

/* Reads every part of the owner with internal id id into res; -1 (and
   nothing kept) when the store fails. */
static int s_owner_read(intake_t *self, const char *id, PGresult *res[S_PARTS], kf_error_t *err)
{
    for (int i = 0; i < S_PARTS; i++) {
        const s_owner_part_t *part = &s_owner_parts[i];
        char max[16];
        snprintf(max, sizeof max, "%d", part->max + (part->ask_more ? 1 : 0));
        const char *params[] = {id, max};
        res[i] = kf_store_exec(self->store, part->statement, 2, params, err);
        if (!res[i]) {
            for (int j = 0; j < i; j++)
                PQclear(res[j]);
            return -1;
        }
    }
    return 0;
}

/* Answers owner.show: the owner with this phone, their units, tickets,
   open approval requests and survey answers. The reply holds the phone
   and name the agent asked about; neither goes into a log line. */
static int s_owner(intake_t *self, kf_body_t *body, const owner_req_t *owner, kf_error_t *err)
{
    static const s_col_t owner_cols[] = {
        {"phone", 's'}, {"name", 's'}, {"lang", 's'}, {"segment", 's'}, {"known_since", 'i'}};
    enum { C_ID = 5, C_TOTAL = 17, C_OPEN = 18 };
    const char *phone[] = {owner->phone};
    PGresult *found = kf_store_exec(self->store, "owner", 1, phone, err);
    if (!found)
        return -1;
    if (PQntuples(found) == 0) {
        PQclear(found);
        return kf_error_set(err, KF_E_NOT_FOUND, "phone",
                            "no owner has the phone number %s: nobody has reported anything "
                            "from it and no owner import named it (check the number; "
                            "submitting a ticket with it records the owner)",
                            owner->phone);
    }
    PGresult *res[S_PARTS];
    if (s_owner_read(self, PQgetvalue(found, 0, C_ID), res, err) != 0) {
        PQclear(found);
        return -1;
    }
    s_put_row(body, found, 0, owner_cols, 5);
    int rows = 0;
    for (int i = 0; i < S_PARTS; i++) {
        const s_owner_part_t *part = &s_owner_parts[i];
        int n =
            s_put_rows(body, part->key, part->more_key, res[i], part->max, part->cols, part->ncols);
        if (i == S_PART_TICKETS)
            rows = n;
    }
    PGresult *tickets = res[S_PART_TICKETS];
    int64_t total = rows ? strtoll(PQgetvalue(tickets, 0, C_TOTAL), NULL, 10) : 0;
    kf_body_int(body, "count", rows);
    kf_body_int(body, "total", total);
    kf_body_int(body, "open", rows ? strtoll(PQgetvalue(tickets, 0, C_OPEN), NULL, 10) : 0);
    kf_body_bool(body, "more", total > rows);
    PQclear(found);
    for (int i = 0; i < S_PARTS; i++)
        PQclear(res[i]);
    return 0;
}

/* Checks, under the ticket's row lock, that the change may happen now. */
static int s_check_change(intake_t *self, const char *type, const action_req_t *act,
                          PGresult *ticket, const char *role, kf_error_t *err)
{
    const char *status = PQgetvalue(ticket, 0, 1);
    const char *owner = PQgetvalue(ticket, 0, 2);
    const char *responsible = PQgetisnull(ticket, 0, 3) ? NULL : PQgetvalue(ticket, 0, 3);
    if (PQgetvalue(ticket, 0, 4)[0] != 't')
        return kf_error_set(err, KF_E_CONFLICT, "ticket",
                            "%s is not routed yet; try again in a moment", act->ticket);
    if (strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0)
        return kf_error_set(err, KF_E_CONFLICT, "ticket", "%s is %s", act->ticket, status);
    if (!access_may_act(role, act->actor, owner, responsible))
        return kf_error_set(err, KF_E_FORBIDDEN, "actor", "%s may not act on %s, which %s owns",
                            act->actor, act->ticket, owner);
    if (strcmp(type, "ticket.transfer") != 0)
        return 0;
    if (strcmp(act->to, owner) == 0)
        return kf_error_set(err, KF_E_CONFLICT, "to", "%s already owns %s", owner, act->ticket);
    char to_role[16];
    if (kf_auth_role(self->store, act->to, to_role, sizeof to_role, err) != 0)
        return err->code == KF_E_UNKNOWN_ACTOR
                   ? kf_error_set(err, KF_E_NOT_FOUND, "to", "%s is not active staff", act->to)
                   : -1;
    return 0;
}

/* Writes the change and returns the event row it produced. */
static PGresult *s_write_change(intake_t *self, const char *type, const action_req_t *act,
                                const char *ticket_id, kf_error_t *err)
{
    if (strcmp(type, "ticket.transfer") == 0) {
        const char *params[] = {ticket_id, act->actor, act->to, act->reason, S_SRC};
        return kf_store_exec(self->store, "transfer", 5, params, err);
    }
    const char *params[] = {ticket_id, act->actor, s_opt(act->note), S_SRC};
    return kf_store_exec(self->store, strcmp(type, "ticket.respond") == 0 ? "respond" : "resolve",
                         4, params, err);
}

/* Fills the reply of a change that was written, from its event. */
static void s_change_reply(kf_body_t *body, const char *type, const action_req_t *act,
                           const kf_event_t *ev, const char *status)
{
    kf_body_from_json(body, ev->body_json, NULL);
    /* The catalog's transfer reply names the new owner `owner`; the
       event's `to` stays for clients that read it. */
    if (strcmp(type, "ticket.transfer") == 0)
        kf_body_str(body, "owner", act->to);
    kf_body_str(body, "status",
                strcmp(type, "ticket.resolve") == 0                                    ? "resolved"
                : strcmp(type, "ticket.respond") == 0 && strcmp(status, "routed") == 0 ? "responded"
                                                                                       : status);
}

/* Answers respond, transfer and resolve: one transaction each, with the
   request's idempotency key looked up first and kept with the change. */
static int s_change(intake_t *self, const char *key, const msgpack_object *raw, kf_body_t *body,
                    const char *type, action_req_t *act, kf_error_t *err)
{
    char role[16];
    if (kf_auth_actor(self->store, key, act->actor, role, err) != 0)
        return -1;
    if (kf_store_begin(self->store, err) != 0)
        return -1;
    kf_idem_t idem = {act->actor, act->idem, type, NULL};
    bool replayed = false;
    const char *params[] = {act->ticket};
    PGresult *ticket = NULL;
    PGresult *event = NULL;
    if (kf_idem_take(self->store, &idem, raw, body, &replayed, err) != 0)
        goto failed;
    if (replayed) {
        if (kf_store_commit(self->store, err) != 0)
            goto failed;
        kf_info("ticket.retried", "ticket=%s type=%s actor=%s", act->ticket, type, act->actor);
        kf_idem_done(&idem);
        return 0;
    }
    ticket = kf_store_exec(self->store, "lock", 1, params, err);
    if (!ticket)
        goto failed;
    if (PQntuples(ticket) == 0) {
        kf_error_set(err, KF_E_NOT_FOUND, "ticket", "no ticket %s", act->ticket);
        goto failed;
    }
    if (s_check_change(self, type, act, ticket, role, err) != 0)
        goto failed;
    event = s_write_change(self, type, act, PQgetvalue(ticket, 0, 0), err);
    if (!event)
        goto failed;
    kf_event_t ev = kf_event_from_row(event, 0, 0);
    s_change_reply(body, type, act, &ev, PQgetvalue(ticket, 0, 1));
    if (kf_idem_keep(self->store, &idem, body, err) != 0 || kf_store_commit(self->store, err) != 0)
        goto failed;
    kf_info("ticket.changed", "ticket=%s type=%s actor=%s", act->ticket, ev.type, act->actor);
    s_announce(self, &ev, false);
    kf_idem_done(&idem);
    PQclear(ticket);
    PQclear(event);
    return 0;
failed:
    kf_store_rollback(self->store);
    kf_idem_done(&idem);
    PQclear(ticket);
    PQclear(event);
    return -1;
}

/* Answers ticket.list. */
static int s_on_list(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    intake_t *self = (intake_t *)arg;
    list_req_t list;
    char actor[REQ_ACTOR_MAX + 1];
    if (req_parse_list(kf_env_body(req->env), &list, err) != 0 ||
        kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    return s_list(self, reply, &list, err);
}

/* Answers staff.list: any active staff member may ask. */
static int s_on_staff(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    intake_t *self = (intake_t *)arg;
    staff_req_t staff;
    char actor[REQ_ACTOR_MAX + 1];
    if (req_parse_staff(kf_env_body(req->env), &staff, err) != 0 ||
        kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    return s_staff(self, reply, &staff, err);
}

/* Answers department.list: any active staff member may ask. */
static int s_on_departments(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    intake_t *self = (intake_t *)arg;
    char actor[REQ_ACTOR_MAX + 1];
    if (kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    return s_departments(self, reply, err);
}

/* Answers owner.show. */
static int s_on_owner(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    intake_t *self = (intake_t *)arg;
    owner_req_t owner;
    char actor[REQ_ACTOR_MAX + 1];
    if (req_parse_owner(kf_env_body(req->env), &owner, err) != 0 ||
        kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    return s_owner(self, reply, &owner, err);
}

/* Answers ticket.show, ticket.respond, ticket.transfer and ticket.resolve. */
static int s_on_ticket(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    intake_t *self = (intake_t *)arg;
    const char *type = kf_env_type(req->env);
    action_req_t act;
    if (req_parse_action(type, kf_env_body(req->env), &act, err) != 0)
        return -1;
    if (strcmp(type, "ticket.show") != 0)
        return s_change(self, req->key, kf_env_body(req->env), reply, type, &act, err);
    if (kf_auth_actor(self->store, req->key, act.actor, NULL, err) != 0)
        return -1;
    return s_show(self, reply, &act, err);
}

/* True when the group commit is full: the burst ends there. */
static bool s_full(void *arg)
{
    intake_t *self = (intake_t *)arg;
    return self->batch_size >= self->batch_max;
}

/* The requests intake serves. */
static const kf_route_t s_routes[] = {{"submit", s_queue_submit, true},
                                      {"ticket.list", s_on_list, false},
                                      {"owner.show", s_on_owner, false},
                                      {"ticket.show", s_on_ticket, false},
                                      {"ticket.respond", s_on_ticket, false},
                                      {"ticket.transfer", s_on_ticket, false},
                                      {"ticket.resolve", s_on_ticket, false},
                                      {"staff.list", s_on_staff, false},
                                      {"department.list", s_on_departments, false},
                                      {NULL, NULL, false}};

/* ---- the loop ---------------------------------------------------------- */

/* Between requests: reconnects the store of the commands and those of
   the free lanes (a lane writing a group is using its connection). */
static void s_idle(intake_t *self)
{
    kf_store_ready(self->store, NULL);
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].size == 0)
            kf_store_ready(self->lanes[i].store, NULL);
}

/* Waits, until deadline (zclock_mono), for the lane's group and answers
   it; false when the deadline came first. */
static bool s_lane_wait(intake_t *self, s_lane_t *lane, int64_t deadline)
{
    while (lane->size && !s_lane_done(self, lane, false)) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            return false;
        struct pollfd ready = {.fd = lane->fd, .events = POLLIN};
        poll(&ready, 1, (int)(left > 100 ? 100 : left));
    }
    return true;
}

/* At the stop: answers the groups being written and writes the one
   gathered, so every submit taken is answered. A group the store has not
   answered within S_DRAIN_MS is answered `unavailable`: whether it
   committed is not known, and a retry with its key finds out. */
static void s_drain(intake_t *self)
{
    int64_t deadline = zclock_mono() + S_DRAIN_MS;
    if (self->batch_size) {
        s_lane_t *lane = s_free_lane(self);
        if (!lane) {
            lane = s_oldest_lane(self);
            s_lane_wait(self, lane, deadline);
        }
        if (lane->size == 0)
            s_send(self, lane);
    }
    for (int i = 0; i < self->lane_count; i++) {
        s_lane_t *lane = &self->lanes[i];
        if (s_lane_wait(self, lane, deadline))
            continue;
        kf_error_t err;
        kf_error_set(&err, KF_E_UNAVAILABLE, "", "intake is stopping; retry");
        for (int j = 0; j < lane->size; j++)
            s_refuse(self, &lane->batch[j].req, &err);
        kf_warn("submit.abandoned", "submits=%d", lane->size);
        s_lane_clear(lane);
    }
    for (int i = 0; i < self->batch_size; i++) { /* no lane came free in time */
        kf_error_t err;
        kf_error_set(&err, KF_E_UNAVAILABLE, "", "intake is stopping; retry");
        s_refuse(self, &self->batch[i].req, &err);
        kf_request_clear(&self->batch[i].req);
    }
    self->batch_size = 0;
}

/* Waits up to timeout ms for the clients, the health endpoint and the
   store connections of the lanes writing a group, and handles what came.
   Returns false when nothing came. */
static bool s_wait(intake_t *self, zsock_t *clients, long timeout)
{
    kf_pollset_t set = {0};
    int requests = kf_pollset_sock(&set, clients);
    int http = kf_pollset_fd(&set, kf_health_fd(self->health));
    int lanes = set.count;
    for (int i = 0; i < self->lane_count; i++)
        if (self->lanes[i].size)
            kf_pollset_fd(&set, self->lanes[i].fd);
    if (kf_pollset_wait(&set, timeout) == 0) /* nothing, or a signal */
        return false;
    if (kf_pollset_ready(&set, requests))
        kf_server_on_socket(self->server);
    if (kf_pollset_ready(&set, http))
        kf_health_serve_fd(self->health);
    for (int i = lanes; i < set.count; i++)
        if (kf_pollset_ready(&set, i)) {
            s_flush(self); /* a lane's answer */
            break;
        }
    return true;
}

int intake_run(intake_t *self)
{
    zsock_t *clients = kf_server_socket(self->server);
    self->running = true;
    s_idle(self);
    kf_info("intake.started", "version=%s bind=%s batch=%d connections=%d", KEFU_VERSION,
            kf_config_str(intake_settings, "KEFU_INTAKE_BIND"), self->batch_max, self->lane_count);
    while (!kf_stop_requested()) {
        /* A signal also ends the wait; the loop's condition decides whether
           it was one that stops intake. */
        if (!s_wait(self, clients, kf_health_wait_ms(self->health, 1000))) {
            s_idle(self);
            kf_server_idle(self->server);
        }
        kf_health_tick(self->health);
    }
    s_drain(self);
    self->running = false;
    int turned_away = kf_server_stop(self->server);
    kf_info("intake.stopped", "reason=%s turned_away=%d", "signal", turned_away);
    return 0;
}

/* Makes count lanes of batch slots each, with their store connections. */
static void s_lanes_new(intake_t *self, int count, int batch)
{
    self->lanes = (s_lane_t *)calloc((size_t)count, sizeof(s_lane_t));
    self->lane_count = count;
    for (int i = 0; i < count; i++) {
        s_lane_t *lane = &self->lanes[i];
        lane->store =
            kf_store_new(kf_config_str(intake_settings, "KEFU_DATABASE_URL"), "kefu-intake-submit");
        s_prepare_submits(lane->store);
        lane->batch = (s_pending_t *)calloc((size_t)batch, sizeof(s_pending_t));
        lane->results = zlist_new();
        lane->fd = -1;
    }
}

intake_t *intake_new(void)
{
    long batch = 0, connections = 0;
    if (kf_config_int(intake_settings, "KEFU_INTAKE_BATCH", &batch) != 0 ||
        kf_config_int(intake_settings, "KEFU_INTAKE_CONNECTIONS", &connections) != 0)
        return NULL;
    zsys_init();
    intake_t *self = (intake_t *)zmalloc(sizeof(intake_t));
    self->batch_max = (int)batch;
    self->batch = (s_pending_t *)calloc((size_t)batch, sizeof(s_pending_t));
    s_lanes_new(self, (int)connections, (int)batch);
    self->store = kf_store_new(kf_config_str(intake_settings, "KEFU_DATABASE_URL"), "kefu-intake");
    s_prepare(self->store);
    self->health = kf_health_new("intake", intake_settings, self->store);
    if (!self->health) {
        intake_destroy(&self);
        return NULL;
    }
    self->submit_seconds = kf_metrics_histogram(
        kf_health_metrics(self->health), "kefu_intake_submit_seconds",
        "seconds from a submit's arrival to the commit of the transaction that stored it", NULL, 0,
        NULL, NULL);
    self->auth = kf_auth_new(intake_settings, "kefu-intake");
    if (!self->auth) {
        intake_destroy(&self);
        return NULL;
    }
    self->events = kf_bus_publisher(intake_settings);
    self->work = kf_bus_producer(intake_settings);
    const kf_server_spec_t spec = {.daemon = "intake",
                                   .name = "intake",
                                   .src = S_SRC,
                                   .routes = s_routes,
                                   .arg = self,
                                   .flush = s_flush,
                                   .full = s_full,
                                   .burst = S_BURST};
    self->server = kf_server_new(&spec, self->store, self->health, self->auth,
                                 kf_config_str(intake_settings, "KEFU_INTAKE_BIND"));
    if (!self->server) {
        intake_destroy(&self);
        return NULL;
    }
    return self;
}

void intake_destroy(intake_t **self_p)
{
    assert(self_p);
    intake_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->lane_count; i++) {
        s_lane_t *lane = &self->lanes[i];
        s_lane_clear(lane);
        zlist_destroy(&lane->results);
        free(lane->batch);
        kf_store_destroy(&lane->store);
    }
    free(self->lanes);
    for (int i = 0; i < self->batch_size; i++)
        kf_request_clear(&self->batch[i].req);
    free(self->batch);
    kf_server_destroy(&self->server);
    zsock_destroy(&self->events);
    zsock_destroy(&self->work);
    kf_auth_destroy(&self->auth);
    kf_health_destroy(&self->health);
    kf_store_destroy(&self->store);
    free(self);
    *self_p = NULL;
}
