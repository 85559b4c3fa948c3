/* ticket-router — routing, catch-up and the deadline scan (see router.h). */
#include "router.h"

#include <assert.h>
#include <czmq.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "consumer.h"
#include "envelope.h"
#include "feed.h"
#include "health.h"
#include "log.h"
#include "policy.h"
#include "outbox.h"
#include "stop.h"
#include "store.h"

#define S_SRC "ticket-router"
#define S_CONSUMER "ticket-router"
#define S_BACKLOG_CAP 100000 /* the backlog gauge counts at most this many events */
#define S_LANES_MAX 4        /* KEFU_ROUTER_CONNECTIONS */

const kf_setting_t router_settings[] = {
    KF_SETTINGS_COMMON,
    KF_SETTINGS_HEALTH(KF_METRICS_PORT_ROUTER),
    KF_SET_INT("KEFU_ROUTER_CATCHUP_MS", "1000", 10, 3600000,
               "how often the outbox is checked for missed work (ms)"),
    KF_SET_INT("KEFU_ROUTER_SCAN_MS", "500", 10, 3600000,
               "how often overdue tickets are looked for (ms)"),
    KF_SET_INT("KEFU_ROUTER_RELOAD_MS", "10000", 100, 86400000,
               "how often rules and SLA policies are re-read (ms; SIGHUP: at once)"),
    KF_SET_INT("KEFU_ROUTER_BATCH", "50", 1, 1000,
               "most events or overdue tickets handled per transaction"),
    KF_SET_INT("KEFU_ROUTER_CONNECTIONS", "0", 0, S_LANES_MAX,
               "store connections routing fresh tickets, each while the store flushes another's "
               "commit, besides the one of catch-up and the deadline scan (0: that one routes "
               "them; 2 pays only where commits are slow, e.g. a synchronous replica)"),
    KF_SETTINGS_END};

typedef struct {
    char id[33];
    char head[65];
} s_department_t;

/* A store connection routing tickets, and what a transaction of it keeps
   until its fate is known: the events it wrote and the latencies of its
   routings (lane 0 is the router's own store, which also serves catch-up
   and the deadline scan; the others are the consumer's lanes, which take
   fresh work while the store flushes the last commit:
   kf_consumer_add_lane). */
typedef struct {
    router_t *router;
    kf_outbox_t *outbox;
    double *latencies; /* route_seconds to observe once the outbox commits */
    size_t latency_count, latency_cap;
} s_lane_t;

struct router {
    kf_store_t *store;
    zsock_t *work;           /* PULL: ticket.submitted from intake, via the bus */
    zsock_t *events;         /* PUB: what the router did */
    kf_outbox_t *outbox;     /* events to publish after commit */
    kf_consumer_t *consumer; /* the work: doorbell and catch-up */
    policy_rule_t *rules;
    size_t rule_count;
    policy_sla_t *slas;
    size_t sla_count;
    s_department_t *departments;
    size_t department_count;
    bool loaded;
    uint64_t policy_print; /* fingerprint of what was loaded, to see a change */
    long catchup_ms, scan_ms, reload_ms, batch;
    int64_t next_catchup, next_scan, next_reload;
    kf_health_t *health;
    kf_metric_t *route_seconds;      /* a ticket's receipt -> its routing, store clock */
    kf_metric_t *scan_lag;           /* now - the oldest passed escalation deadline */
    s_lane_t lanes[1 + S_LANES_MAX]; /* lane 0: store and outbox above */
    int lane_count;
};

