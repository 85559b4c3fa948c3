/* approval — the daemon's loop: approvers' requests, the deadline scan,
   and the events, published only after their transaction commits (see
   approval.h). The state changes are the store's functions (migration
   012); the decisions the store leaves to us are in rules.c. */
#include "approval.h"

#include <assert.h>
#include <czmq.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bus.h"
#include "consumer.h"
#include "envelope.h"
#include "feed.h"
#include "group.h"
#include "health.h"
#include "idem.h"
#include "log.h"
#include "requests.h"
#include "rules.h"
#include "outbox.h"
#include "server.h"
#include "sock.h"
#include "stop.h"
#include "store.h"

#define S_SRC "approval"
#define S_BURST 64 /* most requests taken in one go */
/* Most requests of a group commit: a savepoint (or, for a group of
   openings and decisions, a plpgsql subtransaction) each, and PostgreSQL
   keeps 64 subtransactions per backend in shared memory. */
#define S_GROUP_MAX 64
#define S_OVERDUE_CAP 100000 /* the overdue gauge counts at most this many */
#define S_SHOW_STEPS 100     /* steps shown by approval.show (the reply's frame is 64 KiB) */
#define S_SHOW_TRAIL 32      /* latest reminders and moves shown per step */
#define S_SHOW_BUDGET (KF_MAX_FRAME - 8 * 1024) /* bytes of approval.show's steps */

const kf_setting_t approval_settings[] = {
    KF_SETTINGS_COMMON,
    KF_SETTINGS_HEALTH(KF_METRICS_PORT_APPROVAL),
    KF_SETTINGS_CURVE,
    KF_SET_ENDPOINT("KEFU_APPROVAL_BIND", "tcp://127.0.0.1:7720",
                    "endpoint kefu-approval binds for approvers (tcp://*:7720: every interface)"),
    KF_SET_INT("KEFU_APPROVAL_SCAN_MS", "200", 10, 60000,
               "how often reminders and deadlines are looked for (ms); a step moves at most this "
               "late"),
    KF_SET_INT("KEFU_APPROVAL_BATCH", "100", 1, 1000,
               "most steps the scan handles per transaction; several instances share the scan"),
    KF_SET_INT("KEFU_APPROVAL_GROUP", "32", 1, S_GROUP_MAX,
               "most state-changing requests committed in one transaction (group commit)"),
    KF_SET_INT("KEFU_APPROVAL_CONNECTIONS", "1", 1, KF_GROUP_LANES_MAX,
               "store connections committing groups of requests, each while the store flushes "
               "another's commit (more than 1 pays only where commits are slow)"),
    KF_SETTINGS_END};

typedef struct s_pending s_pending_t;

struct approval {
    kf_store_t *store;
    kf_auth_t *auth;
    kf_server_t *server;  /* approvers and requesters */
    zsock_t *events;      /* PUB: what kefu-approval did */
    kf_outbox_t *outbox;  /* events to publish after commit */
    kf_group_t *group;    /* the state-changing requests (group commit on lanes) */
    s_pending_t *pending; /* what kefu-approval holds of each, by its place in the group */
    long group_max, lanes;
    zlist_t *facts; /* json_t facts the store left for us to decide */
    long scan_ms, batch;
    int64_t next_scan;
    kf_health_t *health;
    kf_metric_t *overdue;          /* pending steps past their deadline by over 1 s */
    kf_metric_t *by_policy[4];     /* pending, overdue, stalled steps, requests at risk */
    json_t *policies_seen;         /* policies with series, zeroed when they have none */
    kf_metric_t *decision_seconds; /* an approval.decide's arrival to its reply */
};

/* ---- statements ---------------------------------------------------------- */

/* Columns of every approval function (kefu_approval_out): the events
   start at column 4. */
enum { O_CODE, O_FIELD, O_MESSAGE, O_INFO, O_EVENT };

/* Registers the statements of the views: approval.list and approval.show. */
static void s_prepare_views(kf_store_t *store)
{
    /* My pending steps (mine, or of someone who named me delegate for
       now), the nearest deadline first. */
    kf_store_statement(
        store, "list",
        "SELECT s.id, s.request_id, t.no, t.summary, r.request_type, r.amount_fen, s.stage, "
        "s.label, CASE WHEN s.assigned_to <> $1 THEN s.assigned_to ELSE s.acting_for END, "
        "kefu_ms(s.deadline_at), floor(extract(epoch FROM s.deadline_at - "
        "clock_timestamp()))::bigint, "
        "kefu_ms(r.promised_at), kefu_ms(s.assigned_at), r.policy_id, s.assigned_to "
        "FROM approval_step s JOIN approval_request r ON r.id = s.request_id "
        "JOIN ticket t ON t.id = r.ticket_id WHERE s.status = 'pending' AND (s.assigned_to = $1 "
        "OR s.assigned_to IN (SELECT d.staff_id FROM approval_delegate d WHERE d.delegate_id = $1 "
        "AND d.cleared_at IS NULL AND d.valid @> clock_timestamp())) "
        "ORDER BY s.deadline_at NULLS LAST, s.id LIMIT $2::int");
    /* My delegation in force, or else the next one to come. */
    kf_store_statement(
        store, "list_delegate",
        "SELECT d.delegate_id, s.name, kefu_ms(lower(d.valid)), kefu_ms(upper(d.valid)) "
        "FROM approval_delegate d JOIN staff s ON s.id = d.delegate_id "
        "WHERE d.staff_id = $1 AND d.cleared_at IS NULL "
        "AND upper(d.valid) > clock_timestamp() "
        "ORDER BY lower(d.valid), d.id LIMIT 1");
    kf_store_statement(
        store, "show_request",
        "SELECT r.id, t.no, t.summary, r.request_type, r.amount_fen, r.reason, "
        "r.promised_date::text, "
        "kefu_ms(r.promised_at), r.policy_id, r.status, r.stage, r.requested_by, "
        "kefu_ms(r.requested_at), kefu_ms(r.completed_at), kefu_ms(r.at_risk_at), "
        "CASE WHEN r.completed_at IS NOT NULL THEN "
        "kefu_ms(r.completed_at) - kefu_ms(r.requested_at) END, t.owner_id "
        "FROM approval_request r JOIN ticket t ON t.id = r.ticket_id WHERE r.id = $1::bigint");
    kf_store_statement(
        store, "show_steps",
        "SELECT s.id, s.stage, s.step, s.label, s.approver, s.status, s.assigned_to, s.acting_for, "
        "nullif(array_to_string(s.moved_from, ','), ''), s.moves, kefu_ms(s.assigned_at), "
        "kefu_ms(s.deadline_at), kefu_ms(s.reminded_at), s.outcome, s.decided_by, s.on_behalf_of, "
        "kefu_ms(s.decided_at), left(s.comment, 300), kefu_ms(s.remind_at) FROM approval_step s "
        "WHERE s.request_id = $1::bigint ORDER BY s.stage, s.step LIMIT $2::int");
    /* What happened to the request's steps on the way, from the outbox:
       each reminder and each move (whatever moved it: a deadline, a
       fallback, an administrator, a reassignment), at most $2 a step, the
       latest, oldest first, with how many there were in all. The ticket's
       number (event.corr, indexed) narrows the events to read. */
    kf_store_statement(
        store, "show_trail",
        "SELECT x.step, x.at_ms, x.what, x.action, x.from_id, x.to_id, x.reason, x.by_id, "
        "x.deadline_ms, x.total FROM (SELECT (e.body->>'step')::bigint AS step, "
        "CASE WHEN jsonb_typeof(e.body->'reminded_at') = 'number' "
        "THEN (e.body->>'reminded_at')::bigint ELSE kefu_ms(e.at) END AS at_ms, CASE e.type WHEN "
        "'approval.step_reminded' THEN 'reminded' "
        "ELSE 'moved' END AS what, e.body->>'action' AS action, e.body->>'from' AS from_id, "
        "e.body->>'to' AS to_id, left(e.body->>'reason', 100) AS reason, e.body->>'by' AS by_id, "
        "CASE WHEN jsonb_typeof(e.body->'deadline_at') = 'number' "
        "THEN (e.body->>'deadline_at')::bigint END AS deadline_ms, e.at, e.seq, "
        "row_number() OVER (PARTITION BY e.body->>'step' ORDER BY e.at DESC, e.seq DESC) AS n, "
        "count(*) OVER (PARTITION BY e.body->>'step') AS total "
        "FROM approval_request r JOIN ticket t ON t.id = r.ticket_id JOIN event e ON e.corr = t.no "
        "AND e.type IN ('approval.step_reminded', 'approval.step_escalated') "
        "AND e.body->>'request' = r.id::text AND jsonb_typeof(e.body->'step') = 'number' "
        "WHERE r.id = $1::bigint) x WHERE x.n <= $2::int ORDER BY x.step, x.at, x.seq");
}

