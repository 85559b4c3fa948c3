/* kefu — integration test: bad requests thrown at kefu-survey's ROUTER.

   Run by test_survey_bad.sh, which starts the daemons, logs one routed
   (unresolved) ticket and passes KEFU_SURVEY (the endpoint),
   SURVEY_OPEN_TICKET and the certificates the clients present (who acts
   is the certificate's staff member, common/auth.h): KEFU_CERT
   (agent.li's), SURVEY_CERT_ADMIN and SURVEY_CERT_STAFF (eng.zhao's, a
   plain staff member). Each case sends one bad request and asserts the
   exact reply.error code (common/kf_error.h) and field, and an envelope
   refused for its header is answered under its id (corr); a key nobody
   issued is refused at the handshake; an "actor" in a body changes
   nothing. After all of them kefu-survey must still answer a good request,
   on the same socket and on a new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>

#include "auth.h"
#include "envelope.h"

#define REPLY_MS 5000

static const char *s_endpoint;
static const char *s_open_ticket;
static const char *s_cert; /* agent.li's certificate */
static zsock_t *s_sock;    /* agent.li's connection */
static zsock_t *s_admin;   /* admin's */
static zsock_t *s_staff;   /* eng.zhao's (role staff) */

/* A reply's type, code and field. */
typedef struct {
    char type[32];
    char code[32];
    char field[48];
    char message[256];
} reply_t;

