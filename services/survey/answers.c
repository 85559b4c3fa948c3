/* survey — answers, campaigns and the survey view (see answers.h). */
#include "answers.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "feed.h"
#include "idem.h"
#include "log.h"
#include "plan.h"

/* Resolution deadline of a reopened ticket whose kind and priority have no
   SLA policy: ten days, the demo's complaint policy. */
#define S_REOPEN_FALLBACK_S 864000
/* Most surveys one survey.show reply carries (1000-byte comments must fit
   the 64 KiB frame); a ticket gets one per resolution. */
#define S_SHOW_MAX "20"
/* Most survey ids a survey.campaign reply lists (the lowest; the rest are
   counted): the longest array a body may hold (KF_MAX_ENTRIES, 256). */
#define S_CAMPAIGN_IDS_MAX KF_MAX_ENTRIES

/* How a time is written in messages to people: local time in the store's
   zone (kefu.tz), as the client shows every other time. */
#define S_LOCAL_FORMAT "'YYYY-MM-DD HH24:MI:SS'"

/* The columns of a survey in a survey.show reply. */
#define S_SURVEY_COLUMNS                                                                           \
    "s.id, s.kind, t.no, s.resolution_no, s.milestone, s.project_id, kefu_ms(s.due_at), "          \
    "kefu_ms(s.sent_at), kefu_ms(s.answered_at), s.score, s.nps, s.comment, s.answered_by, "       \
    "s.campaign_id"

void answers_prepare(kf_store_t *store)
{
    /* The survey answered and, locked with it, what a reopening needs: the
       ticket, the people above its owner and its SLA; and the actor's role
       (saving a round trip). A ticket's survey is its latest sent one. */
    kf_store_statement(
        store, "answer_target",
        "SELECT s.id, s.kind, s.sent_at IS NOT NULL, kefu_ms(s.answered_at), s.score, s.nps, "
        "s.comment, s.answered_by, t.id, t.no, t.status, t.owner_id, coalesce(m.id, ''), "
        "coalesce(dh.id, ''), coalesce(g.id, ''), coalesce(sla.resolve_secs, 0), "
        "kefu_ms(clock_timestamp()), s.resolution_no, kefu_ms(s.due_at), (SELECT count(*) "
        "FROM ticket_history h WHERE h.ticket_id = t.id AND h.action = 'resolved'), "
        "(SELECT role FROM staff WHERE id = $3 AND active), "
        "to_char(s.answered_at AT TIME ZONE kefu_tz(), " S_LOCAL_FORMAT "), "
        "to_char(s.due_at AT TIME ZONE kefu_tz(), " S_LOCAL_FORMAT ") "
        "FROM survey s LEFT JOIN ticket t ON t.id = s.ticket_id "
        "LEFT JOIN staff o ON o.id = t.owner_id "
        "LEFT JOIN staff m ON m.id = o.manager_id AND m.active "
        "LEFT JOIN department d ON d.id = o.department_id "
        "LEFT JOIN staff dh ON dh.id = d.head_id AND dh.active "
        "LEFT JOIN project p ON p.id = t.project_id "
        "LEFT JOIN staff g ON g.id = p.gm_id AND g.active "
        "LEFT JOIN sla_policy sla ON sla.kind = t.kind AND sla.priority = t.priority "
        "WHERE s.id = coalesce($2::bigint, (SELECT s2.id FROM survey s2 "
        "JOIN ticket t2 ON t2.id = s2.ticket_id WHERE t2.no = $1 AND s2.sent_at IS NOT NULL "
        "ORDER BY s2.resolution_no DESC LIMIT 1)) FOR UPDATE OF s");
    /* Why a ticket has no sent survey. */
    kf_store_statement(store, "ticket_state",
                       "SELECT t.status, t.imported, (SELECT to_char(min(due_at) AT TIME ZONE "
                       "kefu_tz(), " S_LOCAL_FORMAT ") FROM survey WHERE ticket_id = t.id AND "
                       "sent_at IS NULL) FROM ticket t WHERE t.no = $1");
    kf_store_statement(store, "answer",
                       "SELECT " KF_EVENT_COLUMNS
                       " FROM kefu_survey_answer($1::bigint, $2, $3::int, $4::int, $5, $6, "
                       "$7::bigint, $8)");
    kf_store_statement(store, "project", "SELECT 1 FROM project WHERE id = $1");
    kf_store_statement(store, "campaign",
                       "SELECT * FROM kefu_survey_campaign($1, $2, $3, $4::int)");
    /* By the (campaign_id, homeowner_id) unique index: no scan of the table. */
    kf_store_statement(store, "campaign_ids",
                       "SELECT id FROM survey WHERE campaign_id = $1::bigint ORDER BY id "
                       "LIMIT $2::int");
    kf_store_statement(store, "ticket_id", "SELECT id FROM ticket WHERE no = $1");
    kf_store_statement(
        store, "show_by_ticket",
        "SELECT " S_SURVEY_COLUMNS " FROM survey s JOIN ticket t ON t.id = "
        "s.ticket_id WHERE s.ticket_id = $1::bigint ORDER BY s.id LIMIT " S_SHOW_MAX);
    kf_store_statement(store, "show_by_id",
                       "SELECT " S_SURVEY_COLUMNS " FROM survey s LEFT JOIN ticket t ON t.id = "
                       "s.ticket_id WHERE s.id = $1::bigint");
}

