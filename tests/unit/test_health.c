/* kefu — unit tests of the health endpoint (libmicrohttpd run from a
   poller, as a daemon does) with a real TCP client, without a store, like
   the bus's: the metrics text, the health body, the routes, and bad or
   slow clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "health.h"

/* ---- the endpoint ------------------------------------------------------- */

static const kf_setting_t s_settings[] = {KF_SETTINGS_METRICS("0"), KF_SETTINGS_END};

typedef struct {
    kf_health_t *health;
    kf_pollset_t set;
    int http; /* the endpoint's index in set */
    int port;
} s_fixture_t;

/* A health object on a free port (a taken port leaves it off: try again),
   below the range tests/integration/lib.sh reserves ports from. */
static int s_setup(void **state)
{
    s_fixture_t *f = (s_fixture_t *)calloc(1, sizeof(s_fixture_t));
    for (int i = 0; i < 50 && f->port == 0; i++) {
        char port[8];
        snprintf(port, sizeof port, "%d", 10000 + (int)((unsigned)rand() % 5000));
        setenv("KEFU_METRICS_PORT", port, 1);
        kf_health_destroy(&f->health);
        f->health = kf_health_new("unit", s_settings, NULL);
        assert_non_null(f->health);
        f->port = kf_health_port(f->health);
    }
    assert_int_not_equal(f->port, 0);
    f->http = kf_pollset_fd(&f->set, kf_health_fd(f->health));
    assert_true(f->http >= 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    kf_health_destroy(&f->health);
    assert_null(f->health);
    free(f);
    unsetenv("KEFU_METRICS_PORT");
    return 0;
}

static int s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Waits up to ms for the endpoint, as a daemon's loop does, and serves
   what came. */
static void s_turn(s_fixture_t *f, int ms)
{
    if (kf_pollset_wait(&f->set, ms) > 0 && kf_pollset_ready(&f->set, f->http))
        kf_health_serve_fd(f->health);
}

/* Serves the endpoint until the server closes fd (bounded: 5 s); returns
   what was received, NUL-terminated (caller frees). */
static char *s_serve_until_closed(s_fixture_t *f, int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *out = (char *)calloc(1, cap);
    int64_t until = zclock_mono() + 5000;
    while (zclock_mono() < until) {
        s_turn(f, 20);
        kf_health_tick(f->health);
        ssize_t n = recv(fd, out + len, cap - len - 1, 0);
        if (n == 0)
            return out;
        if (n > 0)
            len += (size_t)n;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            return out; /* reset: closed as well */
    }
    free(out);
    fail_msg("the endpoint did not close the connection");
    return NULL;
}

/* Sends request and returns the whole response. */
static char *s_request(s_fixture_t *f, const char *request, size_t size)
{
    int fd = s_connect(f->port);
    assert_int_equal(send(fd, request, size, 0), (ssize_t)size);
    char *response = s_serve_until_closed(f, fd);
    close(fd);
    return response;
}

static char *s_get(s_fixture_t *f, const char *request)
{
    return s_request(f, request, strlen(request));
}

static void s_expect_status(char *response, const char *status_line)
{
    if (strncmp(response, status_line, strlen(status_line)) != 0)
        fail_msg("want '%s', got '%.80s'", status_line, response);
    free(response);
}

static void test_metrics_route(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    kf_health_in(f->health, "ticket.submitted", 2);
    kf_health_out(f->health, "ticket.routed", 1);
    kf_error_t err = {.code = KF_E_INTERNAL, .message = "boom"};
    kf_health_fault(f->health, "route", &err);
    kf_health_error(f->health, KF_E_BAD_UTF8);
    char *r = s_get(f, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_non_null(strstr(r, "Connection: close\r\n"));
    const char *body = strstr(r, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    const char *length = strstr(r, "Content-Length: ");
    assert_non_null(length);
    assert_int_equal(strtoul(length + 16, NULL, 10), strlen(body));
    assert_non_null(strstr(body, "# TYPE kefu_events_total counter\n"));
    assert_non_null(
        strstr(body, "kefu_events_total{type=\"ticket.submitted\",direction=\"in\"} 2\n"));
    assert_non_null(
        strstr(body, "kefu_events_total{type=\"ticket.routed\",direction=\"out\"} 1\n"));
    assert_non_null(strstr(body, "kefu_errors_total{code=\"internal\"} 1\n"));
    assert_non_null(strstr(body, "kefu_errors_total{code=\"bad_utf8\"} 1\n"));
    assert_non_null(
        strstr(body, "kefu_build_info{daemon=\"unit\",version=\"" KEFU_VERSION "\"} 1\n"));
    assert_null(strstr(body, "kefu_store_up")); /* no store, no such gauge */
    free(r);
    /* the request itself was counted */
    r = s_get(f, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, "kefu_http_requests_total{route=\"metrics\",code=\"200\"} 1\n"));
    free(r);
}

static void test_health_route(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    char *r = s_get(f, "GET /health HTTP/1.1\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(r, "{\"status\":\"ok\",\"daemon\":\"unit\",\"instance\":\""));
    assert_non_null(strstr(r, "\"version\":\"" KEFU_VERSION "\",\"uptime_s\":"));
    assert_null(strstr(r, "\"store\"")); /* a daemon without a store */
    free(r);
    /* HEAD: the headers alone */
    r = s_get(f, "HEAD /health HTTP/1.1\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_null(strstr(r, "{"));
    free(r);
}

static void test_other_answers(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    s_expect_status(s_get(f, "GET /nope HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found\r\n");
    s_expect_status(s_get(f, "GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found\r\n");
    char *r = s_get(f, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
    s_expect_status(r, "HTTP/1.1 405 Method Not Allowed\r\n");
    /* A body is not read: the answer comes at once, and closes. */
    r = s_get(f, "POST /health HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{}");
    s_expect_status(r, "HTTP/1.1 405 Method Not Allowed\r\n");
    /* Malformed requests: an error, or the close (at the deadline at the
       latest). */
    r = s_get(f, "hello\r\n\r\n");
    assert_true(r[0] == '\0' || strncmp(r, "HTTP/1.1 4", 10) == 0);
    free(r);
    r = s_get(f, "\x16\x03\x01\x00\x05hello\r\n\r\n");
    assert_true(r[0] == '\0' || strncmp(r, "HTTP/1.1 4", 10) == 0);
    free(r);
    /* A head larger than a connection may use: refused. */
    size_t size = KF_HTTP_MAX_REQUEST;
    char *big = (char *)malloc(size);
    int len = snprintf(big, size, "GET /metrics HTTP/1.1\r\nX: ");
    memset(big + len, 'a', size - (size_t)len);
    r = s_request(f, big, size);
    assert_true(r[0] == '\0' || strncmp(r, "HTTP/1.1 4", 10) == 0);
    assert_null(strstr(r, "200 OK"));
    free(r);
    free(big);
    /* and the endpoint goes on serving */
    s_expect_status(s_get(f, "GET /health HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\n");
}

/* A client that keeps sending, a byte at a time, is cut at its deadline
   (an idle timeout alone would never fire). */
static void test_slow_client(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    int fd = s_connect(f->port);
    const char *head = "GET /health HTTP/1.1\r\nX-Slow: ";
    assert_int_equal(send(fd, head, strlen(head), 0), (ssize_t)strlen(head));
    int64_t start = zclock_mono(), next = start;
    bool closed = false;
    char buf[256];
    while (!closed && zclock_mono() - start < KF_HTTP_TIMEOUT_MS + 3000) {
        s_turn(f, 20);
        kf_health_tick(f->health);
        if (zclock_mono() >= next) {
            if (send(fd, "a", 1, MSG_NOSIGNAL) != 1)
                closed = true;
            next += 200;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
    }
    close(fd);
    assert_true(closed);
    assert_true(zclock_mono() - start >= KF_HTTP_TIMEOUT_MS - 100);
    s_expect_status(s_get(f, "GET /health HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\n");
}

/* A request that arrives in pieces is answered once it is whole. */
static void test_request_in_pieces(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    int fd = s_connect(f->port);
    const char *pieces[] = {"GE", "T /hea", "lth HTTP/1.1\r", "\nHost: x\r\n", "\r\n"};
    char buf[64];
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(send(fd, pieces[i], strlen(pieces[i]), 0), (ssize_t)strlen(pieces[i]));
        for (int j = 0; j < 5; j++) {
            s_turn(f, 10);
        }
        if (i < 4) /* nothing is answered before the blank line */
            assert_int_equal(recv(fd, buf, sizeof buf, 0), -1);
    }
    char *r = s_serve_until_closed(f, fd);
    close(fd);
    s_expect_status(r, "HTTP/1.1 200 OK\r\n");
}

/* Several clients at once, some silent: each complete one is answered,
   and the daemon's turn never waits for a silent one. */
static void test_concurrent_clients(void **state)
{
    s_fixture_t *f = (s_fixture_t *)*state;
    int silent = s_connect(f->port);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = s_connect(f->port);
        const char *req = "GET /health HTTP/1.1\r\n\r\n";
        assert_int_equal(send(fds[i], req, strlen(req), 0), (ssize_t)strlen(req));
    }
    for (int i = 0; i < 8; i++) {
        char *r = s_serve_until_closed(f, fds[i]);
        close(fds[i]);
        s_expect_status(r, "HTTP/1.1 200 OK\r\n");
    }
    close(silent);
}

/* A port another process listens on leaves the endpoint off (the daemon
   goes on); an address that is not this host's is refused. */
static void test_listen_errors(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    char port[8];
    snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
    setenv("KEFU_METRICS_PORT", port, 1);
    kf_health_t *health = kf_health_new("unit", s_settings, NULL);
    assert_non_null(health);
    assert_int_equal(kf_health_port(health), 0);
    kf_health_destroy(&health);
    close(fd);
    setenv("KEFU_METRICS_BIND", "192.0.2.1", 1); /* TEST-NET-1: not ours */
    assert_null(kf_health_new("unit", s_settings, NULL));
    unsetenv("KEFU_METRICS_BIND");
    unsetenv("KEFU_METRICS_PORT");
}

int main(void)
{
    srand((unsigned)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_route, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_health_route, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_other_answers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_request_in_pieces, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_slow_client, s_setup, s_teardown),
        cmocka_unit_test(test_listen_errors),
    };
    return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
