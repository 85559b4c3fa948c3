/* kefu — integration test: hostile input thrown at intake's ROUTER socket.

   Run by test_bad_input.sh, which starts PostgreSQL, the bus, intake and
   the router and passes intake's endpoint in KEFU_INTAKE and agent.li's
   certificate in KEFU_CERT, which every client presents (common/auth.h).
   Each case sends one malformed request (built by hand with msgpack-c's
   packer where the envelope encoder cannot express the defect), asserts
   the exact reply.error code of common/kf_error.h, and then checks that
   intake still serves a good submit, on the same socket and from a new
   client. Peers that cannot say who they are (no certificate, a key
   nobody issued, another server's key, garbage instead of a handshake)
   must be refused before any request of theirs is read; a body's "actor"
   must change nothing (the script checks every ticket is agent.li's). */
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
#include "kf_model.h"

#define REPLY_MS 5000           /* how long a reply may take */
#define BAD_SUMMARY "BAD INPUT" /* the summary of every refused submit */
#define GOOD_SUMMARY "good submit after bad input"
#define V_DEFAULT INT64_MIN       /* pack v = 1 */
#define V_MISSING (INT64_MIN + 1) /* leave v out */
#define V_STRING (INT64_MIN + 2)  /* pack v = "1" */

static const char *s_endpoint;
static const char *s_cert; /* agent.li's certificate */
static char s_last_id[40]; /* id of the last request built by s_request */

/* ---- building requests by hand ---------------------------------------- */

/* One body field. kind: 's' str (len 0 = strlen), 'i' int, 'n' nil, 'b' bin,
   'x' leave the field out (in overrides), 'r' raw msgpack bytes. */
typedef struct {
    const char *key;
    char kind;
    const char *str;
    size_t len;
    int64_t num;
} field_t;

#define F_STR(k, v)                                                                                \
    {                                                                                              \
        k, 's', v, 0, 0                                                                            \
    }
#define F_INT(k, v)                                                                                \
    {                                                                                              \
        k, 'i', NULL, 0, v                                                                         \
    }
#define F_OMIT(k)                                                                                  \
    {                                                                                              \
        k, 'x', NULL, 0, 0                                                                         \
    }

static const field_t s_submit_fields[] = {
    F_STR("kind", "complaint"),    F_STR("category", "leak"),     F_STR("channel", "phone"),
    F_STR("project", "HZ-XH"),     F_STR("building", "3"),        F_STR("unit", "1201"),
    F_STR("phone", "13800138000"), F_STR("summary", BAD_SUMMARY),
};
#define SUBMIT_FIELDS (sizeof s_submit_fields / sizeof s_submit_fields[0])

/* The envelope's header fields; NULL or 0 takes the default. */
typedef struct {
    const char *topic; /* frame 1; default: type */
    const char *type;  /* default "submit" */
    int64_t v;         /* V_DEFAULT, V_MISSING, V_STRING or a number */
    const char *src;   /* default "bad-input-test" */
    size_t src_len;    /* bytes of src; 0 = strlen */
    const char *id;    /* default: a new UUID */
    size_t id_len;
} env_t;

static void s_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void s_pack_field(msgpack_packer *pk, msgpack_sbuffer *sb, const field_t *f)
{
    s_pack_str(pk, f->key, strlen(f->key));
    switch (f->kind) {
    case 's':
        s_pack_str(pk, f->str, f->len ? f->len : strlen(f->str));
        break;
    case 'i':
        msgpack_pack_int64(pk, f->num);
        break;
    case 'b':
        msgpack_pack_bin(pk, f->len);
        msgpack_pack_bin_body(pk, f->str, f->len);
        break;
    case 'r':
        msgpack_sbuffer_write(sb, f->str, f->len);
        break;
    default:
        msgpack_pack_nil(pk);
    }
}

/* Finds key in fields, or NULL. */
static const field_t *s_find(const field_t *fields, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

/* Packs a body: base with over applied (same key replaces, 'x' removes,
   new keys are appended). */
static void s_pack_body(msgpack_packer *pk, msgpack_sbuffer *sb, const field_t *base, size_t nbase,
                        const field_t *over, size_t nover)
{
    size_t count = 0;
    for (size_t i = 0; i < nbase; i++) {
        const field_t *o = s_find(over, nover, base[i].key);
        count += !(o && o->kind == 'x');
    }
    for (size_t i = 0; i < nover; i++)
        count += over[i].kind != 'x' && !s_find(base, nbase, over[i].key);
    msgpack_pack_map(pk, count);
    for (size_t i = 0; i < nbase; i++) {
        const field_t *o = s_find(over, nover, base[i].key);
        if (o && o->kind == 'x')
            continue;
        s_pack_field(pk, sb, o ? o : &base[i]);
    }
    for (size_t i = 0; i < nover; i++)
        if (over[i].kind != 'x' && !s_find(base, nbase, over[i].key))
            s_pack_field(pk, sb, &over[i]);
}

/* Packs the envelope map (all eight keys, less v when asked) into sb. */
static void s_pack_env(msgpack_sbuffer *sb, const env_t *e, const field_t *base, size_t nbase,
                       const field_t *over, size_t nover)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    const char *type = e->type ? e->type : "submit";
    const char *src = e->src ? e->src : "bad-input-test";
    if (e->id)
        snprintf(s_last_id, sizeof s_last_id, "%.*s", (int)(e->id_len ? e->id_len : strlen(e->id)),
                 e->id);
    else {
        zuuid_t *uuid = zuuid_new();
        snprintf(s_last_id, sizeof s_last_id, "%s", zuuid_str_canonical(uuid));
        zuuid_destroy(&uuid);
    }
    msgpack_pack_map(&pk, e->v == V_MISSING ? 7 : 8);
    if (e->v != V_MISSING) {
        s_pack_str(&pk, "v", 1);
        if (e->v == V_STRING)
            s_pack_str(&pk, "1", 1);
        else
            msgpack_pack_int64(&pk, e->v == V_DEFAULT ? 1 : e->v);
    }
    s_pack_str(&pk, "type", 4);
    s_pack_str(&pk, type, strlen(type));
    s_pack_str(&pk, "id", 2);
    if (e->id)
        s_pack_str(&pk, e->id, e->id_len ? e->id_len : strlen(e->id));
    else
        s_pack_str(&pk, s_last_id, strlen(s_last_id));
    s_pack_str(&pk, "seq", 3);
    msgpack_pack_int64(&pk, 0);
    s_pack_str(&pk, "at", 2);
    msgpack_pack_int64(&pk, kf_now_ms());
    s_pack_str(&pk, "src", 3);
    s_pack_str(&pk, src, e->src_len ? e->src_len : strlen(src));
    s_pack_str(&pk, "corr", 4);
    s_pack_str(&pk, "", 0);
    s_pack_str(&pk, "body", 4);
    s_pack_body(&pk, sb, base, nbase, over, nover);
}

