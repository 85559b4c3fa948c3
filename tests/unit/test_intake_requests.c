/* kefu — unit tests of intake's request decoding and access rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "access.h"
#include "envelope.h"
#include "requests.h"

/* Packs a body from key/value string pairs (NULL value: nil) and decodes
   it back as a msgpack map the parsers can read. */
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_unpacked unpacked;
} s_map_t;

static const msgpack_object *s_map(s_map_t *map, const char *const *pairs)
{
    msgpack_sbuffer_init(&map->buffer);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &map->buffer, msgpack_sbuffer_write);
    size_t count = 0;
    while (pairs[count * 2])
        count++;
    msgpack_pack_map(&packer, count);
    for (size_t i = 0; i < count; i++) {
        const char *key = pairs[i * 2], *value = pairs[i * 2 + 1];
        msgpack_pack_str_with_body(&packer, key, strlen(key));
        if (strcmp(value, "#nil") == 0)
            msgpack_pack_nil(&packer);
        else if (strcmp(value, "#int") == 0)
            msgpack_pack_int(&packer, 7);
        else
            msgpack_pack_str_with_body(&packer, value, strlen(value));
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

#define SUBMIT_GOOD                                                                                \
    "kind", "complaint", "category", "leak", "channel", "phone", "project", "HZ-XH", "phone",      \
        "+86 138-0013-8000", "summary", "卫生间漏水"

static void test_submit_good(void **state)
{
    const char *pairs[] = {SUBMIT_GOOD, "building", "3",        "unit",
                           "1201",      "detail",   "楼上渗水", NULL};
    s_map_t map;
    submit_req_t req;
    kf_error_t err = {0};
    assert_int_equal(req_parse_submit(s_map(&map, pairs), &req, &err), 0);
    assert_string_equal(req.phone, "13800138000");
    assert_string_equal(req.priority, "normal"); /* the default */
    assert_string_equal(req.summary, "卫生间漏水");
    assert_string_equal(req.building, "3");
    assert_string_equal(req.idem, "");
    s_map_free(&map);
}

/* Parses pairs as a submit and returns the error code and field. */
static kf_err_t s_submit_error(const char *const *pairs, char *field, size_t size)
{
    s_map_t map;
    submit_req_t req;
    kf_error_t err = {0};
    int rc = req_parse_submit(s_map(&map, pairs), &req, &err);
    s_map_free(&map);
    snprintf(field, size, "%s", err.field);
    return rc == 0 ? KF_OK : err.code;
}

static void test_submit_errors(void **state)
{
    char field[48];
    const char *missing_summary[] = {"kind",    "complaint",   "category", "leak",
                                     "channel", "phone",       "project",  "HZ-XH",
                                     "phone",   "13800138000", NULL};
    assert_int_equal(s_submit_error(missing_summary, field, sizeof field), KF_E_MISSING_FIELD);
    assert_string_equal(field, "summary");

    const char *unknown_kind[] = {"kind",    "rant",    "category", "leak",  "channel",
                                  "phone",   "project", "HZ-XH",    "phone", "13800138000",
                                  "summary", "x",       NULL};
    assert_int_equal(s_submit_error(unknown_kind, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "kind");

    const char *int_kind[] = {"kind", "#int", "category", "leak", NULL};
    assert_int_equal(s_submit_error(int_kind, field, sizeof field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "kind");

    const char *blank[] = {"kind",    "complaint", "category", "leak",  "channel",
                           "phone",   "project",   "HZ-XH",    "phone", "13800138000",
                           "summary", "  \t ",     NULL};
    assert_int_equal(s_submit_error(blank, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "summary");

    const char *bad_phone[] = {"kind",    "complaint", "category", "leak",  "channel",
                               "phone",   "project",   "HZ-XH",    "phone", "23800138000",
                               "summary", "x",         NULL};
    assert_int_equal(s_submit_error(bad_phone, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "phone");

    const char *half_unit[] = {"kind",    "complaint", "category", "leak", "channel", "phone",
                               "project", "HZ-XH",     "building", "3",    NULL};
    assert_int_equal(s_submit_error(half_unit, field, sizeof field), KF_E_MISSING_FIELD);
    assert_string_equal(field, "unit");
}

static void test_submit_limits(void **state)
{
    char field[48];
    char summary[202];
    memset(summary, 'a', sizeof summary - 1);
    summary[201] = 0; /* 201 bytes: one over */
    const char *too_long[] = {"kind",    "complaint", "category", "leak",  "channel",
                              "phone",   "project",   "HZ-XH",    "phone", "13800138000",
                              "summary", summary,     NULL};
    assert_int_equal(s_submit_error(too_long, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "summary");
    summary[200] = 0; /* exactly 200 bytes fits */
    assert_int_equal(s_submit_error(too_long, field, sizeof field), KF_OK);
}

static void test_list(void **state)
{
    s_map_t map;
    list_req_t req;
    kf_error_t err = {0};
    const char *good[] = {"status", "routed", "owner", "eng.zhao", NULL};
    assert_int_equal(req_parse_list(s_map(&map, good), &req, &err), 0);
    assert_int_equal(req.limit, 50);
    assert_string_equal(req.status, "routed");
    assert_string_equal(req.kind, "");
    s_map_free(&map);
    const char *bad_status[] = {"status", "lost", NULL};
    assert_int_equal(req_parse_list(s_map(&map, bad_status), &req, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    s_map_free(&map);
    const char *text_limit[] = {"limit", "10", NULL};
    assert_int_equal(req_parse_list(s_map(&map, text_limit), &req, &err), -1);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    s_map_free(&map);
}

static void test_transfer_needs_reason(void **state)
{
    s_map_t map;
    action_req_t req;
    kf_error_t err = {0};
    const char *no_reason[] = {"ticket", "KF-2026-000001", "to", "eng.liu", NULL};
    assert_int_equal(req_parse_action("ticket.transfer", s_map(&map, no_reason), &req, &err), -1);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
    assert_string_equal(err.field, "reason");
    s_map_free(&map);
    const char *blank_reason[] = {"ticket", "KF-2026-000001", "to", "eng.liu", "reason", " ", NULL};
    assert_int_equal(req_parse_action("ticket.transfer", s_map(&map, blank_reason), &req, &err),
                     -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    s_map_free(&map);
    const char *good[] = {"ticket", "KF-2026-000001", "to", "eng.liu",
                          "reason", "需要经理处理",   NULL};
    assert_int_equal(req_parse_action("ticket.transfer", s_map(&map, good), &req, &err), 0);
    assert_string_equal(req.reason, "需要经理处理");
    s_map_free(&map);
    /* Who acts comes from the certificate: intake fills actor from the key,
       whatever a body says. */
    const char *claims[] = {"actor", "gm.hz", "ticket", "KF-2026-000001", NULL};
    assert_int_equal(req_parse_action("ticket.resolve", s_map(&map, claims), &req, &err), 0);
    assert_string_equal(req.actor, "");
    s_map_free(&map);
    const char *nil_note[] = {"ticket", "KF-2026-000001", "note", "#nil", NULL};
    assert_int_equal(req_parse_action("ticket.respond", s_map(&map, nil_note), &req, &err), 0);
    assert_string_equal(req.note, "");
    s_map_free(&map);
}

static void test_access(void **state)
{
    assert_true(access_may_act("staff", "eng.zhao", "eng.zhao", NULL)); /* the owner */
    assert_true(access_may_act("gm", "gm.hz", "eng.zhao", "gm.hz"));    /* responsible */
    assert_true(access_may_act("agent", "agent.li", "eng.zhao", NULL)); /* agents coordinate */
    assert_true(access_may_act("manager", "eng.liu", "eng.zhao", NULL));
    assert_true(access_may_act("head", "eng.sun", "eng.zhao", NULL));
    assert_true(access_may_act("admin", "admin", "eng.zhao", NULL));
    assert_false(access_may_act("staff", "sales.xu", "eng.zhao", "gm.hz")); /* plain staff */
    assert_false(access_may_act("vp", "vp.qian", "eng.zhao", NULL));
    assert_false(access_may_act(NULL, "nobody", "eng.zhao", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_good),           cmocka_unit_test(test_submit_errors),
        cmocka_unit_test(test_submit_limits),         cmocka_unit_test(test_list),
        cmocka_unit_test(test_transfer_needs_reason), cmocka_unit_test(test_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