/* Registers the statements of the state changes: those a group's requests
   run on a lane's store, and the consequences the scan settles too. */
static void s_prepare_changes(kf_store_t *store)
{
    kf_idem_prepare(store);
    kf_store_statement(store, "reassign",
                       "SELECT * FROM kefu_approval_reassign($1, $2::bigint, $3, $4, $5)");
    /* Openings and decisions, one or a group's, in one call (migration
       041): p_items, p_src; each item is kefu_approval_open's (038) or
       kefu_approval_decide_call's (035). */
    kf_store_statement(store, "group", "SELECT * FROM kefu_approval_group($1::jsonb, $2)");
    kf_store_statement(store, "advance",
                       "SELECT * FROM kefu_approval_advance($1::bigint, $2::int, $3, $4)");
    kf_store_statement(store, "flag_risk",
                       "SELECT * FROM kefu_approval_flag_risk($1::bigint, $2::bigint, $3, $4)");
    kf_store_statement(
        store, "delegate_set",
        "SELECT * FROM kefu_delegate_set($1, $2, kefu_ts($3::bigint), kefu_ts($4::bigint))");
    kf_store_statement(store, "delegate_clear", "SELECT * FROM kefu_delegate_clear($1)");
}

/* Registers the daemon's statements on its main store: senders, the
   scan, the views and the observations. */
static void s_prepare(kf_store_t *store)
{
    kf_auth_prepare(store);
    s_prepare_changes(store);
    kf_store_statement(store, "remind_due", "SELECT * FROM kefu_approval_remind_due($1::int, $2)");
    kf_store_statement(store, "timeout_due",
                       "SELECT * FROM kefu_approval_timeout_due($1::int, $2)");
    s_prepare_views(store);
    kf_store_statement(
        store, "overdue",
        "SELECT count(*) FROM (SELECT 1 FROM approval_step WHERE status = 'pending' "
        "AND (deadline_at <= clock_timestamp() - interval '1 second' OR stalled_at IS NOT NULL) "
        "LIMIT $1::int) d");
    kf_store_statement(store, "gauges", "SELECT * FROM kefu_approval_gauges()");
    kf_store_statement(store, "policies",
                       "SELECT coalesce(string_agg(format('%s=%s', request_type, n), ' '), 'none') "
                       "FROM (SELECT request_type, count(*) AS n FROM approval_policy WHERE active "
                       "GROUP BY 1 ORDER BY 1) p");
}

/* ---- publishing after commit --------------------------------------------- */

/* Forgets the facts a rolled-back transaction left. */
static void s_drop_facts(void *arg)
{
    approval_t *self = (approval_t *)arg;
    for (json_t *fact = (json_t *)zlist_pop(self->facts); fact;
         fact = (json_t *)zlist_pop(self->facts))
        json_decref(fact);
}

/* Forgets what a rolled-back transaction left: its events and facts. */
static void s_discard(approval_t *self)
{
    kf_outbox_discard(self->outbox);
    s_drop_facts(self);
}

/* ---- the store's answers ------------------------------------------------- */

/* Takes rows [from, to) of an approval function's result: an error row
   fails with its code; the reply goes into reply (when not NULL); facts
   queue for s_settle. Returns the number of events, or -1 with err. */
static int s_absorb_rows(approval_t *self, const PGresult *res, int from, int to, kf_body_t *reply,
                         kf_error_t *err)
{
    int events = 0;
    for (int i = from; i < to; i++) {
        if (!PQgetisnull(res, i, O_CODE)) {
            kf_err_t code = kf_err_from_name(PQgetvalue(res, i, O_CODE));
            return kf_error_set(err, code == KF_E_COUNT ? KF_E_INTERNAL : code,
                                PQgetvalue(res, i, O_FIELD), "%s", PQgetvalue(res, i, O_MESSAGE));
        }
        if (!PQgetisnull(res, i, O_EVENT))
            events++;
        if (PQgetisnull(res, i, O_INFO))
            continue;
        json_t *info = json_loads(PQgetvalue(res, i, O_INFO), 0, NULL);
        json_t *body = info ? json_object_get(info, "reply") : NULL;
        if (body && reply) {
            char *text = json_dumps(body, JSON_COMPACT);
            int rc = text ? kf_body_from_json(reply, text, err) : -1;
            free(text);
            /* A replayed key's stored reply (kefu_approval_decide_call). */
            if (rc == 0 && json_is_true(json_object_get(info, "replay")))
                kf_body_bool(reply, "duplicate", true);
            if (rc != 0) {
                json_decref(info);
                return kf_error_set(err, KF_E_INTERNAL, "", "the store's reply did not convert");
            }
        } else if (info && !body)
            zlist_append(self->facts, json_incref(info));
        json_decref(info);
    }
    return events;
}

