/* kefu — the outbox feed against concurrent, out-of-order commits (issue
   item 8c), on a real PostgreSQL given by KEFU_DATABASE_URL.

   The trap: sequence numbers are taken at insert time, not commit time, so
   an event with a lower seq can commit after a higher one has been read.
   These tests make that happen on purpose, deterministically and under
   random concurrent load, and check that every committed event is applied
   exactly once and no rolled-back event is applied at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"
#include "store.h"

static const char *s_url(void)
{
    const char *url = getenv("KEFU_DATABASE_URL");
    return url ? url : "postgresql:///kefu";
}

/* A connection for writing events by hand, outside kf_store. */
static PGconn *s_writer(void)
{
    PGconn *conn = PQconnectdb(s_url());
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    return conn;
}

static void s_sql(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

static long s_value(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long value = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return value;
}

/* Emits one test event with corr in the connection's open transaction. */
static void s_emit(PGconn *conn, const char *consumer, const char *corr)
{
    const char *params[] = {corr, consumer};
    PGresult *res = PQexecParams(conn, "SELECT kefu_emit('test.' || $2, $1, 'feed-test', '{}')", 2,
                                 NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
}

/* The effect of applying an event: one count per (consumer, corr). */
static int s_count(kf_store_t *store, const kf_event_t *ev, void *arg, kf_error_t *err)
{
    const char *params[] = {(const char *)arg, ev->corr};
    PGresult *res = kf_store_exec(store, "count", 2, params, err);
    PQclear(res);
    return res ? 0 : -1;
}

/* Applies a burst (kf_apply_batch_fn) by counting each of its events. */
static int s_apply(kf_store_t *store, const kf_event_t *events, int count, kf_error_t *errors,
                   void *arg, kf_error_t *err)
{
    (void)errors;
    for (int i = 0; i < count; i++)
        if (s_count(store, &events[i], arg, err) != 0)
            return -1;
    return 0;
}

static kf_store_t *s_consumer_store(void)
{
    kf_store_t *store = kf_store_new(s_url(), "feed-test");
    kf_feed_prepare(store);
    kf_store_statement(store, "count",
                       "INSERT INTO feed_test_applied (consumer, corr) VALUES ($1, $2) "
                       "ON CONFLICT (consumer, corr) DO UPDATE SET n = feed_test_applied.n + 1");
    assert_int_equal(kf_store_wait(store, 10000), 0);
    return store;
}

/* Catches consumer up until a pass applies nothing; returns the total. */
/* Each test's consumer reads only its own event type, test.CONSUMER. */
static const char *s_types(const char *consumer, char *buf, size_t size)
{
    snprintf(buf, size, "{test.%s}", consumer);
    return buf;
}

/* Catches consumer up until a pass reads nothing; returns how many events
   were applied. */
static int s_drain(kf_store_t *store, const char *consumer, int max_events)
{
    int total = 0, applied = 0, read;
    char types[64];
    kf_error_t err = {0};
    while ((read = kf_feed_catch_up(store, consumer, s_types(consumer, types, sizeof types),
                                    max_events, s_apply, (void *)consumer, &applied, &err)) > 0)
        total += applied;
    assert_int_equal(read, 0);
    return total;
}

/* Starts from a clean slate, so the test can run again on the same store. */
static int s_setup(void **state)
{
    PGconn *conn = s_writer();
    s_sql(conn, "DROP TABLE IF EXISTS feed_test_applied");
    s_sql(conn, "CREATE TABLE feed_test_applied (consumer text, corr text, "
                "n int NOT NULL DEFAULT 1, PRIMARY KEY (consumer, corr))");
    s_sql(conn, "DELETE FROM event WHERE type LIKE 'test.%'");
    s_sql(conn, "DELETE FROM processed_event WHERE consumer IN "
                "('late-commit', 'big-txn', 'concurrent', 'fast-path', 'batch', 'batch-fallback')");
    s_sql(conn, "DELETE FROM consumer_cursor WHERE consumer IN "
                "('late-commit', 'big-txn', 'concurrent', 'fast-path', 'batch', 'batch-fallback')");
    PQfinish(conn);
    kf_log_init("feed-test", "warn");
    return 0;
}

/* A lower seq committing after a higher seq was committed and read. */
static void test_late_commit_is_not_skipped(void **state)
{
    const char *consumer = "late-commit";
    kf_store_t *store = s_consumer_store();
    PGconn *early = s_writer(), *late = s_writer();
    s_sql(early, "BEGIN");
    s_emit(early, consumer, "first-seq");
    s_sql(late, "BEGIN");
    s_emit(late, consumer, "second-seq");
    s_sql(late, "COMMIT");
    /* second-seq is committed, first-seq is not: a seq cursor would now
       move past first-seq for good. */
    s_drain(store, consumer, 50);
    s_sql(early, "COMMIT");
    s_drain(store, consumer, 50);
    PGconn *check = s_writer();
    assert_int_equal(s_value(check, "SELECT count(*) FROM feed_test_applied "
                                    "WHERE consumer = 'late-commit' AND n = 1"),
                     2);
    assert_int_equal(s_value(check, "SELECT count(*) FROM feed_test_applied "
                                    "WHERE consumer = 'late-commit' AND n <> 1"),
                     0);
    PQfinish(check);
    PQfinish(early);
    PQfinish(late);
    kf_store_destroy(&store);
}

/* A transaction holding more events than a pass's limit is taken whole,
   and a rolled-back event is never applied. */
static void test_big_transaction_and_rollback(void **state)
{
    const char *consumer = "big-txn";
    kf_store_t *store = s_consumer_store();
    PGconn *conn = s_writer();
    s_sql(conn, "BEGIN");
    char corr[32];
    for (int i = 0; i < 40; i++) {
        snprintf(corr, sizeof corr, "big-%d", i);
        s_emit(conn, consumer, corr);
    }
    s_sql(conn, "COMMIT");
    s_sql(conn, "BEGIN");
    s_emit(conn, consumer, "rolled-back");
    s_sql(conn, "ROLLBACK");
    assert_int_equal(s_drain(store, consumer, 5), 40);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM feed_test_applied "
                                   "WHERE consumer = 'big-txn' AND corr = 'rolled-back'"),
                     0);
    PQfinish(conn);
    kf_store_destroy(&store);
}

