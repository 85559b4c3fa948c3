/* kefu — integration test: idempotency keys belong to the sender and to
   what they sent (design.md; proto/catalog.md, submit and
   approval.request), seen from the wire.

   Run by test_idem.sh, which starts PostgreSQL, the bus, intake and
   kefu-approval and passes KEFU_INTAKE, KEFU_APPROVAL, the certificates of
   agent.li and agent.chen (IDEM_CERT_LI, IDEM_CERT_CHEN), two tickets to
   open approval requests on (IDEM_TICKET_A, IDEM_TICKET_B), a promised
   date (IDEM_PROMISED) and a word that makes this run's keys unique
   (IDEM_RUN).
   - A burst of submits sent without waiting (so that intake writes them
     in one group commit when they arrive together): the same key and
     content again is the same ticket, duplicate; the same key with other
     content is conflict on field idem naming that ticket; another key is
     another ticket; agent.chen's use of agent.li's key is agent.chen's own
     ticket.
   - approval.request: a retry is the same request with ticket, stage and
     promised_at (as the catalog promises); other content under the same
     key is conflict naming the request; agent.chen's same key opens his
     own request.
   - kefu-approval answers an envelope it refuses (v = 2) under the
     request's id. */
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

#define REPLY_MS 10000

static const char *s_intake;
static const char *s_approval;
static const char *s_cert_li;
static const char *s_cert_chen;
static const char *s_ticket_a;
static const char *s_ticket_b;
static const char *s_promised;
static const char *s_run;

/* A reply, decoded. */
typedef struct {
    char type[32];
    char corr[KF_MAX_ID + 1];
    char code[32];
    char field[48];
    char message[256];
    char ticket[40];
    bool duplicate;
    bool has_duplicate;
    int64_t request;
    int64_t stage;
    int64_t promised_at;
} reply_t;

/* A DEALER with cert, connected to endpoint. */
static zsock_t *s_connect(const char *endpoint, const char *cert)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, REPLY_MS);
    kf_error_t err = {0};
    if (kf_auth_client(sock, cert, NULL, &err) != 0)
        fail_msg("%s: %s", cert, err.message);
    assert_int_equal(zsock_connect(sock, "%s", endpoint), 0);
    return sock;
}

/* Sends type with body (taken) on sock; copies the envelope's id into id. */
static void s_send(zsock_t *sock, const char *type, kf_body_t *body, char *id)
{
    zuuid_t *uuid = zuuid_new();
    snprintf(id, KF_MAX_ID + 1, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    zmsg_t *msg = kf_env_encode(type, id, 0, 0, "idem-test", "", &body);
    assert_int_equal(zmsg_send(&msg, sock), 0);
}

/* Receives one reply; fails the test when none comes in time. */
static void s_recv(zsock_t *sock, reply_t *r, const char *what)
{
    memset(r, 0, sizeof *r);
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        fail_msg("%s: no reply within %d ms", what, REPLY_MS);
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    if (!env)
        fail_msg("%s: the reply does not decode: %s", what, err.message);
    snprintf(r->type, sizeof r->type, "%s", kf_env_type(env));
    snprintf(r->corr, sizeof r->corr, "%s", kf_env_corr(env));
    const msgpack_object *body = kf_env_body(env);
    kf_get_str(body, "code", false, r->code, sizeof r->code, &err);
    kf_get_str(body, "field", false, r->field, sizeof r->field, &err);
    kf_get_str(body, "message", false, r->message, sizeof r->message, &err);
    kf_get_str(body, "ticket", false, r->ticket, sizeof r->ticket, &err);
    r->has_duplicate = kf_get_bool(body, "duplicate", false, &r->duplicate, &err) == 1;
    kf_get_int(body, "request", false, 0, INT64_MAX, &r->request, &err);
    kf_get_int(body, "stage", false, 0, INT64_MAX, &r->stage, &err);
    kf_get_int(body, "promised_at", false, 0, INT64_MAX, &r->promised_at, &err);
    kf_env_destroy(&env);
}

/* A submit with key and summary; the rest as a leak in HZ-XH 3-1201. */
static kf_body_t *s_submit(const char *key, const char *summary)
{
    char idem[KF_MAX_ID + 1];
    snprintf(idem, sizeof idem, "%s-%s", key, s_run);
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "idem", idem);
    kf_body_str(body, "kind", "complaint");
    kf_body_str(body, "category", "leak");
    kf_body_str(body, "channel", "phone");
    kf_body_str(body, "project", "HZ-XH");
    kf_body_str(body, "building", "3");
    kf_body_str(body, "unit", "1201");
    kf_body_str(body, "phone", "13800138000");
    kf_body_str(body, "summary", summary);
    return body;
}

/* What a burst item must get: a new ticket (same_as -1), the ticket of
   item same_as as a duplicate, or conflict naming it (conflict). */
