/* kefu — consuming the event outbox exactly once in effect (see feed.h). */
#include "feed.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

kf_event_t kf_event_from_row(const PGresult *res, int row, int col)
{
    kf_event_t ev = {
        .seq = strtoll(PQgetvalue(res, row, col), NULL, 10),
        .id = PQgetvalue(res, row, col + 1),
        .type = PQgetvalue(res, row, col + 2),
        .corr = PQgetvalue(res, row, col + 3),
        .src = PQgetvalue(res, row, col + 4),
        .at = strtoll(PQgetvalue(res, row, col + 5), NULL, 10),
        .body_json = PQgetvalue(res, row, col + 6),
    };
    return ev;
}

char *kf_event_array(const kf_event_t *events, int count, kf_event_field_t field)
{
    const char **items = (const char **)malloc((size_t)count * sizeof(char *) + 1);
    assert(items);
    for (int i = 0; i < count; i++)
        items[i] = field == KF_EVENT_ID ? events[i].id : events[i].corr;
    char *array = kf_store_array(items, count);
    free(items);
    return array;
}

void kf_feed_prepare(kf_store_t *store)
{
    kf_store_statement(store, "feed_mark",
                       "INSERT INTO processed_event (consumer, event_id, outcome, error) "
                       "VALUES ($1, $2::uuid, coalesce($3, 'applied'), $4) ON CONFLICT DO NOTHING");
    /* The 1-based places in $2 of the events marked now; an id given
       twice counts once, at its first place. */
    kf_store_statement(
        store, "feed_mark_all",
        "WITH u AS (SELECT DISTINCT ON (id) id, i "
        "FROM unnest($2::uuid[]) WITH ORDINALITY AS u (id, i) ORDER BY id, i), "
        "m AS (INSERT INTO processed_event (consumer, event_id) "
        "SELECT $1, id FROM u ORDER BY id ON CONFLICT DO NOTHING RETURNING event_id) "
        "SELECT u.i FROM u JOIN m ON m.event_id = u.id ORDER BY u.i");
    kf_store_statement(store, "feed_cursor_init",
                       "INSERT INTO consumer_cursor (consumer) VALUES ($1) ON CONFLICT DO NOTHING");
    kf_store_statement(store, "feed_lock",
                       "SELECT horizon::text, pg_snapshot_xmin(pg_current_snapshot())::text "
                       "FROM consumer_cursor WHERE consumer = $1 FOR UPDATE SKIP LOCKED");
    kf_store_statement(store, "feed_cap",
                       "WITH r AS (SELECT xid FROM event WHERE xid >= $1::xid8 AND xid < $2::xid8 "
                       "AND type = ANY ($4::text[]) ORDER BY xid LIMIT $3::int + 1) "
                       "SELECT min(xid)::text, max(xid)::text, count(*) FROM r");
    kf_store_statement(store, "feed_read",
                       "SELECT " KF_EVENT_COLUMNS " FROM event "
                       "WHERE xid >= $1::xid8 AND xid < $2::xid8 AND type = ANY ($3::text[]) "
                       "ORDER BY seq");
    kf_store_statement(store, "feed_settle",
                       "UPDATE processed_event SET outcome = $3, error = $4, at = now() "
                       "WHERE consumer = $1 AND event_id = $2::uuid");
    /* Uses processed_event_failed_idx (migration 025). */
    kf_store_statement(store, "feed_failed",
                       "WITH f AS (SELECT p.event_id FROM processed_event p "
                       "JOIN event e ON e.id = p.event_id "
                       "WHERE p.consumer = $1 AND p.outcome = 'failed' AND p.event_id > $2::uuid "
                       "AND e.type = ANY ($3::text[]) ORDER BY p.event_id LIMIT $4::int "
                       "FOR UPDATE OF p SKIP LOCKED) "
                       "SELECT " KF_EVENT_COLUMNS
                       " FROM event WHERE id IN (SELECT event_id FROM f) "
                       "ORDER BY id");
    kf_store_statement(store, "feed_advance",
                       "UPDATE consumer_cursor SET horizon = $2::xid8, updated_at = now() "
                       "WHERE consumer = $1");
}

/* Records ev as processed by consumer. Returns 1 when newly recorded, 0
   when it was recorded before, -1 on error. */