static void s_prepare(kf_store_t *store)
{
    kf_store_statement(store, "rules",
                       "SELECT id, coalesce(kind, ''), coalesce(category, ''), "
                       "coalesce(project_id, ''), department_id, coalesce(owner_id, '') "
                       "FROM routing_rule ORDER BY id");
    kf_store_statement(store, "slas",
                       "SELECT kind, priority, first_response_secs, resolve_secs, escalate_secs "
                       "FROM sla_policy ORDER BY kind, priority");
    kf_store_statement(store, "departments",
                       "SELECT id, coalesce(head_id, '') FROM department ORDER BY id");
    /* Locked in id order, so that instances routing the same tickets
       cannot deadlock. */
    kf_store_statement(store, "unrouted",
                       "SELECT t.no, t.id, t.kind, t.category, t.project_id, t.priority, "
                       "kefu_ms(t.received_at), coalesce(p.gm_id, '') FROM ticket t "
                       "JOIN project p ON p.id = t.project_id "
                       "WHERE t.no = ANY ($1::text[]) AND t.routed_at IS NULL "
                       "ORDER BY t.id FOR UPDATE OF t");
    kf_store_statement(store, "route",
                       "SELECT " KF_EVENT_COLUMNS " FROM kefu_route_batch($1::jsonb, $2)");
    kf_store_statement(
        store, "overdue",
        "SELECT t.id, t.no, t.escalation_level, t.owner_id, coalesce(s.manager_id, ''), "
        "coalesce(d.head_id, ''), coalesce(p.gm_id, ''), t.responded_at IS NULL, t.kind, "
        "t.priority, kefu_ms(clock_timestamp()) FROM ticket t "
        "JOIN staff s ON s.id = t.owner_id JOIN project p ON p.id = t.project_id "
        "LEFT JOIN department d ON d.id = t.department_id "
        "WHERE t.next_escalation_at <= clock_timestamp() AND t.status IN ('routed', 'responded') "
        "ORDER BY t.next_escalation_at LIMIT $1::int FOR UPDATE OF t SKIP LOCKED");
    kf_store_statement(store, "escalate",
                       "SELECT " KF_EVENT_COLUMNS
                       " FROM kefu_escalate($1::bigint, $2::int, $3, $4, "
                       "$5::bigint, $6)");
    kf_store_statement(store, "settle",
                       "UPDATE ticket SET next_escalation_at = NULL WHERE id = $1::bigint");
    kf_store_statement(store, "backlog", "SELECT kefu_outbox_backlog($1, $2::text[], $3::int)");
    kf_store_statement(store, "scan_lag", "SELECT kefu_escalation_lag()");
}

/* ---- policies ---------------------------------------------------------- */

static void s_copy(char *to, size_t size, const char *from)
{
    snprintf(to, size, "%s", from);
}

/* Folds every value of res into the FNV-1a hash h. */
static uint64_t s_fingerprint(const PGresult *res, uint64_t h)
{
    for (int i = 0; i < PQntuples(res); i++)
        for (int j = 0; j < PQnfields(res); j++)
            for (const char *c = PQgetvalue(res, i, j);; c++) {
                h = (h ^ (unsigned char)*c) * 1099511628211ULL; /* the NUL separates */
                if (!*c)
                    break;
            }
    return h;
}

/* Reads rules, SLA policies and department heads; keeps the old ones when
   the store cannot be read. When they differ from the last ones read (or
   are the first), the tickets whose routing failed are tried again. */