/* ---- helpers ------------------------------------------------------------ */

static int64_t s_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A column's text, or NULL when SQL NULL. */
static const char *s_opt(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* ---- survey.answer ------------------------------------------------------ */

/* Columns of the answer_target statement. */
enum {
    T_SURVEY,
    T_KIND,
    T_SENT,
    T_ANSWERED_AT,
    T_SCORE,
    T_NPS,
    T_COMMENT,
    T_ANSWERED_BY,
    T_TICKET_ID,
    T_TICKET_NO,
    T_STATUS,
    T_OWNER,
    T_MANAGER,
    T_HEAD,
    T_GM,
    T_RESOLVE_SECS,
    T_NOW,
    T_RESOLUTION,
    T_DUE,
    T_RESOLUTIONS,
    T_ROLE,
    T_ANSWERED_LOCAL, /* answered_at, then due_at, as local time in messages */
    T_DUE_LOCAL
};

/* Explains why req names no sent survey: not_found or conflict. */
static int s_no_survey(kf_store_t *store, const answer_req_t *req, kf_error_t *err)
{
    if (req->survey > 0)
        return kf_error_set(err, KF_E_NOT_FOUND, "survey", "no survey %lld",
                            (long long)req->survey);
    const char *params[] = {req->ticket};
    PGresult *res = kf_store_exec(store, "ticket_state", 1, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0)
        kf_error_set(err, KF_E_NOT_FOUND, "ticket", "no ticket %s", req->ticket);
    else if (PQgetvalue(res, 0, 1)[0] == 't')
        kf_error_set(err, KF_E_CONFLICT, "ticket",
                     "%s was imported; imported tickets get no survey", req->ticket);
    else if (!PQgetisnull(res, 0, 2))
        kf_error_set(err, KF_E_CONFLICT, "ticket",
                     "the survey of %s is not sent yet; it is due at %s", req->ticket,
                     PQgetvalue(res, 0, 2));
    else if (strcmp(PQgetvalue(res, 0, 0), "resolved") == 0 ||
             strcmp(PQgetvalue(res, 0, 0), "closed") == 0)
        kf_error_set(err, KF_E_CONFLICT, "ticket",
                     "%s has no survey yet (it was resolved moments ago); try again shortly",
                     req->ticket);
    else
        kf_error_set(err, KF_E_CONFLICT, "ticket",
                     "%s has no survey to answer: it is %s and has never been resolved",
                     req->ticket, PQgetvalue(res, 0, 0));
    PQclear(res);
    return -1;
}

/* Puts the recorded answer of the target row into reply. */
static void s_put_answer(kf_body_t *reply, const PGresult *t, const char *ticket, int score,
                         int nps, int64_t answered_at)
{
    kf_body_int(reply, "survey", s_int(t, 0, T_SURVEY));
    kf_body_str(reply, "kind", PQgetvalue(t, 0, T_KIND));
    if (ticket)
        kf_body_str(reply, "ticket", ticket);
    if (!PQgetisnull(t, 0, T_RESOLUTION))
        kf_body_int(reply, "resolution", s_int(t, 0, T_RESOLUTION));
    kf_body_int(reply, "score", score);
    if (nps >= 0)
        kf_body_int(reply, "nps", nps);
    kf_body_int(reply, "answered_at", answered_at);
}

/* A survey answered before: the same answer again is that answer
   (duplicate), a different one a conflict. */
static int s_answered_before(const answer_req_t *req, const PGresult *t, kf_body_t *reply,
                             kf_error_t *err)
{
    plan_answer_t recorded = {.score = (int)s_int(t, 0, T_SCORE),
                              .nps = PQgetisnull(t, 0, T_NPS) ? PLAN_NPS_NONE
                                                              : (int)s_int(t, 0, T_NPS),
                              .comment = s_opt(t, 0, T_COMMENT)};
    plan_answer_t again = {.score = req->score, .nps = req->nps, .comment = req->comment};
    const char *ticket = s_opt(t, 0, T_TICKET_NO);
    const char *when = PQgetvalue(t, 0, T_ANSWERED_LOCAL);
    if (!plan_same_answer(&recorded, &again))
        return kf_error_set(err, KF_E_CONFLICT, "score",
                            "survey %s%s%s was answered already, by %s at %s with score %d; a "
                            "different answer is not recorded",
                            PQgetvalue(t, 0, T_SURVEY), ticket ? " of " : "", ticket ? ticket : "",
                            PQgetvalue(t, 0, T_ANSWERED_BY), when, recorded.score);
    s_put_answer(reply, t, ticket, recorded.score, recorded.nps, s_int(t, 0, T_ANSWERED_AT));
    kf_body_bool(reply, "duplicate", true);
    kf_body_bool(reply, "reopened", false);
    return 0;
}

/* Writes the answer (and the reopening it decides) under the target's lock. */
static PGresult *s_write_answer(kf_store_t *store, const answer_req_t *req, const PGresult *t,
                                const char *src, const char **reopen_to, kf_error_t *err)
{
    *reopen_to = NULL;
    const char *status = s_opt(t, 0, T_STATUS);
    char due[24] = "";
    if (plan_should_reopen(strcmp(PQgetvalue(t, 0, T_KIND), "resolution") == 0, status, req->score,
                           s_int(t, 0, T_RESOLUTION), s_int(t, 0, T_RESOLUTIONS))) {
        plan_people_t people = {.owner = PQgetvalue(t, 0, T_OWNER),
                                .manager = PQgetvalue(t, 0, T_MANAGER),
                                .department_head = PQgetvalue(t, 0, T_HEAD),
                                .project_gm = PQgetvalue(t, 0, T_GM)};
        *reopen_to = plan_reopen_owner(&people);
        snprintf(due, sizeof due, "%lld",
                 (long long)plan_reopen_due(s_int(t, 0, T_NOW), s_int(t, 0, T_RESOLVE_SECS),
                                            S_REOPEN_FALLBACK_S));
    }
    char score[8], nps[8];
    snprintf(score, sizeof score, "%d", req->score);
    snprintf(nps, sizeof nps, "%d", req->nps);
    const char *params[] = {PQgetvalue(t, 0, T_SURVEY),
                            req->actor,
                            score,
                            req->nps >= 0 ? nps : NULL,
                            req->comment[0] ? req->comment : NULL,
                            *reopen_to,
                            *reopen_to ? due : NULL,
                            src};
    return kf_store_exec(store, "answer", 8, params, err);
}

/* The time of the survey.answered event among the written events. */
static int64_t s_answered_at(const PGresult *events)
{
    for (int i = 0; i < PQntuples(events); i++) {
        kf_event_t ev = kf_event_from_row(events, i, 0);
        if (strcmp(ev.type, "survey.answered") == 0)
            return ev.at;
    }
    return kf_now_ms();
}

/* Refuses an actor whose role may not record answers. */
static int s_may_answer(const answer_req_t *req, const char *role, kf_error_t *err)
{
    if (!plan_may_answer(role))
        return kf_error_set(err, KF_E_FORBIDDEN, "actor",
                            "%s (role %s) may not record survey answers; agents and managers do",
                            req->actor, role);
    return 0;
}

/* Records one answer inside the open transaction (see answers_record_in). */
int answers_record_in(kf_store_t *store, const answer_req_t *req, kf_body_t *reply, zlist_t *outbox,
                      const char *src, answer_done_t *done, kf_error_t *err)
{
    memset(done, 0, sizeof *done);
    char survey_id[24], role[16];
    snprintf(survey_id, sizeof survey_id, "%lld", (long long)req->survey);
    const char *params[] = {req->survey > 0 ? NULL : req->ticket,
                            req->survey > 0 ? survey_id : NULL, req->actor};
    kf_idem_t key = {req->actor, req->idem, "survey.answer", NULL};
    bool replayed = false;
    PGresult *t = NULL;
    PGresult *events = NULL;
    const char *reopen_to = NULL;
    int rc = -1;
    if (kf_idem_take(store, &key, req->body, reply, &replayed, err) != 0 || replayed) {
        rc = replayed ? 0 : -1; /* a retry: the stored answer, nothing written */
        goto done;
    }
    t = kf_store_exec(store, "answer_target", 3, params, err);
    if (!t)
        goto done;
    if (PQntuples(t) == 0) { /* who asks comes first, then why there is nothing */
        if (kf_auth_role(store, req->actor, role, sizeof role, err) == 0 &&
            s_may_answer(req, role, err) == 0)
            s_no_survey(store, req, err);
        goto done;
    }
    if (PQgetisnull(t, 0, T_ROLE)) {
        kf_error_set(err, KF_E_UNKNOWN_ACTOR, "actor", "%s is not active staff", req->actor);
        goto done;
    }
    if (s_may_answer(req, PQgetvalue(t, 0, T_ROLE), err) != 0)
        goto done;
    if (PQgetvalue(t, 0, T_SENT)[0] != 't') {
        kf_error_set(err, KF_E_CONFLICT, "survey", "survey %s is not sent yet; it is due at %s",
                     PQgetvalue(t, 0, T_SURVEY), PQgetvalue(t, 0, T_DUE_LOCAL));
        goto done;
    }
    if (!PQgetisnull(t, 0, T_ANSWERED_AT)) {
        rc = s_answered_before(req, t, reply, err);
        goto done;
    }
    events = s_write_answer(store, req, t, src, &reopen_to, err);
    if (!events)
        goto done;
    if (PQntuples(events) == 0) {
        kf_error_set(err, KF_E_INTERNAL, "survey", "survey %s changed under its lock",
                     PQgetvalue(t, 0, T_SURVEY));
        goto done;
    }
    bool reopened = PQntuples(events) > 1;
    const char *ticket = s_opt(t, 0, T_TICKET_NO);
    s_put_answer(reply, t, ticket, req->score, req->nps, s_answered_at(events));
    kf_body_bool(reply, "duplicate", false);
    kf_body_bool(reply, "reopened", reopened);
    if (reopened)
        kf_body_str(reply, "owner", reopen_to);
    if (kf_idem_keep(store, &key, reply, err) != 0)
        goto done;
    done->written = true;
    done->score = req->score;
    snprintf(done->survey, sizeof done->survey, "%s", PQgetvalue(t, 0, T_SURVEY));
    snprintf(done->ticket, sizeof done->ticket, "%s", ticket ? ticket : "-");
    if (reopened) {
        snprintf(done->from, sizeof done->from, "%s", PQgetvalue(t, 0, T_OWNER));
        snprintf(done->to, sizeof done->to, "%s", reopen_to);
    }
    zlist_append(outbox, events);
    events = NULL;
    rc = 0;
done:
    kf_idem_done(&key);
    PQclear(t);
    PQclear(events);
    return rc;
}

void answers_log(const answer_req_t *req, const answer_done_t *done)
{
    if (!done->written)
        return;
    kf_info("survey.answered", "survey=%s ticket=%s score=%d reopened=%d actor=%s", done->survey,
            done->ticket, done->score, done->to[0] != '\0', req->actor);
    if (done->to[0])
        kf_info("ticket.reopened", "ticket=%s from=%s to=%s score=%d", done->ticket, done->from,
                done->to, done->score);
}

/* ---- survey.campaign -------------------------------------------------- */

/* Packs the ids of the campaign's surveys (at most S_CAMPAIGN_IDS_MAX, the
   lowest) as survey_ids, and how many more it has as survey_ids_omitted. */
static int s_campaign_ids(kf_store_t *store, const char *campaign, int64_t surveys,
                          kf_body_t *reply, kf_error_t *err)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", S_CAMPAIGN_IDS_MAX);
    const char *params[] = {campaign, limit};
    PGresult *res = kf_store_exec(store, "campaign_ids", 2, params, err);
    if (!res)
        return -1;
    int n = PQntuples(res);
    msgpack_packer *pk = kf_body_key(reply, "survey_ids");
    msgpack_pack_array(pk, (size_t)n);
    for (int i = 0; i < n; i++)
        msgpack_pack_int64(pk, s_int(res, i, 0));
    PQclear(res);
    kf_body_int(reply, "survey_ids_omitted", surveys > n ? surveys - n : 0);
    return 0;
}