#define WRITERS 6
#define EVENTS_PER_WRITER 150

typedef struct {
    int index;
    const char *consumer;
} s_writer_arg_t;

/* Writes events in transactions of random size and duration; about one
   in ten rolls back. Transactions overlap, so commit order differs from
   seq order all the time. */
static void *s_writer_thread(void *arg_)
{
    s_writer_arg_t *arg = (s_writer_arg_t *)arg_;
    PGconn *conn = PQconnectdb(s_url());
    unsigned seed = (unsigned)arg->index * 7919u;
    char corr[48];
    for (int i = 0; i < EVENTS_PER_WRITER;) {
        PQclear(PQexec(conn, "BEGIN"));
        int size = 1 + (int)(rand_r(&seed) % 4);
        bool rollback = rand_r(&seed) % 10 == 0;
        for (int k = 0; k < size && i < EVENTS_PER_WRITER; k++, i++) {
            snprintf(corr, sizeof corr, "%s-%d-%d", rollback ? "rb" : "ok", arg->index, i);
            const char *params[] = {corr, arg->consumer};
            PQclear(PQexecParams(conn, "SELECT kefu_emit('test.' || $2, $1, 'feed-test', '{}')", 2,
                                 NULL, params, NULL, NULL, 0));
            zclock_sleep((int)(rand_r(&seed) % 3));
        }
        PQclear(PQexec(conn, rollback ? "ROLLBACK" : "COMMIT"));
    }
    PQfinish(conn);
    return NULL;
}

typedef struct {
    const char *consumer;
    volatile int *stop;
} s_reader_arg_t;

/* Catches up continuously while the writers run, as a daemon does. */
static void *s_reader_thread(void *arg_)
{
    s_reader_arg_t *arg = (s_reader_arg_t *)arg_;
    kf_store_t *store = s_consumer_store();
    kf_error_t err = {0};
    char types[64];
    int applied;
    while (!*arg->stop)
        if (kf_feed_catch_up(store, arg->consumer, s_types(arg->consumer, types, sizeof types), 7,
                             s_apply, (void *)arg->consumer, &applied, &err) <= 0)
            zclock_sleep(1);
    kf_store_destroy(&store);
    return NULL;
}

/* Random concurrent writers, two concurrent catch-up readers of the same
   consumer: every committed event applied once, no rolled-back one. */
