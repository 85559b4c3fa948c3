/* kefu-survey — the `watchlist` request (see watchlist.h). */
#include "watchlist.h"

#include <stdlib.h>
#include <string.h>

#include "kf_model.h"
#include "log.h"
#include "plan.h"

/* The three lists; each statement takes the instant (ms) and the limit,
   and returns up to limit + 1 rows: the extra one only says more exist. */
static const char *const s_sql_approvals =
    "SELECT r.id, t.no, t.summary, r.request_type, kefu_yuan(r.amount_fen), r.amount_fen, "
    "r.stage, r.promised_date::text, kefu_ms(r.promised_at), kefu_ms(r.at_risk_at), "
    "st.assigned_to, kefu_ms(st.deadline_at) "
    "FROM approval_request r JOIN ticket t ON t.id = r.ticket_id "
    "LEFT JOIN LATERAL (SELECT s.assigned_to, s.deadline_at FROM approval_step s "
    "WHERE s.request_id = r.id AND s.status = 'pending' "
    "ORDER BY s.deadline_at NULLS LAST, s.id LIMIT 1) st ON true "
    "WHERE r.status = 'pending' AND (r.at_risk_at IS NOT NULL "
    "OR r.promised_at <= kefu_ts($1::bigint) + interval '48 hours') "
    "ORDER BY r.promised_at, r.id LIMIT $2::int + 1";

/* Owners: each source counted per owner over its window, the owners with
   at least one reason kept, ranked; the project of each listed owner's
   latest ticket is read only for the rows returned. */
static const char *const s_sql_owners =
    "WITH c AS (SELECT homeowner_id AS id, count(*) AS n, max(received_at) AS last "
    "FROM ticket WHERE kind = 'complaint' AND received_at > kefu_ts($1::bigint) - interval "
    "'90 days' AND received_at <= kefu_ts($1::bigint) GROUP BY homeowner_id), "
    "l AS (SELECT homeowner_id AS id, count(*) AS n, max(answered_at) AS last FROM survey "
    "WHERE answered_at > kefu_ts($1::bigint) - interval '180 days' "
    "AND answered_at <= kefu_ts($1::bigint) AND score <= 2 GROUP BY homeowner_id), "
    "o AS (SELECT t.homeowner_id AS id, count(DISTINCT h.ticket_id) AS n, max(h.at) AS last "
    "FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id WHERE h.action = 'reopened' "
    "AND h.at > kefu_ts($1::bigint) - interval '180 days' AND h.at <= kefu_ts($1::bigint) "
    "GROUP BY t.homeowner_id), "
    "r AS (SELECT ids.id, coalesce(c.n, 0) AS complaints, coalesce(l.n, 0) AS low, "
    "coalesce(o.n, 0) AS reopened, greatest(CASE WHEN c.n >= 2 THEN c.last END, l.last, o.last) "
    "AS last FROM (SELECT id FROM c WHERE n >= 2 UNION SELECT id FROM l UNION SELECT id FROM o) "
    "ids LEFT JOIN c ON c.id = ids.id LEFT JOIN l ON l.id = ids.id LEFT JOIN o ON o.id = ids.id), "
    "top AS (SELECT r.*, (r.complaints >= 2)::int + (r.low > 0)::int + (r.reopened > 0)::int "
    "AS reasons FROM r ORDER BY reasons DESC, r.last DESC, r.id LIMIT $2::int + 1) "
    "SELECT h.phone, h.name, (SELECT t.project_id FROM ticket t WHERE t.homeowner_id = top.id "
    "ORDER BY t.received_at DESC, t.id DESC LIMIT 1), "
    "concat_ws(',', CASE WHEN top.complaints >= 2 THEN 'repeat_complaints' END, "
    "CASE WHEN top.low > 0 THEN 'low_score' END, CASE WHEN top.reopened > 0 THEN 'reopened' END), "
    "top.complaints, top.low, top.reopened, kefu_ms(top.last) "
    "FROM top JOIN homeowner h ON h.id = top.id ORDER BY top.reasons DESC, top.last DESC, top.id";

static const char *const s_sql_promoters =
    "SELECT h.phone, h.name, coalesce(s.project_id, t.project_id), s.nps, s.score, "
    "kefu_ms(s.answered_at), t.no FROM survey s JOIN homeowner h ON h.id = s.homeowner_id "
    "LEFT JOIN ticket t ON t.id = s.ticket_id "
    "WHERE s.answered_at > kefu_ts($1::bigint) - interval '90 days' "
    "AND s.answered_at <= kefu_ts($1::bigint) AND s.nps >= 9 "
    "ORDER BY s.answered_at DESC, s.id DESC LIMIT $2::int + 1";

/* How a column becomes a value of a list entry. */
typedef struct {
    const char *key;
    char kind; /* 's' string, 'i' integer, 'l' a list of strings (comma-separated text) */
} s_col_t;

static const s_col_t s_approval_cols[] = {{"request", 'i'},
                                          {"ticket", 's'},
                                          {"summary", 's'},
                                          {"type", 's'},
                                          {"amount", 's'},
                                          {"amount_fen", 'i'},
                                          {"stage", 'i'},
                                          {"promised", 's'},
                                          {"promised_at", 'i'},
                                          {"at_risk_at", 'i'},
                                          {"assigned_to", 's'},
                                          {"deadline_at", 'i'},
                                          {NULL, 0}};