static int s_load_policies(router_t *self)
{
    kf_error_t err = {0};
    PGresult *rules = kf_store_exec(self->store, "rules", 0, NULL, &err);
    PGresult *slas = rules ? kf_store_exec(self->store, "slas", 0, NULL, &err) : NULL;
    PGresult *departments = slas ? kf_store_exec(self->store, "departments", 0, NULL, &err) : NULL;
    if (!departments) {
        PQclear(rules);
        PQclear(slas);
        return -1;
    }
    free(self->rules);
    free(self->slas);
    free(self->departments);
    self->rule_count = (size_t)PQntuples(rules);
    self->rules = (policy_rule_t *)calloc(self->rule_count + 1, sizeof(policy_rule_t));
    for (int i = 0; i < PQntuples(rules); i++) {
        policy_rule_t *rule = &self->rules[i];
        rule->id = atoi(PQgetvalue(rules, i, 0));
        s_copy(rule->kind, sizeof rule->kind, PQgetvalue(rules, i, 1));
        s_copy(rule->category, sizeof rule->category, PQgetvalue(rules, i, 2));
        s_copy(rule->project, sizeof rule->project, PQgetvalue(rules, i, 3));
        s_copy(rule->department, sizeof rule->department, PQgetvalue(rules, i, 4));
        s_copy(rule->owner, sizeof rule->owner, PQgetvalue(rules, i, 5));
    }
    self->sla_count = (size_t)PQntuples(slas);
    self->slas = (policy_sla_t *)calloc(self->sla_count + 1, sizeof(policy_sla_t));
    for (int i = 0; i < PQntuples(slas); i++) {
        policy_sla_t *sla = &self->slas[i];
        s_copy(sla->kind, sizeof sla->kind, PQgetvalue(slas, i, 0));
        s_copy(sla->priority, sizeof sla->priority, PQgetvalue(slas, i, 1));
        sla->first_response_secs = strtoll(PQgetvalue(slas, i, 2), NULL, 10);
        sla->resolve_secs = strtoll(PQgetvalue(slas, i, 3), NULL, 10);
        sla->escalate_secs = strtoll(PQgetvalue(slas, i, 4), NULL, 10);
    }
    self->department_count = (size_t)PQntuples(departments);
    self->departments =
        (s_department_t *)calloc(self->department_count + 1, sizeof(s_department_t));
    for (int i = 0; i < PQntuples(departments); i++) {
        s_copy(self->departments[i].id, sizeof self->departments[i].id,
               PQgetvalue(departments, i, 0));
        s_copy(self->departments[i].head, sizeof self->departments[i].head,
               PQgetvalue(departments, i, 1));
    }
    uint64_t print = s_fingerprint(
        departments, s_fingerprint(slas, s_fingerprint(rules, 14695981039346656037ULL)));
    bool changed = !self->loaded || print != self->policy_print;
    PQclear(rules);
    PQclear(slas);
    PQclear(departments);
    self->loaded = true;
    self->policy_print = print;
    kf_info("policies.loaded", "rules=%zu slas=%zu departments=%zu changed=%s", self->rule_count,
            self->sla_count, self->department_count, changed ? "yes" : "no");
    if (changed) /* catch-up applies the failed ticket.submitted events again */
        kf_consumer_retry_failed(self->consumer);
    return 0;
}

static const char *s_department_head(router_t *self, const char *department)
{
    for (size_t i = 0; i < self->department_count; i++)
        if (strcmp(self->departments[i].id, department) == 0)
            return self->departments[i].head;
    return "";
}

/* ---- publishing after commit --------------------------------------------- */

/* After a transaction's fate is known: observes the latencies of the
   routings it committed, or forgets them. */
static void s_latencies_settle(void *arg, bool committed)
{
    s_lane_t *lane = (s_lane_t *)arg;
    for (size_t i = 0; committed && i < lane->latency_count; i++)
        kf_metric_observe(lane->router->route_seconds, NULL, NULL, lane->latencies[i]);
    lane->latency_count = 0;
}

/* Keeps a routing's latency until its transaction's fate is known. */
static void s_latency_keep(s_lane_t *lane, double seconds)
{
    if (lane->latency_count == lane->latency_cap) {
        lane->latency_cap = lane->latency_cap ? lane->latency_cap * 2 : 64;
        lane->latencies = (double *)realloc(lane->latencies, lane->latency_cap * sizeof(double));
        assert(lane->latencies);
    }
    lane->latencies[lane->latency_count++] = seconds < 0 ? 0 : seconds;
}

/* ---- routing --------------------------------------------------------- */

/* Columns of the "unrouted" statement. */
enum { C_NO, C_ID, C_KIND, C_CATEGORY, C_PROJECT, C_PRIORITY, C_RECEIVED, C_GM };

/* Decides the owner and deadlines of the unrouted ticket in row of
   tickets: its item for kefu_route_batch, or NULL with why. */