/* A two-frame request: topic and the envelope described. */
static zmsg_t *s_request(const env_t *e, const field_t *base, size_t nbase, const field_t *over,
                         size_t nover)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    s_pack_env(&sb, e, base, nbase, over, nover);
    const char *topic = e->topic ? e->topic : e->type ? e->type : "submit";
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, topic, strlen(topic));
    zmsg_addmem(msg, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return msg;
}

/* A submit with the given overrides of the default (valid) fields. */
static zmsg_t *s_submit(const field_t *over, size_t nover)
{
    env_t e = {.v = V_DEFAULT};
    return s_request(&e, s_submit_fields, SUBMIT_FIELDS, over, nover);
}

/* The envelope frame of a message (its last frame), copied out. */
static zchunk_t *s_frame_of(zmsg_t *msg)
{
    zframe_t *frame = zmsg_last(msg);
    return zchunk_new(zframe_data(frame), zframe_size(frame));
}

/* ---- sockets and replies ------------------------------------------------ */

/* Sockets a case opened; a failed assertion leaves the case early, so the
   teardown closes what is left. */
#define MAX_SOCKS 8
static zsock_t *s_socks[MAX_SOCKS];

static zsock_t *s_track(zsock_t *sock)
{
    for (int i = 0; i < MAX_SOCKS; i++)
        if (!s_socks[i]) {
            s_socks[i] = sock;
            return sock;
        }
    fail_msg("more than %d sockets open in one case", MAX_SOCKS);
    return NULL;
}

static void s_close(zsock_t **sock_p)
{
    for (int i = 0; i < MAX_SOCKS; i++)
        if (s_socks[i] == *sock_p)
            s_socks[i] = NULL;
    zsock_destroy(sock_p);
}

static int s_teardown(void **state)
{
    for (int i = 0; i < MAX_SOCKS; i++)
        zsock_destroy(&s_socks[i]);
    return 0;
}

/* A socket of type with agent.li's certificate, connected to intake. */
static zsock_t *s_client(int type)
{
    zsock_t *sock = zsock_new(type);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, REPLY_MS);
    zsock_set_sndtimeo(sock, REPLY_MS);
    kf_error_t err = {0};
    if (kf_auth_client(sock, s_cert, NULL, &err) != 0)
        fail_msg("KEFU_CERT: %s", err.message);
    assert_int_equal(zsock_connect(sock, "%s", s_endpoint), 0);
    return s_track(sock);
}

static zsock_t *s_dealer(void)
{
    return s_client(ZMQ_DEALER);
}

static zsock_t *s_req(void)
{
    return s_client(ZMQ_REQ);
}

static void s_send(zsock_t *sock, zmsg_t **msg_p)
{
    assert_int_equal(zmsg_send(msg_p, sock), 0);
}

/* Sends raw frames (size -1 = strlen). */
static void s_send_frames(zsock_t *sock, int count, ...)
{
    va_list ap;
    va_start(ap, count);
    zmsg_t *msg = zmsg_new();
    for (int i = 0; i < count; i++) {
        const char *data = va_arg(ap, const char *);
        long size = va_arg(ap, long);
        zmsg_addmem(msg, data, size < 0 ? strlen(data) : (size_t)size);
    }
    va_end(ap);
    s_send(sock, &msg);
}

/* A decoded reply, with its body's code and ticket when present. */
typedef struct {
    char type[32];
    char corr[KF_MAX_ID + 1];
    char code[32];
    char field[64];
    char message[256];
    char ticket[40];
    bool duplicate;
    bool delimited; /* arrived behind an empty delimiter frame */
} reply_t;

/* Receives and decodes one reply; fails the test when none comes in time
   or it does not decode. */
static void s_recv(zsock_t *sock, reply_t *r, const char *what)
{
    memset(r, 0, sizeof *r);
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        fail_msg("%s: no reply from intake within %d ms", what, REPLY_MS);
    zframe_t *first = zmsg_first(msg);
    if (first && zframe_size(first) == 0 && zmsg_size(msg) == 3) {
        r->delimited = true;
        zframe_t *delimiter = zmsg_pop(msg);
        zframe_destroy(&delimiter);
    }
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    if (!env)
        fail_msg("%s: the reply does not decode: %s: %s", what, kf_err_name(err.code), err.message);
    snprintf(r->type, sizeof r->type, "%s", kf_env_type(env));
    snprintf(r->corr, sizeof r->corr, "%s", kf_env_corr(env));
    const msgpack_object *body = kf_env_body(env);
    kf_get_str(body, "code", false, r->code, sizeof r->code, &err);
    kf_get_str(body, "field", false, r->field, sizeof r->field, &err);
    kf_get_str(body, "message", false, r->message, sizeof r->message, &err);
    kf_get_str(body, "ticket", false, r->ticket, sizeof r->ticket, &err);
    kf_get_bool(body, "duplicate", false, &r->duplicate, &err);
    kf_env_destroy(&env);
}

/* Expects reply.error with code on field (NULL: any field; the names of
   proto/errors.md: a body field as it is, `summary`, a header key as it
   is, `v`). corr_known: the request's id is readable (a valid string
   within its limit), so the reply's corr must repeat it, whatever else
   is wrong with the envelope. */
static void s_expect_error_on(zsock_t *sock, const char *code, bool corr_known, const char *field,
                              const char *what)
{
    reply_t r;
    s_recv(sock, &r, what);
    if (strcmp(r.type, "reply.error") != 0)
        fail_msg("%s: expected reply.error %s, got %s (ticket %s)", what, code, r.type, r.ticket);
    if (strcmp(r.code, code) != 0)
        fail_msg("%s: expected code %s, got %s (field '%s': %s)", what, code, r.code, r.field,
                 r.message);
    if (corr_known && strcmp(r.corr, s_last_id) != 0)
        fail_msg("%s: reply corr '%s' does not repeat the request id '%s'", what, r.corr,
                 s_last_id);
    if (field && strcmp(r.field, field) != 0)
        fail_msg("%s: expected field '%s', got '%s' (%s)", what, field, r.field, r.message);
    print_message("    %-28s -> %s%s%s\n", what, r.code, r.field[0] ? " field=" : "", r.field);
}

static void s_expect_error(zsock_t *sock, const char *code, bool corr_known, const char *what)
{
    s_expect_error_on(sock, code, corr_known, NULL, what);
}

