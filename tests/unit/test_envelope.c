/* kefu — unit tests of the envelope codec, the getters, the body builder
   and the UTF-8 check (common/envelope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"

#define ID "0b7f6a52-8c1e-4d3a-9f20-6e5d4c3b2a19"
#define AT INT64_C(1795419000123)

/* A msgpack buffer the tests write hostile envelopes into. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} buf_t;

static void s_buf_init(buf_t *b)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static void s_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void s_strn(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* Packs a map header of the seven header fields (less skip) plus extra
   entries, then the header fields of a valid `submit` request. The test
   packs the extra entries (usually "body") after. */
static void s_begin(buf_t *b, const char *skip, int extra)
{
    static const char *const names[] = {"v", "type", "id", "seq", "at", "src", "corr"};
    int n = 7 + extra;
    for (int i = 0; i < 7; i++)
        if (skip && strcmp(skip, names[i]) == 0)
            n--;
    msgpack_pack_map(&b->pk, (size_t)n);
    for (int i = 0; i < 7; i++) {
        if (skip && strcmp(skip, names[i]) == 0)
            continue;
        s_str(&b->pk, names[i]);
        switch (i) {
        case 0:
            msgpack_pack_int(&b->pk, 1);
            break;
        case 1:
            s_str(&b->pk, "submit");
            break;
        case 2:
            s_str(&b->pk, ID);
            break;
        case 3:
            msgpack_pack_int(&b->pk, 0);
            break;
        case 4:
            msgpack_pack_int64(&b->pk, AT);
            break;
        case 5:
            s_str(&b->pk, "kefu-cli");
            break;
        default:
            s_str(&b->pk, "");
        }
    }
}

/* Decodes b with topic; returns the error code (KF_OK when it decoded)
   and copies the error's field into field when not NULL. */
static kf_err_t s_decode_as(buf_t *b, const char *topic, char *field)
{
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode(topic, strlen(topic), b->sb.data, b->sb.size, &err);
    msgpack_sbuffer_destroy(&b->sb);
    if (env) {
        kf_env_destroy(&env);
        assert_null(env);
        return KF_OK;
    }
    assert_int_not_equal(err.code, KF_OK);
    assert_true(strlen(err.message) > 0);
    if (field)
        strcpy(field, err.field);
    return err.code;
}

static kf_err_t s_decode(buf_t *b, char *field)
{
    return s_decode_as(b, "submit", field);
}

/* ---- round trip ---------------------------------------------------- */