static json_t *s_decide(router_t *self, const PGresult *tickets, int row, kf_error_t *why)
{
    const char *no_kind = PQgetvalue(tickets, row, C_KIND);
    const char *category = PQgetvalue(tickets, row, C_CATEGORY);
    const char *project = PQgetvalue(tickets, row, C_PROJECT);
    const char *priority = PQgetvalue(tickets, row, C_PRIORITY);
    const policy_rule_t *rule =
        policy_match(self->rules, self->rule_count, no_kind, category, project);
    const policy_sla_t *sla = policy_sla(self->slas, self->sla_count, no_kind, priority);
    if (!rule) {
        kf_error_set(why, KF_E_NOT_FOUND, "routing_rule",
                     "no routing rule matches %s/%s/%s; add a default rule", no_kind, category,
                     project);
        return NULL;
    }
    if (!sla) {
        kf_error_set(why, KF_E_NOT_FOUND, "sla_policy", "no SLA policy for %s/%s", no_kind,
                     priority);
        return NULL;
    }
    const char *owner = rule->owner[0] ? rule->owner : s_department_head(self, rule->department);
    if (!owner[0]) {
        kf_error_set(why, KF_E_NOT_FOUND, "department",
                     "department %s has no head to own rule %d's tickets", rule->department,
                     rule->id);
        return NULL;
    }
    const char *gm = PQgetvalue(tickets, row, C_GM);
    bool complaint = strcmp(no_kind, "complaint") == 0;
    int64_t received = strtoll(PQgetvalue(tickets, row, C_RECEIVED), NULL, 10);
    json_t *item =
        json_pack("{s:s, s:I, s:s, s:s, s:i, s:I, s:I}", "no", PQgetvalue(tickets, row, C_NO),
                  "ticket", (json_int_t)strtoll(PQgetvalue(tickets, row, C_ID), NULL, 10),
                  "department", rule->department, "owner", owner, "rule", rule->id, "first_due",
                  (json_int_t)policy_due(received, sla->first_response_secs), "resolve_due",
                  (json_int_t)policy_due(received, sla->resolve_secs));
    assert(item);
    if (complaint && gm[0])
        json_object_set_new(item, "responsible", json_string(gm));
    return item;
}

/* Locks and reads the tickets of events that are not routed yet, and
   indexes them by number (item: row + 1) in *index. */
static PGresult *s_unrouted(kf_store_t *store, const kf_event_t *events, int count, zhash_t **index,
                            kf_error_t *err)
{
    char *array = kf_event_array(events, count, KF_EVENT_CORR);
    const char *params[] = {array};
    PGresult *tickets = kf_store_exec(store, "unrouted", 1, params, err);
    free(array);
    if (!tickets)
        return NULL;
    *index = zhash_new();
    for (int i = 0; i < PQntuples(tickets); i++)
        zhash_insert(*index, PQgetvalue(tickets, i, C_NO), (void *)(intptr_t)(i + 1));
    return tickets;
}

/* Writes the routings in items with one statement; logs them and keeps
   their events and latencies for after the commit. */
static int s_write(kf_store_t *store, s_lane_t *lane, json_t *items, const PGresult *tickets,
                   zhash_t *index, kf_error_t *err)
{
    char *text = json_dumps(items, JSON_COMPACT);
    assert(text);
    const char *params[] = {text, S_SRC};
    PGresult *events = kf_store_exec(store, "route", 2, params, err);
    free(text);
    if (!events)
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        kf_info("ticket.routed", "ticket=%s owner=%s department=%s rule=%d",
                json_string_value(json_object_get(item, "no")),
                json_string_value(json_object_get(item, "owner")),
                json_string_value(json_object_get(item, "department")),
                (int)json_integer_value(json_object_get(item, "rule")));
    }
    for (int e = 0; e < PQntuples(events); e++) {
        kf_event_t ev = kf_event_from_row(events, e, 0);
        int row = (int)(intptr_t)zhash_lookup(index, ev.corr) - 1;
        if (row >= 0)
            s_latency_keep(
                lane,
                (double)(ev.at - strtoll(PQgetvalue(tickets, row, C_RECEIVED), NULL, 10)) / 1000.0);
    }
    kf_outbox_keep(lane->outbox, events);
    return 0;
}

