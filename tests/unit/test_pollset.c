/* kefu — unit tests of a daemon loop's wait (common/pollset): czmq
   sockets and plain descriptors in one set, which were ready, an endpoint
   that is off, and a wait that times out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "pollset.h"

/* Only the items that have something to read are ready after a wait. */
static void test_ready_items(void **state)
{
    (void)state;
    zsock_t *out = zsock_new_pair("@inproc://pollset-test");
    zsock_t *in = zsock_new_pair(">inproc://pollset-test");
    zsock_t *quiet = zsock_new_pull("inproc://pollset-quiet");
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    kf_pollset_t set = {0};
    int sock = kf_pollset_sock(&set, in);
    int off = kf_pollset_fd(&set, -1);
    int still = kf_pollset_sock(&set, quiet);
    int fd = kf_pollset_fd(&set, pipe_fds[0]);
    assert_int_equal(off, -1);
    assert_int_equal(set.count, 3);
    assert_int_equal(kf_pollset_wait(&set, 0), 0); /* nothing yet */
    assert_false(kf_pollset_ready(&set, sock));
    zstr_send(out, "hello");
    assert_int_equal(write(pipe_fds[1], "x", 1), 1);
    assert_int_equal(kf_pollset_wait(&set, 1000), 2);
    assert_true(kf_pollset_ready(&set, sock));
    assert_true(kf_pollset_ready(&set, fd));
    assert_false(kf_pollset_ready(&set, still));
    assert_false(kf_pollset_ready(&set, off));
    char *text = zstr_recv(in);
    assert_string_equal(text, "hello");
    zstr_free(&text);
    assert_int_equal(kf_pollset_wait(&set, 0), 1); /* the pipe still has its byte */
    assert_false(kf_pollset_ready(&set, sock));
    assert_true(kf_pollset_ready(&set, fd));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    zsock_destroy(&quiet);
    zsock_destroy(&in);
    zsock_destroy(&out);
}

/* A wait with nothing to read ends at its timeout saying nothing came. */
static void test_timeout(void **state)
{
    (void)state;
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    kf_pollset_t set = {0};
    int fd = kf_pollset_fd(&set, pipe_fds[0]);
    assert_int_equal(kf_pollset_wait(&set, 50), 0);
    assert_false(kf_pollset_ready(&set, fd));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_items),
        cmocka_unit_test(test_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
