/* kefu — integration test: bad requests thrown at kefu-survey's ROUTER.

   Run by test_survey_bad.sh, which starts the daemons, logs one routed
   (unresolved) ticket and passes KEFU_SURVEY (the endpoint) and
   SURVEY_OPEN_TICKET. Each case sends one bad request and asserts the exact
   reply.error code (common/kf_error.h) and field; after all of them
   kefu-survey must still answer a good request, on the same socket and on
   a new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>

#include "envelope.h"

#define REPLY_MS 5000

static const char *s_endpoint;
static const char *s_open_ticket;
static zsock_t *s_sock;

/* A reply's type, code and field. */
typedef struct {
    char type[32];
    char code[32];
    char field[48];
    char message[256];
} reply_t;

static zsock_t *s_dealer(void)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, REPLY_MS);
    assert_int_equal(zsock_connect(sock, "%s", s_endpoint), 0);
    return sock;
}

static void s_recv(zsock_t *sock, reply_t *r, bool delimited)
{
    memset(r, 0, sizeof *r);
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        fail_msg("no reply from kefu-survey within %d ms", REPLY_MS);
    if (delimited) {
        zframe_t *delimiter = zmsg_pop(msg);
        assert_int_equal(zframe_size(delimiter), 0);
        zframe_destroy(&delimiter);
    }
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    if (!env)
        fail_msg("the reply does not decode: %s", err.message);
    snprintf(r->type, sizeof r->type, "%s", kf_env_type(env));
    const msgpack_object *body = kf_env_body(env);
    kf_get_str(body, "code", false, r->code, sizeof r->code, &err);
    kf_get_str(body, "field", false, r->field, sizeof r->field, &err);
    kf_get_str(body, "message", false, r->message, sizeof r->message, &err);
    kf_env_destroy(&env);
}

/* Sends type with body (taken) and expects reply.error code on field. */
static void s_expect(const char *type, kf_body_t *body, const char *code, const char *field)
{
    zmsg_t *msg = kf_env_encode(type, NULL, 0, 0, "survey-bad-test", "", &body);
    assert_int_equal(zmsg_send(&msg, s_sock), 0);
    reply_t r;
    s_recv(s_sock, &r, false);
    if (strcmp(r.type, "reply.error") != 0 || strcmp(r.code, code) != 0 ||
        (field && strcmp(r.field, field) != 0))
        fail_msg("%s: expected %s on %s, got %s %s on %s (%s)", type, code, field ? field : "-",
                 r.type, r.code, r.field, r.message);
}

/* A body with actor (NULL: none) and ticket (NULL: none). */
static kf_body_t *s_body(const char *actor, const char *ticket)
{
    kf_body_t *body = kf_body_new();
    if (actor)
        kf_body_str(body, "actor", actor);
    if (ticket)
        kf_body_str(body, "ticket", ticket);
    return body;
}

/* An answer to the open ticket by agent.li with score (and more fields
   added by the caller). */
static kf_body_t *s_answer(int64_t score)
{
    kf_body_t *body = s_body("agent.li", s_open_ticket);
    kf_body_int(body, "score", score);
    return body;
}

static void test_frames(void **state)
{
    reply_t r;
    /* One frame: no topic and envelope. */
    zstr_send(s_sock, "garbage");
    s_recv(s_sock, &r, false);
    assert_string_equal(r.code, "bad_frame");
    /* A topic and bytes that are not msgpack. */
    zstr_sendm(s_sock, "survey.answer");
    zstr_send(s_sock, "\xc1\xc1\xc1");
    s_recv(s_sock, &r, false);
    assert_string_equal(r.code, "bad_envelope");
    /* A type the catalog does not know, and one kefu-survey does not serve. */
    s_expect("launch.missiles", s_body("agent.li", NULL), "unknown_type", NULL);
    s_expect("submit", s_body("agent.li", NULL), "unknown_type", "type");
    s_expect("ticket.resolved", s_body("agent.li", NULL), "unknown_type", "type");
    /* A REQ peer's delimiter is kept: it hears back. */
    zsock_t *req = zsock_new(ZMQ_REQ);
    zsock_set_linger(req, 0);
    zsock_set_rcvtimeo(req, REPLY_MS);
    assert_int_equal(zsock_connect(req, "%s", s_endpoint), 0);
    kf_body_t *body = s_body("agent.li", "KF-0000-000000");
    zmsg_t *msg = kf_env_encode("survey.show", NULL, 0, 0, "t", "", &body);
    assert_int_equal(zmsg_send(&msg, req), 0);
    s_recv(req, &r, false); /* the REQ socket strips the delimiter itself */
    assert_string_equal(r.code, "not_found");
    zsock_destroy(&req);
}