typedef struct {
    int sock; /* 0 agent.li, 1 agent.chen */
    const char *key;
    const char *summary;
    int same_as;
    bool conflict;
} s_item_t;

static void test_submit_burst(void **state)
{
    static const s_item_t items[] = {
        {0, "burst-1", "卫生间漏水", -1, false},   {0, "burst-1", "卫生间漏水", 0, false},
        {0, "burst-1", "厨房漏水", 0, true},       {0, "burst-2", "厨房漏水", -1, false},
        {0, "burst-2", "厨房漏水", 3, false},      {0, "burst-1", "卫生间漏水", 0, false},
        {1, "burst-1", "客厅没有暖气", -1, false}, {1, "burst-1", "客厅没有暖气", 6, false},
        {1, "burst-1", "卫生间漏水", 6, true},
    };
    enum { N = sizeof items / sizeof items[0] };
    zsock_t *socks[] = {s_connect(s_intake, s_cert_li), s_connect(s_intake, s_cert_chen)};
    char ids[N][KF_MAX_ID + 1];
    /* Both connections are up before the burst, so that it arrives
       together: one request each, answered (not_found). */
    for (int s = 0; s < 2; s++) {
        char id[KF_MAX_ID + 1];
        kf_body_t *body = kf_body_new();
        kf_body_str(body, "ticket", "KF-1999-999999");
        s_send(socks[s], "ticket.show", body, id);
        reply_t r;
        s_recv(socks[s], &r, "ticket.show before the burst");
        assert_string_equal(r.corr, id);
    }
    for (int i = 0; i < N; i++)
        s_send(socks[items[i].sock], "submit", s_submit(items[i].key, items[i].summary), ids[i]);
    reply_t replies[N];
    int got[2] = {0, 0};
    for (int s = 0; s < 2; s++)
        for (int n = 0; n < N; n++) {
            if (items[n].sock != s)
                continue;
            reply_t r;
            s_recv(socks[s], &r, "burst reply");
            int i = 0;
            while (i < N && strcmp(ids[i], r.corr) != 0)
                i++;
            if (i == N)
                fail_msg("a burst reply's corr '%s' names no request", r.corr);
            replies[i] = r;
            got[s]++;
        }
    for (int i = 0; i < N; i++) {
        const s_item_t *it = &items[i];
        const reply_t *r = &replies[i];
        if (it->conflict) {
            if (strcmp(r->type, "reply.error") != 0 || strcmp(r->code, "conflict") != 0 ||
                strcmp(r->field, "idem") != 0)
                fail_msg("burst item %d: expected conflict on idem, got %s %s on '%s' (%s)", i,
                         r->type, r->code, r->field, r->message);
            if (!strstr(r->message, replies[it->same_as].ticket))
                fail_msg("burst item %d: the conflict does not name %s: %s", i,
                         replies[it->same_as].ticket, r->message);
        } else {
            if (strcmp(r->type, "reply.ok") != 0)
                fail_msg("burst item %d: %s %s (%s)", i, r->type, r->code, r->message);
            assert_true(r->has_duplicate);
            if (r->duplicate != (it->same_as >= 0))
                fail_msg("burst item %d: duplicate is %d", i, r->duplicate);
            if (it->same_as >= 0 && strcmp(r->ticket, replies[it->same_as].ticket) != 0)
                fail_msg("burst item %d: ticket %s, expected %s", i, r->ticket,
                         replies[it->same_as].ticket);
        }
        print_message("    burst %d %-10s %s -> %s %s%s\n", i, it->sock ? "agent.chen" : "agent.li",
                      it->key, r->type, r->ticket[0] ? r->ticket : r->code,
                      r->duplicate ? " (duplicate)" : "");
    }
    /* New tickets are new: agent.chen's key is not agent.li's. */
    assert_string_not_equal(replies[0].ticket, replies[3].ticket);
    assert_string_not_equal(replies[0].ticket, replies[6].ticket);
    zsock_destroy(&socks[0]);
    zsock_destroy(&socks[1]);
}

/* An approval.request on ticket for amount, under key. */
static kf_body_t *s_open(const char *ticket, const char *amount, const char *key)
{
    char idem[KF_MAX_ID + 1];
    snprintf(idem, sizeof idem, "%s-%s", key, s_run);
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "ticket", ticket);
    kf_body_str(body, "type", "refund");
    kf_body_str(body, "amount", amount);
    kf_body_str(body, "reason", "渗漏赔偿（幂等测试）");
    kf_body_str(body, "promised", s_promised);
    kf_body_str(body, "idem", idem);
    return body;
}

/* Sends an approval.request and returns its reply. */
static void s_request(zsock_t *sock, kf_body_t *body, reply_t *r, const char *what)
{
    char id[KF_MAX_ID + 1];
    s_send(sock, "approval.request", body, id);
    s_recv(sock, r, what);
    assert_string_equal(r->corr, id);
    print_message("    %-34s -> %s %s%s request=%lld\n", what, r->type, r->code,
                  r->duplicate ? "duplicate" : "", (long long)r->request);
}

