/* survey — the daemon's loop: resolutions into surveys, the send scan,
   and the requests (see survey.h). */
#include "survey.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "auth.h"
#include "bus.h"
#include "consumer.h"
#include "envelope.h"
#include "feed.h"
#include "group.h"
#include "health.h"
#include "idem.h"
#include "log.h"
#include "stop.h"
#include "requests.h"
#include "outbox.h"
#include "server.h"
#include "sock.h"
#include "store.h"
#include "report.h"
#include "watchlist.h"

#define S_SRC "survey"
#define S_CONSUMER "survey"
#define S_TYPES "{ticket.resolved}"
#define S_BURST 64           /* most requests or bus messages taken in one go */
#define S_BACKLOG_CAP 100000 /* the gauges count at most this many */
#define S_LANES_MAX 4        /* KEFU_SURVEY_RESOLVED_CONNECTIONS */

const kf_setting_t survey_settings[] = {
    KF_SETTINGS_COMMON,
    KF_SETTINGS_HEALTH(KF_METRICS_PORT_SURVEY),
    KF_SETTINGS_CURVE,
    KF_SET_ENDPOINT("KEFU_SURVEY_BIND", "tcp://127.0.0.1:7710",
                    "endpoint kefu-survey binds for clients (tcp://*:7710: every interface)"),
    KF_SET_INT("KEFU_SURVEY_DELAY_S", "86400", 0, 2592000,
               "seconds from a resolution to its survey"),
    KF_SET_INT("KEFU_SURVEY_MAX_AGE_S", "2592000", 1, 315360000,
               "resolutions older than this when first seen get no survey (s; stale)"),
    KF_SET_INT("KEFU_SURVEY_CAMPAIGN_WINDOW_S", "2592000", 0, 315360000,
               "a campaign re-run for the same project and milestone within this many s surveys "
               "no one"),
    KF_SET_INT("KEFU_SURVEY_CATCHUP_MS", "1000", 10, 3600000,
               "how often the outbox is read for missed resolutions (ms)"),
    KF_SET_INT("KEFU_SURVEY_SCAN_MS", "1000", 10, 3600000,
               "how often due surveys are looked for (ms)"),
    KF_SET_INT("KEFU_SURVEY_BATCH", "100", 1, 1000,
               "most events or due surveys handled per transaction"),
    KF_SET_INT("KEFU_SURVEY_CONNECTIONS", "1", 1, KF_GROUP_LANES_MAX,
               "store connections committing groups of answers, each while the store flushes "
               "another's commit (more than 1 pays only where commits are slow)"),
    KF_SET_INT("KEFU_SURVEY_RESOLVED_CONNECTIONS", "0", 0, S_LANES_MAX,
               "store connections turning fresh resolutions into surveys, each while the store "
               "flushes another's commit, besides the one of catch-up (0: that one does; 2 pays "
               "only where commits are slow)"),
    KF_SETTINGS_END};

/* What kefu-survey holds of one survey.answer of a group commit (the
   group holds the request and its answer). */
typedef struct {
    answer_req_t answer;
    answer_done_t done;
} s_answer_t;

struct survey {
    kf_store_t *store;
    kf_server_t *server;     /* answers, campaigns, views, reports */
    kf_group_t *group;       /* the answers that arrive together, in one transaction */
    s_answer_t *answers;     /* by their place in the group (kf_group_places) */
    zsock_t *news;           /* SUB: ticket.resolved, the doorbell */
    zsock_t *events;         /* PUB: what kefu-survey did */
    kf_outbox_t *outbox;     /* events to publish after commit */
    kf_consumer_t *consumer; /* resolutions: doorbell and catch-up */
    long delay_s, max_age_s, window_s, catchup_ms, scan_ms, batch, lanes, resolved_lanes;
    int64_t next_catchup, next_scan;
    kf_health_t *health;
    kf_auth_t *auth;
    kf_metric_t *due;            /* surveys due and not sent yet */
    kf_metric_t *answer_seconds; /* a survey.answer's arrival to its reply */
};

/* ---- statements ---------------------------------------------------------- */

/* Registers what recording an answer runs on a lane's store. */
static void s_prepare_answers(kf_store_t *store)
{
    answers_prepare(store);
    kf_auth_prepare(store);
    kf_idem_prepare(store);
}

/* Registers what turning resolutions into surveys runs: the resolutions a
   burst of events announces, as the store has them, into the surveys due
   (migration 030). */
static void s_prepare_resolved(kf_store_t *store)
{
    kf_store_statement(store, "resolved",
                       "SELECT place, outcome, ticket_no, survey_id, nth, resolved_ms, due_ms "
                       "FROM kefu_survey_resolved($1::uuid[], $2::bigint, $3::bigint)");
}

