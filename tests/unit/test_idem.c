/* kefu — unit tests of the canonical content of a request (common/idem.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idem.h"

/* Packs a string. */
static void s_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* Unpacks the map packed in sb, checks that its canonical content as type
   is expect (size bytes; NULL: no content at all), and frees sb. */
static void s_expect(msgpack_sbuffer *sb, const char *type, const char *expect, size_t expect_size)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, sb->data, sb->size, &off), MSGPACK_UNPACK_SUCCESS);
    size_t size = 0;
    char *text = kf_idem_content(type, &u.data, &size);
    if (!expect) {
        assert_null(text);
    } else {
        assert_non_null(text);
        assert_int_equal(size, expect_size);
        assert_memory_equal(text, expect, size);
    }
    free(text);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(sb);
}

/* The canonical content of type with a body of n string pairs
   (key, value, ...), compared with expect (size bytes). */
static void s_check(const char *type, const char *const *pairs, int n, const char *expect,
                    size_t expect_size)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (int i = 0; i < n; i++) {
        s_str(&pk, pairs[2 * i]);
        s_str(&pk, pairs[2 * i + 1]);
    }
    s_expect(&sb, type, expect, expect_size);
}

/* Fields in model order whatever the body's order; idem left out;
   absent fields named without a value. */
static void test_model_order(void **state)
{
    (void)state;
    static const char want[] = "ticket=sKF-2026-000001\xffnote=sdone\xff";
    const char *a[] = {"note", "done", "idem", "k1", "ticket", "KF-2026-000001"};
    s_check("ticket.respond", a, 3, want, sizeof want - 1);
    const char *b[] = {"ticket", "KF-2026-000001", "note", "done", "idem", "other"};
    s_check("ticket.respond", b, 3, want, sizeof want - 1);
    static const char absent[] = "ticket=sKF-2026-000001\xffnote\xff";
    const char *c[] = {"ticket", "KF-2026-000001"};
    s_check("ticket.respond", c, 1, absent, sizeof absent - 1);
}

/* A value holding what looks like a separator cannot pass for two
   fields: the empty note differs from an absent one, and fields not in
   the model do not count. */
static void test_no_confusion(void **state)
{
    (void)state;
    static const char empty[] = "ticket=sT\xffnote=s\xff";
    const char *a[] = {"ticket", "T", "note", ""};
    s_check("ticket.respond", a, 2, empty, sizeof empty - 1);
    static const char moved[] = "ticket=sT note=x\xffnote\xff";
    const char *b[] = {"ticket", "T note=x", "extra", "ignored"};
    s_check("ticket.respond", b, 2, moved, sizeof moved - 1);
}

/* Other value types have their own marks; an unknown type gives NULL. */
static void test_types(void **state)
{
    (void)state;
    static const char want[] = "ticket=i-7\xffnote=t\xff";
    for (int known = 0; known < 2; known++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        s_str(&pk, "ticket");
        msgpack_pack_int(&pk, -7);
        s_str(&pk, "note");
        msgpack_pack_true(&pk);
        s_expect(&sb, known ? "ticket.resolve" : "no.such.request", known ? want : NULL,
                 sizeof want - 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_order),
        cmocka_unit_test(test_no_confusion),
        cmocka_unit_test(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
