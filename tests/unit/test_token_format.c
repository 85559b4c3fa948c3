/* kefu — unit tests of the integration tokens' format
   (services/admin/admin_token_format.c): "kit_" and 43 characters of
   base64url of 32 bytes, names, scopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin_token.h"
#include "auth.h"
#include "token.h"

/* Whether text has an integration token's shape. */
static bool s_kit_ok(const char *text)
{
    return kf_token_shaped(text, text ? strlen(text) : 0, KF_KIT_PREFIX);
}

/* Known bytes give the known text; every new token has the shape, differs
   from the last, and can be a web session token (the envelope's
   "session"). */
static void test_encode(void **state)
{
    unsigned char bytes[KF_TOKEN_BYTES];
    char token[KF_KIT_LEN + 1];
    memset(bytes, 0, sizeof bytes);
    kf_token_encode(bytes, KF_KIT_PREFIX, token);
    assert_string_equal(token, "kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    memset(bytes, 0xff, sizeof bytes);
    kf_token_encode(bytes, KF_KIT_PREFIX, token);
    assert_string_equal(token, "kit___________________________________________8");
    assert_true(s_kit_ok(token));
    char last[KF_KIT_LEN + 1] = "";
    for (int i = 0; i < 100; i++) {
        assert_int_equal(kf_token_new(KF_KIT_PREFIX, token), 0);
        assert_int_equal(strlen(token), KF_KIT_LEN);
        assert_true(s_kit_ok(token));
        assert_true(kf_session_token_ok(token));
        assert_string_not_equal(token, last);
        memcpy(last, token, sizeof last);
    }
}

static void test_shape(void **state)
{
    assert_true(s_kit_ok("kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(s_kit_ok(NULL));
    assert_false(s_kit_ok(""));
    assert_false(s_kit_ok("kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));   /* 42 */
    assert_false(s_kit_ok("kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); /* 44 */
    assert_false(s_kit_ok("kat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(s_kit_ok("kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
    assert_false(s_kit_ok("kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    /* The last character holds 4 bits and 2 zero bits. */
    assert_false(s_kit_ok("kit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"));
}

static void test_names_and_scopes(void **state)
{
    assert_true(adm_token_name_ok("pbx"));
    assert_true(adm_token_name_ok("wechat.bot-2_b"));
    assert_false(adm_token_name_ok(""));
    assert_false(adm_token_name_ok("Pbx"));
    assert_false(adm_token_name_ok("2pbx"));
    assert_false(adm_token_name_ok("pbx one"));
    char name[66];
    memset(name, 'a', 64);
    name[64] = '\0';
    assert_true(adm_token_name_ok(name));
    name[64] = 'a';
    name[65] = '\0';
    assert_false(adm_token_name_ok(name));
    unsigned scopes = 0;
    char sql[32];
    assert_int_equal(adm_token_scope("submit", &scopes), 0);
    adm_token_scopes_sql(scopes, sql, sizeof sql);
    assert_string_equal(sql, "{submit}");
    assert_int_equal(adm_token_scope("calls", &scopes), 0);
    adm_token_scopes_sql(scopes, sql, sizeof sql);
    assert_string_equal(sql, "{calls,submit}");
    assert_int_equal(adm_token_scope("admin", &scopes), -1);
    assert_int_equal(adm_token_scope("", &scopes), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_names_and_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