static int s_mark(kf_store_t *store, const char *consumer, const char *event_id,
                  const char *outcome, const char *error, kf_error_t *err)
{
    const char *params[] = {consumer, event_id, outcome, error};
    PGresult *res = kf_store_exec(store, "feed_mark", 4, params, err);
    if (!res)
        return -1;
    int fresh = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return fresh;
}

/* Applies ev alone with apply_batch (a burst of one) inside the open
   transaction. Returns 0, or -1 with err (why the event cannot be
   applied, or the store's error). */
static int s_apply_one(kf_store_t *store, const kf_event_t *ev, kf_apply_batch_fn *apply_batch,
                       void *arg, kf_error_t *err)
{
    kf_error_t why = {0};
    if (apply_batch(store, ev, 1, &why, arg, err) != 0)
        return -1;
    if (why.code == KF_OK)
        return 0;
    *err = why;
    return -1;
}

int kf_feed_apply(kf_store_t *store, const char *consumer, const kf_event_t *ev,
                  kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    if (kf_store_begin(store, err) != 0)
        return -1;
    int fresh = s_mark(store, consumer, ev->id, NULL, NULL, err);
    if (fresh <= 0) {
        kf_store_rollback(store);
        return fresh;
    }
    if (s_apply_one(store, ev, apply_batch, arg, err) != 0 || kf_store_commit(store, err) != 0) {
        kf_store_rollback(store);
        return -1;
    }
    return 1;
}

/* Sets the outcome (and error, may be NULL) of an event's mark. */
static int s_settle(kf_store_t *store, const char *consumer, const char *event_id,
                    const char *outcome, const char *error, kf_error_t *err)
{
    const char *params[] = {consumer, event_id, outcome, error};
    PGresult *res = kf_store_exec(store, "feed_settle", 4, params, err);
    PQclear(res);
    return res ? 0 : -1;
}

/* Logs ev, which consumer could not apply, and marks it failed. */
static int s_failed(kf_store_t *store, const char *consumer, const kf_event_t *ev,
                    const kf_error_t *why, kf_error_t *err)
{
    kf_error("feed.event_failed", "consumer=%s event_id=%s seq=%" PRId64 " type=%s corr=%s code=%s",
             consumer, ev->id, ev->seq, ev->type, ev->corr, kf_err_name(why->code));
    return s_settle(store, consumer, ev->id, "failed", why->message, err);
}

/* Marks count events inside the open transaction in one statement and
   copies those not marked before into fresh (count places). Returns how
   many it copied, or -1. */
static int s_mark_all(kf_store_t *store, const char *consumer, const kf_event_t *events, int count,
                      kf_event_t *fresh, kf_error_t *err)
{
    char *array = kf_event_array(events, count, KF_EVENT_ID);
    const char *params[] = {consumer, array};
    PGresult *res = kf_store_exec(store, "feed_mark_all", 2, params, err);
    free(array);
    if (!res)
        return -1;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        fresh[i] = events[atoi(PQgetvalue(res, i, 0)) - 1];
    PQclear(res);
    return n;
}

/* Applies count events inside the open transaction with apply_batch, each
   at most once; marks failed those it could not apply. Returns how many
   were applied; -1 when marking or apply_batch failed (which then wrote
   nothing for the outbox), -2 when marking one failed after that. */
static int s_apply_marked(kf_store_t *store, const char *consumer, const kf_event_t *events,
                          int count, kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    kf_event_t *fresh = (kf_event_t *)calloc((size_t)count + 1, sizeof(kf_event_t));
    kf_error_t *errors = (kf_error_t *)calloc((size_t)count + 1, sizeof(kf_error_t));
    assert(fresh && errors);
    int n = s_mark_all(store, consumer, events, count, fresh, err);
    if (n > 0 && apply_batch(store, fresh, n, errors, arg, err) != 0)
        n = -1;
    int applied = n;
    for (int i = 0; i < n && applied >= 0; i++)
        if (errors[i].code != KF_OK)
            applied = s_failed(store, consumer, &fresh[i], &errors[i], err) == 0 ? applied - 1 : -2;
    free(fresh);
    free(errors);
    return applied;
}

int kf_feed_apply_open(kf_store_t *store, const char *consumer, const kf_event_t *events, int count,
                       kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    if (kf_store_begin(store, err) != 0)
        return -1;
    int applied = s_apply_marked(store, consumer, events, count, apply_batch, arg, err);
    if (applied < 0)
        kf_store_rollback(store);
    return applied < 0 ? -1 : applied;
}