/* A DEALER (or type) connected with the certificate in cert. */
static zsock_t *s_connect(int type, const char *cert)
{
    zsock_t *sock = zsock_new(type);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, REPLY_MS);
    kf_error_t err = {0};
    if (kf_auth_client(sock, cert, NULL, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(zsock_connect(sock, "%s", s_endpoint), 0);
    return sock;
}

static zsock_t *s_dealer(void)
{
    return s_connect(ZMQ_DEALER, s_cert);
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

/* Sends type with body (taken) on sock and expects reply.error code on
   field. */
static void s_expect_on(zsock_t *sock, const char *type, kf_body_t *body, const char *code,
                        const char *field)
{
    zmsg_t *msg = kf_env_encode(type, NULL, 0, 0, "survey-bad-test", "", &body);
    assert_int_equal(zmsg_send(&msg, sock), 0);
    reply_t r;
    s_recv(sock, &r, false);
    if (strcmp(r.type, "reply.error") != 0 || strcmp(r.code, code) != 0 ||
        (field && strcmp(r.field, field) != 0))
        fail_msg("%s: expected %s on %s, got %s %s on %s (%s)", type, code, field ? field : "-",
                 r.type, r.code, r.field, r.message);
}

/* The same as agent.li. */
static void s_expect(const char *type, kf_body_t *body, const char *code, const char *field)
{
    s_expect_on(s_sock, type, body, code, field);
}

/* A body with ticket (NULL: none). */
static kf_body_t *s_body(const char *ticket)
{
    kf_body_t *body = kf_body_new();
    if (ticket)
        kf_body_str(body, "ticket", ticket);
    return body;
}

/* An answer to the open ticket with score (and more fields added by the
   caller). */
static kf_body_t *s_answer(int64_t score)
{
    kf_body_t *body = s_body(s_open_ticket);
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
    s_expect("launch.missiles", s_body(NULL), "unknown_type", NULL);
    s_expect("submit", s_body(NULL), "unknown_type", "type");
    s_expect("ticket.resolved", s_body(NULL), "unknown_type", "type");
    /* A REQ peer's delimiter is kept: it hears back. */
    zsock_t *req = s_connect(ZMQ_REQ, s_cert);
    kf_body_t *body = s_body("KF-0000-000000");
    zmsg_t *msg = kf_env_encode("survey.show", NULL, 0, 0, "t", "", &body);
    assert_int_equal(zmsg_send(&msg, req), 0);
    s_recv(req, &r, false); /* the REQ socket strips the delimiter itself */
    assert_string_equal(r.code, "not_found");
    zsock_destroy(&req);
}

static void s_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

/* Sends a survey.show envelope with v, id and src as given (each a str of
   its length) and expects reply.error code on field with corr. */
static void s_expect_corr(int64_t v, const char *id, size_t id_len, const char *src,
                          const char *code, const char *field, const char *corr)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    s_pack_str(&pk, "v", 1);
    msgpack_pack_int64(&pk, v);
    s_pack_str(&pk, "type", 4);
    s_pack_str(&pk, "survey.show", 11);
    s_pack_str(&pk, "id", 2);
    s_pack_str(&pk, id, id_len);
    s_pack_str(&pk, "seq", 3);
    msgpack_pack_int(&pk, 0);
    s_pack_str(&pk, "at", 2);
    msgpack_pack_int64(&pk, kf_now_ms());
    s_pack_str(&pk, "src", 3);
    s_pack_str(&pk, src, strlen(src));
    s_pack_str(&pk, "corr", 4);
    s_pack_str(&pk, "", 0);
    s_pack_str(&pk, "body", 4);
    msgpack_pack_map(&pk, 1);
    s_pack_str(&pk, "ticket", 6);
    s_pack_str(&pk, s_open_ticket, strlen(s_open_ticket));
    zstr_sendm(s_sock, "survey.show");
    assert_int_equal(zmq_send(zsock_resolve(s_sock), sb.data, sb.size, 0), (int)sb.size);
    msgpack_sbuffer_destroy(&sb);
    zmsg_t *msg = zmsg_recv(s_sock);
    if (!msg)
        fail_msg("no reply from kefu-survey within %d ms", REPLY_MS);
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    if (!env)
        fail_msg("the reply does not decode: %s", err.message);
    char got_code[32] = "", got_field[48] = "";
    kf_get_str(kf_env_body(env), "code", false, got_code, sizeof got_code, &err);
    kf_get_str(kf_env_body(env), "field", false, got_field, sizeof got_field, &err);
    if (strcmp(kf_env_type(env), "reply.error") != 0 || strcmp(got_code, code) != 0 ||
        strcmp(got_field, field) != 0 || strcmp(kf_env_corr(env), corr) != 0)
        fail_msg("expected %s on %s with corr '%s', got %s %s on '%s' with corr '%s'", code, field,
                 corr, kf_env_type(env), got_code, got_field, kf_env_corr(env));
    kf_env_destroy(&env);
}

/* Errors found while checking the envelope are answered under the
   request's id whenever it can be read, so a client with several requests
   in flight can tell which failed; an id that cannot be read gives "". */
static void test_corr(void **state)
{
    static const char id[] = "survey-bad-corr-1";
    char long_src[66];
    memset(long_src, 's', 65);
    long_src[65] = '\0';
    s_expect_corr(2, id, strlen(id), "t", "bad_version", "v", id);
    s_expect_corr(1, id, strlen(id), long_src, "too_long", "src", id);
    s_expect_corr(1, "id-\xc3\x28", 5, "t", "bad_utf8", "id", "");
    s_expect_corr(1, "", 0, "t", "bad_value", "id", "");
}

static void test_answer_fields(void **state)
{
    kf_body_t *body = s_body(NULL);
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "missing_field", "ticket");
    s_expect("survey.answer", s_body(s_open_ticket), "missing_field", "score");
    s_expect("survey.answer", s_answer(0), "bad_value", "score");
    s_expect("survey.answer", s_answer(6), "bad_value", "score");
    body = s_body(s_open_ticket);
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
    /* Role staff: judged, not judging; also when the body names an agent. */
    s_expect_on(s_staff, "survey.answer", s_answer(3), "forbidden", "actor");
    kf_body_t *body = s_answer(3);
    kf_body_str(body, "actor", "agent.li");
    s_expect_on(s_staff, "survey.answer", body, "forbidden", "actor");
    /* A body naming nobody is agent.li's answer all the same: refused only
       because the ticket has no survey (the conflict below). */
    body = s_answer(3);
    kf_body_str(body, "actor", "nobody.here");
    s_expect("survey.answer", body, "conflict", "ticket");
    body = s_body("KF-1999-999999");
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "not_found", "ticket");
    /* A ticket never resolved has no survey to answer. */
    s_expect("survey.answer", s_answer(3), "conflict", "ticket");
    body = s_body(NULL);
    kf_body_int(body, "survey", 987654321);
    kf_body_int(body, "score", 3);
    s_expect("survey.answer", body, "not_found", "survey");
}

/* A campaign body for project and milestone. */
static kf_body_t *s_campaign(const char *project, const char *milestone)
{
    kf_body_t *body = s_body(NULL);
    kf_body_str(body, "project", project);
    kf_body_str(body, "milestone", milestone);
    return body;
}

