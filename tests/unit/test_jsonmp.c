/* kefu — unit tests of msgpack to JSON, and JSON to msgpack and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "envelope.h"
#include "jsonmp.h"

/* Unpacks the bytes of sb into u. */
static void s_unpack(msgpack_sbuffer *sb, msgpack_unpacked *u)
{
    msgpack_unpacked_init(u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(u, sb->data, sb->size, &off), MSGPACK_UNPACK_SUCCESS);
}

static void s_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void test_all_types(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10);
    s_str(&pk, "s");
    s_str(&pk, "报修");
    s_str(&pk, "i");
    msgpack_pack_int(&pk, 7);
    s_str(&pk, "neg");
    msgpack_pack_int64(&pk, INT64_MIN);
    s_str(&pk, "f");
    msgpack_pack_double(&pk, 0.25);
    s_str(&pk, "t");
    msgpack_pack_true(&pk);
    s_str(&pk, "n");
    msgpack_pack_nil(&pk);
    s_str(&pk, "a");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_map(&pk, 0);
    s_str(&pk, "bin");
    msgpack_pack_bin(&pk, 1);
    msgpack_pack_bin_body(&pk, "x", 1);
    s_str(&pk, "huge");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    s_str(&pk, "f32");
    msgpack_pack_float(&pk, 2.5f);
    msgpack_unpacked u;
    s_unpack(&sb, &u);

    json_t *json = kf_json_from_msgpack(&u.data);
    assert_non_null(json);
    char *text = json_dumps(json, JSON_COMPACT);
    assert_non_null(text);
    assert_string_equal(text, "{\"s\":\"报修\",\"i\":7,\"neg\":-9223372036854775808,\"f\":0.25,"
                              "\"t\":true,\"n\":null,\"a\":[1,{}],\"bin\":null,"
                              "\"huge\":1.8446744073709552e19,\"f32\":2.5}");
    free(text);
    json_decref(json);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void test_refused(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    /* a key that is not a string, nested */
    msgpack_pack_map(&pk, 1);
    s_str(&pk, "outer");
    msgpack_pack_map(&pk, 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, 2);
    msgpack_unpacked u;
    s_unpack(&sb, &u);
    assert_null(kf_json_from_msgpack(&u.data));
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_clear(&sb);
    /* a string that is not UTF-8 */
    msgpack_pack_array(&pk, 1);
    s_str(&pk, "\xff");
    s_unpack(&sb, &u);
    assert_null(kf_json_from_msgpack(&u.data));
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    assert_null(kf_json_from_msgpack(NULL));
}

/* JSON -> body -> envelope -> msgpack -> JSON gives the same document. */
static void test_round_trip(void **state)
{
    const char *doc = "{\"ticket\":\"KF-2026-000001\",\"level\":2,\"neg\":-5,\"ratio\":0.5,"
                      "\"first\":true,\"no\":false,\"gone\":null,\"summary\":\"业主反映门窗渗水\","
                      "\"history\":[{\"at\":1795419000123,\"action\":\"submitted\"}],"
                      "\"empty\":{},\"list\":[]}";
    kf_body_t *body = kf_body_new();
    kf_error_t err = {0};
    assert_int_equal(kf_body_from_json(body, doc, &err), 0);
    zmsg_t *msg = kf_env_encode("reply.ok", "r1", 0, 1, "intake", "c1", &body);
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    assert_non_null(env);
    json_t *back = kf_json_from_msgpack(kf_env_body(env));
    assert_non_null(back);
    json_t *want = json_loads(doc, 0, NULL);
    assert_non_null(want);
    assert_true(json_equal(back, want));
    /* integers stay integers */
    assert_true(json_is_integer(json_object_get(back, "level")));
    assert_true(json_is_real(json_object_get(back, "ratio")));
    json_decref(back);
    json_decref(want);
    kf_env_destroy(&env);
}

/* JSON has no NaN or infinity: a body the envelope decoder accepts with
   such a float (found by tests/fuzz, corpus/envelope/crash-nan-float32)
   still converts, the value as null, instead of failing `kefu --json`. */
static void test_non_finite_float(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    s_str(&pk, "nan");
    msgpack_pack_float(&pk, NAN);
    s_str(&pk, "inf");
    msgpack_pack_double(&pk, INFINITY);
    s_str(&pk, "ninf");
    msgpack_pack_double(&pk, -INFINITY);
    s_str(&pk, "ok");
    msgpack_pack_double(&pk, 0.5);
    msgpack_unpacked u;
    s_unpack(&sb, &u);
    json_t *json = kf_json_from_msgpack(&u.data);
    assert_non_null(json);
    char *text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(text);
    assert_string_equal(text, "{\"nan\":null,\"inf\":null,\"ninf\":null,\"ok\":0.5}");
    free(text);
    json_decref(json);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_non_finite_float),
    };
    return cmocka_run_group_tests_name("jsonmp", tests, NULL, NULL);
}