static void test_round_trip(void **state)
{
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "summary", "卫生间天花板漏水");
    kf_body_str(body, "detail", NULL);
    kf_body_int(body, "count", -42);
    kf_body_int(body, "big", INT64_MAX);
    kf_body_bool(body, "duplicate", true);
    kf_body_nil(body, "gone");
    kf_body_t *child = kf_body_new();
    kf_body_str(child, "name", "张伟");
    kf_body_map(body, "owner", &child);
    assert_null(child);
    kf_body_t *items[2] = {kf_body_new(), kf_body_new()};
    kf_body_str(items[0], "action", "submitted");
    kf_body_int(items[1], "level", 2);
    kf_body_array(body, "history", items, 2);
    assert_null(items[0]);
    assert_null(items[1]);
    assert_int_equal(kf_body_count(body), 8);

    zmsg_t *msg = kf_env_encode("submit", ID, 7, AT, "kefu-cli", "KF-2026-000001", &body);
    assert_null(body);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 2);
    char *topic = zframe_strdup(zmsg_first(msg));
    assert_string_equal(topic, "submit");
    free(topic);

    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    assert_non_null(env);
    assert_string_equal(kf_env_type(env), "submit");
    assert_string_equal(kf_env_id(env), ID);
    assert_int_equal(kf_env_seq(env), 7);
    assert_int_equal(kf_env_at(env), AT);
    assert_string_equal(kf_env_src(env), "kefu-cli");
    assert_string_equal(kf_env_corr(env), "KF-2026-000001");

    const msgpack_object *b = kf_env_body(env);
    char text[128];
    assert_int_equal(kf_get_str(b, "summary", true, text, sizeof text, &err), 1);
    assert_string_equal(text, "卫生间天花板漏水");
    assert_int_equal(kf_get_str(b, "detail", false, text, sizeof text, &err), 0);
    int64_t n = 0;
    assert_int_equal(kf_get_int(b, "count", true, INT64_MIN, INT64_MAX, &n, &err), 1);
    assert_int_equal(n, -42);
    assert_int_equal(kf_get_int(b, "big", true, 0, INT64_MAX, &n, &err), 1);
    assert_true(n == INT64_MAX);
    bool dup = false;
    assert_int_equal(kf_get_bool(b, "duplicate", true, &dup, &err), 1);
    assert_true(dup);
    assert_non_null(kf_map_get(b, "gone"));
    assert_int_equal(kf_map_get(b, "gone")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(kf_get_str(kf_map_get(b, "owner"), "name", true, text, sizeof text, &err), 1);
    assert_string_equal(text, "张伟");
    const msgpack_object *history = kf_map_get(b, "history");
    assert_non_null(history);
    assert_int_equal(history->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(history->via.array.size, 2);
    assert_int_equal(
        kf_get_str(&history->via.array.ptr[0], "action", true, text, sizeof text, &err), 1);
    assert_string_equal(text, "submitted");
    assert_int_equal(kf_get_int(&history->via.array.ptr[1], "level", true, 1, 3, &n, &err), 1);
    assert_int_equal(n, 2);
    kf_env_destroy(&env);
    assert_null(env);
    kf_env_destroy(&env); /* NULL-safe */
}

static void test_encode_defaults(void **state)
{
    int64_t before = kf_now_ms();
    zmsg_t *msg = kf_env_encode("ticket.resolved", NULL, 3, 0, "intake", NULL, NULL);
    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    assert_non_null(env);
    const char *id = kf_env_id(env);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(strspn(id, "0123456789abcdef-"), 36);
    assert_int_equal(id[8], '-');
    assert_true(kf_env_at(env) >= before && kf_env_at(env) <= kf_now_ms());
    assert_string_equal(kf_env_corr(env), "");
    assert_int_equal(kf_env_body(env)->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(kf_env_body(env)->via.map.size, 0);

    /* Two new ids differ. */
    zmsg_t *other = kf_env_encode("ticket.resolved", NULL, 3, 0, "intake", NULL, NULL);
    kf_env_t *env2 = kf_env_decode_msg(other, &err);
    zmsg_destroy(&other);
    assert_non_null(env2);
    assert_string_not_equal(kf_env_id(env), kf_env_id(env2));
    kf_env_destroy(&env);
    kf_env_destroy(&env2);
}

/* ---- every way a frame can be wrong ------------------------------------ */

static void test_frames(void **state)
{
    kf_error_t err = {0};
    assert_null(kf_env_decode("", 0, "\x80", 1, &err));
    assert_int_equal(err.code, KF_E_BAD_FRAME);
    char topic[KF_MAX_TYPE + 2];
    memset(topic, 'a', sizeof topic);
    assert_null(kf_env_decode(topic, KF_MAX_TYPE + 1, "\x80", 1, &err));
    assert_int_equal(err.code, KF_E_BAD_FRAME);
    assert_null(kf_env_decode("submit", 6, "", 0, &err));
    assert_int_equal(err.code, KF_E_BAD_FRAME);

    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "submit");
    assert_null(kf_env_decode_msg(msg, &err));
    assert_int_equal(err.code, KF_E_BAD_FRAME);
    zmsg_addstr(msg, "x");
    zmsg_addstr(msg, "y");
    assert_null(kf_env_decode_msg(msg, &err));
    assert_int_equal(err.code, KF_E_BAD_FRAME);
    zmsg_destroy(&msg);
    assert_null(kf_env_decode_msg(NULL, &err));
    assert_int_equal(err.code, KF_E_BAD_FRAME);
}

static void test_garbage(void **state)
{
    kf_error_t err = {0};
    const char *texts[] = {"hello world", "\xc1", "\xff\xff\xff", "{\"v\":1}"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        err.code = KF_OK;
        assert_null(kf_env_decode("submit", 6, texts[i], strlen(texts[i]), &err));
        assert_int_equal(err.code, KF_E_BAD_ENVELOPE);
    }
    /* Random bytes never crash and never decode as a valid envelope. */
    unsigned seed = 12345;
    unsigned char junk[256];
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (unsigned char)rand_r(&seed);
        kf_env_t *env = kf_env_decode("submit", 6, junk, n, &err);
        assert_null(env);
    }
}

static void test_not_a_map(void **state)
{
    buf_t b;
    s_buf_init(&b);
    msgpack_pack_array(&b.pk, 2);
    msgpack_pack_int(&b.pk, 1);
    msgpack_pack_int(&b.pk, 2);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    s_buf_init(&b);
    s_str(&b.pk, "submit");
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    s_buf_init(&b);
    msgpack_pack_nil(&b.pk);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
}

/* A valid submit envelope with an empty body. */
static void s_valid(buf_t *b)
{
    s_buf_init(b);
    s_begin(b, NULL, 1);
    s_str(&b->pk, "body");
    msgpack_pack_map(&b->pk, 0);
}

static void test_valid_minimal(void **state)
{
    buf_t b;
    s_valid(&b);
    assert_int_equal(s_decode(&b, NULL), KF_OK);
}