/* Sends a good submit on sock and expects its ticket. */
static void s_good_submit_on(zsock_t *sock, const char *what)
{
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "kind", "complaint");
    kf_body_str(body, "category", "leak");
    kf_body_str(body, "channel", "phone");
    kf_body_str(body, "project", "HZ-XH");
    kf_body_str(body, "phone", "13800138000");
    kf_body_str(body, "summary", GOOD_SUMMARY);
    zmsg_t *msg = kf_env_encode("submit", NULL, 0, 0, "bad-input-test", "", &body);
    char id[KF_MAX_ID + 1];
    {
        kf_error_t err;
        kf_env_t *env = kf_env_decode_msg(msg, &err);
        assert_non_null(env);
        snprintf(id, sizeof id, "%s", kf_env_id(env));
        kf_env_destroy(&env);
    }
    s_send(sock, &msg);
    reply_t r;
    s_recv(sock, &r, what);
    if (strcmp(r.type, "reply.ok") != 0)
        fail_msg("%s: good submit refused: %s %s (%s)", what, r.type, r.code, r.message);
    assert_string_equal(r.corr, id);
    if (strncmp(r.ticket, "KF-", 3) != 0)
        fail_msg("%s: good submit answered without a ticket number", what);
    assert_false(r.duplicate);
}

/* After a bad request: intake still serves a good submit on the same
   socket and from a brand-new client. */
static void s_still_serving(zsock_t *sock)
{
    if (sock)
        s_good_submit_on(sock, "good submit (same socket)");
    zsock_t *fresh = s_dealer();
    s_good_submit_on(fresh, "good submit (new client)");
    s_close(&fresh);
}

/* Sends msg on a new DEALER, expects code on field (NULL: any), then
   checks intake serves. */
static void s_case_on(zmsg_t *msg, const char *code, bool corr_known, const char *field,
                      const char *what)
{
    zsock_t *sock = s_dealer();
    s_send(sock, &msg);
    s_expect_error_on(sock, code, corr_known, field, what);
    s_still_serving(sock);
    s_close(&sock);
}

static void s_case(zmsg_t *msg, const char *code, bool corr_known, const char *what)
{
    s_case_on(msg, code, corr_known, NULL, what);
}

/* Sends the given frames on a new DEALER, expects code, checks serving. */
static void s_raw_case(const void *topic, size_t topic_size, const void *data, size_t size,
                       const char *code, const char *what)
{
    zsock_t *sock = s_dealer();
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, topic, topic_size);
    zmsg_addmem(msg, data, size);
    s_send(sock, &msg);
    s_expect_error(sock, code, false, what);
    s_still_serving(sock);
    s_close(&sock);
}

/* ---- framing ------------------------------------------------------------- */

static void test_good_submit_first(void **state)
{
    s_still_serving(NULL);
}

static void test_single_garbage_frame(void **state)
{
    zsock_t *sock = s_dealer();
    s_send_frames(sock, 1, "garbage, not kefu", -1L);
    s_expect_error(sock, "bad_frame", false, "single garbage frame");
    s_still_serving(sock);
    s_close(&sock);
}

static void test_single_empty_frame(void **state)
{
    zsock_t *sock = s_dealer();
    s_send_frames(sock, 1, "", 0L);
    s_expect_error(sock, "bad_frame", false, "single empty frame");
    s_still_serving(sock);
    s_close(&sock);
}

static void test_three_frames(void **state)
{
    zmsg_t *msg = s_submit(NULL, 0);
    zmsg_addstr(msg, "one frame too many");
    s_case(msg, "bad_frame", false, "three frames");
}

static void test_four_frames(void **state)
{
    zmsg_t *msg = s_submit(NULL, 0);
    zmsg_addstr(msg, "extra");
    zmsg_addstr(msg, "extra");
    s_case(msg, "bad_frame", false, "four frames");
}

static void test_empty_topic(void **state)
{
    zmsg_t *good = s_submit(NULL, 0);
    zchunk_t *env = s_frame_of(good);
    zmsg_destroy(&good);
    s_raw_case("", 0, zchunk_data(env), zchunk_size(env), "bad_frame", "empty topic frame");
    zchunk_destroy(&env);
}

static void test_long_topic(void **state)
{
    char topic[66];
    memset(topic, 't', 65);
    topic[65] = 0;
    env_t e = {.v = V_DEFAULT, .topic = topic};
    s_case(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "bad_frame", true,
           "65-byte topic frame");
}

static void test_empty_envelope(void **state)
{
    s_raw_case("submit", 6, "", 0, "bad_frame", "empty envelope frame");
}

/* ---- msgpack ------------------------------------------------------------- */

static void test_random_bytes(void **state)
{
    /* A fixed pseudo-random sequence (xorshift), so the case is repeatable. */
    unsigned char bytes[512];
    uint32_t x = 0x6b656675; /* "kefu" */
    for (size_t i = 0; i < sizeof bytes; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = (unsigned char)x;
    }
    s_raw_case("submit", 6, bytes, sizeof bytes, "bad_envelope", "random bytes");
}

static void test_truncated_msgpack(void **state)
{
    zmsg_t *good = s_submit(NULL, 0);
    zchunk_t *env = s_frame_of(good);
    zmsg_destroy(&good);
    s_raw_case("submit", 6, zchunk_data(env), zchunk_size(env) / 2, "bad_envelope",
               "msgpack cut in half");
    s_raw_case("submit", 6, zchunk_data(env), zchunk_size(env) - 1, "bad_envelope",
               "msgpack one byte short");
    zchunk_destroy(&env);
}

static void test_trailing_bytes(void **state)
{
    zmsg_t *good = s_submit(NULL, 0);
    zchunk_t *env = s_frame_of(good);
    zmsg_destroy(&good);
    zchunk_extend(env, "\xc0", 1);
    s_raw_case("submit", 6, zchunk_data(env), zchunk_size(env), "bad_envelope", "trailing byte");
    zchunk_destroy(&env);
}

static void test_array_not_map(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 8);
    msgpack_pack_int(&pk, 1);
    s_pack_str(&pk, "submit", 6);
    s_pack_str(&pk, "5a0f3b9e-2c1d-4e8f-9a7b-6c5d4e3f2a10", 36);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_int64(&pk, kf_now_ms());
    s_pack_str(&pk, "x", 1);
    s_pack_str(&pk, "", 0);
    msgpack_pack_map(&pk, 0);
    s_raw_case("submit", 6, sb.data, sb.size, "bad_envelope", "array instead of map");
    msgpack_sbuffer_destroy(&sb);
}

static void test_duplicate_key(void **state)
{
    zmsg_t *good = s_submit(NULL, 0);
    zchunk_t *env = s_frame_of(good);
    zmsg_destroy(&good);
    /* Bump the map header from 8 to 9 entries and repeat v = 1. */
    unsigned char *data = zchunk_data(env);
    assert_int_equal(data[0], 0x88);
    data[0] = 0x89;
    zchunk_extend(env, "\xa1v\x01", 3);
    s_raw_case("submit", 6, zchunk_data(env), zchunk_size(env), "bad_envelope", "duplicate key");
    zchunk_destroy(&env);
}