static const s_col_t s_owner_cols[] = {{"phone", 's'},    {"name", 's'},       {"project", 's'},
                                       {"reasons", 'l'},  {"complaints", 'i'}, {"low_scores", 'i'},
                                       {"reopened", 'i'}, {"last_at", 'i'},    {NULL, 0}};

static const s_col_t s_promoter_cols[] = {{"phone", 's'},  {"name", 's'},  {"project", 's'},
                                          {"nps", 'i'},    {"score", 'i'}, {"answered_at", 'i'},
                                          {"ticket", 's'}, {NULL, 0}};

/* One list of the reply: its statement, columns, and reply keys. */
typedef struct {
    const char *statement;
    const s_col_t *cols;
    const char *key;
    const char *more;
} s_list_t;

static const s_list_t s_lists[] = {
    {"watch_approvals", s_approval_cols, "approvals_at_risk", "approvals_more"},
    {"watch_owners", s_owner_cols, "owners_at_risk", "owners_more"},
    {"watch_promoters", s_promoter_cols, "promoters", "promoters_more"}};

int watchlist_parse(const msgpack_object *body, int64_t *limit, kf_error_t *err)
{
    *limit = WATCHLIST_LIMIT_DEFAULT;
    return kf_get_int(body, "limit", false, 1, KF_LIM_LIST, limit, err) < 0 ? -1 : 0;
}

void watchlist_prepare(kf_store_t *store)
{
    kf_store_statement(store, "watch_now", "SELECT kefu_ms(clock_timestamp())");
    kf_store_statement(store, "watch_approvals", s_sql_approvals);
    kf_store_statement(store, "watch_owners", s_sql_owners);
    kf_store_statement(store, "watch_promoters", s_sql_promoters);
}

/* Packs comma-separated text as an array of strings under key. */
static void s_put_words(kf_body_t *map, const char *key, const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; n++) {
        const char *comma = strchr(p, ',');
        p = comma ? comma + 1 : p + strlen(p);
    }
    msgpack_packer *pk = kf_body_key(map, key);
    msgpack_pack_array(pk, n);
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, ",");
        msgpack_pack_str(pk, len);
        msgpack_pack_str_body(pk, p, len);
        p += len + (p[len] == ',');
    }
}

/* One row of res as a map of cols (NULL columns left out). */
static kf_body_t *s_row_map(const PGresult *res, int row, const s_col_t *cols)
{
    kf_body_t *map = kf_body_new();
    for (int c = 0; cols[c].key; c++) {
        if (PQgetisnull(res, row, c))
            continue;
        const char *value = PQgetvalue(res, row, c);
        if (cols[c].kind == 'i')
            kf_body_int(map, cols[c].key, strtoll(value, NULL, 10));
        else if (cols[c].kind == 'l')
            s_put_words(map, cols[c].key, value);
        else
            kf_body_str(map, cols[c].key, value);
    }
    return map;
}

/* Reads one list at the instant now (ms text) into reply, with its flag.
   Returns how many entries, or -1 with err. */
static int s_put_list(kf_store_t *store, const s_list_t *list, const char *now, int64_t limit,
                      kf_body_t *reply, kf_error_t *err)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
    const char *params[] = {now, limit_text};
    PGresult *res = kf_store_exec(store, list->statement, 2, params, err);
    if (!res)
        return -1;
    int rows = PQntuples(res);
    int count = rows > limit ? (int)limit : rows;
    kf_body_t **items = (kf_body_t **)calloc((size_t)count + 1, sizeof(kf_body_t *));
    for (int i = 0; i < count; i++)
        items[i] = s_row_map(res, i, list->cols);
    kf_body_array(reply, list->key, items, (size_t)count);
    kf_body_bool(reply, list->more, rows > count);
    free(items);
    PQclear(res);
    return count;
}

int watchlist_serve(kf_store_t *store, const char *actor, const char *role,
                    const msgpack_object *body, kf_body_t *reply, kf_error_t *err)
{
    if (!plan_may_watch(role))
        return kf_error_set(err, KF_E_FORBIDDEN, "actor",
                            "%s (role %s) may not read the watchlist; "
                            "managers, heads, general managers, vice presidents and admins do",
                            actor, role);
    int64_t limit;
    if (watchlist_parse(body, &limit, err) != 0)
        return -1;
    PGresult *res = kf_store_exec(store, "watch_now", 0, NULL, err);
    if (!res)
        return -1;
    char now[24];
    snprintf(now, sizeof now, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    kf_body_int(reply, "now", strtoll(now, NULL, 10));
    int counts[3];
    for (int i = 0; i < 3; i++)
        if ((counts[i] = s_put_list(store, &s_lists[i], now, limit, reply, err)) < 0)
            return -1;
    kf_info("watchlist.served", "actor=%s limit=%lld approvals=%d owners=%d promoters=%d", actor,
            (long long)limit, counts[0], counts[1], counts[2]);
    return 0;
}