static void test_truncated(void **state)
{
    buf_t b;
    s_valid(&b);
    /* Every proper prefix of a valid envelope is refused. */
    for (size_t n = 1; n < b.sb.size; n++) {
        kf_error_t err = {0};
        kf_env_t *env = kf_env_decode("submit", 6, b.sb.data, n, &err);
        assert_null(env);
        assert_int_equal(err.code, KF_E_BAD_ENVELOPE);
    }
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_trailing_bytes(void **state)
{
    buf_t b;
    s_valid(&b);
    msgpack_pack_nil(&b.pk);
    char field[48];
    assert_int_equal(s_decode(&b, field), KF_E_BAD_ENVELOPE);
    s_valid(&b);
    msgpack_sbuffer_write(&b.sb, "\x00\x00\x00", 3);
    assert_int_equal(s_decode(&b, field), KF_E_BAD_ENVELOPE);
}

static void test_bad_version(void **state)
{
    buf_t b;
    char field[48];
    /* v = 2, "1", -1, 1.0 */
    for (int variant = 0; variant < 4; variant++) {
        s_buf_init(&b);
        s_begin(&b, "v", 2);
        s_str(&b.pk, "v");
        if (variant == 0)
            msgpack_pack_int(&b.pk, 2);
        else if (variant == 1)
            s_str(&b.pk, "1");
        else if (variant == 2)
            msgpack_pack_int(&b.pk, -1);
        else
            msgpack_pack_double(&b.pk, 1.0);
        s_str(&b.pk, "body");
        msgpack_pack_map(&b.pk, 0);
        assert_int_equal(s_decode(&b, field), KF_E_BAD_VERSION);
        assert_string_equal(field, "v");
    }
}

static void test_missing_fields(void **state)
{
    static const char *const names[] = {"v", "type", "id", "seq", "at", "src", "corr"};
    buf_t b;
    char field[48];
    for (int i = 0; i < 7; i++) {
        s_buf_init(&b);
        s_begin(&b, names[i], 1);
        s_str(&b.pk, "body");
        msgpack_pack_map(&b.pk, 0);
        assert_int_equal(s_decode(&b, field), KF_E_MISSING_FIELD);
        assert_string_equal(field, names[i]);
    }
    s_buf_init(&b);
    s_begin(&b, NULL, 0);
    assert_int_equal(s_decode(&b, field), KF_E_MISSING_FIELD);
    assert_string_equal(field, "body");
}

/* Packs an envelope in which field name has a value packed by pack. */
static kf_err_t s_with(const char *name, void (*pack)(msgpack_packer *), char *field)
{
    buf_t b;
    s_buf_init(&b);
    bool is_body = strcmp(name, "body") == 0;
    s_begin(&b, is_body ? NULL : name, is_body ? 1 : 2);
    s_str(&b.pk, name);
    pack(&b.pk);
    if (!is_body) {
        s_str(&b.pk, "body");
        msgpack_pack_map(&b.pk, 0);
    }
    return s_decode(&b, field);
}

static void s_pack_int5(msgpack_packer *pk)
{
    msgpack_pack_int(pk, 5);
}

static void s_pack_neg(msgpack_packer *pk)
{
    msgpack_pack_int(pk, -1);
}

static void s_pack_float(msgpack_packer *pk)
{
    msgpack_pack_double(pk, 12.5);
}

static void s_pack_text(msgpack_packer *pk)
{
    s_str(pk, "12");
}

static void s_pack_nil(msgpack_packer *pk)
{
    msgpack_pack_nil(pk);
}

static void s_pack_array(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 0);
}

static void s_pack_u64max(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, UINT64_MAX);
}

static void s_pack_empty(msgpack_packer *pk)
{
    s_str(pk, "");
}

static void s_pack_bin(msgpack_packer *pk)
{
    msgpack_pack_bin(pk, 2);
    msgpack_pack_bin_body(pk, "ab", 2);
}

static void s_pack_nul(msgpack_packer *pk)
{
    s_strn(pk, "a\0b", 3);
}

static void s_pack_65(msgpack_packer *pk)
{
    char s[66];
    memset(s, 'x', 65);
    s[65] = '\0';
    s_str(pk, s);
}

static void s_pack_bad_utf8(msgpack_packer *pk)
{
    s_str(pk, "caf\xc3");
}