/* Applies a burst of ticket.submitted inside the feed's transaction
   (kf_apply_batch_fn): decides each ticket not routed yet in memory and
   routes them all with one statement. A ticket that cannot be routed
   gets its reason in errors and stays as it was. */
static int s_apply_batch(kf_store_t *store, const kf_event_t *events, int count, kf_error_t *errors,
                         void *arg, kf_error_t *err)
{
    s_lane_t *lane = (s_lane_t *)arg;
    router_t *self = lane->router;
    zhash_t *index = NULL;
    PGresult *tickets = s_unrouted(store, events, count, &index, err);
    if (!tickets)
        return -1;
    bool *taken = (bool *)calloc((size_t)PQntuples(tickets) + 1, sizeof(bool));
    json_t *items = json_array();
    assert(taken && items);
    for (int i = 0; i < count; i++) {
        int row = (int)(intptr_t)zhash_lookup(index, events[i].corr) - 1;
        if (row < 0 || taken[row]) /* routed already: nothing to do */
            continue;
        taken[row] = true;
        json_t *item = s_decide(self, tickets, row, &errors[i]);
        if (item)
            json_array_append_new(items, item);
        else {
            char what[64];
            snprintf(what, sizeof what, "route %s", events[i].corr);
            kf_health_fault(self->health, what, &errors[i]);
        }
    }
    int rc = json_array_size(items) > 0 ? s_write(store, lane, items, tickets, index, err) : 0;
    json_decref(items);
    free(taken);
    zhash_destroy(&index);
    PQclear(tickets);
    return rc;
}

/* ---- escalation ----------------------------------------------------------- */

/* Escalates one overdue ticket row (columns of the "overdue" statement). */
static int s_escalate_row(router_t *self, PGresult *due, int row, kf_error_t *err)
{
    const char *id = PQgetvalue(due, row, 0);
    policy_chain_t chain = {.owner = PQgetvalue(due, row, 3),
                            .manager = PQgetvalue(due, row, 4),
                            .department_head = PQgetvalue(due, row, 5),
                            .project_gm = PQgetvalue(due, row, 6)};
    const char *to = NULL;
    int level = policy_next_level(atoi(PQgetvalue(due, row, 2)), &chain, &to);
    PGresult *res;
    if (level == 0) { /* nobody above: the deadline stays missed, visibly */
        const char *params[] = {id};
        res = kf_store_exec(self->store, "settle", 1, params, err);
        PQclear(res);
        return res ? 0 : -1;
    }
    const policy_sla_t *sla =
        policy_sla(self->slas, self->sla_count, PQgetvalue(due, row, 8), PQgetvalue(due, row, 9));
    int64_t now = strtoll(PQgetvalue(due, row, 10), NULL, 10);
    char level_text[4], next[24];
    snprintf(level_text, sizeof level_text, "%d", level);
    snprintf(next, sizeof next, "%lld",
             (long long)policy_due(now, sla ? sla->escalate_secs : 86400));
    bool first_response = PQgetvalue(due, row, 7)[0] == 't';
    const char *params[] = {id,
                            level_text,
                            to,
                            first_response ? "first_response_overdue" : "resolution_overdue",
                            level < 3 ? next : NULL,
                            S_SRC};
    res = kf_store_exec(self->store, "escalate", 6, params, err);
    if (!res)
        return -1;
    kf_info("ticket.escalated", "ticket=%s level=%d to=%s", PQgetvalue(due, row, 1), level, to);
    kf_outbox_keep(self->outbox, res);
    return 0;
}

/* One pass of the deadline scan: escalates up to a batch of overdue
   tickets that no other instance holds. Returns how many, or -1. */