/* Takes the rows of an approval function (s_absorb_rows); its events wait
   in the outbox. Returns the number of events, or -1 with err. Takes
   res. */
static int s_absorb(approval_t *self, PGresult *res, kf_body_t *reply, kf_error_t *err)
{
    int events = s_absorb_rows(self, res, 0, PQntuples(res), reply, err);
    if (events < 0)
        PQclear(res);
    else
        kf_outbox_keep(self->outbox, res);
    return events;
}

/* Runs a named approval function on store and absorbs its rows. */
static int s_call(approval_t *self, kf_store_t *store, const char *name, int nparams,
                  const char *const *params, kf_body_t *reply, kf_error_t *err)
{
    PGresult *res = kf_store_exec(store, name, nparams, params, err);
    return res ? s_absorb(self, res, reply, err) : -1;
}

static int64_t s_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* A stage whose counts changed: when the store's rule says it is done
   (its facts' outcome, kefu_approval_stage_facts), records the outcome (the
   next stage opens, or the request completes). */
static int s_settle_stage(approval_t *self, kf_store_t *store, const json_t *stage, kf_error_t *err)
{
    const char *outcome = json_string_value(json_object_get(stage, "outcome"));
    if (!outcome)
        return 0;
    char request[24], number[16];
    snprintf(request, sizeof request, "%lld", (long long)s_int(stage, "request"));
    snprintf(number, sizeof number, "%lld", (long long)s_int(stage, "stage"));
    const char *params[] = {request, number, outcome, S_SRC};
    kf_info("stage.done", "request=%s stage=%s outcome=%s", request, number, outcome);
    return s_call(self, store, "advance", 4, params, NULL, err) < 0 ? -1 : 0;
}

/* A request whose schedule changed: when the store found that it can no
   longer finish by the promised date (its facts' projected end and reason,
   kefu_approval_risk_facts), records approval.at_risk (once). */
static int s_settle_risk(approval_t *self, kf_store_t *store, const json_t *risk, kf_error_t *err)
{
    const char *reason = json_string_value(json_object_get(risk, "reason"));
    if (!reason)
        return 0;
    char request[24], projected[24];
    snprintf(request, sizeof request, "%lld", (long long)s_int(risk, "request"));
    snprintf(projected, sizeof projected, "%lld", (long long)s_int(risk, "projected_ms"));
    const char *params[] = {request, projected, reason, S_SRC};
    kf_info("request.at_risk", "request=%s ticket=%s projected_ms=%s", request,
            json_string_value(json_object_get(risk, "ticket")), projected);
    return s_call(self, store, "flag_risk", 4, params, NULL, err) < 0 ? -1 : 0;
}

/* Logs what the store decided itself (kefu_approval_decide_call, migration
   035; kefu_approval_open, 038): a stage done, a request flagged at risk. */
static void s_log_store_fact(const json_t *fact)
{
    const json_t *done = json_object_get(fact, "done"), *flagged = json_object_get(fact, "flagged");
    if (json_is_object(done))
        kf_info("stage.done", "request=%lld stage=%lld outcome=%s",
                (long long)s_int(done, "request"), (long long)s_int(done, "stage"),
                json_string_value(json_object_get(done, "outcome")));
    else if (json_is_object(flagged))
        kf_info("request.at_risk", "request=%lld ticket=%s projected_ms=%lld",
                (long long)s_int(flagged, "request"),
                json_string_value(json_object_get(flagged, "ticket")),
                (long long)s_int(flagged, "projected_ms"));
}

/* Decides every fact queued, and those their records queue in turn, on
   store (the transaction's). */