static void test_wrong_types(void **state)
{
    char field[48];
    assert_int_equal(s_with("type", s_pack_int5, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "type");
    assert_int_equal(s_with("id", s_pack_int5, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "id");
    assert_int_equal(s_with("id", s_pack_bin, field), KF_E_WRONG_TYPE);
    assert_int_equal(s_with("seq", s_pack_text, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "seq");
    assert_int_equal(s_with("at", s_pack_float, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "at");
    assert_int_equal(s_with("src", s_pack_nil, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "src");
    assert_int_equal(s_with("corr", s_pack_int5, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "corr");
    assert_int_equal(s_with("body", s_pack_array, field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "body");
    assert_int_equal(s_with("body", s_pack_text, field), KF_E_WRONG_TYPE);
    assert_int_equal(s_with("body", s_pack_nil, field), KF_E_WRONG_TYPE);
}

static void test_bad_values(void **state)
{
    char field[48];
    assert_int_equal(s_with("seq", s_pack_neg, field), KF_E_BAD_VALUE);
    assert_string_equal(field, "seq");
    assert_int_equal(s_with("at", s_pack_u64max, field), KF_E_BAD_VALUE);
    assert_int_equal(s_with("id", s_pack_empty, field), KF_E_BAD_VALUE);
    assert_string_equal(field, "id");
    assert_int_equal(s_with("src", s_pack_nul, field), KF_E_BAD_VALUE);
    assert_int_equal(s_with("id", s_pack_65, field), KF_E_TOO_LONG);
    assert_string_equal(field, "id");
    /* corr may be empty or nil; src may be empty. */
    assert_int_equal(s_with("corr", s_pack_nil, field), KF_OK);
    assert_int_equal(s_with("corr", s_pack_empty, field), KF_OK);
    assert_int_equal(s_with("src", s_pack_empty, field), KF_OK);
}

static void test_unknown_type(void **state)
{
    buf_t b;
    char field[48];
    /* A type outside the catalog, sent with a matching topic. */
    s_buf_init(&b);
    s_begin(&b, "type", 2);
    s_str(&b.pk, "type");
    s_str(&b.pk, "ticket.nope");
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 0);
    assert_int_equal(s_decode_as(&b, "ticket.nope", field), KF_E_UNKNOWN_TYPE);
    assert_string_equal(field, "type");
    /* A known type under another topic. */
    s_valid(&b);
    assert_int_equal(s_decode_as(&b, "ticket.show", field), KF_E_UNKNOWN_TYPE);
    s_valid(&b);
    assert_int_equal(s_decode_as(&b, "submi", field), KF_E_UNKNOWN_TYPE);
    s_valid(&b);
    assert_int_equal(s_decode_as(&b, "submit2", field), KF_E_UNKNOWN_TYPE);
    /* A reserved, not yet produced event type. */
    s_buf_init(&b);
    s_begin(&b, "type", 2);
    s_str(&b.pk, "type");
    s_str(&b.pk, "ticket.closed");
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 0);
    assert_int_equal(s_decode_as(&b, "ticket.closed", field), KF_E_UNKNOWN_TYPE);
}

/* An envelope whose body is {summary: <n bytes of 'a'>}. */
static void s_long_string(buf_t *b, size_t n)
{
    char *s = malloc(n);
    assert_non_null(s);
    memset(s, 'a', n);
    s_buf_init(b);
    s_begin(b, NULL, 1);
    s_str(&b->pk, "body");
    msgpack_pack_map(&b->pk, 1);
    s_str(&b->pk, "summary");
    s_strn(&b->pk, s, n);
    free(s);
}

static void test_too_long(void **state)
{
    buf_t b;
    char field[48];
    s_long_string(&b, 1024 * 1024);
    assert_int_equal(s_decode(&b, field), KF_E_TOO_LONG);
    s_long_string(&b, KF_MAX_STRING + 1);
    assert_int_equal(s_decode(&b, field), KF_E_TOO_LONG);
    /* A body field is named as it is (proto/errors.md), like the service's
       own checks name it. */
    assert_string_equal(field, "summary");
    s_long_string(&b, KF_MAX_STRING);
    assert_int_equal(s_decode(&b, field), KF_OK);
    /* A frame just over the limit is refused before it is parsed. */
    s_long_string(&b, KF_MAX_FRAME);
    assert_true(b.sb.size > KF_MAX_FRAME);
    assert_int_equal(s_decode(&b, field), KF_E_TOO_LONG);
}

static void test_bad_utf8(void **state)
{
    char field[48];
    assert_int_equal(s_with("src", s_pack_bad_utf8, field), KF_E_BAD_UTF8);
    assert_string_equal(field, "src");
    assert_int_equal(s_with("corr", s_pack_bad_utf8, field), KF_E_BAD_UTF8);
    assert_int_equal(s_with("id", s_pack_bad_utf8, field), KF_E_BAD_UTF8);

    /* body field a.b[1] holds an overlong '/'. */
    buf_t b;
    s_buf_init(&b);
    s_begin(&b, NULL, 1);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b.pk, "a");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b.pk, "b");
    msgpack_pack_array(&b.pk, 2);
    s_str(&b.pk, "好");
    s_str(&b.pk, "\xc0\xaf");
    assert_int_equal(s_decode(&b, field), KF_E_BAD_UTF8);
    assert_string_equal(field, "a.b[1]");

    /* A body key that is not UTF-8. */
    s_buf_init(&b);
    s_begin(&b, NULL, 1);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b.pk, "\xed\xa0\x80");
    msgpack_pack_int(&b.pk, 1);
    assert_int_equal(s_decode(&b, field), KF_E_BAD_UTF8);
    assert_string_equal(field, "body");
}

/* An envelope whose body nests levels maps: {a: {a: ... {}}}. */
static void s_nested(buf_t *b, int levels, bool arrays)
{
    s_buf_init(b);
    s_begin(b, NULL, 1);
    s_str(&b->pk, "body");
    msgpack_pack_map(&b->pk, 1);
    s_str(&b->pk, "a");
    for (int i = 0; i < levels; i++) {
        if (i == levels - 1) {
            msgpack_pack_map(&b->pk, 0);
        } else if (arrays) {
            msgpack_pack_array(&b->pk, 1);
        } else {
            msgpack_pack_map(&b->pk, 1);
            s_str(&b->pk, "a");
        }
    }
}

static void test_too_deep(void **state)
{
    buf_t b;
    s_nested(&b, KF_MAX_DEPTH, false);
    assert_int_equal(s_decode(&b, NULL), KF_OK);
    s_nested(&b, KF_MAX_DEPTH + 1, false);
    assert_int_equal(s_decode(&b, NULL), KF_E_TOO_LONG);
    s_nested(&b, KF_MAX_DEPTH, true);
    assert_int_equal(s_decode(&b, NULL), KF_OK);
    s_nested(&b, KF_MAX_DEPTH + 1, true);
    assert_int_equal(s_decode(&b, NULL), KF_E_TOO_LONG);
    /* Far deeper than msgpack-c's own stack of 32. */
    s_nested(&b, 1000, true);
    assert_int_equal(s_decode(&b, NULL), KF_E_TOO_LONG);
}

/* An envelope whose body holds "list" of n ints or "map" of n entries. */
static void s_entries(buf_t *b, uint32_t n, bool map)
{
    s_buf_init(b);
    s_begin(b, NULL, 1);
    s_str(&b->pk, "body");
    msgpack_pack_map(&b->pk, 1);
    s_str(&b->pk, map ? "map" : "list");
    if (map)
        msgpack_pack_map(&b->pk, n);
    else
        msgpack_pack_array(&b->pk, n);
    for (uint32_t i = 0; i < n; i++) {
        if (map) {
            char key[16];
            snprintf(key, sizeof key, "k%u", i);
            s_str(&b->pk, key);
        }
        msgpack_pack_int(&b->pk, 1);
    }
}

static void test_too_many_entries(void **state)
{
    buf_t b;
    char field[48];
    s_entries(&b, KF_MAX_ENTRIES, false);
    assert_int_equal(s_decode(&b, field), KF_OK);
    s_entries(&b, KF_MAX_ENTRIES + 1, false);
    assert_int_equal(s_decode(&b, field), KF_E_TOO_LONG);
    assert_string_equal(field, "list");
    s_entries(&b, KF_MAX_ENTRIES, true);
    assert_int_equal(s_decode(&b, field), KF_OK);
    s_entries(&b, KF_MAX_ENTRIES + 1, true);
    assert_int_equal(s_decode(&b, field), KF_E_TOO_LONG);
    assert_string_equal(field, "map");
}

static void test_declared_huge(void **state)
{
    kf_error_t err = {0};
    /* A bare array32 and map32 declaring 2^32-1 entries in five bytes. */
    assert_null(kf_env_decode("submit", 6, "\xdd\xff\xff\xff\xff", 5, &err));
    assert_int_equal(err.code, KF_E_BAD_ENVELOPE);
    assert_null(kf_env_decode("submit", 6, "\xdf\xff\xff\xff\xff", 5, &err));
    assert_int_equal(err.code, KF_E_BAD_ENVELOPE);
    /* A str32 declaring 4 GiB. */
    assert_null(kf_env_decode("submit", 6, "\xdb\xff\xff\xff\xff", 5, &err));
    assert_int_equal(err.code, KF_E_BAD_ENVELOPE);

    /* Inside an otherwise valid envelope. */
    buf_t b;
    s_buf_init(&b);
    s_begin(&b, NULL, 1);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b.pk, "x");
    msgpack_sbuffer_write(&b.sb, "\xdd\xff\xff\xff\xff\x01\x02", 7);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    /* A map16 declaring more entries than the frame has bytes. */
    s_buf_init(&b);
    msgpack_sbuffer_write(&b.sb, "\xde\xff\xff\x01\x01", 5);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
}

static void test_keys(void **state)
{
    buf_t b;
    /* A top-level key that is not a string. */
    s_buf_init(&b);
    s_begin(&b, NULL, 2);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 0);
    msgpack_pack_int(&b.pk, 9);
    msgpack_pack_int(&b.pk, 9);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    /* A body key that is not a string. */
    s_buf_init(&b);
    s_begin(&b, NULL, 1);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 1);
    msgpack_pack_int(&b.pk, 9);
    msgpack_pack_int(&b.pk, 9);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    /* A duplicate top-level key. */
    s_buf_init(&b);
    s_begin(&b, NULL, 2);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 0);
    s_str(&b.pk, "seq");
    msgpack_pack_int(&b.pk, 9);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    /* A duplicate body key. */
    s_buf_init(&b);
    s_begin(&b, NULL, 1);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 2);
    s_str(&b.pk, "a");
    msgpack_pack_int(&b.pk, 1);
    s_str(&b.pk, "a");
    msgpack_pack_int(&b.pk, 2);
    assert_int_equal(s_decode(&b, NULL), KF_E_BAD_ENVELOPE);
    /* Binary values have no place in the catalog. */
    s_buf_init(&b);
    s_begin(&b, NULL, 1);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b.pk, "a");
    s_pack_bin(&b.pk);
    assert_int_equal(s_decode(&b, NULL), KF_E_WRONG_TYPE);
}