static int s_scan_once(router_t *self)
{
    kf_error_t err = {0};
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", self->batch);
    if (kf_store_begin(self->store, &err) != 0)
        return -1;
    const char *params[] = {limit};
    PGresult *due = kf_store_exec(self->store, "overdue", 1, params, &err);
    int count = due ? PQntuples(due) : -1;
    for (int i = 0; i < count; i++)
        if (s_escalate_row(self, due, i, &err) != 0)
            count = -1;
    PQclear(due);
    if (count < 0 || kf_store_commit(self->store, &err) != 0) {
        kf_store_rollback(self->store);
        kf_outbox_discard(self->outbox);
        kf_health_fault(self->health, "deadline scan", &err);
        return -1;
    }
    kf_outbox_publish(self->outbox);
    return count;
}

/* One slice of the deadline scan; true when it found a full batch. */
static bool s_scan_slice(void *arg)
{
    router_t *self = (router_t *)arg;
    return s_scan_once(self) >= self->batch;
}

/* ---- observations ------------------------------------------------------- */

/* Before each heartbeat: the outbox backlog (ticket.submitted events no
   instance has routed yet) and the deadline scan's lag, read from the
   store so they show even while the router itself is stuck. */
static void s_observe(kf_health_t *health, void *arg)
{
    router_t *self = (router_t *)arg;
    kf_error_t err = {0};
    if (kf_store_ready(self->store, &err) != 0)
        return;
    char cap[16];
    snprintf(cap, sizeof cap, "%d", S_BACKLOG_CAP);
    const char *params[] = {S_CONSUMER, "{ticket.submitted}", cap};
    PGresult *res = kf_store_exec(self->store, "backlog", 3, params, &err);
    kf_health_backlog(health, res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1);
    PQclear(res);
    res = res ? kf_store_exec(self->store, "scan_lag", 0, NULL, &err) : NULL;
    if (res)
        kf_metric_set(self->scan_lag, NULL, NULL, strtod(PQgetvalue(res, 0, 0), NULL));
    PQclear(res);
}

/* ---- the loop --------------------------------------------------------- */

/* Runs the periodic duties that are due. */
static void s_tick(router_t *self)
{
    int64_t now = zclock_mono();
    if (kf_store_ready(self->store, NULL) != 0)
        return;
    if (kf_stop_reload_taken() || now >= self->next_reload || !self->loaded) {
        s_load_policies(self);
        self->next_reload = now + self->reload_ms;
    }
    if (!self->loaded)
        return;
    /* A backlog is worked off in slices, so fresh work from the doorbell
       is never held up behind it for long. */
    if (now >= self->next_catchup)
        self->next_catchup =
            zclock_mono() + (kf_consumer_catch_up(self->consumer) ? 0 : self->catchup_ms);
    if (now >= self->next_scan)
        self->next_scan = zclock_mono() +
                          (kf_duty_run(s_scan_slice, self, kf_duty_deadline()) ? 0 : self->scan_ms);
}

/* Drops the work that arrived while no policies are loaded. */
static void s_drop_work(router_t *self)
{
    do {
        zmsg_t *msg = zmsg_recv(self->work);
        zmsg_destroy(&msg);
    } while (zsock_events(self->work) & ZMQ_POLLIN);
}

int router_run(router_t *self)
{
    kf_info("router.started", "version=%s catchup_ms=%ld scan_ms=%ld connections=%d", KEFU_VERSION,
            self->catchup_ms, self->scan_ms, self->lane_count - 1);
    while (!kf_stop_requested()) {
        s_tick(self);
        kf_pollset_t set = {0};
        int work = kf_consumer_poll(self->consumer, &set);
        int http = kf_pollset_fd(&set, kf_health_fd(self->health));
        /* SIGHUP also ends the wait: only SIGINT/SIGTERM (kf_stop_requested) stop.
           With a backlog left, only look for fresh work, do not wait for it. */
        int64_t now = zclock_mono();
        bool backlog = self->loaded && (self->next_catchup <= now || self->next_scan <= now);
        kf_pollset_wait(&set, backlog ? 0 : 50);
        kf_consumer_on_store(self->consumer);
        if (kf_pollset_ready(&set, work)) {
            if (self->loaded)
                kf_consumer_on_socket(self->consumer);
            else
                s_drop_work(self); /* no policies yet: catch-up routes it */
        }
        if (kf_pollset_ready(&set, http))
            kf_health_serve_fd(self->health);
        kf_health_tick(self->health);
    }
    kf_info("router.stopped", "reason=%s", "signal");
    return 0;
}

