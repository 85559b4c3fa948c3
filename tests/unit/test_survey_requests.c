/* kefu — unit tests of kefu-survey's request decoding
   (services/survey/requests.c): every field's type, range and limit, and
   the rule that a survey is named by ticket or by id, not both; and the
   watchlist's limit (services/survey/watchlist.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "plan.h"
#include "requests.h"
#include "watchlist.h"

/* A body built from key/value pairs; a value "#i:N" packs the integer N,
   "#nil" nil, "#true" a boolean, "#bin" a binary; anything else a string. */
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

/* Parses an answer from pairs; returns the parser's result. */
static int s_answer(const char *const *pairs, answer_req_t *out, kf_error_t *err)
{
    s_map_t map;
    int rc = sreq_parse_answer(s_map(&map, pairs), out, err);
    s_map_free(&map);
    return rc;
}

/* Expects the answer pairs to be refused with code on field. */
static void s_answer_refused(const char *const *pairs, kf_err_t code, const char *field)
{
    answer_req_t out;
    kf_error_t err = {0};
    assert_int_equal(s_answer(pairs, &out, &err), -1);
    if (err.code != code || strcmp(err.field, field) != 0)
        fail_msg("expected %s on %s, got %s on %s (%s)", kf_err_name(code), field,
                 kf_err_name(err.code), err.field, err.message);
}

static void test_answer_good(void **state)
{
    answer_req_t a;
    kf_error_t err = {0};
    const char *full[] = {"ticket", "KF-2026-000001", "score",      "#i:4", "nps",
                          "#i:9",   "comment",        "师傅很专业", NULL};
    assert_int_equal(s_answer(full, &a, &err), 0);
    assert_string_equal(a.actor, ""); /* kefu-survey fills it from the key */
    assert_string_equal(a.ticket, "KF-2026-000001");
    assert_true(a.survey == 0);
    assert_int_equal(a.score, 4);
    assert_int_equal(a.nps, 9);
    assert_string_equal(a.comment, "师傅很专业");
    /* Optional fields absent or nil; a survey named by id; the edges. */
    const char *minimal[] = {"survey", "#i:42", "score", "#i:1", "nps", "#nil", NULL};
    assert_int_equal(s_answer(minimal, &a, &err), 0);
    assert_true(a.survey == 42);
    assert_string_equal(a.ticket, "");
    assert_int_equal(a.score, 1);
    assert_int_equal(a.nps, PLAN_NPS_NONE);
    assert_string_equal(a.comment, "");
    const char *edges[] = {"ticket", "T", "score", "#i:5", "nps", "#i:0", NULL};
    assert_int_equal(s_answer(edges, &a, &err), 0);
    assert_int_equal(a.score, 5);
    assert_int_equal(a.nps, 0);
    /* A blank comment is no comment. */
    const char *blank[] = {"ticket", "T", "score", "#i:3", "comment", " \t", NULL};
    assert_int_equal(s_answer(blank, &a, &err), 0);
    assert_string_equal(a.comment, "");
}