static void test_unknown_keys_ignored(void **state)
{
    buf_t b;
    s_buf_init(&b);
    s_begin(&b, NULL, 3);
    s_str(&b.pk, "trace");
    s_str(&b.pk, "abc");
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b.pk, "future");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_double(&b.pk, 0.5);
    s_str(&b.pk, "hops");
    msgpack_pack_int(&b.pk, 2);
    assert_int_equal(s_decode(&b, NULL), KF_OK);
    /* but they still obey the limits */
    char field[48];
    s_buf_init(&b);
    s_begin(&b, NULL, 2);
    s_str(&b.pk, "trace");
    s_str(&b.pk, "\xff");
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 0);
    assert_int_equal(s_decode(&b, field), KF_E_BAD_UTF8);
    assert_string_equal(field, "trace");
}

/* ---- getters ------------------------------------------------------- */

/* A map for the getter tests, unpacked into u (sb must outlive it). */
static void s_getter_map(msgpack_sbuffer *sb, msgpack_unpacked *u)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 11);
    s_str(&pk, "s");
    s_str(&pk, "四川路");
    s_str(&pk, "n");
    msgpack_pack_nil(&pk);
    s_str(&pk, "i");
    msgpack_pack_int(&pk, 42);
    s_str(&pk, "neg");
    msgpack_pack_int64(&pk, -7);
    s_str(&pk, "f");
    msgpack_pack_double(&pk, 1.5);
    s_str(&pk, "b");
    msgpack_pack_false(&pk);
    s_str(&pk, "nul");
    s_strn(&pk, "a\0b", 3);
    s_str(&pk, "bad");
    s_str(&pk, "\xe4\xb8");
    s_str(&pk, "huge");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    s_str(&pk, "kind");
    s_str(&pk, "repair");
    s_str(&pk, "kind2");
    s_str(&pk, "rant");
    msgpack_unpacked_init(u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(u, sb->data, sb->size, &off), MSGPACK_UNPACK_SUCCESS);
}