int kf_feed_apply_batch(kf_store_t *store, const char *consumer, const kf_event_t *events,
                        int count, kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    int applied = kf_feed_apply_open(store, consumer, events, count, apply_batch, arg, err);
    if (applied >= 0 && kf_store_commit(store, err) != 0) {
        kf_store_rollback(store);
        return -1;
    }
    return applied;
}

/* Applies ev inside the open transaction under a savepoint. Returns 1
   applied, 0 when apply failed (undone; why in *apply_err), -1 when the
   store is lost or unavailable (err set). */
static int s_try(kf_store_t *store, const kf_event_t *ev, kf_apply_batch_fn *apply_batch, void *arg,
                 kf_error_t *apply_err, kf_error_t *err)
{
    if (kf_store_run(store, "SAVEPOINT feed_event", err) != 0)
        return -1;
    if (s_apply_one(store, ev, apply_batch, arg, apply_err) == 0)
        return kf_store_run(store, "RELEASE SAVEPOINT feed_event", err) == 0 ? 1 : -1;
    if (apply_err->code == KF_E_UNAVAILABLE || !kf_store_connected(store)) {
        *err = *apply_err;
        return -1;
    }
    return kf_store_run(store, "ROLLBACK TO SAVEPOINT feed_event", err) == 0 ? 0 : -1;
}

/* Applies one event of a catch-up pass under a savepoint, so that an event
   that cannot be applied is recorded as failed instead of blocking the
   feed. Returns 1 applied, 0 skipped or failed, -1 when the store is lost. */
static int s_apply_saved(kf_store_t *store, const char *consumer, const kf_event_t *ev,
                         kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    int fresh = s_mark(store, consumer, ev->id, NULL, NULL, err);
    if (fresh <= 0)
        return fresh;
    kf_error_t apply_err = {0};
    int rc = s_try(store, ev, apply_batch, arg, &apply_err, err);
    return rc != 0 ? rc : s_failed(store, consumer, ev, &apply_err, err);
}

/* Lowers the pass's upper bound so that it reads about max_events events:
   up to the transaction of the (max_events + 1)-th event, but always the
   whole of the first transaction, however many events it wrote. */
static int s_cap(kf_store_t *store, const char *from, char *upto, size_t upto_size,
                 const char *types, int max_events, kf_error_t *err)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", max_events);
    const char *params[] = {from, upto, limit, types};
    PGresult *res = kf_store_exec(store, "feed_cap", 4, params, err);
    if (!res)
        return -1;
    if (atoi(PQgetvalue(res, 0, 2)) > max_events) {
        uint64_t first = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        uint64_t cap = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        snprintf(upto, upto_size, "%" PRIu64, cap == first ? cap + 1 : cap);
    }
    PQclear(res);
    return 0;
}

/* Applies the events read by one pass one by one, each alone under its
   own savepoint; returns how many were applied. */
static int s_apply_rows(kf_store_t *store, const char *consumer, PGresult *rows,
                        kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    int applied = 0;
    for (int i = 0; i < PQntuples(rows); i++) {
        kf_event_t ev = kf_event_from_row(rows, i, 0);
        int rc = s_apply_saved(store, consumer, &ev, apply_batch, arg, err);
        if (rc < 0)
            return -1;
        applied += rc;
    }
    return applied;
}

/* Applies the events read by one pass with apply_batch under a savepoint;
   when that fails (but the store is there), one by one. Returns how many
   were applied. */
static int s_apply_rows_batch(kf_store_t *store, const char *consumer, PGresult *rows,
                              kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    int count = PQntuples(rows);
    kf_event_t *events = (kf_event_t *)calloc((size_t)count + 1, sizeof(kf_event_t));
    assert(events);
    for (int i = 0; i < count; i++)
        events[i] = kf_event_from_row(rows, i, 0);
    int applied = -1;
    if (kf_store_run(store, "SAVEPOINT feed_batch", err) == 0)
        applied = s_apply_marked(store, consumer, events, count, apply_batch, arg, err);
    free(events);
    if (applied >= 0)
        return kf_store_run(store, "RELEASE SAVEPOINT feed_batch", err) == 0 ? applied : -1;
    if (applied < -1 || err->code == KF_E_UNAVAILABLE || !kf_store_connected(store) ||
        kf_store_run(store, "ROLLBACK TO SAVEPOINT feed_batch", err) != 0)
        return -1;
    kf_warn("feed.batch_failed", "consumer=%s events=%d code=%s reason=\"applying one by one\"",
            consumer, count, kf_err_name(err->code));
    return s_apply_rows(store, consumer, rows, apply_batch, arg, err);
}