static void s_prepare(kf_store_t *store)
{
    answers_prepare(store);
    kf_auth_prepare(store);
    kf_idem_prepare(store);
    report_prepare(store);
    watchlist_prepare(store);
    s_prepare_resolved(store);
    kf_store_statement(store, "send_due",
                       "SELECT " KF_EVENT_COLUMNS " FROM kefu_survey_send_due($1::int, $2)");
    kf_store_statement(store, "backlog", "SELECT kefu_outbox_backlog($1, $2::text[], $3::int)");
    kf_store_statement(store, "due_count",
                       "SELECT count(*) FROM (SELECT 1 FROM survey WHERE sent_at IS NULL AND "
                       "due_at <= clock_timestamp() LIMIT $1::int) d");
}

/* ---- resolutions into surveys ------------------------------------------- */

/* Columns of the resolved statement. */
enum { R_PLACE, R_OUTCOME, R_TICKET_NO, R_SURVEY, R_NO, R_RESOLVED, R_DUE };

/* Logs what the store did with the event of one row of the resolved
   statement (events: the burst it was given). */
static void s_log_resolved(const PGresult *res, int row, const kf_event_t *events, int count)
{
    int place = atoi(PQgetvalue(res, row, R_PLACE));
    if (place < 1 || place > count)
        return;
    const kf_event_t *ev = &events[place - 1];
    const char *outcome = PQgetvalue(res, row, R_OUTCOME);
    const char *no = PQgetvalue(res, row, R_TICKET_NO);
    if (strcmp(outcome, "unknown") == 0)
        kf_warn("resolution.unknown", "event_id=%s ticket=%s", ev->id, ev->corr);
    else if (strcmp(outcome, "imported") == 0)
        kf_info("survey.skipped", "ticket=%s reason=imported event_id=%s", no, ev->id);
    else if (strcmp(outcome, "stale") == 0)
        kf_info("survey.skipped", "ticket=%s reason=stale event_id=%s resolved_ms=%s", no, ev->id,
                PQgetvalue(res, row, R_RESOLVED));
    else if (strcmp(outcome, "created") == 0)
        kf_info("survey.created", "survey=%s ticket=%s resolution=%s due_ms=%s",
                PQgetvalue(res, row, R_SURVEY), no, PQgetvalue(res, row, R_NO),
                PQgetvalue(res, row, R_DUE));
}

/* Applies a burst of ticket.resolved inside the feed's transaction
   (kf_apply_batch_fn) with one statement: creates the survey of each
   resolution, unless its ticket is imported or the resolution stale. An
   event the store does not hold (a forged doorbell) does nothing; no event
   fails on its own, so errors stays untouched. */
static int s_apply_batch(kf_store_t *store, const kf_event_t *events, int count, kf_error_t *errors,
                         void *arg, kf_error_t *err)
{
    (void)errors;
    survey_t *self = (survey_t *)arg;
    char *ids = kf_event_array(events, count, KF_EVENT_ID);
    char delay[24], max_age[24];
    snprintf(delay, sizeof delay, "%ld", self->delay_s);
    snprintf(max_age, sizeof max_age, "%ld", self->max_age_s);
    const char *params[] = {ids, delay, max_age};
    PGresult *res = kf_store_exec(store, "resolved", 3, params, err);
    free(ids);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        s_log_resolved(res, i, events, count);
    PQclear(res);
    return 0;
}

/* ---- sending due surveys ------------------------------------------------- */

/* Marks up to a batch of due surveys sent, with their survey.sent events,
   in one statement; publishes them. Returns how many, or -1. */
static int s_send_once(survey_t *self)
{
    kf_error_t err = {0};
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", self->batch);
    const char *params[] = {limit, S_SRC};
    PGresult *res = kf_store_exec(self->store, "send_due", 2, params, &err);
    if (!res) {
        kf_health_fault(self->health, "send", &err);
        return -1;
    }
    int count = PQntuples(res);
    for (int i = 0; i < count; i++) {
        kf_event_t ev = kf_event_from_row(res, i, 0);
        kf_info("survey.sent", "event_id=%s ticket=%s", ev.id, ev.corr[0] ? ev.corr : "-");
    }
    kf_outbox_keep(self->outbox, res);
    kf_outbox_publish(self->outbox);
    return count;
}

/* One slice of sending due surveys; true when it sent a full batch. */
static bool s_send_slice(void *arg)
{
    survey_t *self = (survey_t *)arg;
    return s_send_once(self) >= self->batch;
}