/* Gives the consumer count lanes besides lane 0 for fresh work. */
static void s_lanes_new(router_t *self, int count)
{
    self->lane_count = 1 + count;
    for (int i = 1; i <= count; i++) {
        s_lane_t *lane = &self->lanes[i];
        lane->router = self;
        const kf_lane_spec_t spec = {.url = kf_config_str(router_settings, "KEFU_DATABASE_URL"),
                                     .app_name = "kefu-router-route",
                                     .prepare = s_prepare,
                                     .on_commit = s_latencies_settle,
                                     .arg = lane};
        lane->outbox = kf_consumer_add_lane(self->consumer, &spec);
    }
}

router_t *router_new(void)
{
    router_t *self = (router_t *)zmalloc(sizeof(router_t));
    long connections = 0;
    if (kf_config_int(router_settings, "KEFU_ROUTER_CATCHUP_MS", &self->catchup_ms) ||
        kf_config_int(router_settings, "KEFU_ROUTER_SCAN_MS", &self->scan_ms) ||
        kf_config_int(router_settings, "KEFU_ROUTER_RELOAD_MS", &self->reload_ms) ||
        kf_config_int(router_settings, "KEFU_ROUTER_BATCH", &self->batch) ||
        kf_config_int(router_settings, "KEFU_ROUTER_CONNECTIONS", &connections)) {
        free(self);
        return NULL;
    }
    zsys_init();
    self->store = kf_store_new(kf_config_str(router_settings, "KEFU_DATABASE_URL"), "kefu-router");
    s_prepare(self->store);
    self->health = kf_health_new("ticket-router", router_settings, self->store);
    if (!self->health) {
        router_destroy(&self);
        return NULL;
    }
    kf_metrics_t *metrics = kf_health_metrics(self->health);
    self->route_seconds = kf_metrics_histogram(
        metrics, "kefu_router_route_seconds",
        "seconds from a ticket's receipt to the commit of its routing (store clock)", NULL, 0, NULL,
        NULL);
    self->scan_lag = kf_metrics_gauge(
        metrics, "kefu_deadline_scan_lag_seconds",
        "now minus the oldest escalation deadline that has passed on an open ticket", NULL, NULL);
    kf_health_set_observer(self->health, s_observe, self);
    self->work = kf_bus_worker(router_settings);
    self->events = kf_bus_publisher(router_settings);
    self->outbox = kf_outbox_new(self->events, S_SRC, self->health, 0);
    self->lanes[0] = (s_lane_t){.router = self, .outbox = self->outbox};
    kf_outbox_set_hook(self->outbox, s_latencies_settle, &self->lanes[0]);
    const kf_consumer_spec_t spec = {.name = S_CONSUMER,
                                     .types = "{ticket.submitted}",
                                     .apply_batch = s_apply_batch,
                                     .arg = &self->lanes[0]};
    self->consumer =
        kf_consumer_new(&spec, self->store, self->work, self->outbox, self->health, self->batch);
    s_lanes_new(self, (int)connections);
    return self;
}

void router_destroy(router_t **self_p)
{
    assert(self_p);
    router_t *self = *self_p;
    if (!self)
        return;
    kf_consumer_destroy(&self->consumer); /* publishes what its lanes committed */
    for (int i = 0; i < self->lane_count; i++)
        free(self->lanes[i].latencies);
    kf_outbox_destroy(&self->outbox);
    zsock_destroy(&self->work);
    zsock_destroy(&self->events);
    kf_health_destroy(&self->health);
    kf_store_destroy(&self->store);
    free(self->rules);
    free(self->slas);
    free(self->departments);
    free(self);
    *self_p = NULL;
}