static void test_answer_bad(void **state)
{
    const char *no_target[] = {"score", "#i:3", NULL};
    s_answer_refused(no_target, KF_E_MISSING_FIELD, "ticket");
    const char *both[] = {"ticket", "T", "survey", "#i:1", "score", "#i:3", NULL};
    s_answer_refused(both, KF_E_BAD_VALUE, "survey");
    const char *blank_ticket[] = {"ticket", " ", "score", "#i:3", NULL};
    s_answer_refused(blank_ticket, KF_E_BAD_VALUE, "ticket");
    const char *long_ticket[] = {"ticket", "KF-2026-000001-KF-2026-000001-KF-2026", "score", "#i:3",
                                 NULL};
    s_answer_refused(long_ticket, KF_E_TOO_LONG, "ticket");
    const char *survey_zero[] = {"survey", "#i:0", "score", "#i:3", NULL};
    s_answer_refused(survey_zero, KF_E_BAD_VALUE, "survey");
    const char *survey_str[] = {"survey", "12", "score", "#i:3", NULL};
    s_answer_refused(survey_str, KF_E_WRONG_TYPE, "survey");
    const char *no_score[] = {"ticket", "T", NULL};
    s_answer_refused(no_score, KF_E_MISSING_FIELD, "score");
    const char *score_0[] = {"ticket", "T", "score", "#i:0", NULL};
    s_answer_refused(score_0, KF_E_BAD_VALUE, "score");
    const char *score_6[] = {"ticket", "T", "score", "#i:6", NULL};
    s_answer_refused(score_6, KF_E_BAD_VALUE, "score");
    const char *score_neg[] = {"ticket", "T", "score", "#i:-1", NULL};
    s_answer_refused(score_neg, KF_E_BAD_VALUE, "score");
    const char *score_str[] = {"ticket", "T", "score", "5", NULL};
    s_answer_refused(score_str, KF_E_WRONG_TYPE, "score");
    const char *score_bool[] = {"ticket", "T", "score", "#true", NULL};
    s_answer_refused(score_bool, KF_E_WRONG_TYPE, "score");
    const char *nps_11[] = {"ticket", "T", "score", "#i:3", "nps", "#i:11", NULL};
    s_answer_refused(nps_11, KF_E_BAD_VALUE, "nps");
    const char *nps_neg[] = {"ticket", "T", "score", "#i:3", "nps", "#i:-1", NULL};
    s_answer_refused(nps_neg, KF_E_BAD_VALUE, "nps");
    const char *comment_bin[] = {"ticket", "T", "score", "#i:3", "comment", "#bin", NULL};
    s_answer_refused(comment_bin, KF_E_WRONG_TYPE, "comment");
    /* 1000 bytes are allowed, 1001 are not. */
    char text[1002];
    memset(text, 'x', 1001);
    text[1001] = '\0';
    const char *comment_long[] = {"ticket", "T", "score", "#i:3", "comment", text, NULL};
    s_answer_refused(comment_long, KF_E_TOO_LONG, "comment");
    text[1000] = '\0';
    answer_req_t a;
    kf_error_t err = {0};
    assert_int_equal(s_answer(comment_long, &a, &err), 0);
    assert_int_equal(strlen(a.comment), 1000);
}