static void test_declared_huge_array(void **state)
{
    /* 5 bytes declaring a 4-billion-entry array or map. */
    s_raw_case("submit", 6, "\xdd\xff\xff\xff\xff", 5, "bad_envelope", "array32 of 2^32-1");
    s_raw_case("submit", 6, "\xdf\xff\xff\xff\xff", 5, "bad_envelope", "map32 of 2^32-1");
    /* Inside the envelope: {"v": [4294967295 items...]} */
    s_raw_case("submit", 6, "\x81\xa1v\xdd\xff\xff\xff\xff", 8, "bad_envelope", "huge array as v");
    /* Inside the body: a submit whose detail declares a huge array. */
    field_t over[] = {{"detail", 'r', "\xdd\xff\xff\xff\xff", 5, 0}};
    s_case(s_submit(over, 1), "bad_envelope", true, "huge array in body");
}

static void test_deep_nesting(void **state)
{
    /* body.x = [[[[[[1]]]]]]: six levels, the limit is four. */
    field_t over[] = {{"x", 'r', "\x91\x91\x91\x91\x91\x91\x01", 7, 0}};
    s_case_on(s_submit(over, 1), "too_long", true, "", "nesting 6 deep in body");
}

static void test_bin_value(void **state)
{
    field_t over[] = {{"summary", 'b', "\x01\x02\x03", 3, 0}};
    s_case_on(s_submit(over, 1), "wrong_type", true, "summary", "bin as summary");
}

/* ---- envelope header ------------------------------------------------------- */

static void test_version_2(void **state)
{
    env_t e = {.v = 2};
    s_case_on(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "bad_version", true, "v",
              "v = 2");
}

static void test_version_string(void **state)
{
    env_t e = {.v = V_STRING};
    s_case_on(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "bad_version", true, "v",
              "v = \"1\"");
}

static void test_version_missing(void **state)
{
    env_t e = {.v = V_MISSING};
    s_case_on(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "missing_field", true, "v",
              "v missing");
}

static void test_unknown_type(void **state)
{
    env_t e = {.v = V_DEFAULT, .type = "ticket.explode"};
    s_case_on(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "unknown_type", true, "type",
              "type ticket.explode");
}

static void test_topic_differs(void **state)
{
    env_t e = {.v = V_DEFAULT, .type = "submit", .topic = "ticket.list"};
    s_case(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "unknown_type", true,
           "topic ticket.list, type submit");
}

static void test_event_type_to_intake(void **state)
{
    /* A catalog type intake does not serve. */
    env_t e = {.v = V_DEFAULT, .type = "ticket.submitted"};
    s_case(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "unknown_type", true,
           "event type sent to intake");
}

static void test_bad_utf8_header(void **state)
{
    env_t e = {.v = V_DEFAULT, .src = "kefu\xff", .src_len = 5};
    s_case_on(s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "bad_utf8", true, "src",
              "src with byte 0xff");
    env_t e2 = {.v = V_DEFAULT, .id = "id-\xc3\x28", .id_len = 5};
    s_case_on(s_request(&e2, s_submit_fields, SUBMIT_FIELDS, NULL, 0), "bad_utf8", false, "id",
              "id with a broken sequence");
}

/* Requests in flight together on one socket, each wrong in its envelope:
   every error reply's corr names the request it answers when that
   request's id can be read (a valid string within 64 bytes), and is
   empty when it cannot; the field names the header key. */
static void test_corr_pipelined(void **state)
{
    char src[66], id[66];
    memset(src, 's', 65);
    src[65] = '\0';
    memset(id, 'i', 65);
    id[65] = '\0';
    const env_t envs[] = {
        {.v = 2},
        {.v = V_DEFAULT, .type = "ticket.explode"},
        {.v = V_DEFAULT, .src = src},
        {.v = V_MISSING},
        {.v = V_DEFAULT, .id = "id-\xc3\x28", .id_len = 5},
        {.v = 2, .id = id},
    };
    static const struct {
        const char *code, *field;
        bool readable;
    } want[] = {{"bad_version", "v", true}, {"unknown_type", "type", true},
                {"too_long", "src", true},  {"missing_field", "v", true},
                {"bad_utf8", "id", false},  {"bad_version", "v", false}};
    enum { N = sizeof envs / sizeof envs[0] };
    char ids[N][sizeof s_last_id];
    zsock_t *sock = s_dealer();
    for (int i = 0; i < N; i++) {
        zmsg_t *msg = s_request(&envs[i], s_submit_fields, SUBMIT_FIELDS, NULL, 0);
        snprintf(ids[i], sizeof ids[i], "%s", want[i].readable ? s_last_id : "");
        s_send(sock, &msg);
    }
    for (int i = 0; i < N; i++) {
        reply_t r;
        s_recv(sock, &r, "pipelined bad request");
        if (strcmp(r.type, "reply.error") != 0 || strcmp(r.code, want[i].code) != 0 ||
            strcmp(r.field, want[i].field) != 0)
            fail_msg("pipelined request %d: expected %s on %s, got %s %s on '%s'", i, want[i].code,
                     want[i].field, r.type, r.code, r.field);
        if (strcmp(r.corr, ids[i]) != 0)
            fail_msg("pipelined request %d (%s): corr '%s', expected '%s'", i, want[i].code, r.corr,
                     ids[i]);
        print_message("    %-28s -> %s corr=%s\n", "pipelined", r.code,
                      r.corr[0] ? r.corr : "\"\"");
    }
    s_still_serving(sock);
    s_close(&sock);
}

/* ---- body fields ------------------------------------------------------------- */

static void test_missing_summary(void **state)
{
    field_t over[] = {F_OMIT("summary")};
    s_case_on(s_submit(over, 1), "missing_field", true, "summary", "submit without summary");
}

static void test_blank_summary(void **state)
{
    field_t over[] = {F_STR("summary", "   ")};
    s_case(s_submit(over, 1), "bad_value", true, "blank summary");
}

static void test_kind_not_in_enum(void **state)
{
    field_t over[] = {F_STR("kind", "rant")};
    s_case_on(s_submit(over, 1), "bad_value", true, "kind", "kind rant");
}

static void test_kind_as_int(void **state)
{
    field_t over[] = {F_INT("kind", 1)};
    s_case(s_submit(over, 1), "wrong_type", true, "kind as int");
}

static void test_summary_as_int(void **state)
{
    field_t over[] = {F_INT("summary", 42)};
    s_case(s_submit(over, 1), "wrong_type", true, "summary as int");
}

static void test_limit_as_string(void **state)
{
    static const field_t list[] = {F_STR("limit", "10")};
    env_t e = {.v = V_DEFAULT, .type = "ticket.list"};
    s_case(s_request(&e, list, 1, NULL, 0), "wrong_type", true, "limit as string");
}

