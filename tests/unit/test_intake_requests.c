/* kefu — unit tests of intake's request decoding and access rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
        else if (strncmp(value, "#i:", 3) == 0)
            msgpack_pack_int64(&packer, strtoll(value + 3, NULL, 10));
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

/* Parses pairs as a ticket.list and returns the error code and field. */
static kf_err_t s_list_error(const char *const *pairs, list_req_t *req, char *field, size_t size)
{
    s_map_t map;
    kf_error_t err = {0};
    int rc = req_parse_list(s_map(&map, pairs), req, &err);
    s_map_free(&map);
    snprintf(field, size, "%s", err.field);
    return rc == 0 ? KF_OK : err.code;
}

static void test_list_phone_range(void **state)
{
    list_req_t req;
    char field[48];
    /* The phone is normalised exactly as submit does it. */
    const char *phone[] = {"phone", "+86 138-0013-8000", NULL};
    assert_int_equal(s_list_error(phone, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.phone, "13800138000");
    assert_int_equal(req.since.ms, -1);
    assert_string_equal(req.since.date, "");
    assert_int_equal(req.cursor.id, 0);
    const char *bad_phone[] = {"phone", "2380013800", "status", "routed", NULL};
    assert_int_equal(s_list_error(bad_phone, &req, field, sizeof field), KF_OK); /* 10 digits */
    const char *not_phone[] = {"phone", "call me", NULL};
    assert_int_equal(s_list_error(not_phone, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "phone");
    const char *mobile_12[] = {"phone", "138001380001", NULL};
    assert_int_equal(s_list_error(mobile_12, &req, field, sizeof field), KF_E_BAD_VALUE);
    const char *long_phone[] = {"phone", "123456789012345678901234567890123", NULL};
    assert_int_equal(s_list_error(long_phone, &req, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "phone");
    const char *blank_phone[] = {"phone", "", NULL};
    assert_int_equal(s_list_error(blank_phone, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.phone, ""); /* "" is no filter, as for owner and project */

    /* since and until: ms, or a real date; half-open, so they may not meet. */
    const char *ms[] = {"since", "#i:1764950400000", "until", "#i:1765036800000", NULL};
    assert_int_equal(s_list_error(ms, &req, field, sizeof field), KF_OK);
    assert_int_equal(req.since.ms, 1764950400000LL);
    assert_int_equal(req.until.ms, 1765036800000LL);
    const char *dates[] = {"since", "2026-02-28", "until", "2028-02-29", NULL};
    assert_int_equal(s_list_error(dates, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.since.date, "2026-02-28");
    assert_int_equal(req.since.ms, -1);
    const char *mixed[] = {"since", "2026-12-01", "until", "#i:1765036800000", NULL};
    assert_int_equal(s_list_error(mixed, &req, field, sizeof field), KF_OK);
    const char *only_until[] = {"until", "2026-12-01", NULL};
    assert_int_equal(s_list_error(only_until, &req, field, sizeof field), KF_OK);
    const char *no_such_day[] = {"since", "2026-02-29", NULL};
    assert_int_equal(s_list_error(no_such_day, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "since");
    const char *not_date[] = {"until", "yesterday", NULL};
    assert_int_equal(s_list_error(not_date, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "until");
    const char *negative[] = {"since", "#i:-1", NULL};
    assert_int_equal(s_list_error(negative, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "since");
    const char *wrong[] = {"since", "#nil", "until", "#nil", "cursor", "#nil", NULL};
    assert_int_equal(s_list_error(wrong, &req, field, sizeof field), KF_OK); /* nil: absent */
    const char *empty_ms[] = {"since", "#i:1765036800000", "until", "#i:1765036800000", NULL};
    assert_int_equal(s_list_error(empty_ms, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "until");
    const char *empty_dates[] = {"since", "2026-12-02", "until", "2026-12-01", NULL};
    assert_int_equal(s_list_error(empty_dates, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "until");

    /* The limit stays 1..100. */
    const char *max[] = {"limit", "#i:100", NULL};
    assert_int_equal(s_list_error(max, &req, field, sizeof field), KF_OK);
    assert_int_equal(req.limit, 100);
    const char *over[] = {"limit", "#i:101", NULL};
    assert_int_equal(s_list_error(over, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "limit");
}

/* Writes q's patterns into out and returns the number of words. */
static int s_patterns(const char *q, char *out)
{
    return req_q_patterns(q, out, REQ_PATTERNS_MAX);
}

static void test_q_patterns(void **state)
{
    char out[REQ_PATTERNS_MAX];
    assert_int_equal(s_patterns("漏水", out), 1);
    assert_string_equal(out, "%漏水%");
    /* Words split at ASCII white space and the ideographic space U+3000,
       however many; order kept. */
    assert_int_equal(s_patterns("  漏水 \t卫生间\xe3\x80\x80"
                                "Leak  ",
                                out),
                     3);
    assert_string_equal(out, "%漏水% %卫生间% %Leak%");
    /* LIKE's metacharacters match themselves. */
    assert_int_equal(s_patterns("50% a_b c\\d", out), 3);
    assert_string_equal(out, "%50\\%% %a\\_b% %c\\\\d%");
    /* Blank: no words, no filter. */
    assert_int_equal(s_patterns("", out), 0);
    assert_string_equal(out, "");
    assert_int_equal(s_patterns(" \xe3\x80\x80\t", out), 0);
    assert_string_equal(out, "");
    /* A lone lead byte of U+3000 at the end is part of a word, not a
       separator (and the scan stops at the NUL). */
    assert_int_equal(s_patterns("a\xe3\x80", out), 1);
    assert_string_equal(out, "%a\xe3\x80%");
    /* At most KF_LIM_Q_WORDS words. */
    assert_int_equal(s_patterns("1 2 3 4 5 6 7 8", out), KF_LIM_Q_WORDS);
    assert_int_equal(s_patterns("1 2 3 4 5 6 7 8 9", out), -1);
    /* The longest q, all metacharacters, fits REQ_PATTERNS_MAX. */
    char q[KF_LIM_Q + 1];
    memset(q, '%', KF_LIM_Q);
    q[KF_LIM_Q] = '\0';
    assert_int_equal(s_patterns(q, out), 1);
    assert_int_equal(strlen(out), 2 * KF_LIM_Q + 2);
    for (int i = 0; i < KF_LIM_Q_WORDS - 1; i++) /* 7 words "_", then one of '%'s */
        q[i * 2] = '_', q[i * 2 + 1] = ' ';
    assert_int_equal(s_patterns(q, out), KF_LIM_Q_WORDS);
    assert_int_equal(strlen(out), 7 * 5 + 2 * (KF_LIM_Q - 14) + 2);
    /* Too small a buffer is refused, never overrun. */
    char tiny[6];
    assert_int_equal(req_q_patterns("abc", tiny, sizeof tiny), 1); /* "%abc%" fits */
    assert_int_equal(req_q_patterns("abcdef", tiny, sizeof tiny), -1);
    assert_int_equal(req_q_patterns("a b", tiny, 4), -1);
}

static void test_list_no_q(void **state)
{
    list_req_t req;
    char field[48];
    const char *both[] = {"no", "KF-2026-000042", "q", "漏水 卫生间", NULL};
    assert_int_equal(s_list_error(both, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.no, "KF-2026-000042");
    assert_string_equal(req.patterns, "%漏水% %卫生间%");
    const char *none[] = {"status", "routed", NULL};
    assert_int_equal(s_list_error(none, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.no, "");
    assert_string_equal(req.patterns, "");
    const char *blank[] = {"q", "   ", "no", "", NULL};
    assert_int_equal(s_list_error(blank, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.patterns, "");
    assert_string_equal(req.no, "");
    const char *many[] = {"q", "a b c d e f g h i", NULL};
    assert_int_equal(s_list_error(many, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "q");
    char long_q[KF_LIM_Q + 2];
    memset(long_q, 'x', KF_LIM_Q + 1);
    long_q[KF_LIM_Q + 1] = '\0';
    const char *too_long[] = {"q", long_q, NULL};
    assert_int_equal(s_list_error(too_long, &req, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "q");
    long_q[KF_LIM_Q] = '\0';
    const char *longest[] = {"q", long_q, NULL};
    assert_int_equal(s_list_error(longest, &req, field, sizeof field), KF_OK);
    const char *not_utf8[] = {"q", "\xff漏水", NULL};
    assert_int_equal(s_list_error(not_utf8, &req, field, sizeof field), KF_E_BAD_UTF8);
    assert_string_equal(field, "q");
    const char *q_int[] = {"q", "#int", NULL};
    assert_int_equal(s_list_error(q_int, &req, field, sizeof field), KF_E_WRONG_TYPE);
    char long_no[KF_LIM_TICKET + 2];
    memset(long_no, '9', KF_LIM_TICKET + 1);
    long_no[KF_LIM_TICKET + 1] = '\0';
    const char *no_long[] = {"no", long_no, NULL};
    assert_int_equal(s_list_error(no_long, &req, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "no");
}

/* ticket.list's queues: department (text) and state (queue_state). */
static void test_list_queues(void **state)
{
    (void)state;
    list_req_t req;
    char field[48];
    const char *queue[] = {"department", "eng", "state", "overdue", NULL};
    assert_int_equal(s_list_error(queue, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.department, "eng");
    assert_string_equal(req.state, "overdue");
    const char *none[] = {"status", "routed", NULL};
    assert_int_equal(s_list_error(none, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.department, "");
    assert_string_equal(req.state, "");
    const char *states[] = {"open", "overdue", "escalated"};
    for (size_t i = 0; i < 3; i++) {
        const char *one[] = {"state", states[i], NULL};
        assert_int_equal(s_list_error(one, &req, field, sizeof field), KF_OK);
        assert_string_equal(req.state, states[i]);
    }
    const char *bad_state[] = {"state", "routed", NULL};
    assert_int_equal(s_list_error(bad_state, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "state");
    const char *state_int[] = {"state", "#int", NULL};
    assert_int_equal(s_list_error(state_int, &req, field, sizeof field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "state");
    char long_dept[KF_LIM_STAFF + 2];
    memset(long_dept, 'd', KF_LIM_STAFF + 1);
    long_dept[KF_LIM_STAFF + 1] = '\0';
    const char *dept_long[] = {"department", long_dept, NULL};
    assert_int_equal(s_list_error(dept_long, &req, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "department");
    const char *dept_int[] = {"department", "#int", NULL};
    assert_int_equal(s_list_error(dept_int, &req, field, sizeof field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "department");
}

/* Parses pairs as a staff.list and returns the error code and field. */
static kf_err_t s_staff_error(const char *const *pairs, staff_req_t *req, char *field, size_t size)
{
    s_map_t map;
    kf_error_t err = {0};
    int rc = req_parse_staff(s_map(&map, pairs), req, &err);
    s_map_free(&map);
    snprintf(field, size, "%s", err.field);
    return rc == 0 ? KF_OK : err.code;
}

static void test_staff(void **state)
{
    (void)state;
    staff_req_t req;
    char field[48];
    const char *none[] = {NULL};
    assert_int_equal(s_staff_error(none, &req, field, sizeof field), KF_OK);
    assert_int_equal(req.limit, 50);
    assert_string_equal(req.patterns, "");
    assert_string_equal(req.department, "");
    assert_string_equal(req.role, "");
    assert_string_equal(req.after, "");
    const char *all[] = {"q",     "eng 刘_%", "department", "eng",     "role", "manager",
                         "limit", "#i:100",   "cursor",     "eng.liu", NULL};
    assert_int_equal(s_staff_error(all, &req, field, sizeof field), KF_OK);
    assert_string_equal(req.patterns, "%eng% %刘\\_\\%%");
    assert_string_equal(req.department, "eng");
    assert_string_equal(req.role, "manager");
    assert_string_equal(req.after, "eng.liu");
    assert_int_equal(req.limit, 100);
    const char *bad_role[] = {"role", "boss", NULL};
    assert_int_equal(s_staff_error(bad_role, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "role");
    const char *limits[][3] = {{"limit", "#i:0", NULL}, {"limit", "#i:101", NULL}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(s_staff_error(limits[i], &req, field, sizeof field), KF_E_BAD_VALUE);
        assert_string_equal(field, "limit");
    }
    /* A cursor is a staff id as a page ended with; nothing else. */
    const char *cursors[] = {"Eng.liu", "1eng", "eng liu", "eng%", "-"};
    for (size_t i = 0; i < sizeof cursors / sizeof cursors[0]; i++) {
        const char *one[] = {"cursor", cursors[i], NULL};
        assert_int_equal(s_staff_error(one, &req, field, sizeof field), KF_E_BAD_VALUE);
        assert_string_equal(field, "cursor");
    }
    const char *blank_cursor[] = {"cursor", "", NULL};
    assert_int_equal(s_staff_error(blank_cursor, &req, field, sizeof field), KF_OK);
    const char *many[] = {"q", "a b c d e f g h i", NULL};
    assert_int_equal(s_staff_error(many, &req, field, sizeof field), KF_E_BAD_VALUE);
    assert_string_equal(field, "q");
    const char *q_int[] = {"q", "#int", NULL};
    assert_int_equal(s_staff_error(q_int, &req, field, sizeof field), KF_E_WRONG_TYPE);
    assert_string_equal(field, "q");
    char long_id[KF_LIM_STAFF + 2];
    memset(long_id, 'a', KF_LIM_STAFF + 1);
    long_id[KF_LIM_STAFF + 1] = '\0';
    const char *cursor_long[] = {"cursor", long_id, NULL};
    assert_int_equal(s_staff_error(cursor_long, &req, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "cursor");
    long_id[KF_LIM_STAFF] = '\0';
    assert_true(req_staff_id_valid(long_id));
    assert_false(req_staff_id_valid(""));
}

static void test_list_cursor(void **state)
{
    list_req_t req;
    char field[48], text[REQ_CURSOR_MAX + 1];
    /* What intake writes as next, it reads back. */
    req_cursor_t cursor = {.received_us = 1765012345678901LL, .id = 42};
    req_cursor_format(&cursor, text, sizeof text);
    const char *good[] = {"cursor", text, "limit", "#i:2", NULL};
    assert_int_equal(s_list_error(good, &req, field, sizeof field), KF_OK);
    assert_int_equal(req.cursor.received_us, 1765012345678901LL);
    assert_int_equal(req.cursor.id, 42);
    assert_int_equal(req.limit, 2);
    /* Anything else is bad_value on cursor. */
    const char *const bad[] = {"x",
                               "1765012345678901",
                               "1765012345678901.",
                               ".42",
                               "1765012345678901.0",
                               "1765012345678901.-4",
                               "-1.42",
                               "1765012345678901.42.1",
                               "1765012345678901.42 ",
                               " 1765012345678901.42",
                               "17650123456789010000.42",
                               "1765012345678901.99999999999999999999",
                               "1765012345678901.9223372036854775808",
                               "253402300800000000.1",
                               NULL};
    for (int i = 0; bad[i]; i++) {
        const char *pairs[] = {"cursor", bad[i], NULL};
        if (s_list_error(pairs, &req, field, sizeof field) != KF_E_BAD_VALUE)
            fail_msg("cursor '%s' was not refused as bad_value", bad[i]);
        assert_string_equal(field, "cursor");
    }
    const char *edge[] = {"cursor", "0.9223372036854775807", NULL};
    assert_int_equal(s_list_error(edge, &req, field, sizeof field), KF_OK);
    char long_cursor[REQ_CURSOR_MAX + 2];
    memset(long_cursor, '1', sizeof long_cursor - 1);
    long_cursor[sizeof long_cursor - 1] = 0;
    const char *too_long[] = {"cursor", long_cursor, NULL};
    assert_int_equal(s_list_error(too_long, &req, field, sizeof field), KF_E_TOO_LONG);
    assert_string_equal(field, "cursor");
    const char *as_int[] = {"cursor", "#int", NULL};
    assert_int_equal(s_list_error(as_int, &req, field, sizeof field), KF_E_WRONG_TYPE);
}

static void test_date_valid(void **state)
{
    assert_true(req_date_valid("1970-01-01"));
    assert_true(req_date_valid("2000-02-29")); /* divisible by 400 */
    assert_true(req_date_valid("2024-02-29"));
    assert_true(req_date_valid("9999-12-31"));
    assert_false(req_date_valid("1900-02-29"));
    assert_false(req_date_valid("2100-02-29"));
    assert_false(req_date_valid("2026-04-31"));
    assert_false(req_date_valid("2026-13-01"));
    assert_false(req_date_valid("2026-00-10"));
    assert_false(req_date_valid("2026-01-00"));
    assert_false(req_date_valid("1969-12-31"));
    assert_false(req_date_valid("2026-1-01"));
    assert_false(req_date_valid("2026/01/01"));
    assert_false(req_date_valid("2026-01-01T"));
    assert_false(req_date_valid("+026-01-01"));
    assert_false(req_date_valid(""));
}

static void test_owner(void **state)
{
    s_map_t map;
    owner_req_t req;
    kf_error_t err = {0};
    const char *good[] = {"phone", "+86 138-0013-8000", NULL};
    assert_int_equal(req_parse_owner(s_map(&map, good), &req, &err), 0);
    assert_string_equal(req.phone, "13800138000");
    s_map_free(&map);
    const char *same[] = {"phone", "0086 (138) 0013.8000", "actor", "gm.hz", NULL};
    assert_int_equal(req_parse_owner(s_map(&map, same), &req, &err), 0);
    assert_string_equal(req.phone, "13800138000");
    s_map_free(&map);
    struct {
        const char *pairs[5];
        kf_err_t code;
    } bad[] = {
        {{NULL}, KF_E_MISSING_FIELD},
        {{"phone", "#nil", NULL}, KF_E_MISSING_FIELD},
        {{"phone", "#int", NULL}, KF_E_WRONG_TYPE},
        {{"phone", "   ", NULL}, KF_E_BAD_VALUE},
        {{"phone", "138 0013 800", NULL}, KF_E_BAD_VALUE}, /* 10 digits starting with 1 */
        {{"phone", "1234", NULL}, KF_E_BAD_VALUE},
        {{"phone", "+1 555 0100 1234", NULL}, KF_E_BAD_VALUE},
        {{"phone", "123456789012345678901234567890123", NULL}, KF_E_TOO_LONG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(req_parse_owner(s_map(&map, bad[i].pairs), &req, &err), -1);
        s_map_free(&map);
        if (err.code != bad[i].code)
            fail_msg("case %zu: %s, expected %s", i, kf_err_name(err.code),
                     kf_err_name(bad[i].code));
        assert_string_equal(err.field, "phone");
    }
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
        cmocka_unit_test(test_submit_good),
        cmocka_unit_test(test_submit_errors),
        cmocka_unit_test(test_submit_limits),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_transfer_needs_reason),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_list_phone_range),
        cmocka_unit_test(test_list_cursor),
        cmocka_unit_test(test_list_queues),
        cmocka_unit_test(test_staff),
        cmocka_unit_test(test_q_patterns),
        cmocka_unit_test(test_list_no_q),
        cmocka_unit_test(test_date_valid),
        cmocka_unit_test(test_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