static void test_approval_keys(void **state)
{
    zsock_t *li = s_connect(s_approval, s_cert_li);
    zsock_t *chen = s_connect(s_approval, s_cert_chen);
    reply_t first, again, other, theirs;
    s_request(li, s_open(s_ticket_a, "100", "appr-1"), &first, "agent.li requests");
    if (strcmp(first.type, "reply.ok") != 0)
        fail_msg("the first request was refused: %s (%s)", first.code, first.message);
    assert_false(first.duplicate);
    assert_string_equal(first.ticket, s_ticket_a);
    assert_int_equal(first.stage, 1);
    assert_true(first.promised_at > 0);

    /* A retry: the same request, and everything the catalog promises. */
    s_request(li, s_open(s_ticket_a, "100", "appr-1"), &again, "agent.li retries");
    assert_string_equal(again.type, "reply.ok");
    assert_true(again.duplicate);
    assert_int_equal(again.request, first.request);
    assert_string_equal(again.ticket, s_ticket_a);
    assert_int_equal(again.stage, first.stage);
    assert_int_equal(again.promised_at, first.promised_at);

    /* Other content under the same key: conflict naming the request. */
    s_request(li, s_open(s_ticket_a, "200", "appr-1"), &other, "agent.li, same key, 200 yuan");
    if (strcmp(other.type, "reply.error") != 0 || strcmp(other.code, "conflict") != 0 ||
        strcmp(other.field, "idem") != 0)
        fail_msg("other content under the same key: %s %s on '%s' (%s)", other.type, other.code,
                 other.field, other.message);
    char request[32];
    snprintf(request, sizeof request, "request %lld ", (long long)first.request);
    if (!strstr(other.message, request))
        fail_msg("the conflict does not name %s: %s", request, other.message);

    /* agent.chen's key of the same name is his own. */
    s_request(chen, s_open(s_ticket_b, "100", "appr-1"), &theirs, "agent.chen, same key");
    if (strcmp(theirs.type, "reply.ok") != 0)
        fail_msg("agent.chen's request was refused: %s (%s)", theirs.code, theirs.message);
    assert_false(theirs.duplicate);
    assert_string_equal(theirs.ticket, s_ticket_b);
    assert_true(theirs.request != first.request);
    zsock_destroy(&li);
    zsock_destroy(&chen);
}

static void s_pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void test_approval_corr(void **state)
{
    /* A v = 2 envelope: refused before its type is read, answered under
       its id. */
    static const char id[] = "idem-test-v2-0001";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    s_pack_str(&pk, "v");
    msgpack_pack_int(&pk, 2);
    s_pack_str(&pk, "type");
    s_pack_str(&pk, "approval.list");
    s_pack_str(&pk, "id");
    s_pack_str(&pk, id);
    s_pack_str(&pk, "seq");
    msgpack_pack_int(&pk, 0);
    s_pack_str(&pk, "at");
    msgpack_pack_int64(&pk, kf_now_ms());
    s_pack_str(&pk, "src");
    s_pack_str(&pk, "idem-test");
    s_pack_str(&pk, "corr");
    s_pack_str(&pk, "");
    s_pack_str(&pk, "body");
    msgpack_pack_map(&pk, 0);
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "approval.list");
    zmsg_addmem(msg, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    zsock_t *sock = s_connect(s_approval, s_cert_li);
    assert_int_equal(zmsg_send(&msg, sock), 0);
    reply_t r;
    s_recv(sock, &r, "approval: v = 2");
    assert_string_equal(r.type, "reply.error");
    assert_string_equal(r.code, "bad_version");
    assert_string_equal(r.field, "v");
    assert_string_equal(r.corr, id);
    zsock_destroy(&sock);
}

/* The value of an environment variable the test cannot run without. */
static const char *s_env(const char *name)
{
    const char *value = getenv(name);
    if (!value || !*value) {
        fprintf(stderr, "idem_client: set %s\n", name);
        exit(2);
    }
    return value;
}

int main(void)
{
    s_intake = s_env("KEFU_INTAKE");
    s_approval = s_env("KEFU_APPROVAL");
    s_cert_li = s_env("IDEM_CERT_LI");
    s_cert_chen = s_env("IDEM_CERT_CHEN");
    s_ticket_a = s_env("IDEM_TICKET_A");
    s_ticket_b = s_env("IDEM_TICKET_B");
    s_promised = s_env("IDEM_PROMISED");
    s_run = s_env("IDEM_RUN");
    zsys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_burst),
        cmocka_unit_test(test_approval_keys),
        cmocka_unit_test(test_approval_corr),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed ? 1 : 0;
}