static void test_limit_out_of_range(void **state)
{
    static const field_t list[] = {F_INT("limit", 501)};
    env_t e = {.v = V_DEFAULT, .type = "ticket.list"};
    s_case(s_request(&e, list, 1, NULL, 0), "bad_value", true, "limit 501");
}

static void test_bad_phone(void **state)
{
    field_t over[] = {F_STR("phone", "call me maybe")};
    s_case(s_submit(over, 1), "bad_value", true, "phone that does not normalise");
}

static void test_one_mib_string(void **state)
{
    size_t size = 1024 * 1024;
    char *big = malloc(size);
    assert_non_null(big);
    memset(big, 'a', size);
    field_t over[] = {{"summary", 's', big, size, 0}};
    s_case_on(s_submit(over, 1), "too_long", true, "", "1 MiB summary");
    free(big);
}

static void test_long_strings(void **state)
{
    char summary[202], detail[9001];
    memset(summary, 's', 201);
    summary[201] = 0;
    memset(detail, 'd', 9000);
    detail[9000] = 0;
    field_t over1[] = {F_STR("summary", summary)};
    s_case_on(s_submit(over1, 1), "too_long", true, "summary", "summary of 201 bytes");
    field_t over2[] = {F_STR("detail", detail)};
    /* Over the envelope's string limit: refused by the decoder, and named
       as the service would name it. */
    s_case_on(s_submit(over2, 1), "too_long", true, "detail", "detail of 9000 bytes");
}