static void test_concurrent_out_of_order_commits(void **state)
{
    const char *consumer = "concurrent";
    volatile int stop = 0;
    pthread_t writers[WRITERS], readers[2];
    s_writer_arg_t writer_args[WRITERS];
    s_reader_arg_t reader_arg = {consumer, &stop};
    for (int i = 0; i < 2; i++)
        pthread_create(&readers[i], NULL, s_reader_thread, &reader_arg);
    for (int i = 0; i < WRITERS; i++) {
        writer_args[i] = (s_writer_arg_t){i, consumer};
        pthread_create(&writers[i], NULL, s_writer_thread, &writer_args[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(writers[i], NULL);
    stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);

    kf_store_t *store = s_consumer_store();
    s_drain(store, consumer, 50);
    kf_store_destroy(&store);
    PGconn *check = s_writer();
    long committed = s_value(check, "SELECT count(*) FROM event WHERE type = 'test.concurrent'");
    long applied_once = s_value(check, "SELECT count(*) FROM feed_test_applied "
                                       "WHERE consumer = 'concurrent' AND n = 1");
    long applied_twice = s_value(check, "SELECT count(*) FROM feed_test_applied "
                                        "WHERE consumer = 'concurrent' AND n > 1");
    long rolled_back = s_value(check, "SELECT count(*) FROM feed_test_applied "
                                      "WHERE consumer = 'concurrent' AND corr LIKE 'rb-%'");
    long missing = s_value(check, "SELECT count(*) FROM event e WHERE type = 'test.concurrent' "
                                  "AND NOT EXISTS (SELECT 1 "
                                  "FROM feed_test_applied a WHERE a.consumer = 'concurrent' "
                                  "AND a.corr = e.corr)");
    PQfinish(check);
    print_message("committed=%ld applied_once=%ld twice=%ld missing=%ld\n", committed, applied_once,
                  applied_twice, missing);
    assert_true(committed > WRITERS * EVENTS_PER_WRITER / 2);
    assert_int_equal(missing, 0);
    assert_int_equal(applied_twice, 0);
    assert_int_equal(rolled_back, 0);
    assert_int_equal(applied_once, committed);
}

/* The fast path and catch-up racing for the same events apply each once. */
static void test_fast_path_and_catch_up(void **state)
{
    const char *consumer = "fast-path";
    kf_store_t *fast = s_consumer_store();
    kf_store_t *slow = s_consumer_store();
    PGconn *conn = s_writer();
    s_sql(conn, "BEGIN");
    for (int i = 0; i < 20; i++) {
        char corr[16];
        snprintf(corr, sizeof corr, "fp-%d", i);
        s_emit(conn, consumer, corr);
    }
    s_sql(conn, "COMMIT");
    PGresult *rows = PQexec(conn, "SELECT id, corr FROM event WHERE type = 'test.fast-path' "
                                  "ORDER BY seq");
    assert_int_equal(PQntuples(rows), 20);
    kf_error_t err = {0};
    for (int i = 0; i < 20; i += 2) { /* the doorbell delivered every other event */
        kf_event_t ev = {
            .id = PQgetvalue(rows, i, 0), .type = "test.fast-path", .corr = PQgetvalue(rows, i, 1)};
        assert_int_equal(kf_feed_apply(fast, consumer, &ev, s_apply, (void *)consumer, &err), 1);
    }
    assert_int_equal(s_drain(slow, consumer, 50), 10);
    kf_event_t again = {
        .id = PQgetvalue(rows, 0, 0), .type = "test.fast-path", .corr = PQgetvalue(rows, 0, 1)};
    assert_int_equal(kf_feed_apply(fast, consumer, &again, s_apply, (void *)consumer, &err), 0);
    PQclear(rows);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM feed_test_applied "
                                   "WHERE consumer = 'fast-path' AND n = 1"),
                     20);
    PQfinish(conn);
    kf_store_destroy(&fast);
    kf_store_destroy(&slow);
}

/* A burst applied set-based (kf_apply_batch_fn): the events whose corr
   ends in an odd digit cannot be applied; the others are counted. */
static int s_apply_batch(kf_store_t *store, const kf_event_t *events, int count, kf_error_t *errors,
                         void *arg, kf_error_t *err)
{
    for (int i = 0; i < count; i++) {
        int digit = events[i].corr[strlen(events[i].corr) - 1] - '0';
        if (digit % 2)
            kf_error_set(&errors[i], KF_E_NOT_FOUND, "corr", "odd %s", events[i].corr);
        else if (s_count(store, &events[i], arg, err) != 0)
            return -1;
    }
    return 0;
}

/* A set-based apply whose statement fails for any burst of more than one
   event; an event alone (a burst of one) it counts. */
static int s_apply_batch_broken(kf_store_t *store, const kf_event_t *events, int count,
                                kf_error_t *errors, void *arg, kf_error_t *err)
{
    if (count > 1)
        return kf_store_run(store, "SELECT 1/0", err);
    return s_apply(store, events, count, errors, arg, err);
}