static void test_campaign(void **state)
{
    campaign_req_t c;
    kf_error_t err = {0};
    s_map_t map;
    const char *good[] = {"project", "HZ-XH", "milestone", "revisit-4y", "kind", "campaign", NULL};
    assert_int_equal(sreq_parse_campaign(s_map(&map, good), &c, &err), 0);
    s_map_free(&map);
    assert_string_equal(c.project, "HZ-XH");
    assert_string_equal(c.milestone, "revisit-4y");
    const char *no_kind[] = {"project", "P", "milestone", "move-in", NULL};
    assert_int_equal(sreq_parse_campaign(s_map(&map, no_kind), &c, &err), 0);
    s_map_free(&map);
    assert_string_equal(c.milestone, "move-in");

    struct {
        const char *pairs[9];
        kf_err_t code;
        const char *field;
    } bad[] = {
        {{"project", "P", "milestone", "moving-day", NULL}, KF_E_BAD_VALUE, "milestone"},
        {{"project", "P", NULL}, KF_E_MISSING_FIELD, "milestone"},
        {{"milestone", "move-in", NULL}, KF_E_MISSING_FIELD, "project"},
        {{"project", " ", "milestone", "move-in", NULL}, KF_E_BAD_VALUE, "project"},
        {{"project", "P", "milestone", "move-in", "kind", "resolution", NULL},
         KF_E_BAD_VALUE,
         "kind"},
        {{"project", "#i:7", "milestone", "move-in", NULL}, KF_E_WRONG_TYPE, "project"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kf_error_t e = {0};
        int rc = sreq_parse_campaign(s_map(&map, bad[i].pairs), &c, &e);
        s_map_free(&map);
        if (rc != -1 || e.code != bad[i].code || strcmp(e.field, bad[i].field) != 0)
            fail_msg("case %zu: expected %s on %s, got rc %d %s on %s", i, kf_err_name(bad[i].code),
                     bad[i].field, rc, kf_err_name(e.code), e.field);
    }
}

/* Who acts comes from the certificate the connection presented, never from
   the body: a body naming someone is decoded as if it named nobody, and a
   hostile actor field is no error either. */
static void test_body_actor_ignored(void **state)
{
    s_map_t map;
    kf_error_t err = {0};
    answer_req_t a;
    const char *answer[] = {"actor", "gm.hz", "ticket", "T", "score", "#i:3", NULL};
    assert_int_equal(s_answer(answer, &a, &err), 0);
    assert_string_equal(a.actor, "");
    const char *hostile[] = {"actor", "#bin", "ticket", "T", "score", "#i:3", NULL};
    assert_int_equal(s_answer(hostile, &a, &err), 0);
    assert_string_equal(a.actor, "");
    campaign_req_t c;
    const char *campaign[] = {"actor", "admin", "project", "P", "milestone", "move-in", NULL};
    assert_int_equal(sreq_parse_campaign(s_map(&map, campaign), &c, &err), 0);
    s_map_free(&map);
    assert_string_equal(c.actor, "");
    show_req_t sh;
    const char *show[] = {"actor", "#i:7", "survey", "#i:9", NULL};
    assert_int_equal(sreq_parse_show(s_map(&map, show), &sh, &err), 0);
    s_map_free(&map);
    assert_string_equal(sh.actor, "");
}

static void test_show(void **state)
{
    show_req_t s;
    kf_error_t err = {0};
    s_map_t map;
    const char *by_ticket[] = {"ticket", "KF-2026-000001", NULL};
    assert_int_equal(sreq_parse_show(s_map(&map, by_ticket), &s, &err), 0);
    s_map_free(&map);
    assert_string_equal(s.ticket, "KF-2026-000001");
    assert_true(s.survey == 0);
    const char *by_id[] = {"survey", "#i:9", NULL};
    assert_int_equal(sreq_parse_show(s_map(&map, by_id), &s, &err), 0);
    s_map_free(&map);
    assert_true(s.survey == 9);
    const char *neither[] = {NULL};
    assert_int_equal(sreq_parse_show(s_map(&map, neither), &s, &err), -1);
    s_map_free(&map);
    assert_int_equal(err.code, KF_E_MISSING_FIELD);
}

/* watchlist: limit 1..100, default 20; anything else is named. */
static void test_watchlist(void **state)
{
    (void)state;
    static const struct {
        const char *pairs[3];
        int rc;
        int64_t limit;
        kf_err_t code;
    } cases[] = {
        {{NULL}, 0, WATCHLIST_LIMIT_DEFAULT, KF_OK},
        {{"limit", "#i:1", NULL}, 0, 1, KF_OK},
        {{"limit", "#i:100", NULL}, 0, 100, KF_OK},
        {{"limit", "#i:0", NULL}, -1, 0, KF_E_BAD_VALUE},
        {{"limit", "#i:101", NULL}, -1, 0, KF_E_BAD_VALUE},
        {{"limit", "#i:-5", NULL}, -1, 0, KF_E_BAD_VALUE},
        {{"limit", "20", NULL}, -1, 0, KF_E_WRONG_TYPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_map_t map;
        kf_error_t err = {0};
        int64_t limit = -1;
        int rc = watchlist_parse(s_map(&map, cases[i].pairs), &limit, &err);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_int_equal(limit, cases[i].limit);
        else {
            assert_int_equal(err.code, cases[i].code);
            assert_string_equal(err.field, "limit");
        }
        s_map_free(&map);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_good), cmocka_unit_test(test_answer_bad),
        cmocka_unit_test(test_campaign),    cmocka_unit_test(test_body_actor_ignored),
        cmocka_unit_test(test_show),        cmocka_unit_test(test_watchlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