static void test_bad_utf8_summary(void **state)
{
    field_t cases[][1] = {
        {{"summary", 's', "\xe5\x8d", 2, 0}},                     /* truncated 卫 */
        {{"summary", 's', "ab\xc0\xafz", 5, 0}},                  /* overlong '/' */
        {{"summary", 's', "\xed\xa0\x80", 3, 0}},                 /* a surrogate */
        {{"summary", 's', "\xf4\x90\x80\x80", 4, 0}},             /* above U+10FFFF */
        {{"summary", 's', "\xe5\x8d\xab\x80\xe7\x94\x9f", 7, 0}}, /* stray continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        s_case_on(s_submit(cases[i], 1), "bad_utf8", true, "summary", "invalid UTF-8 in summary");
}

static void test_bad_utf8_key(void **state)
{
    field_t over[] = {{"\xff\xfe", 's', "x", 0, 0}};
    s_case_on(s_submit(over, 1), "bad_utf8", true, "body", "invalid UTF-8 in a body key");
}

/* ---- the store's answers ---------------------------------------------------- */

static void test_unknown_ticket(void **state)
{
    static const field_t show[] = {F_STR("ticket", "KF-1999-999999")};
    env_t e = {.v = V_DEFAULT, .type = "ticket.show"};
    s_case(s_request(&e, show, 1, NULL, 0), "not_found", true, "show an unknown ticket");
}

/* ---- finding an owner by phone, listing a page at a time -------------------- */

/* Sends one request of type with the given body on a new DEALER, expects
   reply.error code naming field (NULL: any), then checks intake serves. */
static void s_field_case(const char *type, const field_t *body, size_t nbody, const char *code,
                         const char *field, const char *what)
{
    env_t e = {.v = V_DEFAULT, .type = type};
    zsock_t *sock = s_dealer();
    zmsg_t *msg = s_request(&e, body, nbody, NULL, 0);
    s_send(sock, &msg);
    reply_t r;
    s_recv(sock, &r, what);
    if (strcmp(r.type, "reply.error") != 0 || strcmp(r.code, code) != 0)
        fail_msg("%s: expected reply.error %s, got %s %s (field '%s': %s)", what, code, r.type,
                 r.code, r.field, r.message);
    if (field && strcmp(r.field, field) != 0)
        fail_msg("%s: expected field '%s', got '%s' (%s)", what, field, r.field, r.message);
    print_message("    %-28s -> %s%s%s\n", what, r.code, r.field[0] ? " field=" : "", r.field);
    s_still_serving(sock);
    s_close(&sock);
}

static void test_owner_show_bad_phone(void **state)
{
    static const field_t none[] = {F_STR("note", "no phone here")};
    s_field_case("owner.show", none, 1, "missing_field", "phone", "owner.show without phone");
    static const field_t nil[] = {{"phone", 'n', NULL, 0, 0}};
    s_field_case("owner.show", nil, 1, "missing_field", "phone", "owner.show phone nil");
    static const field_t number[] = {F_INT("phone", 13800138000)};
    s_field_case("owner.show", number, 1, "wrong_type", "phone", "owner.show phone as int");
    static const field_t bad_utf8[] = {{"phone", 's',
                                        "138\xff\xfe"
                                        "0013",
                                        9, 0}};
    s_field_case("owner.show", bad_utf8, 1, "bad_utf8", NULL, "owner.show phone not UTF-8");
    char long_phone[34];
    memset(long_phone, '1', 33);
    long_phone[33] = 0;
    field_t too_long[] = {F_STR("phone", long_phone)};
    s_field_case("owner.show", too_long, 1, "too_long", "phone", "owner.show phone 33 bytes");
    static const field_t blank[] = {F_STR("phone", "   ")};
    s_field_case("owner.show", blank, 1, "bad_value", "phone", "owner.show phone blank");
    static const field_t words[] = {F_STR("phone", "call me maybe")};
    s_field_case("owner.show", words, 1, "bad_value", "phone", "owner.show phone not a number");
    static const field_t unknown[] = {F_STR("phone", "+86 137-0013-7000")};
    s_field_case("owner.show", unknown, 1, "not_found", "phone", "owner.show unknown phone");
}

static void test_list_bad_cursor_range(void **state)
{
    static const field_t garbage[] = {F_STR("cursor", "not-a-cursor")};
    s_field_case("ticket.list", garbage, 1, "bad_value", "cursor", "list cursor garbage");
    static const field_t zero_id[] = {F_STR("cursor", "1765012345678901.0")};
    s_field_case("ticket.list", zero_id, 1, "bad_value", "cursor", "list cursor id 0");
    static const field_t number[] = {F_INT("cursor", 42)};
    s_field_case("ticket.list", number, 1, "wrong_type", "cursor", "list cursor as int");
    char long_cursor[66];
    memset(long_cursor, '7', 65);
    long_cursor[65] = 0;
    field_t too_long[] = {F_STR("cursor", long_cursor)};
    s_field_case("ticket.list", too_long, 1, "too_long", "cursor", "list cursor 65 bytes");
    static const field_t bad_utf8[] = {{"cursor", 's', "17\xc0\xaf.4", 6, 0}};
    s_field_case("ticket.list", bad_utf8, 1, "bad_utf8", NULL, "list cursor not UTF-8");
    static const field_t phone[] = {F_STR("phone", "12345678901234567")};
    s_field_case("ticket.list", phone, 1, "bad_value", "phone", "list phone of 17 digits");
    static const field_t day[] = {F_STR("since", "2026-02-30")};
    s_field_case("ticket.list", day, 1, "bad_value", "since", "list since 2026-02-30");
    static const field_t negative[] = {F_INT("until", -1)};
    s_field_case("ticket.list", negative, 1, "bad_value", "until", "list until -1 ms");
    static const field_t empty[] = {F_INT("since", 1765000000000), F_INT("until", 1765000000000)};
    s_field_case("ticket.list", empty, 2, "bad_value", "until", "list [since, until) empty");
    static const field_t limit[] = {F_INT("limit", 101)};
    s_field_case("ticket.list", limit, 1, "bad_value", "limit", "list limit 101");
}

/* ticket.list's number and words of the summary: each bad one is refused
   with its code, naming the field, and intake keeps serving. */
static void test_list_bad_search(void **state)
{
    char long_q[KF_LIM_Q + 2];
    memset(long_q, 'x', KF_LIM_Q + 1);
    long_q[KF_LIM_Q + 1] = 0;
    field_t too_long[] = {F_STR("q", long_q)};
    s_field_case("ticket.list", too_long, 1, "too_long", "q", "list q 201 bytes");
    static const field_t bad_utf8[] = {{"q", 's', "\xe6\xbc\x8f\xff", 4, 0}}; /* 漏 and 0xff */
    s_field_case("ticket.list", bad_utf8, 1, "bad_utf8", "q", "list q not UTF-8");
    static const field_t nul[] = {{"q", 's', "a\0b", 3, 0}};
    s_field_case("ticket.list", nul, 1, "bad_value", "q", "list q holding a NUL");
    static const field_t many[] = {F_STR("q", "1 2 3 4 5 6 7 8 9")};
    s_field_case("ticket.list", many, 1, "bad_value", "q", "list q of 9 words");
    static const field_t number[] = {F_INT("q", 42)};
    s_field_case("ticket.list", number, 1, "wrong_type", "q", "list q as int");
    char long_no[KF_LIM_TICKET + 2];
    memset(long_no, '9', KF_LIM_TICKET + 1);
    long_no[KF_LIM_TICKET + 1] = 0;
    field_t no_long[] = {F_STR("no", long_no)};
    s_field_case("ticket.list", no_long, 1, "too_long", "no", "list no 33 bytes");
    static const field_t no_utf8[] = {{"no", 's', "KF-\xc0\xaf", 5, 0}};
    s_field_case("ticket.list", no_utf8, 1, "bad_utf8", "no", "list no not UTF-8");
}

/* ---- who is at the other end ------------------------------------------------ */

/* A body's "actor" is no field of any request: whoever it names, and
   whatever its type, the submit is agent.li's (the key's); the script
   checks every stored ticket's created_by. */
static void test_body_actor_ignored(void **state)
{
    field_t cases[][2] = {
        {F_STR("actor", "gm.hz"), F_STR("summary", GOOD_SUMMARY)},
        {F_STR("actor", "nobody.here"), F_STR("summary", GOOD_SUMMARY)},
        {F_INT("actor", 7), F_STR("summary", GOOD_SUMMARY)},
        {{"actor", 'n', NULL, 0, 0}, F_STR("summary", GOOD_SUMMARY)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zsock_t *sock = s_dealer();
        zmsg_t *msg = s_submit(cases[i], 2);
        s_send(sock, &msg);
        reply_t r;
        s_recv(sock, &r, "submit naming an actor");
        if (strcmp(r.type, "reply.ok") != 0)
            fail_msg("a submit whose body names an actor (case %zu) was refused: %s %s (%s)", i,
                     r.code, r.field, r.message);
        print_message("    %-28s -> %s\n", "body actor ignored", r.ticket);
        s_close(&sock);
    }
    /* Not on the other requests either. */
    static const field_t list[] = {F_STR("actor", "nobody.here"), F_INT("limit", 1)};
    env_t e = {.v = V_DEFAULT, .type = "ticket.list"};
    zsock_t *sock = s_dealer();
    zmsg_t *msg = s_request(&e, list, 2, NULL, 0);
    s_send(sock, &msg);
    reply_t r;
    s_recv(sock, &r, "list naming an actor");
    if (strcmp(r.type, "reply.ok") != 0)
        fail_msg("a list whose body names an actor was refused: %s (%s)", r.code, r.message);
    s_close(&sock);
}

/* How a refused peer presents itself. */
typedef enum {
    PEER_NO_CERT,      /* no security at all (ZMTP NULL) */
    PEER_PLAIN,        /* user name and password (ZMTP PLAIN) */
    PEER_UNREGISTERED, /* a CURVE key no operator issued, the right server key */
    PEER_WRONG_SERVER, /* agent.li's key, sealed for another server's key */
} peer_t;

/* A DEALER presenting itself as peer, watched by a monitor (returned in
   monitor_p) from before it connects. */
static zsock_t *s_peer(peer_t peer, zsock_t **monitor_p)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, 1000);
    kf_error_t err = {0};
    if (peer == PEER_PLAIN) {
        zsock_set_plain_username(sock, "agent.li");
        zsock_set_plain_password(sock, "agent.li");
    } else if (peer == PEER_UNREGISTERED) {
        zcert_t *mine = zcert_load(s_cert);
        assert_non_null(mine);
        zcert_t *stranger = zcert_new();
        zcert_apply(stranger, sock);
        zsock_set_curve_serverkey(sock, zcert_meta(mine, "server-key"));
        zcert_destroy(&stranger);
        zcert_destroy(&mine);
    } else if (peer == PEER_WRONG_SERVER) {
        zcert_t *other = zcert_new();
        if (kf_auth_client(sock, s_cert, zcert_public_txt(other), &err) != 0)
            fail_msg("KEFU_CERT: %s", err.message);
        zcert_destroy(&other);
    }
    static int monitors = 0; /* each monitor its own endpoint */
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://bad-input-monitor-%d", ++monitors);
    assert_int_equal(
        zmq_socket_monitor(zsock_resolve(sock), endpoint,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED),
        0);
    zsock_t *monitor = zsock_new(ZMQ_PAIR);
    assert_non_null(monitor);
    zsock_set_rcvtimeo(monitor, REPLY_MS);
    assert_int_equal(zsock_connect(monitor, "%s", endpoint), 0);
    *monitor_p = s_track(monitor);
    assert_int_equal(zsock_connect(sock, "%s", s_endpoint), 0);
    return s_track(sock);
}

/* The first outcome of a handshake the monitor reports, with its value
   (the ZAP status of a refused key); fails when there is none in time. */
static uint16_t s_handshake(zsock_t *monitor, uint32_t *value, const char *what)
{
    zmsg_t *event = zmsg_recv(monitor);
    if (!event)
        fail_msg("%s: no handshake outcome within %d ms", what, REPLY_MS);
    zframe_t *head = zmsg_first(event);
    uint16_t id = 0;
    *value = 0;
    if (head && zframe_size(head) == 6) {
        memcpy(&id, zframe_data(head), 2);
        memcpy(value, zframe_data(head) + 2, 4);
    }
    zmsg_destroy(&event);
    return id;
}

/* A peer intake cannot tell who it is: its handshake fails as expected
   (want: the monitor event, or 0 for any failure; want_value: its value,
   or UINT32_MAX for any), its request gets no answer, and intake serves
   the others. */
static void s_refused_peer(peer_t peer, uint16_t want, uint32_t want_value, const char *what)
{
    zsock_t *monitor = NULL;
    zsock_t *sock = s_peer(peer, &monitor);
    zmsg_t *msg = s_submit(NULL, 0);
    assert_int_equal(zmsg_send(&msg, sock), 0); /* queued until a handshake succeeds */
    uint32_t value;
    uint16_t id = s_handshake(monitor, &value, what);
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        fail_msg("%s: intake completed the handshake", what);
    if ((want && id != want) || (want_value != UINT32_MAX && value != want_value))
        fail_msg("%s: handshake event 0x%x value %u, expected 0x%x value %u", what, id, value, want,
                 want_value);
    zmsg_t *reply = zmsg_recv(sock);
    if (reply) {
        zmsg_destroy(&reply);
        fail_msg("%s: intake answered a request it could not authenticate", what);
    }
    print_message("    %-28s -> refused (event 0x%x, %u)\n", what, id, value);
    zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    s_close(&monitor);
    s_close(&sock);
    s_still_serving(NULL);
}

static void test_no_certificate(void **state)
{
    /* The mechanisms differ: intake hangs up during the greeting. */
    s_refused_peer(PEER_NO_CERT, 0, UINT32_MAX, "no certificate (NULL)");
    s_refused_peer(PEER_PLAIN, 0, UINT32_MAX, "user and password (PLAIN)");
}

static void test_unregistered_key(void **state)
{
    /* The ZAP handler's 400: no staff member holds this key. */
    s_refused_peer(PEER_UNREGISTERED, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, "a key nobody issued");
}

static void test_wrong_server_key(void **state)
{
    /* Intake cannot open a hello sealed for another key: it only hangs up. */
    s_refused_peer(PEER_WRONG_SERVER, 0, UINT32_MAX, "hello for another server");
}

/* Bytes that are no ZMTP greeting at all, from a raw TCP peer. */
static void test_garbage_handshake(void **state)
{
    static const char *const garbage[] = {
        "GET / HTTP/1.1\r\nHost: intake\r\n\r\n",
        "\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x01CURVE\xff\xff\xff\xff",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        zsock_t *raw = zsock_new(ZMQ_STREAM);
        assert_non_null(raw);
        zsock_set_linger(raw, 0);
        zsock_set_rcvtimeo(raw, REPLY_MS);
        s_track(raw);
        assert_int_equal(zsock_connect(raw, "%s", s_endpoint), 0);
        zmsg_t *hello = zmsg_recv(raw); /* [routing id, ""]: connected */
        if (!hello)
            fail_msg("raw TCP peer: no connection to intake");
        zframe_t *id = zmsg_pop(hello);
        zmsg_destroy(&hello);
        zmsg_t *msg = zmsg_new();
        zmsg_append(msg, &id);
        zmsg_addmem(msg, garbage[i], strlen(garbage[i]) + 1);
        assert_int_equal(zmsg_send(&msg, raw), 0);
        /* Whatever intake sends back (its greeting) it must not serve. */
        for (zmsg_t *back = zmsg_recv(raw); back; back = zmsg_recv(raw)) {
            zframe_t *data = zmsg_last(back);
            bool closed = zframe_size(data) == 0;
            zmsg_destroy(&back);
            if (closed)
                break;
        }
        print_message("    %-28s -> survived\n", "garbage instead of ZMTP");
        s_close(&raw);
        s_still_serving(NULL);
    }
}

static void test_unknown_project(void **state)
{
    field_t over[] = {F_STR("project", "NO-SUCH")};
    s_case(s_submit(over, 1), "not_found", true, "submit for an unknown project");
}

static void test_transfer_blank_reason(void **state)
{
    static const field_t transfer[] = {F_STR("ticket", "KF-1999-999999"), F_STR("to", "eng.liu"),
                                       F_STR("reason", " \t ")};
    env_t e = {.v = V_DEFAULT, .type = "ticket.transfer"};
    s_case(s_request(&e, transfer, 3, NULL, 0), "bad_value", true, "transfer, blank reason");
    static const field_t no_reason[] = {F_STR("ticket", "KF-1999-999999"), F_STR("to", "eng.liu")};
    s_case(s_request(&e, no_reason, 2, NULL, 0), "missing_field", true, "transfer, no reason");
}

/* ---- REQ peers: the empty delimiter frame ------------------------------------ */

static void test_req_style_on_dealer(void **state)
{
    /* ["", submit, envelope] from a DEALER, as a REQ socket would frame it:
       the reply comes back behind the same delimiter. */
    zsock_t *sock = s_dealer();
    zmsg_t *msg = s_submit((field_t[]){F_STR("summary", GOOD_SUMMARY)}, 1);
    zmsg_pushmem(msg, "", 0);
    s_send(sock, &msg);
    reply_t r;
    s_recv(sock, &r, "REQ-style good submit");
    assert_true(r.delimited);
    assert_string_equal(r.type, "reply.ok");
    assert_string_equal(r.corr, s_last_id);
    assert_int_equal(strncmp(r.ticket, "KF-", 3), 0);

    env_t e = {.v = 2};
    msg = s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0);
    zmsg_pushmem(msg, "", 0);
    s_send(sock, &msg);
    s_recv(sock, &r, "REQ-style v = 2");
    assert_true(r.delimited);
    assert_string_equal(r.type, "reply.error");
    assert_string_equal(r.code, "bad_version");
    s_still_serving(sock);
    s_close(&sock);
}