int answers_campaign(kf_store_t *store, const campaign_req_t *req, const char *role, long window_s,
                     kf_body_t *reply, int *created, kf_error_t *err)
{
    *created = 0;
    if (!plan_may_campaign(role))
        return kf_error_set(err, KF_E_FORBIDDEN, "actor",
                            "%s (role %s) may not start a survey campaign; admins, heads, "
                            "managers and general managers may",
                            req->actor, role);
    const char *project[] = {req->project};
    PGresult *res = kf_store_exec(store, "project", 1, project, err);
    if (!res)
        return -1;
    int known = PQntuples(res) == 1;
    PQclear(res);
    if (!known)
        return kf_error_set(err, KF_E_NOT_FOUND, "project", "no project %s", req->project);
    char window[24];
    snprintf(window, sizeof window, "%ld", window_s);
    const char *params[] = {req->project, req->milestone, req->actor, window};
    res = kf_store_exec(store, "campaign", 4, params, err);
    if (!res)
        return -1;
    bool duplicate = PQgetvalue(res, 0, 2)[0] == 't';
    kf_body_int(reply, "campaign", s_int(res, 0, 0));
    kf_body_str(reply, "project", req->project);
    kf_body_str(reply, "milestone", req->milestone);
    kf_body_int(reply, "surveys", s_int(res, 0, 1));
    kf_body_bool(reply, "duplicate", duplicate);
    kf_body_int(reply, "started_at", s_int(res, 0, 3));
    kf_body_int(reply, "window_s", window_s);
    if (s_campaign_ids(store, PQgetvalue(res, 0, 0), s_int(res, 0, 1), reply, err) != 0) {
        PQclear(res);
        return -1;
    }
    if (!duplicate)
        *created = (int)s_int(res, 0, 1);
    kf_info("survey.campaign",
            "campaign=%s project=%s milestone=%s surveys=%s duplicate=%d "
            "actor=%s",
            PQgetvalue(res, 0, 0), req->project, req->milestone, PQgetvalue(res, 0, 1), duplicate,
            req->actor);
    PQclear(res);
    return 0;
}

