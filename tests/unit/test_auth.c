/* kefu — unit tests of the credential a request carries (common/auth.h):
   the session token's shape, "KEY SESSION", and the password rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

#define S_KEY "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define S_TOKEN "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde" /* 43 */

static void test_token_shape(void **state)
{
    (void)state;
    char longest[KF_SESSION_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[KF_SESSION_MAX] = '\0';
    assert_true(kf_session_token_ok(longest));
    longest[KF_SESSION_MAX] = 'a';
    longest[KF_SESSION_MAX + 1] = '\0';
    assert_false(kf_session_token_ok(longest)); /* 65 */
    assert_true(kf_session_token_ok(S_TOKEN));
    assert_true(kf_session_token_ok("0123456789abcdef")); /* 16 */
    assert_false(kf_session_token_ok("0123456789abcde")); /* 15 */
    assert_false(kf_session_token_ok(""));
    assert_false(kf_session_token_ok(NULL));
    assert_false(kf_session_token_ok("0123456789abcdef+")); /* base64, not base64url */
    assert_false(kf_session_token_ok("0123456789abcdef/"));
    assert_false(kf_session_token_ok("0123456789abcdef="));
    assert_false(kf_session_token_ok("0123456789 abcdef"));        /* would split the credential */
    assert_false(kf_session_token_ok("0123456789abcdef\xc3\xa9")); /* é */
}

static void test_cred(void **state)
{
    (void)state;
    char cred[KF_CRED_MAX + 1];
    kf_error_t err = {0};
    assert_int_equal(kf_cred_compose(cred, sizeof cred, S_KEY, "", &err), 0);
    assert_string_equal(cred, S_KEY);
    assert_int_equal(kf_cred_compose(cred, sizeof cred, S_KEY, NULL, &err), 0);
    assert_string_equal(cred, S_KEY);
    assert_int_equal(kf_cred_compose(cred, sizeof cred, S_KEY, S_TOKEN, &err), 0);
    assert_string_equal(cred, S_KEY " " S_TOKEN);

    /* The longest credential fits whole. */
    char longest[KF_SESSION_MAX + 1];
    memset(longest, 'Z', KF_SESSION_MAX);
    longest[KF_SESSION_MAX] = '\0';
    assert_int_equal(kf_cred_compose(cred, sizeof cred, S_KEY, longest, &err), 0);
    assert_int_equal(strlen(cred), KF_CRED_MAX);
    assert_string_equal(cred + KF_KEY_MAX + 1, longest);

    /* No certificate: no one, whatever the session says. */
    assert_int_equal(kf_cred_compose(cred, sizeof cred, "", S_TOKEN, &err), 0);
    assert_string_equal(cred, "");
    assert_int_equal(kf_cred_compose(cred, sizeof cred, NULL, S_TOKEN, &err), 0);
    assert_string_equal(cred, "");

    /* A session of the wrong shape: bad_value on field session. */
    const char *bad[] = {"short", "0123456789abcdef 0123", "0123456789abcdef/+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        strcpy(cred, "untouched");
        assert_int_equal(kf_cred_compose(cred, sizeof cred, S_KEY, bad[i], &err), -1);
        assert_int_equal(err.code, KF_E_BAD_VALUE);
        assert_string_equal(err.field, "session");
        assert_string_equal(cred, "");
    }
}

static void test_password(void **state)
{
    (void)state;
    kf_error_t err = {0};
    assert_int_equal(kf_password_check("agent01", "correct horse", &err), 0);
    assert_int_equal(kf_password_check("agent01", "0123456789", &err), 0); /* 10 */
    /* Ten Chinese characters are ten, though thirty bytes. */
    assert_int_equal(kf_password_check("agent01", "客服密码一二三四五六", &err), 0);

    struct {
        const char *staff, *password;
        int code;
    } bad[] = {
        {"agent01", "012345678", KF_E_BAD_VALUE},          /* 9 */
        {"agent01", "客服密码一二三四五", KF_E_BAD_VALUE}, /* 9 characters, 27 bytes */
        {"agent0123456", "agent0123456", KF_E_BAD_VALUE},  /* the staff id */
        {"agent01", "0123456789\xff", KF_E_BAD_UTF8},      /* not UTF-8 */
        {"agent01", "0123456789\xe5\xae", KF_E_BAD_UTF8},  /* cut in a character */
        {"agent01", "", KF_E_BAD_VALUE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(kf_password_check(bad[i].staff, bad[i].password, &err), -1);
        assert_int_equal(err.code, bad[i].code);
        assert_string_equal(err.field, "password");
    }

    char longest[KF_PASSWORD_MAX + 2];
    memset(longest, 'x', sizeof longest);
    longest[KF_PASSWORD_MAX] = '\0';
    assert_int_equal(kf_password_check("agent01", longest, &err), 0);
    longest[KF_PASSWORD_MAX] = 'x';
    longest[KF_PASSWORD_MAX + 1] = '\0';
    memset(&err, 0, sizeof err);
    assert_int_equal(kf_password_check("agent01", longest, &err), -1);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_cred),
        cmocka_unit_test(test_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