/* kf_env_peek_id on the frame in b (freed): true and the id, or false. */
static bool s_peek(buf_t *b, char *id)
{
    bool found = kf_env_peek_id(b->sb.data, b->sb.size, id, KF_MAX_ID + 1);
    msgpack_sbuffer_destroy(&b->sb);
    if (!found)
        assert_string_equal(id, "");
    return found;
}

/* A frame of the header fields less id, plus an id packed by pack_id
   (NULL: none) and an empty body. */
static void s_with_id(buf_t *b, void (*pack_id)(msgpack_packer *))
{
    s_buf_init(b);
    s_begin(b, "id", pack_id ? 2 : 1);
    if (pack_id) {
        s_str(&b->pk, "id");
        pack_id(&b->pk);
    }
    s_str(&b->pk, "body");
    msgpack_pack_map(&b->pk, 0);
}

static void test_peek_id(void **state)
{
    char id[KF_MAX_ID + 1];
    buf_t b;
    /* A good envelope, and refused ones whose id is still readable. */
    s_valid(&b);
    assert_true(s_peek(&b, id));
    assert_string_equal(id, ID);
    s_buf_init(&b);
    s_begin(&b, "v", 2);
    s_str(&b.pk, "v");
    msgpack_pack_int(&b.pk, 2);
    s_str(&b.pk, "body");
    msgpack_pack_map(&b.pk, 0);
    assert_true(s_peek(&b, id));
    assert_string_equal(id, ID);
    s_long_string(&b, KF_MAX_FRAME); /* over the frame limit */
    assert_true(s_peek(&b, id));
    assert_string_equal(id, ID);
    s_long_string(&b, 1000); /* cut short after the id */
    b.sb.size /= 2;
    assert_true(s_peek(&b, id));
    assert_string_equal(id, ID);
    /* An unknown key before the id, nested deeper than any limit. */
    s_buf_init(&b);
    msgpack_pack_map(&b.pk, 2);
    s_str(&b.pk, "x");
    for (int i = 0; i < 100; i++)
        msgpack_pack_array(&b.pk, 1);
    msgpack_pack_int(&b.pk, 1);
    s_str(&b.pk, "id");
    s_str(&b.pk, "req-7");
    assert_true(s_peek(&b, id));
    assert_string_equal(id, "req-7");

    /* Ids that cannot be read. */
    void (*bad[])(msgpack_packer *) = {NULL,          s_pack_int5, s_pack_bin,     s_pack_empty,
                                       s_pack_nil,    s_pack_nul,  s_pack_bad_utf8, s_pack_65};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_with_id(&b, bad[i]);
        assert_false(s_peek(&b, id));
    }
    /* Two ids: neither is the request's. */
    s_valid(&b);
    b.sb.data[0]++; /* the map holds one entry more: a second id */
    s_str(&b.pk, "id");
    s_str(&b.pk, "other");
    assert_false(s_peek(&b, id));
    /* No map, no bytes, garbage, a value declaring more than the frame. */
    s_buf_init(&b);
    msgpack_pack_array(&b.pk, 1);
    s_str(&b.pk, ID);
    assert_false(s_peek(&b, id));
    assert_false(kf_env_peek_id("", 0, id, sizeof id));
    assert_false(kf_env_peek_id("\xc1\xc1", 2, id, sizeof id));
    assert_false(kf_env_peek_id("\x82\xa1x\xdd\xff\xff\xff\xff", 8, id, sizeof id));
}