int kf_feed_catch_up(kf_store_t *store, const char *consumer, const char *types, int max_events,
                     kf_apply_batch_fn *apply_batch, void *arg, int *applied, kf_error_t *err)
{
    *applied = 0;
    const char *init[] = {consumer};
    PGresult *res = kf_store_exec(store, "feed_cursor_init", 1, init, err);
    if (!res)
        return -1;
    PQclear(res);
    if (kf_store_begin(store, err) != 0)
        return -1;
    res = kf_store_exec(store, "feed_lock", 1, init, err);
    if (!res)
        goto failed;
    if (PQntuples(res) == 0) { /* another instance is catching up */
        PQclear(res);
        kf_store_rollback(store);
        return 0;
    }
    char from[24], upto[24];
    snprintf(from, sizeof from, "%s", PQgetvalue(res, 0, 0));
    snprintf(upto, sizeof upto, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (s_cap(store, from, upto, sizeof upto, types, max_events, err) != 0)
        goto failed;

    const char *range[] = {from, upto, types};
    res = kf_store_exec(store, "feed_read", 3, range, err);
    if (!res)
        goto failed;
    int read = PQntuples(res);
    *applied = read > 0 ? s_apply_rows_batch(store, consumer, res, apply_batch, arg, err) : 0;
    PQclear(res);
    if (*applied < 0)
        goto failed;
    const char *advance[] = {consumer, upto};
    res = kf_store_exec(store, "feed_advance", 2, advance, err);
    if (!res)
        goto failed;
    PQclear(res);
    if (kf_store_commit(store, err) != 0)
        goto failed;
    return read;
failed:
    *applied = 0;
    kf_store_rollback(store);
    return -1;
}

/* Applies again one event marked failed: marks it applied, or keeps it
   failed with the new reason. Returns 1 applied, 0 failed again, -1 when
   the store is lost. */
static int s_retry_one(kf_store_t *store, const char *consumer, const kf_event_t *ev,
                       kf_apply_batch_fn *apply_batch, void *arg, kf_error_t *err)
{
    kf_error_t apply_err = {0};
    int rc = s_try(store, ev, apply_batch, arg, &apply_err, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        kf_info("feed.retried", "consumer=%s event_id=%s type=%s ticket=%s outcome=applied",
                consumer, ev->id, ev->type, ev->corr);
    else
        kf_warn("feed.retried", "consumer=%s event_id=%s type=%s ticket=%s outcome=failed code=%s",
                consumer, ev->id, ev->type, ev->corr, kf_err_name(apply_err.code));
    if (s_settle(store, consumer, ev->id, rc ? "applied" : "failed", rc ? NULL : apply_err.message,
                 err) != 0)
        return -1;
    return rc;
}

int kf_feed_retry_failed(kf_store_t *store, const char *consumer, const char *types, int max_events,
                         char *after, kf_apply_batch_fn *apply_batch, void *arg, int *applied,
                         kf_error_t *err)
{
    *applied = 0;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", max_events);
    if (kf_store_begin(store, err) != 0)
        return -1;
    const char *params[] = {consumer, after, types, limit};
    PGresult *res = kf_store_exec(store, "feed_failed", 4, params, err);
    if (!res)
        goto failed;
    int read = PQntuples(res), done = 0;
    for (int i = 0; i < read && done >= 0; i++) {
        kf_event_t ev = kf_event_from_row(res, i, 0);
        int rc = s_retry_one(store, consumer, &ev, apply_batch, arg, err);
        done = rc < 0 ? -1 : done + rc;
    }
    char last[KF_FEED_AFTER_SIZE];
    snprintf(last, sizeof last, "%s", read > 0 ? PQgetvalue(res, read - 1, 1) : after);
    PQclear(res);
    if (done < 0 || kf_store_commit(store, err) != 0)
        goto failed;
    snprintf(after, KF_FEED_AFTER_SIZE, "%s", last);
    *applied = done;
    return read;
failed:
    kf_store_rollback(store);
    return -1;
}