/* ---- observations ------------------------------------------------------- */

/* Before each heartbeat: the resolutions no instance has turned into
   surveys yet (the backlog) and the surveys due but not sent, read from
   the store so they show even while this instance is stuck. */
static void s_observe(kf_health_t *health, void *arg)
{
    survey_t *self = (survey_t *)arg;
    kf_error_t err = {0};
    if (kf_store_ready(self->store, &err) != 0)
        return;
    char cap[16];
    snprintf(cap, sizeof cap, "%d", S_BACKLOG_CAP);
    const char *params[] = {S_CONSUMER, S_TYPES, cap};
    PGresult *res = kf_store_exec(self->store, "backlog", 3, params, &err);
    kf_health_backlog(health, res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1);
    PQclear(res);
    const char *limit[] = {cap};
    res = res ? kf_store_exec(self->store, "due_count", 1, limit, &err) : NULL;
    if (res)
        kf_metric_set(self->due, NULL, NULL, strtod(PQgetvalue(res, 0, 0), NULL));
    PQclear(res);
}

/* ---- requests ------------------------------------------------------------ */

/* Answers survey.campaign: surveys of a project's milestone. */
static int s_campaign(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    survey_t *self = (survey_t *)arg;
    char actor[SREQ_ACTOR_MAX + 1], role[16];
    campaign_req_t campaign;
    int created = 0;
    if (kf_auth_actor(self->store, req->key, actor, role, err) != 0 ||
        sreq_parse_campaign(kf_env_body(req->env), &campaign, err) != 0)
        return -1;
    snprintf(campaign.actor, sizeof campaign.actor, "%s", actor);
    /* One transaction with the idempotency key: a retry is the stored reply. */
    if (kf_store_begin(self->store, err) != 0)
        return -1;
    kf_idem_t key = {actor, campaign.idem, "survey.campaign", NULL};
    bool replayed = false;
    int rc = kf_idem_take(self->store, &key, kf_env_body(req->env), reply, &replayed, err);
    if (rc == 0 && !replayed)
        rc = answers_campaign(self->store, &campaign, role, self->window_s, reply, &created, err);
    if (rc == 0 && !replayed)
        rc = kf_idem_keep(self->store, &key, reply, err);
    if (rc == 0)
        rc = kf_store_commit(self->store, err);
    if (rc != 0)
        kf_store_rollback(self->store);
    kf_idem_done(&key);
    if (rc != 0)
        return -1;
    if (created > 0)
        self->next_scan = 0; /* due now: send without waiting for the timer */
    return 0;
}

/* Answers survey.show: one survey and its answers. */
static int s_show(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    survey_t *self = (survey_t *)arg;
    char actor[SREQ_ACTOR_MAX + 1];
    show_req_t show;
    if (kf_auth_actor(self->store, req->key, actor, NULL, err) != 0 ||
        sreq_parse_show(kf_env_body(req->env), &show, err) != 0)
        return -1;
    snprintf(show.actor, sizeof show.actor, "%s", actor);
    return answers_show(self->store, &show, reply, err);
}

/* Answers report. */
static int s_report(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    survey_t *self = (survey_t *)arg;
    char actor[SREQ_ACTOR_MAX + 1];
    if (kf_auth_actor(self->store, req->key, actor, NULL, err) != 0)
        return -1;
    return report_serve(self->store, actor, kf_env_body(req->env), reply, err);
}

/* Answers watchlist: for the roles plan_may_watch names. */
static int s_watchlist(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    survey_t *self = (survey_t *)arg;
    char actor[SREQ_ACTOR_MAX + 1], role[16];
    if (kf_auth_actor(self->store, req->key, actor, role, err) != 0)
        return -1;
    return watchlist_serve(self->store, actor, role, kf_env_body(req->env), reply, err);
}

/* Records the answer at place i in the transaction open on the lane's
   store (kf_group_run_fn). */
static int s_record(void *arg, kf_store_t *store, int i, kf_group_entry_t *entry)
{
    survey_t *self = (survey_t *)arg;
    s_answer_t *a = &self->answers[i];
    int rc = answers_record_in(store, &a->answer, entry->reply, kf_outbox_rows(self->outbox), S_SRC,
                               &a->done, &entry->err);
    entry->wrote = rc == 0 && a->done.written;
    return rc;
}

/* Logs answer i once committed (kf_group_done_fn). */
static void s_recorded(void *arg, int i, const kf_group_entry_t *entry)
{
    survey_t *self = (survey_t *)arg;
    if (entry->rc == 0)
        answers_log(&self->answers[i].answer, &self->answers[i].done);
}