static void test_campaign(void **state)
{
    s_expect_on(s_admin, "survey.campaign", s_campaign("HZ-XH", "moving-day"), "bad_value",
                "milestone");
    s_expect_on(s_admin, "survey.campaign", s_campaign("NO-SUCH", "move-in"), "not_found",
                "project");
    s_expect("survey.campaign", s_campaign("HZ-XH", "move-in"), "forbidden", "actor");
    /* An agent cannot borrow the admin's rights by naming them. */
    kf_body_t *body = s_campaign("HZ-XH", "move-in");
    kf_body_str(body, "actor", "admin");
    s_expect("survey.campaign", body, "forbidden", "actor");
    body = s_campaign("HZ-XH", "move-in");
    kf_body_str(body, "kind", "resolution");
    s_expect_on(s_admin, "survey.campaign", body, "bad_value", "kind");
    s_expect("survey.show", s_body("KF-1999-999999"), "not_found", "ticket");
}

/* A key no operator issued is refused at the handshake: no request of its
   holder is read, so none is answered. */
static void test_unregistered_key(void **state)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, 1500);
    zcert_t *mine = zcert_load(s_cert);
    assert_non_null(mine);
    zcert_t *stranger = zcert_new();
    zcert_apply(stranger, sock);
    zsock_set_curve_serverkey(sock, zcert_meta(mine, "server-key"));
    zcert_destroy(&stranger);
    zcert_destroy(&mine);
    assert_int_equal(
        zmq_socket_monitor(zsock_resolve(sock), "inproc://survey-bad-monitor",
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH),
        0);
    zsock_t *monitor = zsock_new_pair(">inproc://survey-bad-monitor");
    assert_non_null(monitor);
    zsock_set_rcvtimeo(monitor, REPLY_MS);
    assert_int_equal(zsock_connect(sock, "%s", s_endpoint), 0);
    kf_body_t *body = s_answer(3);
    zmsg_t *msg = kf_env_encode("survey.answer", NULL, 0, 0, "survey-bad-test", "", &body);
    assert_int_equal(zmsg_send(&msg, sock), 0);
    zmsg_t *event = zmsg_recv(monitor);
    uint16_t id = 0;
    uint32_t value = 0;
    if (event && zframe_size(zmsg_first(event)) == 6) {
        memcpy(&id, zframe_data(zmsg_first(event)), 2);
        memcpy(&value, zframe_data(zmsg_first(event)) + 2, 4);
    }
    zmsg_destroy(&event);
    zmsg_t *reply = zmsg_recv(sock);
    bool answered = reply != NULL;
    zmsg_destroy(&reply);
    zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    zsock_destroy(&monitor);
    zsock_destroy(&sock);
    if (id != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || value != 400)
        fail_msg("an unregistered key: handshake event 0x%x status %u, expected the ZAP "
                 "handler's 400",
                 id, value);
    if (answered)
        fail_msg("kefu-survey answered a key nobody issued");
}

/* After all that, a good request is answered on the same socket and on a
   new one. */
static void test_still_serving(void **state)
{
    zsock_t *socks[] = {s_sock, s_dealer()};
    for (int i = 0; i < 2; i++) {
        kf_body_t *body = s_body(s_open_ticket);
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
    s_cert = getenv("KEFU_CERT");
    const char *admin = getenv("SURVEY_CERT_ADMIN"), *staff = getenv("SURVEY_CERT_STAFF");
    if (!s_endpoint || !s_open_ticket || !s_cert || !admin || !staff) {
        fprintf(stderr, "set KEFU_SURVEY, SURVEY_OPEN_TICKET, KEFU_CERT, SURVEY_CERT_ADMIN and "
                        "SURVEY_CERT_STAFF\n");
        return 2;
    }
    s_sock = s_dealer();
    s_admin = s_connect(ZMQ_DEALER, admin);
    s_staff = s_connect(ZMQ_DEALER, staff);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),        cmocka_unit_test(test_corr),
        cmocka_unit_test(test_answer_fields), cmocka_unit_test(test_answer_refused),
        cmocka_unit_test(test_campaign),      cmocka_unit_test(test_unregistered_key),
        cmocka_unit_test(test_still_serving),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    zsock_destroy(&s_sock);
    zsock_destroy(&s_admin);
    zsock_destroy(&s_staff);
    return rc;
}