static void test_get_str(void **state)
{
    msgpack_sbuffer sb;
    msgpack_unpacked u;
    s_getter_map(&sb, &u);
    const msgpack_object *m = &u.data;
    kf_error_t err = {0};
    char buf[16] = "junk";
    assert_int_equal(kf_get_str(m, "s", true, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "四川路");
    /* exactly bufsize - 1 bytes fit; one more does not */
    assert_int_equal(kf_get_str(m, "s", true, buf, 10, &err), 1);
    assert_int_equal(kf_get_str(m, "s", true, buf, 9, &err), -1);
    assert_int_equal(err.code, KF_E_TOO_LONG);
    assert_string_equal(err.field, "s");
    strcpy(buf, "junk");
    assert_int_equal(kf_get_str(m, "absent", false, buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "");
    assert_int_equal(kf_get_str(m, "absent", true, buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_string_equal(err.field, "absent");
    assert_int_equal(kf_get_str(m, "n", false, buf, sizeof buf, &err), 0);
    assert_int_equal(kf_get_str(m, "n", true, buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_int_equal(kf_get_str(m, "i", false, buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_int_equal(kf_get_str(m, "nul", false, buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_int_equal(kf_get_str(m, "bad", false, buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_UTF8);
    /* not a map */
    assert_int_equal(kf_get_str(&m->via.map.ptr[0].val, "s", true, buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_null(kf_map_get(&m->via.map.ptr[0].val, "s"));
    assert_null(kf_map_get(NULL, "s"));
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void test_get_int_bool_enum(void **state)
{
    msgpack_sbuffer sb;
    msgpack_unpacked u;
    s_getter_map(&sb, &u);
    const msgpack_object *m = &u.data;
    kf_error_t err = {0};
    int64_t v = 99;
    assert_int_equal(kf_get_int(m, "i", true, 0, 100, &v, &err), 1);
    assert_int_equal(v, 42);
    assert_int_equal(kf_get_int(m, "neg", true, -10, 10, &v, &err), 1);
    assert_int_equal(v, -7);
    assert_int_equal(kf_get_int(m, "i", true, 43, 100, &v, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_string_equal(err.field, "i");
    assert_int_equal(kf_get_int(m, "i", true, 0, 41, &v, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_int_equal(kf_get_int(m, "neg", true, 0, 10, &v, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_int_equal(kf_get_int(m, "huge", true, INT64_MIN, INT64_MAX, &v, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_int_equal(kf_get_int(m, "f", true, 0, 10, &v, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_int_equal(kf_get_int(m, "s", true, 0, 10, &v, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_int_equal(kf_get_int(m, "n", false, 0, 10, &v, &err), 0);
    assert_int_equal(kf_get_int(m, "absent", true, 0, 10, &v, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);

    bool flag = true;
    assert_int_equal(kf_get_bool(m, "b", true, &flag, &err), 1);
    assert_false(flag);
    assert_int_equal(kf_get_bool(m, "i", true, &flag, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_int_equal(kf_get_bool(m, "absent", false, &flag, &err), 0);

    static const char *const kinds[] = {"complaint", "repair", "inquiry", NULL};
    int idx = -1;
    assert_int_equal(kf_get_enum(m, "kind", true, kinds, &idx, &err), 1);
    assert_int_equal(idx, 1);
    assert_int_equal(kf_get_enum(m, "kind2", true, kinds, &idx, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_string_equal(err.field, "kind2");
    assert_non_null(strstr(err.message, "complaint, repair, inquiry"));
    assert_int_equal(kf_get_enum(m, "i", true, kinds, &idx, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_int_equal(kf_get_enum(m, "absent", false, kinds, &idx, &err), 0);
    assert_int_equal(kf_get_enum(m, "absent", true, kinds, &idx, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- UTF-8 --------------------------------------------------------- */

static void test_utf8(void **state)
{
    struct {
        const char *bytes;
        size_t size;
        bool valid;
    } cases[] = {
        {"", 0, true},
        {"plain ascii", 11, true},
        {"\0", 1, true},
        {"投诉", 6, true},
        {"\xf0\x9f\x98\x80", 4, true},  /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
        {"\xef\xbf\xbf", 3, true},      /* U+FFFF */
        {"\xed\x9f\xbf", 3, true},      /* U+D7FF */
        {"\xee\x80\x80", 3, true},      /* U+E000 */
        {"\xc2\x80", 2, true},          /* U+0080 */
        {"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, false}, /* lead byte never used */
        {"\xc0\x80", 2, false},         /* overlong NUL */
        {"\xc1\xbf", 2, false},         /* overlong */
        {"\xe0\x80\xaf", 3, false},     /* overlong '/' */
        {"\xe0\x9f\xbf", 3, false},     /* overlong U+07FF */
        {"\xf0\x8f\xbf\xbf", 4, false}, /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, false},     /* U+D800 surrogate */
        {"\xed\xbf\xbf", 3, false},     /* U+DFFF surrogate */
        {"\xe4\xb8", 2, false},         /* truncated */
        {"\xf0\x9f\x98", 3, false},     /* truncated */
        {"a\xc3", 2, false},            /* truncated at the end */
        {"\x80", 1, false},             /* lone continuation */
        {"\xc3\x28", 2, false},         /* bad continuation */
        {"\xfe\xff", 2, false},
        {"\xe4\xb8\xad\xe6\x96", 5, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (kf_utf8_valid(cases[i].bytes, cases[i].size) != cases[i].valid)
            fail_msg("case %zu: expected %s", i, cases[i].valid ? "valid" : "invalid");
    }
}

/* ---- body from JSON -------------------------------------------------- */

static void test_body_from_json(void **state)
{
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "first", "x");
    kf_error_t err = {0};
    assert_int_equal(kf_body_from_json(body,
                                       "{\"a\":1,\"b\":-2,\"c\":1.5,\"d\":true,\"e\":false,"
                                       "\"f\":null,\"g\":\"中文\",\"h\":[1,{\"x\":\"y\"}],"
                                       "\"i\":{\"j\":[]}}",
                                       &err),
                     0);
    assert_int_equal(kf_body_count(body), 10);
    /* Refused JSON leaves the body as it was. */
    assert_int_equal(kf_body_from_json(body, "[1,2]", &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_int_equal(kf_body_from_json(body, "{\"a\":", &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_int_equal(kf_body_from_json(body, "{\"ok\":1,\"deep\":[[[[[1]]]]]}", &err), -1);
    assert_int_equal(err.code, KF_E_TOO_LONG);
    assert_int_equal(kf_body_count(body), 10);

    zmsg_t *msg = kf_env_encode("ticket.list", ID, 0, AT, "kefu-cli", "", &body);
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    assert_non_null(env);
    const msgpack_object *b = kf_env_body(env);
    assert_int_equal(b->via.map.size, 10);
    assert_string_equal(kf_env_type(env), "ticket.list");
    assert_int_equal(kf_map_get(b, "a")->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(kf_map_get(b, "b")->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_int_equal(kf_map_get(b, "c")->type, MSGPACK_OBJECT_FLOAT64);
    assert_true(kf_map_get(b, "c")->via.f64 == 1.5);
    assert_int_equal(kf_map_get(b, "d")->type, MSGPACK_OBJECT_BOOLEAN);
    assert_int_equal(kf_map_get(b, "f")->type, MSGPACK_OBJECT_NIL);
    char text[16];
    assert_int_equal(kf_get_str(b, "g", true, text, sizeof text, &err), 1);
    assert_string_equal(text, "中文");
    const msgpack_object *h = kf_map_get(b, "h");
    assert_int_equal(h->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(h->via.array.size, 2);
    assert_int_equal(kf_get_str(&h->via.array.ptr[1], "x", true, text, sizeof text, &err), 1);
    assert_string_equal(text, "y");
    /* members keep their order */
    assert_int_equal(b->via.map.ptr[0].key.via.str.size, 5);
    assert_memory_equal(b->via.map.ptr[1].key.via.str.ptr, "a", 1);
    assert_memory_equal(b->via.map.ptr[9].key.via.str.ptr, "i", 1);
    kf_env_destroy(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_defaults),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_not_a_map),
        cmocka_unit_test(test_valid_minimal),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_too_deep),
        cmocka_unit_test(test_too_many_entries),
        cmocka_unit_test(test_declared_huge),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_unknown_keys_ignored),
        cmocka_unit_test(test_peek_id),
        cmocka_unit_test(test_get_str),
        cmocka_unit_test(test_get_int_bool_enum),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_body_from_json),
    };
    return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