static void test_req_socket(void **state)
{
    zsock_t *sock = s_req();
    s_good_submit_on(sock, "good submit from a REQ socket");
    env_t e = {.v = V_DEFAULT, .type = "ticket.explode"};
    zmsg_t *msg = s_request(&e, s_submit_fields, SUBMIT_FIELDS, NULL, 0);
    s_send(sock, &msg);
    s_expect_error(sock, "unknown_type", false, "REQ: type ticket.explode");
    field_t over[] = {F_INT("kind", 7)};
    msg = s_submit(over, 1);
    s_send(sock, &msg);
    s_expect_error(sock, "wrong_type", true, "REQ: kind as int");
    s_good_submit_on(sock, "good submit from the same REQ socket");
    s_close(&sock);
    s_still_serving(NULL);
}

/* A REQ peer whose request has the wrong number of frames must still get
   its one reply (proto/envelope.md: exactly one reply answers each
   request); without the delimiter echoed back, its REQ socket would
   silently drop the reply and the client would hang. */
static void test_req_socket_one_frame(void **state)
{
    zsock_t *sock = s_req();
    s_send_frames(sock, 1, "garbage from a REQ peer", -1L);
    s_expect_error(sock, "bad_frame", false, "REQ: single garbage frame");
    s_close(&sock);
    s_still_serving(NULL);
}