/* Emits count events test.consumer in one transaction and returns their
   ids and corrs ("c-0" ...), in seq order. */
static PGresult *s_emit_burst(PGconn *conn, const char *consumer, int count)
{
    s_sql(conn, "BEGIN");
    for (int i = 0; i < count; i++) {
        char corr[16];
        snprintf(corr, sizeof corr, "c-%d", i);
        s_emit(conn, consumer, corr);
    }
    s_sql(conn, "COMMIT");
    const char *params[] = {consumer};
    PGresult *rows = PQexecParams(conn,
                                  "SELECT id, corr FROM event WHERE type = 'test.' || $1 "
                                  "ORDER BY seq",
                                  1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQntuples(rows), count);
    return rows;
}

/* A burst applied set-based: events applied before (by catch-up) and an
   event given twice are applied once; those that cannot be applied are
   marked failed without failing the rest; applying it again does nothing. */
static void test_batch_marks_and_failures(void **state)
{
    const char *consumer = "batch";
    kf_store_t *store = s_consumer_store();
    PGconn *conn = s_writer();
    PGresult *rows = s_emit_burst(conn, consumer, 10);
    kf_event_t burst[11];
    for (int i = 0; i < 10; i++)
        burst[i] = (kf_event_t){
            .id = PQgetvalue(rows, i, 0), .type = "test.batch", .corr = PQgetvalue(rows, i, 1)};
    burst[10] = burst[2]; /* the doorbell rang twice */
    kf_error_t err = {0};
    for (int i = 0; i < 2; i++) /* catch-up was first to these */
        assert_int_equal(kf_feed_apply(store, consumer, &burst[i], s_apply, (void *)consumer, &err),
                         1);
    /* fresh: c-2 .. c-9; c-3, c-5, c-7, c-9 fail */
    assert_int_equal(
        kf_feed_apply_batch(store, consumer, burst, 11, s_apply_batch, (void *)consumer, &err), 4);
    assert_int_equal(
        kf_feed_apply_batch(store, consumer, burst, 11, s_apply_batch, (void *)consumer, &err), 0);
    int applied = -1;
    char types[64];
    assert_int_equal(kf_feed_catch_up(store, consumer, s_types(consumer, types, sizeof types), 50,
                                      s_apply_batch, (void *)consumer, &applied, &err),
                     10);
    assert_int_equal(applied, 0);
    PQclear(rows);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM feed_test_applied "
                                   "WHERE consumer = 'batch' AND n = 1 "
                                   "AND corr IN ('c-0', 'c-1', 'c-2', 'c-4', 'c-6', 'c-8')"),
                     6);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM feed_test_applied "
                                   "WHERE consumer = 'batch'"),
                     6);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM processed_event p "
                                   "JOIN event e ON e.id = p.event_id WHERE p.consumer = 'batch' "
                                   "AND p.outcome = 'failed' AND p.error = 'odd ' || e.corr "
                                   "AND e.corr IN ('c-3', 'c-5', 'c-7', 'c-9')"),
                     4);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM processed_event "
                                   "WHERE consumer = 'batch' AND outcome = 'applied'"),
                     6);
    PQfinish(conn);
    kf_store_destroy(&store);
}

/* When a pass's set-based apply fails, catch-up applies its events one by
   one instead, each once, and moves on. */
static void test_batch_failure_falls_back(void **state)
{
    const char *consumer = "batch-fallback";
    kf_store_t *store = s_consumer_store();
    PGconn *conn = s_writer();
    PQclear(s_emit_burst(conn, consumer, 5));
    kf_error_t err = {0};
    int applied = -1, total = 0, read;
    char types[64];
    while ((read = kf_feed_catch_up(store, consumer, s_types(consumer, types, sizeof types), 50,
                                    s_apply_batch_broken, (void *)consumer, &applied, &err)) > 0)
        total += applied;
    assert_int_equal(read, 0);
    assert_int_equal(total, 5);
    assert_int_equal(s_value(conn, "SELECT count(*) FROM feed_test_applied "
                                   "WHERE consumer = 'batch-fallback' AND n = 1"),
                     5);
    PQfinish(conn);
    kf_store_destroy(&store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_commit_is_not_skipped),
        cmocka_unit_test(test_big_transaction_and_rollback),
        cmocka_unit_test(test_fast_path_and_catch_up),
        cmocka_unit_test(test_concurrent_out_of_order_commits),
        cmocka_unit_test(test_batch_marks_and_failures),
        cmocka_unit_test(test_batch_failure_falls_back),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
