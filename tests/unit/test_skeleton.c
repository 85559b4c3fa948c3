/* kefu — unit tests of the daemon skeleton's store-free parts: the stop
   and reload signals (stop.h) and publishing after commit (outbox.h). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>
#include <libpq-fe.h>

#include "outbox.h"
#include "stop.h"

/* A result of one column of padding and the event columns after it: n
   rows, of which row i carries no event (NULLs) when i is in skip. */
static PGresult *s_rows(int n, int skip)
{
    static const char *const names[] = {"pad", "seq", "id", "type", "corr", "src", "at", "body"};
    PGresAttDesc attrs[8];
    memset(attrs, 0, sizeof attrs);
    for (int c = 0; c < 8; c++) {
        attrs[c].name = (char *)names[c];
        attrs[c].typlen = -1;
    }
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(res);
    assert_int_equal(PQsetResultAttrs(res, 8, attrs), 1);
    for (int r = 0; r < n; r++) {
        char seq[16], id[40];
        snprintf(seq, sizeof seq, "%d", r + 1);
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", r + 1);
        const char *values[] = {"x", seq, id, "ticket.routed", "T1", "test", "1700000000000", "{}"};
        for (int c = 0; c < 8; c++)
            assert_int_equal(PQsetvalue(res, r, c, r == skip && c > 0 ? NULL : (char *)values[c],
                                        r == skip && c > 0 ? -1 : (int)strlen(values[c])),
                             1);
    }
    return res;
}

static int s_hook_calls, s_hook_committed;

static void s_hook(void *arg, bool committed)
{
    (void)arg;
    s_hook_calls++;
    s_hook_committed = committed;
}

/* An event counts as sent only when the bus took it: a PUSH socket with no
   peer takes nothing, a PUB socket takes everything. */
static void test_outbox_counts_what_was_sent(void **state)
{
    (void)state;
    zsock_t *push = zsock_new(ZMQ_PUSH); /* connected to no one */
    zsock_t *pub = zsock_new(ZMQ_PUB);
    kf_outbox_t *refused = kf_outbox_new(push, "test", NULL, 1);
    kf_outbox_t *taken = kf_outbox_new(pub, "test", NULL, 1);
    kf_outbox_keep(refused, s_rows(3, -1));
    assert_int_equal(kf_outbox_publish(refused), 0);
    kf_outbox_keep(taken, s_rows(3, 1)); /* row 1 carries no event */
    kf_outbox_keep(taken, NULL);         /* ignored */
    assert_int_equal(kf_outbox_publish(taken), 2);
    assert_int_equal(kf_outbox_publish(taken), 0); /* published once */
    kf_outbox_destroy(&refused);
    kf_outbox_destroy(&taken);
    assert_null(taken);
    zsock_destroy(&push);
    zsock_destroy(&pub);
}

/* What a rolled-back transaction kept is never published; the hook hears
   each transaction's fate. */
static void test_outbox_discard(void **state)
{
    (void)state;
    zsock_t *pub = zsock_new(ZMQ_PUB);
    kf_outbox_t *outbox = kf_outbox_new(pub, "test", NULL, 1);
    kf_outbox_set_hook(outbox, s_hook, NULL);
    s_hook_calls = 0;
    kf_outbox_keep(outbox, s_rows(2, -1));
    zlist_append(kf_outbox_rows(outbox), s_rows(1, -1));
    kf_outbox_discard(outbox);
    assert_int_equal(s_hook_calls, 1);
    assert_false(s_hook_committed);
    assert_int_equal(kf_outbox_publish(outbox), 0);
    assert_int_equal(s_hook_calls, 2);
    assert_true(s_hook_committed);
    kf_outbox_keep(outbox, s_rows(1, -1));
    kf_outbox_destroy(&outbox); /* frees what it kept, without the hook */
    assert_int_equal(s_hook_calls, 2);
    zsock_destroy(&pub);
}

/* SIGHUP sets the reload flag once and never stops; SIGTERM, however often
   and whether czmq has started or shut down, asks to stop and never kills. */
static void test_stop_signals(void **state)
{
    (void)state;
    kf_stop_catch();
    kf_stop_catch(); /* idempotent */
    assert_false(kf_stop_reload_taken());
    raise(SIGHUP);
    raise(SIGHUP);
    assert_true(kf_stop_reload_taken());
    assert_false(kf_stop_reload_taken());
    assert_false(kf_stop_requested());
    zsys_init();
    raise(SIGTERM);
    assert_true(kf_stop_requested());
    raise(SIGINT);
    zsys_shutdown(); /* czmq once put the default handler back here */
    raise(SIGTERM);
    raise(SIGTERM);
    assert_true(kf_stop_requested());
    assert_false(kf_stop_reload_taken());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbox_counts_what_was_sent), cmocka_unit_test(test_outbox_discard),
        cmocka_unit_test(test_stop_signals), /* last: it leaves a stop asked for */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