/* ---- survey.show ---------------------------------------------------------- */

/* One survey row (S_SURVEY_COLUMNS) as a map. */
static kf_body_t *s_survey_map(const PGresult *res, int row)
{
    static const struct {
        const char *name;
        char kind; /* 's' string, 'i' integer */
    } cols[] = {{"survey", 'i'},      {"kind", 's'},    {"ticket", 's'}, {"resolution", 'i'},
                {"milestone", 's'},   {"project", 's'}, {"due_at", 'i'}, {"sent_at", 'i'},
                {"answered_at", 'i'}, {"score", 'i'},   {"nps", 'i'},    {"comment", 's'},
                {"answered_by", 's'}, {"campaign", 'i'}};
    kf_body_t *map = kf_body_new();
    for (int i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++) {
        if (PQgetisnull(res, row, i))
            continue;
        if (cols[i].kind == 'i')
            kf_body_int(map, cols[i].name, s_int(res, row, i));
        else
            kf_body_str(map, cols[i].name, PQgetvalue(res, row, i));
    }
    const char *status = !PQgetisnull(res, row, 8)   ? "answered"
                         : !PQgetisnull(res, row, 7) ? "sent"
                                                     : "pending";
    kf_body_str(map, "status", status);
    return map;
}

int answers_show(kf_store_t *store, const show_req_t *req, kf_body_t *reply, kf_error_t *err)
{
    PGresult *res;
    if (req->survey > 0) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)req->survey);
        const char *params[] = {id};
        res = kf_store_exec(store, "show_by_id", 1, params, err);
        if (res && PQntuples(res) == 0) {
            PQclear(res);
            return kf_error_set(err, KF_E_NOT_FOUND, "survey", "no survey %s", id);
        }
    } else {
        const char *params[] = {req->ticket};
        PGresult *ticket = kf_store_exec(store, "ticket_id", 1, params, err);
        if (!ticket)
            return -1;
        if (PQntuples(ticket) == 0) {
            PQclear(ticket);
            return kf_error_set(err, KF_E_NOT_FOUND, "ticket", "no ticket %s", req->ticket);
        }
        const char *id[] = {PQgetvalue(ticket, 0, 0)};
        res = kf_store_exec(store, "show_by_ticket", 1, id, err);
        PQclear(ticket);
        kf_body_str(reply, "ticket", req->ticket);
    }
    if (!res)
        return -1;
    int rows = PQntuples(res);
    kf_body_t **items = (kf_body_t **)calloc((size_t)rows + 1, sizeof(kf_body_t *));
    for (int i = 0; i < rows; i++)
        items[i] = s_survey_map(res, i);
    kf_body_array(reply, "surveys", items, (size_t)rows);
    kf_body_int(reply, "count", rows);
    free(items);
    PQclear(res);
    return 0;
}