static void test_answer_fields(void **state)
{
    kf_body_t *body = s_body(NULL, s_open_ticket);
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "missing_field", "actor");
    body = s_body("agent.li", NULL);
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "missing_field", "ticket");
    s_expect("survey.answer", s_body("agent.li", s_open_ticket), "missing_field", "score");
    s_expect("survey.answer", s_answer(0), "bad_value", "score");
    s_expect("survey.answer", s_answer(6), "bad_value", "score");
    body = s_body("agent.li", s_open_ticket);
    kf_body_str(body, "score", "5");
    s_expect("survey.answer", body, "wrong_type", "score");
    body = s_answer(3);
    kf_body_int(body, "nps", 11);
    s_expect("survey.answer", body, "bad_value", "nps");
    body = s_answer(3);
    kf_body_int(body, "survey", 1);
    s_expect("survey.answer", body, "bad_value", "survey");
    char comment[1002];
    memset(comment, 'x', sizeof comment - 1);
    comment[sizeof comment - 1] = '\0';
    body = s_answer(3);
    kf_body_str(body, "comment", comment);
    s_expect("survey.answer", body, "too_long", "comment");
    body = s_answer(3);
    kf_body_str(body, "comment", "\xe5\x9b\xff bad bytes");
    s_expect("survey.answer", body, "bad_utf8", NULL);
}

static void test_answer_refused(void **state)
{
    kf_body_t *body = s_body("nobody.here", s_open_ticket);
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "unknown_actor", "actor");
    body = s_body("eng.zhao", s_open_ticket); /* role staff: judged, not judging */
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "forbidden", "actor");
    body = s_body("agent.li", "KF-1999-999999");
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "not_found", "ticket");
    /* A ticket never resolved has no survey to answer. */
    s_expect("survey.answer", s_answer(3), "conflict", "ticket");
    body = s_body("agent.li", NULL);
    kf_body_int(body, "survey", 987654321);
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "not_found", "survey");
}

static void test_campaign(void **state)
{
    kf_body_t *body = s_body("admin", NULL);
    kf_body_str(body, "project", "HZ-XH");
    kf_body_str(body, "milestone", "moving-day");
    s_expect("survey.campaign", body, "bad_value", "milestone");
    body = s_body("admin", NULL);
    kf_body_str(body, "project", "NO-SUCH");
    kf_body_str(body, "milestone", "move-in");
    s_expect("survey.campaign", body, "not_found", "project");
    body = s_body("agent.li", NULL);
    kf_body_str(body, "project", "HZ-XH");
    kf_body_str(body, "milestone", "move-in");
    s_expect("survey.campaign", body, "forbidden", "actor");
    body = s_body("admin", NULL);
    kf_body_str(body, "project", "HZ-XH");
    kf_body_str(body, "milestone", "move-in");
    kf_body_str(body, "kind", "resolution");
    s_expect("survey.campaign", body, "bad_value", "kind");
    s_expect("survey.show", s_body("agent.li", "KF-1999-999999"), "not_found", "ticket");
}

/* After all that, a good request is answered on the same socket and on a
   new one. */
static void test_still_serving(void **state)
{
    zsock_t *socks[] = {s_sock, s_dealer()};
    for (int i = 0; i < 2; i++) {
        kf_body_t *body = s_body("agent.li", s_open_ticket);
        zmsg_t *msg = kf_env_encode("survey.show", NULL, 0, 0, "t", "", &body);
        assert_int_equal(zmsg_send(&msg, socks[i]), 0);
        reply_t r;
        s_recv(socks[i], &r, false);
        if (strcmp(r.type, "reply.ok") != 0)
            fail_msg("a good survey.show got %s %s (%s)", r.type, r.code, r.message);
    }
    zsock_destroy(&socks[1]);
}

int main(void)
{
    s_endpoint = getenv("KEFU_SURVEY");
    s_open_ticket = getenv("SURVEY_OPEN_TICKET");
    if (!s_endpoint || !s_open_ticket) {
        fprintf(stderr, "set KEFU_SURVEY and SURVEY_OPEN_TICKET\n");
        return 2;
    }
    s_sock = s_dealer();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),         cmocka_unit_test(test_answer_fields),
        cmocka_unit_test(test_answer_refused), cmocka_unit_test(test_campaign),
        cmocka_unit_test(test_still_serving),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    zsock_destroy(&s_sock);
    return rc;
}