static void test_req_socket_three_frames(void **state)
{
    zsock_t *sock = s_req();
    zmsg_t *msg = s_submit(NULL, 0);
    zmsg_addstr(msg, "one frame too many");
    s_send(sock, &msg);
    s_expect_error(sock, "bad_frame", false, "REQ: three frames");
    s_close(&sock);
    s_still_serving(NULL);
}

/* ---- many at once ---------------------------------------------------------- */

static void test_burst_of_bad_then_good(void **state)
{
    /* Bad and good requests interleaved in one burst (they may share a
       group commit): each is answered, the good ones with tickets. */
    zsock_t *sock = s_dealer();
    int bad = 0, good = 0;
    for (int i = 0; i < 50; i++) {
        zmsg_t *msg;
        if (i % 2) {
            field_t over[] = {F_STR("kind", "rant")};
            msg = s_submit(over, 1);
            bad++;
        } else {
            msg = s_submit((field_t[]){F_STR("summary", GOOD_SUMMARY)}, 1);
            good++;
        }
        s_send(sock, &msg);
        s_send_frames(sock, 1, "\x01\x02\x03", 3L);
        bad++;
    }
    int got_ok = 0, got_error = 0;
    for (int i = 0; i < good + bad; i++) {
        reply_t r;
        s_recv(sock, &r, "burst reply");
        if (strcmp(r.type, "reply.ok") == 0)
            got_ok++;
        else
            got_error++;
    }
    assert_int_equal(got_ok, good);
    assert_int_equal(got_error, bad);
    s_still_serving(sock);
    s_close(&sock);
}

int main(void)
{
    s_endpoint = getenv("KEFU_INTAKE");
    if (!s_endpoint || !*s_endpoint) {
        fprintf(stderr, "bad_input: set KEFU_INTAKE to intake's endpoint\n");
        return 2;
    }
    s_cert = getenv("KEFU_CERT");
    if (!s_cert || !*s_cert) {
        fprintf(stderr, "bad_input: set KEFU_CERT to a staff member's certificate\n");
        return 2;
    }
    zsys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_good_submit_first, s_teardown),
        cmocka_unit_test_teardown(test_single_garbage_frame, s_teardown),
        cmocka_unit_test_teardown(test_single_empty_frame, s_teardown),
        cmocka_unit_test_teardown(test_three_frames, s_teardown),
        cmocka_unit_test_teardown(test_four_frames, s_teardown),
        cmocka_unit_test_teardown(test_empty_topic, s_teardown),
        cmocka_unit_test_teardown(test_long_topic, s_teardown),
        cmocka_unit_test_teardown(test_empty_envelope, s_teardown),
        cmocka_unit_test_teardown(test_random_bytes, s_teardown),
        cmocka_unit_test_teardown(test_truncated_msgpack, s_teardown),
        cmocka_unit_test_teardown(test_trailing_bytes, s_teardown),
        cmocka_unit_test_teardown(test_array_not_map, s_teardown),
        cmocka_unit_test_teardown(test_duplicate_key, s_teardown),
        cmocka_unit_test_teardown(test_declared_huge_array, s_teardown),
        cmocka_unit_test_teardown(test_deep_nesting, s_teardown),
        cmocka_unit_test_teardown(test_bin_value, s_teardown),
        cmocka_unit_test_teardown(test_version_2, s_teardown),
        cmocka_unit_test_teardown(test_version_string, s_teardown),
        cmocka_unit_test_teardown(test_version_missing, s_teardown),
        cmocka_unit_test_teardown(test_unknown_type, s_teardown),
        cmocka_unit_test_teardown(test_topic_differs, s_teardown),
        cmocka_unit_test_teardown(test_event_type_to_intake, s_teardown),
        cmocka_unit_test_teardown(test_bad_utf8_header, s_teardown),
        cmocka_unit_test_teardown(test_corr_pipelined, s_teardown),
        cmocka_unit_test_teardown(test_missing_summary, s_teardown),
        cmocka_unit_test_teardown(test_blank_summary, s_teardown),
        cmocka_unit_test_teardown(test_kind_not_in_enum, s_teardown),
        cmocka_unit_test_teardown(test_kind_as_int, s_teardown),
        cmocka_unit_test_teardown(test_summary_as_int, s_teardown),
        cmocka_unit_test_teardown(test_limit_as_string, s_teardown),
        cmocka_unit_test_teardown(test_limit_out_of_range, s_teardown),
        cmocka_unit_test_teardown(test_bad_phone, s_teardown),
        cmocka_unit_test_teardown(test_one_mib_string, s_teardown),
        cmocka_unit_test_teardown(test_long_strings, s_teardown),
        cmocka_unit_test_teardown(test_bad_utf8_summary, s_teardown),
        cmocka_unit_test_teardown(test_bad_utf8_key, s_teardown),
        cmocka_unit_test_teardown(test_unknown_ticket, s_teardown),
        cmocka_unit_test_teardown(test_owner_show_bad_phone, s_teardown),
        cmocka_unit_test_teardown(test_list_bad_cursor_range, s_teardown),
        cmocka_unit_test_teardown(test_list_bad_search, s_teardown),
        cmocka_unit_test_teardown(test_body_actor_ignored, s_teardown),
        cmocka_unit_test_teardown(test_no_certificate, s_teardown),
        cmocka_unit_test_teardown(test_unregistered_key, s_teardown),
        cmocka_unit_test_teardown(test_wrong_server_key, s_teardown),
        cmocka_unit_test_teardown(test_garbage_handshake, s_teardown),
        cmocka_unit_test_teardown(test_unknown_project, s_teardown),
        cmocka_unit_test_teardown(test_transfer_blank_reason, s_teardown),
        cmocka_unit_test_teardown(test_req_style_on_dealer, s_teardown),
        cmocka_unit_test_teardown(test_req_socket, s_teardown),
        cmocka_unit_test_teardown(test_req_socket_one_frame, s_teardown),
        cmocka_unit_test_teardown(test_req_socket_three_frames, s_teardown),
        cmocka_unit_test_teardown(test_burst_of_bad_then_good, s_teardown),
    };
    /* BAD_INPUT_FILTER=test_kind* runs only the matching cases. */
    if (getenv("BAD_INPUT_FILTER"))
        cmocka_set_test_filter(getenv("BAD_INPUT_FILTER"));
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed ? 1 : 0;
}