/* The server's flush: replies to the answers whose commit is answered and
   publishes their events, and records the answers gathered in one
   transaction on a free lane (common/group.h). */
static void s_flush(void *arg)
{
    survey_t *self = (survey_t *)arg;
    kf_group_flush(self->group, self->server);
}

/* Takes a survey.answer into the group commit (the server's flush writes
   the group after the burst); one that does not decode, or whose sender
   cannot be looked up, is answered with the group. */
static int s_queue_answer(void *arg, kf_request_t *req, kf_body_t *reply, kf_error_t *err)
{
    (void)reply;
    (void)err;
    survey_t *self = (survey_t *)arg;
    s_answer_t *a = &self->answers[kf_group_next(self->group)];
    memset(a, 0, sizeof *a);
    kf_group_entry_t *entry = kf_group_add(self->group, req);
    entry->rc = sreq_parse_answer(kf_env_body(entry->req.env), &a->answer, &entry->err);
    if (entry->rc == 0)
        entry->rc =
            kf_store_ready_now(self->store, &entry->err) == 0
                ? kf_auth_actor(self->store, entry->req.key, a->answer.actor, NULL, &entry->err)
                : -1;
    entry->refused = entry->rc != 0;
    return KF_SERVER_DEFERRED;
}

/* True when the group gathered is full: the burst ends there. */
static bool s_group_full(void *arg)
{
    survey_t *self = (survey_t *)arg;
    return kf_group_full(self->group);
}

/* The requests kefu-survey serves. */
static const kf_route_t s_routes[] = {
    {"survey.answer", s_queue_answer, true}, {"survey.campaign", s_campaign, false},
    {"survey.show", s_show, false},          {"report", s_report, false},
    {"watchlist", s_watchlist, false},       {NULL, NULL, false}};

/* ---- the loop --------------------------------------------------------- */

/* Runs the periodic duties that are due. */
static void s_tick(survey_t *self)
{
    if (kf_store_ready(self->store, NULL) != 0)
        return;
    /* A backlog is worked off in slices, so people's requests are never
       held up behind it for long. */
    int64_t now = zclock_mono();
    if (now >= self->next_catchup)
        self->next_catchup =
            zclock_mono() + (kf_consumer_catch_up(self->consumer) ? 0 : self->catchup_ms);
    if (now >= self->next_scan)
        self->next_scan = zclock_mono() +
                          (kf_duty_run(s_send_slice, self, kf_duty_deadline()) ? 0 : self->scan_ms);
}

int survey_run(survey_t *self)
{
    zsock_t *clients = kf_server_socket(self->server);
    kf_info("survey.started",
            "version=%s bind=%s delay_s=%ld scan_ms=%ld catchup_ms=%ld connections=%ld "
            "resolved_connections=%ld",
            KEFU_VERSION, kf_config_str(survey_settings, "KEFU_SURVEY_BIND"), self->delay_s,
            self->scan_ms, self->catchup_ms, self->lanes, self->resolved_lanes);
    while (!kf_stop_requested()) {
        s_tick(self);
        /* A signal also ends the wait; the loop's condition decides. With
           a backlog left, only look for fresh work, do not wait for it. */
        int64_t now = zclock_mono();
        bool backlog = self->next_catchup <= now || self->next_scan <= now;
        kf_pollset_t set = {0};
        int requests = kf_pollset_sock(&set, clients);
        int news = kf_consumer_poll(self->consumer, &set);
        int http = kf_pollset_fd(&set, kf_health_fd(self->health));
        kf_group_poll(self->group, &set); /* wake when a lane's commit is answered */
        if (kf_pollset_wait(&set, kf_health_wait_ms(self->health, backlog ? 0 : 50)) == 0)
            kf_server_idle(self->server);
        kf_consumer_on_store(self->consumer); /* the resolutions' commits answered */
        if (kf_pollset_ready(&set, requests))
            kf_server_on_socket(self->server);
        if (kf_pollset_ready(&set, news))
            kf_consumer_on_socket(self->consumer);
        if (kf_pollset_ready(&set, http))
            kf_health_serve_fd(self->health);
        kf_group_flush(self->group, self->server); /* the commits answered meanwhile */
        kf_health_tick(self->health);
    }
    kf_group_drain(self->group, self->server);
    int turned_away = kf_server_stop(self->server);
    kf_info("survey.stopped", "reason=%s turned_away=%d", "signal", turned_away);
    return 0;
}

