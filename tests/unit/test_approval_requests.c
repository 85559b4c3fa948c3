/* kefu — unit tests of kefu-approval's request decoding
   (services/approval/requests.c): every field's type, range and limit,
   amounts as yuan text only, and a rejection's reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "requests.h"

/* A body built from key/value pairs; a value "#i:N" packs the integer N,
   "#f:X" the double X, "#nil" nil, "#true" a boolean, "#bin" a binary; anything else a string. */
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_unpacked unpacked;
} s_map_t;

static const msgpack_object *s_map(s_map_t *map, const char *const *pairs)
{
    msgpack_sbuffer_init(&map->buffer);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &map->buffer, msgpack_sbuffer_write);
    size_t count = 0;
    while (pairs[count * 2])
        count++;
    msgpack_pack_map(&pk, count);
    for (size_t i = 0; i < count; i++) {
        const char *key = pairs[i * 2], *value = pairs[i * 2 + 1];
        msgpack_pack_str_with_body(&pk, key, strlen(key));
        if (strncmp(value, "#i:", 3) == 0)
            msgpack_pack_int64(&pk, strtoll(value + 3, NULL, 10));
        else if (strcmp(value, "#nil") == 0)
            msgpack_pack_nil(&pk);
        else if (strcmp(value, "#true") == 0)
            msgpack_pack_true(&pk);
        else if (strncmp(value, "#f:", 3) == 0)
            msgpack_pack_double(&pk, strtod(value + 3, NULL));
        else if (strcmp(value, "#bin") == 0)
            msgpack_pack_bin_with_body(&pk, "x", 1);
        else
            msgpack_pack_str_with_body(&pk, value, strlen(value));
    }
    msgpack_unpacked_init(&map->unpacked);
    assert_int_equal(msgpack_unpack_next(&map->unpacked, map->buffer.data, map->buffer.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    return &map->unpacked.data;
}

static void s_map_free(s_map_t *map)
{
    msgpack_unpacked_destroy(&map->unpacked);
    msgpack_sbuffer_destroy(&map->buffer);
}

/* A valid approval.request's pairs, with slot 1 (amount) replaceable. */
#define S_OPEN(amount)                                                                             \
    {                                                                                              \
        "ticket", "KF-2026-000001", "type", "settlement", "amount", amount, "reason", "leak",      \
            "promised", "2026-12-03", NULL                                                         \
    }

static int s_open(const char *const *pairs, areq_open_t *out, kf_error_t *err)
{
    s_map_t map;
    memset(err, 0, sizeof *err);
    int rc = areq_parse_open(s_map(&map, pairs), out, err);
    s_map_free(&map);
    return rc;
}

static void test_open_ok(void **state)
{
    (void)state;
    areq_open_t out;
    kf_error_t err;
    const char *pairs[] = {"ticket", "KF-2026-000001", "type", "repair_cost", "amount",
                           "1234.5", "reason",         "pipe", "promised",    "2026-12-03",
                           "policy", "repair",         "idem", "k1",          NULL};
    assert_int_equal(s_open(pairs, &out, &err), 0);
    assert_string_equal(out.ticket, "KF-2026-000001");
    assert_string_equal(out.type, "repair_cost");
    assert_int_equal(out.amount_fen, 123450);
    assert_string_equal(out.promised, "2026-12-03");
    assert_string_equal(out.policy, "repair");
    assert_string_equal(out.idem, "k1");
    assert_false(out.allow_past);
    const char *plain[] = S_OPEN("80000");
    assert_int_equal(s_open(plain, &out, &err), 0);
    assert_int_equal(out.amount_fen, 8000000);
    assert_string_equal(out.policy, "");
    const char *past[] = {"ticket",     "KF-2026-000001", "type", "refund",   "amount",
                          "1",          "reason",         "late", "promised", "2020-01-01",
                          "allow_past", "#true",          NULL};
    assert_int_equal(s_open(past, &out, &err), 0);
    assert_true(out.allow_past);
    const char *past_text[] = {
        "ticket", "KF-2026-000001", "type",       "refund",     "amount", "1", "reason",
        "late",   "promised",       "2020-01-01", "allow_past", "yes",    NULL};
    assert_int_equal(s_open(past_text, &out, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_string_equal(err.field, "allow_past");
}

/* approval.reassign: a step, a staff id and a reason, each required. */
static void test_reassign(void **state)
{
    (void)state;
    areq_reassign_t out;
    kf_error_t err = {0};
    s_map_t map;
    const char *ok[] = {"step", "#i:812", "to", "vp.zhou", "reason", "出差", NULL};
    assert_int_equal(areq_parse_reassign(s_map(&map, ok), &out, &err), 0);
    s_map_free(&map);
    assert_int_equal(out.step, 812);
    assert_string_equal(out.to, "vp.zhou");
    assert_string_equal(out.reason, "出差");
    const char *blank[] = {"step", "#i:812", "to", "vp.zhou", "reason", "  ", NULL};
    assert_int_equal(areq_parse_reassign(s_map(&map, blank), &out, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_string_equal(err.field, "reason");
    const char *no_to[] = {"step", "#i:812", "reason", "x", NULL};
    assert_int_equal(areq_parse_reassign(s_map(&map, no_to), &out, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_string_equal(err.field, "to");
    const char *zero[] = {"step", "#i:0", "to", "vp.zhou", "reason", "x", NULL};
    assert_int_equal(areq_parse_reassign(s_map(&map, zero), &out, &err), -1);
    s_map_free(&map);
    assert_string_equal(err.field, "step");
    const char *as_text[] = {"step", "812", "to", "vp.zhou", "reason", "x", NULL};
    assert_int_equal(areq_parse_reassign(s_map(&map, as_text), &out, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
}

static void test_open_bad(void **state)
{
    (void)state;
    areq_open_t out;
    kf_error_t err;
    const char *as_int[] = S_OPEN("#i:80000");
    assert_int_equal(s_open(as_int, &out, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_string_equal(err.field, "amount");
    const char *as_float[] = S_OPEN("#f:80000.5");
    assert_int_equal(s_open(as_float, &out, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    const char *dollars[] = S_OPEN("$80000");
    assert_int_equal(s_open(dollars, &out, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    const char *huge[] = S_OPEN("123456789012345678901");
    assert_int_equal(s_open(huge, &out, &err), -1);
    assert_int_equal(err.code, KF_E_TOO_LONG);
    const char *type[] = {"ticket", "KF-1", "type",     "bonus",      "amount", "1",
                          "reason", "r",    "promised", "2026-12-03", NULL};
    assert_int_equal(s_open(type, &out, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_string_equal(err.field, "type");
    const char *blank[] = {"ticket", "KF-1", "type",     "refund",     "amount", "1",
                           "reason", "  ",   "promised", "2026-12-03", NULL};
    assert_int_equal(s_open(blank, &out, &err), -1);
    assert_string_equal(err.field, "reason");
    const char *date[] = {"ticket", "KF-1", "type",     "refund",     "amount", "1",
                          "reason", "r",    "promised", "2026-02-30", NULL};
    assert_int_equal(s_open(date, &out, &err), -1);
    assert_string_equal(err.field, "promised");
    const char *missing[] = {"ticket", "KF-1",     "type",       "refund", "reason",
                             "r",      "promised", "2026-12-03", NULL};
    assert_int_equal(s_open(missing, &out, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_string_equal(err.field, "amount");
    char long_reason[KF_LIM_REASON + 2];
    memset(long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = 0;
    const char *too_long[] = {"ticket", "KF-1",      "type",     "refund",     "amount", "1",
                              "reason", long_reason, "promised", "2026-12-03", NULL};
    assert_int_equal(s_open(too_long, &out, &err), -1);
    assert_int_equal(err.code, KF_E_TOO_LONG);
}

static void test_decide(void **state)
{
    (void)state;
    areq_decide_t out;
    kf_error_t err = {0};
    s_map_t map;
    const char *ok[] = {"request", "#i:7", "decision", "approve", NULL};
    assert_int_equal(areq_parse_decide(s_map(&map, ok), &out, &err), 0);
    s_map_free(&map);
    assert_int_equal(out.request, 7);
    assert_int_equal(out.step, 0);
    assert_string_equal(out.outcome, "approve");
    const char *reject[] = {"request", "#i:7",    "step",     "#i:3", "decision",
                            "reject",  "comment", "too much", NULL};
    assert_int_equal(areq_parse_decide(s_map(&map, reject), &out, &err), 0);
    s_map_free(&map);
    assert_int_equal(out.step, 3);
    assert_string_equal(out.comment, "too much");
    const char *no_reason[] = {"request", "#i:7", "decision", "reject", "comment", " ", NULL};
    assert_int_equal(areq_parse_decide(s_map(&map, no_reason), &out, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_string_equal(err.field, "comment");
    const char *zero[] = {"request", "#i:0", "decision", "approve", NULL};
    assert_int_equal(areq_parse_decide(s_map(&map, zero), &out, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    const char *as_text[] = {"request", "7", "decision", "approve", NULL};
    assert_int_equal(areq_parse_decide(s_map(&map, as_text), &out, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    const char *maybe[] = {"request", "#i:7", "decision", "maybe", NULL};
    assert_int_equal(areq_parse_decide(s_map(&map, maybe), &out, &err), -1);
    s_map_free(&map);
    assert_string_equal(err.field, "decision");
}

static void test_list_show_delegate(void **state)
{
    (void)state;
    kf_error_t err = {0};
    s_map_t map;
    int64_t value;
    const char *empty[] = {NULL};
    assert_int_equal(areq_parse_list(s_map(&map, empty), &value, &err), 0);
    s_map_free(&map);
    assert_int_equal(value, KF_LIM_LIST_DEFAULT);
    const char *big[] = {"limit", "#i:101", NULL};
    assert_int_equal(areq_parse_list(s_map(&map, big), &value, &err), -1);
    s_map_free(&map);
    assert_int_equal(areq_parse_show(s_map(&map, empty), &value, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    areq_delegate_t d;
    const char *ok[] = {"delegate", "vp.zhou", "from", "#i:1000", "to", "#i:2000", NULL};
    assert_int_equal(areq_parse_delegate(s_map(&map, ok), &d, &err), 0);
    s_map_free(&map);
    assert_string_equal(d.delegate, "vp.zhou");
    assert_int_equal(d.to_ms, 2000);
    const char *backwards[] = {"delegate", "vp.zhou", "from", "#i:2000", "to", "#i:2000", NULL};
    assert_int_equal(areq_parse_delegate(s_map(&map, backwards), &d, &err), -1);
    s_map_free(&map);
    assert_string_equal(err.field, "to");
    const char *forever[] = {"delegate", "vp.zhou", "from", "#i:0", "to", "#i:40000000000", NULL};
    assert_int_equal(areq_parse_delegate(s_map(&map, forever), &d, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_ok),  cmocka_unit_test(test_open_bad),
        cmocka_unit_test(test_decide),   cmocka_unit_test(test_list_show_delegate),
        cmocka_unit_test(test_reassign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