static int s_settle(approval_t *self, kf_store_t *store, kf_error_t *err)
{
    json_t *fact;
    while ((fact = (json_t *)zlist_pop(self->facts))) {
        s_log_store_fact(fact);
        json_t *stage = json_object_get(fact, "stage"), *risk = json_object_get(fact, "risk");
        int rc = stage && json_is_object(stage) ? s_settle_stage(self, store, stage, err)
                 : risk && json_is_object(risk) ? s_settle_risk(self, store, risk, err)
                                                : 0;
        json_decref(fact);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The idempotency key of a request while it is handled: who sent it
   (actor, looked up from the request's key), the key and the body. */
typedef struct {
    kf_idem_t idem;
    char actor[72];
    const msgpack_object *body;
} s_key_t;

/* What a state-changing request does. */
typedef enum { S_OPEN, S_DECIDE, S_REASSIGN, S_DELEGATE_SET, S_DELEGATE_CLEAR } s_op_t;

/* What kefu-approval holds of a state-changing request waiting for the
   group commit (the group holds the request and its answer). */
struct s_pending {
    s_op_t op;
    union {
        areq_open_t open;
        areq_decide_t decide;
        areq_reassign_t move;
        areq_delegate_t set;
        char idem[KF_LIM_IDEM + 1]; /* delegate.clear's */
    } u;
    s_key_t key; /* its idempotency key (approval.request: none, the store keeps it) */
};

/* Fills key for request req with idempotency key idem ("" when none). */
static int s_key(approval_t *self, kf_request_t *req, const char *idem, s_key_t *key,
                 kf_error_t *err)
{
    memset(key, 0, sizeof *key);
    key->idem = (kf_idem_t){key->actor, idem, kf_env_type(req->env), NULL};
    key->body = kf_env_body(req->env);
    /* approval.decide's store call looks its sender up and takes the key itself. */
    bool own = strcmp(key->idem.type, "approval.decide") == 0;
    return idem[0] && !own ? kf_auth_actor(self->store, req->key, key->actor, NULL, err) : 0;
}

/* Inside the transaction open on store: runs one approval function with its
   consequences (the facts it leaves, settled). With a key (not NULL), the
   key is looked up first (a retry is answered with the stored reply and
   nothing runs) and kept with the reply. Returns the function's event
   count (0 for a retry), or -1 with err; the caller commits or rolls back
   (and then publishes or discards). */
static int s_apply(approval_t *self, kf_store_t *store, s_key_t *key, const char *name, int nparams,
                   const char *const *params, kf_body_t *reply, kf_error_t *err)
{
    int events = -1;
    bool replayed = false;
    if ((!key || kf_idem_take(store, &key->idem, key->body, reply, &replayed, err) == 0) &&
        (replayed || ((events = s_call(self, store, name, nparams, params, reply, err)) >= 0 &&
                      s_settle(self, store, err) == 0 &&
                      (!key || kf_idem_keep(store, &key->idem, reply, err) == 0))))
        return replayed ? 0 : events;
    return -1;
}

/* Runs one approval function with its consequences in one transaction
   (s_apply), then publishes its events. Returns the event count (0 for a
   retry), or -1 with err (nothing kept, nothing published). */
static int s_transact(approval_t *self, s_key_t *key, const char *name, int nparams,
                      const char *const *params, kf_body_t *reply, kf_error_t *err)
{
    int events = -1;
    if (kf_store_begin(self->store, err) == 0 &&
        (events = s_apply(self, self->store, key, name, nparams, params, reply, err)) >= 0 &&
        kf_store_commit(self->store, err) == 0) {
        kf_outbox_publish(self->outbox);
        return events;
    }
    kf_store_rollback(self->store);
    s_discard(self);
    return -1;
}

/* ---- bodies from rows ------------------------------------------------------ */

/* One column of a reply row: its key and whether it is an int ('i') or a
   string ('s'). NULL values are left out. */
typedef struct {
    const char *key;
    char kind;
} s_col_t;

static kf_body_t *s_row_body(const PGresult *res, int row, const s_col_t *cols, int ncols)
{
    kf_body_t *body = kf_body_new();
    for (int c = 0; c < ncols; c++) {
        if (PQgetisnull(res, row, c))
            continue;
        const char *value = PQgetvalue(res, row, c);
        if (cols[c].kind == 'i')
            kf_body_int(body, cols[c].key, strtoll(value, NULL, 10));
        else
            kf_body_str(body, cols[c].key, value);
    }
    return body;
}

/* Adds `amount` (yuan text) for the fen in column col. */
static void s_amount(kf_body_t *body, const PGresult *res, int row, int col)
{
    char text[32];
    rules_amount_text(strtoll(PQgetvalue(res, row, col), NULL, 10), text, sizeof text);
    kf_body_str(body, "amount", text);
}

/* Adds the rows of res as an array of maps under key, and `count`. */
static void s_rows_array(kf_body_t *reply, const char *key, const PGresult *res,
                         const s_col_t *cols, int ncols, int amount_col)
{
    int count = PQntuples(res);
    kf_body_t **items = (kf_body_t **)zmalloc(sizeof(kf_body_t *) * (size_t)(count ? count : 1));
    for (int i = 0; i < count; i++) {
        items[i] = s_row_body(res, i, cols, ncols);
        if (amount_col >= 0)
            s_amount(items[i], res, i, amount_col);
    }
    kf_body_array(reply, key, items, (size_t)count);
    kf_body_int(reply, "count", count);
    free(items);
}

/* ---- requests ------------------------------------------------------------ */

/* Adds `delegate` {delegate, name, from, to}: actor's delegation in force
   or still to come, when one is set. Returns 0, or -1 with err. */
static int s_list_delegate(approval_t *self, const char *actor, kf_body_t *reply, kf_error_t *err)
{
    static const s_col_t cols[] = {{"delegate", 's'}, {"name", 's'}, {"from", 'i'}, {"to", 'i'}};
    const char *params[] = {actor};
    PGresult *res = kf_store_exec(self->store, "list_delegate", 1, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        kf_body_t *delegate = s_row_body(res, 0, cols, 4);
        kf_body_map(reply, "delegate", &delegate);
    }
    PQclear(res);
    return 0;
}

/* Answers approval.list: the caller's pending steps and delegation. */
static int s_list(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    approval_t *self = (approval_t *)arg;
    static const s_col_t cols[] = {
        {"step", 'i'},         {"request", 'i'},     {"ticket", 's'},      {"summary", 's'},
        {"type", 's'},         {"amount_fen", 'i'},  {"stage", 'i'},       {"label", 's'},
        {"on_behalf_of", 's'}, {"deadline_at", 'i'}, {"time_left_s", 'i'}, {"promised_at", 'i'},
        {"assigned_at", 'i'},  {"policy", 's'},      {"assigned_to", 's'}};
    int64_t limit;
    char actor[65], limit_text[16];
    if (areq_parse_list(kf_env_body(req->env), &limit, err) != 0 ||
        kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
    const char *params[] = {actor, limit_text};
    PGresult *res = kf_store_exec(self->store, "list", 2, params, err);
    if (!res)
        return -1;
    kf_body_str(reply, "staff", actor);
    s_rows_array(reply, "steps", res, cols, 15, 5);
    PQclear(res);
    return s_list_delegate(self, actor, reply, err);
}

/* Bytes row's columns [first, first + ncols) add to a reply, over-estimated
   (each value's text and key with msgpack's headers), so that a reply
   built within a budget stays within the frame. */
static size_t s_row_bytes(const PGresult *res, int row, int first, const s_col_t *cols, int ncols)
{
    size_t bytes = 8;
    for (int c = 0; c < ncols; c++)
        if (!PQgetisnull(res, row, first + c))
            bytes += strlen(cols[c].key) + (size_t)PQgetlength(res, row, first + c) + 12;
    return bytes;
}

/* Columns of show_trail after the step's id (column 0); column 9 is the
   step's count of entries in all. */
static const s_col_t s_trail_cols[] = {{"at", 'i'},   {"what", 's'},       {"action", 's'},
                                       {"from", 's'}, {"to", 's'},         {"reason", 's'},
                                       {"by", 's'},   {"deadline_at", 'i'}};
#define S_TRAIL_NCOLS 8

/* The trail entries of one step (rows [from, to) of trail), as many of
   the latest as fit in the room left, as `trail` and `trail_omitted`. */
static void s_show_trail(kf_body_t *body, const PGresult *trail, int from, int to, size_t *room)
{
    int first = to;
    while (first > from) {
        size_t bytes = s_row_bytes(trail, first - 1, 1, s_trail_cols, S_TRAIL_NCOLS);
        if (bytes > *room)
            break;
        *room -= bytes;
        first--;
    }
    kf_body_t *items[S_SHOW_TRAIL];
    int count = 0;
    for (int i = first; i < to && count < S_SHOW_TRAIL; i++) {
        kf_body_t *item = kf_body_new();
        for (int c = 0; c < S_TRAIL_NCOLS; c++) {
            if (PQgetisnull(trail, i, c + 1))
                continue;
            const char *value = PQgetvalue(trail, i, c + 1);
            if (s_trail_cols[c].kind == 'i')
                kf_body_int(item, s_trail_cols[c].key, strtoll(value, NULL, 10));
            else
                kf_body_str(item, s_trail_cols[c].key, value);
        }
        items[count++] = item;
    }
    kf_body_array(body, "trail", items, (size_t)count);
    int64_t total = from < to ? strtoll(PQgetvalue(trail, from, 9), NULL, 10) : 0;
    if (total > count)
        kf_body_int(body, "trail_omitted", total - count);
}

/* The steps of approval.show, each with its trail (reminders and moves),
   as many as fit in S_SHOW_BUDGET bytes; `steps_omitted` counts the rest. */
static void s_show_steps(kf_body_t *reply, const PGresult *steps, const s_col_t *cols, int ncols,
                         const PGresult *trail)
{
    int count = PQntuples(steps), shown = 0, rows = PQntuples(trail);
    size_t room = S_SHOW_BUDGET;
    kf_body_t **items = (kf_body_t **)zmalloc(sizeof(kf_body_t *) * (size_t)(count ? count : 1));
    for (; shown < count; shown++) {
        size_t bytes = s_row_bytes(steps, shown, 0, cols, ncols) + 32;
        if (bytes > room)
            break;
        room -= bytes;
        items[shown] = s_row_body(steps, shown, cols, ncols);
        const char *step = PQgetvalue(steps, shown, 0);
        int from = 0;
        while (from < rows && strcmp(PQgetvalue(trail, from, 0), step) != 0)
            from++;
        int to = from;
        while (to < rows && strcmp(PQgetvalue(trail, to, 0), step) == 0)
            to++;
        s_show_trail(items[shown], trail, from, to, &room);
    }
    kf_body_array(reply, "steps", items, (size_t)shown);
    kf_body_int(reply, "count", shown);
    if (shown < count)
        kf_body_int(reply, "steps_omitted", count - shown);
    free(items);
}

static int s_show(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    approval_t *self = (approval_t *)arg;
    static const s_col_t request_cols[] = {
        {"request", 'i'},      {"ticket", 's'},       {"summary", 's'},    {"type", 's'},
        {"amount_fen", 'i'},   {"reason", 's'},       {"promised", 's'},   {"promised_at", 'i'},
        {"policy", 's'},       {"status", 's'},       {"stage", 'i'},      {"requested_by", 's'},
        {"requested_at", 'i'}, {"completed_at", 'i'}, {"at_risk_at", 'i'}, {"cycle_ms", 'i'},
        {"owner", 's'}};
    static const s_col_t step_cols[] = {
        {"step", 'i'},        {"stage", 'i'},   {"order", 'i'},       {"label", 's'},
        {"approver", 's'},    {"status", 's'},  {"assigned_to", 's'}, {"acting_for", 's'},
        {"moved_from", 's'},  {"moves", 'i'},   {"assigned_at", 'i'}, {"deadline_at", 'i'},
        {"reminded_at", 'i'}, {"outcome", 's'}, {"decided_by", 's'},  {"on_behalf_of", 's'},
        {"decided_at", 'i'},  {"comment", 's'}, {"remind_at", 'i'}};
    int64_t request;
    char actor[65], id[24], limit[16];
    if (areq_parse_show(kf_env_body(req->env), &request, err) != 0 ||
        kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    snprintf(id, sizeof id, "%lld", (long long)request);
    snprintf(limit, sizeof limit, "%d", S_SHOW_STEPS);
    const char *params[] = {id, limit};
    PGresult *res = kf_store_exec(self->store, "show_request", 1, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kf_error_set(err, KF_E_NOT_FOUND, "request", "no approval request %s", id);
    }
    kf_body_t *head = s_row_body(res, 0, request_cols, 17);
    s_amount(head, res, 0, 4);
    PQclear(res);
    kf_body_map(reply, "approval", &head);
    res = kf_store_exec(self->store, "show_steps", 2, params, err);
    if (!res)
        return -1;
    char per_step[16];
    snprintf(per_step, sizeof per_step, "%d", S_SHOW_TRAIL);
    const char *trail_params[] = {id, per_step};
    PGresult *trail = kf_store_exec(self->store, "show_trail", 2, trail_params, err);
    if (!trail) {
        PQclear(res);
        return -1;
    }
    s_show_steps(reply, res, step_cols, 19, trail);
    PQclear(trail);
    PQclear(res);
    return 0;
}

/* ---- state-changing requests: group commit --------------------------------

   approval.request, approval.decide, approval.reassign, delegate.set and
   delegate.clear are taken into a group as they arrive; after the burst
   (the server's flush) the group runs in one transaction on a free lane
   (one of KEFU_APPROVAL_CONNECTIONS store connections), each request
   under its own savepoint, so that a refusal undoes its own work only and
   answers its error while the others go on. One commit (one WAL flush)
   for all, sent without waiting: the loop takes the next requests while
   the store flushes, and each request of the group is answered and its
   events published once that commit is answered. When the store fails
   the group's transaction (not a refusal), each request runs again alone,
   as if it had come alone; when the store is unreachable, each is
   answered `unavailable`. Openings and decisions go to the store in one
   call, kefu_approval_group (migration 041, s_batch): a group whose
   requests are all approval.request or approval.decide is one call
   (s_run_batch), with each request in the store's own subtransaction,
   which undoes a refused one's work as a savepoint does; one in a group
   with other requests, or alone, is a call of one. The group is
   common/group.h's; what is kefu-approval's own is how to decode, run and
   log each request. */

/* Runs p's approval function (s_apply) into entry's reply, in the
   transaction open on store (a lane's); p is neither an opening nor a
   decision (s_batch). Returns 0, or -1 with entry's err. */
static int s_run_op(approval_t *self, kf_store_t *store, s_pending_t *p, kf_group_entry_t *entry)
{
    assert(p->op != S_OPEN && p->op != S_DECIDE);
    const char *key = entry->req.key;
    char a[24], b[24];
    switch (p->op) {
    case S_REASSIGN: {
        const areq_reassign_t *m = &p->u.move;
        snprintf(a, sizeof a, "%lld", (long long)m->step);
        const char *params[] = {key, a, m->to, m->reason, S_SRC};
        return s_apply(self, store, &p->key, "reassign", 5, params, entry->reply, &entry->err) < 0
                   ? -1
                   : 0;
    }
    case S_DELEGATE_SET: {
        const areq_delegate_t *d = &p->u.set;
        snprintf(a, sizeof a, "%lld", (long long)d->from_ms);
        snprintf(b, sizeof b, "%lld", (long long)d->to_ms);
        const char *params[] = {key, d->delegate, a, b};
        return s_apply(self, store, &p->key, "delegate_set", 4, params, entry->reply, &entry->err) <
                       0
                   ? -1
                   : 0;
    }
    default: {
        const char *params[] = {key};
        return s_apply(self, store, &p->key, "delegate_clear", 1, params, entry->reply,
                       &entry->err) < 0
                   ? -1
                   : 0;
    }
    }
}

/* The column of kefu_approval_group's rows that holds the item's place. */
#define S_PLACE_COL (O_EVENT + 7)

/* The opening at place (p, its entry) as kefu_approval_group takes it:
   kefu_approval_open's parameters (migration 038). Without an idem of the
   client's, the envelope's id is the key, so that a retry of the same
   envelope finds the request it opened. */
static json_t *s_open_item(int place, const s_pending_t *p, const kf_group_entry_t *entry)
{
    const areq_open_t *o = &p->u.open;
    return json_pack("{s:i, s:s, s:s?, s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:b}", "place", place,
                     "op", "open", "key", entry->req.key, "idem",
                     o->idem[0] ? o->idem : kf_env_id(entry->req.env), "ticket", o->ticket, "type",
                     o->type, "amount", (json_int_t)o->amount_fen, "reason", o->reason, "promised",
                     o->promised, "policy", o->policy[0] ? o->policy : NULL, "allow_past",
                     o->allow_past);
}

/* The decision at place (p, its entry) as kefu_approval_group takes it:
   kefu_approval_decide_call's parameters (migration 035). NULL with
   entry's err when it cannot be put. */
static json_t *s_decide_item(int place, s_pending_t *p, kf_group_entry_t *entry)
{
    const areq_decide_t *d = &p->u.decide;
    const char *content = NULL;
    if (d->idem[0] && !(content = kf_idem_hex(&p->key.idem, p->key.body, &entry->err)))
        return NULL;
    json_t *item =
        json_pack("{s:i, s:s, s:s?, s:I, s:s, s:s, s:s}", "place", place, "op", "decide", "key",
                  entry->req.key, "request", (json_int_t)d->request, "outcome", d->outcome,
                  "decision", kf_env_id(entry->req.env), "type", p->key.idem.type);
    int rc = item ? 0 : -1;
    if (item && d->step)
        rc |= json_object_set_new(item, "step", json_integer(d->step));
    if (item && d->comment[0])
        rc |= json_object_set_new(item, "comment", json_string(d->comment));
    if (item && d->idem[0]) {
        rc |= json_object_set_new(item, "idem", json_string(d->idem));
        rc |= json_object_set_new(item, "content", json_string(content));
    }
    if (rc != 0) {
        json_decref(item);
        return NULL;
    }
    return item;
}

/* Adds the opening or decision at place (p, its entry) to items. False
   with entry's err when it cannot be put (it is refused, as it would be
   alone). */
static bool s_item(json_t *items, int place, s_pending_t *p, kf_group_entry_t *entry)
{
    /* Every text of the envelope was checked UTF-8 (envelope.c), so JSON
       takes it; a failure here is out of memory, or the key's content. */
    json_t *item = p->op == S_OPEN ? s_open_item(place, p, entry) : s_decide_item(place, p, entry);
    if (!item || json_array_append_new(items, item) != 0) {
        if (entry->err.code == KF_OK)
            kf_error_set(&entry->err, KF_E_INTERNAL, "",
                         "the request could not be put to the store");
        return false;
    }
    return true;
}

/* Takes the rows of kefu_approval_group for the entry at place (from row
   *row on, moving it past them): an error row refuses the entry (the
   store undid its work), other rows are its answer and their facts are
   settled. Returns 0, or -1 with err when the transaction cannot go on. */
static int s_batch_absorb(approval_t *self, kf_store_t *store, const PGresult *res, int *row,
                          int place, kf_group_entry_t *entry, kf_error_t *err)
{
    int from = *row, rows = PQntuples(res);
    while (*row < rows && atoi(PQgetvalue(res, *row, S_PLACE_COL)) == place)
        (*row)++;
    if (*row == from)
        return kf_error_set(err, KF_E_INTERNAL, "", "the store did not answer a request");
    entry->wrote = false;
    if (!PQgetisnull(res, from, O_CODE)) {
        if (strcmp(PQgetvalue(res, from, O_CODE), "internal") == 0)
            kf_error("store.statement_failed", "statement=group place=%d info=%.300s", place,
                     PQgetvalue(res, from, O_INFO));
        entry->rc = s_absorb_rows(self, res, from, *row, entry->reply, &entry->err);
        return 0;
    }
    if (s_absorb_rows(self, res, from, *row, entry->reply, err) < 0 ||
        s_settle(self, store, err) != 0)
        return -1;
    entry->rc = 0;
    entry->wrote = true;
    return 0;
}

/* Runs the openings and decisions at places base .. base + count - 1
   (entries; those refused before they ran are skipped) in the transaction
   open on store, in one call of kefu_approval_group (migration 041): the
   sender, the key, the request and its consequences each, in the store's
   own subtransaction, so that a refused one undoes its own work only.
   Fills each entry's rc, reply, err and wrote; their events wait in the
   outbox. Returns 0, or -1 with err when the transaction cannot go on. */
static int s_batch(approval_t *self, kf_store_t *store, int base, kf_group_entry_t *entries,
                   int count, kf_error_t *err)
{
    bool *in = (bool *)calloc((size_t)count, sizeof(bool));
    json_t *items = json_array();
    assert(in && items);
    for (int i = 0; i < count; i++)
        if (!entries[i].refused &&
            !(in[i] = s_item(items, base + i, &self->pending[base + i], &entries[i]))) {
            entries[i].rc = -1;
            entries[i].wrote = false;
        }
    int rc = 0;
    if (json_array_size(items) > 0) {
        char *text = json_dumps(items, JSON_COMPACT);
        const char *params[] = {text, S_SRC};
        PGresult *res = text ? kf_store_exec(store, "group", 2, params, err) : NULL;
        free(text);
        rc = res ? 0 : text ? -1 : kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
        for (int i = 0, row = 0; rc == 0 && i < count; i++)
            if (in[i])
                rc = s_batch_absorb(self, store, res, &row, base + i, &entries[i], err);
        if (rc == 0)
            kf_outbox_keep(self->outbox, res);
        else
            PQclear(res);
    }
    json_decref(items);
    free(in);
    return rc;
}

/* True when p goes to the store through kefu_approval_group (s_batch). */
static bool s_batched(const s_pending_t *p)
{
    return p->op == S_OPEN || p->op == S_DECIDE;
}

/* Runs a group whose requests are all openings and decisions at once
   (s_batch, kf_group_batch_fn); a group with others runs request by
   request. */
static int s_run_batch(void *arg, kf_store_t *store, int base, kf_group_entry_t *entries, int count,
                       kf_error_t *err)
{
    approval_t *self = (approval_t *)arg;
    for (int i = 0; i < count; i++)
        if (!entries[i].refused && !s_batched(&self->pending[base + i]))
            return 0;
    return s_batch(self, store, base, entries, count, err) == 0 ? 1 : -1;
}

/* Runs the request at place i in the transaction open on the lane's store
   (kf_group_run_fn); an opening or a decision alone is a group of one
   (s_batch). */
static int s_run(void *arg, kf_store_t *store, int i, kf_group_entry_t *entry)
{
    approval_t *self = (approval_t *)arg;
    if (s_batched(&self->pending[i]))
        return s_batch(self, store, i, entry, 1, &entry->err) == 0 ? entry->rc : -1;
    int rc = s_run_op(self, store, &self->pending[i], entry);
    entry->wrote = rc == 0;
    return rc;
}

/* Decodes req into p (its op and fields). Returns its idempotency key
   ("" when none, and for approval.request, whose key the store keeps on
   the request), or NULL with err. */
static const char *s_parse(s_pending_t *p, kf_request_t *req, kf_error_t *err)
{
    const char *type = kf_env_type(req->env);
    const msgpack_object *body = kf_env_body(req->env);
    memset(&p->u, 0, sizeof p->u);
    if (strcmp(type, "approval.request") == 0) {
        p->op = S_OPEN;
        return areq_parse_open(body, &p->u.open, err) == 0 ? "" : NULL;
    }
    if (strcmp(type, "approval.decide") == 0) {
        p->op = S_DECIDE;
        return areq_parse_decide(body, &p->u.decide, err) == 0 ? p->u.decide.idem : NULL;
    }
    if (strcmp(type, "approval.reassign") == 0) {
        p->op = S_REASSIGN;
        return areq_parse_reassign(body, &p->u.move, err) == 0 ? p->u.move.idem : NULL;
    }
    if (strcmp(type, "delegate.set") == 0) {
        p->op = S_DELEGATE_SET;
        return areq_parse_delegate(body, &p->u.set, err) == 0 ? p->u.set.idem : NULL;
    }
    p->op = S_DELEGATE_CLEAR;
    return kf_get_str(body, "idem", false, p->u.idem, sizeof p->u.idem, err) < 0 ? NULL : p->u.idem;
}

/* Takes a state-changing request into the group (the server's flush runs
   the group after the burst). A request that does not decode is refused at
   once; one whose sender cannot be looked up is answered with the group. */
static int s_queue(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    (void)reply;
    approval_t *self = (approval_t *)arg;
    s_pending_t *p = &self->pending[kf_group_next(self->group)];
    const char *idem = s_parse(p, req, err);
    if (!idem)
        return -1;
    kf_group_entry_t *entry = kf_group_add(self->group, req);
    entry->rc = s_key(self, &entry->req, idem, &p->key, &entry->err);
    entry->refused = entry->rc != 0;
    return KF_SERVER_DEFERRED;
}

/* True when the group is full: the burst ends there. */
static bool s_group_full(void *arg)
{
    approval_t *self = (approval_t *)arg;
    return kf_group_full(self->group);
}

/* Logs what an answered request did, and lets its key go
   (kf_group_done_fn). */
static void s_done(void *arg, int i, const kf_group_entry_t *entry)
{
    approval_t *self = (approval_t *)arg;
    s_pending_t *p = &self->pending[i];
    if (entry->rc == 0 && p->op == S_OPEN)
        kf_info("request.opened", "ticket=%s type=%s amount_fen=%lld", p->u.open.ticket,
                p->u.open.type, (long long)p->u.open.amount_fen);
    else if (entry->rc == 0 && p->op == S_DECIDE)
        kf_info("step.decided", "request=%lld outcome=%s", (long long)p->u.decide.request,
                p->u.decide.outcome);
    else if (entry->rc == 0 && p->op == S_REASSIGN)
        kf_info("step.reassigned", "step=%lld to=%s", (long long)p->u.move.step, p->u.move.to);
    kf_idem_done(&p->key.idem);
}

/* The server's flush: answers the groups whose commit is answered, and
   runs the group gathered on a free lane (common/group.h). */
static void s_flush(void *arg)
{
    approval_t *self = (approval_t *)arg;
    kf_group_flush(self->group, self->server);
}

/* The requests kefu-approval serves. */
static const kf_route_t s_routes[] = {
    {"approval.request", s_queue, false},  {"approval.decide", s_queue, false},
    {"approval.list", s_list, false},      {"approval.show", s_show, false},
    {"approval.reassign", s_queue, false}, {"delegate.set", s_queue, false},
    {"delegate.clear", s_queue, false},    {NULL, NULL, false}};

/* ---- the deadline scan --------------------------------------------------- */

/* One slice of one duty ("remind_due" or "timeout_due"). Returns true
   when it found a full batch (there may be more). */
static bool s_scan_slice(approval_t *self, const char *duty)
{
    kf_error_t err = {0};
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", self->batch);
    const char *params[] = {limit, S_SRC};
    int events = s_transact(self, NULL, duty, 2, params, NULL, &err);
    if (events < 0) {
        kf_health_fault(self->health, duty, &err);
        return false;
    }
    if (events > 0)
        kf_debug("scan.slice", "duty=%s events=%d", duty, events);
    return events >= self->batch;
}

/* One slice of reminders; true when it found a full batch. */
static bool s_remind_slice(void *arg)
{
    return s_scan_slice((approval_t *)arg, "remind_due");
}

/* One slice of timeout actions; true when it found a full batch. */
static bool s_timeout_slice(void *arg)
{
    return s_scan_slice((approval_t *)arg, "timeout_due");
}

/* Reminders, then timeout actions, each in slices, together for at most
   KF_DUTY_BUDGET_MS. Returns true when there may be more. */
static bool s_scan(approval_t *self)
{
    int64_t deadline = kf_duty_deadline();
    bool more_reminders = kf_duty_run(s_remind_slice, self, deadline);
    bool more_timeouts = kf_duty_run(s_timeout_slice, self, deadline);
    return more_reminders || more_timeouts;
}

/* ---- observations ------------------------------------------------------- */

/* The per-policy gauges (kefu_approval_gauges, migration 016); a policy
   that had series and has no pending request now reads 0. */
static void s_observe_policies(approval_t *self)
{
    PGresult *res = kf_store_exec(self->store, "gauges", 0, NULL, NULL);
    if (!res)
        return;
    const char *key;
    json_t *value;
    json_object_foreach(self->policies_seen, key, value)
    {
        for (int m = 0; m < 4; m++)
            kf_metric_set(self->by_policy[m], key, NULL, 0);
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *policy = PQgetvalue(res, i, 0);
        for (int m = 0; m < 4; m++)
            kf_metric_set(self->by_policy[m], policy, NULL,
                          strtod(PQgetvalue(res, i, m + 1), NULL));
        json_object_set_new(self->policies_seen, policy, json_true());
    }
    PQclear(res);
}

/* Before each heartbeat: the steps overdue by more than a second (the
   scan is behind or stopped), read from the store so they show even
   while this instance is stuck. */
static void s_observe(kf_health_t *health, void *arg)
{
    approval_t *self = (approval_t *)arg;
    if (kf_store_ready(self->store, NULL) != 0)
        return;
    char cap[16];
    snprintf(cap, sizeof cap, "%d", S_OVERDUE_CAP);
    const char *params[] = {cap};
    PGresult *res = kf_store_exec(self->store, "overdue", 1, params, NULL);
    int64_t overdue = res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    kf_health_backlog(health, overdue);
    if (res)
        kf_metric_set(self->overdue, NULL, NULL, (double)overdue);
    PQclear(res);
    s_observe_policies(self);
}

/* SIGHUP: names the active policies per request type, so an operator
   sees what a policy change left. */
static void s_log_policies(approval_t *self)
{
    PGresult *res = kf_store_ready(self->store, NULL) == 0
                        ? kf_store_exec(self->store, "policies", 0, NULL, NULL)
                        : NULL;
    kf_info("policies", "active=\"%s\"", res ? PQgetvalue(res, 0, 0) : "unknown (store down)");
    PQclear(res);
}

/* ---- the loop --------------------------------------------------------- */

int approval_run(approval_t *self)
{
    zsock_t *clients = kf_server_socket(self->server);
    kf_info("approval.started", "version=%s bind=%s scan_ms=%ld batch=%ld connections=%ld",
            KEFU_VERSION, kf_config_str(approval_settings, "KEFU_APPROVAL_BIND"), self->scan_ms,
            self->batch, self->lanes);
    s_log_policies(self);
    while (!kf_stop_requested()) {
        if (kf_stop_reload_taken()) {
            s_log_policies(self);
        }
        if (zclock_mono() >= self->next_scan && kf_store_ready(self->store, NULL) == 0)
            self->next_scan = zclock_mono() + (s_scan(self) ? 0 : self->scan_ms);
        int64_t wait = self->next_scan - zclock_mono();
        /* SIGHUP also ends the wait: only SIGINT/SIGTERM (kf_stop_requested) stop. */
        int ms = (int)(wait < 0 ? 0 : wait > 50 ? 50 : wait);
        kf_pollset_t set = {0};
        int requests = kf_pollset_sock(&set, clients);
        int http = kf_pollset_fd(&set, kf_health_fd(self->health));
        kf_group_poll(self->group, &set); /* wake when a lane's commit is answered */
        if (kf_pollset_wait(&set, kf_health_wait_ms(self->health, ms)) == 0)
            kf_server_idle(self->server);
        if (kf_pollset_ready(&set, requests))
            kf_server_on_socket(self->server);
        if (kf_pollset_ready(&set, http))
            kf_health_serve_fd(self->health);
        kf_group_flush(self->group, self->server); /* the commits answered meanwhile */
        kf_health_tick(self->health);
    }
    kf_group_drain(self->group, self->server);
    int turned_away = kf_server_stop(self->server);
    kf_info("approval.stopped", "reason=signal turned_away=%d", turned_away);
    return 0;
}

/* Registers the daemon's metrics and its observer. */
static void s_metrics(approval_t *self)
{
    kf_metrics_t *metrics = kf_health_metrics(self->health);
    self->overdue = kf_metrics_gauge(
        metrics, "kefu_approval_overdue_steps",
        "pending steps past their deadline by over 1 s or stalled (up to 100000)", NULL, NULL);
    static const char *const names[4][2] = {
        {"kefu_approval_steps_pending", "pending steps of running requests, by policy"},
        {"kefu_approval_steps_overdue",
         "pending steps past their deadline by over 1 s, stalled ones included, by policy"},
        {"kefu_approval_steps_stalled",
         "pending steps whose timeout chain found no one to move to, by policy"},
        {"kefu_approval_requests_at_risk",
         "running requests that can no longer finish by the promised date, by policy"}};
    for (int m = 0; m < 4; m++)
        self->by_policy[m] = kf_metrics_gauge(metrics, names[m][0], names[m][1], "policy", NULL);
    self->policies_seen = json_object();
    self->decision_seconds = kf_metrics_histogram(
        metrics, "kefu_approval_decision_seconds",
        "seconds from an approval.decide's arrival to its reply (recorded)", NULL, 0, NULL, NULL);
    kf_health_set_observer(self->health, s_observe, self);
}

approval_t *approval_new(void)
{
    approval_t *self = (approval_t *)zmalloc(sizeof(approval_t));
    const kf_setting_t *t = approval_settings;
    if (kf_config_int(t, "KEFU_APPROVAL_SCAN_MS", &self->scan_ms) ||
        kf_config_int(t, "KEFU_APPROVAL_BATCH", &self->batch) ||
        kf_config_int(t, "KEFU_APPROVAL_GROUP", &self->group_max) ||
        kf_config_int(t, "KEFU_APPROVAL_CONNECTIONS", &self->lanes)) {
        free(self);
        return NULL;
    }
    zsys_init();
    self->auth = kf_auth_new(t, "kefu-approval");
    if (!self->auth) {
        free(self);
        return NULL;
    }
    self->store = kf_store_new(kf_config_str(t, "KEFU_DATABASE_URL"), "kefu-approval");
    s_prepare(self->store);
    self->facts = zlist_new();
    self->health = kf_health_new("approval", t, self->store);
    if (!self->health) {
        approval_destroy(&self);
        return NULL;
    }
    s_metrics(self);
    self->events = kf_bus_publisher(t);
    self->outbox = kf_outbox_new(self->events, S_SRC, self->health, O_EVENT);
    kf_outbox_set_log(self->outbox, true);
    const kf_group_spec_t group = {.name = "requests",
                                   .max = (int)self->group_max,
                                   .lanes = (int)self->lanes,
                                   .url = kf_config_str(t, "KEFU_DATABASE_URL"),
                                   .app_name = "kefu-approval-group",
                                   .prepare = s_prepare_changes,
                                   .savepoints = true,
                                   .run = s_run,
                                   .run_batch = s_run_batch,
                                   .done = s_done,
                                   .forget = s_drop_facts,
                                   .arg = self,
                                   .outbox = self->outbox};
    self->group = kf_group_new(&group);
    self->pending =
        (s_pending_t *)calloc((size_t)kf_group_places(self->group), sizeof(s_pending_t));
    const kf_server_spec_t spec = {.daemon = "approval",
                                   .name = "kefu-approval",
                                   .src = S_SRC,
                                   .routes = s_routes,
                                   .arg = self,
                                   .flush = s_flush,
                                   .full = s_group_full,
                                   .burst = S_BURST};
    self->server = kf_server_new(&spec, self->store, self->health, self->auth,
                                 kf_config_str(t, "KEFU_APPROVAL_BIND"));
    if (!self->server) {
        approval_destroy(&self);
        return NULL;
    }
    kf_server_time(self->server, "approval.decide", self->decision_seconds);
    return self;
}

void approval_destroy(approval_t **self_p)
{
    assert(self_p);
    approval_t *self = *self_p;
    if (!self)
        return;
    if (self->outbox)
        s_discard(self);
    kf_group_destroy(&self->group);
    kf_outbox_destroy(&self->outbox);
    free(self->pending);
    zlist_destroy(&self->facts);
    json_decref(self->policies_seen);
    kf_server_destroy(&self->server);
    zsock_destroy(&self->events);
    kf_health_destroy(&self->health);
    kf_store_destroy(&self->store);
    kf_auth_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}