survey_t *survey_new(void)
{
    survey_t *self = (survey_t *)zmalloc(sizeof(survey_t));
    const kf_setting_t *t = survey_settings;
    if (kf_config_int(t, "KEFU_SURVEY_DELAY_S", &self->delay_s) ||
        kf_config_int(t, "KEFU_SURVEY_MAX_AGE_S", &self->max_age_s) ||
        kf_config_int(t, "KEFU_SURVEY_CAMPAIGN_WINDOW_S", &self->window_s) ||
        kf_config_int(t, "KEFU_SURVEY_CATCHUP_MS", &self->catchup_ms) ||
        kf_config_int(t, "KEFU_SURVEY_SCAN_MS", &self->scan_ms) ||
        kf_config_int(t, "KEFU_SURVEY_BATCH", &self->batch) ||
        kf_config_int(t, "KEFU_SURVEY_CONNECTIONS", &self->lanes) ||
        kf_config_int(t, "KEFU_SURVEY_RESOLVED_CONNECTIONS", &self->resolved_lanes)) {
        free(self);
        return NULL;
    }
    zsys_init();
    self->store = kf_store_new(kf_config_str(t, "KEFU_DATABASE_URL"), "kefu-survey");
    s_prepare(self->store);
    self->health = kf_health_new("survey", t, self->store);
    if (!self->health) {
        survey_destroy(&self);
        return NULL;
    }
    kf_metrics_t *metrics = kf_health_metrics(self->health);
    self->due = kf_metrics_gauge(metrics, "kefu_survey_due",
                                 "surveys due and not sent yet (counted up to 100000)", NULL, NULL);
    self->answer_seconds = kf_metrics_histogram(
        metrics, "kefu_survey_answer_seconds",
        "seconds from a survey.answer's arrival to its reply (recorded)", NULL, 0, NULL, NULL);
    kf_health_set_observer(self->health, s_observe, self);
    self->auth = kf_auth_new(t, "kefu-survey");
    if (!self->auth) {
        survey_destroy(&self);
        return NULL;
    }
    static const char *const topics[] = {"ticket.resolved", NULL};
    self->news = kf_bus_subscriber(t, topics);
    self->events = kf_bus_publisher(t);
    self->outbox = kf_outbox_new(self->events, S_SRC, self->health, 0);
    const kf_group_spec_t group = {.name = "answers",
                                   .max = S_BURST,
                                   .lanes = (int)self->lanes,
                                   .url = kf_config_str(t, "KEFU_DATABASE_URL"),
                                   .app_name = "kefu-survey-group",
                                   .prepare = s_prepare_answers,
                                   .run = s_record,
                                   .done = s_recorded,
                                   .arg = self,
                                   .outbox = self->outbox};
    self->group = kf_group_new(&group);
    self->answers = (s_answer_t *)calloc((size_t)kf_group_places(self->group), sizeof(s_answer_t));
    const kf_consumer_spec_t spec = {
        .name = S_CONSUMER, .types = S_TYPES, .apply_batch = s_apply_batch, .arg = self};
    self->consumer =
        kf_consumer_new(&spec, self->store, self->news, self->outbox, self->health, self->batch);
    const kf_lane_spec_t lane = {.url = kf_config_str(t, "KEFU_DATABASE_URL"),
                                 .app_name = "kefu-survey-resolved",
                                 .prepare = s_prepare_resolved,
                                 .arg = self};
    for (int i = 0; i < self->resolved_lanes; i++)
        kf_consumer_add_lane(self->consumer, &lane); /* it writes no events */
    const kf_server_spec_t serve = {.daemon = "survey",
                                    .name = "kefu-survey",
                                    .src = S_SRC,
                                    .routes = s_routes,
                                    .arg = self,
                                    .flush = s_flush,
                                    .full = s_group_full,
                                    .burst = S_BURST,
                                    .outbox = self->outbox};
    self->server = kf_server_new(&serve, self->store, self->health, self->auth,
                                 kf_config_str(t, "KEFU_SURVEY_BIND"));
    if (!self->server) {
        survey_destroy(&self);
        return NULL;
    }
    kf_server_time(self->server, "survey.answer", self->answer_seconds);
    return self;
}

void survey_destroy(survey_t **self_p)
{
    assert(self_p);
    survey_t *self = *self_p;
    if (!self)
        return;
    kf_consumer_destroy(&self->consumer);
    kf_group_destroy(&self->group);
    free(self->answers);
    kf_outbox_destroy(&self->outbox);
    kf_server_destroy(&self->server);
    zsock_destroy(&self->news);
    zsock_destroy(&self->events);
    kf_auth_destroy(&self->auth);
    kf_health_destroy(&self->health);
    kf_store_destroy(&self->store);
    free(self);
    *self_p = NULL;
}
